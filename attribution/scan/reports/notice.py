"""Third-party notices: for each license the findings are under, the matched sources with
their copyright lines and URLs, where in this project they were found, then the license
texts.

License texts: `attribution.license_texts` ships texts only as lower-case word sequences
(for matching), which cannot stand in a notice; so the full text comes from the
system's `/usr/share/common-licenses` (Debian: Apache-2.0, GPL, LGPL, MPL, CC0, ...), and
for other licenses the notice points at the SPDX page of the text.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, TextIO

from attribution.core.obligations import NOASSERTION, license_ids, obligations
from attribution.scan.reports.common import findings, tool_info
from attribution.scan.session import ScanResult

COMMON_LICENSES = Path("/usr/share/common-licenses")
_DEBIAN_NAMES = {
    "Apache-2.0": "Apache-2.0",
    "GPL-1.0": "GPL-1",
    "GPL-2.0": "GPL-2",
    "GPL-3.0": "GPL-3",
    "LGPL-2.0": "LGPL-2",
    "LGPL-2.1": "LGPL-2.1",
    "LGPL-3.0": "LGPL-3",
    "MPL-1.1": "MPL-1.1",
    "MPL-2.0": "MPL-2.0",
    "CC0-1.0": "CC0-1.0",
    "Artistic-1.0-Perl": "Artistic",
    "GFDL-1.2": "GFDL-1.2",
    "GFDL-1.3": "GFDL-1.3",
}
RULE = "=" * 78


def license_text(spdx_id: str, root: Path = COMMON_LICENSES) -> str | None:
    """The full text of a license from the system's common licenses, if it has it."""
    base = spdx_id.removesuffix("-only").removesuffix("-or-later")
    name = _DEBIAN_NAMES.get(spdx_id) or _DEBIAN_NAMES.get(base)
    if name is None:
        return None
    try:
        return (root / name).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _group(scan: ScanResult) -> dict[str, dict[str, tuple[dict[str, Any], list[str]]]]:
    """license -> source id -> (source, places in this project)."""
    groups: dict[str, dict[str, tuple[dict[str, Any], list[str]]]] = defaultdict(dict)
    for f in findings(scan):
        source = f.source
        q = f.match["query_lines"]
        place = f"{f.record.path} lines {q[0]}-{q[1]}"
        entry = groups[source["license"]].setdefault(source["id"], (source, []))
        entry[1].append(place)
    return groups


def _source_block(source: dict[str, Any], places: list[str]) -> list[str]:
    lines = [f"* {source['repo_name']}: {source['path']}"]
    if source.get("url"):
        lines.append(f"  {source['url']}")
    lines += [f"  {c}" for c in source.get("copyright") or []]
    if not source.get("copyright") and source.get("authors"):
        lines.append(f"  Authors: {', '.join(source['authors'][:10])}")
    lines += [f"  used in {p}" for p in places[:20]]
    if len(places) > 20:
        lines.append(f"  ... and {len(places) - 20} more places")
    return lines


def render(scan: ScanResult) -> str:
    """The notice text."""
    info = tool_info()
    out = [
        "THIRD-PARTY SOFTWARE NOTICES",
        "",
        f"This project contains code that matches the third-party sources below (found by "
        f"{info['name']} {info['version']} on {scan.started} in: {', '.join(scan.paths)}).",
        "Their licenses ask that these notices and license texts accompany the code.",
    ]
    groups = _group(scan)
    ids: list[str] = []
    for expression in sorted(groups):
        out += ["", RULE, f"License: {expression}", RULE]
        out += [f"  {s}" for s in obligations(expression)]
        for source, places in groups[expression].values():
            out += ["", *_source_block(source, places)]
        ids += [i for i in license_ids(expression) if i not in ids]
    if not groups:
        out += ["", "No third-party code was found."]
    for spdx_id in ids:
        out += ["", RULE, f"License text: {spdx_id}", RULE, ""]
        text = license_text(spdx_id)
        out.append(text.rstrip() if text else f"See https://spdx.org/licenses/{spdx_id}.html")
    if NOASSERTION in groups:
        out += ["", "Sources marked NOASSERTION have no known license: ask their authors."]
    return "\n".join(out) + "\n"


def write(scan: ScanResult, out: TextIO) -> None:
    out.write(render(scan))
