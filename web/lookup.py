"""`GET /v1/lookup`: what of a repository's or an author's code is indexed (live sources).

It matches exactly as an opt-out does (index.maintain: a repository by its name, an
author by the casefolded name or e-mail in the `people` table), so what a lookup finds
is what an opt-out with the same value removes. The answer holds counts, repositories
and licenses, never names or e-mail addresses other than the one asked for.
(This reads the segments' SQLite directly; it belongs in index/ next to maintain.py.)
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from index.store import Index

MAX_REPOS = 1000

_BASE = """
SELECT s.sid, b.blob_id, r.name, r.url, s.license
FROM sources s JOIN repos r ON r.repo_id = s.repo_id JOIN blobs b ON b.local = s.blob_local
"""
_BY = {
    "repo": _BASE + " WHERE r.name = ?",
    "author": _BASE + " WHERE s.sid IN (SELECT sid FROM people WHERE value = ?)",
}


def lookup(index: Index, kind: str, value: str) -> dict[str, Any]:
    """Counts, repositories and licenses of the live sources matching one rule."""
    if kind not in _BY:
        raise ValueError(f"unknown lookup {kind!r}; known: {', '.join(_BY)}")
    key = value.casefold() if kind == "author" else value
    repos: Counter[str] = Counter()
    urls: dict[str, str | None] = {}
    licenses: Counter[str] = Counter()
    blobs: set[str] = set()
    for seg in index.segments:
        for sid, blob_id, repo, url, lic in seg.db.execute(_BY[kind], (key,)):
            if index.is_deleted(sid):
                continue
            repos[repo] += 1
            urls.setdefault(repo, url)
            licenses[lic] += 1
            blobs.add(blob_id)
    listed = sorted(repos.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_REPOS]
    return {
        "query": {kind: value},
        "indexed": bool(repos),
        "sources": sum(repos.values()),
        "blobs": len(blobs),
        "repo_count": len(repos),
        "repos": [{"name": n, "url": urls[n], "sources": c} for n, c in listed],
        "licenses": dict(licenses.most_common()),
    }
