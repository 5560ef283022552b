"""A one-line progress report on a terminal; silent when stderr is not one."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Files, megabytes and rate of long work, redrawn at most ten times a second."""

    def __init__(
        self, label: str, stream: TextIO | None = None, enabled: bool | None = None
    ) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.started = time.monotonic()
        self._last = 0.0
        self._drawn = False

    def due(self) -> float | None:
        """Seconds since the start when a redraw is due now, else None (throttled, or off)."""
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.1:
            return None
        self._last = now
        return max(now - self.started, 1e-6)

    def draw(self, text: str) -> None:
        self.stream.write(f"\r{self.label}: {text}\x1b[K")
        self.stream.flush()
        self._drawn = True

    def update(self, files: int, nbytes: int, skipped: dict[str, int] | None = None) -> None:
        elapsed = self.due()
        if elapsed is None:
            return
        skip = sum((skipped or {}).values())
        self.draw(
            f"{files:,} files · {nbytes / 1e6:,.1f} MB · "
            f"{nbytes / 1e6 / elapsed:,.1f} MB/s · {files / elapsed:,.0f} files/s · "
            f"skipped {skip:,}"
        )

    def done(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
