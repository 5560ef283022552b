"""The manifest's schema, checked before anything uses a manifest (FORMAT.md).

A small explicit validator rather than jsonschema: the manifest has eight fields, the
checks that matter (a segment name cannot leave the index, a shard count is in range)
are not plain types, and every problem must be one line naming the field and its value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from attribution.core.config import Config, ConfigError

MAX_SHARDS = 4096  # as index/shards.py
_SEGMENT = re.compile(r"^(seg-[A-Za-z0-9_.-]+|shards/\d{3,4}/seg-[A-Za-z0-9_.-]+)$")
_DELETIONS = re.compile(r"^deletions-[A-Za-z0-9_-]+\.npy$")
_REQUIRED = ("format", "version", "config", "segments", "deletions")


class ManifestError(ValueError):
    """A manifest field of the wrong type or value (the field and value are named)."""


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate(manifest: Any, path: Path) -> None:
    """Raise ManifestError naming the first malformed field of a root manifest."""
    if not isinstance(manifest, dict):
        raise ManifestError(f"{path}: a manifest is a JSON object, not {type(manifest).__name__}")
    missing = [k for k in _REQUIRED if k not in manifest]
    if missing:
        raise ManifestError(f"{path}: field {_show(missing[0])} is missing")
    _check_segments(manifest["segments"], path)
    deletions = manifest["deletions"]
    if deletions is not None and (
        not isinstance(deletions, str) or not _DELETIONS.match(deletions)
    ):
        raise ManifestError(
            f'{path}: "deletions" must be null or a file name deletions-ID.npy, '
            f"not {_show(deletions)}"
        )
    shards = manifest.get("shards")
    if shards is not None and (not _is_int(shards) or not 0 <= shards <= MAX_SHARDS):
        raise ManifestError(
            f'{path}: "shards" must be a whole number from 0 to {MAX_SHARDS}, not {_show(shards)}'
        )
    for key in ("created", "updated"):
        if key in manifest and not isinstance(manifest[key], str):
            raise ManifestError(
                f'{path}: "{key}" must be a time string, not {_show(manifest[key])}'
            )
    check_config(manifest["config"], path)


def _check_segments(segments: Any, path: Path) -> None:
    if not isinstance(segments, list):
        raise ManifestError(
            f'{path}: "segments" must be a list of segment names, not {_show(segments)}'
        )
    for name in segments:
        if not isinstance(name, str) or not _SEGMENT.match(name):
            raise ManifestError(
                f'{path}: "segments" holds {_show(name)}, not a segment name '
                f"(seg-ID or shards/NNN/seg-ID)"
            )
    if len(set(segments)) != len(segments):
        raise ManifestError(f'{path}: "segments" names a segment twice')


def check_config(config: Any, path: Path) -> None:
    """The stored build config: an object of Config fields, each a whole number."""
    if not isinstance(config, dict):
        raise ManifestError(f'{path}: "config" must be an object, not {_show(config)}')
    for key, value in config.items():
        if not _is_int(value) or value < 0:
            raise ManifestError(
                f'{path}: "config.{key}" must be a whole number, not {_show(value)}'
            )
    try:
        Config.from_dict(config)
    except (ConfigError, TypeError, ValueError) as err:
        raise ManifestError(f'{path}: "config": {" ".join(str(err).split())}') from None
