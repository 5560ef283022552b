"""A segment's SQLite metadata, read through a connection whose errors name the file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from attribution.index import integrity
from attribution.index.format import IndexFormatError


class MetaDB:
    """A segment's SQLite connection: errors of a damaged file name the file."""

    def __init__(self, db: sqlite3.Connection, seg_dir: Path) -> None:
        self._db, self._path = db, seg_dir / "meta.sqlite"

    def execute(self, sql: str, params: Any = ()) -> _Rows:
        try:
            return _Rows(self._db.execute(sql, params), self._path)
        except sqlite3.DatabaseError as err:
            raise integrity.damaged(self._path, str(err)) from None

    def close(self) -> None:
        self._db.close()


class _Rows:
    """A cursor whose reads turn SQLite's damage errors into IndexFormatError."""

    def __init__(self, cursor: sqlite3.Cursor, seg_dir: Path) -> None:
        self._cursor, self._path = cursor, seg_dir

    def _fail(self, err: Exception) -> IndexFormatError:
        return integrity.damaged(self._path, str(err))

    def __iter__(self) -> Iterator[Any]:
        try:
            yield from self._cursor
        except sqlite3.DatabaseError as err:
            raise self._fail(err) from None

    def fetchone(self) -> Any:
        try:
            return self._cursor.fetchone()
        except sqlite3.DatabaseError as err:
            raise self._fail(err) from None

    def fetchall(self) -> list[Any]:
        try:
            return self._cursor.fetchall()
        except sqlite3.DatabaseError as err:
            raise self._fail(err) from None
