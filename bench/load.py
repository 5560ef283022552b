"""Load test of `attribution serve` on loopback: throughput, latency and errors, as JSON.

Usage: python bench/load.py INDEX [--duration 60] [--concurrency 32] [--workers N]
                             [--threads T] [--snippets 300] [--seed 1] [--json FILE]
                             [--soak-add SOURCE] [--soak-optout]

1. Starts `attribution serve --index INDEX --host 127.0.0.1 --port 0` (gunicorn, the
   production setting) and waits for the URL it prints.
2. Picks --snippets sources of the index at random (fixed seed), fetches each through
   GET /v1/sources/<id> (the redacted excerpt a user would see) and cuts a realistic
   10-60-line snippet from it.
3. Runs --concurrency client threads, each on its own keep-alive connection
   (http.client), POSTing snippets to /v1/attribute until --duration seconds have passed
   (after a short unmeasured warm-up). Every loop is bounded in time and count, and only
   the loopback address of the server it started is ever contacted.
4. As a soak (--soak-add, --soak-optout): a third of the way in, `attribution index add
   SOURCE` writes a new segment under the running server; half way, POST /v1/optout removes
   the repository most snippets came from (the server runs with an admin token), and from
   then on every answer is checked for that repository. The server's workers' memory is
   sampled every few seconds throughout.
5. Stops the server with SIGTERM and prints one JSON report.

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


ADMIN_TOKEN = "soak-" + os.urandom(8).hex()
SAMPLE_EVERY_S = 5.0
OPTOUT_TRIES = 600


def start_server(index: str, workers: int | None, threads: int | None) -> tuple[Any, str, str]:
    """`attribution serve` on a free loopback port: (process, base URL, what it runs)."""
    exe = Path(sys.executable).with_name("attribution")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "attribution"]
    cmd += ["serve", "--index", index, "--host", "127.0.0.1", "--port", "0"]
    if workers:
        cmd += ["--workers", str(workers)]
    if threads:
        cmd += ["--threads", str(threads)]
    env = {**os.environ, "ATTRIBUTION_ADMIN_TOKEN": ADMIN_TOKEN, "ATTRIBUTION_ADMIN_RATE": "1000/1"}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
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


def make_snippets(url: str, ids: list[str], rng: random.Random) -> tuple[list[bytes], Counter[str]]:
    """POST bodies: a 10-60-line window of each source (skipping files too short), and how
    many snippets each repository gave."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    bodies, repos = [], Counter[str]()
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
            repos[body["source"]["repo_name"]] += 1
    conn.close()
    return bodies, repos


class Worker(threading.Thread):
    """One client: a keep-alive connection, requests until the deadline."""

    def __init__(
        self,
        url: str,
        bodies: list[bytes],
        seed: int,
        measure_from: float,
        until: float,
        removed: dict[str, Any] | None = None,
    ):
        super().__init__(daemon=True)
        self.removed = removed if removed is not None else {}  # {"needle", "at"} once done
        self.checked_after_removal = self.leaks = 0
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
            self._check_removal(now, data)
        conn.close()

    def _check_removal(self, asked_at: float, data: bytes) -> None:
        """After an opt-out has answered, no answer may name the removed repository."""
        at = self.removed.get("at")
        if at is None or asked_at < at:
            return
        self.checked_after_removal += 1
        self.leaks += int(self.removed["needle"] in data)


class MemorySampler(threading.Thread):
    """RSS of the server's worker processes every SAMPLE_EVERY_S seconds (from /proc)."""

    def __init__(self, master: int, until: float) -> None:
        super().__init__(daemon=True)
        self.master, self.until = master, until
        self.samples: list[dict[str, Any]] = []

    def run(self) -> None:
        started = time.monotonic()
        while time.monotonic() < self.until:
            rss = {pid: kb for pid, kb in _children_rss(self.master).items()}
            self.samples.append(
                {
                    "t": round(time.monotonic() - started, 1),
                    "workers_mb": sorted(round(kb / 1024, 1) for kb in rss.values()),
                }
            )
            time.sleep(SAMPLE_EVERY_S)


def _children_rss(parent: int) -> dict[int, int]:
    """RSS in kB of each child process of `parent`."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(parent) and "VmRSS" in fields:
            out[int(entry.name)] = int(fields["VmRSS"].split()[0])
    return out


def soak_events(
    args: argparse.Namespace, url: str, repo: str, start: float, removed: dict[str, Any]
) -> tuple[list[threading.Thread], list[dict[str, Any]]]:
    """Threads running `index add` a third of the way in and the opt-out of `repo` half
    way, and the list each appends what happened to."""
    events: list[dict[str, Any]] = []
    threads = []
    if args.soak_add:
        threads.append(threading.Thread(target=_add, args=(args, start, events), daemon=True))
    if args.soak_optout:
        optout = (args, url, repo, start, removed, events)
        threads.append(threading.Thread(target=_optout, args=optout, daemon=True))
    for th in threads:
        th.start()
    return threads, events


def _add(args: argparse.Namespace, start: float, events: list[dict[str, Any]]) -> None:
    _sleep_until(start + args.duration / 3)
    exe = Path(sys.executable).with_name("attribution")
    cmd = [str(exe), "index", "add", args.soak_add, "--index", args.index]
    t0 = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    events.append(
        {
            "event": "index add",
            "at_s": round(t0 - start, 1),
            "seconds": round(time.monotonic() - t0, 1),
            "exit": done.returncode,
            "stderr_tail": done.stderr.strip().splitlines()[-2:],
        }
    )


def _optout(
    args: argparse.Namespace,
    url: str,
    repo: str,
    start: float,
    removed: dict[str, Any],
    events: list[dict[str, Any]],
) -> None:
    _sleep_until(start + args.duration / 2)
    t0 = time.monotonic()
    busy = 0
    for _ in range(OPTOUT_TRIES):  # 503 while a writer (index add) holds the index: retry
        status, body = _post_optout(url, repo)
        if status != 503:
            break
        busy += 1
        time.sleep(1.0)
    if status == 200:
        removed.update(needle=f'"repo_name":"{repo}"'.encode(), at=time.monotonic())
    events.append(
        {
            "event": "opt-out",
            "repo": repo,
            "at_s": round(t0 - start, 1),
            "seconds": round(time.monotonic() - t0, 2),
            "status": status,
            "busy_503_before": busy,
            "sources_removed": body.get("sources") if isinstance(body, dict) else None,
        }
    )


def _sleep_until(when: float) -> None:
    time.sleep(max(0.0, when - time.monotonic()))


def _post_optout(url: str, repo: str) -> tuple[int, Any]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {ADMIN_TOKEN}"}
    conn.request("POST", "/v1/optout", body=json.dumps({"repo": repo}), headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, json.loads(data or b"null")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    proc, url, shape = start_server(args.index, args.workers, args.threads)
    try:
        ids = sample_source_ids(args.index, args.snippets, rng)
        bodies, repos = make_snippets(url, ids, rng)
        if not bodies:
            raise SystemExit("no snippet could be cut from the index:\n" + "\n".join(SERVER_LOG))
        start = time.monotonic()
        measure_from, until = start + WARMUP_S, start + WARMUP_S + args.duration
        removed: dict[str, Any] = {}
        workers = [
            Worker(url, bodies, args.seed * 1000 + i, measure_from, until, removed)
            for i in range(args.concurrency)
        ]
        memory = MemorySampler(proc.pid, until)
        for w in [*workers, memory]:
            w.start()
        repo = repos.most_common(1)[0][0]
        events_threads, events = soak_events(args, url, repo, measure_from, removed)
        for w in [*workers, *events_threads]:
            w.join(args.duration + WARMUP_S + 600)
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
        "soak": {
            "events": events,
            "answers_checked_after_optout": sum(w.checked_after_removal for w in workers),
            "answers_naming_removed_repo": sum(w.leaks for w in workers),
            "worker_memory": memory.samples,
        },
        "load_average": os.getloadavg(),
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
    p.add_argument("--soak-add", default=None, metavar="SOURCE", help="index add it a third in")
    p.add_argument(
        "--soak-optout", action="store_true", help="opt out the most sampled repository half way"
    )
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
