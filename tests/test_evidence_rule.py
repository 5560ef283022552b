"""Which aligned chains are findings (score.accepted), the rare-structure share, and the
identifier table of the index that says how surprising a kept name is."""

from __future__ import annotations

import inspect
import json.decoder as json_decoder
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
from memindex import MemoryIndex

from attribution.core.align import Span
from attribution.core.config import Config
from attribution.core.score import EXACT, NEAR, RENAMED, Judgement, SpanVerdict, accepted
from attribution.core.search import attribute, rare_structure_share, shared_name_bits
from attribution.core.tokenize import tokenize
from attribution.index.build import build
from attribution.index.maintain import merge
from attribution.index.segment import NameCounts
from attribution.index.store import Index

CFG = Config()


def judgement(
    match_type: str,
    evidence: float,
    score: float,
    coverage: float = 1.0,
    tokens: int = 40,
    exact_tokens: int = 30,
) -> Judgement:
    span = SpanVerdict(Span(0, tokens, 0, tokens), exact_tokens)
    return Judgement((span,), match_type, tokens, exact_tokens, evidence, coverage, score)


def never() -> float:
    raise AssertionError("name bits were asked for where the rule does not need them")


def test_exact_matches_need_the_evidence_floor_only() -> None:
    assert accepted(judgement(EXACT, 20, 0.29, tokens=20, exact_tokens=20), 0.0, CFG, never)
    assert not accepted(judgement(EXACT, 19.9, 0.29, tokens=20, exact_tokens=20), 1.0, CFG, never)


def test_weak_structure_shared_by_many_files_is_no_finding() -> None:
    common = judgement(RENAMED, 51, 0.34)  # accessors: consistent renames of common structure
    assert not accepted(common, 0.1, CFG, never)
    assert accepted(common, 0.5, CFG, never)  # the same evidence over rare structure


def test_a_sure_match_needs_no_rare_structure_and_no_coverage() -> None:
    embedded = judgement(RENAMED, 65, 0.42, coverage=0.12)  # one function in a long window
    assert accepted(embedded, 0.0, CFG, never)
    assert not accepted(judgement(NEAR, 65, 0.35, coverage=0.12), 1.0, CFG, never)


def test_whole_renamed_copy_with_rare_structure() -> None:
    short = judgement(RENAMED, 23, 0.2)  # a short function renamed throughout
    assert accepted(short, 0.5, CFG, never)
    assert not accepted(short, 0.2, CFG, never)  # structure not rare enough
    assert not accepted(judgement(RENAMED, 23, 0.2, coverage=0.8), 0.5, CFG, never)
    weaker = judgement(RENAMED, 14, 0.12)
    assert accepted(weaker, 0.5, CFG, lambda: 25.0)  # it kept names few files use
    assert not accepted(weaker, 0.5, CFG, lambda: 8.0)  # `self`, `i`, `err`
    assert not accepted(judgement(RENAMED, 11, 0.1), 0.5, CFG, lambda: 99.0)


def test_whole_near_copy_made_of_identical_pieces() -> None:
    edited = judgement(NEAR, 24, 0.27, tokens=33, exact_tokens=33)
    assert accepted(edited, 0.5, CFG, never)
    assert not accepted(judgement(NEAR, 24, 0.27, tokens=33, exact_tokens=28), 0.5, CFG, never)


def test_rare_structure_share_counts_only_indexed_kgrams() -> None:
    df = np.array([0, 1, 2, 50, 0, 3, 900, 0], dtype=np.int64)
    # k = 2: tokens [0, 7) hold k-grams 0..5; indexed ones: 1, 2, 50, 3 -> 3 of 4 rare
    assert rare_structure_share(df, 0, 7, 2, 3) == pytest.approx(0.75)
    assert rare_structure_share(np.zeros(8, dtype=np.int64), 0, 7, 2, 3) == 0.0


def accessor_class(i: int, names: list[str]) -> str:
    body = [f"class Holder{i}:"]
    for name in names:
        body += [
            "    @property",
            f"    def {name}(self):",
            f"        return self._{name}",
            "",
            f"    @{name}.setter",
            f"    def {name}(self, value):",
            f"        self._{name} = value",
            "",
        ]
    return "\n".join(body) + "\n"


WORDS = ["alpha", "beta", "gamma", "delta", "omega", "kappa", "sigma", "theta", "zeta", "iota"]


def test_boilerplate_accessors_match_nothing_but_a_renamed_function_does() -> None:
    files = {
        f"pkg{i}/holder.py": accessor_class(i, [f"{WORDS[(i + j) % 10]}{i}" for j in range(3)])
        for i in range(30)
    }
    files["stdlib/textwrap.py"] = inspect.getsource(textwrap)
    index = MemoryIndex(files)
    accessor = accessor_class(99, ["width"])  # a getter and setter in the spirit of all 30
    assert attribute(accessor, index)["verdict"] == "no_match"
    code = inspect.getsource(textwrap.TextWrapper._fix_sentence_endings)
    renamed = re.sub(r"\bi\b", "k", code.replace("chunks", "pieces").replace("patsearch", "hit"))
    found = attribute(textwrap.dedent(renamed), index)["matches"]
    assert found and found[0]["source"]["path"] == "stdlib/textwrap.py"


def test_kept_rare_names_carry_more_bits_than_common_ones() -> None:
    files = {f"m{i}.py": f"def f{i}(self, x):\n    return self.size + x\n" for i in range(20)}
    files["rare.py"] = "def g(self, x):\n    return self.scanline_stride + x\n"
    index = MemoryIndex(files)
    for path, name, expect_bits in (("m0.py", "size", 0.0), ("rare.py", "scanline_stride", 3)):
        q = tokenize(f"def h(self, y):\n    return self.{name} + y\n".encode(), "python")
        s = index.tokens(list(files).index(path))
        bits = shared_name_bits(q, s, [Span(0, len(q), 0, len(s))], index)
        if expect_bits:
            assert bits > expect_bits  # log2(21 / 1) for the attribute, ~0 for `self`
        else:
            assert bits < 1.0


def test_segments_count_identifiers_per_blob_and_merges_keep_the_counts(tmp_path: Path) -> None:
    repo = tmp_path / "corpus" / "one"
    repo.mkdir(parents=True)
    (repo / "a.py").write_text(inspect.getsource(textwrap))
    (repo / "b.py").write_text(inspect.getsource(json_decoder))
    (repo / "c.py").write_text(inspect.getsource(textwrap))  # same blob as a.py
    other = tmp_path / "corpus2" / "two"
    other.mkdir(parents=True)
    (other / "d.py").write_text(inspect.getsource(json_decoder))
    idx = tmp_path / "index"
    build([str(repo)], idx, jobs=1)
    build([str(other)], idx, jobs=1, replace=False)
    decoder_names = tokenize(inspect.getsource(json_decoder).encode(), "python").identifiers()
    only_textwrap = np.setdiff1d(
        tokenize(inspect.getsource(textwrap).encode(), "python").identifiers(), decoder_names
    )
    width = int(only_textwrap[0])
    with Index(idx) as index:
        df, total = index.name_df(np.array([width], dtype=np.uint32))
        assert total == 3  # textwrap, json.decoder, json.decoder again in the second segment
        assert df.tolist() == [1]
    merge(idx)
    with Index(idx) as index:
        assert len(index.segments) == 1
        df, total = index.name_df(np.array([width], dtype=np.uint32))
        assert (total, df.tolist()) == (2, [1])  # one blob of each content after the merge


def test_name_counts_fold_like_a_counter() -> None:
    counts = NameCounts()
    counts.COMPACT = 3  # fold often
    rng = np.random.default_rng(1)
    expected: dict[int, int] = {}
    for _ in range(50):
        names = np.unique(rng.integers(0, 40, size=5).astype(np.uint32))
        counts.add(names)
        for h in names.tolist():
            expected[h] = expected.get(h, 0) + 1
    hashes, blobs = counts.table()
    assert dict(zip(hashes.tolist(), blobs.tolist(), strict=True)) == expected
    assert np.all(np.diff(hashes.astype(np.int64)) > 0)


def test_an_index_written_before_name_tables_still_answers(tmp_path: Path) -> None:
    repo = tmp_path / "corpus" / "one"
    repo.mkdir(parents=True)
    (repo / "a.py").write_text(inspect.getsource(textwrap))
    idx = tmp_path / "index"
    build([str(repo)], idx, jobs=1)
    for seg in (idx / "segments").iterdir():
        for name in ("names_hash.npy", "names_df.npy"):
            (seg / name).unlink()
    with Index(idx) as index:
        assert index.name_df(np.array([1], dtype=np.uint32)) is None
        code = inspect.getsource(textwrap.dedent)
        assert attribute(code, index)["matches"][0]["match_type"] == "exact"
