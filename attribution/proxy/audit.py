"""The audit trail: one JSON line per answer, appended to a file (`--audit FILE`)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any


class AuditLog:
    """Appends one line per answer; each line is written whole, under a lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        with self.path.open("a", encoding="utf-8"):
            pass  # a path that cannot be written fails at start, not per answer

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line)
