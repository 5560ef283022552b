"""Finding and reading a scan policy: `attribution.toml`, or `[tool.attribution]` in
`pyproject.toml`, given with --policy or found in the scanned root, else the current
directory."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from attribution.core.policy import Policy, PolicyError

POLICY_FILE = "attribution.toml"


def discover(paths: Sequence[str], cwd: str | Path = ".") -> Path | None:
    """The policy file that applies: in the first scanned directory, else in cwd."""
    roots = [Path(p) for p in paths[:1] if os.path.isdir(p)] + [Path(cwd)]
    for root in roots:
        own = root / POLICY_FILE
        if own.is_file():
            return own
        pyproject = root / "pyproject.toml"
        if pyproject.is_file() and _tool_table(pyproject) is not None:
            return pyproject
    return None


def load(path: str | Path) -> Policy:
    """The policy in a file; PolicyError for a missing table, bad TOML or bad fields."""
    path = Path(path)
    if path.name == "pyproject.toml":
        table = _tool_table(path)
        if table is None:
            raise PolicyError(f"{path}: no [tool.attribution] table")
        return Policy.from_dict(table, origin=f"policy {path} [tool.attribution]")
    return Policy.from_dict(_read(path), origin=f"policy {path}")


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as err:
        raise PolicyError(f"cannot read policy {path}: {err.strerror or err}") from err
    except tomllib.TOMLDecodeError as err:
        raise PolicyError(f"policy {path} is not valid TOML: {err}") from err


def _tool_table(pyproject: Path) -> dict[str, Any] | None:
    table = _read(pyproject).get("tool", {}).get("attribution")
    if table is not None and not isinstance(table, dict):
        raise PolicyError(f"{pyproject}: [tool.attribution] must be a table")
    return table
