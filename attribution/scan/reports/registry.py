"""Report formats by name; each writer is imported only when used."""

from __future__ import annotations

import importlib
from typing import TextIO

from attribution.scan.session import ScanResult

FORMATS = {
    "json": "attribution.scan.reports.json_report",
    "sarif": "attribution.scan.reports.sarif",
    "spdx": "attribution.scan.reports.spdx",
    "cyclonedx": "attribution.scan.reports.cyclonedx",
    "csv": "attribution.scan.reports.csv_report",
    "html": "attribution.scan.reports.html",
    "notice": "attribution.scan.reports.notice",
}


def write_report(name: str, scan: ScanResult, out: TextIO) -> None:
    """Write the report `name` of a scan to a text stream."""
    if name not in FORMATS:
        raise ValueError(f"unknown report format {name!r}; known: {', '.join(FORMATS)}")
    importlib.import_module(FORMATS[name]).write(scan, out)
