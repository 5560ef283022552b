"""A self-contained HTML report: summary with inline SVG charts (findings by license type and
by directory), then each finding with the project's lines and the matched source's lines
side by side, aligned spans highlighted. Excerpts are redacted; nothing is loaded from
elsewhere (a Content-Security-Policy forbids it)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from html import escape
from typing import Any, TextIO

from attribution.core.redact import redact  # plain `re` rules: importing it loads no web stack
from attribution.index.ingest.naming import web_link
from attribution.index.store import Index
from attribution.scan.records import size_text
from attribution.scan.reports.common import Finding, SourceText, findings, tool_info
from attribution.scan.reports.svg import PALETTE, bar_chart
from attribution.scan.session import ScanResult

MAX_DETAILED = 300  # findings shown with excerpts; the rest are listed in a table
MAX_LINES = 200  # lines of an excerpt
CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1400px;padding:0 1.5rem;
color:#1b1b1b}
h1{margin:1.2rem 0 .2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem}
.verdict{display:inline-block;padding:.2rem .7rem;border-radius:3px;font-weight:600;color:#fff}
.verdict-pass,.verdict-clean{background:#2e7d32}.verdict-fail{background:#c62828}
.verdict-findings{background:#ef6c00}
table{border-collapse:collapse}td,th{padding:.2rem .6rem;text-align:left;
border-bottom:1px solid #eee;vertical-align:top}
.charts{display:flex;flex-wrap:wrap;gap:2rem}.chart text{font-size:12px;fill:#333}
.finding{border:1px solid #ddd;border-radius:4px;margin:1rem 0;padding:.6rem 1rem}
.finding h3{margin:.2rem 0;font-size:15px;word-break:break-all}
.badge{display:inline-block;padding:0 .45rem;border-radius:3px;color:#fff;font-size:12px}
.status-violation{color:#c62828;font-weight:600}.status-review{color:#ef6c00;font-weight:600}
.sides{display:grid;grid-template-columns:1fr 1fr;gap:.8rem}
figure{margin:0;min-width:0}figcaption{font-size:12px;color:#555;word-break:break-all}
pre{background:#f7f7f7;border:1px solid #e5e5e5;overflow:auto;max-height:28rem;margin:.3rem 0;
padding:.3rem 0;font-size:12px}
pre span{display:block;padding:0 .5rem;white-space:pre}pre span.hl{background:#fff3c4}
pre i{display:inline-block;width:3.5em;color:#999;font-style:normal;user-select:none}
"""


def index_source_text(index: Index, keep: int = 64) -> SourceText:
    """Redacted lines of indexed sources, read through `Index.find_source`/`content`."""
    cache: OrderedDict[str, list[str] | None] = OrderedDict()

    def lines_of(source_id: str) -> list[str] | None:
        if source_id not in cache:
            found = index.find_source(source_id)
            text = None if found is None else index.content(found[1]).decode("utf-8", "replace")
            cache[source_id] = None if text is None else redact(text).split("\n")
            if len(cache) > keep:
                cache.popitem(last=False)
        return cache[source_id]

    def excerpt(source_id: str, first: int, last: int) -> str | None:
        lines = lines_of(source_id)
        if lines is None:
            return None
        return "\n".join(lines[first - 1 : min(last, first + MAX_LINES - 1)])

    return excerpt


def _code(text: str, first: int, marked: Callable[[int], bool]) -> str:
    rows = []
    lines = text.removesuffix("\n").split("\n")
    for n, line in enumerate(lines[:MAX_LINES], start=first):
        cls = ' class="hl"' if marked(n) else ""
        rows.append(f"<span{cls}><i>{n}</i>{escape(line)}</span>")
    return "<pre><code>" + "".join(rows) + "</code></pre>"


def _in_spans(spans: list[dict[str, Any]], key: str) -> Callable[[int], bool]:
    ranges = [(s[key][0], s[key][1]) for s in spans]
    return lambda n: any(a <= n <= b for a, b in ranges)


def _badge(kind: str, text: str) -> str:
    colour = PALETTE.get(kind, "#1565c0")
    return f'<span class="badge" style="background:{colour}">{escape(text)}</span>'


def _verdict(m: dict[str, Any]) -> str:
    policy = m.get("policy")
    if not policy:
        return ""
    status = escape(policy["status"])
    return f' · <span class="status-{status}">{status}</span>: {escape(policy["reason"])}'


def _credits(s: dict[str, Any]) -> str:
    who = "; ".join(s.get("copyright", [])[:2]) or ", ".join(s.get("authors", [])[:3])
    url = web_link(s.get("url"))
    parts = [escape(who)] if who else []
    if url:
        parts.append(f'<a href="{escape(url)}">{escape(url)}</a>')
    return " · ".join(parts)


def _finding(n: int, f: Finding, source_text: SourceText) -> str:
    m, s = f.match, f.source
    q, sl = m["query_lines"], m["source_lines"]
    verdict = _verdict(m)
    source = source_text(s["id"], sl[0], sl[1])
    source_html = (
        _code(source, sl[0], _in_spans(m["spans"], "source_lines"))
        if source is not None
        else "<p>(the source is no longer in the index)</p>"
    )
    return f"""<article class="finding" id="finding-{n}">
<h3>{escape(f.record.path)} lines {q[0]}-{q[1]} ← {escape(s["repo_name"])} {escape(s["path"])}
lines {sl[0]}-{sl[1]}</h3>
<p>{_badge(s["license_type"], s["license"])} {escape(s["license_type"])} · {escape(m["match_type"])}
· {m["tokens"]} tokens · {round(100 * m["coverage"])}% of the file · score {m["score"]:.2f}
· {m["copies"]} {"copy" if m["copies"] == 1 else "copies"}{verdict}</p>
<p>{_credits(s)}</p>
<div class="sides"><figure><figcaption>this project: {escape(f.record.path)}</figcaption>
{_code(f.excerpt, q[0], _in_spans(m["spans"], "query_lines"))}</figure>
<figure><figcaption>source: {escape(s["repo_name"])}/{escape(s["path"])}</figcaption>
{source_html}</figure></div></article>"""


def _summary(scan: ScanResult) -> str:
    s = scan.summary
    verdict = scan.verdict
    rows = [
        ("files scanned", f"{s.files:,} ({size_text(s.bytes)}, {s.cached:,} from the cache)"),
        ("findings", f"{s.findings:,} in {s.files_with_findings:,} files"),
        ("policy", scan.policy_file or ("given" if scan.policy else "none")),
        ("left out", ", ".join(f"{k} {v:,}" for k, v in sorted(s.skipped.items())) or "none"),
        ("time", f"{s.seconds:,.1f} s"),
    ]
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    by_type = bar_chart("findings by license type", s.by_license_type.most_common(), True)
    by_dir = bar_chart("findings by directory", s.by_directory.most_common(15))
    return f"""<p><span class="verdict verdict-{verdict}">{escape(verdict)}</span></p>
<section id="summary"><h2>Summary</h2><table>{table}</table>
<div class="charts"><figure><figcaption>Findings by license type</figcaption>{by_type}</figure>
<figure><figcaption>Findings by directory</figcaption>{by_dir}</figure></div></section>"""


def _problems(scan: ScanResult) -> str:
    problems = scan.summary.problems
    if not problems:
        return ""
    rows = "".join(
        f"<tr><td>{escape(p.path)}</td><td>{escape(p.reason)}</td><td>{escape(p.detail)}</td></tr>"
        for p in problems
    )
    return (
        f'<section id="problems"><h2>Not scanned</h2><table><tr><th>path</th><th>reason</th>'
        f"<th>detail</th></tr>{rows}</table></section>"
    )


def _rest_row(f: Finding) -> str:
    m, s = f.match, f.source
    return (
        f"<tr><td>{escape(f.record.path)}</td><td>{m['query_lines'][0]}-{m['query_lines'][1]}"
        f"</td><td>{escape(s['repo_name'])} {escape(s['path'])}</td>"
        f"<td>{escape(s['license'])}</td></tr>"
    )


def write(scan: ScanResult, out: TextIO, source_text: SourceText | None = None) -> None:
    """Write the page; source excerpts come from the scan's index unless given."""
    lines = source_text or index_source_text(scan.index)
    info = tool_info()
    out.write(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>Attribution scan: {escape(', '.join(scan.paths))}</title>"
        f"<style>{CSS}</style></head><body><header><h1>Attribution scan</h1>"
        f"<p>{escape(', '.join(scan.paths))} · {escape(scan.started)} · "
        f"{escape(info['name'])} {escape(info['version'])}</p></header>"
    )
    out.write(_summary(scan))
    out.write('<section id="findings"><h2>Findings</h2>')
    rest = []
    for n, f in enumerate(findings(scan), start=1):
        if n <= MAX_DETAILED:
            out.write(_finding(n, f, lines))
        else:
            rest.append(_rest_row(f))
    if rest:
        out.write(f"<h3>{len(rest):,} more findings</h3><table>{''.join(rest)}</table>")
    if scan.summary.findings == 0:
        out.write("<p>No third-party code was found.</p>")
    out.write("</section>" + _problems(scan) + "</body></html>\n")
