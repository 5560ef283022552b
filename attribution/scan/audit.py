"""Audit files of `attribution proxy --audit FILE` as scan input: one JSON line per answer
a model gave, with its blocks' verdicts and matches (never their code).

The blocks were attributed when the answer went out, so a scan does not attribute them
again: each block becomes a record of the scan as it is (the policy judges its matches
anew), and every report format reads it like any other snippet.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any, cast

from attribution.core.policy import Policy
from attribution.scan.records import FileRecord, Problem, Spool, Summary

AUDIT_PREFIX = "attribution.proxy/"  # the "audit" field of every line, with its version
KNOWN_VERSIONS = ("attribution.proxy/1",)
SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson")
SNIFF_BYTES = 1 << 20


def _open(path: str) -> IO[bytes]:
    if path.lower().endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return open(path, "rb")


def is_audit(path: str) -> bool:
    """Whether a path is a proxy audit file (its first line says so)."""
    if not path.lower().endswith(SUFFIXES):
        return False
    try:
        with _open(path) as stream:
            for raw in stream:
                if raw.strip():
                    first = json.loads(raw[:SNIFF_BYTES])
                    return isinstance(first, dict) and str(first.get("audit", "")).startswith(
                        AUDIT_PREFIX
                    )
    except (OSError, EOFError, ValueError):
        return False
    return False


def read_audit(path: str, policy: Policy | None) -> Iterator[FileRecord | Problem]:
    """One record per attributed block of every answer in the file; a bad line is a
    Problem naming it."""
    try:
        stream = _open(path)
    except OSError as err:
        yield Problem(path, "unreadable", f"cannot open: {err.strerror or err}")
        return
    with stream:
        number = 0
        try:
            for number, raw in enumerate(stream, start=1):
                if raw.strip():
                    yield from _answer(path, number, raw, policy)
        except (OSError, EOFError) as err:
            yield Problem(path, "unreadable", f"read failed after line {number}: {err}", number)


def _answer(path: str, number: int, raw: bytes, policy: Policy | None) -> Iterator[Any]:
    try:
        answer: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        yield Problem(path, "malformed", f"line {number}: not JSON", number)
        return
    if not isinstance(answer, dict) or not isinstance(answer.get("blocks"), list):
        yield Problem(path, "malformed", f'line {number}: no "blocks" list', number)
        return
    if answer.get("audit") not in KNOWN_VERSIONS:
        known = ", ".join(KNOWN_VERSIONS)
        why = f"line {number}: unknown audit version {answer.get('audit')!r}; known: {known}"
        yield Problem(path, "malformed", why, number)
        return
    ident = str(answer.get("request_id") or f"line{number}")
    for block in answer["blocks"]:
        yield _block(path, number, ident, answer, block, policy)


def _block(
    path: str,
    number: int,
    ident: str,
    answer: dict[str, Any],
    block: Any,
    policy: Policy | None,
) -> FileRecord | Problem:
    try:
        where = f"{path}#{ident}/{int(block['choice'])}.{int(block['block'])}"
        matches = list(block["matches"])
        size, sha, sha1 = int(block["bytes"]), str(block["sha"]), str(block["sha1"])
    except (KeyError, TypeError, ValueError):
        return Problem(path, "malformed", f"line {number}: a block lacks its fields", number)
    if block.get("error"):
        return Problem(where, "query", str(block["error"]), number)
    if policy is not None:
        for m in matches:
            d = policy.decide(m)
            m["policy"] = {"status": d.status, "rule": d.rule, "reason": d.reason}
    query = {k: block.get(k) for k in ("language", "lines", "tokens")}
    context = {k: answer.get(k) for k in ("time", "model", "request_id", "endpoint")}
    result = {"query": query, "verdict": block.get("verdict"), "matches": matches}
    result["audit"] = context
    return FileRecord(where, where, "snippet", sha, sha1, size, result, [], False, number, ident)


def add_audits(paths: Iterable[str], summary: Summary, spool: Spool, policy: Policy | None) -> None:
    """Put the blocks of audit files into a scan's totals and records."""
    for path in paths:
        for item in read_audit(path, policy):
            if isinstance(item, Problem):
                summary.problem(item)
            else:
                summary.add(item)
                spool.add(item)
