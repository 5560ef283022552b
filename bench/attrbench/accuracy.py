"""The accuracy run: prepare -> generate -> run the engine and the peers -> score."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

from attrbench import generate, metrics, ours, peers, runs
from attrbench.corpus import cache_dir
from attrbench.prepare import prepare


def _timing(answers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    ms = [a["ms"] for a in answers.values() if a.get("ms") is not None]
    if not ms:
        return {}
    ms.sort()
    return {
        "queries_timed": len(ms),
        "ms_p50": statistics.median(ms),
        "ms_p99": ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))],
        "ms_mean": statistics.fmean(ms),
        "ms_total": sum(ms),
    }


def score_tool(queries: list[generate.Query], answers: dict[str, Any]) -> dict[str, Any]:
    """Default operating point, and the lowest threshold with >= 99 % precision."""
    thr = metrics.threshold_for_precision(queries, answers, 0.99)
    thr95 = metrics.threshold_for_precision(queries, answers, 0.95)
    curve = metrics.pr_curve(queries, answers)
    return {
        "default": metrics.evaluate(queries, answers),
        "at_99": metrics.evaluate(queries, answers, thr) if thr is not None else None,
        "at_95": metrics.evaluate(queries, answers, thr95) if thr95 is not None else None,
        "threshold_99": thr,
        "threshold_95": thr95,
        "max_precision": metrics.best_precision(curve),
        "pr_curve": curve,
        "timing": _timing(answers),
    }


def run(
    seed: int = 1,
    per_language: int = 40,
    heldout_per_language: int = 40,
    boilerplate_per_kind: int = 24,
    peer_names: tuple[str, ...] = peers.PEERS,
    out: Path | None = None,
) -> dict[str, Any]:
    cache = cache_dir()
    started = time.perf_counter()
    run_record = runs.start("accuracy: our engine and the peers on the same queries")
    run_id = run_record["id"]
    fresh_index = not (cache / f"split-s{seed}" / "index" / "MANIFEST.json").exists()
    prep = prepare(seed=seed)
    plan = generate.Plan(seed, per_language, heldout_per_language, boilerplate_per_kind)
    queries = generate.generate(prep.indexed, prep.heldout, plan)
    qfile = generate.save(queries, cache / f"queries-s{seed}.jsonl")
    result: dict[str, Any] = {
        "seed": seed,
        "machine": {"cpus": 2, "python": platform.python_version()},
        "queries_file": str(qfile),
        "plan": {
            "per_language": per_language,
            "heldout_per_language": heldout_per_language,
            "boilerplate_per_kind": boilerplate_per_kind,
            **plan.stats,
        },
        "counts": _counts(queries),
        "held_packages": prep.held_packages,
        "index": {"files": len(prep.corpus_files), **prep.build},
        "runs": {run_id: run_record},
        "tools": {},
    }
    result["index"]["run"] = _index_run(prep.index_dir.parent, run_id if fresh_index else None)
    answers, stamp = runs.measured(ours.run, prep.index_dir, queries)
    result["tools"]["attribution"] = {"status": "ok", "run": run_id, **stamp}
    result["tools"]["attribution"].update(score_tool(queries, answers))
    result["misses"] = misses(queries, answers)
    work = cache / f"peers-s{seed}"
    for name in peer_names:  # one at a time, so each carries the load it was measured under
        got, stamp = runs.measured(
            peers.run_all, cache, work, prep.corpus_files, queries, only=(name,)
        )
        r = got[name]
        if r["status"] != "ok":
            result["tools"][name] = {**r, "run": run_id, **stamp}
            continue
        info = {k: v for k, v in r.items() if k != "answers"}
        result["tools"][name] = {**info, "run": run_id, **stamp}
        result["tools"][name].update(score_tool(queries, r["answers"]))
        (work / f"{name}-answers.json").write_text(json.dumps(r["answers"]))
    (cache / f"ours-answers-s{seed}.json").write_text(json.dumps(answers))
    result["seconds"] = time.perf_counter() - started
    result["load_avg_end"] = os.getloadavg()[0]
    runs.finish(run_record)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1, default=str))
    return result


def _index_run(split_dir: Path, built_now: str | None) -> str:
    """The run that built the (cached) split index: recorded beside it when it is built,
    UNRECORDED when it was built before runs were recorded."""
    stamp = split_dir / "build-run.txt"
    if built_now:
        stamp.write_text(built_now)
    return stamp.read_text().strip() if stamp.exists() else runs.UNRECORDED


def _counts(queries: list[generate.Query]) -> dict[str, Any]:
    from collections import Counter

    return {
        "total": len(queries),
        "by_kind": dict(Counter(q.kind for q in queries)),
        "by_transform": dict(Counter(q.transform for q in queries)),
        "by_language": dict(Counter(q.language for q in queries if q.kind == "positive")),
        "negatives_by_language": dict(Counter(q.language for q in queries if q.kind != "positive")),
    }


def misses(queries: list[generate.Query], answers: dict[str, Any]) -> dict[str, Any]:
    """Why positives were missed: how many query tokens they had (min_tokens is the
    engine's floor), by transformation; and the false positives, listed."""
    from collections import Counter

    from attribution.core.config import Config
    from attribution.core.tokenize import tokenize

    floor = Config().min_tokens
    by: Counter[str] = Counter()
    fps = []
    for q in queries:
        a = answers.get(q.id, {})
        judged = metrics.judge(q, a)
        if q.kind == "positive" and not judged.found:
            code = q.code
            if q.transform == "embed":  # the fragment's size, not the surrounding code's
                a, b = q.truth["query_lines"]
                code = "\n".join(code.splitlines()[a - 1 : b])
            n = len(tokenize(code.encode("utf-8", "replace"), q.language))
            size = f"< {floor} tokens" if n < floor else f"{floor}-59 tokens" if n < 60 else ">= 60"
            by[f"{q.transform}|{size}"] += 1
        elif judged.found and not judged.correct:
            top = a["matches"][0]
            fps.append(
                {
                    "id": q.id,
                    "kind": q.kind,
                    "truth": q.truth.get("repo_name", "") + "/" + q.truth.get("path", ""),
                    "got": f"{top['repo_name']}/{top['path']}",
                    "lines": top["source_lines"],
                    "score": top["score"],
                    "type": top["match_type"],
                }
            )
    return {"missed_by_transform_and_size": dict(by), "false_positives": fps}


def rescore(seed: int = 1, out: Path | None = None, rerun_ours: bool = False) -> dict[str, Any]:
    """Score again from the saved answers of the last run; with rerun_ours, our engine
    (as it is now) answers the same queries on the same split index first. Peers are not
    run again: their saved answers are scored as they are, and keep the run they were
    measured in, so the report labels each tool with its own run."""
    cache = cache_dir()
    if out is None or not out.exists():
        raise SystemExit(f"rescore needs the accuracy.json of a run; {out} does not exist")
    result: dict[str, Any] = json.loads(out.read_text())
    what = "rescore: our engine run again, peers' saved answers scored again"
    record = runs.start(what if rerun_ours else "rescore: saved answers scored again")
    result.setdefault("runs", {})[record["id"]] = record
    queries = generate.load(cache / f"queries-s{seed}.jsonl")
    saved_ours = cache / f"ours-answers-s{seed}.json"
    ours_run = runs.of(result["tools"].get("attribution"))
    stamp = {k: v for k, v in result["tools"].get("attribution", {}).items() if k in runs.STAMP}
    if rerun_ours:
        fresh, stamp = runs.measured(ours.run, cache / f"split-s{seed}" / "index", queries)
        saved_ours.write_text(json.dumps(fresh))
        ours_run = record["id"]
    answers = json.loads(saved_ours.read_text())
    result["tools"]["attribution"] = {
        "status": "ok",
        "run": ours_run,
        "scored_in": record["id"],
        **stamp,
        **score_tool(queries, answers),
    }
    result["misses"] = misses(queries, answers)
    for name, tool in result["tools"].items():
        saved = cache / f"peers-s{seed}" / f"{name}-answers.json"
        if name == "attribution" or tool.get("status") != "ok" or not saved.exists():
            continue
        keep = {k: v for k, v in tool.items() if k in ("status", "build_s", "wall_s", "note")}
        keep.update({k: v for k, v in tool.items() if k in ("hashes", "args", "query_s")})
        keep.update({k: v for k, v in tool.items() if k in runs.STAMP})
        keep.update({"run": runs.of(tool), "scored_in": record["id"]})
        peer_answers = json.loads(saved.read_text())
        result["tools"][name] = {**keep, **score_tool(queries, peer_answers)}
    runs.finish(record)
    out.write_text(json.dumps(result, indent=1, default=str))
    return result
