"""`GET /v1/lookup` and `POST /v1/optout` over index/lookup.py and index/maintain.py.

A look-up matches exactly as an opt-out does (one implementation, in index/), so what it
finds is what an opt-out with the same value removes. Answers hold counts, repositories,
licenses and a few paths, never names or e-mail addresses other than the one asked for.
Rules by path (the caller's own files) exist only on the command line: a service never
reads its own disk for a request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attribution.index.lookup import RuleError
from attribution.index.lookup import lookup as index_lookup
from attribution.index.maintain import remove
from attribution.index.store import Index
from attribution.web.errors import ApiError


def lookup(index: Index, repo: str | None, author: str | None) -> dict[str, Any]:
    """Counts, repositories, licenses and a few paths of the live sources of one rule."""
    if (repo is None) == (author is None):
        raise ApiError(422, "unprocessable", "give exactly one of ?repo= and ?author=")
    kind, value = ("repo", repo) if repo is not None else ("author", author)
    assert value is not None
    try:
        return index_lookup(index, kind, value)
    except RuleError as err:
        raise ApiError(422, "unprocessable", str(err)) from None


def opt_out(root: Path, repo: str | None, author: str | None, follow: bool) -> dict[str, Any]:
    """Remove a repository's and/or an author's sources, and with `follow` the copies of
    their content elsewhere; what went, rule by rule."""
    rules = [("repo", repo)] if repo else []
    rules += [("author", author)] if author else []
    if not rules:
        raise ApiError(422, "unprocessable", "give a repo, an author, or both")
    try:
        removed = remove(root, [(k, v) for k, v in rules if v], follow=follow)
    except RuleError as err:
        raise ApiError(422, "unprocessable", str(err)) from None
    return {
        "removed": [r.to_json() for r in removed],
        "sources": sum(r.sources for r in removed),
        "copies": sum(r.copies for r in removed),
        "follow": follow,
    }
