"""A one-line progress report on a terminal; silent when stderr is not one."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Files, megabytes and rate of long work, redrawn at most ten times a second."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.started = time.monotonic()
        self._last = 0.0
        self._drawn = False

    def update(self, files: int, nbytes: int, skipped: dict[str, int] | None = None) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.1:
            return
        self._last = now
        elapsed = max(now - self.started, 1e-6)
        skip = sum((skipped or {}).values())
        line = (
            f"\r{self.label}: {files:,} files · {nbytes / 1e6:,.1f} MB · "
            f"{nbytes / 1e6 / elapsed:,.1f} MB/s · {files / elapsed:,.0f} files/s · "
            f"skipped {skip:,}"
        )
        self.stream.write(line + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def done(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
