"""`index build --engine ray` keeps the local build's promises (index/guards.py): a build
of nothing leaves the index byte for byte as it was, a smaller one needs --replace, and a
rebuild does not bring opted-out code back. Ray's local mode on 2 CPUs, one session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_faults import _repos, _textwrap_sources, faults

from attribution.cli.main import main
from attribution.index.maintain import remove
from attribution.index.stats import stats
from attribution.index.verify import verify
from attribution.index.writer import IndexShrinkError

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'attribution[ray]'")


@pytest.fixture(scope="module")
def session() -> Any:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return faults.write_sources(tmp_path_factory.mktemp("guards"))


@pytest.fixture
def index(sources: dict[str, Path], tmp_path: Path) -> Path:
    return faults.make_index(tmp_path, sources["src"])


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _ray_build(*argv: str) -> int:
    return main(["index", "build", *argv, "--engine", "ray", "--jobs", "2"])


def test_a_ray_build_of_nothing_leaves_the_index_byte_for_byte(
    session: Any, index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    before = _files(index)
    assert _ray_build(str(tmp_path / "empty"), "--index", str(index)) == 2
    assert "the index is unchanged" in capsys.readouterr().err
    assert _files(index) == before
    assert _ray_build(str(tmp_path / "empty"), "--index", str(index), "--shards", "2") == 2
    assert _files(index) == before  # no shard directories made for nothing


def test_a_smaller_ray_build_needs_replace(
    session: Any, index: Path, sources: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from attribution.index.ray_build import build_on_ray

    one = str(sources["src"] / "alpha")
    before = _files(index)
    with pytest.raises(IndexShrinkError, match="would remove 2"):
        build_on_ray([one], index)
    assert _files(index) == before
    assert _ray_build(one, "--index", str(index)) == 2
    assert "pass --replace" in capsys.readouterr().err
    assert _ray_build(one, "--index", str(index), "--replace") == 0
    assert "replaced an index of 4 sources: 2 fewer" in capsys.readouterr().out
    assert stats(index)["sources"] == 2 and verify(index, deep=True).sound


def test_a_ray_rebuild_keeps_opted_out_code_out(
    session: Any, index: Path, sources: dict[str, Path]
) -> None:
    from attribution.index.ray_build import build_on_ray

    remove(index, [("repo", "beta")])  # beta's tw.py is alpha's textwrap: both go
    assert "beta" not in _repos(index) and _textwrap_sources(index) == 0
    src = [str(sources["src"]), str(sources["extra"])]
    report = build_on_ray(src, index, shards=2, shrink=True)  # nothing said of opt-outs
    assert report.published and report.opted_out >= 1
    repos = _repos(index)
    assert "beta" not in repos and "gone" not in repos and {"alpha", "gamma"} <= repos
    assert _textwrap_sources(index) == 0  # alpha's copy went with beta, and stays out
    assert verify(index, deep=True).sound
