"""What a query costs through `attribution serve` beyond the engine, old code and new, in
one run.

Two indexes, each of 4 shards like the 1M service of docs/scale.md: `corpus` (the shared
corpus, answers of ~1 KB) and `copies` (FILES of its files, each with COPIES identical
copies in other repositories and MUTATED mutated windows of it, so most matches list 20
other origins: answers of 13 KB at the median, up to 65 KB, as at 1M where every file
has about 66 copies).
For each index, `attribution serve --workers 2` of the old checkout and of this one run
side by side; the same queries (windows of 10-60 lines of the indexed files, a third
with names changed) go to both in turn, from one client over a kept-alive connection
and again over a new connection each (as urllib, in scale_shards.py). Per query: what
the client saw, the answer's elapsed_ms (the engine's own time), and the difference
("beyond": the HTTP path: client, connection, front, Flask, validation, JSON).
Also GET /healthz over the kept-alive connection (the floor of front and client), the
answers' sizes, and whether the two versions' answers are identical (elapsed_ms aside).
The load average is recorded before and after each pass: the machine is shared, read
the ratios (new_over_old).

    .venv/bin/python bench/serve_http.py --old /work/h1-old [--queries 200] [--passes 2]
        [--corpus-index DIR] [--out bench/results/serve_http.json]

`--new TREE` measures another checkout than this one as the new code. Indexes are built
once into $ATTRIBUTION_BENCH_WORK (/tmp/attribution-serve-http); `--corpus-index DIR`
reuses a 4-shard index of the corpus. An output file that exists keeps its earlier runs
(under "earlier").
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "files.parquet"
WORK = Path(os.environ.get("ATTRIBUTION_BENCH_WORK", "/tmp/attribution-serve-http"))
FILES, COPIES, MUTATED = 300, 30, 10
CLIENTS = ("keepalive", "new_connection")


# --- indexes and queries ------------------------------------------------------------------
def _rows(table: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = pq.read_table(table).to_pylist()
    return rows


def copies_table(out: Path, seed: int = 7) -> Path:
    """FILES corpus files, each with COPIES identical and MUTATED mutated copies."""
    if out.exists():
        return out
    sys.path.insert(0, str(ROOT / "bench"))
    from attrbench.corpus import write_table
    from attrbench.scale import mutate

    rng = random.Random(seed)
    pool = [r for r in _rows(CORPUS) if 15 <= r["content"].count("\n") <= 400 and r["language"]]
    rows = []
    for i, src in enumerate(rng.sample(pool, FILES)):
        rows.append(src)
        name = src["path"].rsplit("/", 1)[-1]
        for k in range(COPIES + MUTATED):
            text = src["content"] if k < COPIES else mutate(src["content"], rng)
            repo = f"copies/r{i:03d}-{k:02d}"
            rows.append({**src, "repo_name": repo, "path": f"src/{name}", "content": text,
                         "blob_id": None})  # fmt: skip
    return write_table(rows, out)


def build(table: Path, out: Path) -> Path:
    if not (out / "MANIFEST.json").exists():
        exe = Path(sys.executable).parent / "attribution"
        subprocess.run([str(exe), "index", "build", str(table), "--index", str(out),
                        "--shards", "4"], check=True, cwd=ROOT)  # fmt: skip
    return out


def queries(table: Path, count: int, seed: int = 1, originals: bool = False) -> list[str]:
    """Windows of 10-60 lines of the table's files (a third with names changed)."""
    rows = [r for r in _rows(table) if not originals or not r["repo_name"].startswith("copies/")]
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < count:
        lines = rows[rng.randrange(len(rows))]["content"].splitlines()
        if len(lines) < 15:
            continue
        a = rng.randrange(0, max(1, len(lines) - 60))
        code = "\n".join(lines[a : a + rng.randrange(10, 60)])
        if rng.random() < 0.33:
            code = code.replace("self", "this_").replace("value", "val")
        out.append(code)
    return out


# --- servers and clients ------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`attribution serve` of one checkout (its code first on sys.path), 2 workers."""

    def __init__(self, tree: Path, index: Path) -> None:
        self.port = _free_port()
        env = {**os.environ, "PYTHONPATH": str(tree)}
        exe = Path(sys.executable).parent / "attribution"
        self.proc = subprocess.Popen(
            [str(exe), "serve", "--index", str(index), "--port", str(self.port),
             "--workers", "2"],
            cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._wait()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def _wait(self, seconds: float = 180) -> None:
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"attribution serve on port {self.port} did not start")

    def ask(self, body: bytes, fresh: bool) -> tuple[float, bytes]:
        """POST /v1/attribute: the client's milliseconds and the answer's bytes."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120) if fresh else None
        t = time.perf_counter()
        c = conn or self.conn
        c.request("POST", "/v1/attribute", body, {"Content-Type": "application/json"})
        resp = c.getresponse()
        data = resp.read()
        ms = (time.perf_counter() - t) * 1000
        if conn:
            conn.close()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {data[:300]!r}")
        return ms, data

    def healthz(self) -> float:
        t = time.perf_counter()
        self.conn.request("GET", "/healthz")
        self.conn.getresponse().read()
        return (time.perf_counter() - t) * 1000

    def close(self) -> None:
        self.conn.close()
        self.proc.terminate()
        self.proc.wait()


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _percentiles(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {
        "p50_ms": round(statistics.median(ms), 3),
        "p99_ms": round(ms[round(0.99 * (len(ms) - 1))], 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


SERIES = (*CLIENTS, *(f"{c}_beyond" for c in CLIENTS), "engine", "healthz", "bytes")


def measure(trees: dict[str, Path], index: Path, codes: list[str], passes: int) -> dict[str, Any]:
    """Every query to every version in turn, kept-alive then on a new connection."""
    servers = {name: Server(tree, index) for name, tree in trees.items()}
    seen: dict[str, dict[str, list[float]]] = {v: {k: [] for k in SERIES} for v in servers}
    bodies = [json.dumps({"code": c}).encode() for c in codes]
    differ, loads = 0, [_load()]
    try:
        for body in bodies[:10]:  # warm up
            for s in servers.values():
                s.ask(body, False)
                s.ask(body, True)
        for _ in range(passes):
            for body in bodies:
                differ += len(_ask_all(servers, body, seen)) > 1
            loads.append(_load())
    finally:
        for s in servers.values():
            s.close()
    out: dict[str, Any] = {"queries": len(codes), "passes": passes, "load_avg": loads}
    out["answers_differing"] = differ
    return {**out, **_summary(seen)}


def _ask_all(servers: dict[str, Server], body: bytes, seen: dict[str, Any]) -> set[str]:
    """One query to each version with each client: the distinct answers (elapsed aside)."""
    answers = set()
    for client in CLIENTS:
        for v, s in servers.items():
            ms, data = s.ask(body, client == "new_connection")
            answer = json.loads(data)
            engine = answer.pop("elapsed_ms")
            seen[v][client].append(ms)
            seen[v][f"{client}_beyond"].append(ms - engine)
            if client == "keepalive":
                seen[v]["engine"].append(engine)
                seen[v]["bytes"].append(len(data))
            answers.add(json.dumps(answer, sort_keys=True))
    for v, s in servers.items():
        seen[v]["healthz"].append(s.healthz())
    return answers


def _summary(seen: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for v, series in seen.items():
        out[v] = {k: _percentiles(ms) for k, ms in series.items() if k != "bytes"}
        b = sorted(series["bytes"])
        out[v]["answer_bytes"] = {"p50": statistics.median(b), "max": b[-1]}
    if set(seen) == {"old", "new"}:
        old, new = out["old"], out["new"]
        out["new_over_old"] = {
            f"{s}_{p}": round(new[s][f"{p}_ms"] / old[s][f"{p}_ms"], 3)
            for s in (*(f"{c}_beyond" for c in CLIENTS), "healthz")
            for p in ("p50", "p99", "mean")
        }
    return out


def _commit(tree: Path) -> str:
    git = ["git", "-C", str(tree)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no", "attribution"],
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    return head.stdout.strip() + (" (+ uncommitted changes in attribution/)" if dirty else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, help="checkout of the old code (git worktree add)")
    parser.add_argument("--new", type=Path, default=ROOT, help="checkout of the new code")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--passes", type=int, default=2, help="times over the queries")
    parser.add_argument("--corpus-index", type=Path, help="a 4-shard index of the corpus")
    parser.add_argument("--only", choices=("corpus", "copies"), help="one index only")
    parser.add_argument("--label", default="")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "serve_http.json")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    trees = {"old": args.old, "new": args.new} if args.old else {"new": args.new}
    table = copies_table(WORK / "copies.parquet")
    indexes = {
        "corpus": (args.corpus_index or build(CORPUS, WORK / "corpus-4"), CORPUS, False),
        "copies": (build(table, WORK / "copies-4"), table, True),
    }
    run: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "label": args.label,
        "cpus": os.cpu_count(),
        "trees": {k: f"{v}: {_commit(v)}" for k, v in trees.items()},
    }
    for name, (index, source, originals) in indexes.items():
        if args.only and name != args.only:
            continue
        codes = queries(source, args.queries, originals=originals)
        run[name] = measure(trees, index, codes, args.passes)
        print(json.dumps({name: run[name]}, indent=1), flush=True)
    run["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    earlier: list[Any] = []
    if args.out.exists():  # earlier runs kept, oldest first
        previous = json.loads(args.out.read_text())
        earlier = [*previous.pop("earlier", []), previous]
    args.out.write_text(json.dumps({**run, "earlier": earlier}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
