"""`attribution scan` end to end on a real tree: a package of the shared corpus with
functions of OTHER corpus packages planted at known places (verbatim and renamed), scanned
against an index of those other packages. Every plant must be found at the right lines with
the right source and license, and nothing else may be reported."""

from __future__ import annotations

import ast
import io
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from attribution.core.tokenize import tokenize
from attribution.index.build import build
from attribution.index.store import Index
from attribution.scan import ScanResult, ScanSettings, scan

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
PACKAGES = CORPUS / "packages"
HOST = "pypi__jmespath.tar.gz"
SOURCES = (
    "pypi__fuzzywuzzy.tar.gz",  # LGPL-2.0: copyleft, for the policy tests
    "pypi__python-gnupg.tar.gz",
    "pypi__cloudpickle.tar.gz",
    "pypi__tzlocal.tar.gz",
    "pypi__hpack.tar.gz",
)
MIN_TOKENS = 100  # renamed copies need this much code to hold enough evidence
SLACK = 2  # lines a reported range may differ from the planted one at each end


def need_corpus() -> None:
    missing = [p for p in (HOST, *SOURCES) if not (PACKAGES / p).exists()]
    if missing:
        pytest.skip(f"shared corpus absent at {CORPUS} (missing {', '.join(missing)})")


@dataclass(frozen=True)
class Function:
    repo: str  # as indexed: pypi/<name>
    path: str  # inside the package
    first: int
    last: int
    code: str


@dataclass(frozen=True)
class Plant:
    function: Function
    host_path: str  # inside the host tree
    first: int  # planted lines, 1-based inclusive
    last: int
    renamed: bool


def _members(archive: Path) -> Iterator[tuple[str, str]]:
    """(path without the package root, text) of the .py files of a corpus archive."""
    with tarfile.open(archive) as tf:
        for info in sorted(tf.getmembers(), key=lambda i: i.name):
            if info.isfile() and info.name.endswith(".py") and "/tests/" not in info.name:
                data = tf.extractfile(info)
                assert data is not None
                yield info.name.split("/", 1)[1], data.read().decode("utf-8", "replace")


def pick_function(archive: Path) -> Function:
    """The first top-level function (with decorators) of 12-60 lines, MIN_TOKENS+ tokens."""
    repo = "pypi/" + archive.name.removesuffix(".tar.gz").split("__", 1)[1]
    for path, text in _members(archive):
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = text.splitlines()
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            assert node.end_lineno is not None
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            code = "\n".join(lines[first - 1 : node.end_lineno]) + "\n"
            size = node.end_lineno - first + 1
            if 12 <= size <= 60 and len(tokenize(code, "python")) >= MIN_TOKENS:
                return Function(repo, path, first, node.end_lineno, code)
    raise AssertionError(f"no function to plant in {archive.name}")


def renamed(code: str) -> str:
    """Every local-looking identifier renamed consistently (v0, v1, ...)."""
    data = code.encode()
    ts = tokenize(data, "python")
    names: dict[bytes, bytes] = {}
    out, last = bytearray(), 0
    for s, e, kind in zip(ts.start.tolist(), ts.end.tolist(), ts.kind.tolist(), strict=True):
        word = data[s:e]
        if kind == 1 and word not in (b"self", b"cls") and not word[:1].isupper():
            names.setdefault(word, b"v%d" % len(names))
            out += data[last:s] + names[word]
            last = e
    return (out + data[last:]).decode()


def _extract(archive: Path, dest: Path) -> Path:
    with tarfile.open(archive) as tf:
        tf.extractall(dest, filter="data")
    (root,) = list(dest.iterdir())
    return root


def _top_level_line(text: str) -> int:
    """The line of the second top-level def/class of a module (a place in its middle)."""
    starts = [
        n.lineno - len(getattr(n, "decorator_list", []))
        for n in ast.parse(text).body
        if isinstance(n, ast.FunctionDef | ast.ClassDef)
    ]
    return starts[1] if len(starts) > 1 else starts[0]


def plant_all(root: Path, functions: list[Function]) -> list[Plant]:
    """Plant: end of a file, start of a file, middle of a file (renamed), a new file
    (renamed), end of another file."""
    hosts = sorted(p for p in (root / "jmespath").glob("*.py") if p.stat().st_size > 2000)
    plants = []
    for i, fn in enumerate(functions):
        rename = i in (2, 3)
        code = renamed(fn.code) if rename else fn.code
        n = code.count("\n")
        if i == 3:
            target = root / "jmespath" / "_helpers.py"
            target.write_text(code)
            first = 1
        else:
            target = hosts[i if i < 3 else 3]
            lines = target.read_text().splitlines(keepends=True)
            if i == 1:
                at = 0
            elif i == 2:
                at = _top_level_line("".join(lines)) - 1
            else:
                at = len(lines) + 1
                lines.append("\n")
            lines[at:at] = [code, "\n\n"] if at < len(lines) else [code]
            target.write_text("".join(lines))
            first = at + 1
        rel = target.relative_to(root.parent).as_posix()
        plants.append(Plant(fn, rel, first, first + n - 1, rename))
    return plants


@dataclass
class Planted:
    root: Path  # the host tree (tmp/<name>-<version>)
    index_dir: Path
    plants: list[Plant]
    licenses: dict[tuple[str, str], str]  # (repo, path) -> license in the index


def _indexed_licenses(index_dir: Path) -> dict[tuple[str, str], str]:
    with Index(index_dir) as index:
        out = {}
        for seg in index.segments:
            sql = "SELECT r.name, s.path, s.license FROM sources s JOIN repos r USING (repo_id)"
            for repo, path, lic in seg.db.execute(sql):
                out[(repo, path)] = lic
        return out


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Planted:
    need_corpus()
    base = tmp_path_factory.mktemp("scan-e2e")
    index_dir = base / "index"
    report = build([str(PACKAGES / s) for s in SOURCES], index_dir, jobs=2)
    assert report.files > 20
    functions = [pick_function(PACKAGES / s) for s in SOURCES]
    root = _extract(PACKAGES / HOST, base / "tree")
    plants = plant_all(root, functions)
    return Planted(root, index_dir, plants, _indexed_licenses(index_dir))


def run_scan(planted: Planted, **settings: Any) -> ScanResult:
    """Scan the host tree from its parent directory (paths as `<root>/...`)."""
    settings.setdefault("cache_dir", None)
    settings.setdefault("progress", False)
    index = Index(planted.index_dir, top=50)
    return scan([str(planted.root)], index, ScanSettings(**settings))


def _findings(result: ScanResult) -> list[tuple[str, dict[str, Any]]]:
    return [(r.path, m) for r in result.records() for _, m in r.findings()]


def _close(a: list[int], b: tuple[int, int]) -> bool:
    return abs(a[0] - b[0]) <= SLACK and abs(a[1] - b[1]) <= SLACK


def test_every_planted_copy_is_found_where_it_is_and_nothing_else(planted: Planted) -> None:
    result = run_scan(planted, jobs=2)
    found = _findings(result)
    base = planted.root.parent
    unexplained = list(found)
    for plant in planted.plants:
        fn = plant.function
        path = str(base / plant.host_path)
        hits = [
            m
            for p, m in found
            if p == path and m["source"]["repo_name"] == fn.repo and m["source"]["path"] == fn.path
        ]
        assert hits, f"{plant.host_path}: planted {fn.repo} {fn.path} not found"
        m = hits[0]
        assert _close(m["query_lines"], (plant.first, plant.last)), (plant, m["query_lines"])
        assert _close(m["source_lines"], (fn.first, fn.last)), (plant, m["source_lines"])
        assert m["source"]["license"] == planted.licenses[(fn.repo, fn.path)]
        assert m["source"]["license"] != "NOASSERTION"
        assert m["match_type"] == ("exact" if not plant.renamed else "renamed"), m["match_type"]
        unexplained = [(p, x) for p, x in unexplained if x is not m]
    assert unexplained == [], f"unexpected findings: {unexplained}"
    assert result.summary.files > 10
    assert result.summary.findings == len(planted.plants)
    assert result.summary.errors == 0


def test_copyleft_plant_breaks_an_mit_policy(planted: Planted) -> None:
    from attribution.core.policy import Policy

    policy = Policy.from_dict({"project_license": "MIT", "deny": ["proprietary"]})
    index = Index(planted.index_dir, top=50)
    settings = ScanSettings(jobs=1, cache_dir=None, progress=False)
    result = scan([str(planted.root)], index, settings, policy)
    statuses = {m["source"]["repo_name"]: m["policy"] for _, m in _findings(result)}
    assert statuses["pypi/fuzzywuzzy"]["status"] == "violation"
    assert statuses["pypi/fuzzywuzzy"]["rule"] == "incompatible-license"
    others = [v["status"] for k, v in statuses.items() if k != "pypi/fuzzywuzzy"]
    assert others and set(others) == {"allowed"}
    assert result.verdict == "fail"


def source_text_of(planted: Planted) -> io.StringIO:
    """Unused helper kept for symmetry with the report tests (they import the fixture)."""
    return io.StringIO()
