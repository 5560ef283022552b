"""Scan results kept per content, so an interrupted scan resumes and a re-scan is quick.

One SQLite file (`<dir>/scan.sqlite`, WAL) maps (context, git blob id, language) to the
worker's answer as JSON. The context is a hash of the index's identity (its manifest:
segments, deletions, update time), the query configuration and the scan's own version, so
a changed index or setting never serves an old answer; rows of other contexts are dropped
when the cache is opened. Rows are committed at least every second: a killed scan loses
at most that much work.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from attribution.index.store import Index

SCAN_VERSION = 1  # bump when what a worker answers changes
DEFAULT_DIR = ".attribution-cache"
COMMIT_SECONDS = 1.0
COMMIT_ROWS = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    context TEXT NOT NULL, blob_id TEXT NOT NULL, language TEXT NOT NULL, answer TEXT NOT NULL,
    PRIMARY KEY (context, blob_id, language)) WITHOUT ROWID;
"""


def context_key(index: Index, extra: dict[str, Any]) -> str:
    """What a cached answer depends on besides the content: index, config, scan settings."""
    manifest = index.manifest
    identity = {
        "index": str(index.root.resolve()),
        "segments": manifest.get("segments"),
        "deletions": manifest.get("deletions"),
        "updated": manifest.get("updated"),
        "config": dataclasses.asdict(index.config),
        "scan": SCAN_VERSION,
        **extra,
    }
    raw = json.dumps(identity, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:32]


class ResultCache:
    """Answers by (git blob id, language) for one context."""

    def __init__(self, directory: str | Path, context: str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        _mark(self.directory)
        self.context = context
        self.db = sqlite3.connect(self.directory / "scan.sqlite", timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        with self.db:
            self.db.execute("DELETE FROM results WHERE context != ?", (context,))
        self._pending = 0
        self._last = time.monotonic()

    def get(self, blob_id: str, language: str | None) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT answer FROM results WHERE context = ? AND blob_id = ? AND language = ?",
            (self.context, blob_id, language or ""),
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def put(self, blob_id: str, language: str | None, answer: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?)",
            (self.context, blob_id, language or "", json.dumps(answer, separators=(",", ":"))),
        )
        self._pending += 1
        now = time.monotonic()
        if self._pending >= COMMIT_ROWS or now - self._last >= COMMIT_SECONDS:
            self.commit()

    def commit(self) -> None:
        self.db.commit()
        self._pending = 0
        self._last = time.monotonic()

    def close(self) -> None:
        self.commit()
        self.db.close()


def _mark(directory: Path) -> None:
    """Tell git and backup tools that the directory is a cache."""
    ignore = directory / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# created by attribution scan\n*\n", encoding="utf-8")
    tag = directory / "CACHEDIR.TAG"
    if not tag.exists():
        tag.write_text(
            "Signature: 8a477f597d28d172789f06886806bc55\n# attribution scan result cache\n",
            encoding="utf-8",
        )
