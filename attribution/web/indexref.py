"""The index a service process answers from: opened once, re-opened when it changes.

Each request asks `IndexRef.get()`, which costs one stat() of MANIFEST.json. Every write
to an index (an opt-out through any worker, `attribution index remove/add/merge` from a
shell) renames a new manifest into place, so the next request of every worker sees it
and re-opens the memory-mapped index: removals show at once. The old Index is left to
requests still running on it and closed by the garbage collector.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from attribution.index.format import MANIFEST_FILE
from attribution.index.store import Index, warm_up


def _stamp(root: Path) -> tuple[int, int, int]:
    st = os.stat(root / MANIFEST_FILE)
    return st.st_ino, st.st_mtime_ns, st.st_size


def warm_index(root: Path, shard: int | None = None) -> Index:
    """The index (or one shard of it), opened and warmed up (store.warm_up) before its
    first answer."""
    index = Index(root, shard=shard)
    warm_up(index)
    return index


class IndexRef:
    """A shared, re-openable handle on one index directory."""

    def __init__(self, root: str | Path, opener: Callable[[Path], Any] = warm_index) -> None:
        """`opener` opens the index (by default the whole of it, in this process, warmed
        up)."""
        self.root = Path(root)
        self._open = opener
        self._lock = threading.Lock()
        self.generation = 0
        self._key: tuple[int, tuple[int, int, int]] | None = None
        self._index: Any = None
        self.get()

    def _current_key(self) -> tuple[int, tuple[int, int, int]] | None:
        try:
            return os.getpid(), _stamp(self.root)
        except OSError:
            return self._key  # the manifest is being replaced: keep what we have

    def get(self) -> Any:
        """The current index, re-opened first when the manifest changed or after a fork
        (SQLite connections must not cross a fork)."""
        key = self._current_key()
        index = self._index
        if index is not None and key == self._key:
            return index
        with self._lock:
            if self._index is None or key != self._key:
                self._index = self._open(self.root)
                self._key = key or (os.getpid(), _stamp(self.root))
                self.generation += 1
            return self._index
