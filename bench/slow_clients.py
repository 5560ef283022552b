"""Slow clients against `attribution serve`: latency of /healthz and of a query, with and
without 256 connections that send one byte a second, in the same run.

Usage: python bench/slow_clients.py [INDEX] [--slow 256] [--seconds 20] [--json FILE]
                                    [--worker-class gthread]

1. Starts `attribution serve` on 127.0.0.1, port 0 (only this loopback server is ever
   contacted), over INDEX or, without one, over a small index built from this
   repository's own attribution/core/*.py in a temporary folder.
2. Quiet phase: for --seconds, one client alternates GET /healthz and POST /v1/attribute
   (a snippet cut from an indexed file) on fresh connections; each request has a 15 s
   client timeout, counted as an error past it.
3. Slow phase: --slow connections are opened and each sends one byte a second (half a
   request line and headers, half complete headers with a Content-Length larger than
   the body they trickle); a connection the server closes is opened again, so --slow
   stay open; the same client measures again for --seconds.
4. One request with a Content-Length larger than its body: how long until the server
   answers it (408) and frees the connection.
Reports p50/p99/max of each endpoint in each phase, errors, how many slow connections
were open, the answers the slow clients got, and the load average, as JSON.
--worker-class gthread runs gunicorn's threaded worker instead (the setting before the
asyncio front), for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLIENT_TIMEOUT_S = 15.0
MAX_REQUESTS = 100_000  # per phase, a bound besides the time
SHORT_BODY_WAIT_S = 90.0


def start_server(index: str, worker_class: str | None) -> tuple[subprocess.Popen[str], str]:
    """`attribution serve` on a free loopback port: (process, host:port)."""
    patch = f"s.WORKER_CLASS = {worker_class!r}; " if worker_class else ""
    code = (
        f"import attribution.web.serve as s; {patch}"
        "from attribution.cli.main import main; import sys; sys.exit(main(sys.argv[1:]))"
    )
    cmd = [sys.executable, "-c", code, "serve", "--index", index, "--host", "127.0.0.1"]
    proc = subprocess.Popen(
        [*cmd, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        found = re.search(r"serving on http://([\d.]+:\d+)/", line)
        if found:
            threading.Thread(target=lambda: [*proc.stdout], daemon=True).start()  # type: ignore[misc]
            return proc, found.group(1)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("the server did not start")


def build_small_index(folder: Path) -> str:
    src = folder / "src" / "core"
    src.mkdir(parents=True)
    for path in sorted((ROOT / "attribution" / "core").glob("*.py")):
        (src / path.name).write_bytes(path.read_bytes())
    index = folder / "index"
    cmd = [sys.executable, "-m", "attribution", "index", "build", str(folder / "src")]
    subprocess.run([*cmd, "--index", str(index)], check=True, capture_output=True)
    return str(index)


def snippet() -> str:
    lines = (ROOT / "attribution" / "core" / "fingerprint.py").read_text().splitlines()
    return "\n".join(lines[20:50]) + "\n"


def one_request(address: str, method: str, path: str, body: bytes | None) -> tuple[float, int]:
    """(seconds, status) of one request on a fresh connection; status 0 on a failure."""
    host, port = address.rsplit(":", 1)
    start = time.perf_counter()
    conn = http.client.HTTPConnection(host, int(port), timeout=CLIENT_TIMEOUT_S)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        status = resp.status
    except OSError:
        status = 0
    finally:
        conn.close()
    return time.perf_counter() - start, status


def measure(address: str, seconds: float) -> dict[str, Any]:
    """Alternate /healthz and a query for `seconds`: latencies and errors of each."""
    body = json.dumps({"code": snippet(), "language": "python"}).encode()
    times: dict[str, list[float]] = {"healthz": [], "attribute": []}
    errors: Counter[str] = Counter()
    end = time.monotonic() + seconds
    for _ in range(MAX_REQUESTS):
        if time.monotonic() >= end:
            break
        for name, method, path, data in (
            ("healthz", "GET", "/healthz", None),
            ("attribute", "POST", "/v1/attribute", body),
        ):
            took, status = one_request(address, method, path, data)
            times[name].append(took)
            if status != 200:
                errors[f"{name} {status or 'failed'}"] += 1
    return {name: _summary(values) for name, values in times.items()} | {"errors": dict(errors)}


def _summary(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else None
    return {
        "requests": len(values),
        "p50_ms": round(statistics.median(ordered) * 1000, 2) if ordered else None,
        "p99_ms": round(p99 * 1000, 2) if p99 is not None else None,
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else None,
    }


class SlowClients:
    """`count` connections, each sending one byte a second, reopened when closed; run in a
    child process, so they take no GIL from the client that measures."""

    def __init__(self, address: str, count: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._open: Any = ctx.Value("i", 0)
        self._stop = ctx.Event()
        self._results: Any = ctx.Queue()
        args = (address, count, self._open, self._stop, self._results)
        self._proc = ctx.Process(target=_trickle_main, args=args, daemon=True)
        self.min_open_while_measuring: int | None = None
        self.samples: list[int] = []
        self.answers: dict[str, int] = {}
        self.opened = 0

    @property
    def open_now(self) -> int:
        return int(self._open.value)

    def start(self) -> None:
        self._proc.start()

    def stop(self) -> None:
        self._stop.set()
        try:
            self.answers, self.opened = self._results.get(timeout=30)
        finally:
            self._proc.join(timeout=10)
            if self._proc.is_alive():
                self._proc.kill()

    def note_open(self) -> None:
        now = self.open_now
        low = self.min_open_while_measuring
        self.min_open_while_measuring = now if low is None else min(low, now)
        self.samples.append(now)


def _trickle_main(address: str, count: int, opened: Any, stop: Any, results: Any) -> None:
    trickler = _Trickler(address, count, opened, stop)
    asyncio.run(trickler.run())
    results.put((dict(trickler.answers), trickler.opened))


class _Trickler:
    """The slow connections themselves (in the child process)."""

    def __init__(self, address: str, count: int, open_now: Any, stop: Any) -> None:
        self.host, port = address.rsplit(":", 1)
        self.port, self.count = int(port), count
        self.open_now, self.stop = open_now, stop
        self.answers: Counter[str] = Counter()
        self.opened = 0

    async def run(self) -> None:
        await asyncio.gather(*(self._one(i) for i in range(self.count)))

    def _payload(self, i: int) -> bytes:
        if i % 2:
            return b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 600 + b"\r\n\r\n"
        head = b"POST /v1/attribute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        return head + b"Content-Length: 1000\r\n\r\n" + b'{"code": "' + b"x" * 900

    def _count(self, step: int) -> None:
        with self.open_now.get_lock():
            self.open_now.value += step

    async def _one(self, i: int) -> None:
        payload = self._payload(i)
        while not self.stop.is_set():
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                await asyncio.sleep(0.2)
                continue
            self.opened += 1
            self._count(1)
            try:
                await self._trickle(reader, writer, payload)
            finally:
                self._count(-1)
                writer.close()

    async def _trickle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes
    ) -> None:
        answer = asyncio.ensure_future(reader.read(200))
        try:
            for k in range(len(payload)):
                if self.stop.is_set() or answer.done():
                    break
                writer.write(payload[k : k + 1])
                await writer.drain()
                await asyncio.wait({answer}, timeout=1.0)
        except OSError:
            pass
        if answer.done() and not answer.cancelled() and answer.exception() is None:
            head = answer.result().split(b"\r\n", 1)[0].decode("latin-1", "replace")
            self.answers[head or "closed without an answer"] += 1
        else:
            answer.cancel()


def short_body(address: str) -> dict[str, Any]:
    """A request whose Content-Length is larger than its body: time until answered."""
    import socket

    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=SHORT_BODY_WAIT_S) as sock:
        start = time.perf_counter()
        sock.sendall(
            b"POST /v1/attribute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"code": "def f(): pass"}'
        )
        try:
            data = sock.recv(200)
        except TimeoutError:
            data = f"no answer within {SHORT_BODY_WAIT_S:.0f} s (still held)".encode()
    head = data.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    return {"answer": head or "closed", "seconds": round(time.perf_counter() - start, 2)}


def run(index: str, slow: int, seconds: float, worker_class: str | None) -> dict[str, Any]:
    proc, address = start_server(index, worker_class)
    try:
        one_request(address, "GET", "/healthz", None)  # warm up
        quiet = measure(address, seconds)
        clients = SlowClients(address, slow)
        clients.start()
        deadline = time.monotonic() + 30
        while clients.open_now < slow and time.monotonic() < deadline:
            time.sleep(0.1)
        ticker = threading.Event()

        def watch() -> None:
            while not ticker.wait(0.5):
                clients.note_open()

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        slowed = measure(address, seconds)
        ticker.set()
        held = short_body(address)
        clients.stop()
        return {
            "worker_class": worker_class or "attribution.web.frontworker.FrontWorker",
            "quiet": quiet,
            "with_slow_clients": slowed,
            "slow_clients": {
                "asked": slow,
                "fewest_open_while_measuring": clients.min_open_while_measuring,
                "mean_open_while_measuring": round(statistics.mean(clients.samples or [0])),
                "connections_opened": clients.opened,
                "answers_they_got": dict(clients.answers),
            },
            "content_length_larger_than_body": held,
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", nargs="?")
    parser.add_argument("--slow", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--worker-class", default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    if not 1 <= args.slow <= 1000 or not 1 <= args.seconds <= 300:
        raise SystemExit("--slow must be 1..1000 and --seconds 1..300")
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index or build_small_index(Path(tmp))
        load_before = os.getloadavg()
        report = run(index, args.slow, args.seconds, args.worker_class)
    report = {
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "cpus": os.cpu_count(),
        **report,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
