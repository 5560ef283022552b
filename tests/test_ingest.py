"""Every SOURCE kind read into SourceFile/Skipped items, built as fixtures at test time."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from attribution.index.build import build
from attribution.index.ingest import (
    IngestLimits,
    Skipped,
    SourceFile,
    git_file_authors,
    read_installed,
    read_sources,
)
from attribution.index.lookup import lookup
from attribution.index.store import Index

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
LICENSE = b"MIT License\n\nCopyright (c) 2020 Jane Doe\n"
PY = b"def add(a, b):\n    return a + b\n"


def collect(spec: Path | str, limits: IngestLimits | None = None):
    """All items of a source, split into files and skipped."""
    items = list(read_sources(str(spec), limits or IngestLimits()))
    files = [i for i in items if isinstance(i, SourceFile)]
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert len(files) + len(skipped) == len(items)
    return files, skipped


def reasons(skipped: list[Skipped]) -> Counter[str]:
    return Counter(s.reason for s in skipped)


def write_tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def write_files(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


# --- archives ---------------------------------------------------------------------------


def test_tar_gz_strips_root_reads_metadata_and_names_npm_scope(tmp_path: Path) -> None:
    package_json = json.dumps(
        {"name": "@acme/util", "repository": "git+ssh://git@github.com/acme/util.git"}
    )
    archive = write_tar(
        tmp_path / "npm__acme__util.tgz",
        {
            "util-1.2.3/src/index.js": b"export function f() { return 1; }\n",
            "util-1.2.3/package.json": package_json.encode(),
            "util-1.2.3/LICENSE": LICENSE,
            "util-1.2.3/lib/third/COPYING": b"GPL text\n",
            "util-1.2.3/README.md": b"# util\n",
        },
    )
    files, skipped = collect(archive)
    assert [f.path for f in files] == ["src/index.js"]
    repo = files[0].repo
    assert repo.name == "npm/@acme/util"
    assert repo.url == "https://github.com/acme/util"
    assert set(repo.metadata_files) == {"package.json", "LICENSE", "lib/third/COPYING"}
    assert repo.metadata_files["LICENSE"].startswith("MIT License")
    assert files[0].language == "javascript"
    assert [(s.reason, s.path.rsplit("/", 1)[-1]) for s in skipped] == [("not_source", "README.md")]


def test_zip_without_common_root_keeps_paths(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "pypi__demo.zip", {"demo/a.py": PY, "setup.py": PY})
    files, _ = collect(archive)
    assert sorted(f.path for f in files) == ["demo/a.py", "setup.py"]
    assert files[0].repo.name == "pypi/demo"


def test_archive_cannot_escape(tmp_path: Path) -> None:
    archive = tmp_path / "inner" / "evil.tar"
    archive.parent.mkdir()
    with tarfile.open(archive, "w") as tf:
        for name, data in {"../evil.py": PY, "/etc/passwd.py": PY, "ok.py": PY}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("abs_link.py")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
        hard = tarfile.TarInfo("hard.py")
        hard.type, hard.linkname = tarfile.LNKTYPE, "ok.py"
        tf.addfile(hard)
        dev = tarfile.TarInfo("dev.py")
        dev.type = tarfile.CHRTYPE
        tf.addfile(dev)
    before = sorted(tmp_path.rglob("*"))
    files, skipped = collect(archive)
    assert [f.path for f in files] == ["ok.py"]
    assert reasons(skipped) == {"unsafe_path": 2, "symlink": 3}
    assert sorted(tmp_path.rglob("*")) == before
    assert not (tmp_path / "evil.py").exists()


def test_zip_bomb_member_is_a_limit(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "bomb.zip", {"big.py": b"\0" * 5_000_000, "ok.py": PY})
    files, skipped = collect(archive)
    assert [f.path for f in files] == ["ok.py"]
    assert [(s.reason, s.path.endswith("big.py")) for s in skipped] == [("limit", True)]
    assert "max_ratio" in skipped[0].detail


def test_archive_member_and_byte_limits_stop_reading(tmp_path: Path) -> None:
    members = {f"pkg/m{i}.py": PY for i in range(10)}
    archive = write_tar(tmp_path / "many.tar.gz", members)
    files, skipped = collect(archive, IngestLimits(max_archive_members=4))
    assert len(files) == 4
    assert [s.reason for s in skipped] == ["limit"] and "max_archive_members" in skipped[0].detail
    files, skipped = collect(archive, IngestLimits(max_archive_bytes=len(PY) * 3))
    assert len(files) == 3 and skipped[-1].reason == "limit"


def test_corrupt_and_truncated_archives_are_skipped(tmp_path: Path) -> None:
    for name in ("bad.tar.gz", "bad.zip", "bad.tar"):
        (tmp_path / name).write_bytes(b"this is not an archive at all" * 10)
        files, skipped = collect(tmp_path / name)
        assert files == [] and [s.reason for s in skipped] == ["unreadable"], name
        assert "archive" in skipped[0].detail
    members = {f"pkg/m{i}.py": os.urandom(2000).hex().encode() for i in range(50)}
    whole = write_tar(tmp_path / "whole.tar.gz", members).read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    files, skipped = collect(cut)
    assert skipped and skipped[-1].reason == "unreadable"


# --- tables -----------------------------------------------------------------------------


def test_parquet_v2_rows(tmp_path: Path) -> None:
    table = pa.table(
        {
            "blob_id": ["1", "2", "3", "4"],
            "repo_name": ["pypi/six", "pypi/six", "debian/cpp", "pypi/six"],
            "path": ["six.py", "bin/tool", "include/x.h", "LICENSE"],
            "content": [PY.decode(), "#!/usr/bin/env python3\nprint(1)\n", "class X {};\n", "MIT"],
            "language": ["Python", "Python", "C++", None],
            "detected_licenses": [["MIT"], [], ["GPL-2.0-only"], ["MIT"]],
            "license_type": ["permissive", "no_license", "copyleft", "permissive"],
            "authors": [["Benjamin Peterson"], None, ["A", "B"], []],
            "repo_url": ["https://github.com/benjaminp/six", None, None, None],
        }
    )
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=2)
    files, skipped = collect(tmp_path / "t.parquet")
    assert skipped == []
    by_path = {f.path: f for f in files}
    assert set(by_path) == {"six.py", "bin/tool", "include/x.h"}
    six = by_path["six.py"]
    assert (six.repo.name, six.repo.url, six.language) == (
        "pypi/six",
        "https://github.com/benjaminp/six",
        "python",
    )
    assert six.declared_license == ("MIT",) and six.declared_authors == ("Benjamin Peterson",)
    assert six.data == PY
    assert by_path["bin/tool"].language == "python"  # from the shebang
    assert by_path["bin/tool"].repo is six.repo
    assert by_path["include/x.h"].language == "cpp"  # the table's hint settles `.h`


def test_parquet_v1_column_names(tmp_path: Path) -> None:
    table = pa.table(
        {
            "max_stars_repo_name": ["o/r"],
            "max_stars_repo_path": ["src/a.go"],
            "max_stars_repo_licenses": [["Apache-2.0"]],
            "content": ["package a\n\nfunc A() int { return 1 }\n"],
        }
    )
    pq.write_table(table, tmp_path / "v1.parquet")
    files, skipped = collect(tmp_path / "v1.parquet")
    assert skipped == []
    assert [(f.repo.name, f.path, f.language, f.declared_license) for f in files] == [
        ("o/r", "src/a.go", "go", ("Apache-2.0",))
    ]


def test_parquet_missing_columns_and_garbage(tmp_path: Path) -> None:
    pq.write_table(pa.table({"text": ["x"], "path": ["a.py"]}), tmp_path / "cols.parquet")
    files, skipped = collect(tmp_path / "cols.parquet")
    assert files == [] and [s.reason for s in skipped] == ["unreadable"]
    assert "content" in skipped[0].detail and "repo_name" in skipped[0].detail
    assert "present: path, text" in skipped[0].detail
    (tmp_path / "x.parquet").write_bytes(b"garbage bytes, not parquet" * 20)
    files, skipped = collect(tmp_path / "x.parquet")
    assert files == [] and len(skipped) == 1 and skipped[0].reason == "unreadable"
    assert str(tmp_path / "x.parquet") == skipped[0].path and "parquet" in skipped[0].detail


def test_jsonl_malformed_line_is_skipped(tmp_path: Path) -> None:
    good = {"repo_name": "o/r", "path": "a.py", "content": PY.decode(), "authors": ["Ann"]}
    nameless = json.dumps({**good, "repo_name": None})
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "path": "b.py"}),
        "[1, 2]",
        nameless,
    ]
    (tmp_path / "t.jsonl").write_text("\n".join(lines) + "\n")
    files, skipped = collect(tmp_path / "t.jsonl")
    assert [f.path for f in files] == ["a.py", "b.py"]
    assert files[0].declared_authors == ("Ann",)
    assert [(s.reason, s.detail.split(":")[0]) for s in skipped] == [
        ("unreadable", "line 2"),
        ("unreadable", "line 4"),
        ("unreadable", "line 5"),
    ]
    with gzip.open(tmp_path / "t.jsonl.gz", "wt") as f:
        f.write(json.dumps(good) + "\n")
    files, skipped = collect(tmp_path / "t.jsonl.gz")
    assert [f.path for f in files] == ["a.py"] and skipped == []


def test_jsonl_without_required_keys_is_one_skip(tmp_path: Path) -> None:
    (tmp_path / "t.jsonl").write_text('{"text": "x"}\n' * 100)
    files, skipped = collect(tmp_path / "t.jsonl")
    assert files == [] and len(skipped) == 1 and "missing column" in skipped[0].detail


# --- directories and filters ------------------------------------------------------------


def test_filters_through_a_directory(tmp_path: Path) -> None:
    repo = write_files(
        tmp_path / "proj",
        {
            "LICENSE": LICENSE,
            "main.py": PY,
            "blob.c": b"int x;\0\0\0",
            "app.min.js": b"var a=1;",
            "bundle.js": b"var a=1;" * 400,
            "gen_pb2.py": PY,
            "gen.go": b"// Code generated by x. DO NOT EDIT.\npackage a\n",
            "empty.py": b"  \n\n",
            "big.py": b"x = 1\n" * 1000,
            "notes.txt": b"hello\n",
            "web/node_modules/a/index.js": PY,
            "web/node_modules/b/index.js": PY,
            "pip/_vendor/six.py": PY,
            "third_party/zlib/inflate.c": b"int inflate(void) { return 0; }\n",
            ".hg/store/data.py": PY,
            "__pycache__/main.cpython-311.pyc": b"\0\0",
            ".venv/pyvenv.cfg": b"home = /usr\n",
            ".venv/lib/site.py": PY,
            "lib/venv/__init__.py": PY,  # a package named venv (as in CPython) is source
        },
    )
    files, skipped = collect(repo, IngestLimits(max_file_bytes=5000))
    assert sorted(f.path for f in files) == [
        "lib/venv/__init__.py",
        "main.py",
        "pip/_vendor/six.py",
        "third_party/zlib/inflate.c",
    ]
    assert reasons(skipped) == {
        "binary": 1,
        "minified": 2,
        "generated": 2,
        "empty": 1,
        "too_large": 1,
        "not_source": 1,
        "vendored": 1,
    }
    vendored = next(s for s in skipped if s.reason == "vendored")
    assert vendored.path == str(repo / "web" / "node_modules")
    assert files[0].repo.name == "proj" and set(files[0].repo.metadata_files) == {"LICENSE"}


def test_directory_of_repositories(tmp_path: Path) -> None:
    root = tmp_path / "repos"
    write_files(root / "alpha", {"LICENSE": LICENSE, "src/a.py": PY})
    write_files(root / "beta", {"b.py": PY})
    write_files(root / "org" / "gamma", {"README.md": b"# g\n", "g.py": PY})
    wheel = {"whl/w.py": PY, "whl-1.0.dist-info/METADATA": b"Name: whl\n"}
    write_files(root / "whl-1.0", wheel)  # no top-level file, but a metadata directory
    write_tar(root / "pypi__six.tar.gz", {"six-1.0/six.py": PY})
    (root / "t.jsonl").write_text(
        json.dumps({"repo_name": "x/y", "path": "y.py", "content": "y = 1\n"}) + "\n"
    )
    (root / "stray.txt").write_text("not a repository\n")
    files, skipped = collect(root)
    assert sorted((f.repo.name, f.path) for f in files) == [
        ("alpha", "src/a.py"),
        ("beta", "b.py"),
        ("org/gamma", "g.py"),
        ("pypi/six", "six.py"),
        ("whl-1.0", "whl/w.py"),
        ("x/y", "y.py"),
    ]
    assert sorted((s.reason, Path(s.path).name) for s in skipped) == [
        ("not_source", "README.md"),
        ("not_source", "stray.txt"),
    ]
    assert all(s.source == str(root) for s in skipped)


def test_single_repository_directory(tmp_path: Path) -> None:
    repo = write_files(tmp_path / "tool", {"README": b"x\n", "lib/core/x.rs": b"fn main() {}\n"})
    files, _ = collect(repo)
    assert [(f.repo.name, f.path, f.language) for f in files] == [("tool", "lib/core/x.rs", "rust")]


def test_symlink_loop_and_fifo_in_directory(tmp_path: Path) -> None:
    repo = write_files(tmp_path / "proj", {"a.py": PY, "sub/b.py": PY})
    (repo / "sub" / "up").symlink_to("..")
    (repo / "self").symlink_to(".")
    (repo / "link.py").symlink_to(repo / "a.py")
    os.mkfifo(repo / "pipe.py")
    files, skipped = collect(repo)
    assert sorted(f.path for f in files) == ["a.py", "sub/b.py"]
    assert reasons(skipped) == {"symlink": 4}


def test_nonexistent_source(tmp_path: Path) -> None:
    files, skipped = collect(tmp_path / "nope")
    assert files == [] and len(skipped) == 1
    assert skipped[0].reason == "unreadable" and "No such file" in skipped[0].detail


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files without permission")
def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    repo = write_files(tmp_path / "proj", {"a.py": PY, "b.py": PY})
    (repo / "b.py").chmod(0)
    files, skipped = collect(repo)
    assert [f.path for f in files] == ["a.py"] and reasons(skipped) == {"unreadable": 1}


def test_unreadable_file_does_not_stop_the_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from attribution.index.ingest import directory

    repo = write_files(tmp_path / "proj", {"a.py": PY, "b.py": PY, "c.py": PY})
    real_open = directory.open_regular

    def flaky_open(path: str):
        if path.endswith("b.py"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path)

    monkeypatch.setattr(directory, "open_regular", flaky_open)
    files, skipped = collect(repo)
    assert [f.path for f in files] == ["a.py", "c.py"]
    assert [(s.reason, Path(s.path).name) for s in skipped] == [("unreadable", "b.py")]
    assert "Permission denied" in skipped[0].detail


def test_unexpected_error_in_one_source_does_not_end_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from attribution.index.ingest import sources

    root = tmp_path / "repos"
    root.mkdir()
    write_tar(root / "pypi__a.tar.gz", {"a/a.py": PY})
    write_tar(root / "pypi__b.tar.gz", {"b/b.py": PY})
    real = sources.read_archive

    def broken(source: str, path: str, limits: IngestLimits):
        if path.endswith("pypi__a.tar.gz"):
            raise KeyError("boom")
        return real(source, path, limits)

    monkeypatch.setattr(sources, "read_archive", broken)
    files, skipped = collect(root)
    assert [f.repo.name for f in files] == ["pypi/b"]
    assert [s.reason for s in skipped] == ["unreadable"]
    assert "unexpected error: KeyError" in skipped[0].detail


def test_header_language_follows_the_repository(tmp_path: Path) -> None:
    cpp = write_tar(tmp_path / "cpp.tar.gz", {"p/x.h": b"int f();\n", "p/x.cpp": b"int f() {}\n"})
    mixed = write_tar(tmp_path / "c.tar.gz", {"p/x.h": b"int f();\n", "p/x.c": b"int f() {}\n"})
    assert {f.path: f.language for f in collect(cpp)[0]} == {"x.h": "cpp", "x.cpp": "cpp"}
    assert {f.path: f.language for f in collect(mixed)[0]} == {"x.h": "c", "x.c": "c"}


def test_archive_url_from_pkg_info(tmp_path: Path) -> None:
    pkg_info = (
        b"Metadata-Version: 2.1\nName: demo\nHome-page: https://demo.example.org\n"
        b"Project-URL: Source Code, https://github.com/demo/demo\n"
    )
    archive = write_tar(
        tmp_path / "pypi__demo.tar.gz", {"demo-1/PKG-INFO": pkg_info, "demo-1/d.py": PY}
    )
    (file,) = collect(archive)[0]
    assert file.repo.url == "https://github.com/demo/demo"
    assert file.repo.metadata_files["PKG-INFO"].startswith("Metadata-Version")


def test_parquet_broken_mid_stream(tmp_path: Path) -> None:
    rows = 2000
    table = pa.table(
        {
            "repo_name": ["r"] * rows,
            "path": [f"a{i}.py" for i in range(rows)],
            "content": [f"x = {os.urandom(64).hex()!r}\n" for _ in range(rows)],
        }
    )
    pq.write_table(table, tmp_path / "ok.parquet", row_group_size=500)
    data = bytearray((tmp_path / "ok.parquet").read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4000] = os.urandom(4000)
    (tmp_path / "bad.parquet").write_bytes(bytes(data))
    files, skipped = collect(tmp_path / "bad.parquet")
    assert 0 < len(files) < rows
    assert [s.reason for s in skipped] == ["unreadable"]


# --- git ----------------------------------------------------------------------------------


def git(repo: Path, *args: str, author: str = "Ann") -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": author,
        "GIT_AUTHOR_EMAIL": f"{author.lower()}@example.org",
        "GIT_COMMITTER_NAME": author,
        "GIT_COMMITTER_EMAIL": f"{author.lower()}@example.org",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


def test_git_repository_reads_head_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = write_files(
        tmp_path / "myrepo", {"LICENSE": LICENSE, "a.py": PY, "src/b.c": b"int b;\n"}
    )
    (repo / "link.py").symlink_to("a.py")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    git(repo, "remote", "add", "origin", "git@github.com:me/myrepo.git")
    (repo / "a.py").write_bytes(b"# uncommitted edit\n")
    (repo / "untracked.py").write_bytes(PY)
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))  # as inside a git hook
    files, skipped = collect(repo)
    assert {f.path: f.data for f in files} == {"a.py": PY, "src/b.c": b"int b;\n"}
    repo_obj = files[0].repo
    assert repo_obj.name == "myrepo" and repo_obj.url == "https://github.com/me/myrepo"
    assert set(repo_obj.metadata_files) == {"LICENSE"}
    assert reasons(skipped) == {"symlink": 1}


def test_git_repository_without_commits(tmp_path: Path) -> None:
    repo = write_files(tmp_path / "fresh", {"a.py": PY})
    git(repo, "init", "-q")
    files, skipped = collect(repo)
    assert files == [] and len(skipped) == 1
    assert skipped[0].reason == "unreadable" and "no commits" in skipped[0].detail


def test_git_file_authors_by_owned_lines(tmp_path: Path) -> None:
    repo = write_files(tmp_path / "r", {"a.py": b"a = 1\n"})
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one", author="Ann")
    (repo / "a.py").write_bytes(b"a = 1\nb = 2\nc = 3\n")
    git(repo, "commit", "-q", "-am", "two", author="Bob")
    assert git_file_authors(str(repo), "a.py") == ["Bob", "Ann"]


def test_git_sources_carry_the_authors_of_their_history(tmp_path: Path) -> None:
    """Each file of a git SOURCE names who committed to it, most commits first; a build
    puts them after the file's own authors, so a check and an author lookup find them."""
    repo = write_files(tmp_path / "r", {"a.py": PY, "sub dir/b.py": b"b = 1\n"})
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one", author="Ann")
    for i in range(2):
        (repo / "sub dir" / "b.py").write_bytes(b"b = %d\n" % (i + 2))
        git(repo, "commit", "-q", "-am", f"b{i}", author="Bob")
    files, _ = collect(repo)
    authors = {f.path: f.git_authors for f in files}
    assert authors == {"a.py": ("Ann",), "sub dir/b.py": ("Bob", "Ann")}
    newest, _ = collect(repo, IngestLimits(max_history_commits=1))
    assert {f.path: f.git_authors for f in newest} == {"a.py": None, "sub dir/b.py": ("Bob",)}
    index = tmp_path / "idx"
    build([str(repo)], index, jobs=1)
    with Index(index) as opened:
        found = lookup(opened, "author", "bob")
    assert [p["path"] for p in found["paths"]] == ["sub dir/b.py"]


# --- installed distributions and the real corpus ----------------------------------------


def test_read_installed_yields_numpy_with_metadata() -> None:
    numpy_files = []
    for item in read_installed(exclude=("attribution", "PyTest")):
        if isinstance(item, SourceFile) and item.repo.name == "pypi/numpy":
            numpy_files.append(item)
        assert not (isinstance(item, SourceFile) and item.repo.name == "pypi/pytest")
    assert numpy_files, "numpy is installed in the test environment"
    paths = {f.path for f in numpy_files}
    assert "numpy/__init__.py" in paths
    assert not any(".dist-info/" in p or "__pycache__" in p for p in paths)
    repo = numpy_files[0].repo
    assert "METADATA" in repo.metadata_files and "Name: numpy" in repo.metadata_files["METADATA"]
    assert any("license" in key.lower() for key in repo.metadata_files if key != "METADATA")


def test_read_installed_keeps_underscore_vendor() -> None:
    pip_paths = {
        item.path
        for item in read_installed()
        if isinstance(item, SourceFile) and item.repo.name == "pypi/pip"
    }
    if not pip_paths:
        pytest.skip("pip is not installed in this environment")
    assert any(p.startswith("pip/_vendor/") for p in pip_paths)


def test_real_corpus_archive_matches_table() -> None:
    archive = SHARED / "corpus" / "packages" / "npm__ckeditor__ckeditor5-utils.tar.gz"
    table = SHARED / "corpus" / "files.parquet"
    if not archive.exists() or not table.exists():
        pytest.skip(f"the shared corpus is not at {SHARED} (CI keeps it at ../shared)")
    files, _ = collect(archive)
    name = "npm/@ckeditor/ckeditor5-utils"
    assert {f.repo.name for f in files} == {name}
    rows = pq.read_table(table, columns=["path"], filters=[("repo_name", "=", name)])
    assert sorted(f.path for f in files) == sorted(rows.column("path").to_pylist())
    assert "LICENSE.md" in files[0].repo.metadata_files
