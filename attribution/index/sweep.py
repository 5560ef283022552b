"""What a killed writer leaves behind, put right by the next writer (under the lock).

- `.tmp-*` segment directories (a build, add or merge killed while writing);
- segment directories no manifest names (a merge or build killed between moving its
  segments into place and switching the manifest, or before deleting the old ones);
- temporary manifest files (`.MANIFEST.json.<pid>.tmp`);
- a removal logged but not switched to (killed between its log line and the manifest
  rename): its deletion list is durable, so the removal is completed (rolled forward).

Nothing the live manifest names is ever touched. See FORMAT.md ("Recovery").
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from attribution.index.format import (
    MANIFEST_FILE,
    REMOVALS_LOG,
    SEGMENTS_DIR,
    IndexFormatError,
    read_manifest,
    write_manifest,
)

SHARDS_DIR = "shards"


def recover(root: Path) -> list[str]:
    """Sweep a killed writer's leftovers and finish a logged removal; what was done."""
    if not (root / MANIFEST_FILE).exists():
        return [_remove(p) for p in _tmp_dirs(root)]
    try:
        manifest = read_manifest(root)
    except IndexFormatError:
        return []  # a damaged manifest: touch nothing (`index verify` names it)
    done = [f"completed the removal logged with {name}" for name in _roll_forward(root, manifest)]
    named = set(manifest["segments"])
    for path in _tmp_dirs(root):
        done.append(_remove(path))
    for path in _segment_dirs(root):
        if _name(root, path) not in named:
            done.append(_remove(path))
    for path in root.glob(f".{MANIFEST_FILE}.*.tmp"):
        path.unlink(missing_ok=True)
        done.append(f"removed {path.name}")
    return done


def _remove(path: Path) -> str:
    shutil.rmtree(path, ignore_errors=True)
    return f"removed {path}"


def _tmp_dirs(root: Path) -> list[Path]:
    return [*root.glob(f"{SEGMENTS_DIR}/.tmp-*"), *root.glob(f"{SHARDS_DIR}/*/.tmp-*")]


def _segment_dirs(root: Path) -> list[Path]:
    found = [*root.glob(f"{SEGMENTS_DIR}/seg-*"), *root.glob(f"{SHARDS_DIR}/[0-9]*/seg-*")]
    return [p for p in found if p.is_dir()]


def _name(root: Path, path: Path) -> str:
    """A segment directory's name as a manifest lists it."""
    return path.name if path.parent == root / SEGMENTS_DIR else path.relative_to(root).as_posix()


def _roll_forward(root: Path, manifest: dict[str, Any]) -> list[str]:
    """Switch to the deletion list of a removal that was logged but not switched to."""
    last = _last_logged(root)
    if not last or "deletions" not in last:
        return []
    name, previous = last["deletions"], last.get("previous")
    if name == manifest["deletions"] or previous != manifest["deletions"]:
        return []
    if not isinstance(name, str) or not (root / name).is_file():
        return []
    manifest["deletions"] = name
    write_manifest(root, manifest)
    return [name]


def _last_logged(root: Path) -> dict[str, Any] | None:
    path = root / REMOVALS_LOG
    if not path.exists():
        return None
    for line in reversed(path.read_text(encoding="utf-8").splitlines()):
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill
        return entry if isinstance(entry, dict) else None
    return None
