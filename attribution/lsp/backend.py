"""Where the language server's queries go: a local index, or a service (POST /v1/batch).

Both answer a list of (code, language) items with one result per item, or the error that
item met (the other items still answer). They are called from one worker thread.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any, Protocol

from attribution.core.search import QueryError, attribute
from attribution.index.store import Index
from attribution.web.client import attribute_remote, check_url, post_json

Item = tuple[str, str]  # (code, language)
Answer = dict[str, Any] | QueryError

BATCH_ITEMS = 50  # items of one POST /v1/batch (the service's default limit is 100)
BATCH_BYTES = 2_000_000  # body size of one POST /v1/batch (the service's limit is 4 MiB)


class Backend(Protocol):
    def attribute_many(self, items: list[Item]) -> list[Answer]:
        """One result (or QueryError) per item, in order."""
        ...

    def source_url(self, match: dict[str, Any]) -> str | None:
        """A URL showing the matched source, or None."""
        ...

    def describe(self) -> str: ...

    def configure(self, min_tokens: int | None, top: int, max_candidates: int | None) -> None: ...

    def close(self) -> None: ...


class LocalBackend:
    """An index directory, opened on first use (in the worker thread)."""

    def __init__(self, root: str, min_tokens: int | None = None, top: int = 10) -> None:
        self.root = root
        self.overrides = {"min_tokens": min_tokens, "top": top}
        self._index: Index | None = None
        self._lock = threading.Lock()

    def configure(self, min_tokens: int | None, top: int, max_candidates: int | None) -> None:
        """Query settings (before the index is first opened)."""
        self.overrides = {"min_tokens": min_tokens, "top": top, "max_candidates": max_candidates}

    def index(self) -> Index:
        with self._lock:
            if self._index is None:
                self._index = Index(self.root, **self.overrides)
            return self._index

    def attribute_many(self, items: list[Item]) -> list[Answer]:
        index = self.index()
        out: list[Answer] = []
        for code, language in items:
            try:
                out.append(attribute(code, index, language=language))
            except QueryError as err:
                out.append(err)
        return out

    def source_url(self, match: dict[str, Any]) -> str | None:
        url = match["source"].get("url")
        return str(url) if url else None

    def describe(self) -> str:
        return f"index {self.root}"

    def close(self) -> None:
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None


class RemoteBackend:
    """A running service: one POST /v1/attribute for one item, /v1/batch for more."""

    def __init__(self, server: str, min_tokens: int | None = None, top: int = 10) -> None:
        check_url(server)
        self.server = server.rstrip("/")
        self.min_tokens = min_tokens
        self.top = top

    def configure(self, min_tokens: int | None, top: int, max_candidates: int | None) -> None:
        """Query settings (the service's API takes no max_candidates: it is ignored)."""
        self.min_tokens, self.top = min_tokens, top

    def attribute_many(self, items: list[Item]) -> list[Answer]:
        if len(items) == 1:
            code, language = items[0]
            data = code.encode("utf-8", "surrogatepass")
            return [
                attribute_remote(
                    self.server,
                    data,
                    language=language,
                    filename=None,
                    top=self.top,
                    min_tokens=self.min_tokens,
                )
            ]
        out: list[Answer] = []
        for batch in _batches(items):
            body = {
                "items": [
                    {"id": str(i), "code": code, "language": lang}
                    for i, (code, lang) in enumerate(batch)
                ],
                "top": self.top,
            }
            token = os.environ.get("ATTRIBUTION_READ_TOKEN") or None
            answer = post_json(self.server + "/v1/batch", body, token=token)
            by_id = {r["id"]: r for r in answer["results"]}
            for i in range(len(batch)):
                r = by_id.get(str(i), {"error": {"message": "no answer for this item"}})
                out.append(QueryError(r["error"]["message"]) if r.get("error") else r)
        return out

    def source_url(self, match: dict[str, Any]) -> str | None:
        url = match["source"].get("url")
        if url:
            return str(url)
        a, b = match["source_lines"]
        return f"{self.server}/v1/sources/{match['source']['id']}?lines={a}-{b}"

    def describe(self) -> str:
        return f"service {self.server}"

    def close(self) -> None:
        pass


def _batches(items: list[Item]) -> list[list[Item]]:
    out: list[list[Item]] = [[]]
    size = 0
    for item in items:
        n = len(json.dumps(item[0]))
        if out[-1] and (len(out[-1]) >= BATCH_ITEMS or size + n > BATCH_BYTES):
            out.append([])
            size = 0
        out[-1].append(item)
        size += n
    return out
