"""What `attribution scan` reads and how it fails: directories, git repositories (--since),
archives, single files, JSON Lines of model outputs; unreadable files, symlink loops,
malformed lines, missing PATHs and bad policies; exit codes and the terminal summary."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from attribution.cli.main import main
from attribution.index.build import build
from attribution.index.store import Index
from attribution.scan import ScanSettings, scan

HEADER = "# SPDX-License-Identifier: GPL-3.0-only\n# Copyright (c) 2021 Ada Example\n\n"
FUNCTIONS = {
    "ledger.py": """
def reconcile_ledger(entries, opening_balance, tolerance=0.005):
    balance = opening_balance
    mismatches = []
    for index, entry in enumerate(entries):
        amount = round(entry["amount"] * (1 if entry["kind"] == "credit" else -1), 2)
        balance = round(balance + amount, 2)
        expected = entry.get("running_balance")
        if expected is not None and abs(expected - balance) > tolerance:
            mismatches.append((index, expected, balance))
            balance = expected
    if mismatches:
        worst = max(mismatches, key=lambda m: abs(m[1] - m[2]))
        raise ValueError(f"{len(mismatches)} mismatches; worst at entry {worst[0]}")
    return balance
""",
    "grid.py": """
def flood_fill_regions(grid, passable="."):
    height, width = len(grid), len(grid[0])
    seen = [[False] * width for _ in range(height)]
    regions = []
    for row in range(height):
        for col in range(width):
            if seen[row][col] or grid[row][col] not in passable:
                continue
            stack, size = [(row, col)], 0
            seen[row][col] = True
            while stack:
                r, c = stack.pop()
                size += 1
                for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                    nr, nc = r + dr, c + dc
                    if 0 <= nr < height and 0 <= nc < width and not seen[nr][nc]:
                        if grid[nr][nc] in passable:
                            seen[nr][nc] = True
                            stack.append((nr, nc))
            regions.append(size)
    return sorted(regions, reverse=True)
""",
}
OWN = """
def greet_everyone(names):
    return ", ".join("hello " + name.title() for name in names if name)
"""


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("indexed") / "acme-tools"
    src.mkdir()
    (src / "README.md").write_text("acme tools\n")
    for name, code in FUNCTIONS.items():
        (src / name).write_text(HEADER + code.lstrip())
    out = tmp_path_factory.mktemp("index") / "index"
    assert build([str(src)], out, jobs=1).files == 2
    return out


def tree(base: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return base


def copied_tree(base: Path) -> Path:
    return tree(base, {"app/main.py": "import os\n\n" + FUNCTIONS["ledger.py"], "app/own.py": OWN})


def run_cli(
    argv: list[str], index: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    code = main(["scan", *argv, "--index", str(index), "--jobs", "1", "--no-cache"])
    out, err = capsys.readouterr()
    return code, out, err


def do_scan(paths: list[Path], index: Path, **kw: object) -> object:
    settings = ScanSettings(jobs=1, cache_dir=None, progress=False, **kw)  # type: ignore[arg-type]
    with Index(index) as opened:
        return scan([str(p) for p in paths], opened, settings)


def test_directory_scan_finds_the_copy_at_its_lines(small_index: Path, tmp_path: Path) -> None:
    root = copied_tree(tmp_path / "proj")
    result = do_scan([root], small_index)
    records = {r.rel: r for r in result.records()}  # type: ignore[attr-defined]
    assert set(records) == {"app/main.py", "app/own.py"}
    (m,) = records["app/main.py"].result["matches"]
    assert m["query_lines"] == [4, 17]
    assert m["source"]["path"] == "ledger.py"
    assert m["source"]["license"] == "GPL-3.0-only"
    assert m["source_lines"] == [4, 17]
    assert records["app/own.py"].result["verdict"] == "no_match"
    text = "import os\n\n" + FUNCTIONS["ledger.py"]
    a, b = m["query_bytes"]
    assert text.encode()[a - 1 : b].decode().startswith("def reconcile_ledger")
    assert text.encode()[a - 1 : b].decode().rstrip().endswith("return balance")


def test_unreadable_file_is_reported_and_the_rest_scanned(
    small_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copied_tree(tmp_path / "proj")
    secret = root / "app" / "secret.py"
    secret.write_text(OWN)
    import attribution.index.ingest.directory as directory

    real_open: Callable[[str], object] = directory.open_regular

    def refusing(path: str) -> object:
        if path == str(secret):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path)

    monkeypatch.setattr(directory, "open_regular", refusing)
    result = do_scan([root], small_index)
    s = result.summary  # type: ignore[attr-defined]
    assert s.files == 2 and s.findings == 1
    (problem,) = s.problems
    assert (problem.path, problem.reason) == (str(secret), "unreadable")
    assert "Permission denied" in problem.detail


def test_symlink_loops_are_not_followed(small_index: Path, tmp_path: Path) -> None:
    root = copied_tree(tmp_path / "proj")
    os.symlink("b.py", root / "a.py")
    os.symlink("a.py", root / "b.py")
    os.symlink("..", root / "app" / "up")
    os.symlink(root, root / "app" / "self")
    result = do_scan([root], small_index)
    s = result.summary  # type: ignore[attr-defined]
    assert s.files == 2 and s.findings == 1
    assert s.skipped["symlink"] == 4


def test_jsonl_malformed_lines_are_reported_with_their_numbers(
    small_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "outputs.jsonl"
    lines = [
        json.dumps({"id": "gen-1", "code": FUNCTIONS["grid.py"], "language": "python"}),
        "{not json",
        json.dumps(["code", "x"]),
        "",
        json.dumps({"id": "gen-4", "language": "python"}),
        json.dumps({"id": "gen-5", "code": 42}),
        json.dumps({"id": 6, "code": OWN}),
        json.dumps({"id": "gen-7", "code": OWN, "language": "cobol"}),
        json.dumps({"id": "gen-8", "code": "   "}),
    ]
    outputs.write_text("\n".join(lines) + "\n")
    code, out, err = run_cli([str(outputs), "--format", "json"], small_index, capsys)
    assert code == 1, err
    report = json.loads(out)
    assert [f["id"] for f in report["files"]] == ["gen-1", "6"]
    assert [f["line"] for f in report["files"]] == [1, 7]
    hit = report["files"][0]["result"]["matches"][0]
    assert hit["source"]["path"] == "grid.py" and hit["query_lines"] == [2, 22]
    errors = {e["line"]: e for e in report["summary"]["errors"]}
    assert sorted(errors) == [2, 3, 5, 6, 8, 9]
    assert errors[2]["reason"] == "malformed" and "line 2: not JSON" in errors[2]["detail"]
    assert '"code" must be a string' in errors[5]["detail"]
    assert errors[8]["reason"] == "query" and "cobol" in errors[8]["detail"]
    assert "outputs.jsonl#gen-7" in errors[8]["path"]
    assert "malformed" in err and "line 2" in err  # the terminal summary names them too


def test_archive_and_single_file_paths(small_index: Path, tmp_path: Path) -> None:
    root = copied_tree(tmp_path / "proj")
    archive = tmp_path / "proj.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(root, arcname="proj-1.0")
    result = do_scan([archive, root / "app" / "main.py"], small_index)
    paths = [r.path for r in result.records()]  # type: ignore[attr-defined]
    assert paths == [f"{archive}/app/main.py", f"{archive}/app/own.py", str(root / "app/main.py")]
    assert result.summary.findings == 2  # type: ignore[attr-defined]


def _git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, env=env, text=True
    )
    return done.stdout


def test_git_repository_since_a_ref(
    small_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = copied_tree(tmp_path / "repo")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "one")
    (repo / "app" / "grid_copy.py").write_text(FUNCTIONS["grid.py"])
    (repo / "app" / "own.py").write_text(OWN + "\n# touched\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "two")
    (repo / "app" / "uncommitted.py").write_text(FUNCTIONS["grid.py"])
    whole = do_scan([repo], small_index)
    assert sorted(r.rel for r in whole.records()) == [  # type: ignore[attr-defined]
        "app/grid_copy.py",
        "app/main.py",
        "app/own.py",
    ]
    since = do_scan([repo], small_index, since="HEAD~1")
    assert sorted(r.rel for r in since.records()) == ["app/grid_copy.py", "app/own.py"]  # type: ignore[attr-defined]
    code, _, err = run_cli([str(repo), "--since", "no-such-ref"], small_index, capsys)
    assert code == 2 and "--since no-such-ref: git diff failed" in err
    code, _, err = run_cli([str(tmp_path / "repo" / "app"), "--since", "HEAD"], small_index, capsys)
    assert code == 2 and "needs a git repository" in err


def test_exit_codes_and_policies(
    small_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copied_tree(tmp_path / "proj")
    clean = tree(tmp_path / "clean", {"own.py": OWN})
    assert run_cli([str(clean)], small_index, capsys)[0] == 0
    code, out, _ = run_cli([str(root), "--no-policy"], small_index, capsys)
    assert code == 1
    assert "app/main.py: 1 finding" in out and "GPL-3.0-only (copyleft)" in out
    assert "scanned 2 files" in out and "findings: 1 in 1 files (copyleft 1)" in out
    (root / "attribution.toml").write_text('project_license = "GPL-3.0-or-later"\n')
    code, out, _ = run_cli([str(root)], small_index, capsys)
    assert code == 0 and "PASS" in out and "allowed" in out
    (root / "attribution.toml").write_text('project_license = "MIT"\n')
    code, out, _ = run_cli([str(root)], small_index, capsys)
    assert code == 1 and "FAIL (1 violations" in out
    (root / "attribution.toml").write_text('project_license = "MIT"\nignore = ["app/main.py"]\n')
    code, out, _ = run_cli([str(root)], small_index, capsys)
    assert code == 0 and "ignored by policy: 1" in out


def test_usage_errors_exit_2_with_one_line(
    small_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copied_tree(tmp_path / "proj")
    code, _, err = run_cli([str(tmp_path / "nope")], small_index, capsys)
    assert (
        code == 2
        and err.strip() == f"attribution: error: no such file or directory: {tmp_path / 'nope'}"
    )
    bad = tmp_path / "policy.toml"
    bad.write_text('project_license = "MIT"\ndeny = ["GPL-9.0-only"]\n')
    code, _, err = run_cli([str(root), "--policy", str(bad)], small_index, capsys)
    assert code == 2
    assert err.count("\n") == 1 and "unknown SPDX license id 'GPL-9.0-only'" in err
    code, _, err = run_cli([str(root)], tmp_path / "no-index", capsys)
    assert code == 2 and err.startswith("attribution: error:")


def test_binary_empty_and_ignored_files_are_left_out_quietly(
    small_index: Path, tmp_path: Path
) -> None:
    root = copied_tree(tmp_path / "proj")
    tree(root, {"app/blob.py": b"\x00\x01\x02" * 100, "app/empty.py": "", "notes.txt": "hi"})
    tree(root, {".attribution-cache/x.py": OWN, "node_modules/dep/index.js": "var a = 1;\n"})
    result = do_scan([root], small_index)
    s = result.summary  # type: ignore[attr-defined]
    assert s.files == 2 and s.errors == 0
    assert s.skipped["binary"] == 1 and s.skipped["empty"] == 1 and s.skipped["vendored"] == 1


def test_a_copy_in_a_long_file_is_found_across_windows(small_index: Path, tmp_path: Path) -> None:
    """Files of 300+ lines are attributed in windows; a copied method near a window's end
    is still found whole, at its lines."""
    filler = [f"    def m{i}(self, x):\n        return x * {i} + {i * i}\n\n" for i in range(97)]
    method = "".join(
        "    " + line if line.strip() else line
        for line in FUNCTIONS["ledger.py"].lstrip().splitlines(keepends=True)
    )
    body = "class Big:\n" + "".join(filler) + method.replace("(entries", "(self, entries")
    body += "".join(f"    def n{i}(self):\n        return {i}\n\n" for i in range(150))
    path = tree(tmp_path / "long", {"big.py": body})
    result = do_scan([path], small_index)
    (record,) = list(result.records())  # type: ignore[attr-defined]
    first = 1 + 1 + 97 * 3  # after `class Big:` and the filler: the method's def line
    assert record.result["query"]["lines"] > 700
    (m,) = record.result["matches"]
    assert m["source"]["path"] == "ledger.py"
    assert m["query_lines"] == [first, first + 13]
    assert m["source_lines"] == [4, 17]
