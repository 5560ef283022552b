"""Licenses and authors of the cascade against ScanCode on a stratified corpus sample.

Usage: python bench/licenses_scancode.py [--corpus DIR] [--cache DIR] [--per-stratum N]
       [--seed S] [--out FILE.json] [--report FILE.md] [--adjudication FILE.md]

ScanCode (scancode-toolkit-mini, with ``pluggy<1.6``) is never a dependency of the project:
it is installed into a venv of its own under the bench cache (``$BENCH_CACHE``, default
``~/.cache/attribution-bench``) when missing, and its answers are cached there by file hash,
so a rerun only scans files it has not seen.

- **Sample**: a fixed-seed stratified sample of corpus files (``--exclude-seed``: from the
  files another seed's sample does not hold, for a fresh sample): for each registry (debian, npm,
  pypi), ``--per-stratum`` files whose first 8 KiB look like a notice (``licen``, ``public
  domain``, ``redistribution``, an SPDX tag) and half as many that do not, spread round-robin
  over the packages (one file per package per round).
- **Ours**: the cascade with the package context the build gives (``read_archive``'s
  Repository, the file's first 8 KiB and the next 64 KiB for later notices), as
  ``attribution index build`` computes it.
- **ScanCode**: ``scancode -l -c`` on exactly the sampled files. Where it detects a license in
  the file, that is the oracle ("in-file notice"); a detection that only points elsewhere
  (``unknown-license-reference``: "see the LICENSE file") takes the package's answer below.
  Otherwise the oracle is ScanCode's reading of the nearest license files up the tree (AND),
  else of the nearest package manifest, else none (``NOASSERTION``).
- **Comparison**: ids that are not licenses (``warranty-disclaimer``,
  ``unknown-license-reference`` beside a license) are dropped from ScanCode's answer. *Raw
  exact*: the same expression as written. *Exact after naming*: the same expression once both
  are written the same way: simplified (duplicates, operand order and parentheses do not
  count) and ScanCode's ids renamed by the naming table (``licenses_classes.NAMING``: its
  ``LicenseRef-scancode-public-domain`` and ``public-domain-disclaimer`` are our
  ``LicenseRef-public-domain``; only ids of the same text), exceptions included; this is the
  "exact" figure of the earlier runs. *Ids*: the same set of license ids (exceptions left
  out). Every raw disagreement is classed (naming, ScanCode wrong by kind, ours wrong, both
  wrong: ``licenses_classes``).
- **Adjudication**: every disagreement is listed in the adjudication table with the notice
  line; verdicts (``ours`` / ``scancode`` / ``neither`` / ``both``) are read by hand from the
  notice and kept in ``bench/results/licenses_adjudication_verdicts.json``, keyed by file and
  both answers, so a verdict no longer applies once either answer changes.
- **Authors**: for files where ScanCode finds copyright holders, the share of those holders
  found among our authors (names compared without case and punctuation; one name's words
  containing the other's, two words at least, also counts), per holder and per file.
- **Speed**: the cascade's CPU time per file over every corpus file (contexts built first),
  median of 3 runs, with the load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import inspect
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

# ATTRIBUTION_TREE: run against another checkout (the baseline of a before/after comparison)
sys.path.insert(0, os.environ.get("ATTRIBUTION_TREE") or str(Path(__file__).resolve().parents[1]))

from attribution.core.authors import name_key, split_person
from attribution.core.licenses import NOASSERTION, RepoContext
from attribution.core.obligations import license_ids, parse
from attribution.index.ingest.archive import read_archive
from attribution.index.ingest.records import IngestLimits, Repository, SourceFile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from licenses_classes import NAMING, class_counts, classes_md

HEAD = 8192
LATER = 64 * 1024
SCANCODE = "scancode-toolkit-mini==32.5.0"
RESULTS = Path(__file__).resolve().parent / "results"
NOTICE_LIKE = re.compile(
    r"licen[cs]|SPDX-License|public\s+domain|permission\s+is\s+hereby|redistribution", re.I
)
LICENSE_FILE = re.compile(r"(?:LICEN[CS]E|COPYING|UNLICEN[CS]E|COPYRIGHT)(?:[-._ ][^/]*)?", re.I)
MANIFESTS = ("PKG-INFO", "METADATA", "package.json", "Cargo.toml", "pyproject.toml", "setup.cfg")
NOT_LICENSES = {
    "LicenseRef-scancode-warranty-disclaimer",
    "LicenseRef-scancode-unknown-license-reference",
}
Row = dict[str, Any]


# ---------------------------------------------------------------- ScanCode, cached by hash
def scancode_bin(cache: Path) -> Path:
    """The scancode executable of the bench venv, installed there when missing."""
    venv = cache / "scancode"
    exe = venv / "bin" / "scancode"
    if not exe.exists():
        print(f"installing {SCANCODE} into {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "pip"), "install", "--quiet", SCANCODE, "pluggy<1.6"]
        subprocess.run(pip, check=True)
    return exe


def sha(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def scan(texts: dict[str, tuple[str, str]], cache: Path) -> dict[str, Row]:
    """ScanCode's answer per text hash; ``texts`` maps hash -> (file name, text)."""
    store = cache / "scancode-answers.json"
    known: dict[str, Row] = json.loads(store.read_text()) if store.exists() else {}
    todo = {h: v for h, v in texts.items() if h not in known}
    if todo:
        known.update(_run_scancode(todo, scancode_bin(cache)))
        store.write_text(json.dumps(known, sort_keys=True))
    return {h: known[h] for h in texts}


def _run_scancode(todo: dict[str, tuple[str, str]], exe: Path) -> dict[str, Row]:
    print(f"scancode: scanning {len(todo)} files ...", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "files"
        for h, (name, text) in todo.items():
            (root / h).mkdir(parents=True)
            (root / h / name).write_text(text, encoding="utf-8")
        out = Path(tmp) / "out.json"
        cmd = [str(exe), "-l", "-c", "--license-text", "-n", "2", "--timeout", "300"]
        subprocess.run([*cmd, "--quiet", "--json", str(out), str(root)], check=True)
        files = json.loads(out.read_text())["files"]
    answers = {}
    for f in files:
        if f["type"] != "file":
            continue
        h = f["path"].split("/")[-2]
        answers[h] = {
            "expression": f.get("detected_license_expression_spdx") or "",
            "matches": [
                {
                    "expression": m["license_expression_spdx"],
                    "start_line": m["start_line"],
                    "end_line": m["end_line"],
                    "text": (m.get("matched_text") or "")[:300],
                }
                for d in f.get("license_detections", [])
                for m in d["matches"]
            ],
            "holders": [x["holder"] for x in f.get("holders", [])],
        }
    return answers


# ---------------------------------------------------------------- the sample
def load_rows(corpus: Path) -> list[Row]:
    cols = ["repo_name", "registry", "path", "content"]
    return pq.read_table(corpus / "files.parquet", columns=cols).to_pylist()


def sample(rows: list[Row], per_stratum: int, seed: int) -> list[Row]:
    """Fixed-seed stratified sample: registry x notice-like head, round-robin over packages."""
    strata: dict[tuple[str, bool], dict[str, list[Row]]] = collections.defaultdict(dict)
    for row in rows:
        key = (row["registry"], bool(NOTICE_LIKE.search(row["content"][:HEAD])))
        strata[key].setdefault(row["repo_name"], []).append(row)
    rng = random.Random(seed)
    picked: list[Row] = []
    for key in sorted(strata):
        quota = per_stratum if key[1] else per_stratum // 2
        by_repo = strata[key]
        repos = sorted(by_repo)
        rng.shuffle(repos)
        for files in by_repo.values():
            files.sort(key=lambda r: r["path"])
            rng.shuffle(files)
        picked += _round_robin(repos, by_repo, quota)
    return picked


def fresh_sample(rows: list[Row], per_stratum: int, seed: int, exclude: list[int]) -> list[Row]:
    """The sample of ``seed`` from the files no sample of the ``exclude`` seeds holds."""
    taken = {(r["repo_name"], r["path"]) for s in exclude for r in sample(rows, per_stratum, s)}
    return sample([r for r in rows if (r["repo_name"], r["path"]) not in taken], per_stratum, seed)


def _round_robin(repos: list[str], by_repo: dict[str, list[Row]], quota: int) -> list[Row]:
    out: list[Row] = []
    depth = 0
    while len(out) < quota and any(len(by_repo[r]) > depth for r in repos):
        for repo in repos:
            if len(out) < quota and len(by_repo[repo]) > depth:
                out.append(by_repo[repo][depth])
        depth += 1
    return out


def repositories(corpus: Path, names: Iterable[str]) -> dict[str, Repository]:
    """The Repository (metadata files) the build reads from each package archive."""
    manifest = json.loads((corpus / "manifest.json").read_text())
    archives = {f"{p['registry']}/{p['name']}": p["archive"] for p in manifest["packages"]}
    out = {}
    for name in sorted(set(names)):
        path = str(corpus / archives[name])
        for item in read_archive(path, path, IngestLimits(), name=name):
            if isinstance(item, SourceFile):
                out[name] = item.repo
                break
        else:
            out[name] = Repository(name, None, {})
    return out


def head_of(content: str) -> str:
    return content.encode("utf-8")[:HEAD].decode("utf-8", "replace")


def beyond_of(content: str) -> str:
    """The text after the head that the build passes for later notices (64 KiB)."""
    return content.encode("utf-8")[HEAD : HEAD + LATER].decode("utf-8", "replace")


def attribute(ctx: RepoContext, path: str, head: str, beyond: str) -> Any:
    """``attribute_file`` as the build calls it (a baseline tree without ``beyond``: the
    head only)."""
    if _TAKES_BEYOND:
        return ctx.attribute_file(path, head, beyond=beyond)
    return ctx.attribute_file(path, head)


_TAKES_BEYOND = "beyond" in inspect.signature(RepoContext.attribute_file).parameters


# ---------------------------------------------------------------- comparing expressions
def canon(expression: str | None, *, naming: bool = True) -> str:
    """An expression with non-licenses dropped and, with ``naming``, ScanCode's ids of the
    naming table renamed and duplicates, operand order and parentheses simplified away;
    ``NOASSERTION`` when nothing is left."""
    parsed = parse(expression) if expression and expression != NOASSERTION else None
    kept = _strip(parsed, naming) if parsed is not None else None
    if not kept:
        return NOASSERTION
    again = parse(kept)
    return str((again.simplify() if naming else again).render())


def _strip(node: Any, naming: bool = True) -> str | None:
    args = getattr(node, "args", None)
    if args and hasattr(node, "operator"):
        kept = [k for k in (_strip(a, naming) for a in args) if k]
        op = " AND " if "AND" in type(node).__name__ else " OR "
        return "(" + op.join(kept) + ")" if len(kept) > 1 else (kept[0] if kept else None)
    base = node.license_symbol.key if hasattr(node, "license_symbol") else node.key
    if base in NOT_LICENSES:
        return None
    text = str(node.render())
    return NAMING.get(text, text) if naming else text


def id_set(expression: str) -> frozenset[str]:
    return frozenset(license_ids(expression)) if expression != NOASSERTION else frozenset()


def pointer_only(raw: str) -> bool:
    """Whether ScanCode's in-file detection only points elsewhere ("see LICENSE")."""
    ids = set(license_ids(raw)) if raw else set()
    return (
        bool(ids) and ids <= NOT_LICENSES and "LicenseRef-scancode-unknown-license-reference" in ids
    )


# ---------------------------------------------------------------- the oracle
def ancestors(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[:i]) for i in range(len(parts), -1, -1)]


def package_files(path: str, metadata: dict[str, str]) -> list[list[str]]:
    """Per ancestor directory, nearest first: its license files, then its manifests."""
    by_dir: dict[str, list[str]] = collections.defaultdict(list)
    for p in metadata:
        by_dir[p.rsplit("/", 1)[0] if "/" in p else ""].append(p)
    out = []
    for d in ancestors(path):
        names = sorted(by_dir.get(d, []))
        lic = [p for p in names if LICENSE_FILE.fullmatch(p.rsplit("/", 1)[-1])]
        man = [p for p in names if p.rsplit("/", 1)[-1] in MANIFESTS]
        out += [lic, man]
    return [group for group in out if group]


def package_oracle(
    groups: list[list[str]], answers: dict[str, Row], metadata: dict[str, str]
) -> str:
    """ScanCode's package-level answer: the nearest group of files it finds a license in."""
    for group in groups:
        found = [canon(answers[sha(metadata[p])]["expression"]) for p in group]
        found = [f for f in found if f != NOASSERTION]
        if found:
            return canon(" AND ".join(f"({f})" for f in dict.fromkeys(found)))
    return NOASSERTION


# ---------------------------------------------------------------- authors
def _key(name: str) -> str:
    """A name's comparison key with accents folded (ScanCode transliterates names)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return name_key(plain)


def holder_found(holder: str, ours: list[str]) -> bool:
    key = _key(split_person(holder)[0])
    if not key:
        return True
    keys = [_key(n) for n in ours]
    if key in keys or any(key in k or (k and k in key and len(k) > 3) for k in keys):
        return True
    words = set(key.split())
    return any(
        (words <= set(k.split()) or set(k.split()) <= words)
        and min(len(words), len(k.split())) >= 2
        for k in keys
    )


# ---------------------------------------------------------------- one run
def evaluate(picked: list[Row], repos: dict[str, Repository], cache: Path) -> list[Row]:
    """One result row per sampled file: ScanCode's answer, ours, and how they compare."""
    texts: dict[str, tuple[str, str]] = {}
    groups = {}
    for row in picked:
        texts[sha(row["content"])] = (row["path"].rsplit("/", 1)[-1], row["content"])
        meta = dict(repos[row["repo_name"]].metadata_files)
        groups[id(row)] = package_files(row["path"], meta)
        for group in groups[id(row)]:
            for p in group:
                texts[sha(meta[p])] = (p.rsplit("/", 1)[-1], meta[p])
    answers = scan(texts, cache)
    contexts = {name: _context(repo) for name, repo in repos.items()}
    out = []
    for row in picked:
        meta = dict(repos[row["repo_name"]].metadata_files)
        sc = answers[sha(row["content"])]
        content = row["content"]
        ctx = contexts[row["repo_name"]]
        attr = attribute(ctx, row["path"], head_of(content), beyond_of(content))
        out.append(_compare(row, sc, attr, package_oracle(groups[id(row)], answers, meta)))
    return out


def _context(repo: Repository) -> RepoContext:
    return RepoContext(
        repo.metadata_files,
        declared_license=repo.declared_license,
        declared_authors=repo.declared_authors,
    )


def _compare(row: Row, sc: Row, attr: Any, package: str) -> Row:
    raw = sc["expression"]
    in_file = bool(raw) and canon(raw) != NOASSERTION
    oracle = canon(raw) if in_file else package
    ours = canon(attr.license)
    holders = list(dict.fromkeys(h for h in sc["holders"] if name_key(h)))
    found = [h for h in holders if holder_found(h, list(attr.authors))]
    return {
        "repo": row["repo_name"],
        "path": row["path"],
        "registry": row["registry"],
        "in_file_notice": in_file,
        "pointer_only": pointer_only(raw),
        "scancode_raw": raw,
        "scancode": oracle,
        "ours": ours,
        "ours_raw": attr.license,
        "evidence": attr.license_evidence,
        "exact": oracle == ours,
        "raw_exact": canon(raw if in_file else package, naming=False)
        == canon(attr.license, naming=False),
        "ids": id_set(oracle) == id_set(ours),
        "notice_line": notice_line(row["content"], sc),
        "holders": holders,
        "holders_found": found,
        "our_authors": list(attr.authors[:8]),
    }


def notice_line(content: str, sc: Row) -> str:
    """The line ScanCode's first match starts on, else the first notice-like line."""
    lines = content.splitlines()
    starts = [m["start_line"] for m in sc["matches"] if m["start_line"] <= len(lines)]
    if starts:
        return _clip(lines[min(starts) - 1])
    head = content[:HEAD].splitlines()
    line = next((x for x in head if NOTICE_LIKE.search(x) or "opyright" in x), "")
    return _clip(line) if line else "(no notice in the file)"


def _clip(line: str) -> str:
    line = " ".join(line.split())
    return line[:140] + ("..." if len(line) > 140 else "")


# ---------------------------------------------------------------- verdicts and figures
def verdict_key(row: Row) -> str:
    return f"{row['repo']}/{row['path']} | {row['scancode']} | {row['ours']}"


def apply_verdicts(rows: list[Row], path: Path) -> None:
    """Attach the hand verdict of each disagreement (None: not adjudicated yet)."""
    known = json.loads(path.read_text()) if path.exists() else {}
    for row in rows:
        row["verdict"] = None if row["exact"] else known.get(verdict_key(row))


def figures(rows: list[Row]) -> Row:
    n = len(rows)
    wrong = [r for r in rows if not r["exact"]]
    verdicts = collections.Counter(
        (r["verdict"] or {}).get("right", "unadjudicated") for r in wrong
    )
    correct = n - len(wrong) + verdicts["ours"] + verdicts["both"]
    return {
        "files": n,
        "raw_exact_agreement": round(sum(r["raw_exact"] for r in rows) / max(n, 1), 4),
        "exact_agreement": round(sum(r["exact"] for r in rows) / max(n, 1), 4),
        "ids_agreement": round(sum(r["ids"] for r in rows) / max(n, 1), 4),
        "disagreements": len(wrong),
        "verdicts": dict(sorted(verdicts.items())),
        "adjudicated_correct": round(correct / max(n, 1), 4),
        "classes": class_counts(rows),
    }


def author_figures(rows: list[Row]) -> Row:
    with_holders = [r for r in rows if r["holders"]]
    total = sum(len(r["holders"]) for r in with_holders)
    found = sum(len(r["holders_found"]) for r in with_holders)
    files_ok = sum(len(r["holders_found"]) == len(r["holders"]) for r in with_holders)
    return {
        "files_with_scancode_holders": len(with_holders),
        "holders": total,
        "holder_agreement": round(found / max(total, 1), 4),
        "file_agreement": round(files_ok / max(len(with_holders), 1), 4),
    }


def summary(rows: list[Row]) -> Row:
    out: Row = {
        "all": figures(rows),
        "in_file_notice": figures([r for r in rows if r["in_file_notice"]]),
        "no_in_file_notice": figures([r for r in rows if not r["in_file_notice"]]),
        "authors": author_figures(rows),
    }
    for registry in sorted({r["registry"] for r in rows}):
        out[f"registry:{registry}"] = figures([r for r in rows if r["registry"] == registry])
    return out


# ---------------------------------------------------------------- speed
def speed_runs(corpus: Path, baseline: Path | None, rounds: int = 3) -> Row:
    """Cascade speed of this tree and of ``baseline`` (another checkout), each in a fresh
    process, alternating, ``rounds`` times: medians and their ratio."""
    trees = {"this": None, "baseline": baseline} if baseline else {"this": None}
    runs: dict[str, list[Row]] = {name: [] for name in trees}
    for _ in range(rounds):
        for name, tree in trees.items():
            env = dict(os.environ)  # "this": the tree this script imports
            if tree is not None:
                env["ATTRIBUTION_TREE"] = str(tree)
            cmd = [sys.executable, __file__, "--speed-only", "--corpus", str(corpus)]
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    key = "cascade_ms_per_file_mean"
    result = {name: _median_run(r) for name, r in runs.items()}
    if baseline:
        result["ratio_this_to_baseline"] = round(result["this"][key] / result["baseline"][key], 3)
    return result


def _median_run(runs: list[Row]) -> Row:
    keys = ("cascade_ms_per_file_mean", "cascade_ms_per_file_median", "contexts_build_s")
    out = {k: round(statistics.median(r[k] for r in runs), 4) for k in keys}
    out["runs_ms_per_file"] = [r["cascade_ms_per_file_mean"] for r in runs]
    out["files"] = runs[0]["files"]
    out["loadavg"] = [r["loadavg"] for r in runs]
    return out


def cascade_speed(corpus: Path, rows: list[Row]) -> Row:
    """CPU time of ``attribute_file`` over every corpus file, contexts built beforehand
    (cold caches, one pass, as a build runs it)."""
    by_repo: dict[str, list[Row]] = collections.defaultdict(list)
    for row in rows:
        by_repo[row["repo_name"]].append(row)
    repos = repositories(corpus, by_repo)
    t0 = time.process_time()
    contexts = {name: _context(repo) for name, repo in repos.items()}
    built = time.process_time() - t0
    per_file: list[float] = []
    total = 0.0
    for name, files in by_repo.items():
        ctx = contexts[name]
        heads = [(r["path"], head_of(r["content"]), beyond_of(r["content"])) for r in files]
        for path, head, beyond in heads:
            t = time.process_time()
            attribute(ctx, path, head, beyond)
            per_file.append(time.process_time() - t)
        total += sum(per_file[-len(heads) :])
    return {
        "files": len(per_file),
        "cascade_ms_per_file_mean": round(1000 * total / len(per_file), 4),
        "cascade_ms_per_file_median": round(1000 * statistics.median(per_file), 4),
        "contexts_build_s": round(built, 2),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


# ---------------------------------------------------------------- outputs
def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def report_md(result: Row, before: Row | None) -> str:
    s, run = result["summary"], result["run"]
    lines = [
        "# Licenses against ScanCode",
        "",
        f"`bench/licenses_scancode.py` ({run['date']}, seed {run['seed']}"
        + (
            f" from the files the sample of seed {', '.join(map(str, run['excluded_seeds']))} "
            "does not hold"
            if run.get("excluded_seeds")
            else ""
        )
        + f", {run['files']} files of "
        f"{run['packages']} packages; ScanCode {run['scancode']}; load average "
        f"{run['loadavg']} on 2 shared cores). Method in the script's docstring; every "
        f"disagreement is in `{run.get('adjudication', 'licenses_adjudication.md')}`.",
        *(
            ["", f"Before: `{run['before']}` ({before['run']['date']}, same sample)."]
            if before and run.get("before")
            else []
        ),
        "",
        "| subset | files | raw exact | exact after naming | ids | disagreements | ours right "
        "| ScanCode right | neither | adjudicated correct |"
        + (" before: raw / after naming / ids / adjudicated |" if before else ""),
        "|---|---|---|---|---|---|---|---|---|---|" + ("---|" if before else ""),
    ]
    for key, f in s.items():
        if key == "authors":
            continue
        v = f["verdicts"]
        row = (
            f"| {key} | {f['files']} | {_pct(f['raw_exact_agreement'])} "
            f"| {_pct(f['exact_agreement'])} | {_pct(f['ids_agreement'])} "
            f"| {f['disagreements']} | {v.get('ours', 0) + v.get('both', 0)} "
            f"| {v.get('scancode', 0)} | {v.get('neither', 0)} | {_pct(f['adjudicated_correct'])} |"
        )
        if before and key in before["summary"]:
            b = before["summary"][key]
            raw = b.get("raw_exact_agreement")
            row += f" {_pct(raw) if raw is not None else 'n/a'} / {_pct(b['exact_agreement'])} / "
            row += f"{_pct(b['ids_agreement'])} / {_pct(b['adjudicated_correct'])} |"
        lines.append(row)
    in_file = [r for r in result["rows"] if r["in_file_notice"]]
    lines += classes_md(s["in_file_notice"]["classes"], in_file)
    a = s["authors"]
    lines += [
        "",
        f"Authors: of {a['holders']} copyright holders ScanCode finds in "
        f"{a['files_with_scancode_holders']} files, {_pct(a['holder_agreement'])} are among our "
        f"authors; all of a file's holders in {_pct(a['file_agreement'])} of those files"
        + (
            f" (before: {_pct(before['summary']['authors']['holder_agreement'])} / "
            f"{_pct(before['summary']['authors']['file_agreement'])})."
            if before
            else "."
        ),
        *(["", speed_line(result["speed"])] if result["speed"] else []),
    ]
    return "\n".join(lines) + "\n"


def speed_line(speed: Row) -> str:
    this = speed["this"]
    line = (
        f"Cascade speed over all {this['files']} corpus files (CPU time per file, fresh "
        f"process, median of {len(this['runs_ms_per_file'])} runs): "
        f"{this['cascade_ms_per_file_mean']} ms mean, {this['cascade_ms_per_file_median']} ms "
        "median"
    )
    if "baseline" in speed:
        base = speed["baseline"]
        line += (
            f"; the baseline tree, alternating with it in the same run: "
            f"{base['cascade_ms_per_file_mean']} ms mean, {base['cascade_ms_per_file_median']} "
            f"ms median (ratio {speed['ratio_this_to_baseline']})"
        )
    return line + f". Load averages per run: {this['loadavg']}."


def adjudication_md(rows: list[Row], verdicts: str = "licenses_adjudication_verdicts.json") -> str:
    wrong = [r for r in rows if not r["exact"]]
    lines = [
        "# Adjudication: every disagreement with ScanCode",
        "",
        "Generated by `bench/licenses_scancode.py` from the hand verdicts in "
        f"`{verdicts}` (read from each notice). `in-file`: ScanCode "
        "found a license notice in the file; otherwise its answer is its reading of the "
        "nearest license file or manifest.",
        "",
        "| # | file | in-file | notice line | ScanCode | ours | right (ScanCode's error) | why |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(wrong, 1):
        v = r["verdict"] or {"right": "NOT ADJUDICATED", "why": ""}
        cells = [
            str(i),
            f"{r['repo']}/{r['path']}",
            "yes" if r["in_file_notice"] else "no",
            r["notice_line"].replace("|", "\\|"),
            f"`{r['scancode']}`",
            f"`{r['ours']}`",
            v["right"] + (f" ({v['kind']})" if v.get("kind") else ""),
            v["why"].replace("|", "\\|"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus"))
    default_cache = Path(os.environ.get("BENCH_CACHE", "~/.cache/attribution-bench"))
    parser.add_argument("--cache", type=Path, default=default_cache.expanduser())
    parser.add_argument("--per-stratum", type=int, default=80)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--out", type=Path, default=RESULTS / "licenses_scancode.json")
    parser.add_argument("--report", type=Path, default=RESULTS / "licenses_scancode.md")
    parser.add_argument("--adjudication", type=Path, default=RESULTS / "licenses_adjudication.md")
    parser.add_argument(
        "--verdicts", type=Path, default=RESULTS / "licenses_adjudication_verdicts.json"
    )
    parser.add_argument("--before", type=Path, default=RESULTS / "licenses_scancode_before.json")
    parser.add_argument("--baseline-tree", type=Path, help="checkout to compare speed with")
    parser.add_argument(
        "--exclude-seed",
        type=int,
        action="append",
        default=[],
        help="leave out the files another seed's sample holds (a fresh sample)",
    )
    parser.add_argument("--speed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-speed", action="store_true", help="skip the speed runs")
    args = parser.parse_args()
    if not (args.corpus / "files.parquet").exists():
        sys.exit(f"error: no files.parquet in corpus directory {args.corpus}")
    if args.speed_only:
        print(json.dumps(cascade_speed(args.corpus, load_rows(args.corpus))))
        return
    args.cache.mkdir(parents=True, exist_ok=True)
    corpus_rows = load_rows(args.corpus)
    picked = fresh_sample(corpus_rows, args.per_stratum, args.seed, args.exclude_seed)
    repos = repositories(args.corpus, {r["repo_name"] for r in picked})
    rows = evaluate(picked, repos, args.cache)
    apply_verdicts(rows, args.verdicts)
    version = (
        subprocess.run([str(scancode_bin(args.cache)), "--version"], capture_output=True, text=True)
        .stdout.split("\n")[0]
        .replace("ScanCode version:", "")
        .strip()
    )
    result = {
        "run": {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "seed": args.seed,
            "excluded_seeds": args.exclude_seed,
            "adjudication": args.adjudication.name,
            "before": args.before.name if args.before.exists() else None,
            "per_stratum": args.per_stratum,
            "files": len(rows),
            "packages": len(repos),
            "scancode": version,
            "loadavg": [round(x, 2) for x in os.getloadavg()],
        },
        "summary": summary(rows),
        "speed": None if args.no_speed else speed_runs(args.corpus, args.baseline_tree),
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    before = (
        json.loads(args.before.read_text())
        if args.before.exists() and args.before != args.out
        else None
    )
    args.report.write_text(report_md(result, before))
    args.adjudication.write_text(adjudication_md(rows, args.verdicts.name))
    print(args.report.read_text())


if __name__ == "__main__":
    main()
