"""A query process of a benchmark: it answers one request a line, an answer a line.

The child prints `@@ready` once it has opened its index, then one `@@<json>` line per
request line it reads; other output (warnings, logs) is skipped. Benchmarks time queries
in such a process so that the benchmark's own work (another version's process, Ray's
driver) never shares an interpreter with them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


class QueryChild:
    """`python -c code args...`, started and waited for until it is ready."""

    def __init__(
        self, code: str, args: list[str], tree: Path | None = None, what: str = "query process"
    ) -> None:
        env = {**os.environ, "PYTHONPATH": str(tree)} if tree else None
        self.what = what
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tree, env=env,
        )  # fmt: skip
        self._read()  # ready

    def _read(self) -> str:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("@@"):
                return line[2:]
        raise RuntimeError(f"{self.what}: the query process ended (exit {self.proc.wait()})")

    def ask(self, request: str) -> dict[str, Any]:
        """The answer to one request (a line without its newline)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(request + "\n")
        self.proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self._read())
        return answer

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()
