"""A scan's progress line on a terminal: done/total files, rate, MB and ETA.

The total is counted in a background thread (names of candidate files, no reading), so the
scan starts at once and the ETA appears when the count is known. Silent off a terminal.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TextIO

from attribution.core.languages import language_for_path
from attribution.index.ingest.filters import IGNORED_DIRS
from attribution.index.progress import Progress
from attribution.scan.jsonl import is_jsonl


def count_candidates(paths: Sequence[str]) -> int | None:
    """Files that look like source under the PATHs (None when a PATH is an archive)."""
    total = 0
    for path in paths:
        if os.path.isdir(path):
            for _, dirs, files in os.walk(path):
                dirs[:] = [d for d in dirs if d not in IGNORED_DIRS]
                total += sum(1 for f in files if language_for_path(f) is not None)
        elif is_jsonl(path):
            with open(path, "rb") as f:
                total += sum(1 for line in f if line.strip())
        elif os.path.isfile(path) and language_for_path(path) is not None:
            total += 1
        else:
            return None
    return total


class ScanProgress(Progress):
    """Redrawn at most ten times a second on stderr when it is a terminal."""

    def __init__(
        self, paths: Sequence[str], stream: TextIO | None = None, enabled: bool | None = None
    ) -> None:
        super().__init__("scan", stream, enabled)
        self.total: int | None = None
        if self.enabled:
            threading.Thread(target=self._count, args=(list(paths),), daemon=True).start()

    def _count(self, paths: list[str]) -> None:
        try:
            self.total = count_candidates(paths)
        except OSError:
            self.total = None

    def update(self, files: int, nbytes: int, findings: int) -> None:  # type: ignore[override]
        elapsed = self.due()
        if elapsed is None:
            return
        rate = files / elapsed
        total = self.total if self.total and self.total >= files else None
        done = f"{files:,}/{total:,}" if total else f"{files:,}"
        eta = ""
        if total and rate > 0:
            left = int((total - files) / rate)
            eta = f" · ETA {left // 60}:{left % 60:02d}"
        self.draw(
            f"{done} files · {nbytes / 1e6:,.1f} MB · {rate:,.0f} files/s · "
            f"{findings:,} findings{eta}"
        )
