"""docs/benchmarks.md and its charts, from bench/results/accuracy.json, scale.json and
tuning.json; every tool and row is labelled with the run it was measured in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from attrbench import runs

TRANSFORMS = ("verbatim", "type1", "type2", "type3-10", "type3-20", "type3-30", "embed")
TOOLS = ("attribution", "dolos", "copydetect", "jscpd", "scanoss")
NAMES = {
    "attribution": "attribution (ours)",
    "dolos": "Dolos 3.5.1 (lib API)",
    "copydetect": "copydetect 0.5.0",
    "jscpd": "jscpd 5.3.3",
    "scanoss": "SCANOSS winnowing 0.8.0",
}
SCALING = {
    "attribution": "indexed (winnowed k-gram postings + MinHash sketches)",
    "dolos": "indexed in memory (all files re-fingerprinted per run)",
    "copydetect": "pairwise (every query against every file)",
    "jscpd": "indexed per run (all files re-tokenized per run)",
    "scanoss": "indexed (inverted index built here)",
}
TARGETS = {
    "type1": 1.00,
    "type2": 0.98,
    "type3-10": 0.90,
    "type3-20": 0.90,
    "type3-30": 0.75,
}


def pct(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{100 * x:.{digits}f}%"


def num(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def name(acc: dict[str, Any], tool: str) -> str:
    """A tool's name, tagged with its run when the tools come from more than one run."""
    return runs.tool_name(acc, tool, NAMES[tool])


def _ok(acc: dict[str, Any]) -> list[str]:
    return [t for t in TOOLS if acc["tools"].get(t, {}).get("status") == "ok"]


POINTS = {"default": "default", "at_99": "≥ 99% precision", "at_95": "≥ 95% precision"}


def _point(tool: dict[str, Any], which: str | bool) -> dict[str, Any] | None:
    """An operating point: "default", "at_99" or "at_95" (True means "at_99")."""
    key = "at_99" if which is True else "default" if which is False else which
    point: dict[str, Any] | None = tool.get(key)
    return point


def recall_by_transform(acc: dict[str, Any], at99: str | bool) -> str:
    tools = _ok(acc)
    header = ["transformation", "queries", *[name(acc, t) for t in tools]]
    rows = []
    for tr in (*TRANSFORMS, "heldout", "boilerplate"):
        n = None
        cells = []
        for t in tools:
            ev = _point(acc["tools"][t], at99)
            g = ev["by_transform"].get(tr) if ev else None
            if g is None:
                cells.append("n/a" if ev is None else "–")
                continue
            n = g["n"]
            if tr in ("heldout", "boilerplate"):
                cells.append(f"FP {pct(g['fp_rate'])}")
            else:
                cells.append(f"{pct(g['recall'])} (P {pct(g['precision'], 0)})")
        rows.append([tr, str(n or "–"), *cells])
    return table(header, rows)


def overall_rows(acc: dict[str, Any]) -> str:
    rows = []
    for t in TOOLS:
        tool = acc["tools"].get(t)
        if not tool:
            continue
        if tool.get("status") != "ok":
            rows.append([name(acc, t), "did not run: " + tool.get("error", "")[:200], *[""] * 6])
            continue
        for key, label in POINTS.items():
            ev = tool.get(key)
            if ev is None:
                mp = pct(tool.get("max_precision"))
                rows.append([name(acc, t), label, f"never reached (best {mp})", "", "", "", "", ""])
                continue
            o, p = ev["overall"], ev["positives"]
            thr = "" if key == "default" else f" (score ≥ {num(ev['threshold'], 3)})"
            rows.append(
                [
                    name(acc, t),
                    label + thr,
                    pct(p["recall"]),
                    pct(o["precision"]),
                    pct(o["f1"]),
                    pct(p["top1_of_found"]),
                    pct(p["top5_of_found"]),
                    f"{num(p['query_iou_mean'])} / {num(p['source_iou_mean'])}",
                ]
            )
    header = ["tool", "operating point", "recall", "precision", "F1", "top-1", "top-5"]
    return table([*header, "line IoU query / source"], rows)


def by_language(acc: dict[str, Any]) -> str:
    tools = _ok(acc)
    langs = sorted(acc["tools"]["attribution"]["default"]["by_language"])
    rows = []
    for lang in langs:
        cells = []
        for t in tools:
            ev = acc["tools"][t]["default"] if t == "attribution" else None
            ev = ev or acc["tools"][t].get("at_95") or acc["tools"][t]["default"]
            g = ev["by_language"].get(lang)
            cells.append(pct(g["recall"]) if g else "–")
        ours = acc["tools"]["attribution"]["default"]["by_language"][lang]
        rows.append([lang, str(ours["n"]), pct(ours["precision"]), pct(ours["f1"]), *cells])
    header = ["language", "queries", "our precision", "our F1", *[name(acc, t) for t in tools]]
    return table(header, rows)


def by_length(acc: dict[str, Any]) -> tuple[str, str]:
    ev = acc["tools"]["attribution"]["default"]
    buckets = sorted(ev["by_length"], key=lambda b: int(b.split("-")[0].strip("<>")))
    rows = []
    for b in buckets:
        cells = []
        for tr in TRANSFORMS:
            g = ev["by_length_transform"].get(f"{tr}|{b}")
            cells.append(f"{pct(g['recall'], 0)} ({g['n']})" if g else "–")
        rows.append([b, *cells])
    shortest = "none"
    for b in buckets:
        g = [ev["by_length_transform"].get(f"{tr}|{b}") for tr in ("verbatim", "type1")]
        if all(x and (x["recall"] or 0) >= 0.95 for x in g):
            shortest = b
            break
    return table(["lines", *TRANSFORMS], rows), shortest


def negatives(acc: dict[str, Any]) -> str:
    tools = _ok(acc)
    ev0 = acc["tools"]["attribution"]["default"]
    kinds = sorted(ev0["by_boilerplate"])
    rows = []
    for kind in ["heldout", *kinds]:
        cells = []
        n = None
        for t in tools:
            for at99 in (False, True):
                ev = _point(acc["tools"][t], at99)
                if ev is None:
                    cells.append("n/a")
                    continue
                g = (
                    ev["by_transform"].get("heldout")
                    if kind == "heldout"
                    else ev["by_boilerplate"].get(kind)
                )
                n = g["n"] if g else n
                cells.append(pct(g["fp_rate"]) if g else "–")
        rows.append([kind.replace("boilerplate:", "boilerplate: "), str(n), *cells])
    header = ["negatives", "queries"]
    for t in tools:
        header += [f"{name(acc, t)} default", f"{name(acc, t)} @99%"]
    return table(header, rows)


def speed(acc: dict[str, Any]) -> str:
    ours = acc["tools"]["attribution"]["timing"]
    rows = []
    for t in TOOLS:
        tool = acc["tools"].get(t)
        if not tool or tool.get("status") != "ok":
            continue
        tm = tool.get("timing", {})
        prep = tool.get("build_s")
        if t == "attribution":
            prep = acc["index"].get("seconds")
        n = tm.get("queries_timed") or tool["default"]["queries"]
        per_q = tm.get("ms_mean")
        if per_q is None and tool.get("wall_s"):
            per_q = 1000 * (tool["wall_s"] - (prep or 0)) / max(1, n)
        per_1000 = None if per_q is None else per_q  # ms per query = s per 1,000 queries
        if t == "jscpd":
            prep = None  # one run does everything: its time is all in the per-query figure
        with_prep = None if per_1000 is None else per_1000 + (prep or 0)
        ratio = None if per_q is None or not ours.get("ms_mean") else per_q / ours["ms_mean"]
        rows.append(
            [
                name(acc, t),
                SCALING[t],
                num(prep, 1) if prep is not None else "–",
                num(tm.get("ms_p50")),
                num(tm.get("ms_p99")),
                num(per_q),
                num(per_1000, 1),
                num(with_prep, 1),
                "1×" if t == "attribution" else (f"{ratio:.2g}×" if ratio else "–"),
                speed_run(acc, t),
            ]
        )
    header = [
        "tool",
        "how it scales",
        "index / fingerprint corpus (s)",
        "query p50 (ms)",
        "query p99 (ms)",
        "query mean (ms)",
        "1,000 queries (s)",
        "1,000 queries + corpus preparation (s)",
        "query time vs ours",
        "run, when measured (load average before → after)",
    ]
    return table(header, rows)


def speed_run(acc: dict[str, Any], tool: str) -> str:
    """The run a speed row was measured in, with its load; for ours, also the index's."""
    item = acc["tools"][tool]
    run_id = runs.of(item)
    record = acc.get("runs", {}).get(run_id) or {}
    load = (record.get("load_avg_start") or [None])[0]
    text = runs.label(run_id) + (f" ({load:.1f})" if load is not None else "")
    if item.get("load_avg_before") is not None:  # the load around this tool's own queries
        at = item["measured_at"][11:16]
        text = f"{runs.label(run_id)}, at {at} ({item['load_avg_before']:.1f} → "
        text += f"{item['load_avg_after']:.1f})"
    index_run = runs.of(acc.get("index"))
    if tool == "attribution" and index_run != run_id:
        text += f"; index built in run {runs.label(index_run)}"
    return text


def scale_table(scale: dict[str, Any]) -> str:
    rows = []
    for s in scale.get("sizes", []):
        q = s["query"]
        rows.append(
            [
                s["label"],
                f"{s['files']:,}",
                num(s["source_mb"], 0),
                num(s["build_s"], 0),
                num(s["build_mb_per_s"]),
                f"{s['build_files_per_s']:.0f}",
                num(s["bytes_per_source_byte"]),
                f"{s['build_peak_rss_mb']['main']:.0f} / {s['build_peak_rss_mb']['worker']:.0f}",
                num(q["p50_ms"]),
                num(q["p99_ms"]),
                pct(q["recall"]),
                f"{q['peak_rss_mb_serving']:.0f}",
                num(s.get("load_avg_build"), 1),
                runs.label(s.get("build_run") or runs.UNRECORDED),
            ]
        )
    header = [
        "index",
        "files",
        "source MB",
        "build s",
        "build MB/s",
        "files/s",
        "index bytes / source byte",
        "build peak RSS MB (main / worker)",
        "query p50 ms",
        "query p99 ms",
        "recall (truth file first)",
        "serving RSS MB",
        "load avg at build",
        "build run",
    ]
    return table(header, rows)


def latency_by_length(scale: dict[str, Any]) -> str:
    sizes = scale.get("sizes", [])
    if not sizes:
        return ""
    buckets = sorted(sizes[0]["query"]["by_length"], key=lambda b: int(b.split("-")[0]))
    rows = []
    for s in sizes:
        bl = s["query"]["by_length"]
        rows.append(
            [s["label"]]
            + [
                f"{num(bl[b]['p50'], 1)} / {num(bl[b]['p99'], 1)}" if b in bl else "–"
                for b in buckets
            ]
        )
    return table(["index", *[f"{b} lines p50 / p99 ms" for b in buckets]], rows)


def charts(acc: dict[str, Any], scale: dict[str, Any], docs: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    tools = _ok(acc)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6), sharey=True)
    for ax, at99, title in (
        (axes[0], "default", "default operating point"),
        (axes[1], "at_95", "threshold for ≥ 95% precision"),
    ):
        width = 0.8 / max(1, len(tools))
        for i, t in enumerate(tools):
            ev = _point(acc["tools"][t], at99)
            ys = [
                (ev["by_transform"].get(tr, {}).get("recall") or 0) if ev else 0
                for tr in TRANSFORMS
            ]
            xs = [j + i * width for j in range(len(TRANSFORMS))]
            ax.bar(xs, ys, width, label=name(acc, t))
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(TRANSFORMS))], TRANSFORMS)
        ax.set_title(f"Recall by transformation ({title})")
        ax.set_ylim(0, 1.05)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("recall")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(tools), fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(docs / "bench-recall.png", dpi=110)
    plt.close(fig)
    made.append("bench-recall.png")
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for t in tools:
        curve = acc["tools"][t].get("pr_curve") or []
        if curve:
            ax.plot([c[1] for c in curve], [c[2] for c in curve], label=name(acc, t))
    ax.axhline(0.99, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("recall (all positives)")
    ax.set_ylabel("precision (positives and negatives)")
    ax.set_title("Precision vs recall as the score threshold moves")
    ax.set_ylim(0.5, 1.005)
    ax.set_xlim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(docs / "bench-pr.png", dpi=110)
    plt.close(fig)
    made.append("bench-pr.png")
    sizes = scale.get("sizes", [])
    if sizes:
        fig, ax = plt.subplots(figsize=(6.5, 4))
        files = [s["files"] for s in sizes]
        ax.plot(files, [s["query"]["p50_ms"] for s in sizes], "o-", label="p50")
        ax.plot(files, [s["query"]["p99_ms"] for s in sizes], "s--", label="p99")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("indexed files")
        ax.set_ylabel("query latency (ms, in process)")
        ax.set_title("Query latency vs index size")
        ax.grid(alpha=0.3, which="both")
        ax.legend()
        fig.tight_layout()
        fig.savefig(docs / "bench-latency.png", dpi=110)
        plt.close(fig)
        made.append("bench-latency.png")
    return made


def write(out: Path, docs: Path) -> Path:
    acc = json.loads((out / "accuracy.json").read_text())
    scale_file = out / "scale.json"
    scale = json.loads(scale_file.read_text()) if scale_file.exists() else {}
    docs.mkdir(parents=True, exist_ok=True)
    charts(acc, scale, docs)
    from attrbench import report_text

    tuning_file = out / "tuning.json"
    tuning = json.loads(tuning_file.read_text()) if tuning_file.exists() else {}
    text = report_text.render(acc, scale, tuning)
    types_file, second_file = out / "match_types.json", out / "match_types-s2.json"
    if types_file.exists():
        from attrbench import types_report

        second = json.loads(second_file.read_text()) if second_file.exists() else None
        types = types_report.section(json.loads(types_file.read_text()), second)
        text = text.rstrip("\n") + "\n\n" + types
    path = docs / "benchmarks.md"
    path.write_text(text)
    return path
