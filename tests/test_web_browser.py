"""The page in a real browser: `attribution serve` (gunicorn) in a subprocess, driven by
headless Chromium (Debian's /usr/bin/chromium) through Playwright's Python client."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_web_corpus import DECODER, TEXTWRAP, built_index, server, snippet

__all__ = ["built_index", "server"]  # fixtures used here


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.problems = []  # console errors, failed loads and requests leaving the machine
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))

    def guard(route: Any) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            page.problems.append(f"off-site request: {route.request.url}")
            route.abort()

    page.route("**/*", guard)
    page.goto(server + "/")
    try:
        yield page
    finally:
        context.close()


def _answer(server: str, code: str) -> Any:
    body = json.dumps({"code": code}).encode()
    req = urllib.request.Request(
        server + "/v1/attribute", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def _span_lines(match: Any, side: str) -> list[int]:
    lines = {n for s in match["spans"] for n in range(s[side][0], s[side][1] + 1)}
    return sorted(lines)


def _marked(page: Any, view: str) -> list[int]:
    rows = page.eval_on_selector_all(f"{view} .hl-sel", "rows => rows.map(r => r.dataset.line)")
    return sorted(int(x) for x in rows)


def test_paste_a_copied_snippet_and_see_its_source(
    page: Any, server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    query = snippet(TEXTWRAP, 100, 140) + "\n" + snippet(DECODER, 330, 360)
    page.fill("#code", query)
    page.press("#code", "Control+Enter")
    page.wait_for_selector("#matches .match")
    assert page.locator("#matches .match").count() == 2
    first = page.locator("#match-0")
    assert "textwrap.py" in first.inner_text()
    assert first.get_attribute("aria-selected") == "true"

    # the selected match: path, license badge coloured by type, the comment to paste
    page.wait_for_selector("#source-view .code-line.hl-sel")
    assert page.inner_text("#source-link") == "mylib / textwrap.py"
    badge = page.locator("#license-badge")
    assert badge.inner_text() == "MIT" and "permissive" in (badge.get_attribute("class") or "")
    comment = page.inner_text("#comment")
    assert comment.startswith("# Adapted from mylib/textwrap.py") and "# License: MIT" in comment
    origins = page.inner_text("#origins")
    assert "fork / third_party/textwrap.py · lines " in origins and "NOASSERTION" in origins
    # the two copies are under two licenses (MIT and unknown): the page says so
    assert page.inner_text("#copies") == "2 copies under 2 licenses hold this code"
    assert "2 copies under 2 licenses" in first.inner_text()

    # the highlighted lines on both sides are the lines of the match's spans; they line up
    match = _answer(server, query)["matches"][0]
    src_lines = _marked(page, "#source-view")
    q_lines = _marked(page, "#query-view")
    assert src_lines == _span_lines(match, "source_lines") and min(src_lines) >= 100
    assert q_lines == _span_lines(match, "query_lines") and min(q_lines) <= 3
    top_q = page.locator(f'#query-view [data-line="{q_lines[0]}"]').bounding_box()
    top_s = page.locator(f'#source-view [data-line="{src_lines[0]}"]').bounding_box()
    shot = tmp_path / "attribution-page.png"
    page.screenshot(path=str(shot), full_page=True)
    with capsys.disabled():
        print(f"\nscreenshot of the page: {shot}")
    assert top_q and top_s and abs(top_q["y"] - top_s["y"]) < 4
    assert float(page.get_attribute("body", "data-render-ms") or "inf") < 100

    # keyboard: arrow down selects the second match, whose source is the decoder
    first.focus()
    page.keyboard.press("ArrowDown")
    page.wait_for_function("document.querySelector('#source-link').textContent.includes('decoder')")
    assert page.locator("#match-1").get_attribute("aria-selected") == "true"
    assert page.evaluate("document.activeElement.id") == "match-1"
    assert page.problems == []


def test_page_reads_on_a_narrow_screen(page: Any) -> None:
    page.set_viewport_size({"width": 380, "height": 800})
    page.fill("#code", snippet(TEXTWRAP, 100, 140))
    page.click("#submit")
    page.wait_for_selector("#source-view .code-line.hl-sel")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    assert page.problems == []


def test_open_a_file_picks_its_language(page: Any, tmp_path: Path) -> None:
    path = tmp_path / "decode_helpers.py"
    path.write_text(snippet(DECODER, 330, 360))
    page.set_input_files("#file", str(path))
    page.wait_for_selector("#source-view .code-line.hl-sel")
    assert page.input_value("#language") == "python"
    assert "decode_helpers.py" in page.inner_text("#file-name")
    assert page.inner_text("#source-link") == "mylib / pkg/decoder.py"
    assert page.problems == []
