"""Peers on the same queries and corpus: Dolos, copydetect, jscpd, SCANOSS winnowing.

The corpus is materialised once (one file per distinct blob, in the query languages),
with the queries beside it; each peer runs in a subprocess from the cache that
bench/peers/setup.sh filled, and answers are mapped back to blob ids. A peer that cannot
run is reported with its error text, and the others go on.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from attrbench.generate import EXTENSIONS, FileRow, Query

HERE = Path(__file__).resolve().parents[1] / "peers"
PEERS = ("dolos", "copydetect", "jscpd", "scanoss")


def _nice() -> list[str]:
    return ["nice", "-n", "5"] if shutil.which("nice") else []


def materialise(
    work: Path, corpus: list[FileRow], queries: list[Query]
) -> tuple[Path, dict[int, str]]:
    """Files on disk and a manifest; returns it and corpus id -> blob_id."""
    cdir, qdir = work / "corpus", work / "queries"
    blobs: dict[int, str] = {}
    entries, seen = [], set()
    langs = {q.language for q in queries}
    for f in corpus:
        if f.language not in langs or f.blob_id in seen:
            continue
        seen.add(f.blob_id)
        cid = len(entries)
        path = cdir / f.language / f"c{cid}.{EXTENSIONS[f.language]}"
        entries.append({"id": cid, "file": str(path), "language": f.language})
        blobs[cid] = f.blob_id
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f.content, encoding="utf-8", errors="replace")
    if qdir.exists():
        shutil.rmtree(qdir)
    qentries = []
    for q in queries:
        path = qdir / q.language / q.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(q.code, encoding="utf-8", errors="replace")
        qentries.append({"id": q.id, "file": str(path), "language": q.language})
    manifest = work / "manifest.json"
    manifest.write_text(json.dumps({"corpus": entries, "queries": qentries}))
    return manifest, blobs


def _run(cmd: list[str], cwd: Path | None, timeout: float) -> tuple[float, str | None]:
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            _nice() + cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return time.perf_counter() - started, f"timed out after {timeout:.0f} s"
    except OSError as err:
        return time.perf_counter() - started, f"{type(err).__name__}: {err}"
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return seconds, f"exit {proc.returncode}: " + " | ".join(tail)
    return seconds, None


def _answers(raw: dict[str, Any], blobs: dict[int, str]) -> dict[str, dict[str, Any]]:
    out = {}
    for qid, matches in raw["answers"].items():
        for m in matches:
            m["blob_id"] = blobs.get(m.pop("cid"), "")
        out[qid] = {"ms": raw.get("ms", {}).get(qid), "matches": matches}
    return out


def run_python_peer(name: str, cache: Path, manifest: Path, work: Path, timeout: float) -> Any:
    py = cache / "pyenv" / "bin" / "python"
    if not py.exists():
        return None, f"not installed ({py} missing): run bench/peers/setup.sh"
    out = work / f"{name}.json"
    seconds, err = _run(
        [str(py), str(HERE / f"{name}_run.py"), str(manifest), str(out)], None, timeout
    )
    if err:
        return None, err
    raw = json.loads(out.read_text())
    raw["wall_s"] = seconds
    return raw, None


def run_dolos(cache: Path, manifest: Path, work: Path, timeout: float) -> Any:
    node_dir = cache / "node"
    if not (node_dir / "node_modules" / "@dodona" / "dolos-lib").exists():
        return None, "not installed (@dodona/dolos-lib missing): run bench/peers/setup.sh"
    shutil.copy(HERE / "dolos_query.mjs", node_dir / "dolos_query.mjs")
    out = work / "dolos.json"
    cmd = [
        "node",
        "--stack-size=7000",
        "--max-old-space-size=8192",
        "dolos_query.mjs",
        str(manifest),
        str(out),
    ]
    seconds, err = _run(cmd, node_dir, timeout)
    if err:
        return None, err
    raw = json.loads(out.read_text())
    raw["wall_s"] = seconds
    if raw.get("errors"):
        raw["note"] = "; ".join(f"{k}: {v}" for k, v in raw["errors"].items())
    return raw, None


JSCPD_ARGS = ["--ignore-identifiers", "--ignore-literals", "--max-gap-lines", "3"]


def run_jscpd(cache: Path, manifest: Path, work: Path, timeout: float) -> Any:
    """jscpd over corpus + queries at once (it finds clones within what it is given), with
    its type-2/3 options on; clones that pair a query with a corpus file are kept."""
    exe = cache / "node" / "node_modules" / ".bin" / "jscpd"
    if not exe.exists():
        return None, f"not installed ({exe} missing): run bench/peers/setup.sh"
    data = json.loads(manifest.read_text())
    out_dir = work / "jscpd-out"
    shutil.rmtree(out_dir, ignore_errors=True)
    cmd = [str(exe), "--reporters", "json", "--output", str(out_dir), "--silent", "--absolute"]
    cmd += [*JSCPD_ARGS, "--workers", "2", str(work / "corpus"), str(work / "queries")]
    seconds, err = _run(cmd, None, timeout)
    if err:
        return None, err
    report = json.loads((out_dir / "jscpd-report.json").read_text())
    by_file = {Path(c["file"]).name: c["id"] for c in data["corpus"]}
    qids = {Path(q["file"]).name: q["id"] for q in data["queries"]}
    qlines = {q["id"]: Path(q["file"]).read_text().count("\n") or 1 for q in data["queries"]}
    hits: dict[str, dict[int, list[tuple[list[int], list[int]]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for d in report["duplicates"]:
        a, b = Path(d["firstFile"]["name"]).name, Path(d["secondFile"]["name"]).name
        ra = [d["firstFile"]["start"], d["firstFile"]["end"]]
        rb = [d["secondFile"]["start"], d["secondFile"]["end"]]
        if a in qids and b in by_file:
            hits[qids[a]][by_file[b]].append((ra, rb))
        elif b in qids and a in by_file:
            hits[qids[b]][by_file[a]].append((rb, ra))
    answers: dict[str, list[dict[str, Any]]] = {q["id"]: [] for q in data["queries"]}
    for qid, files in hits.items():
        ranked = []
        for cid, pairs in files.items():
            covered = set()
            for (qa, qb), _ in pairs:
                covered.update(range(qa, qb + 1))
            ranked.append(
                {
                    "cid": cid,
                    "score": min(1.0, len(covered) / qlines[qid]),
                    "query_lines": [min(p[0][0] for p in pairs), max(p[0][1] for p in pairs)],
                    "source_lines": [min(p[1][0] for p in pairs), max(p[1][1] for p in pairs)],
                }
            )
        ranked.sort(key=lambda m: (-m["score"], m["cid"]))
        answers[qid] = ranked[:5]
    return {"wall_s": seconds, "answers": answers, "args": JSCPD_ARGS}, None


def run_all(
    cache: Path,
    work: Path,
    corpus: list[FileRow],
    queries: list[Query],
    only: tuple[str, ...] = PEERS,
    timeout: float = 3600.0,
    copydetect_sample: list[Query] | None = None,
) -> dict[str, dict[str, Any]]:
    """name -> {"status", "error"?, "answers"?, timing fields}. copydetect runs on
    copydetect_sample (it is pairwise: every query against every file)."""
    work.mkdir(parents=True, exist_ok=True)
    manifest, blobs = materialise(work, corpus, queries)
    results: dict[str, dict[str, Any]] = {}
    for name in only:
        if name == "copydetect" and copydetect_sample is not None:
            sub = work / "copydetect-sample"
            sub.mkdir(exist_ok=True)
            if (sub / "corpus").exists() or (sub / "corpus").is_symlink():
                (sub / "corpus").unlink()
            os.symlink(work / "corpus", sub / "corpus")
            man, _ = materialise(sub, corpus, copydetect_sample)
            raw, err = run_python_peer(name, cache, man, sub, timeout)
        elif name in ("copydetect", "scanoss"):
            raw, err = run_python_peer(name, cache, manifest, work, timeout)
        elif name == "dolos":
            raw, err = run_dolos(cache, manifest, work, timeout)
        else:
            raw, err = run_jscpd(cache, manifest, work, timeout)
        if err:
            results[name] = {"status": "failed", "error": err}
            continue
        info = {k: v for k, v in raw.items() if k not in ("answers", "ms")}
        results[name] = {"status": "ok", **info, "answers": _answers(raw, blobs)}
    return results
