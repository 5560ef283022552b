"""One scan from start to report: settings, policy, cache and the result reports read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attribution.core.policy import Policy
from attribution.index.store import Index
from attribution.scan.audit import add_audits, is_audit
from attribution.scan.cache import ResultCache, context_key
from attribution.scan.engine import run_scan
from attribution.scan.inputs import Inputs, check_paths, read_inputs
from attribution.scan.progress import ScanProgress
from attribution.scan.records import FileRecord, Spool, Summary

TOOL_NAME = "attribution"
TOOL_URL = "https://pypi.org/project/attribution/"


@dataclass(frozen=True)
class ScanSettings:
    """How to scan (the query settings are the index's, with `top` raised for whole files)."""

    jobs: int = 1
    since: str | None = None
    cache_dir: str | None = ".attribution-cache"  # None: no cache
    progress: bool = True
    file_timeout: float = 20.0  # seconds one file may take (0: no limit)
    memory_mb: int = 4096  # memory a worker may allocate beyond the index (0: no limit)


@dataclass
class ScanResult:
    """Totals, the records (read back from disk, in scan order) and what was used."""

    paths: tuple[str, ...]
    summary: Summary
    spool: Spool
    index: Index
    policy: Policy | None
    policy_file: str | None
    started: str  # UTC, ISO 8601

    def records(self) -> Iterator[FileRecord]:
        return iter(self.spool)

    @property
    def verdict(self) -> str:
        return self.summary.verdict(self.policy)

    def index_info(self) -> dict[str, Any]:
        m = self.index.manifest
        return {
            "path": str(self.index.root),
            "segments": m.get("segments"),
            "updated": m.get("updated"),
        }

    def close(self) -> None:
        self.spool.close()


def scan(
    paths: list[str],
    index: Index,
    settings: ScanSettings = ScanSettings(),
    policy: Policy | None = None,
    policy_file: str | None = None,
) -> ScanResult:
    """Scan PATHs against an open index (ScanInputError for a PATH that cannot be scanned)."""
    check_paths(paths, settings.since)
    started = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    audits = [p for p in paths if is_audit(p)]  # the proxy's audit files: already attributed
    inputs = Inputs(
        tuple(p for p in paths if p not in audits),
        since=settings.since,
        ignore=policy.ignores if policy is not None else (lambda rel: False),
    )
    cache_dir = settings.cache_dir

    def open_cache() -> ResultCache | None:
        return ResultCache(Path(cache_dir), context_key(index, {})) if cache_dir else None

    summary, spool = run_scan(
        read_inputs(inputs),
        index,
        jobs=settings.jobs,
        open_cache=open_cache,
        policy=policy,
        progress=ScanProgress(paths) if settings.progress else None,
        file_timeout=settings.file_timeout,
        memory_budget=settings.memory_mb * 1024 * 1024,
    )
    add_audits(audits, summary, spool, policy)
    return ScanResult(tuple(paths), summary, spool, index, policy, policy_file, started)
