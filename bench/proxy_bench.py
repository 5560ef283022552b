"""Generation-time proxy: latency it adds and its behaviour under concurrent streams.

    python bench/proxy_bench.py [--index DIR] [--blocks 200] [--ttft 300] [--seconds 60]

Three processes on this machine: an OpenAI-compatible stand-in model server (this file,
`--serve-upstream`: it streams back the last user message in chunks of `x_chunk` characters
every `x_delay_ms`), `attribution proxy --mode annotate` in front of it on an index of the
whole shared corpus (built once into DIR), and the client here (httpx, SSE read by hand).

* time to first token: the same streamed answer asked directly and through the proxy,
  interleaved; the figure is the difference of the medians (target <= 5 ms p50). Waiting
  grows with the machine's load, so the proxy's CPU time per request (the whole answer of
  70 chunks, read from /proc) is given too, and per answer sent in one chunk (the fixed
  cost of a request, which is what a first token waits for on an idle core);
* closing fence -> attribution chunk: answers holding one block of 10-200 lines cut from a
  random corpus file (so it matches), from the moment the client has the closing fence to
  the moment it has that block's attribution chunk (target <= 50 ms p99);
* 32 concurrent streams for 60 s, each at a model's pace (default one token of 4 characters
  every 20 ms, 50 tokens/s; `--chunk`, `--delay-ms`): errors (any HTTP error, a
  stream without its final attribution chunk or `[DONE]`, text that differs from what the
  model sent) must be zero.

The machine is shared: the load average is recorded before and after. Output:
bench/results/proxy.json.
"""

from __future__ import annotations

import argparse
import asyncio
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
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "files.parquet"
DEFAULT_INDEX = Path.home() / ".cache" / "attribution-bench" / "proxy-corpus-index"
OUT = ROOT / "bench" / "results" / "proxy.json"
WARM = 10  # blocks (and requests) asked first and not counted
TAGS = {
    ".py": "python",
    ".js": "javascript",
    ".ts": "typescript",
    ".c": "c",
    ".go": "go",
    ".java": "java",
    ".rs": "rust",
    ".cpp": "cpp",
    ".cc": "cpp",
    ".rb": "ruby",
}


# ---------------------------------------------------------------- the stand-in model
def upstream_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    async def chat(request: Request) -> Any:
        body = await request.json()
        text = body["messages"][-1]["content"]
        size, delay = int(body.get("x_chunk", 8)), float(body.get("x_delay_ms", 0)) / 1000
        head = {
            "id": "cmpl-bench",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "bench",
        }
        if not body.get("stream"):
            message = {"role": "assistant", "content": text}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            return JSONResponse({**head, "object": "chat.completion", "choices": [choice]})

        async def events() -> Any:
            for i in range(0, len(text), size):
                choice = {
                    "index": 0,
                    "delta": {"content": text[i : i + size]},
                    "finish_reason": None,
                }
                yield f"data: {json.dumps({**head, 'choices': [choice]})}\n\n"
                if delay:
                    await asyncio.sleep(delay)
            end = {"index": 0, "delta": {}, "finish_reason": "stop"}
            yield f"data: {json.dumps({**head, 'choices': [end]})}\n\ndata: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} did not start")


# ---------------------------------------------------------------- answers
def corpus_blocks(corpus: Path, count: int, seed: int) -> list[tuple[str, str]]:
    """(fence tag, code) windows of 10-200 lines of random corpus files."""
    import pyarrow.parquet as pq

    table = pq.read_table(corpus, columns=["path", "content"])
    rng = random.Random(seed)
    paths, contents = table.column("path").to_pylist(), table.column("content")
    order = list(range(len(paths)))
    rng.shuffle(order)
    out: list[tuple[str, str]] = []
    for i in order:
        tag = TAGS.get(os.path.splitext(paths[i])[1])
        if tag is None:
            continue
        lines = str(contents[i].as_py()).splitlines(keepends=True)
        if len(lines) < 40:
            continue
        n = rng.randint(10, min(200, len(lines)))
        start = rng.randint(0, len(lines) - n)
        code = "".join(lines[start : start + n])
        if "```" in code or "~~~" in code or len(code) > 60_000:
            continue
        out.append((tag, code if code.endswith("\n") else code + "\n"))
        if len(out) == count:
            return out
    return out


def answer(tag: str, code: str) -> str:
    return f"Here is one way to do it:\n\n```{tag}\n{code}```\n\nThat should work.\n"


# ---------------------------------------------------------------- the client
class Seen:
    """What a client received of one streamed answer, and when (perf_counter seconds)."""

    def __init__(self, sent: str) -> None:
        self.sent, self.text, self.done = sent, "", False
        self.fence_at = sent.rfind("```\n") + 4  # where the closing fence has arrived
        self.started = time.perf_counter()
        self.first: float | None = None
        self.fence: float | None = None
        self.attribution: list[list[dict[str, Any]]] = []
        self.attributed: dict[int, float] = {}  # block -> when its attribution came

    def event(self, payload: str, now: float) -> None:
        if payload == "[DONE]":
            self.done = True
            return
        obj = json.loads(payload)
        if "attribution" in obj:
            self.attribution.append(obj["attribution"])
            for item in obj["attribution"]:
                self.attributed.setdefault(item["block"], now)
            return
        for choice in obj["choices"]:
            self.text += choice.get("delta", {}).get("content") or ""
        if self.text and self.first is None:
            self.first = now
        if self.fence is None and len(self.text) >= self.fence_at:
            self.fence = now

    def result(self) -> dict[str, Any]:
        keys = ("text", "sent", "started", "first", "fence", "attribution", "attributed", "done")
        return {k: getattr(self, k) for k in keys}


async def stream(client: Any, url: str, text: str, chunk: int, delay_ms: float) -> dict[str, Any]:
    """Ask for a streamed answer; when each thing arrived and what."""
    body = {"model": "bench", "stream": True, "x_chunk": chunk, "x_delay_ms": delay_ms,
            "messages": [{"role": "user", "content": text}]}  # fmt: skip
    seen = Seen(text)
    async with client.stream("POST", url + "/v1/chat/completions", json=body) as response:
        if response.status_code != 200:
            error = (await response.aread())[:300].decode("utf-8", "replace")
            raise RuntimeError(f"HTTP {response.status_code}: {error}")
        buffer = b""
        async for data in response.aiter_bytes():
            buffer += data
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                seen.event(event.decode()[len("data: ") :], time.perf_counter())
    return seen.result()


def ok(result: dict[str, Any]) -> bool:
    final = result["attribution"][-1] if result["attribution"] else None
    return bool(result["done"] and final is not None and result["text"] == result["sent"])


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) a process has used so far, in milliseconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 2)


async def measure_ttft(proxy: str, upstream: str, n: int, pid: int) -> dict[str, Any]:
    """Time to first token direct and through the proxy; and the proxy's CPU time per
    request, which a busy machine does not inflate the way it inflates waiting."""
    import httpx

    text = "Sure. " + "This answer is prose only. " * 20
    direct, through = [], []
    cpu = 0.0
    async with httpx.AsyncClient(timeout=60) as client:
        for i in range(n + WARM):
            if i == WARM:
                cpu = cpu_ms(pid)
            for url, into in ((upstream, direct), (proxy, through)):
                r = await stream(client, url, text, 8, 0)
                if i >= WARM:
                    into.append((r["first"] - r["started"]) * 1000)
        per_request = (cpu_ms(pid) - cpu) / n
        cpu = cpu_ms(pid)
        for _ in range(n):  # the answer in one chunk: the proxy's fixed cost of a request
            await stream(client, proxy, text, len(text), 0)
        per_one_chunk = (cpu_ms(pid) - cpu) / n
    return {
        "requests_each": n,
        "direct_p50_ms": pct(direct, 0.5),
        "proxy_p50_ms": pct(through, 0.5),
        "added_p50_ms": round(statistics.median(through) - statistics.median(direct), 2),
        "proxy_cpu_ms_per_request": round(per_request, 2),
        "proxy_cpu_ms_per_one_chunk_request": round(per_one_chunk, 2),
        "direct_p99_ms": pct(direct, 0.99),
        "proxy_p99_ms": pct(through, 0.99),
        "target_added_p50_ms": 5.0,
    }


async def measure_fence(proxy: str, blocks: list[tuple[str, str]]) -> dict[str, Any]:
    """Closing fence -> attribution chunk, and of it the engine's own time (elapsed_ms of
    the entry) and the rest (the proxy, the thread hand-off, the scheduler)."""
    import httpx

    latencies, engine, rest, matched, lines = [], [], [], 0, []
    async with httpx.AsyncClient(timeout=60) as client:
        for n, (tag, code) in enumerate(blocks):  # the first WARM are other blocks
            r = await stream(client, proxy, answer(tag, code), 8, 0)
            assert ok(r), "a stream ended wrongly"
            if n < WARM:
                continue
            item = r["attribution"][-1][0]
            latencies.append((r["attributed"][0] - r["fence"]) * 1000)
            engine.append(item["elapsed_ms"])
            rest.append(latencies[-1] - item["elapsed_ms"])
            matched += item["verdict"] == "match"
            lines.append(code.count("\n"))
    return {
        "blocks": len(latencies),
        "warm_up_blocks": WARM,
        "lines_min_median_max": [min(lines), int(statistics.median(lines)), max(lines)],
        "matched": matched,
        "p50_ms": pct(latencies, 0.5),
        "p90_ms": pct(latencies, 0.9),
        "p99_ms": pct(latencies, 0.99),
        "max_ms": round(max(latencies), 2),
        "engine_p50_ms": pct(engine, 0.5),
        "engine_p99_ms": pct(engine, 0.99),
        "beyond_engine_p50_ms": pct(rest, 0.5),
        "beyond_engine_p99_ms": pct(rest, 0.99),
        "target_p99_ms": 50.0,
    }


async def load_worker(
    proxy: str, blocks: list[tuple[str, str]], args: argparse.Namespace, deadline: float,
    tally: dict[str, Any], rng: random.Random,
) -> None:  # fmt: skip
    """One of the concurrent streams: answers one after another until the deadline."""
    import httpx

    async with httpx.AsyncClient(timeout=120) as client:
        while time.monotonic() < deadline:
            tag, code = blocks[rng.randrange(len(blocks))]
            try:
                r = await stream(client, proxy, answer(tag, code), args.chunk, args.delay_ms)
            except Exception as err:  # every failure counts, whatever its kind
                tally["errors"] += 1
                tally["error_samples"].append(f"{type(err).__name__}: {err}"[:200])
                continue
            tally["streams"] += 1
            if not ok(r):
                tally["errors"] += 1
                tally["error_samples"].append("no attribution chunk, [DONE] or same text")
                continue
            tally["blocks_attributed"] += len(r["attribution"][-1])
            tally["latencies"].append((r["attributed"][0] - r["fence"]) * 1000)


async def measure_load(
    proxy: str, blocks: list[tuple[str, str]], args: argparse.Namespace, pid: int
) -> dict[str, Any]:
    """32 streams at once for `--seconds` (each finishes the answer it is in)."""
    tally: dict[str, Any] = {"streams": 0, "errors": 0, "blocks_attributed": 0}
    tally.update(error_samples=[], latencies=[])
    rng = random.Random(5)
    started, cpu = time.monotonic(), cpu_ms(pid)
    deadline = started + args.seconds
    await asyncio.gather(
        *(load_worker(proxy, blocks, args, deadline, tally, rng) for _ in range(32))
    )
    busy = (cpu_ms(pid) - cpu) / 1000 / (time.monotonic() - started)
    latencies = tally.pop("latencies")
    tally["error_samples"] = tally["error_samples"][:5]
    return {
        "proxy_cpu_share_of_one_core": round(busy, 3),
        "concurrent_streams": 32,
        "pace": f"{args.chunk} characters every {args.delay_ms:g} ms per stream",
        "seconds": round(time.monotonic() - started, 1),
        **tally,
        "fence_to_attribution_p50_ms": pct(latencies, 0.5) if latencies else None,
        "fence_to_attribution_p99_ms": pct(latencies, 0.99) if latencies else None,
    }


# ---------------------------------------------------------------- main
def start(cmd: list[str], port: int, what: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    wait_port(port, proc, what)
    return proc


def ensure_index(index: Path, corpus: Path) -> None:
    if (index / "MANIFEST.json").exists():
        return
    print(f"building {index} from {corpus} (once)", file=sys.stderr)
    cmd = [
        sys.executable,
        "-m",
        "attribution",
        "index",
        "build",
        str(corpus),
        "--index",
        str(index),
    ]
    subprocess.run(cmd, check=True)


def upstream_command(port: int) -> list[str]:
    return [sys.executable, __file__, "--serve-upstream", str(port)]


def proxy_command(up_port: int, port: int, index: Path) -> list[str]:
    """`attribution proxy` (annotate mode) in front of the stand-in."""
    upstream = f"http://127.0.0.1:{up_port}"
    return [sys.executable, "-m", "attribution", "proxy", "--upstream", upstream, "--index",
            str(index), "--port", str(port)]  # fmt: skip


def run_all(
    args: argparse.Namespace,
    blocks: list[tuple[str, str]],
    up_port: int,
    proxy_port: int,
    load_before: tuple[float, float, float],
    pid: int,
) -> dict[str, Any]:
    up, px = f"http://127.0.0.1:{up_port}", f"http://127.0.0.1:{proxy_port}"
    result: dict[str, Any] = {
        "what": "attribution proxy (annotate mode) in front of a stand-in model server",
        "machine": {"cores": os.cpu_count(), "load_before": [round(x, 2) for x in load_before]},
        "index": str(args.index),
        "ttft": asyncio.run(measure_ttft(px, up, args.ttft, pid)),
        "fence_to_attribution": asyncio.run(measure_fence(px, blocks)),
        "load": asyncio.run(measure_load(px, blocks, args, pid)),
    }
    result["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--blocks", type=int, default=200)
    p.add_argument("--ttft", type=int, default=300)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--chunk", type=int, default=4, help="characters per streamed chunk (load)")
    p.add_argument("--delay-ms", type=float, default=20.0, help="between chunks (load)")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--serve-upstream", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve_upstream is not None:
        import uvicorn

        uvicorn.run(
            upstream_app(),
            host="127.0.0.1",
            port=args.serve_upstream,
            log_level="warning",
            access_log=False,
        )
        return
    ensure_index(args.index, args.corpus)
    blocks = corpus_blocks(args.corpus, args.blocks + WARM, seed=1)
    up_port, proxy_port = free_port(), free_port()
    load_before = os.getloadavg()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(start(upstream_command(up_port), up_port, "the stand-in model server"))
        procs.append(start(proxy_command(up_port, proxy_port, args.index), proxy_port, "proxy"))
        result = run_all(args, blocks, up_port, proxy_port, load_before, procs[-1].pid)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
