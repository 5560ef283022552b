"""store.warm_up: a long-running process loads what the first query loads, then freezes
what is alive so that the collector's full passes walk only what queries made since; and
the threads a query's sketch search runs on, in a process and in a child forked from it."""

from __future__ import annotations

import gc
import inspect
import json
import multiprocessing
import shlex
import textwrap
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from attribution.core.search import attribute
from attribution.index.build import build
from attribution.index.store import Index, warm_up
from attribution.web.indexref import IndexRef


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("warm")
    for name, module in (("tw", textwrap), ("sh", shlex), ("js", json.decoder)):
        (root / "src" / name).mkdir(parents=True)
        (root / "src" / name / f"{name}.py").write_text(inspect.getsource(module))
    build([str(root / "src")], root / "idx")
    return root / "idx"


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # the rest of the test session collects as usual


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_warm_up_loads_the_sketch_index_and_freezes_what_is_alive(index_dir: Path) -> None:
    with Index(index_dir) as index:
        assert index._faiss == {}
        warm_up(index)
        assert set(index._faiss) == set(range(len(index.segments)))
        assert gc.get_freeze_count() > 1000
        made_after = [Cycle() for _ in range(10)]
        # what a full collection walks now: what was made since, not the loaded process
        assert len(gc.get_objects()) < 100 + len(made_after)


def test_answers_are_the_same_before_and_after_a_warm_up(index_dir: Path) -> None:
    code = inspect.getsource(textwrap.dedent)
    with Index(index_dir) as index:
        before = attribute(code, index, language="python")
        warm_up(index)
        after = attribute(code, index, language="python")
    for result in (before, after):
        result.pop("elapsed_ms")
    assert before == after and before["matches"]


def test_an_index_dropped_after_a_warm_up_is_freed_without_the_collector(
    index_dir: Path,
) -> None:
    index = Index(index_dir)
    warm_up(index)
    gone = weakref.ref(index)
    index.close()
    gc.disable()
    try:
        del index
        assert gone() is None  # reference counting frees it; frozen or not
    finally:
        gc.enable()


def test_cyclic_garbage_frozen_by_one_warm_up_is_collected_by_the_next(
    index_dir: Path,
) -> None:
    with Index(index_dir) as index:
        kept = Cycle()
        gone = weakref.ref(kept)
        warm_up(index)
        del kept
        gc.collect()
        assert gone() is not None  # frozen: the collector does not look at it
        warm_up(index)  # a re-open warms up again: what became garbage goes
        assert gone() is None


def test_a_service_index_is_warmed_up_when_opened(index_dir: Path) -> None:
    ref = IndexRef(index_dir)
    assert set(ref.get()._faiss) == set(range(len(ref.get().segments)))
    assert gc.get_freeze_count() > 0


def _answer_in_child(index_dir: str, code: str, out: Any) -> None:
    with Index(index_dir) as index:
        result = attribute(code, index, language="python")
    result.pop("elapsed_ms")
    out.put(json.dumps(result, sort_keys=True))


def test_a_forked_child_searches_sketches_on_threads_of_its_own(index_dir: Path) -> None:
    """The sketch search runs on a thread pool (near._Beside); a child forked after the
    parent has used it inherits no thread and must make its own, not wait forever."""
    code = inspect.getsource(textwrap.dedent)
    with Index(index_dir) as index:
        warm_up(index)  # the parent's pool is running
        mine = attribute(code, index, language="python")
    mine.pop("elapsed_ms")
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_answer_in_child, args=(str(index_dir), code, out))
    child.start()
    try:
        theirs = out.get(timeout=60)
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    assert theirs == json.dumps(mine, sort_keys=True)
