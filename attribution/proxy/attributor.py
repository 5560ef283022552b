"""Where the proxy's blocks are attributed: an index directory or a running service.

The engine is CPU-bound (milliseconds a block), so calls run in a small thread pool and
the event loop that streams answers never waits on them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from attribution.core.languages import UnknownLanguageError, normalize_language
from attribution.core.search import QueryError, attribute
from attribution.index.format import read_manifest
from attribution.web.client import ServiceError, attribute_remote, check_url
from attribution.web.indexref import IndexRef

THREADS = 2  # engine calls at once (the GIL makes more of no use)


class AttributionError(Exception):
    """A block that could not be attributed (too large, the service failed, ...)."""


def language_of(tag: str | None) -> str | None:
    """The engine's name for a fence tag, or None (detect from the code) when unknown."""
    if not tag:
        return None
    try:
        return normalize_language(tag)
    except UnknownLanguageError:
        return None


class Attributor:
    """Attributes code with the same `attribute` as `check`, off the event loop."""

    def __init__(self, index: str | None = None, server: str | None = None, top: int = 5):
        if (index is None) == (server is None):
            raise ValueError("give an index directory or a service URL (one of them)")
        self.top = top
        self._pool = cf.ThreadPoolExecutor(THREADS, thread_name_prefix="attribution")
        self._ref: IndexRef | None = None
        self.server = server.rstrip("/") if server else None
        if server is not None:
            check_url(server)
            self._call: Callable[[str, str | None], dict[str, Any]] = self._remote
        else:
            assert index is not None
            read_manifest(Path(index))  # a missing or broken index fails here, not per block
            self._ref = IndexRef(index)  # opened and warmed up before any answer
            self._call = self._local

    def describe(self) -> str:
        return f"service {self.server}" if self.server else f"index {self._ref and self._ref.root}"

    async def attribute(self, code: str, tag: str | None) -> dict[str, Any]:
        """SPEC's result for one block (its fence tag names the language, when known)."""
        loop = asyncio.get_running_loop()
        call = partial(self._call, code, language_of(tag))
        return await loop.run_in_executor(self._pool, call)

    def attribute_now(self, code: str, tag: str | None) -> dict[str, Any]:
        """The same, in the calling thread (for hooks that are not async)."""
        return self._call(code, language_of(tag))

    def _local(self, code: str, language: str | None) -> dict[str, Any]:
        assert self._ref is not None
        index = self._ref.get()
        try:
            result = attribute(code, index, language=language)
        except (QueryError, ValueError, OSError) as err:
            raise AttributionError(str(err)) from None
        result["matches"] = result["matches"][: self.top]
        return result

    def _remote(self, code: str, language: str | None) -> dict[str, Any]:
        assert self.server is not None
        try:
            return attribute_remote(
                self.server,
                code.encode("utf-8", "surrogatepass"),
                language=language,
                filename=None,
                top=self.top,
                min_tokens=None,
            )
        except ServiceError as err:
            raise AttributionError(str(err)) from None

    def source_url(self, match: dict[str, Any]) -> str:
        """A link for a match: the source's repository, the service's excerpt, or its
        Software Heritage identifier with the matched lines."""
        source = match["source"]
        a, b = match["source_lines"]
        if source.get("url"):
            return str(source["url"])
        if self.server:
            return f"{self.server}/v1/sources/{source['id']}?lines={a}-{b}"
        return f"https://archive.softwareheritage.org/{source['swhid']};lines={a}-{b}"

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
