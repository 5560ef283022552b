"""The HTML scan report in headless Chromium (Debian's /usr/bin/chromium via Playwright):
it renders its summary, charts and side-by-side findings, asks for nothing over the network
and logs no error."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from test_reports import project, render, result
from test_scan_inputs import small_index

from attribution.scan import ScanResult

__all__ = ["project", "result", "small_index"]  # fixtures used here


def check_charts(page: Any) -> None:
    charts = page.locator("svg.chart")
    assert charts.count() == 2
    for i in range(2):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 10
    # one license type; two directories (src/pay, and the JSON Lines file's)
    assert page.locator("svg.chart rect").count() == 3


def watched_page(browser: Any, url: str, problems: list[str]) -> Any:
    """A page that records console errors, page errors and any request but `url`."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()

    def console(message: Any) -> None:
        if message.type in ("error", "warning"):
            problems.append(message.text)

    def page_error(error: Any) -> None:
        problems.append(str(error))

    def guard(route: Any) -> None:
        if route.request.url == url:
            route.continue_()
        else:
            problems.append(f"request for {route.request.url}")
            route.abort()

    page.on("console", console)
    page.on("pageerror", page_error)
    page.route("**/*", guard)
    return page


def check_side_by_side(page: Any) -> None:
    findings = page.locator("article.finding")
    assert findings.count() == 3
    ledger = findings.filter(has_text="ledger_copy.py")
    sides = ledger.locator("figure")
    assert sides.count() == 2
    left, right = sides.nth(0).bounding_box(), sides.nth(1).bounding_box()
    assert left and right and right["x"] > left["x"] + left["width"] - 1  # side by side
    assert ledger.locator("pre span.hl").count() >= 20
    assert "def reconcile_ledger" in sides.nth(0).inner_text()
    assert "def reconcile_ledger" in sides.nth(1).inner_text()
    assert "[REDACTED:email]" in sides.nth(0).inner_text()


def test_html_report_in_a_browser(browser: Any, result: ScanResult, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text(render(result, "html"))
    problems: list[str] = []
    page = watched_page(browser, report.as_uri(), problems)
    try:
        page.goto(report.as_uri())
        assert page.title().startswith("Attribution scan")
        assert page.locator(".verdict").inner_text() == "fail"
        check_charts(page)
        check_side_by_side(page)
        assert page.locator("#problems").inner_text().count("malformed") == 1
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        if os.environ.get("ATTRIBUTION_SCREENSHOT"):
            page.screenshot(path=os.environ["ATTRIBUTION_SCREENSHOT"], full_page=True)
        assert problems == []
    finally:
        page.context.close()
