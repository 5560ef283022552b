"""What one service process holds (settings, the index, the admin rate limit) and the
work behind each endpoint, free of HTTP details other than ApiError."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from attribution.core.explain import MAX_ORIGINS
from attribution.core.languages import ALIASES, LANGUAGES
from attribution.core.search import attribute
from attribution.index.format import IndexFormatError
from attribution.index.stats import stats
from attribution.web.auth import TokenBucket
from attribution.web.deadline import QueryTimeout, deadline
from attribution.web.errors import EXPECTED, ApiError, to_api_error
from attribution.web.excerpt import source_excerpt
from attribution.web.indexref import IndexRef
from attribution.web.lookup import lookup, opt_out
from attribution.web.settings import Settings


class Service:
    """The state of one process; shared by its threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.index = IndexRef(settings.index)
        # the index queries run on: this process's own, or shards served elsewhere
        # (web/ray_serve.py sets a FannedIndex here)
        self.query_index: Callable[[], Any] = self.index.get
        self.admin_bucket = TokenBucket(settings.admin_burst, settings.admin_refill_s)
        self._stats: tuple[int, dict[str, Any]] | None = None
        self._stats_lock = threading.Lock()

    # --- queries ------------------------------------------------------------------------
    def attribute(
        self,
        code: str,
        *,
        language: str | None = None,
        filename: str | None = None,
        top: int | None = None,
        min_tokens: int | None = None,
        budget_ms: float | None = None,
        origins: tuple[int, int | None] = (0, MAX_ORIGINS),
    ) -> dict[str, Any]:
        """One query's result, within the query time budget (QueryTimeout beyond);
        origins: the offset and number of each match's copies listed."""
        with self.unavailable():
            index = self.query_index()
        data = code.encode("utf-8", "surrogatepass")
        limit = index.config.max_query_bytes
        if len(data) > limit:
            raise ApiError(413, "too_large", f"code is {len(data):,} bytes; the limit is {limit:,}")
        config = index.config.with_query(top=top, min_tokens=min_tokens)
        budget = self.settings.query_timeout_ms if budget_ms is None else budget_ms
        with deadline(budget / 1000.0), self.unavailable():
            return attribute(
                data,
                index,
                language=language,
                filename=filename,
                config=config,
                origins_offset=origins[0],
                origins_limit=origins[1],
            )

    @contextmanager
    def unavailable(self) -> Iterator[None]:
        """A missing, damaged or unreachable index or shard: 503 naming it (the server's
        own paths left out), never a partial answer."""
        try:
            yield
        except IndexFormatError as err:
            message = str(err).replace(str(self.index.root), "<index>")
            raise ApiError(503, "index_unavailable", message) from None

    def batch(self, items: list[dict[str, Any]], top: int | None) -> list[dict[str, Any]]:
        """Each item's result or error; 503 when the whole batch runs out of time."""
        if len(items) > self.settings.max_batch:
            raise ApiError(
                413,
                "too_large",
                f"{len(items)} items; a batch holds at most {self.settings.max_batch}",
            )
        started = time.monotonic()
        total = self.settings.batch_timeout_ms
        results = []
        for item in items:
            budget = float(self.settings.query_timeout_ms)
            if total:
                left = total - (time.monotonic() - started) * 1000.0
                if left <= 0:
                    raise QueryTimeout(f"the batch ran past its time budget of {total} ms")
                budget = min(budget, left) if budget else left
            results.append(self._batch_item(item, top, budget))
        return results

    def _batch_item(self, item: dict[str, Any], top: int | None, budget: float) -> dict[str, Any]:
        try:
            result = self.attribute(
                item["code"],
                language=item.get("language"),
                filename=item.get("filename"),
                top=top,
                budget_ms=budget,
            )
        except EXPECTED as err:  # one bad or slow item does not fail the batch
            api = to_api_error(err)
            return {"id": item["id"], "error": {"code": api.code, "message": api.message}}
        return {"id": item["id"], **result}

    # --- reads ---------------------------------------------------------------------------
    def source(self, source_id: str, lines: str | None) -> dict[str, Any]:
        with self.unavailable():
            return source_excerpt(
                self.index.get(), source_id, lines, self.settings.max_excerpt_lines
            )

    def lookup(self, repo: str | None, author: str | None) -> dict[str, Any]:
        with self.unavailable():
            return lookup(self.index.get(), repo, author)

    def stats(self) -> dict[str, Any]:
        """Index statistics, computed once per version of the index."""
        with self.unavailable():
            self.index.get()
        generation = self.index.generation
        with self._stats_lock:
            if self._stats is None or self._stats[0] != generation:
                info = stats(self.index.root)
                info.pop("index", None)  # the server's file system path is nobody's business
                self._stats = (generation, info)
            return self._stats[1]

    @staticmethod
    def languages() -> dict[str, Any]:
        out = []
        for lang in LANGUAGES.values():
            block = lang.block_comments[0] if lang.block_comments else None
            out.append(
                {
                    "name": lang.name,
                    "extensions": list(lang.extensions),
                    "line_comment": lang.line_comments[0] if lang.line_comments else None,
                    "block_comment": list(block) if block else None,
                }
            )
        return {"languages": out, "aliases": dict(ALIASES)}

    # --- admin -----------------------------------------------------------------------------
    def opt_out(self, repo: str | None, author: str | None, follow: bool = True) -> dict[str, Any]:
        answer = opt_out(self.index.root, repo, author, follow)
        self.index.get()  # re-open now: the removals show in the very next answer
        return answer
