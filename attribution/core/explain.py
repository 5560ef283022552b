"""Explain a match: every copy that holds it, in order, each with its own lines, license,
authors and copyright, shaped as SPEC's match object.

Order of copies, most authoritative first: not under a vendored directory; in the query's
language (a .ts file before the .js compiled from it); the original module before bundles,
dist output, compiled, minified and generated copies; an upstream repository before a
distribution's repackaging of it (debian/..., ...); the copy sharing most of the query's
lines, comments included; a known license; a shallow path.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from attribution.core.matchtype import classify
from attribution.core.paths import vendored_dir

if TYPE_CHECKING:
    from attribution.core.search import Found, Source
    from attribution.core.tokenize import TokenStream

MAX_ORIGINS = 20  # origins listed per match by default; `copies` counts them all
COPY_KINDS = ("module", "bundle", "dist", "compiled", "minified", "generated")
# Registries that repackage other projects' code (an upstream copy ranks first).
DISTRIBUTIONS = frozenset(
    {"debian", "ubuntu", "fedora", "alpine", "conda-forge", "homebrew", "nixpkgs", "archlinux"}
)
_MINIFIED = re.compile(r"[.-]min\.(?:js|mjs|cjs|css)$|\.min\.")
_GENERATED = re.compile(r"(?:_pb2(?:_grpc)?\.py|\.pb\.(?:go|cc|h)|[._-]generated\.\w+|_gen\.go)$")
_BUNDLE = re.compile(r"bundle|\.umd\.|\.(?:esm|cjs)\.js$")
_DIST_DIRS = frozenset({"dist", "build", "out", "release", "umd", "bundles", "_build"})
_COMPILED_DIRS = frozenset({"cjs", "esm", "es", "es5", "es6", "es2015", "commonjs", "compiled"})


def copy_kind(path: str) -> str:
    """What a file is, by its path: one of COPY_KINDS."""
    lowered = path.lower()
    name = lowered.rsplit("/", 1)[-1]
    dirs = set(lowered.split("/")[:-1])
    if _GENERATED.search(name) or "generated" in dirs:
        return "generated"
    if _MINIFIED.search(name):
        return "minified"
    if _BUNDLE.search(name):
        return "bundle"
    if dirs & _DIST_DIRS:
        return "dist"
    if dirs & _COMPILED_DIRS:
        return "compiled"
    return "module"


def is_repackaging(repo_name: str) -> bool:
    """Whether a repository is a distribution's package of someone else's project."""
    return repo_name.split("/", 1)[0].lower() in DISTRIBUTIONS


def authority(source: Source) -> tuple[int, int, int, int, int, str, str]:
    """Sort key of copies that hold the same content, most authoritative first."""
    return (
        int(vendored_dir(source.path) is not None),
        COPY_KINDS.index(copy_kind(source.path)),
        int(is_repackaging(source.repo_name)),
        int(source.license == "NOASSERTION"),
        source.path.count("/"),
        source.repo_name,
        source.path,
    )


def closest_first(
    sources: Iterable[Source], other_language: Callable[[Source], bool], shared: dict[str, int]
) -> list[Source]:
    """Copies of different contents with the same matched tokens (other comments, layout,
    a compiled sibling): the query's language first, then authority, and among otherwise
    equal copies the one sharing most of the query's lines."""

    def key(src: Source) -> tuple[Any, ...]:
        vendored, kind, repack, *rest = authority(src)
        near = -shared.get(src.blob_id, 0)
        return (vendored, int(other_language(src)), kind, repack, near, *rest)

    return sorted(sources, key=key)


def license_counts(sources: Iterable[Source]) -> dict[str, int]:
    """How many copies are under each license, most first."""
    return dict(Counter(s.license for s in sources).most_common())


def explain(
    f: Found, query: TokenStream, offset: int = 0, limit: int | None = MAX_ORIGINS
) -> dict[str, Any]:
    """The SPEC match object of a judged match: the first copy as `source`, the others
    as `origins[offset : offset + limit]` (limit None: all), each with its own lines."""
    primary, *others = f.sources
    by_blob = {m.sources[0].blob_id: m for m in f.members if m.sources} or {primary.blob_id: f}
    own = by_blob.get(primary.blob_id, f)
    j = own.judgement
    first, last = j.spans[0].span, j.spans[-1].span
    page = others[offset:] if limit is None else others[offset : offset + limit]
    return {
        "source": primary.to_json(),
        "match_type": classify(query, own.source_tokens, [v.span for v in j.spans]),
        "query_lines": [int(query.line[first.qa]), int(query.end_line[last.qb - 1])],
        "source_lines": _source_lines(own),
        "spans": _spans(own, query),
        "tokens": j.tokens,
        "coverage": round(j.coverage, 4),
        "score": round(j.score, 4),
        "copies": len(f.sources),
        "licenses": license_counts(f.sources),
        "origins": [origin(s, by_blob.get(s.blob_id, own), query) for s in page],
        "origins_offset": offset,
    }


def origin(source: Source, member: Found, query: TokenStream) -> dict[str, Any]:
    """One more copy: where it is, under what license, whose, and its own lines."""
    return {
        **summary(source),
        "source_lines": _source_lines(member),
        "spans": _spans(member, query),
    }


def summary(source: Source) -> dict[str, Any]:
    """A copy's identity, license and authors (obligations stay with the first copy)."""
    data = source.to_json()
    data.pop("obligations", None)
    data["kind"] = copy_kind(source.path)
    return data


def _lines(stream: TokenStream, a: int, b: int) -> list[int]:
    return [int(stream.line[a]), int(stream.end_line[b - 1])]


def _source_lines(member: Found) -> list[int]:
    spans, s = member.judgement.spans, member.source_tokens
    return [int(s.line[spans[0].span.sa]), int(s.end_line[spans[-1].span.sb - 1])]


def _spans(member: Found, query: TokenStream) -> list[dict[str, Any]]:
    s = member.source_tokens
    return [
        {
            "query_lines": _lines(query, v.span.qa, v.span.qb),
            "source_lines": _lines(s, v.span.sa, v.span.sb),
            "tokens": len(v.span),
            "match_type": "exact" if v.is_exact else "renamed",
        }
        for v in member.judgement.spans
    ]


def copies_text(match: dict[str, Any]) -> str:
    """`14 copies`, or `4 copies under 2 licenses` when the copies disagree."""
    n = int(match.get("copies", 1))
    text = f"{n:,} cop{'y' if n == 1 else 'ies'}"
    licenses = match.get("licenses") or {}
    if len(licenses) > 1:
        text += f" under {len(licenses)} licenses"
    return text
