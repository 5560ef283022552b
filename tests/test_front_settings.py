"""The front's deadlines and connection limit are settings (ATTRIBUTION_HEAD_TIMEOUT_MS,
..._BODY_TIMEOUT_MS, ..._WRITE_TIMEOUT_MS, ..._MAX_CONNECTIONS): `attribution serve`
honours them, and a bad value is one line naming it."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_faults import faults
from test_web_corpus import _attribution_command

from attribution.cli.main import main
from attribution.web.front import Limits
from attribution.web.settings import Settings, SettingsError

START_TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("front")
    return faults.make_index(work, faults.write_sources(work)["src"])


@pytest.fixture(scope="module")
def served(small_index: Path) -> Iterator[tuple[str, int]]:
    """`attribution serve` with a 300 ms header deadline and 2 connections per worker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTRIBUTION_")}
    env |= {"ATTRIBUTION_HEAD_TIMEOUT_MS": "300", "ATTRIBUTION_MAX_CONNECTIONS": "2"}
    args = ["serve", "--index", str(small_index), "--port", "0", "--workers", "1"]
    proc = subprocess.Popen(
        [*_attribution_command(), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, env=env,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or ()], daemon=True).start()
    address, seen = None, []
    deadline = time.monotonic() + START_TIMEOUT_S
    while address is None and time.monotonic() < deadline and proc.poll() is None:
        try:
            seen.append(lines.get(timeout=0.2))
        except queue.Empty:
            continue
        m = re.search(r"serving on http://([\d.]+):(\d+)/", seen[-1])
        address = (m.group(1), int(m.group(2))) if m else None
    if address is None:
        proc.kill()
        pytest.fail("attribution serve did not start:\n" + "".join(seen))
    try:
        yield address
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def _answer(sock: socket.socket) -> tuple[int, dict[str, object]]:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_a_short_header_deadline_is_honoured(served: tuple[str, int]) -> None:
    with socket.create_connection(served, timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a")  # headers unfinished
        started = time.monotonic()
        status, body = _answer(sock)  # the default deadline (10 s) would time this read out
        assert status == 408 and body["error"]["code"] == "timeout"  # type: ignore[index]
        assert time.monotonic() - started < 5


def test_the_connection_limit_is_honoured(served: tuple[str, int]) -> None:
    idle = [socket.create_connection(served, timeout=5) for _ in range(2)]
    try:
        time.sleep(0.2)  # let the worker accept both before the third arrives
        with socket.create_connection(served, timeout=5) as third:
            third.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _ = _answer(third)
            assert status == 503
    finally:
        for sock in idle:
            sock.close()


def test_bad_front_settings_are_one_line(
    small_index: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ATTRIBUTION_HEAD_TIMEOUT_MS", "soon")
    assert main(["serve", "--index", str(small_index), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "ATTRIBUTION_HEAD_TIMEOUT_MS must be an integer, got 'soon'" in err
    assert err.count("\n") == 1
    monkeypatch.setenv("ATTRIBUTION_HEAD_TIMEOUT_MS", "0")
    monkeypatch.setenv("ATTRIBUTION_MAX_CONNECTIONS", "-1")
    assert main(["serve", "--index", str(small_index), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "head_timeout_ms must be >= 1, got 0" in err and "max_connections must be >= 1" in err
    assert err.count("\n") == 1


def test_the_limits_follow_the_settings() -> None:
    limits = Limits.of(Settings(body_timeout_ms=2500, write_timeout_ms=700), keepalive_s=5.0)
    assert (limits.head_timeout_s, limits.body_timeout_s, limits.write_timeout_s) == (10, 2.5, 0.7)
    with pytest.raises(SettingsError, match="write_timeout_ms must be >= 1"):
        Settings.load(env={"ATTRIBUTION_WRITE_TIMEOUT_MS": "0"})
