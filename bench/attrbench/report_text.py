"""The text of docs/benchmarks.md: figures from the results, explanations around them."""

from __future__ import annotations

from typing import Any

from attrbench import runs
from attrbench.report import (
    NAMES,
    TARGETS,
    TOOLS,
    by_language,
    by_length,
    latency_by_length,
    negatives,
    num,
    overall_rows,
    pct,
    recall_by_transform,
    scale_table,
    speed,
    table,
)


def _ours(acc: dict[str, Any]) -> dict[str, Any]:
    tool = acc["tools"]["attribution"]
    d = tool["default"]
    if (d["overall"]["precision"] or 0) >= 0.99 or tool.get("at_99") is None:
        return d
    at99: dict[str, Any] = tool["at_99"]
    return at99


def _peer_best(acc: dict[str, Any], transform: str, key: str = "at_99") -> tuple[str, float]:
    best = ("none", 0.0)
    for t in TOOLS[1:]:
        tool = acc["tools"].get(t, {})
        if tool.get("status") != "ok":
            continue
        ev = tool.get(key)
        r = (ev["by_transform"].get(transform, {}).get("recall") or 0.0) if ev else 0.0
        if r > best[1]:
            best = (t, r)
    return best


MISSED, NOT_MEASURED = "**missed**", "**not measured**"
LOAD_SPREAD = 1.0  # load averages further apart than this make a timing ratio rough


def targets(acc: dict[str, Any]) -> str:
    ev = _ours(acc)
    bt = ev["by_transform"]
    rows = []

    def row(what: str, target: str, value: str, met: bool | str, note: str = "") -> None:
        status = met if isinstance(met, str) else "met" if met else MISSED
        rows.append([what, target, value, status, note])

    for tr, goal in TARGETS.items():
        r = bt.get(tr, {}).get("recall") or 0.0
        gap = "" if r >= goal else f"short by {100 * (goal - r):.1f} points"
        row(f"{tr} recall", f"≥ {pct(goal, 0)}", pct(r), r >= goal, gap)
    p = ev["positives"]
    row("top-1 of found", "≥ 95%", pct(p["top1_of_found"]), (p["top1_of_found"] or 0) >= 0.95)
    qi, si = p["query_iou_mean"] or 0, p["source_iou_mean"] or 0
    row("line IoU (query / source)", "≥ 0.9", f"{qi:.3f} / {si:.3f}", min(qi, si) >= 0.9)
    for kind in ("heldout", "boilerplate"):
        fp = bt.get(kind, {}).get("fp_rate") or 0.0
        row(f"false positives, {kind}", "≤ 1%", pct(fp, 2), fp <= 0.01)
    for key, label in (("at_99", "99"), ("at_95", "95")):
        row(*_above_peers(acc, key, label, acc["tools"]["attribution"].get(key) or ev))
    row(*_pairwise_target(acc))
    header = ["target", "goal", "measured", "", "note"]
    return table(header, rows)


def _unmeasured_peers(acc: dict[str, Any]) -> list[str]:
    return [NAMES[t] for t in TOOLS[1:] if acc["tools"].get(t, {}).get("status") != "ok"]


def _runs_note(acc: dict[str, Any], peers: tuple[str, ...] = TOOLS[1:]) -> str:
    """Empty when ours and the peers compared were measured in one run; else which runs."""
    ours = runs.of(acc["tools"]["attribution"])
    theirs = {runs.of(acc["tools"][t]) for t in peers if t in acc["tools"]}
    if theirs <= {ours} and ours != runs.UNRECORDED:
        return ""
    others = ", ".join(runs.label(r) for r in sorted(theirs))
    return f"ours from run {runs.label(ours)}, peers from run {others}"


def _above_peers(
    acc: dict[str, Any], key: str, label: str, mine: dict[str, Any]
) -> tuple[str, str, str, bool | str, str]:
    """Recall above every peer on every type: met only when every peer was measured."""
    behind = []
    for tr in ("verbatim", "type1", "type2", "type3-10", "type3-20", "type3-30", "embed"):
        name, r = _peer_best(acc, tr, key)
        ours = mine["by_transform"].get(tr, {}).get("recall") or 0.0
        if r > ours:
            behind.append(f"{tr}: {NAMES[name]} {pct(r)} vs ours {pct(ours)}")
    missing = _unmeasured_peers(acc)
    notes = [_runs_note(acc)]
    if missing:
        notes.append("not measured: " + ", ".join(missing))
    elif key == "at_99" and not behind:
        notes.append("no peer reaches this precision")
    status: bool | str = False if behind else NOT_MEASURED if missing else True
    what = f"recall above every peer on every type (all at ≥ {label}% precision)"
    value = "yes" if not behind else "; ".join(behind)
    return what, "all types", value, status, "; ".join(n for n in notes if n)


def _pairwise_target(acc: dict[str, Any]) -> tuple[str, str, str, bool | str, str]:
    """Query time against copydetect, the pairwise peer: not measured unless it ran."""
    what = "query time vs fastest pairwise peer (copydetect), 1,000 queries, whole corpus"
    ratio = pairwise_ratio(acc)
    if ratio is None:
        return what, "≥ 100× lower", "–", NOT_MEASURED, "copydetect did not run"
    q_only, with_prep = ratio
    value = f"{q_only:.0f}× (query only); {with_prep:.0f}× counting its corpus fingerprinting"
    note = _runs_note(acc, ("copydetect",))
    if note:
        note += " (timings under different loads: see Runs)"
    low, high = runs.load_range(acc, ("attribution", "copydetect"))
    if high - low > LOAD_SPREAD:
        mine, theirs = (_loads(acc["tools"][t]) for t in ("attribution", "copydetect"))
        note += f"{'; ' if note else ''}ours measured at load average {mine}, copydetect at "
        note += f"{theirs}: the ratio is rough"
    return what, "≥ 100× lower", value, q_only >= 100, note


def pairwise_ratio(acc: dict[str, Any]) -> tuple[float, float] | None:
    cd = acc["tools"].get("copydetect", {})
    ours = acc["tools"]["attribution"]["timing"]
    if cd.get("status") != "ok" or not cd.get("timing") or not ours.get("ms_mean"):
        return None
    per_q = cd["timing"]["ms_mean"]
    prep_ms = 1000 * (cd.get("build_s") or 0)
    ours_1000 = 1000 * ours["ms_mean"]
    return per_q / ours["ms_mean"], (1000 * per_q + prep_ms) / ours_1000


def _loads(tool: dict[str, Any]) -> str:
    return f"{tool.get('load_avg_before', 0):.1f}–{tool.get('load_avg_after', 0):.1f}"


def peer_status(acc: dict[str, Any]) -> str:
    lines = []
    for t in TOOLS[1:]:
        tool = acc["tools"].get(t)
        if tool is None:
            lines.append(f"- **{NAMES[t]}**: not run.")
        elif tool.get("status") != "ok":
            lines.append(f"- **{NAMES[t]}**: could not run here: `{tool.get('error')}`")
        else:
            note = tool.get("note")
            extra = f" Note: {note}" if note else ""
            lines.append(
                f"- **{NAMES[t]}**: ran on all {tool['default']['queries']} queries.{extra}"
            )
    return "\n".join(lines) + "\n"


def tuning_table(tuning: dict[str, Any]) -> str:
    rows = []
    for r in tuning.get("rows", []):
        change = r["change"]
        label = (
            change
            if isinstance(change, str)
            else ", ".join(
                f"{k[:-2].strip()} ≥ {v}" if k.endswith(">=") else f"{k}={v}"
                for k, v in change.items()
            )
        )
        bt = r["by_transform"]
        rows.append(
            [
                label,
                pct(r["recall"]),
                pct(r["precision"], 2),
                *[pct(bt.get(t)) for t in ("type1", "type2", "type3-30", "embed")],
                pct(r["recall_5_9_lines"]),
                pct(r["fp_heldout"], 2),
                pct(r["fp_boilerplate"], 2),
            ]
        )
    header = ["setting", "recall", "precision", "type1", "type2", "type3-30", "embed"]
    header += ["5-9 lines", "FP held-out", "FP boilerplate"]
    return table(header, rows)


def render(acc: dict[str, Any], scale: dict[str, Any], tuning: dict[str, Any]) -> str:
    from attribution.core.config import Config

    c = acc["counts"]
    length_table, shortest = by_length(acc)
    ours_t = acc["tools"]["attribution"]["timing"]
    parts = [
        "# Benchmarks\n",
        "Generated by `make bench` (`bench/attribution_bench.py all`, or its `report` stage) "
        "from the committed results `bench/results/accuracy.json`, `scale.json` and "
        "`tuning.json`. Each result is measured in a run of its own, and a run can be partial "
        "(`rescore --rerun-ours` measures our engine again and keeps the peers' older "
        "answers and timings), so each tool and table below names the run it comes from; "
        "the runs are listed here. "
        f"Machine: {acc['machine']['cpus']} cores, 24 GB, at times shared with other work "
        "(load averages below); timings are wall-clock, in process for our engine.\n",
        "## Runs\n",
        runs.section(acc, scale, tuning),
        "## How the benchmark is made\n",
        f"- Corpus: `shared/corpus/files.parquet` ({acc['index']['files']:,} sources indexed). "
        f"A fixed-seed 10% of the packages is held out and **not indexed**: "
        f"{', '.join(acc['held_packages'])}.\n"
        "- Positives: functions and methods (`tokenize(...).units`, 5–120 lines) cut from "
        "indexed files in every tree-sitter language of the engine, packages taken in turn "
        "and lengths stratified, each in up to 7 variants: `verbatim`; `type1` (indentation "
        "remapped, blank lines, brace style, comments added and dropped; Python stays valid); "
        "`type2` (parameters and locals renamed consistently as a model would, about half of "
        "the simple string and number literals changed); `type3-10/20/30` (that share of the "
        "statement lines deleted, changed, or followed by a new statement); `embed` (the "
        "verbatim function between two new functions; truth is the fragment's lines). "
        "`type3` needs at least 3 statement lines, so its functions are a little longer. "
        "TSX has no file in the corpus, so it has no query.\n"
        "- Truth: the source file, its lines and the query's lines; any indexed file holding "
        "the function verbatim (modulo white space) also counts as the right source.\n"
        f"- Negatives: functions of the held-out packages (those found verbatim in the index "
        f"are dropped: {acc['plan'].get('heldout_dropped_found_verbatim_in_index', 0)}) and "
        "written boilerplate (main guards, import blocks, getters/setters, license header "
        "plus a trivial line, argument parsing).\n"
        f"- Queries: {c['total']:,} ({c['by_kind'].get('positive', 0):,} positives, "
        f"{c['by_kind'].get('heldout', 0)} held-out, {c['by_kind'].get('boilerplate', 0)} "
        f"boilerplate); per language: "
        + ", ".join(f"{k} {v}" for k, v in sorted(c["by_language"].items()))
        + ".\n"
        "- Scoring: a query is found when a match is reported; a found positive whose top "
        "match is a right source is a true positive; a wrong top source, and any match on a "
        "negative, is a false positive. Recall = TP / queries; precision = TP / (TP + FP). "
        "Peers have no verdict of their own beyond a score, so each is shown at its default "
        "(any reported match) and at the lowest score threshold that gives ≥ 99% precision "
        "on the whole query set (ours too).\n",
        "## Against the targets\n",
        targets(acc),
        "\n## Overall\n",
        overall_rows(acc),
        "\n## Recall by transformation\n",
        "![recall by transformation](bench-recall.png)\n",
        "![precision vs recall](bench-pr.png)\n",
        "At each tool's ≥ 99%-precision threshold (recall, and precision P within the "
        "row; n/a: no threshold gives the tool 99% precision):\n",
        recall_by_transform(acc, "at_99"),
        "\nAt each tool's ≥ 95%-precision threshold:\n",
        recall_by_transform(acc, "at_95"),
        "\nAt the default operating point (every reported match counts):\n",
        recall_by_transform(acc, "default"),
        "\n## By language\n",
        "Recall (ours at its default, peers at their ≥ 95%-precision threshold when they "
        "have one, else their default):\n",
        by_language(acc),
        "\n## By snippet length (ours, recall and queries per cell)\n",
        length_table,
        f"\nShortest length bucket where verbatim and type-1 copies are found ≥ 95% of the "
        f"time: **{shortest} lines**. Below that, most functions have fewer tokens than the "
        f"engine's evidence floor (`min_tokens` = {Config().min_tokens}).\n",
        "\n## False positives on negatives\n",
        negatives(acc),
        speed_heading(acc),
        speed(acc),
        "\nOur engine answers from a prebuilt on-disk index; the time to build it is in the "
        "performance section. Dolos and jscpd hold everything in memory and redo their "
        "index on every run; copydetect fingerprints the corpus once per run and then "
        "compares each query with every file of its language (pairwise: its query time grows "
        "linearly with the corpus). The SCANOSS inverted index is built here in Python around "
        "the package's C winnowing.\n",
        "\n### Peer status\n",
        peer_status(acc),
        "\n## Performance\n",
        f"In-process query time on the benchmark index (all {ours_t.get('queries_timed', 0):,} "
        f"queries, run {_run(acc)}): p50 {num(ours_t.get('ms_p50'))} ms, "
        f"p99 {num(ours_t.get('ms_p99'))} ms, "
        f"mean {num(ours_t.get('ms_mean'))} ms.\n",
    ]
    if scale:
        parts += [
            "\n### Query time vs index size\n",
            "![latency vs index size](bench-latency.png)\n",
            scale_table(scale),
            "\nLatency by snippet length (queries cut from the 10% subset so every index "
            "holds their source; verbatim, type-2 and type-3 at 20%):\n",
            latency_by_length(scale),
            "\nBuilds run with 2 worker processes; the build rows were measured at different "
            "times on a shared machine (load average in the last column), so MB/s compares "
            "only within a row's conditions. Query latencies are measured in one process that "
            "runs every query against every index in turn, so all sizes see the same load "
            f"(run {runs.label(runs.of(scale))}, load average "
            f"{num(scale.get('load_avg_latency'), 1)} at the start). Synthetic "
            "files are 15–80-line windows of real files with four names renamed and a few "
            "lines dropped or doubled, so most functions survive intact in several of them: "
            "on the enlarged index a synthetic file holding the same function often ranks "
            "first (a tie, scored as a wrong source here because only the original counts), "
            "which is why 'truth file first' recall drops there; the row is there for latency, "
            "size and memory.\n",
        ]
    if tuning:
        parts += [
            "\n## Tuning evidence (same queries, one setting changed at a time, run "
            f"{runs.label(runs.of(tuning))})\n",
            tuning_table(tuning),
        ]
        if tuning.get("validation"):
            v = tuning["validation"]
            parts += [
                f"\nThe same rules on a second seed ({v['seed']}: other held-out packages, "
                "other queries):\n",
                tuning_table(v),
            ]
    parts += ["\n## Notes and misses\n", notes(acc)]
    return "\n".join(p.rstrip("\n") + "\n" for p in parts)


def speed_heading(acc: dict[str, Any]) -> str:
    """ "same run" only when it is one: every tool and our index build in one recorded run."""
    if runs.same_run(acc):
        low, high = runs.load_range(acc)
        heading = f"\n## Speed against peers (same queries, same corpus, same run: {_run(acc)})\n"
        if high - low <= LOAD_SPREAD:
            return heading
        return heading + (
            f"\nOne run, but the machine's load average moved from {low:.1f} to {high:.1f} "
            "while it ran (each row's load is in the last column): the ratios between rows "
            "measured under different loads are rough.\n"
        )
    return (
        "\n## Speed against peers (same queries, same corpus; not one run)\n\n"
        "The rows come from different runs (last column), under different loads, so the "
        "ratios between them are rougher than ratios measured in one run.\n"
    )


def _run(acc: dict[str, Any]) -> str:
    return runs.label(runs.of(acc["tools"]["attribution"]))


def notes(acc: dict[str, Any]) -> str:
    """Where the misses come from (query size against min_tokens) and every false positive
    of our engine, then the hand-written analysis in bench/attrbench/notes.md."""
    from pathlib import Path

    m = acc.get("misses", {})
    parts = []
    missed = m.get("missed_by_transform_and_size", {})
    if missed:
        sizes = sorted({k.split("|")[1] for k in missed})
        trs = [
            t for t in ("verbatim", "type1", "type2", "type3-10", "type3-20", "type3-30", "embed")
        ]
        rows = [[t, *[str(missed.get(f"{t}|{s}", 0)) for s in sizes]] for t in trs]
        parts.append("Our misses (positives not found) by query size in tokens:\n")
        parts.append(table(["transformation", *sizes], rows))
    fps = m.get("false_positives", [])
    if fps:
        parts.append(f"\nOur false positives ({len(fps)}):\n")
        rows = [
            [
                f["id"],
                f["kind"],
                f["truth"] or "–",
                f["got"],
                str(f["lines"]),
                f["type"],
                num(f["score"], 3),
            ]
            for f in fps
        ]
        parts.append(table(["query", "kind", "truth", "reported", "lines", "type", "score"], rows))
    hand = Path(__file__).with_name("notes.md")
    if hand.exists():
        parts.append("\n" + hand.read_text())
    return "\n".join(parts)
