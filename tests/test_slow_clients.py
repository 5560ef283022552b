"""Slow and hostile clients: they hold no thread, every deadline and limit of the front
(web/front.py) answers JSON, and /healthz answers while slow connections are open."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from test_web_corpus import built_index, server

from attribution.web.front import Front, Limits, serve_connection

__all__ = ["built_index", "server"]  # fixtures used here


def slow_connections(url: str, count: int) -> list[socket.socket]:
    """`count` connections that have sent part of a request and then nothing more."""
    host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    socks = []
    for i in range(count):
        sock = socket.create_connection((host, int(port)), timeout=5)
        if i % 2:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a")  # headers unfinished
        else:  # a body shorter than its Content-Length
            sock.sendall(b"POST /v1/attribute HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{")
        socks.append(sock)
    return socks


def test_healthz_answers_while_slow_clients_hold_more_connections_than_threads(
    server: str,
) -> None:
    socks = slow_connections(server, 12)  # the server runs 1 worker x 4 threads
    try:
        for _ in range(5):
            with urllib.request.urlopen(server.rstrip("/") + "/healthz", timeout=5) as resp:
                assert resp.status == 200 and json.load(resp) == {"status": "ok"}
    finally:
        for sock in socks:
            sock.close()


@pytest.fixture
def front(built_index: Path) -> Iterator[tuple[str, int]]:
    """The front over the real app, in this process, with short deadlines: (host, port)."""
    from attribution.web import create_app

    app: Any = create_app(built_index, env={}, max_body=10_000)
    limits = Limits(max_body=10_000, keepalive_s=1.0, head_timeout_s=0.5, body_timeout_s=0.5)
    loop = asyncio.new_event_loop()
    pool = ThreadPoolExecutor(2)
    state = Front(app, pool, limits, "127.0.0.1", 0, max_connections=3)
    started = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        srv = await asyncio.start_server(lambda r, w: serve_connection(state, r, w), "127.0.0.1", 0)
        box["server"], box["port"] = srv, srv.sockets[0].getsockname()[1]
        started.set()
        async with srv:
            await srv.serve_forever()

    thread = threading.Thread(target=lambda: _run(loop, main()), daemon=True)
    thread.start()
    assert started.wait(10)
    yield "127.0.0.1", box["port"]
    loop.call_soon_threadsafe(box["server"].close)
    thread.join(timeout=5)
    pool.shutdown(wait=False)


def _run(loop: asyncio.AbstractEventLoop, coro: Any) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        loop.run_until_complete(coro)


def exchange(address: tuple[str, int], raw: bytes) -> tuple[int, dict[str, Any], float]:
    """Send raw bytes, read the answer until the server closes: (status, JSON, seconds)."""
    start = time.monotonic()
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body else {}, time.monotonic() - start


def test_a_body_shorter_than_its_length_is_408_at_the_deadline(front: tuple[str, int]) -> None:
    raw = b"POST /v1/attribute HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"
    status, body, seconds = exchange(front, raw)
    assert status == 408 and body["error"]["code"] == "timeout"
    assert seconds < 5


def test_headers_that_never_end_are_408(front: tuple[str, int]) -> None:
    status, body, _ = exchange(front, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    assert status == 408 and body["error"]["code"] == "timeout"


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: " + b"b" * 40_000 + b"\r\n\r\n", 431, None),
        (b"POST /v1/attribute HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n\r\n", 413, None),
        (b"NOT HTTP AT ALL\r\n\r\n", 400, "malformed"),
        (b"GET /v1/sources/s:ffffffffffffffff HTTP/1.1\r\nHost: x\r\n\r\n", 404, "not_found"),
    ],
)
def test_errors_of_the_front_are_json(
    front: tuple[str, int], raw: bytes, status: int, code: str | None
) -> None:
    got, body, _ = exchange(front, raw)
    assert got == status and set(body["error"]) == {"code", "message"}
    assert code is None or body["error"]["code"] == code


def test_keep_alive_and_head(front: tuple[str, int]) -> None:
    raw = (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(front, timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.count(b"HTTP/1.1 200 OK") == 2 and data.endswith(b"\r\n\r\n")
    assert b'{"status":"ok"}' in data and b"<html" not in data


def test_connections_past_the_limit_are_refused_with_503(front: tuple[str, int]) -> None:
    held = [socket.create_connection(front, timeout=5) for _ in range(3)]
    try:
        for sock in held:
            sock.sendall(b"G")  # the front has them all now
        time.sleep(0.2)  # let the front accept them
        status, body, _ = exchange(front, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 503 and body["error"]["code"] == "busy"
    finally:
        for sock in held:
            sock.close()
