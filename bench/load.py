"""Load test of `attribution serve` on loopback: throughput, latency and errors, as JSON.

Usage: python bench/load.py INDEX [--duration 60] [--concurrency 32] [--workers N]
                             [--threads T] [--snippets 300] [--seed 1] [--json FILE]

1. Starts `attribution serve --index INDEX --host 127.0.0.1 --port 0` (gunicorn, the
   production setting) and waits for the URL it prints.
2. Picks --snippets sources of the index at random (fixed seed), fetches each through
   GET /v1/sources/<id> (the redacted excerpt a user would see) and cuts a realistic
   10-60-line snippet from it.
3. Runs --concurrency client threads, each on its own keep-alive connection
   (http.client), POSTing snippets to /v1/attribute until --duration seconds have passed
   (after a short unmeasured warm-up). Every loop is bounded in time and count, and only
   the loopback address of the server it started is ever contacted.
4. Stops the server with SIGTERM and prints one JSON report.

The client runs on the same machine: its threads take a share of the CPU too.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

from attribution.index.codec import source_id
from attribution.index.store import Index

WARMUP_S = 3.0
MAX_REQUESTS_PER_THREAD = 1_000_000
START_TIMEOUT_S = 60.0


SERVER_LOG: deque[str] = deque(maxlen=40)  # the last lines the server printed


def _drain(proc: Any) -> None:
    for line in proc.stdout or ():  # keep reading, so the server never blocks on its pipe
        SERVER_LOG.append(line.rstrip("\n"))


def start_server(index: str, workers: int | None, threads: int | None) -> tuple[Any, str, str]:
    """`attribution serve` on a free loopback port: (process, base URL, what it runs)."""
    exe = Path(sys.executable).with_name("attribution")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "attribution"]
    cmd += ["serve", "--index", index, "--host", "127.0.0.1", "--port", "0"]
    if workers:
        cmd += ["--workers", str(workers)]
    if threads:
        cmd += ["--threads", str(threads)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    started = time.monotonic()
    for line in proc.stdout:
        m = re.search(r"serving on (http://127\.0\.0\.1:\d+)/ \(([^,]*)", line)
        if m:
            threading.Thread(target=_drain, args=(proc,), daemon=True).start()
            return proc, m.group(1), m.group(2)
        if time.monotonic() - started > START_TIMEOUT_S:
            break
    proc.kill()
    raise SystemExit("attribution serve did not start")


def stop_server(proc: Any) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return int(proc.wait(timeout=30))
    except subprocess.TimeoutExpired:
        proc.kill()
        return -9


def sample_source_ids(index: str, count: int, rng: random.Random) -> list[str]:
    """Ids of `count` random live sources of the index."""
    with Index(index) as ix:
        sids = [
            sid
            for seg in ix.segments
            for (sid,) in seg.db.execute("SELECT sid FROM sources")
            if not ix.is_deleted(sid)
        ]
    rng.shuffle(sids)
    return [source_id(sid) for sid in sids[:count]]


def get_json(conn: http.client.HTTPConnection, path: str) -> tuple[int, Any]:
    conn.request("GET", path, headers={"Accept": "application/json"})
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read())


def make_snippets(url: str, ids: list[str], rng: random.Random) -> list[bytes]:
    """POST bodies: a 10-60-line window of each source (skipping files too short)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    bodies = []
    for sid in ids:
        status, body = get_json(conn, f"/v1/sources/{sid}")
        if status != 200:
            continue
        lines = body["excerpt"].split("\n")
        if len(lines) < 12:
            continue
        size = rng.randint(10, min(60, len(lines) - 1))
        start = rng.randint(0, len(lines) - size)
        code = "\n".join(lines[start : start + size]) + "\n"
        if code.strip():
            bodies.append(json.dumps({"code": code, "filename": body["source"]["path"]}).encode())
    conn.close()
    return bodies


class Worker(threading.Thread):
    """One client: a keep-alive connection, requests until the deadline."""

    def __init__(self, url: str, bodies: list[bytes], seed: int, measure_from: float, until: float):
        super().__init__(daemon=True)
        host, port = url.removeprefix("http://").split(":")
        self.addr = (host, int(port))
        self.bodies, self.rng = bodies, random.Random(seed)
        self.measure_from, self.until = measure_from, until
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.matches = 0

    def run(self) -> None:
        conn = http.client.HTTPConnection(*self.addr, timeout=60)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        for _ in range(MAX_REQUESTS_PER_THREAD):
            now = time.monotonic()
            if now >= self.until:
                break
            body = self.rng.choice(self.bodies)
            try:
                conn.request("POST", "/v1/attribute", body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status = str(resp.status)
            except (OSError, http.client.HTTPException) as err:
                status = type(err).__name__
                conn.close()
                conn = http.client.HTTPConnection(*self.addr, timeout=60)
                data = b""
            if now < self.measure_from:
                continue
            self.latencies.append((time.monotonic() - now) * 1000.0)
            self.statuses[status] += 1
            if status == "200" and b'"verdict":"match"' in data:
                self.matches += 1
        conn.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    proc, url, shape = start_server(args.index, args.workers, args.threads)
    try:
        bodies = make_snippets(url, sample_source_ids(args.index, args.snippets, rng), rng)
        if not bodies:
            raise SystemExit("no snippet could be cut from the index:\n" + "\n".join(SERVER_LOG))
        start = time.monotonic()
        measure_from, until = start + WARMUP_S, start + WARMUP_S + args.duration
        workers = [
            Worker(url, bodies, args.seed * 1000 + i, measure_from, until)
            for i in range(args.concurrency)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join(args.duration + WARMUP_S + 120)
        elapsed = time.monotonic() - measure_from
    finally:
        exit_code = stop_server(proc)
    latencies = [x for w in workers for x in w.latencies]
    statuses: Counter[str] = sum((w.statuses for w in workers), Counter())
    ok = statuses.get("200", 0)
    return {
        "index": args.index,
        "server": shape,
        "concurrency": args.concurrency,
        "duration_s": round(elapsed, 2),
        "snippets": len(bodies),
        "requests": len(latencies),
        "throughput_rps": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50), 1),
            "p90": round(percentile(latencies, 0.90), 1),
            "p99": round(percentile(latencies, 0.99), 1),
            "max": round(max(latencies, default=float("nan")), 1),
            "mean": round(statistics.fmean(latencies), 1) if latencies else None,
        },
        "errors": {k: v for k, v in sorted(statuses.items()) if k != "200"},
        "match_rate": round(sum(w.matches for w in workers) / ok, 3) if ok else None,
        "server_exit_code": exit_code,
        "server_log_tail": list(SERVER_LOG)[-10:],
        "cpus": os.cpu_count(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("index", help="index directory to serve")
    p.add_argument("--duration", type=float, default=60.0, help="measured seconds (default 60)")
    p.add_argument("--concurrency", type=int, default=32, help="client threads (default 32)")
    p.add_argument("--workers", type=int, default=None, help="server workers (default: serve's)")
    p.add_argument("--threads", type=int, default=None, help="threads per worker")
    p.add_argument("--snippets", type=int, default=300, help="distinct snippets (default 300)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", default=None, metavar="FILE", help="also write the report here")
    args = p.parse_args()
    if not 1 <= args.concurrency <= 512 or not 0 < args.duration <= 3600:
        p.error("--concurrency must be 1..512 and --duration 0..3600 s")
    report = run(args)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
