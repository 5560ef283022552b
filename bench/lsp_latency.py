"""Language server latency: from didChange to the published diagnostics.

    python bench/lsp_latency.py [--index /tmp/lsp-bench-index] [--edits 50] [--debounce-ms 0]

Builds the index of the whole shared corpus once (if the directory is absent), writes a
500-line Python file of its own code holding one function copied from the corpus, starts
`attribution lsp --index DIR` and, over stdio with pygls' client, makes one edit at a time
(an assignment or return extended by ` + k`: four in five in its own code, real Python that the
corpus does not hold, every fifth inside the copied function), timing each edit from the
didChange sent to the publishDiagnostics of that version. The debounce is set to 0 ms so
the figure is the server's work (the editor default adds 300 ms of quiet on purpose).
Target: p99 <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "files.parquet"
LINES = 500


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


def copied_function(corpus: Path) -> tuple[str, str, str]:
    """(repo, path, source) of a 25-60 line Python function of the corpus."""
    import pyarrow.parquet as pq

    from attribution.core.tokenize import tokenize

    table = pq.read_table(corpus, columns=["repo_name", "path", "content"])
    for row in table.to_pylist():
        if not row["path"].endswith(".py") or "test" in row["path"]:
            continue
        text: str = row["content"]
        stream = tokenize(text, "python")
        lines = text.split("\n")
        for a, b in stream.units.tolist():
            first, last = int(stream.line[a]), int(stream.end_line[b - 1])
            body = lines[first - 1 : last]
            if 25 <= len(body) <= 60 and not body[0].startswith((" ", "\t")):
                return row["repo_name"], row["path"], "\n".join(body) + "\n"
    raise SystemExit("no suitable function in the corpus")


OWN_MODULES = ("calendar", "fractions", "shlex", "graphlib")  # not in the corpus: "our" code


def own_code() -> list[str]:
    """Real, varied Python that the corpus does not hold (stdlib modules), as lines."""
    import importlib
    import inspect

    lines: list[str] = []
    for name in OWN_MODULES:
        lines += inspect.getsource(importlib.import_module(name)).split("\n")
    return lines


def document(func: str, own: list[str]) -> tuple[str, int, int]:
    """500 lines: own code, the copied function near line 240, own code; and the lines
    of the copied function."""
    head = own[: _boundary(own, 238)]
    copied = func.rstrip("\n").split("\n")
    first = len(head) + 2
    last = first + len(copied) - 1
    body = [*head, "", *copied, "", ""]
    body += own[len(head) : len(head) + LINES - len(body)]
    return "\n".join(body) + "\n", first, last


def _boundary(lines: list[str], n: int) -> int:
    """The top-level statement (a whole function or class) that starts nearest to line n."""
    starts = [
        i for i, line in enumerate(lines) if line[:1] not in ("", " ", "\t", "#", ")", "]", "}")
    ]
    return min(starts, key=lambda i: abs(i - n))


EDITABLE = re.compile(r"^\s+(?:return |[A-Za-z_][\w.]* = )[^#]*[\w)\]\"']$")


def editable_lines(text: str, first: int, last: int) -> tuple[list[int], list[int]]:
    """0-based lines that an edit can touch (simple assignments and returns): outside and
    inside the copied function."""
    outside: list[int] = []
    inside: list[int] = []
    for i, line in enumerate(text.split("\n")):
        if EDITABLE.match(line):
            (inside if first - 1 <= i <= last - 1 else outside).append(i)
    return outside, inside


def edited(text: str, line: int, k: int) -> str:
    """text with ` + k` appended to one assignment or return (a token-level edit)."""
    lines = text.split("\n")
    lines[line] = lines[line] + f" + {k}"
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    repo, path, func = copied_function(args.corpus)
    base, first, last = document(func, own_code())
    outside, inside = editable_lines(base, first, last)
    rng = random.Random(7)
    published: dict[int, asyncio.Future[list[types.Diagnostic]]] = {}
    client = LanguageClient("lsp-latency", "1")

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        fut = published.get(params.version or 0)
        if fut is not None and not fut.done():
            fut.set_result(list(params.diagnostics))

    cmd = [sys.executable, "-m", "attribution", "lsp", "--index", str(args.index)]
    await client.start_io(*cmd)
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            initialization_options={"debounceMs": args.debounce_ms}
            | ({"maxCandidates": args.max_candidates} if args.max_candidates else {}),
        )
    )
    client.initialized(types.InitializedParams())
    uri = "file:///bench/module.py"
    loop = asyncio.get_running_loop()

    async def send(version: int, text: str) -> tuple[float, list[types.Diagnostic]]:
        published[version] = loop.create_future()
        started = time.perf_counter()
        if version == 1:
            client.text_document_did_open(
                types.DidOpenTextDocumentParams(
                    types.TextDocumentItem(uri, "python", version, text)
                )
            )
        else:
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    types.VersionedTextDocumentIdentifier(version=version, uri=uri),
                    [types.TextDocumentContentChangeWholeDocument(text)],
                )
            )
        found = await asyncio.wait_for(published[version], 60)
        return (time.perf_counter() - started) * 1000.0, found

    open_ms, found = await send(1, base)
    reported = _check(found, repo, path)
    times = []
    for edit in range(args.edits):
        pool = inside if edit % 5 == 4 and inside else outside
        text = edited(base, rng.choice(pool), edit)  # each edit on the opened text
        ms, found = await send(edit + 2, text)
        _check(found, repo, path)
        times.append(ms)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    arr = np.array(times)
    return {
        "copied": f"{repo} {path}",
        "copied_lines": [first, last],
        "reported_lines": reported,
        "document_lines": base.count("\n"),
        "edits": len(times),
        "debounce_ms": args.debounce_ms,
        "max_candidates": args.max_candidates,
        "open_ms": round(open_ms, 1),
        "median_ms": round(statistics.median(times), 1),
        "p90_ms": round(float(np.percentile(arr, 90)), 1),
        "p99_ms": round(float(np.percentile(arr, 99)), 1),
        "max_ms": round(float(arr.max()), 1),
    }


def _check(found: list[types.Diagnostic], repo: str, path: str) -> list[int]:
    hits = [d for d in found if repo in d.message and path in d.message]
    if not hits:
        raise SystemExit(f"the copied function was not reported: {[d.message for d in found]}")
    return [hits[0].range.start.line + 1, hits[0].range.end.line + 1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--index", type=Path, default=Path("/tmp/lsp-bench-index"))
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--edits", type=int, default=50)
    p.add_argument("--debounce-ms", type=int, default=0)
    p.add_argument("--max-candidates", type=int, default=None, help="default: the server's (6)")
    args = p.parse_args()
    ensure_index(args.index, args.corpus)
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
