"""Bulk scans: PATHs against an index, judged by a policy, kept in a result cache.

The names below load lazily, so `attribution check` (which reads a policy file through
`attribution.scan.policyfile`) does not load the scan pipeline.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .inputs import ScanInputError
    from .records import FileRecord, Problem, ScanItem, Summary
    from .session import ScanResult, ScanSettings, scan

_HOME = {
    "ScanInputError": "inputs",
    "FileRecord": "records",
    "Problem": "records",
    "ScanItem": "records",
    "Summary": "records",
    "ScanResult": "session",
    "ScanSettings": "session",
    "scan": "session",
}
__all__ = [
    "FileRecord",
    "Problem",
    "ScanInputError",
    "ScanItem",
    "ScanResult",
    "ScanSettings",
    "Summary",
    "scan",
]


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
