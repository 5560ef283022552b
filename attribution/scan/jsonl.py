"""JSON Lines files of model outputs: one `{"id", "code", "language"?}` object per line.

A malformed line becomes a Problem with its line number; the other lines are scanned.
Input is bounded: a compressed file is read through index/ingest/bounded.py (byte budget
and expansion ratio), a line longer than MAX_LINE_BYTES or nested deeper than
jsondepth.MAX_DEPTH is one Problem, never a RecursionError or the whole line in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from attribution.core import jsondepth
from attribution.index.ingest.bounded import ExpansionLimit, buffered, open_decompressed
from attribution.index.ingest.records import DEFAULT_LIMITS
from attribution.scan.records import Problem, ScanItem

SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson")
MAX_LINE_BYTES = 8 * 1024 * 1024  # JSON escapes can grow a 1 MB file's text 6 times


def is_jsonl(path: str) -> bool:
    return path.lower().endswith(SUFFIXES)


def read_outputs(path: str) -> Iterator[ScanItem | Problem]:
    """Each record of a JSON Lines file as a ScanItem, or a Problem naming its line."""
    limits = DEFAULT_LIMITS
    try:
        stream = open_decompressed(path, limits.max_archive_bytes, limits.max_ratio)
    except OSError as err:
        yield Problem(path, "unreadable", f"cannot open: {err.strerror or err}")
        return
    with stream:
        number = 0
        try:
            for number, raw in _lines(buffered(stream)):
                if raw is None:
                    detail = f"line {number}: longer than {MAX_LINE_BYTES} bytes"
                    yield Problem(path, "malformed", detail, number)
                elif raw.strip():
                    yield _record(path, number, raw)
        except ExpansionLimit as err:
            yield Problem(path, "limit", f"stopped reading after line {number}: {err}", number)
        except (OSError, EOFError, ValueError) as err:
            detail = f"read failed after line {number}: {_short(err)}"
            yield Problem(path, "unreadable", detail, number)


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line); None for a line longer than MAX_LINE_BYTES (its rest skipped)."""
    number = 0
    while line := stream.readline(MAX_LINE_BYTES):
        number += 1
        if len(line) >= MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (more := stream.readline(MAX_LINE_BYTES)) and not more.endswith(b"\n"):
                pass
            yield number, None
        else:
            yield number, line


def _record(path: str, number: int, raw: bytes) -> ScanItem | Problem:
    try:
        obj: Any = jsondepth.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        return Problem(path, "malformed", f"line {number}: not JSON ({_short(err)})", number)
    if not isinstance(obj, dict):
        return Problem(path, "malformed", f"line {number}: not a JSON object", number)
    code, language, ident = obj.get("code"), obj.get("language"), obj.get("id", number)
    if not isinstance(code, str):
        return Problem(path, "malformed", f'line {number}: "code" must be a string', number)
    if language is not None and not isinstance(language, str):
        return Problem(path, "malformed", f'line {number}: "language" must be a string', number)
    if not isinstance(ident, str | int) or isinstance(ident, bool):
        return Problem(
            path, "malformed", f'line {number}: "id" must be a string or a number', number
        )
    return ScanItem(
        path=f"{path}#{ident}",
        rel=f"{path}#{ident}",
        data=code.encode("utf-8", "surrogatepass"),
        language=language or None,
        filename=None,
        kind="snippet",
        line=number,
        item_id=str(ident),
    )


def _short(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text[:120]
