"""One item attributed in a worker process: whole-file copy, windows, or one query.

The index is opened once in the parent and inherited by forked workers (`set_index`).
What comes back is plain data for the result cache: the SPEC result, each match's byte
range in the file and a redacted excerpt of its lines (reports show them; the file itself
may be inside an archive or a git object by then).
"""

from __future__ import annotations

import contextlib
import resource
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from attribution.core.languages import detect_language, guess_language
from attribution.core.redact import redact  # plain `re` rules: importing it loads no web stack
from attribution.core.search import QueryError, attribute
from attribution.index.store import Index
from attribution.index.workers import die_with_parent
from attribution.scan.chunks import WINDOW_LINES, attribute_windows
from attribution.scan.whole import whole_file_result

EXCERPT_LINES = 200  # longest query excerpt kept per match
WINDOW_BYTES = 64_000  # files this large are attributed in windows even when short


class FileTimeout(Exception):
    """An item took longer than the scan's per-file time limit."""


WORK_ERRORS = (QueryError, MemoryError, RecursionError, ValueError, RuntimeError, FileTimeout)

_index: Index | None = None
_timeout = 0.0  # seconds per item; 0: no limit

Job = tuple[bytes, str | None, str | None, str]  # data, language, filename, git blob id


def set_index(index: Index | None, timeout: float = 0.0) -> None:
    """The index workers use and the time limit per item (set before the pool forks)."""
    global _index, _timeout
    _index, _timeout = index, timeout


def init_worker(parent: int, budget_bytes: int) -> None:
    """Pool initializer: die with the scan (`parent`), and bound memory."""
    die_with_parent(parent)
    limit_memory(budget_bytes)


def limit_memory(budget_bytes: int) -> None:
    """Allocations beyond `budget_bytes` more than the process maps now raise MemoryError
    (the index's maps are already counted), instead of the whole machine running out of
    memory on a pathological file."""
    if budget_bytes <= 0:
        return
    mapped = _mapped_bytes()
    if mapped:
        limit = mapped + budget_bytes
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(
                resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1])
            )


def _mapped_bytes() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise FileTimeout in this (main) thread after `seconds`; no limit elsewhere or at 0."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise FileTimeout(f"gave up after {seconds:g} s (--file-timeout)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def attribute_batch(jobs: list[Job]) -> list[dict[str, Any]]:
    """Attribute a batch; each answer is {"result", "bytes", "excerpts"} or {"error"}."""
    assert _index is not None, "set_index() before attributing"
    return [attribute_one(_index, *job) for job in jobs]


def attribute_one(
    index: Index, data: bytes, language: str | None, filename: str | None, blob_id: str
) -> dict[str, Any]:
    """One item's answer; a query the engine refuses or fails on becomes {"error": text}."""
    try:
        with deadline(_timeout):
            result = _result(index, data, language, filename, blob_id)
    except WORK_ERRORS as err:
        answer: dict[str, Any] = {"error": _error_text(err)}
        if isinstance(err, FileTimeout):
            answer["timeout"] = _timeout  # valid in the cache only for limits this short
        return answer
    lines = _line_starts(data)
    for m in result["matches"]:
        m["query_bytes"] = _byte_range(lines, len(data), m["query_lines"])
    return {"result": result, "excerpts": [_excerpt(data, lines, m) for m in result["matches"]]}


def _result(
    index: Index, data: bytes, language: str | None, filename: str | None, blob_id: str
) -> dict[str, Any]:
    if not data.strip():
        raise QueryError("empty: there is no code to attribute")
    lang = _language(data, language, filename)
    whole = whole_file_result(data, blob_id, lang, index)
    if whole is not None:
        whole["elapsed_ms"] = 0.0
        return whole
    short = data.count(b"\n") < WINDOW_LINES and len(data) < WINDOW_BYTES
    unfit = len(data) > index.config.max_query_bytes or b"\x00" in data[:8192]
    if short or unfit:  # an unfit query raises the engine's own QueryError
        return attribute(data, index, language=lang, filename=filename)
    return attribute_windows(data, index, lang, index.config.top)


def _language(data: bytes, language: str | None, filename: str | None) -> str:
    try:
        found = detect_language(filename, data[:256], language)
    except ValueError as err:
        raise QueryError(str(err)) from err
    return found or guess_language(data)


def _error_text(err: BaseException) -> str:
    if isinstance(err, QueryError | FileTimeout):
        return str(err)
    if isinstance(err, MemoryError):
        return "the engine ran out of memory on this file (pathological repetition?)"
    return f"the engine failed on this file: {type(err).__name__}: {str(err)[:200]}"


def _line_starts(data: bytes) -> list[int]:
    starts = [0]
    pos = data.find(b"\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = data.find(b"\n", pos + 1)
    return starts


def _byte_range(starts: list[int], size: int, lines: list[int]) -> list[int]:
    """1-based inclusive byte range of a 1-based inclusive line range (line breaks out)."""
    first = starts[min(lines[0], len(starts)) - 1]
    end = starts[lines[1]] - 1 if lines[1] < len(starts) else size
    return [first + 1, max(end, first + 1)]


def _excerpt(data: bytes, starts: list[int], m: dict[str, Any]) -> str:
    a, b = m["query_lines"]
    b = min(b, a + EXCERPT_LINES - 1)
    lo = starts[min(a, len(starts)) - 1]
    hi = starts[b] if b < len(starts) else len(data)
    return redact(data[lo:hi].decode("utf-8", "replace"))
