"""The per-query time budget (web/deadline.py)."""

from __future__ import annotations

import threading
import time

import pytest

from attribution.web.deadline import QueryTimeout, deadline


def busy(seconds: float) -> int:
    """Pure Python work for about `seconds` (what the engine's loops are)."""
    end, n = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        n += 1
    return n


def test_work_past_the_budget_is_stopped() -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="50 ms"), deadline(0.05):
        busy(5.0)
    assert time.monotonic() - started < 1.0


def test_work_within_the_budget_is_untouched() -> None:
    with deadline(5.0):
        n = busy(0.01)
    assert n > 0
    busy(0.05)  # nothing fires after the block is left


def test_no_budget() -> None:
    for budget in (None, 0, -1):
        with deadline(budget):
            busy(0.01)


def test_budgets_are_per_thread() -> None:
    outcome: dict[str, str] = {}

    def work(name: str, budget: float, seconds: float) -> None:
        try:
            with deadline(budget):
                busy(seconds)
            outcome[name] = "done"
        except QueryTimeout:
            outcome[name] = "timeout"

    threads = [
        threading.Thread(target=work, args=("slow", 0.05, 5.0)),
        threading.Thread(target=work, args=("fast", 5.0, 0.2)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert outcome == {"slow": "timeout", "fast": "done"}


def test_many_short_blocks_leave_nothing_behind() -> None:
    for _ in range(200):
        with deadline(0.5):
            busy(0.0)
    busy(0.6)  # none of the disarmed budgets fires later
