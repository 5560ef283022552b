"""The classes of the disagreements with ScanCode, and the naming equivalences (issue 16).

Used by ``bench/licenses_scancode.py``. Every disagreement falls in one class:

- **(a) naming**: the same license named differently. The answers differ as written and agree
  once both are written the same way: SPDX normalisation (operand order of AND/OR, duplicates,
  redundant parentheses) and the ids of :data:`NAMING` renamed. These count as agreement in
  the "exact after naming" figure; the raw figure compares the expressions as written.
- **(b) ScanCode wrong**: the hand verdict is ``ours`` (or ``both``: ScanCode adds a term that
  grants rights and sets no condition, a patent grant), with the kind of ScanCode's error
  (:data:`KINDS`, the ``kind`` of each verdict).
- **(c) ours wrong**: the verdict is ``scancode``.
- **(d) both wrong**: the verdict is ``neither``.

Ids that are not licenses (a warranty disclaimer, "see the LICENSE file" beside a license)
are dropped from ScanCode's answer in every figure, raw included: they name no license.
"""

from __future__ import annotations

from typing import Any

# ScanCode's id -> ours, only where both denote the SAME license text. Reviewed by hand;
# never a mapping that turns a different license into ours.
NAMING = {
    # a dedication to the public domain: SPDX has no id, ours is LicenseRef-public-domain
    "LicenseRef-scancode-public-domain": "LicenseRef-public-domain",
    # the same dedication followed by a warranty disclaimer (which is no license term)
    "LicenseRef-scancode-public-domain-disclaimer": "LicenseRef-public-domain",
}
# Considered and left out: the texts differ, so a disagreement between them is not naming.
NOT_NAMING = {
    "LicenseRef-scancode-protobuf": "BSD-3-Clause plus a paragraph on generated code",
    "X11": "the MIT (Expat) text plus the X Consortium's non-endorsement paragraph",
    "NTP": "HPND's wording with 'with or without fee'",
    "BSD-4-Clause-UC": "BSD-4-Clause with the University of California's advertising clause",
    "Python-2.0": "the PSF-2.0 agreement with the BeOpen, CNRI and CWI licenses under it",
    "LicenseRef-scancode-other-permissive": "any permissive text without an id (ours too)",
}
KINDS = {
    "and-of-choice": "ANDs the options of a choice ('dual-licensed', 'either ... or')",
    "only-beside-or-later": "adds -only beside the -or-later of the same GNU notice",
    "wrong-variant": "names another member of the family than the text, or the file it "
    "points to, holds (BSD 2/3/4-clause variants, X11 for MIT, NTP for HPND)",
    "wrong-version-or-family": "the wrong GNU family, version or scope (a 'Lesser' notice "
    "as GPL, 'version 3' as or-later, LGPL-2.0 beside 2.1)",
    "exception-missed": "misses or misreads the exception the notice or the file it points "
    "to grants",
    "bsd-phrase-before-text": "counts 'Distributed under the BSD license:' before the "
    "2-clause text itself as a second, 3-clause license",
    "non-grant-line-read-as-license": "reads a line that grants nothing as a license: a "
    "pointer to COPYING, a history or credit line, a warranty line",
    "code-strings-read-as-notice": "reads license names in code strings or trove "
    "classifiers as the file's notice",
    "license-not-offered": "names a license the notice does not offer",
    "other-file-license": "adds the license of another file of the package that does not "
    "cover this one",
    "repeats-parts": "repeats parts of one expression (X AND X WITH e AND e)",
    "patent-grant": "names an additional patent grant as a license (verdict 'both')",
}
CLASSES = ("naming", "scancode-wrong", "ours-wrong", "both-wrong", "unadjudicated")


def classify(row: dict[str, Any]) -> tuple[str, str | None] | None:
    """(class, kind) of one result row; None where the answers agree as written."""
    if row["exact"]:
        return None if row["raw_exact"] else ("naming", None)
    verdict = row["verdict"]
    if verdict is None:
        return "unadjudicated", None
    right = verdict["right"]
    if right in ("ours", "both"):
        return "scancode-wrong", verdict.get("kind")
    return ("ours-wrong" if right == "scancode" else "both-wrong"), None


def class_counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """How many raw disagreements fall in each class, ScanCode's errors by kind."""
    out: dict[str, Any] = {c: 0 for c in CLASSES}
    kinds: dict[str, int] = {}
    for row in rows:
        found = classify(row)
        if found is None:
            continue
        out[found[0]] += 1
        if found[0] == "scancode-wrong":
            kind = found[1] or "not given"
            kinds[kind] = kinds.get(kind, 0) + 1
    out["scancode_wrong_kinds"] = dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
    return out


def classes_md(counts: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """The classification of the in-file disagreements, and the files of classes (c), (d)."""
    total = sum(counts[c] for c in CLASSES)
    lines = [
        "",
        f"Where ScanCode finds an in-file notice, its answer and ours differ as written for "
        f"{total} files:",
        "",
        "| class | files |",
        "|---|---|",
        f"| (a) naming only (equal after SPDX normalisation and the naming table) "
        f"| {counts['naming']} |",
        f"| (b) ScanCode wrong (adjudicated) | {counts['scancode-wrong']} |",
        *(
            f"| &nbsp;&nbsp;(b) {kind}: {KINDS.get(kind, '')} | {n} |"
            for kind, n in counts["scancode_wrong_kinds"].items()
        ),
        f"| (c) ours wrong | {counts['ours-wrong']} |",
        f"| (d) both wrong | {counts['both-wrong']} |",
        f"| not adjudicated | {counts['unadjudicated']} |",
    ]
    table = "; ".join(f"`{k}` is `{v}`" for k, v in NAMING.items())
    lines += ["", f"Naming table (`bench/licenses_classes.py`, same texts only): {table}."]
    left = [r for r in rows if (classify(r) or ("",))[0] in ("ours-wrong", "both-wrong")]
    lines += ["", "Left in (c) and (d): " + (", ".join(_name(r) for r in left) or "none") + "."]
    return lines


def _name(row: dict[str, Any]) -> str:
    return f"`{row['repo']}/{row['path']}` (ScanCode `{row['scancode']}`, ours `{row['ours']}`)"
