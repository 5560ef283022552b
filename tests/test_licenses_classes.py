"""The ScanCode benchmark's comparison: raw and naming-equivalent expressions, and the classes
of the disagreements (bench/licenses_classes.py, issue 16)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from licenses_classes import KINDS, NAMING, NOT_NAMING, class_counts, classify
from licenses_scancode import canon


def test_operand_order_differs_raw_and_agrees_after_naming() -> None:
    assert canon("MIT OR Apache-2.0", naming=False) != canon("Apache-2.0 OR MIT", naming=False)
    assert canon("MIT OR Apache-2.0") == canon("Apache-2.0 OR MIT")


def test_the_naming_table_renames_only_after_naming() -> None:
    ours = "LicenseRef-public-domain"
    assert canon("LicenseRef-scancode-public-domain") == ours
    assert canon("LicenseRef-scancode-public-domain", naming=False) != ours


def test_ids_that_are_not_licenses_are_dropped_in_both() -> None:
    raw = "GPL-2.0-or-later AND LicenseRef-scancode-warranty-disclaimer"
    assert canon(raw, naming=False) == canon(raw) == "GPL-2.0-or-later"


def test_the_naming_table_maps_scancode_ids_only_and_no_different_text() -> None:
    assert all(k.startswith("LicenseRef-scancode-") for k in NAMING)
    assert not set(NAMING) & set(NOT_NAMING)


def _row(exact: bool, raw_exact: bool, verdict: dict[str, str] | None = None) -> dict[str, Any]:
    return {"exact": exact, "raw_exact": raw_exact, "verdict": verdict}


def test_every_raw_disagreement_falls_in_one_class() -> None:
    rows = [
        _row(True, True),
        _row(True, False),
        _row(False, False, {"right": "ours", "kind": "wrong-variant"}),
        _row(False, False, {"right": "both", "kind": "patent-grant"}),
        _row(False, False, {"right": "scancode"}),
        _row(False, False, {"right": "neither"}),
        _row(False, False),
    ]
    assert classify(rows[0]) is None
    counts = class_counts(rows)
    assert {k: counts[k] for k in ("naming", "scancode-wrong", "ours-wrong", "both-wrong")} == {
        "naming": 1,
        "scancode-wrong": 2,
        "ours-wrong": 1,
        "both-wrong": 1,
    }
    assert counts["unadjudicated"] == 1
    assert counts["scancode_wrong_kinds"] == {"patent-grant": 1, "wrong-variant": 1}
    assert set(counts["scancode_wrong_kinds"]) <= set(KINDS)
