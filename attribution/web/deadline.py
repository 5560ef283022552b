"""A time budget for a block of Python code running in any thread.

`with deadline(seconds): ...` arms a per-process watchdog thread. When the budget runs
out, the watchdog raises `QueryTimeout` *inside* the thread running the block (CPython's
PyThreadState_SetAsyncExc), so the query stops and its CPU is freed; the web layer
answers 503. The exception arrives at the next Python bytecode the thread runs: a long
single call into C (tree-sitter parsing one huge file, a numpy sort) finishes first, so a
budget is a bound on Python-level work plus the longest C call, not a hard real-time
limit. This works the same in gunicorn's sync workers (main thread) and gthread workers
(a pool thread) and needs no signal handler.
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


class QueryTimeout(Exception):
    """A query ran past its time budget."""


@dataclass(order=True)
class _Ticket:
    due: float
    seq: int
    thread_id: int = field(compare=False)
    active: bool = field(default=True, compare=False)
    fired: bool = field(default=False, compare=False)


def _raise_in(thread_id: int) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(QueryTimeout)
    )


class Watchdog:
    """One thread per process that fires expired tickets."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[_Ticket] = []
        self._seq = itertools.count()
        self._pid = -1

    def arm(self, seconds: float) -> _Ticket:
        ticket = _Ticket(time.monotonic() + seconds, next(self._seq), threading.get_ident())
        with self._cond:
            self._start()
            heapq.heappush(self._heap, ticket)
            self._cond.notify()
        return ticket

    def disarm(self, ticket: _Ticket) -> None:
        with self._cond:
            ticket.active = False

    def _start(self) -> None:
        if self._pid != os.getpid():  # first use in this process (threads do not survive fork)
            self._pid = os.getpid()
            self._heap.clear()
            threading.Thread(target=self._run, name="attribution-deadline", daemon=True).start()

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and not self._heap[0].active:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0].due - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                ticket = heapq.heappop(self._heap)
                ticket.active, ticket.fired = False, True
                _raise_in(ticket.thread_id)


_WATCHDOG = Watchdog()


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Run the block with a time budget (None or <= 0: no budget); raises QueryTimeout."""
    if not seconds or seconds <= 0:
        yield
        return
    ticket = _WATCHDOG.arm(seconds)
    try:
        yield
    except QueryTimeout:
        raise QueryTimeout(
            f"the query ran past its time budget of {seconds * 1000:.0f} ms"
        ) from None
    finally:
        _WATCHDOG.disarm(ticket)
