"""Report formats by name; each writer is imported only when used."""

from __future__ import annotations

import importlib
from typing import TextIO

from index.scan.session import ScanResult

FORMATS = {
    "json": "index.reports.json_report",
    "sarif": "index.reports.sarif",
    "spdx": "index.reports.spdx",
    "cyclonedx": "index.reports.cyclonedx",
    "csv": "index.reports.csv_report",
    "html": "index.reports.html",
    "notice": "index.reports.notice",
}


def write_report(name: str, scan: ScanResult, out: TextIO) -> None:
    """Write the report `name` of a scan to a text stream."""
    if name not in FORMATS:
        raise ValueError(f"unknown report format {name!r}; known: {', '.join(FORMATS)}")
    importlib.import_module(FORMATS[name]).write(scan, out)
