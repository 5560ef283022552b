"""Bulk scans: PATHs against an index, judged by a policy, kept in a result cache."""

from .inputs import ScanInputError
from .records import FileRecord, Problem, ScanItem, Summary
from .session import ScanResult, ScanSettings, scan

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
