"""Opt-out rules honoured by every build: repositories, authors, contents and paths of
people's own code to leave out.

An opt-out list holds one rule per line (`#` starts a comment line):

    repo: NAME            a repository or package, by name (case-insensitive)
    author: NAME          an author, by name or e-mail address (case-insensitive)
    blob: SHA1            a content, by its git blob SHA-1 (or `swh:1:cnt:SHA1`)
    path: DIR-OR-FILE     one's own code: every file with the same content is left out

A relative path is relative to the list's own directory. At build, a file is left out
when its repository, one of its authors or e-mails, or its content matches a rule; the
build cannot know yet which files elsewhere hold the same content, so the list keeps the
contents it left out and `index.maintain.enforce(root, opt_out)` removes their copies
after the build. On an existing index, `attribution index remove --opt-out FILE` applies
the same rules as a removal that follows content (index/maintain.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from attribution.index.segment import SourceRecord

KINDS = ("repo", "author", "blob", "path")
_HEX = frozenset("0123456789abcdef")


class OptOutError(ValueError):
    """A malformed opt-out list (the line is named)."""


def _value(kind: str, value: str) -> str:
    """A rule's value as compared; ValueError for a bad blob id."""
    if kind == "author":
        return value.casefold()
    if kind == "repo":
        return value.casefold()
    if kind == "blob":
        value = value.lower().removeprefix("swh:1:cnt:")
        if len(value) != 40 or not set(value) <= _HEX:
            raise ValueError("a blob id is 40 hex digits (git SHA-1)")
    return value


@dataclass(frozen=True)
class OptOut:
    """Rules read from an opt-out list. `path_blobs` are the contents found under `paths`."""

    repos: frozenset[str] = field(default_factory=frozenset)
    authors: frozenset[str] = field(default_factory=frozenset)
    blobs: frozenset[str] = field(default_factory=frozenset)
    paths: frozenset[str] = field(default_factory=frozenset)
    path_blobs: frozenset[str] = field(default_factory=frozenset)
    # removals kept with an index (index/kept.py): contents removed with their copies,
    # and sources removed alone (by source id)
    kept_blobs: frozenset[str] = field(default_factory=frozenset)
    kept_sources: frozenset[int] = field(default_factory=frozenset)
    # contents of the files a build left out for a rule (learnt by `excludes`), so the
    # copies of them that the build did index can be removed after it (maintain.enforce)
    excluded: set[str] = field(default_factory=set, compare=False, repr=False)

    @classmethod
    def parse(
        cls, text: str, origin: str = "opt-out list", base: str | Path | None = None
    ) -> OptOut:
        """Rules from the text of a list; `path:` rules are read from disk (relative to
        `base`, else the working directory)."""
        rules: dict[str, set[str]] = {k: set() for k in KINDS}
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            kind, sep, value = line.partition(":")
            kind, value = kind.strip().lower(), value.strip()
            where = f"{origin}:{number}"
            if not sep or kind not in KINDS or not value:
                raise OptOutError(
                    f"{where}: expected 'repo: NAME', 'author: NAME', 'blob: SHA1' or "
                    f"'path: DIR', got {raw.strip()!r}"
                )
            try:
                rules[kind].add(_value(kind, value))
            except ValueError as err:
                raise OptOutError(f"{where}: {err}, got {value!r}") from None
        paths = {str(Path(base or ".", p).resolve()) for p in rules["path"]}
        return cls(
            frozenset(rules["repo"]),
            frozenset(rules["author"]),
            frozenset(rules["blob"]),
            frozenset(paths),
            frozenset(_blobs_under(paths, origin)),
        )

    @classmethod
    def load(cls, path: str | Path) -> OptOut:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            raise OptOutError(f"cannot read opt-out list {path}: {err.strerror}") from err
        return cls.parse(text, str(path), base=Path(path).resolve().parent)

    def __bool__(self) -> bool:
        kept = self.kept_blobs or self.kept_sources
        return bool(self.repos or self.authors or self.blobs or self.paths or kept)

    def merged(self, other: OptOut) -> OptOut:
        """Both lists' rules; the contents left out are learnt into this list's own
        `excluded` set (shared), so its caller can follow their copies after a build."""
        self.excluded.update(other.excluded)
        return OptOut(
            self.repos | other.repos,
            self.authors | other.authors,
            self.blobs | other.blobs,
            self.paths | other.paths,
            self.path_blobs | other.path_blobs,
            self.kept_blobs | other.kept_blobs,
            self.kept_sources | other.kept_sources,
            self.excluded,
        )

    def excludes(self, src: SourceRecord) -> bool:
        """True when a file must be left out of a build (its content is remembered)."""
        if src.blob_id in self.blobs or src.blob_id in self.path_blobs:
            return True
        if src.key in self.kept_sources:
            return True
        if src.blob_id in self.kept_blobs:
            self.excluded.add(src.blob_id)  # its copies elsewhere go too, as they went before
            return True
        people = {a.casefold() for a in src.authors} | {e.casefold() for e in src.emails}
        if not (people & self.authors or src.repo_name.casefold() in self.repos):
            return False
        if not _vendored(src.path):  # a vendored file is someone else's: not followed
            self.excluded.add(src.blob_id)
        return True

    def rules(self) -> list[tuple[str, str]]:
        """The rules as (kind, value) removals (index.maintain.remove)."""
        out = [("repo", r) for r in sorted(self.repos)]
        out += [("author", a) for a in sorted(self.authors)]
        out += [("blob", b) for b in sorted(self.blobs)]
        return out + [("path", p) for p in sorted(self.paths)]


def _vendored(path: str) -> bool:
    from attribution.core.search import Source, authority

    return authority(Source(id="", repo_name="", path=path, blob_id=""))[0] == 1


def _blobs_under(paths: set[str], origin: str) -> set[str]:
    """Blob ids of the source files under each path."""
    from attribution.index.lookup import RuleError, own_files  # index.lookup imports the store

    out: set[str] = set()
    for p in sorted(paths):
        try:
            out |= {f.blob_id for f in own_files(p)}
        except (RuleError, OSError) as err:
            raise OptOutError(f"{origin}: path {p}: {err}") from None
    return out
