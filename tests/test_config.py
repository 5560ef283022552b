"""Engine configuration (core/config.py): validation, and fields read under old names."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from attribution.core.config import Config, ConfigError
from attribution.core.search import attribute
from attribution.index.build import build
from attribution.index.format import MANIFEST_FILE
from attribution.index.store import Index

CODE = "".join(
    f"def step_{i}(state, rate):\n"
    f"    total = state.value * rate + {i}\n"
    f"    state.history.append(total)\n"
    f"    return min(total, state.limit - {i})\n\n"
    for i in range(6)
)


def test_an_old_field_name_is_read_under_its_new_one() -> None:
    cfg = Config.from_dict({"k": 12, "seed": 5})
    assert cfg.seed_tokens == 5
    assert "seed" not in dataclasses.asdict(cfg) and dataclasses.asdict(cfg)["seed_tokens"] == 5


def test_a_field_under_both_names_or_unknown_is_refused() -> None:
    with pytest.raises(ConfigError, match="old and new names: \\['seed'\\]"):
        Config.from_dict({"seed": 5, "seed_tokens": 6})
    with pytest.raises(ConfigError, match="unknown configuration fields: seeds"):
        Config.from_dict({"seeds": 5})
    with pytest.raises(ConfigError, match="seed_tokens must be >= 1, got 0"):
        Config.from_dict({"seed": 0})


def test_an_index_whose_manifest_has_the_old_name_still_opens(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "steps.py").write_text(CODE)
    root = tmp_path / "index"
    build([str(tmp_path / "repo")], root, jobs=1)
    manifest = json.loads((root / MANIFEST_FILE).read_text())
    assert set(manifest["config"]) == set(Config.BUILD_FIELDS)  # query fields are not written
    manifest["config"]["seed"] = 7  # as a manifest written before the rename could hold it
    (root / MANIFEST_FILE).write_text(json.dumps(manifest))
    index = Index(root)
    assert index.config.seed_tokens == 7
    answer = attribute(CODE, index, language="python")
    assert answer["verdict"] == "match"
    assert answer["matches"][0]["source"]["path"] == "steps.py"
