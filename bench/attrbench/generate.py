"""Queries with their truth, reproducibly (fixed seed), saved as JSONL.

Positives are functions cut from indexed files (tokenize(...).units, 5-120 lines),
stratified by length and spread over packages, each in every variant: verbatim, type1,
type2, type3 at 10/20/30 % of its statement lines, and embedded between new functions.
Negatives are functions of the held-out packages (dropped when the index holds them
verbatim after all) and written boilerplate.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from attrbench import boilerplate, embed, transform
from attrbench.corpus import CopyFinder

LANGUAGES = ("python", "javascript", "typescript", "tsx", "c", "cpp", "java", "go", "rust")
EXTENSIONS = {
    "python": "py",
    "javascript": "js",
    "typescript": "ts",
    "tsx": "tsx",
    "c": "c",
    "cpp": "cpp",
    "java": "java",
    "go": "go",
    "rust": "rs",
}
BUCKETS = ((5, 9), (10, 19), (20, 39), (40, 79), (80, 120))
TYPE3 = {"type3-10": 0.10, "type3-20": 0.20, "type3-30": 0.30}
EXPECTED = {"verbatim": "exact", "type1": "exact", "type2": "renamed", "embed": "exact"}
EXPECTED.update(dict.fromkeys(TYPE3, "near"))
TRANSFORMS = ("verbatim", "type1", "type2", *TYPE3, "embed")


@dataclass
class Query:
    id: str
    kind: str  # positive | heldout | boilerplate
    transform: str  # verbatim, type1, ..., heldout, boilerplate:<kind>
    language: str
    code: str
    lines: int  # lines of the original fragment (the length bucket)
    truth: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return f"{self.id}.{EXTENSIONS[self.language]}"


@dataclass
class FileRow:
    repo_name: str
    path: str
    blob_id: str
    language: str
    content: str


def code_lines(code: str, language: str) -> tuple[int, int]:
    """First and last line (1-based) that hold a code token."""
    from attribution.core.tokenize import tokenize

    stream = tokenize(code.encode("utf-8", "replace"), language)
    if len(stream) == 0:
        return 1, max(1, code.count("\n"))
    return int(stream.line[0]), int(stream.end_line[-1])


def _units(row: FileRow) -> tuple[transform.Cut, list[tuple[int, int]]] | None:
    """The file as a Cut template and its units as 0-based row ranges of 5-120 lines."""
    from attrbench import syntax
    from attribution.core.tokenize import tokenize

    data = row.content.encode("utf-8", "replace")
    if len(data) > 400_000:
        return None
    stream = tokenize(data, row.language)
    tree = syntax.parse(data, row.language)
    template = transform.Cut.make(data, row.language, tree, stream, 0, 0)
    template.protected = syntax.protected_rows(tree, data)
    units = []
    for a, b in stream.units.tolist():
        r0, r1 = int(stream.line[a]) - 1, int(stream.end_line[b - 1]) - 1
        if 5 <= r1 - r0 + 1 <= 120:
            units.append((r0, r1))
    return template, sorted(set(units))


def _cut(template: transform.Cut, r0: int, r1: int) -> transform.Cut:
    return transform.Cut(
        template.data,
        template.language,
        template.tree,
        r0,
        r1,
        "",
        template.rows,
        template.protected,
        template.token_end,
        template.row_start,
    )


def pick_cuts(
    files: list[FileRow], per_language: int, rng: random.Random
) -> Iterator[tuple[FileRow, transform.Cut]]:
    """Up to per_language functions per language: packages in turn, lengths in turn."""
    by_lang: dict[str, dict[str, list[FileRow]]] = defaultdict(lambda: defaultdict(list))
    for f in files:
        by_lang[f.language][f.repo_name].append(f)
    for lang in LANGUAGES:
        repos = by_lang.get(lang, {})
        queues = {r: rng.sample(fs, len(fs)) for r, fs in sorted(repos.items())}
        order = sorted(queues)
        rng.shuffle(order)
        taken, i = 0, 0
        while taken < per_language and any(queues.values()):
            repo = order[i % len(order)]
            i += 1
            if not queues[repo]:
                continue
            row = queues[repo].pop()
            parsed = _units(row)
            if not parsed or not parsed[1]:
                continue
            template, units = parsed
            lo, hi = BUCKETS[taken % len(BUCKETS)]
            fitting = [u for u in units if lo <= u[1] - u[0] + 1 <= hi] or units
            r0, r1 = rng.choice(fitting)
            cut = _cut(template, r0, r1)
            if len(cut.text().split()) < 8:
                continue
            taken += 1
            yield row, cut


def variants(cut: transform.Cut, rng: random.Random) -> Iterator[tuple[str, str, tuple[int, int]]]:
    """(transform, query text, query rows of the fragment) of every variant that applies."""
    text = cut.text()
    lang = cut.language
    yield "verbatim", text, code_lines(text, lang)
    t1 = transform.type1(cut, rng)
    if t1:
        yield "type1", t1, code_lines(t1, lang)
    t2 = transform.type2(cut, rng)
    if t2:
        yield "type2", t2[0], code_lines(t2[0], lang)
    for name, ratio in TYPE3.items():
        t3 = transform.type3(cut, rng, ratio)
        if t3:
            yield name, t3[0], code_lines(t3[0], lang)
    emb = embed.embed(cut, rng)
    if emb:
        code, (a, _) = emb
        fa, fb = code_lines(text, lang)
        yield "embed", code, (a + fa - 1, a + fb - 1)


@dataclass
class Plan:
    seed: int = 1
    per_language: int = 40
    heldout_per_language: int = 40
    boilerplate_per_kind: int = 24
    languages: tuple[str, ...] = LANGUAGES
    stats: dict[str, Any] = field(default_factory=dict)


def generate(indexed: list[FileRow], heldout: list[FileRow], plan: Plan) -> list[Query]:
    """All queries of a plan (deterministic for a seed)."""
    rng = random.Random(plan.seed)
    queries: list[Query] = []
    fragments: dict[str, str] = {}
    for row, cut in pick_cuts(indexed, plan.per_language, rng):
        base = f"f{len(fragments):04d}"
        fragments[base] = cut.text()
        for name, code, (qa, qb) in variants(cut, rng):
            queries.append(
                Query(
                    id=f"{base}-{name}",
                    kind="positive",
                    transform=name,
                    language=cut.language,
                    code=code,
                    lines=cut.r1 - cut.r0 + 1,
                    truth={
                        "repo_name": row.repo_name,
                        "path": row.path,
                        "blob_id": row.blob_id,
                        "source_lines": [cut.r0 + 1, cut.r1 + 1],
                        "query_lines": [qa, qb],
                        "match_type": EXPECTED[name],
                        "fragment": base,
                    },
                )
            )
    negatives = list(_heldout(heldout, plan, rng))
    finder = CopyFinder({f.blob_id: f.content for f in indexed})
    copies = finder.find_all({**fragments, **{q.id: q.code for q in negatives}})
    for q in queries:
        q.truth["accept_blobs"] = sorted(copies.get(q.truth["fragment"], set()) - {""})
    kept = [q for q in negatives if not copies.get(q.id)]
    plan.stats["heldout_dropped_found_verbatim_in_index"] = len(negatives) - len(kept)
    plan.stats["fragments"] = len(fragments)
    for kind, lang, code in boilerplate.boilerplate(rng, plan.boilerplate_per_kind):
        n = sum(1 for q in kept if q.kind == "boilerplate")
        kept.append(
            Query(
                id=f"b{n:04d}",
                kind="boilerplate",
                transform=f"boilerplate:{kind}",
                language=lang,
                code=code,
                lines=code.count("\n"),
                truth={"match_type": "none"},
            )
        )
    return queries + kept


def _heldout(heldout: list[FileRow], plan: Plan, rng: random.Random) -> Iterator[Query]:
    for i, (row, cut) in enumerate(pick_cuts(heldout, plan.heldout_per_language, rng)):
        yield Query(
            id=f"n{i:04d}",
            kind="heldout",
            transform="heldout",
            language=cut.language,
            code=cut.text(),
            lines=cut.r1 - cut.r0 + 1,
            truth={"match_type": "none", "repo_name": row.repo_name, "path": row.path},
        )


def save(queries: list[Query], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as out:
        for q in queries:
            out.write(json.dumps(asdict(q)) + "\n")
    tmp.replace(path)
    return path


def load(path: Path) -> list[Query]:
    with path.open() as f:
        return [Query(**json.loads(line)) for line in f]
