"""Opt-outs kept with the index (INDEX/optouts.jsonl), so no build brings removed code back.

Every removal appends one line per rule before it takes effect: the rule, whether it
followed copies, the blob ids of the content it removed wherever it was (copies
included) and, for sources removed alone (no-follow, or a repository's vendored files),
their source ids. Ids only, never code. `index build` into the same directory and
`index add` leave all of it out again, and remove the copies of it they meet
(build.py). See FORMAT.md ("Opt-outs kept").
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from attribution.index.format import fsync_dir
from attribution.index.optout import OptOut

KEPT_FILE = "optouts.jsonl"


def record(root: Path, entries: list[dict[str, Any]]) -> None:
    """Append removals (rule, follow, blobs, sources) durably."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path = root / KEPT_FILE
    new = not path.exists()
    with open(path, "a", encoding="utf-8") as f:
        for e in entries:
            f.write(json.dumps({"time": now, **e}, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    if new:
        fsync_dir(root)


def read(root: Path) -> list[dict[str, Any]]:
    """The kept removals; a line cut short by a crash (the last one) is skipped."""
    path = root / KEPT_FILE
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out


def opt_out(root: Path) -> OptOut:
    """The kept removals as an opt-out list a build honours."""
    repos: set[str] = set()
    authors: set[str] = set()
    blobs: set[str] = set()
    sources: set[int] = set()
    for e in read(root):
        kind, _, value = str(e.get("rule", "")).partition(":")
        if e.get("follow") is False:
            kind = ""  # a removal of the named sources alone: those are kept by id
        if kind == "repo":
            repos.add(value.casefold())
        elif kind == "author":
            authors.add(value.casefold())
        blobs |= {b for b in e.get("blobs", ()) if isinstance(b, str)}
        sources |= {s for s in e.get("sources", ()) if isinstance(s, int)}
    return OptOut(
        repos=frozenset(repos),
        authors=frozenset(authors),
        kept_blobs=frozenset(blobs),
        kept_sources=frozenset(sources),
    )
