"""Scoring: recall, precision, F1, top-1/top-5, line IoU, false-positive rates, by
transformation, language and length; and the recall a tool reaches at a precision.

A query's answer is its ranked matches (each with a blob_id and a score). It is "found"
when it has a match scoring at least the threshold. A found positive whose top match is
a right source (the truth blob, or any blob holding the fragment verbatim) is a true
positive; a wrong top source and any match on a negative are false positives.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from attrbench.generate import BUCKETS, Query

Answer = dict[str, Any]


def accept(q: Query) -> set[str]:
    return {q.truth["blob_id"], *q.truth.get("accept_blobs", [])}


def iou(a: list[int] | None, b: list[int] | None) -> float | None:
    if not a or not b:
        return None
    inter = min(a[1], b[1]) - max(a[0], b[0]) + 1
    union = max(a[1], b[1]) - min(a[0], b[0]) + 1
    return max(inter, 0) / union


def bucket(lines: int) -> str:
    for lo, hi in BUCKETS:
        if lo <= lines <= hi:
            return f"{lo}-{hi}"
    return f">{BUCKETS[-1][1]}" if lines > BUCKETS[-1][1] else f"<{BUCKETS[0][0]}"


@dataclass
class Outcome:
    """One query judged."""

    query: Query
    found: bool
    correct: bool  # top match right (positives)
    in_top5: bool
    query_iou: float | None = None
    source_iou: float | None = None
    type_ok: bool | None = None
    ms: float | None = None


def judge(q: Query, answer: Answer | None, threshold: float | None = None) -> Outcome:
    matches = [
        m
        for m in (answer or {}).get("matches", [])
        if threshold is None or m.get("score", 0.0) >= threshold
    ]
    ms = (answer or {}).get("ms")
    if q.kind != "positive":
        return Outcome(q, bool(matches), False, False, ms=ms)
    ok = accept(q)
    right = [m for m in matches[:5] if m.get("blob_id") in ok]
    out = Outcome(q, bool(matches), bool(matches) and matches[0].get("blob_id") in ok, bool(right))
    out.ms = ms
    if right:
        m = right[0]
        out.query_iou = iou(m.get("query_lines"), q.truth["query_lines"])
        if m.get("blob_id") == q.truth["blob_id"]:
            out.source_iou = iou(m.get("source_lines"), q.truth["source_lines"])
        if m.get("match_type"):
            out.type_ok = m["match_type"] == q.truth["match_type"]
    return out


@dataclass
class Tally:
    """Counts of one group of outcomes."""

    n: int = 0
    positives: int = 0
    tp: int = 0
    fp: int = 0
    found: int = 0
    top5: int = 0
    q_iou: list[float] = field(default_factory=list)
    s_iou: list[float] = field(default_factory=list)
    type_ok: list[bool] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)

    def add(self, o: Outcome) -> None:
        self.n += 1
        self.found += o.found
        if o.query.kind == "positive":
            self.positives += 1
            self.tp += o.found and o.correct
            self.fp += o.found and not o.correct
            self.top5 += o.found and o.in_top5
        else:
            self.fp += o.found
        if o.query_iou is not None and o.found:
            self.q_iou.append(o.query_iou)
        if o.source_iou is not None and o.found:
            self.s_iou.append(o.source_iou)
        if o.type_ok is not None and o.found and o.correct:
            self.type_ok.append(o.type_ok)
        if o.ms is not None:
            self.ms.append(o.ms)

    def summary(self) -> dict[str, Any]:
        recall = self.tp / self.positives if self.positives else None
        precision = self.tp / (self.tp + self.fp) if (self.tp + self.fp) else None
        f1 = (
            2 * recall * precision / (recall + precision)
            if recall is not None and precision and recall + precision
            else None
        )
        return {
            "n": self.n,
            "found": self.found,
            "tp": self.tp,
            "fp": self.fp,
            "recall": recall,
            "precision": precision,
            "f1": f1,
            "fp_rate": self.fp / self.n if self.n else None,
            "top1_of_found": self.tp / self.found if self.found else None,
            "top5_of_found": self.top5 / self.found if self.found else None,
            "query_iou_mean": _mean(self.q_iou),
            "source_iou_mean": _mean(self.s_iou),
            "query_iou_ge_0.9": _share(self.q_iou),
            "source_iou_ge_0.9": _share(self.s_iou),
            "match_type_ok": sum(self.type_ok) / len(self.type_ok) if self.type_ok else None,
            "ms_p50": statistics.median(self.ms) if self.ms else None,
            "ms_p99": _pct(self.ms, 99) if self.ms else None,
            "ms_mean": statistics.fmean(self.ms) if self.ms else None,
        }


def _mean(xs: list[float]) -> float | None:
    return statistics.fmean(xs) if xs else None


def _share(xs: list[float]) -> float | None:
    return sum(x >= 0.9 for x in xs) / len(xs) if xs else None


def _pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def group(outcomes: Iterable[Outcome], key: Callable[[Outcome], str | None]) -> dict[str, Any]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    for o in outcomes:
        k = key(o)
        if k is not None:
            tallies[k].add(o)
    return {k: t.summary() for k, t in sorted(tallies.items())}


def evaluate(
    queries: list[Query], answers: dict[str, Answer], threshold: float | None = None
) -> dict[str, Any]:
    """Every table of the report for one tool (answers missing for a query: not found)."""
    outs = [judge(q, answers.get(q.id), threshold) for q in queries]
    pos = [o for o in outs if o.query.kind == "positive"]
    overall = Tally()
    for o in outs:
        overall.add(o)
    positives = Tally()
    for o in pos:
        positives.add(o)
    return {
        "threshold": threshold,
        "queries": len(outs),
        "overall": overall.summary(),
        "positives": positives.summary(),
        "by_transform": group(outs, lambda o: o.query.transform.split(":")[0]),
        "by_language": group(pos, lambda o: o.query.language),
        "by_length": group(pos, lambda o: bucket(o.query.lines)),
        "by_length_transform": group(pos, lambda o: f"{o.query.transform}|{bucket(o.query.lines)}"),
        "by_boilerplate": group(
            [o for o in outs if o.query.kind == "boilerplate"], lambda o: o.query.transform
        ),
    }


def top_scores(queries: list[Query], answers: dict[str, Answer]) -> list[tuple[float, int]]:
    """(top score, +1 right / -1 wrong or negative) of every found query."""
    out = []
    for q in queries:
        m = (answers.get(q.id) or {}).get("matches") or []
        if not m:
            continue
        right = q.kind == "positive" and m[0].get("blob_id") in accept(q)
        out.append((float(m[0].get("score", 0.0)), 1 if right else -1))
    return out


def threshold_for_precision(
    queries: list[Query], answers: dict[str, Answer], precision: float = 0.99
) -> float | None:
    """The lowest score threshold whose overall precision is at least `precision` (None:
    no threshold reaches it). A top match below the threshold counts as no match."""
    scored = sorted(top_scores(queries, answers), reverse=True)
    tp = fp = 0
    best: float | None = None
    i = 0
    while i < len(scored):
        s = scored[i][0]
        while i < len(scored) and scored[i][0] == s:
            tp += scored[i][1] > 0
            fp += scored[i][1] < 0
            i += 1
        if tp and tp / (tp + fp) >= precision:
            best = s
    return best


def pr_curve(
    queries: list[Query], answers: dict[str, Answer], points: int = 150
) -> list[tuple[float, float, float]]:
    """(threshold, recall, precision) from the strictest threshold down (recall over the
    positives, precision over everything found)."""
    n_pos = sum(q.kind == "positive" for q in queries) or 1
    scored = sorted(top_scores(queries, answers), reverse=True)
    out: list[tuple[float, float, float]] = []
    tp = fp = 0
    i = 0
    while i < len(scored):
        s = scored[i][0]
        while i < len(scored) and scored[i][0] == s:
            tp += scored[i][1] > 0
            fp += scored[i][1] < 0
            i += 1
        out.append((s, tp / n_pos, tp / (tp + fp)))
    step = max(1, len(out) // points)
    return out[::step] + out[-1:]


def best_precision(curve: list[tuple[float, float, float]], min_recall: float = 0.05) -> float:
    """The highest precision a threshold gives while keeping at least min_recall."""
    ok = [p for _, r, p in curve if r >= min_recall]
    return max(ok) if ok else 0.0
