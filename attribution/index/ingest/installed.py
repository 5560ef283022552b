"""The embedded default: every distribution installed in the running interpreter.

Each distribution is `pypi/<normalised name>`; its files come from RECORD. Skipped
paths are file system paths; Skipped.source is the distribution's site directory.
"""

from __future__ import annotations

import importlib.metadata as im
import os
from collections.abc import Collection, Iterator

from .directory import open_regular
from .examine import Context, HeaderVote, PrefixReader, examine, one_line
from .filters import ignored_dir, is_metadata_file, vendored_dir
from .metadata import core_metadata_url, decode_text
from .naming import normalize_dist_name
from .records import DEFAULT_LIMITS, METADATA_CAP, IngestLimits, Repository, Skipped, SourceFile

_INFO_SUFFIXES = (".dist-info", ".egg-info")


def read_installed(
    limits: IngestLimits = DEFAULT_LIMITS,
    *,
    exclude: Collection[str] = ("attribution",),
    only: Collection[str] | None = None,
) -> Iterator[SourceFile | Skipped]:
    """Yield the files of every installed distribution (first of a name wins), or of the
    distributions named in `only`."""
    seen = {normalize_dist_name(name) for name in exclude}
    wanted = {normalize_dist_name(name) for name in only} if only is not None else None
    for dist in im.distributions():
        name = _dist_name(dist)
        if not name:
            continue  # a broken leftover .dist-info without a name
        key = normalize_dist_name(name)
        if key in seen or (wanted is not None and key not in wanted):
            continue
        seen.add(key)
        yield from read_distribution(dist, limits)


def _dist_name(dist: im.Distribution) -> str | None:
    try:
        return dist.metadata["Name"]
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def read_distribution(
    dist: im.Distribution, limits: IngestLimits
) -> Iterator[SourceFile | Skipped]:
    """Yield the files of one installed distribution as one repository."""
    name = normalize_dist_name(_dist_name(dist) or "unknown")
    site = os.path.join(str(dist.locate_file("")), "")
    ctx = Context(site, limits)
    files = dist.files
    if files is None:
        yield ctx.skip(site, "unreadable", f"{name}: no RECORD, its files are unknown")
        return
    metadata = _metadata(dist, [str(f) for f in files])
    votes = HeaderVote()
    for record in files:
        votes.add(str(record))
    ctx.header_language = votes.language
    repo = Repository(f"pypi/{name}", core_metadata_url(metadata.get("METADATA", "")), metadata)
    for record in files:
        rel = str(record)
        if not _is_package_file(rel):
            continue
        if vendored_dir(rel):
            skipped = ctx.vendored(rel, site)
            if skipped is not None:
                yield skipped
        elif not is_metadata_file(rel):
            yield _read(ctx, repo, rel, os.path.realpath(str(dist.locate_file(record))))


def _is_package_file(rel: str) -> bool:
    """False for files outside site-packages, in .dist-info, or in caches."""
    if rel.startswith(("/", "../")) or ":" in rel.split("/", 1)[0]:
        return False
    return not rel.split("/", 1)[0].endswith(_INFO_SUFFIXES) and not ignored_dir(rel)


def _metadata(dist: im.Distribution, records: list[str]) -> dict[str, str]:
    metadata: dict[str, str] = {}
    try:
        text = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    except (OSError, ValueError):
        text = None
    if text is not None:
        metadata["METADATA"] = text[:METADATA_CAP]
    for rel in records:
        top, _, inner = rel.partition("/")
        if top.endswith(_INFO_SUFFIXES):
            wanted = inner.startswith("licenses/") or (
                inner not in ("METADATA", "PKG-INFO") and is_metadata_file(inner)
            )
        else:
            wanted = _is_package_file(rel) and is_metadata_file(rel) and not vendored_dir(rel)
        if wanted:
            license_text = _read_text(os.path.realpath(str(dist.locate_file(rel))))
            if license_text is not None:
                metadata[rel] = license_text
    return metadata


def _read_text(path: str) -> str | None:
    try:
        with open_regular(path) as f:
            return decode_text(f.read(METADATA_CAP + 1))
    except OSError:
        return None


def _read(ctx: Context, repo: Repository, rel: str, where: str) -> SourceFile | Skipped:
    try:
        stream = open_regular(where)
    except OSError as e:
        return ctx.skip(where, "unreadable", f"installed file missing or unreadable: {one_line(e)}")
    with stream:
        return examine(ctx, repo, rel, where, None, PrefixReader(stream))
