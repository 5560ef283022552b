"""What an index holds: counts, languages, licenses, skipped files and bytes on disk."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from attribution.index.format import FORMAT_VERSION
from attribution.index.store import Index

# Which files of a segment make up each part of the index on disk.
PARTS = {
    "fingerprints": (
        "fp_exact_hash.npy",
        "fp_exact_blob.npy",
        "fp_abstract_hash.npy",
        "fp_abstract_blob.npy",
    ),
    "sketches": ("sketch.npy", "sketch_blob.npy"),
    "names": ("names_hash.npy", "names_df.npy"),
    "metadata": ("meta.sqlite", "SEGMENT.json"),
    "tokens": ("tokens.bin", "tokens_off.npy"),
    "content": ("content.bin", "content_off.npy"),
}


def _disk(index: Index) -> dict[str, int]:
    sizes = dict.fromkeys(PARTS, 0)
    for seg in index.segments:
        for part, names in PARTS.items():
            sizes[part] += sum(
                (seg.path / n).stat().st_size for n in names if (seg.path / n).exists()
            )
    sizes["total"] = sum(sizes.values())
    return sizes


def _counts(index: Index) -> dict[str, Any]:
    languages: Counter[str] = Counter()
    licenses: Counter[str] = Counter()
    license_types: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    repos: set[str] = set()
    blobs: set[str] = set()
    sources = 0
    for seg in index.segments:
        sql = """SELECT s.sid, b.blob_id, b.language, s.license, s.license_type, r.name
                 FROM sources s JOIN blobs b ON b.local = s.blob_local
                 JOIN repos r ON r.repo_id = s.repo_id"""
        for sid, blob_id, language, lic, lic_type, repo in seg.db.execute(sql):
            if index.is_deleted(sid):
                continue
            sources += 1
            licenses[lic] += 1
            license_types[lic_type] += 1
            repos.add(repo)
            if blob_id not in blobs:
                blobs.add(blob_id)
                languages[language] += 1
        skipped.update(seg.skipped())
    return {
        "sources": sources,
        "blobs": len(blobs),
        "repos": len(repos),
        "languages": dict(languages.most_common()),
        "licenses": dict(licenses.most_common()),
        "license_types": dict(license_types.most_common()),
        "skipped": dict(sorted(skipped.items())),
    }


def stats(root: str | Path) -> dict[str, Any]:
    """A summary of an index (the answer of `index stats` and GET /v1/stats)."""
    with Index(root) as index:
        info = [seg.info for seg in index.segments]
        return {
            "index": str(Path(root)),
            "format_version": FORMAT_VERSION,
            "created": index.manifest.get("created"),
            "updated": index.manifest.get("updated"),
            "config": index.manifest["config"],
            "shards": index.n_shards,
            "segments": len(index.segments),
            "deleted_sources": int(index.deleted.size),
            "tokens": sum(int(i["tokens"]) for i in info),
            "source_bytes": sum(int(i["source_bytes"]) for i in info),
            "fingerprints": sum(sum(i["fingerprints"].values()) for i in info),
            **_counts(index),
            "disk_bytes": _disk(index),
        }
