"""A small real index for the web tests (imported by the other test_web_* modules)."""

from __future__ import annotations

import inspect
import json.decoder
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from attribution.index.build import build
from attribution.index.store import Index

MIT = """MIT License

Copyright (c) 2024 Jane Doe <jane@example.org>

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

START_TIMEOUT_S = 30.0
TEXTWRAP = inspect.getsource(textwrap)
DECODER = inspect.getsource(json.decoder)

# A module with secrets in it: excerpts of it must come back redacted.
SETTINGS = '''"""Service settings (a test fixture: every secret here is fake)."""

import os

ADMIN_EMAIL = "ops-team@example.com"
AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
DATABASE_URL = "postgres://app:s3cr3t-pa55@db.internal:5432/app"
db_password = "hunter2-but-longer"


def connection_settings(environ=os.environ):
    """Settings for the database connection, from the environment or the defaults."""
    host = environ.get("DB_HOST", "localhost")
    port = int(environ.get("DB_PORT", "5432"))
    user = environ.get("DB_USER", "app")
    timeout = float(environ.get("DB_TIMEOUT", "2.5"))
    retries = max(0, int(environ.get("DB_RETRIES", "3")))
    return {"host": host, "port": port, "user": user, "timeout": timeout, "retries": retries}
'''


def write_corpus(root: Path) -> list[str]:
    """Two repositories: `mylib` (MIT, Jane Doe) and `fork` holding a copy of textwrap."""
    mylib = root / "mylib"
    (mylib / "pkg").mkdir(parents=True)
    (mylib / "LICENSE").write_text(MIT)
    (mylib / "textwrap.py").write_text(TEXTWRAP)
    (mylib / "pkg" / "decoder.py").write_text(DECODER)
    (mylib / "pkg" / "settings.py").write_text(SETTINGS)
    fork = root / "fork"
    (fork / "third_party").mkdir(parents=True)
    (fork / "README.md").write_text("A fork that vendors textwrap.\n")
    (fork / "third_party" / "textwrap.py").write_text(TEXTWRAP)
    return [str(mylib), str(fork)]


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real index built once per test session (read-only: copy it to change it)."""
    tmp = tmp_path_factory.mktemp("web-corpus")
    specs = write_corpus(tmp / "src")
    report = build(specs, tmp / "index", jobs=1)
    assert report.files == 4
    return tmp / "index"


@pytest.fixture
def index_copy(built_index: Path, tmp_path: Path) -> Path:
    """A private copy of the index, for tests that change it (opt-outs)."""
    target = tmp_path / "index"
    shutil.copytree(built_index, target)
    return target


def _attribution_command() -> list[str]:
    script = Path(sys.executable).with_name("attribution")
    if script.exists():
        return [str(script)]
    found = shutil.which("attribution")
    return [found] if found else [sys.executable, "-m", "attribution"]


@pytest.fixture(scope="session")
def server(built_index: Path) -> Iterator[str]:
    """The real service (`attribution serve`, gunicorn) on a free loopback port; its URL.
    Stopped with SIGTERM at the end, which must be a clean exit."""
    args = ["serve", "--index", str(built_index), "--host", "127.0.0.1", "--port", "0"]
    cmd = [*_attribution_command(), *args, "--workers", "1"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTRIBUTION_")}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:  # keeps reading, so the pipe never fills
        for line in proc.stdout or ():
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    url: str | None = None
    deadline = time.monotonic() + START_TIMEOUT_S
    while url is None and time.monotonic() < deadline and proc.poll() is None:
        try:
            seen.append(lines.get(timeout=0.2))
        except queue.Empty:
            continue
        m = re.search(r"serving on (http://\S+)", seen[-1])
        url = m.group(1).rstrip("/") if m else None
    if url is None:
        proc.kill()
        pytest.fail("attribution serve did not start:\n" + "".join(seen))
    try:
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert code == 0, f"unclean shutdown: exit code {code}"


def snippet(text: str, first: int, last: int) -> str:
    """Lines first..last (1-based, inclusive) of a text."""
    return "".join(text.splitlines(keepends=True)[first - 1 : last])


def test_corpus_has_licenses_and_copies(built_index: Path) -> None:
    with Index(built_index) as index:
        rows = (
            index.segments[0]
            .db.execute(
                "SELECT s.path, s.license, s.license_type, r.name FROM sources s "
                "JOIN repos r ON r.repo_id = s.repo_id ORDER BY r.name, s.path"
            )
            .fetchall()
        )
    by_path = {(repo, path): (lic, kind) for path, lic, kind, repo in rows}
    assert by_path[("mylib", "textwrap.py")] == ("MIT", "permissive")
    assert ("fork", "third_party/textwrap.py") in by_path
