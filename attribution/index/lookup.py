"""What of someone's code an index holds, and where else the same content sits.

One implementation for `attribution lookup`, `GET /v1/lookup`, `index remove` and
`POST /v1/optout` (index/maintain.py), so what a look-up finds is exactly what an
opt-out with the same rule removes:

- `repo`: a repository by its name (case-insensitive);
- `author`: a name or an e-mail address, casefolded, as stored in the `people` table;
- `blob`: a content by its git blob SHA-1;
- `path`: the caller's own files, read from disk and looked up by their blob ids (and,
  for `lookup --path`, by fingerprints: copies that were edited are found too).

Copies (`copies`): the live sources elsewhere holding the same content as a source,
either the identical blob (a vendored copy) or the same exact-view token stream (the
same code with other whitespace, comments or layout). Content shorter than
`Config.min_tokens` tokens (an empty `__init__.py`, a one-line stub) is never followed:
it is everybody's. Answers hold counts, repositories and a few paths; never an author
name or e-mail address other than the one asked about.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from attribution.core.fingerprint import fingerprints
from attribution.core.languages import STRING, language_for_path
from attribution.core.printable import printable_all
from attribution.core.search import QueryError, attribute
from attribution.index import codec
from attribution.index.ingest import IngestLimits, SourceFile, read_sources
from attribution.index.ingest.sources import file_reader
from attribution.index.store import Index

KINDS = ("repo", "author", "blob", "path")
MAX_REPOS = 1000  # repositories listed in an answer
MAX_PATHS = 10  # example paths in an answer
MAX_FILE_MATCHES = 200  # files listed in a `lookup --path` answer
_CHUNK = 500  # values per `IN (...)` query (SQLite allows 999 parameters)

_BASE = """
SELECT s.sid, s.blob_local, b.blob_id, r.name, r.url, s.path, s.license, b.tokens
FROM sources s JOIN repos r ON r.repo_id = s.repo_id JOIN blobs b ON b.local = s.blob_local
"""
_WHERE = {
    "repo": " WHERE r.name = ? COLLATE NOCASE",
    "author": " WHERE s.sid IN (SELECT sid FROM people WHERE value = ?)",
    "blob": " WHERE b.blob_id = ?",
}


class RuleError(ValueError):
    """A look-up or removal rule that cannot be used (the rule is named)."""


@dataclass(frozen=True)
class Hit:
    """One live source found by a rule: where it is and what content it holds."""

    segment: int
    sid: int
    blob_local: int
    blob_id: str
    repo: str
    url: str | None
    path: str
    license: str
    tokens: int


@dataclass(frozen=True)
class OwnFile:
    """A file of the caller's own code, read from disk."""

    name: str
    data: bytes
    language: str | None
    blob_id: str


def normalize(kind: str, value: str) -> str:
    """The value as rules compare it; refuses unknown kinds and blank values."""
    if kind not in KINDS:
        raise RuleError(f"unknown rule {kind!r}; known: {', '.join(KINDS)}")
    value = value.strip()
    if not value:
        raise RuleError(f"empty {kind} rule")
    if kind == "author":
        return value.casefold()
    if kind == "blob":
        value = value.lower().removeprefix("swh:1:cnt:")
        if len(value) != 40 or any(c not in "0123456789abcdef" for c in value):
            raise RuleError(f"bad blob id {value!r}: expected 40 hex digits (git SHA-1)")
    return value


def _rows(index: Index, sql: str, params: tuple[Any, ...]) -> Iterator[Hit]:
    for i, seg in enumerate(index.segments):
        for sid, local, blob_id, repo, url, path, lic, tokens in seg.db.execute(sql, params):
            if not index.is_deleted(sid):
                yield Hit(i, sid, local, blob_id, repo, url, path, lic, tokens)


def find(index: Index, kind: str, value: str) -> list[Hit]:
    """Live sources matching one rule (`path` rules read the caller's files)."""
    if kind == "path":
        return by_blobs(index, [f.blob_id for f in own_files(value)])
    return list(_rows(index, _BASE + _WHERE[kind], (normalize(kind, value),)))


def by_blobs(index: Index, blob_ids: Iterable[str]) -> list[Hit]:
    """Live sources holding any of these contents, in every segment."""
    ids = sorted(set(blob_ids))
    out: list[Hit] = []
    for a in range(0, len(ids), _CHUNK):
        part = ids[a : a + _CHUNK]
        sql = _BASE + f" WHERE b.blob_id IN ({','.join('?' * len(part))})"
        out += _rows(index, sql, tuple(part))
    return out


# --- copies: the same content elsewhere -----------------------------------------------
def copies(index: Index, hits: Iterable[Hit], *, near: bool = True) -> tuple[list[Hit], set[str]]:
    """Live sources holding the content of `hits` (identical blobs, and with `near` the
    same exact-view token stream), minus the hits themselves; and the blob ids that
    were near (not identical) copies. Content under `min_tokens` tokens is not followed."""
    hits = list(hits)
    own = {h.sid for h in hits}
    followed = {h.blob_id: h for h in hits if h.tokens >= index.config.min_tokens}
    found = [h for h in by_blobs(index, followed) if h.sid not in own]
    near_ids: set[str] = set()
    if near:
        for h in followed.values():
            same = same_tokens(index, h.segment, h.blob_local)
            same |= same_formatted(index, h.segment, h.blob_local)
            near_ids |= same - set(followed)
        found += [h for h in by_blobs(index, near_ids) if h.sid not in own]
    unique = {h.sid: h for h in found}
    return list(unique.values()), near_ids


def same_tokens(index: Index, segment: int, local: int) -> set[str]:
    """Blob ids (in any segment) whose exact-view token stream equals this blob's.

    Cheap candidates, exact verification: a blob with the same tokens holds every
    winnowed fingerprint of this one, so the blobs holding its rarest fingerprint are
    the candidates; those with as many tokens are decoded and compared."""
    mine = index.segments[segment].tokens(local).text_hash
    cfg = index.config
    hashes = np.unique(fingerprints(mine, cfg.k, cfg.window)[0])
    if hashes.size == 0:
        return set()
    out: set[str] = set()
    for i, other in enumerate(index.segments):
        table = other.fp_hash["exact"]
        lo = np.searchsorted(table, hashes, side="left")
        hi = np.searchsorted(table, hashes, side="right")
        rarest = int(np.argmin(hi - lo))
        if hi[rarest] == lo[rarest]:
            continue  # a fingerprint no blob of this segment has
        candidates = np.asarray(other.fp_blob["exact"][lo[rarest] : hi[rarest]], dtype=np.int64)
        for c in candidates.tolist():
            if (i, c) == (segment, local) or index.dead[i][c]:
                continue
            row = other.db.execute("SELECT blob_id, tokens FROM blobs WHERE local = ?", (c,))
            blob_id, tokens = row.fetchone()
            if tokens == mine.size and np.array_equal(other.tokens(c).text_hash, mine):
                out.add(blob_id)
    return out


def same_formatted(index: Index, segment: int, local: int) -> set[str]:
    """Blob ids (in any segment) of the same code run through a formatter: token streams
    equal once string quoting ('x' or "x") is normalised and trailing separators (a
    comma before a closing bracket, a semicolon ending a line) are dropped.

    Candidates are the blobs of about as many tokens holding a fifth or more of this
    blob's abstracted-view fingerprints that are not boilerplate (quoting does not
    change that view; a semicolon dropped at every line end changes most k-grams: 40%
    of them are left in the tests' JavaScript); each is then compared exactly on its
    normalised stream."""
    seg = index.segments[segment]
    mine = seg.tokens(local)
    cfg = index.config
    hashes = np.unique(fingerprints(mine.abstract, cfg.k, cfg.window)[0])
    if hashes.size == 0:
        return set()
    wanted: list[int] | None = None
    out: set[str] = set()
    for i, other in enumerate(index.segments):
        for c in _formatted_candidates(other, hashes, len(mine), cfg.max_df):
            if (i, c) == (segment, local) or index.dead[i][c]:
                continue
            if wanted is None:
                wanted = formatted_stream(seg, local)
            if formatted_stream(other, c) == wanted:
                row = other.db.execute("SELECT blob_id FROM blobs WHERE local = ?", (c,))
                out.add(row.fetchone()[0])
    return out


def _formatted_candidates(seg: Any, hashes: np.ndarray, tokens: int, max_df: int) -> list[int]:
    qidx, blobs, counts = seg.lookup("abstract", hashes)
    useful = counts[qidx] <= max_df
    if not useful.any():
        return []
    pairs = np.unique((blobs[useful] << 32) | qidx[useful])  # (blob, fingerprint) once
    held = np.bincount((pairs >> 32).astype(np.int64))
    need = max(1, int((counts <= max_df).sum()) // 5)
    found = np.flatnonzero(held >= need).tolist()
    sizes = dict(seg.db.execute("SELECT local, tokens FROM blobs").fetchall()) if found else {}
    return [c for c in found if abs(sizes.get(c, 0) - tokens) <= max(8, tokens // 10)]


_QUOTES = b"'\"`"
_CLOSERS = (b")", b"]", b"}")


def formatted_stream(seg: Any, local: int) -> list[Any]:
    """A blob's tokens as a formatter leaves them alike: strings by their unquoted text,
    trailing commas and line-ending semicolons dropped, every other token by its hash."""
    stream = seg.tokens(local)
    data = seg.content(local)
    texts = [data[a:b] for a, b in zip(stream.start.tolist(), stream.end.tolist(), strict=True)]
    kinds, lines = stream.kind.tolist(), stream.line.tolist()
    hashes = stream.text_hash.tolist()
    out: list[Any] = []
    for j, text in enumerate(texts):
        nxt = texts[j + 1] if j + 1 < len(texts) else None
        if text == b"," and nxt in _CLOSERS:
            continue
        if text == b";" and (nxt is None or nxt == b"}" or lines[j + 1] > lines[j]):
            continue
        out.append(_unquoted(text) if kinds[j] == STRING else hashes[j])
    return out


def _unquoted(text: bytes) -> bytes:
    """A string literal's text without its prefix letters and its quotes."""
    body = text.lstrip(b"rRbBuUfF")
    quote = body[:3] if body[:3] in (b'"""', b"'''") else body[:1]
    if quote and quote[:1] in _QUOTES and body.endswith(quote) and len(body) >= 2 * len(quote):
        return b"s:" + body[len(quote) : len(body) - len(quote)]
    return b"s:" + text


# --- the caller's own files -----------------------------------------------------------
def own_files(path: str | Path, limits: IngestLimits | None = None) -> list[OwnFile]:
    """The source files under a path (or the one file it names), as a build reads them."""
    spec = str(path)
    p = Path(spec)
    if p.is_file() and file_reader(spec) is None:
        data = p.read_bytes()
        return [OwnFile(p.name, data, language_for_path(p.name), codec.blob_id(data))]
    if not p.exists():
        raise RuleError(f"no such file or directory: {spec}")
    return [
        OwnFile(f"{item.repo.name}/{item.path}", item.data, item.language, codec.blob_id(item.data))
        for item in read_sources(spec, limits or IngestLimits())
        if isinstance(item, SourceFile)
    ]


# --- answers ----------------------------------------------------------------------------
def summary(hits: list[Hit]) -> dict[str, Any]:
    """Counts, repositories (most sources first), licenses and a few paths of hits."""
    repos: Counter[str] = Counter(h.repo for h in hits)
    urls = {h.repo: h.url for h in hits}
    listed = sorted(repos.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_REPOS]
    by_repo: dict[str, list[str]] = {}
    for h in sorted(hits, key=lambda h: (h.path.count("/"), h.path)):  # shallow first
        by_repo.setdefault(h.repo, []).append(h.path)
    rounds = itertools.zip_longest(*(by_repo[name] for name, _ in listed))  # a few of each
    paths = [(name, p) for row in rounds for (name, _), p in zip(listed, row, strict=True) if p]
    paths = paths[:MAX_PATHS]
    return {
        "indexed": bool(hits),
        "sources": len({h.sid for h in hits}),
        "blobs": len({h.blob_id for h in hits}),
        "repo_count": len(repos),
        "repos": [{"name": n, "url": urls[n], "sources": c} for n, c in listed],
        "licenses": dict(Counter(h.license for h in hits).most_common()),
        "paths": [{"repo_name": r, "path": p} for r, p in paths],
    }


def lookup(index: Index, kind: str, value: str) -> dict[str, Any]:
    """What of a repository's, an author's or a content's code is indexed (live sources)."""
    if kind == "path":
        return lookup_path(index, value)
    return {"query": {kind: value}, **summary(find(index, kind, value))}


def lookup_path(index: Index, path: str | Path) -> dict[str, Any]:
    """Which indexed sources contain the caller's files: by blob id (identical), else by
    fingerprints (an exact, renamed or near copy of part of the file)."""
    files = own_files(path)
    all_hits: list[Hit] = []
    matches: list[dict[str, Any]] = []
    for f in files:
        found = _file_matches(index, f)
        if found is None:
            continue
        hits, how, coverage = found
        all_hits += hits
        matches.append(
            {
                "file": f.name,
                "how": how,
                "coverage": coverage,
                "sources": len(hits),
                "repos": sorted({h.repo for h in hits})[:5],
                "paths": [{"repo_name": h.repo, "path": h.path} for h in hits[:3]],
            }
        )
    unique = list({h.sid: h for h in all_hits}.values())
    return {
        "query": {"path": str(path)},
        "files": len(files),
        "found": len(matches),
        **summary(unique),
        "matches": matches[:MAX_FILE_MATCHES],
    }


def _file_matches(index: Index, f: OwnFile) -> tuple[list[Hit], str, float] | None:
    """(sources holding the file or part of it, how it was found, coverage), or None."""
    hits = by_blobs(index, [f.blob_id])
    if hits:
        return hits, "identical", 1.0
    try:
        result = attribute(f.data, index, language=f.language, filename=f.name)
    except QueryError:
        return None  # empty, binary, too large or of an unknown language: not code we index
    if not result["matches"]:
        return None
    best = result["matches"][0]
    hits = by_blobs(index, {m["source"]["blob_id"] for m in result["matches"]})
    return hits, str(best["match_type"]), float(best["coverage"])


# --- text for people ----------------------------------------------------------------------
def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def render_lookup(answer: dict[str, Any]) -> str:
    """A look-up answer as text: the verdict first, then repositories, licenses, paths."""
    answer = printable_all(answer)  # names and paths come from indexed metadata
    ((kind, value),) = answer["query"].items()
    what = f"{kind} {value!r}"
    if not answer["indexed"]:
        scanned = f" ({_n(answer['files'], 'file')} read)" if "files" in answer else ""
        return f"{what}{scanned}: not in this index\n"
    lines = [
        f"{what}: {_n(answer['sources'], 'source')} in "
        f"{_n(answer['repo_count'], 'repository', 'repositories')} "
        f"({_n(answer['blobs'], 'distinct file')})"
    ]
    if "files" in answer:
        lines[0] += f"; {answer['found']:,} of your {_n(answer['files'], 'file')} found"
        for m in answer["matches"]:
            how = m["how"] if m["how"] == "identical" else f"{m['how']}, {m['coverage']:.0%}"
            lines.append(f"  {m['file']}  ({how}) in {_n(m['sources'], 'source')}: "
                         + ", ".join(m["repos"]))  # fmt: skip
    lines.append("  licenses: " + ", ".join(f"{k} {v:,}" for k, v in answer["licenses"].items()))
    lines.append("  repositories:")
    lines += [f"    {r['name']}  {_n(r['sources'], 'source')}" for r in answer["repos"][:20]]
    if answer["repo_count"] > 20:
        lines.append(f"    … and {answer['repo_count'] - 20:,} more")
    lines.append("  for example:")
    lines += [f"    {p['repo_name']}  {p['path']}" for p in answer["paths"]]
    return "\n".join(lines) + "\n"
