"""What a scan reads (ScanItem), what it keeps per file (FileRecord) and its totals."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from attribution.core.policy import IGNORED, VIOLATION, Policy

MAX_ERRORS = 1000  # problems kept with their detail (all are counted)


def git_blob_sha1(data: bytes) -> str:
    """The git blob id of some bytes (what the index and Software Heritage use)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class ScanItem:
    """One query of a scan: a file of a tree or one model output of a JSON Lines file."""

    path: str  # as shown in reports: the PATH argument joined with the path inside it
    rel: str  # relative to the scanned root (what `ignore` globs see)
    data: bytes = field(repr=False)
    language: str | None  # known language, or None to detect it
    filename: str | None  # for language detection
    kind: str = "file"  # "file" or "snippet" (a JSON Lines record)
    line: int | None = None  # line of a JSON Lines record
    item_id: str | None = None  # "id" of a JSON Lines record


@dataclass(frozen=True)
class Problem:
    """A file or line that could not be scanned, or was left out, and why."""

    path: str
    reason: str  # an ingest SKIP_REASON, "malformed" (JSON Lines) or "query" (not attributable)
    detail: str
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "reason": self.reason, "detail": self.detail}
        if self.line is not None:
            out["line"] = self.line
        return out


ERROR_REASONS = ("unreadable", "unsafe_path", "limit", "malformed", "query", "symlink")


@dataclass
class FileRecord:
    """The scan of one file: its SPEC result (matches carry `query_bytes` and `policy`)."""

    path: str
    rel: str
    kind: str
    sha: str  # git blob SHA-1
    sha1: str  # plain SHA-1 of the bytes (SPDX checksums)
    size: int
    result: dict[str, Any]
    excerpts: list[str] = field(default_factory=list)  # redacted query text of each match
    cached: bool = False
    line: int | None = None
    item_id: str | None = None

    def findings(self) -> list[tuple[int, dict[str, Any]]]:
        """(match index, match) of the matches that are findings (not ignored by policy)."""
        return [
            (i, m)
            for i, m in enumerate(self.result["matches"])
            if m.get("policy", {}).get("status") != IGNORED
        ]

    def to_json(self) -> dict[str, Any]:
        out = {
            "path": self.path,
            "rel": self.rel,
            "kind": self.kind,
            "sha": self.sha,
            "sha1": self.sha1,
            "size": self.size,
            "cached": self.cached,
            "line": self.line,
            "id": self.item_id,
            "result": self.result,
            "excerpts": self.excerpts,
        }
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> FileRecord:
        return cls(
            d["path"],
            d["rel"],
            d["kind"],
            d["sha"],
            d["sha1"],
            d["size"],
            d["result"],
            d["excerpts"],
            d["cached"],
            d["line"],
            d["id"],
        )


@dataclass
class Summary:
    """Totals of a scan, kept in memory while the records go to a spool file."""

    files: int = 0  # files and snippets attributed
    bytes: int = 0
    cached: int = 0
    files_with_findings: int = 0
    findings: int = 0
    ignored: int = 0  # matches left out by the policy
    by_license_type: Counter[str] = field(default_factory=Counter)
    by_license: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    by_directory: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    ignored_paths: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, record: FileRecord) -> None:
        self.files += 1
        self.bytes += record.size
        self.cached += int(record.cached)
        found = record.findings()
        self.ignored += len(record.result["matches"]) - len(found)
        if found:
            self.files_with_findings += 1
            where = record.rel if record.kind == "file" else record.path
            self.by_directory[directory_of(where)] += len(found)
        for _, m in found:
            self.findings += 1
            self.by_license_type[m["source"]["license_type"]] += 1
            self.by_license[m["source"]["license"]] += 1
            self.by_status[m.get("policy", {}).get("status", "unreviewed")] += 1

    def problem(self, item: Problem) -> None:
        self.skipped[item.reason] += 1
        if item.reason in ERROR_REASONS and len(self.problems) < MAX_ERRORS:
            self.problems.append(item)

    @property
    def errors(self) -> int:
        return sum(n for reason, n in self.skipped.items() if reason in ERROR_REASONS)

    @property
    def violations(self) -> int:
        return self.by_status.get(VIOLATION, 0)

    def to_json(self, policy: Policy | None) -> dict[str, Any]:
        return {
            "files": self.files,
            "bytes": self.bytes,
            "cached": self.cached,
            "files_with_findings": self.files_with_findings,
            "findings": self.findings,
            "ignored_matches": self.ignored,
            "ignored_paths": self.ignored_paths,
            "by_license_type": dict(sorted(self.by_license_type.items())),
            "by_license": dict(self.by_license.most_common()),
            "by_status": dict(sorted(self.by_status.items())),
            "by_directory": dict(self.by_directory.most_common()),
            "skipped": dict(sorted(self.skipped.items())),
            "errors": [p.to_json() for p in self.problems],
            "verdict": self.verdict(policy),
            "seconds": round(self.seconds, 3),
        }

    def verdict(self, policy: Policy | None) -> str:
        """`pass`/`fail` under a policy, else `clean`/`findings`."""
        if policy is not None:
            return "fail" if self.violations else "pass"
        return "findings" if self.findings else "clean"


def size_text(n: int) -> str:
    """Bytes for people: `812 bytes`, `14.2 KB`, `3.1 MB`."""
    if n < 1000:
        return f"{n} bytes"
    return f"{n / 1e3:,.1f} KB" if n < 1_000_000 else f"{n / 1e6:,.1f} MB"


def directory_of(path: str) -> str:
    """The directory a finding is counted under in reports (`.` for the root)."""
    head, _, _ = path.rpartition("/")
    return head or "."


class Spool:
    """Records on disk, one JSON line each, read back in scan order (bounded memory)."""

    def __init__(self) -> None:
        self._file: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115

    def add(self, record: FileRecord) -> None:
        self._file.write(json.dumps(record.to_json(), separators=(",", ":")) + "\n")

    def __iter__(self) -> Iterator[FileRecord]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield FileRecord.from_json(json.loads(line))
        self._file.seek(0, 2)

    def close(self) -> None:
        self._file.close()
