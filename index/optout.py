"""Opt-out rules honoured by every build: repositories, authors and blobs to leave out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from index.segment import SourceRecord

KINDS = ("repo", "author", "blob")


class OptOutError(ValueError):
    """A malformed opt-out list (the line is named)."""


@dataclass(frozen=True)
class OptOut:
    """Rules read from an opt-out list: `repo: NAME`, `author: NAME-OR-EMAIL`, `blob: SHA1`."""

    repos: frozenset[str] = field(default_factory=frozenset)
    authors: frozenset[str] = field(default_factory=frozenset)
    blobs: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, text: str, origin: str = "opt-out list") -> OptOut:
        rules: dict[str, set[str]] = {k: set() for k in KINDS}
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            kind, sep, value = line.partition(":")
            kind, value = kind.strip().lower(), value.strip()
            if not sep or kind not in KINDS or not value:
                raise OptOutError(
                    f"{origin}:{number}: expected 'repo: NAME', 'author: NAME' or 'blob: SHA1', "
                    f"got {raw.strip()!r}"
                )
            rules[kind].add(value.casefold() if kind != "repo" else value)
        return cls(frozenset(rules["repo"]), frozenset(rules["author"]), frozenset(rules["blob"]))

    @classmethod
    def load(cls, path: str | Path) -> OptOut:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            raise OptOutError(f"cannot read opt-out list {path}: {err.strerror}") from err
        return cls.parse(text, str(path))

    def __bool__(self) -> bool:
        return bool(self.repos or self.authors or self.blobs)

    def excludes(self, src: SourceRecord) -> bool:
        if src.repo_name in self.repos or src.blob_id in self.blobs:
            return True
        if not self.authors:
            return False
        people = {a.casefold() for a in src.authors} | {e.casefold() for e in src.emails}
        return bool(people & self.authors)
