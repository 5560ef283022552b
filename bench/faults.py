"""Fault injection: damaged index files, malformed manifests and writers killed mid-way.

Usage: python bench/faults.py [--kills 200] [--seed 1] [--json bench/results/faults.json]

1. Damaged files. A small index is built (two repositories, one removal so it has a
   deletion list); for every kind of file in it (each file of a segment, SEGMENT.json,
   MANIFEST.json, the deletion list) and every damage (truncated, emptied, bytes
   flipped at seeded places, replaced by a pickled NumPy array), `check`, `index
   stats`, `index add`, `index merge` and a service query (POST /v1/attribute) are run
   in process. Each ends one of three ways: `clean` (a non-zero exit with exactly one
   stderr line naming the damaged file, or a 503 naming it), `correct` (the answer of
   the undamaged index) or `bad` (a traceback, a wrong answer, an error not naming it).
2. Malformed manifests: every field set to values of the wrong type or shape.
3. Kill -9: `index build` (over an existing index), `add`, `merge`, `remove` and an
   HTTP opt-out (the service's POST /v1/optout in a child process) are killed at seeded
   random moments; then the index must open, `index verify --deep` pass, and every
   source committed before the kill still answer (or, for a removal, be either all
   there or all removed). Counted: kill points tried and indexes lost.

The builders are also used by tests/test_faults.py, with fewer cases.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import json
import os
import pickle
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from attribution.cli.main import main as cli

DAMAGES = ("truncate", "empty", "flip", "pickle")
OPS = ("check", "stats", "add", "merge", "service")
REPO = Path(__file__).resolve().parents[1]


# --- a small index ------------------------------------------------------------------------
def write_sources(root: Path) -> dict[str, Path]:
    """Two repositories to build from, one to add, and a query file."""
    import json as json_mod
    import shlex
    import string

    def repo(name: str, files: dict[str, str]) -> Path:
        for path, text in files.items():
            (root / name / path).parent.mkdir(parents=True, exist_ok=True)
            (root / name / path).write_text(text)
        (root / name / "LICENSE").write_text("MIT License\n\nCopyright (c) 2020 Ada\n")
        return root / name

    tw = inspect.getsource(textwrap)
    src = root / "src"
    repo("src/alpha", {"textwrap.py": tw, "shlex.py": inspect.getsource(shlex)})
    repo("src/beta", {"decoder.py": inspect.getsource(json_mod.decoder), "tw.py": tw})
    repo("src/gone", {"string.py": inspect.getsource(string)})
    extra = repo("extra/gamma", {"scanner.py": inspect.getsource(json_mod.scanner)})
    query = root / "query.py"
    query.write_text("\n".join(tw.splitlines()[99:140]) + "\n")
    return {"src": src, "extra": extra.parent, "query": query}


def make_index(root: Path, src: Path) -> Path:
    """An index of src with the repository `gone` removed (so it has a deletion list)."""
    from attribution.index.build import build
    from attribution.index.maintain import remove

    out = root / "index"
    build([str(src)], out, jobs=1)
    remove(out, [("repo", "gone")])
    return out


def file_kinds(index: Path) -> dict[str, Path]:
    """Every kind of file of the index: name -> one file of that kind."""
    manifest = json.loads((index / "MANIFEST.json").read_text())
    seg = index / "segments" / manifest["segments"][0]
    kinds = {p.name: p for p in sorted(seg.iterdir()) if p.is_file()}
    kinds["MANIFEST.json"] = index / "MANIFEST.json"
    kinds["deletions"] = index / manifest["deletions"]
    return kinds


# --- damage ------------------------------------------------------------------------------
def damage(path: Path, how: str, rng: random.Random) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: rng.randrange(0, max(len(data), 1))])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "flip":
        buf = bytearray(data)
        for _ in range(min(8, len(buf))):
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(buf))
    elif how == "pickle":
        path.write_bytes(pickle.dumps(np.arange(64, dtype=np.uint32)))
    else:
        raise ValueError(f"unknown damage {how!r}")


# --- running a command in process ----------------------------------------------------------
def run_cli(args: list[str]) -> tuple[int | str, str, str]:
    """(exit code, stdout, stderr) of the CLI; an escaping exception is 'traceback'."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code: int | str = cli(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        except Exception as exc:
            code = f"traceback: {type(exc).__name__}: {exc}"
    return code, out.getvalue(), err.getvalue()


def service_query(index: Path, query: str) -> tuple[int | str, Any]:
    from attribution.web import create_app

    try:
        client = create_app(index, env={}).test_client()
        resp = client.post("/v1/attribute", json={"code": query, "language": "python"})
    except Exception as exc:
        from attribution.index.format import IndexFormatError

        if isinstance(exc, IndexFormatError):
            return 503, {"error": {"message": str(exc)}}
        return f"traceback: {type(exc).__name__}: {exc}", None
    return resp.status_code, resp.get_json()


def answer_of(body: Any) -> Any:
    """What must not change: each match's source, lines and score."""
    if not isinstance(body, dict) or "matches" not in body:
        return body
    return [
        (m["source"]["repo_name"], m["source"]["path"], m.get("source_lines"), m.get("score"))
        for m in body["matches"]
    ]


# --- one damaged-file case ---------------------------------------------------------------
class Case:
    """Runs the operations on a damaged copy of an index and classifies each outcome."""

    def __init__(self, base: Path, work: Path, files: dict[str, Path]) -> None:
        self.base, self.work, self.files = base, work, files
        self.index = work / "index"
        self.reference = {op: self._run(op) for op in OPS}

    def _run(self, op: str, harm: Callable[[], None] | None = None) -> tuple[Any, ...]:
        """An operation on a fresh copy of the index, damaged first by `harm`."""
        shutil.rmtree(self.index, ignore_errors=True)
        shutil.copytree(self.base, self.index)
        if harm:
            harm()
        idx, q = str(self.index), str(self.files["query"])
        if op == "check":
            code, out, err = run_cli(["check", q, "--index", idx, "--format", "json"])
            return code, answer_of(json.loads(out)) if out else "", err
        if op == "stats":
            return run_cli(["index", "stats", "--index", idx, "--format", "json"])
        if op == "add":
            code, _, err = run_cli(["index", "add", str(self.files["extra"]), "--index", idx])
            return code, "", err if code != 0 else ""
        if op == "merge":
            code, _, err = run_cli(["index", "merge", "--index", idx])
            if code != 0:
                return code, "", err
            out = run_cli(["check", q, "--index", idx, "--format", "json"])[1]
            return code, answer_of(json.loads(out)) if out else "", ""
        code, body = service_query(self.index, self.files["query"].read_text())
        return code, answer_of(body), ""

    def damaged(self, rel: str, how: str, rng: random.Random) -> dict[str, str]:
        """Outcome of each operation with one file damaged."""
        out = {}
        state = rng.getstate()
        for op in OPS:
            rng.setstate(state)  # the same damage for each operation
            got = self._run(op, lambda: damage(self.index / rel, how, rng))
            out[op] = classify(got, self.reference[op], Path(rel).name)
        return out


def classify(got: tuple[Any, ...], want: tuple[Any, ...], name: str) -> str:
    code, out, err = got
    if isinstance(code, str):
        return "bad: " + code[:200]
    if code == want[0] and out == want[1]:
        return "correct"
    if code == 503:
        message = json.dumps(out)
        return "clean" if name in message or "deletions" in message else "bad: 503 " + message
    lines = [line for line in err.splitlines() if line.strip()]
    if code not in (0, 1) and len(lines) == 1 and lines[0].startswith("attribution: error:"):
        named = name in lines[0] or (name == "deletions" and "deletions-" in lines[0])
        return "clean" if named else "bad: names another file: " + lines[0][:200]
    return f"bad: exit {code}, {len(lines)} lines: " + " | ".join(lines)[:200]


def damaged_cases(tmp: Path, seed: int, rounds: int = 1) -> Iterator[dict[str, Any]]:
    """Every (file kind, damage) case, `rounds` times with different seeded places."""
    files = write_sources(tmp)
    base = make_index(tmp / "base", files["src"])
    case = Case(base, tmp / "work", files)
    rng = random.Random(seed)
    for r in range(rounds):
        for kind, path in file_kinds(base).items():
            rel = str(path.relative_to(base))
            for how in DAMAGES:
                outcome = case.damaged(rel, how, rng)
                yield {"round": r, "file": kind, "damage": how, "outcome": outcome}


# --- malformed manifests -------------------------------------------------------------------
BAD_VALUES: list[Any] = [
    "x", 1, -1, 2.5, True, None, [], {}, ["x"], [1], {"a": 1}, "../../etc", ["../x"],
    ["seg-a", "seg-a"], "deletions-x.npy", 10**30,
]  # fmt: skip
FIELDS = ("format", "version", "config", "segments", "deletions", "shards", "created", "updated")


def manifest_cases(tmp: Path) -> Iterator[dict[str, Any]]:
    """Each manifest field set to each bad value (and removed), then check and add."""
    files = write_sources(tmp)
    base = make_index(tmp / "base", files["src"])
    good = json.loads((base / "MANIFEST.json").read_text())
    work = tmp / "work"
    for field in FIELDS:
        for value in [*BAD_VALUES, "<missing>"]:
            manifest = dict(good)
            if value == "<missing>":
                manifest.pop(field, None)
            else:
                manifest[field] = value
            for op in ("check", "add"):
                shutil.rmtree(work, ignore_errors=True)
                shutil.copytree(base, work)
                (work / "MANIFEST.json").write_text(json.dumps(manifest))
                args = (
                    ["check", str(files["query"]), "--index", str(work), "--format", "json"]
                    if op == "check"
                    else ["index", "add", str(files["extra"]), "--index", str(work)]
                )
                code, _, err = run_cli(args)
                lines = [line for line in err.splitlines() if line.strip()]
                ok = isinstance(code, int) and (
                    code in (0, 1) or (len(lines) == 1 and lines[0].startswith("attribution:"))
                )
                yield {"field": field, "value": repr(value)[:40], "op": op, "ok": ok,
                       "detail": (lines[-1] if lines else str(code))[:200]}  # fmt: skip


# --- kill -9 ------------------------------------------------------------------------------
OPT_OUT_CHILD = """
import sys
from attribution.web import create_app
client = create_app(sys.argv[1], admin_token="t", env={}).test_client()
r = client.post("/v1/optout", json={"repo": "beta"}, headers={"Authorization": "Bearer t"})
sys.exit(0 if r.status_code == 200 else 3)
"""


def kill_command(op: str, index: Path, files: dict[str, Path]) -> list[str]:
    py = [sys.executable]
    if op == "build":  # a rebuild over the existing index: a superset of it
        return [*py, "-m", "attribution", "index", "build", str(files["src"]),
                str(files["extra"]), "--index", str(index), "--jobs", "2"]  # fmt: skip
    if op == "add":
        return [*py, "-m", "attribution", "index", "add", str(files["extra"]),
                "--index", str(index), "--jobs", "2"]  # fmt: skip
    if op == "merge":
        return [*py, "-m", "attribution", "index", "merge", "--index", str(index)]
    if op == "remove":
        return [*py, "-m", "attribution", "index", "remove", "--repo", "beta",
                "--index", str(index)]  # fmt: skip
    return [*py, "-c", OPT_OUT_CHILD, str(index)]


def committed(index: Path, query: Path) -> dict[str, Any]:
    """What a reader sees: live sources by repository, and the query's answer."""
    from attribution.index.stats import stats

    info = stats(index)
    code, out, _ = run_cli(["check", str(query), "--index", str(index), "--format", "json"])
    repos = sorted({m["source"]["repo_name"] for m in json.loads(out)["matches"]}) if out else []
    return {"sources": info["sources"], "repos": info["repos"], "code": code, "answer": repos}


def kill_once(op: str, base: Path, work: Path, files: dict[str, Path], delay: float) -> str:
    """Kill op after `delay` seconds; 'ok' when the index is whole, else what was lost."""
    index = work / "index"
    shutil.rmtree(index, ignore_errors=True)
    shutil.copytree(base, index)
    before = committed(index, files["query"])
    proc = subprocess.Popen(
        kill_command(op, index, files), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True,
    )  # fmt: skip
    try:
        proc.wait(timeout=delay)
        finished = True
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        finished = False
    return judge(op, index, files, before, finished)


def judge(op: str, index: Path, files: dict[str, Path], before: dict[str, Any], done: bool) -> str:
    code, out, err = run_cli(["index", "verify", "--deep", "--index", str(index)])
    if code != 0:
        return f"lost: verify exit {code}: {(out + err).strip()[:300]}"
    # the next writer sweeps leftovers and completes a logged removal; a reader must
    # never need it, but the sweep must not lose anything either
    from attribution.index.writer import locked

    try:
        with locked(index):
            pass
    except Exception as exc:
        return f"lost: the writer lock is not recovered: {exc}"
    after = committed(index, files["query"])
    if op in ("remove", "optout"):
        gone = after["sources"] < before["sources"]
        if gone and "beta" in after["answer"]:
            return "lost: a removal half applied"
        expect = {k: v for k, v in before.items() if k != "answer"}
        if not gone and {k: after[k] for k in expect} != expect:
            return f"lost: {before} -> {after}"
        return "ok"
    if after["sources"] < before["sources"] or not set(before["answer"]) <= set(after["answer"]):
        return f"lost: {before} -> {after}"
    return "ok"


def kill_cases(tmp: Path, kills: int, seed: int) -> Iterator[dict[str, Any]]:
    """`kills` seeded kill points spread over the five writers."""
    files = write_sources(tmp)
    base = make_index(tmp / "base", files["src"])
    rng = random.Random(seed)
    durations = {}
    for op in ("build", "add", "merge", "remove", "optout"):  # how long each runs whole
        shutil.rmtree(tmp / "work", ignore_errors=True)
        shutil.copytree(base, tmp / "work" / "index")
        t = time.perf_counter()
        subprocess.run(kill_command(op, tmp / "work" / "index", files), capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)  # fmt: skip
        durations[op] = time.perf_counter() - t
    ops = list(durations)
    for i in range(kills):
        op = ops[i % len(ops)]
        delay = rng.uniform(0.05, durations[op])
        yield {"op": op, "delay_s": round(delay, 3),
               "outcome": kill_once(op, base, tmp / "work", files, delay)}  # fmt: skip


# --- the report ----------------------------------------------------------------------------
def summarize(damaged: list[dict[str, Any]], manifests: list[dict[str, Any]],
              kills: list[dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    outcomes = Counter(o.split(":")[0] for c in damaged for o in c["outcome"].values())
    return {
        "damaged_file_cases": sum(len(c["outcome"]) for c in damaged),
        "damaged_file_outcomes": dict(outcomes),
        "damaged_file_clean_or_correct": outcomes["clean"] + outcomes["correct"],
        "damaged_file_bad": [
            {**{k: c[k] for k in ("file", "damage")}, "op": op, "outcome": o}
            for c in damaged
            for op, o in c["outcome"].items()
            if o.startswith("bad")
        ],
        "manifest_cases": len(manifests),
        "manifest_one_line_or_answer": sum(m["ok"] for m in manifests),
        "manifest_bad": [m for m in manifests if not m["ok"]],
        "kill_points": len(kills),
        "kill_points_by_op": dict(Counter(k["op"] for k in kills)),
        "indexes_lost": sum(k["outcome"] != "ok" for k in kills),
        "lost": [k for k in kills if k["outcome"] != "ok"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3, help="seeded rounds of each damage")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", default=str(REPO / "bench" / "results" / "faults.json"))
    args = ap.parse_args(argv)
    started, load = time.time(), os.getloadavg()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        damaged = list(damaged_cases(tmp / "d", args.seed, args.rounds))
        manifests = list(manifest_cases(tmp / "m"))
        kills = list(kill_cases(tmp / "k", args.kills, args.seed))
    report = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "load_average_at_start": [round(x, 2) for x in load],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "seed": args.seed,
        **summarize(damaged, manifests, kills),
    }
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    keys = ("damaged_file_cases", "damaged_file_clean_or_correct", "manifest_cases",
            "manifest_one_line_or_answer", "kill_points", "indexes_lost")  # fmt: skip
    print(json.dumps({k: report[k] for k in keys}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
