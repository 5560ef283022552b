"""License and author accuracy of ``attribution.licenses`` over the shared DEV corpus.

Usage: python bench/licenses_accuracy.py [--corpus DIR] [--examples N] [--json FILE]

Detection reads only each package archive (metadata files + the file's first 8 KiB); the
truth columns of files.parquet are read only to score the answers.

Scoring (per parquet row whose truth ``detected_licenses`` is not empty):
- license (ids): the set of license ids of our expression equals the truth set. The truth's
  deprecated bare GNU ids (``GPL-2.0``, ``LGPL-2.1``, ``AGPL-3.0`` ...) say nothing about
  "only" / "or later", so they match either of our ``-only`` / ``-or-later`` ids;
  exceptions (``WITH ...``) are not compared.
- license (exact): our expression equals the truth ids joined with AND or with OR, after
  SPDX normalization (where bare ``GPL-2.0`` means ``GPL-2.0-only``).
- author recall: the fraction of truth authors found among ours, comparing names without
  e-mails/URLs, case and punctuation; a name also counts when its words contain, or are
  contained in, one of ours (at least two words on the smaller side).
- NOASSERTION rate where the package declares a license (manifest.json license_ids).
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import re
import sys
import tarfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from attribution.core.authors import name_key, split_person
from attribution.core.licenses import NOASSERTION, RepoContext, normalize
from attribution.core.obligations import license_ids

METADATA = re.compile(
    r"(?:^|/)(?:(?:LICEN[CS]E|COPYING|UNLICEN[CS]E|NOTICE|COPYRIGHT|AUTHORS|CONTRIBUTORS"
    r"|MAINTAINERS|CREDITS)[^/]*|PKG-INFO|METADATA|package\.json|Cargo\.toml|pom\.xml|go\.mod"
    r"|setup\.cfg|pyproject\.toml|REUSE\.toml|[^/]+\.license)$"
    r"|^(?:\.reuse/dep5|debian/copyright|debian/upstream/metadata|LICENSES/[^/]+)$",
    re.I,
)
BARE_GNU = {
    "GPL-1.0",
    "GPL-2.0",
    "GPL-3.0",
    "LGPL-2.0",
    "LGPL-2.1",
    "LGPL-3.0",
    "AGPL-1.0",
    "AGPL-3.0",
}
HEAD = 8192
Row = dict[str, Any]


def repo_name(archive: Path) -> str:
    """``npm__scope__name.tar.gz`` -> ``npm/@scope/name``; ``pypi__six`` -> ``pypi/six``."""
    parts = archive.name.removesuffix(".tar.gz").split("__")
    if len(parts) == 3:
        return f"{parts[0]}/@{parts[1]}/{parts[2]}"
    return f"{parts[0]}/{parts[1]}"


def metadata_files(archive: Path) -> dict[str, str]:
    """Repo-relative path -> text of the archive's license and metadata files."""
    out: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(archive.read_bytes()), mode="r:gz") as tar:
        for member in tar:
            if not member.isfile() or "/" not in member.name or member.size > 1_000_000:
                continue
            path = member.name.split("/", 1)[1]
            if METADATA.search(path):
                data = tar.extractfile(member)
                if data is not None:
                    out[path] = data.read().decode("utf-8", errors="replace")
    return out


def _key(spdx_id: str, bare_bases: set[str]) -> str:
    base = re.sub(r"-(?:only|or-later)$", "", spdx_id)
    return base if base in bare_bases else spdx_id


def ids_agree(truth: list[str], ours: list[str]) -> bool:
    bare = {t for t in truth if t in BARE_GNU}
    return {_key(t, bare) for t in truth} == {_key(o, bare) for o in ours}


def exact_agree(truth: list[str], ours: str) -> bool:
    return ours in {normalize(" AND ".join(truth)), normalize(" OR ".join(truth))}


def author_found(truth: str, ours: list[set[str]], ours_keys: set[str]) -> bool:
    key = name_key(split_person(truth)[0])
    if not key:
        return True
    if key in ours_keys:
        return True
    words = set(key.split())
    return any((words <= o or o <= words) and min(len(words), len(o)) >= 2 for o in ours)


def category(row: Row, ours: list[str], evidence: str, vendored: bool) -> str:
    """Why a row disagrees: which level of evidence each side looked at."""
    truth = list(row["detected_licenses"])
    if row["license_source"] == "debian-copyright-text":
        return "truth read from a free-text debian/copyright (text matching, known errors)"
    if evidence in ("header", "spdx-tag", "reuse") and row["license_source"] != "spdx-header":
        return "the file's own header names another license than the package-level truth"
    if vendored and evidence in ("license-file", "package-metadata"):
        return "a nearer (vendored) LICENSE or manifest than the package's own"
    unscoped = {re.sub(r"-(?:only|or-later)$", "", i) for i in truth}
    if unscoped == {re.sub(r"-(?:only|or-later)$", "", i) for i in ours}:
        return "same licenses, GNU scope differs (-only vs -or-later)"
    return "other"


class Tally:
    """Counters and disagreement examples."""

    def __init__(self) -> None:
        self.c: collections.Counter[str] = collections.Counter()
        self.cats: collections.Counter[tuple[str, ...]] = collections.Counter()
        self.kinds: collections.Counter[str] = collections.Counter()
        self.examples: dict[tuple[str, ...], str] = {}
        self.per_source: collections.Counter[tuple[str, bool]] = collections.Counter()
        self.author_misses: collections.Counter[tuple[str, str]] = collections.Counter()

    def license(self, row: Row, attr_license: str, evidence: str, vendored: bool) -> None:
        truth = list(row["detected_licenses"] or [])
        if not truth:
            self.c["truth_unknown"] += 1
            return
        ours = license_ids(attr_license) if attr_license != NOASSERTION else []
        ok = ids_agree(truth, ours)
        self.c["known"] += 1
        self.c["ids_ok"] += ok
        self.c["exact_ok"] += exact_agree(truth, attr_license)
        self.per_source[(row["license_source"], ok)] += 1
        if not ok:
            self.kinds[category(row, ours, evidence, vendored)] += 1
            cat = (row["repo_name"], row["license_source"], evidence, "+".join(truth), attr_license)
            self.cats[cat] += 1
            self.examples.setdefault(cat, row["path"])

    def package_level(self, row: Row, attr_license: str) -> None:
        truth = list(row["detected_licenses"] or [])
        if truth:
            ours = license_ids(attr_license) if attr_license != NOASSERTION else []
            self.c["headless_ok"] += ids_agree(truth, ours)

    def authors(self, row: Row, names: Iterable[str]) -> None:
        truth = [a for a in (row["authors"] or []) if a and a.strip()]
        keys = [name_key(n) for n in names]
        sets = [set(k.split()) for k in keys]
        for author in truth:
            hit = author_found(author, sets, set(keys))
            self.c["authors_total"] += 1
            self.c["authors_found"] += hit
            if not hit:
                self.author_misses[(row["repo_name"], author)] += 1


def vendored_dirs(files: dict[str, str]) -> set[str]:
    """Directories below the root that hold their own LICENSE or package manifest (a
    vendored ``x.dist-info`` counts for the directory holding it)."""
    out = set()
    for path in files:
        directory, _, name = path.rpartition("/")
        directory = re.sub(r"/?[^/]+\.dist-info(?:/.*)?$", "", directory)
        own = re.match(r"(?:LICEN[CS]E|COPYING|package\.json|PKG-INFO|METADATA)", name, re.I)
        if directory and not directory.startswith("debian") and own:
            out.add(directory + "/")
    return out


def run(corpus: Path) -> tuple[Tally, dict[str, float]]:
    table = pq.read_table(
        corpus / "files.parquet",
        columns=["repo_name", "path", "content", "detected_licenses", "authors", "license_source"],
    )
    rows_by_repo: dict[str, list[Row]] = collections.defaultdict(list)
    for row in table.to_pylist():
        row["content"] = row["content"][:HEAD]
        rows_by_repo[row["repo_name"]].append(row)
    manifest = json.loads((corpus / "manifest.json").read_text())
    declares = {
        f"{p['registry']}/{p['name']}": bool(p.get("license_ids")) for p in manifest["packages"]
    }
    tally, timing = Tally(), collections.defaultdict[str, float](float)
    for archive in sorted((corpus / "packages").glob("*.tar.gz")):
        name = repo_name(archive)
        files = metadata_files(archive)
        t0 = time.process_time()
        ctx = RepoContext(files)
        t1 = time.process_time()
        answers = [ctx.attribute_file(r["path"], r["content"]) for r in rows_by_repo[name]]
        t2 = time.process_time()
        timing["context_s"] += t1 - t0
        timing["cascade_s"] += t2 - t1
        timing["files"] += len(answers)
        timing["repos"] += 1
        vendored = vendored_dirs(files)
        for row, attr in zip(rows_by_repo[name], answers, strict=True):
            inside = any(row["path"].startswith(d) for d in vendored)
            tally.license(row, attr.license, attr.license_evidence, inside)
            tally.package_level(row, ctx.attribute_file(row["path"], "").license)
            tally.authors(row, attr.authors)
            tally.c[f"evidence:{attr.license_evidence}"] += 1
            if declares.get(name):
                tally.c["declared_rows"] += 1
                tally.c["declared_noassertion"] += attr.license == NOASSERTION
    return tally, dict(timing)


def report(tally: Tally, timing: dict[str, float], examples: int) -> dict[str, float]:
    c = tally.c
    figures = {
        "rows": int(timing["files"]),
        "license_ids_agreement": c["ids_ok"] / max(c["known"], 1),
        "license_exact_agreement": c["exact_ok"] / max(c["known"], 1),
        "license_ids_agreement_heads_ignored": c["headless_ok"] / max(c["known"], 1),
        "author_recall": c["authors_found"] / max(c["authors_total"], 1),
        "noassertion_rate_where_declared": c["declared_noassertion"] / max(c["declared_rows"], 1),
        "cascade_files_per_s": timing["files"] / max(timing["cascade_s"], 1e-9),
        "context_build_s_total": timing["context_s"],
        "repos": int(timing["repos"]),
        "loadavg": [round(x, 2) for x in os.getloadavg()],  # the machine is shared
    }
    for key, value in figures.items():
        print(f"{key:34s} {value:.4f}" if isinstance(value, float) else f"{key:34s} {value}")
    print(f"rows with truth: {c['known']}  without: {c['truth_unknown']}")
    print("evidence used:", {k[9:]: v for k, v in c.items() if k.startswith("evidence:")})
    print("agreement by truth license_source:")
    for source in sorted({s for s, _ in tally.per_source}):
        good, bad = tally.per_source[(source, True)], tally.per_source[(source, False)]
        print(f"  {source:24s} {good / max(good + bad, 1):.3f}  ({bad} disagree of {good + bad})")
    print("\ndisagreements by kind (rows):")
    for kind, n in tally.kinds.most_common():
        print(f"  {n:5d}  {kind}")
    set_aside = sum(n for k, n in tally.kinds.items() if k != "other" and "GNU scope" not in k)
    rest = c["known"] - set_aside
    print(
        f"agreement where both sides read the same level of evidence: "
        f"{(c['ids_ok']) / max(rest, 1):.4f} ({rest} rows)"
    )
    print("\nmain license disagreements (repo, truth source, our evidence, truth, ours): rows")
    for cat, n in tally.cats.most_common(examples):
        print(f"  {n:5d}  {' | '.join(cat)}  e.g. {tally.examples[cat]}")
    print("\nmost missed authors (repo, truth author): rows")
    for (repo, author), n in tally.author_misses.most_common(examples):
        print(f"  {n:5d}  {repo} | {author}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus"))
    parser.add_argument("--examples", type=int, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    tally, timing = run(args.corpus)
    figures = report(tally, timing, args.examples)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
