"""One proxied answer: its choices as they arrive, their attributions, and its audit line."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from typing import Any

from attribution.proxy.choice import ChoiceText, Settings
from attribution.scan.records import git_blob_sha1

AUDIT_VERSION = "attribution.proxy/1"


class Exchange:
    """The choices of one answer to `endpoint` (`chat` or `completions`)."""

    def __init__(self, settings: Settings, endpoint: str, request: Any, stream: bool) -> None:
        self.settings = settings
        self.endpoint = endpoint
        self.whole = endpoint == "completions"  # a completion's text is code as a whole
        self.stream = stream
        self.request_model = request.get("model") if isinstance(request, dict) else None
        self.model: str | None = None
        self.response_id: str | None = None
        self.client_request_id: str | None = None
        self.choices: dict[int, ChoiceText] = {}

    def choice(self, index: int) -> ChoiceText:
        if index not in self.choices:
            self.choices[index] = ChoiceText(index, self.settings, self.whole)
        return self.choices[index]

    def seen(self, body: dict[str, Any]) -> None:
        """Note the answer's id and model (from a response or a chunk)."""
        self.response_id = self.response_id or _text(body.get("id"))
        self.model = self.model or _text(body.get("model"))

    def tasks(self) -> list[asyncio.Task[dict[str, Any]]]:
        return [t for c in self.choices.values() for t in c.tasks]

    async def entries(self) -> list[dict[str, Any]]:
        """Every block's attribution, by choice and block (waits for those still running)."""
        tasks = self.tasks()
        if tasks:
            await asyncio.wait(tasks)
        return finished(tasks)

    def audit_record(self, items: list[dict[str, Any]], status: str) -> dict[str, Any]:
        """The audit line: when, which model and request, and per block its verdict and
        matches (source, license, match type, lines); never the code."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {
            "audit": AUDIT_VERSION,
            "time": now,
            "endpoint": self.endpoint,
            "model": self.model or self.request_model,
            "request_id": self.response_id,
            "client_request_id": self.client_request_id,
            "stream": self.stream,
            "mode": self.settings.mode,
            "status": status,
            "blocks": [self._audit_block(item) for item in items],
        }

    def _audit_block(self, item: dict[str, Any]) -> dict[str, Any]:
        code = self.choices[item["choice"]].codes.get(item["block"], "")
        data = code.encode("utf-8", "surrogatepass")
        kept = ("choice", "block", "language", "lines", "tokens", "verdict", "blocked", "error")
        out = {k: item[k] for k in (*kept, "tool_call", "argument") if k in item}
        out["sha"] = git_blob_sha1(data)
        out["sha1"] = hashlib.sha1(data, usedforsecurity=False).hexdigest()
        out["bytes"] = len(data)
        out["matches"] = item["matches"]
        return out


def finished(tasks: list[asyncio.Task[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The results of the tasks that have finished, by choice and block."""
    items = [t.result() for t in tasks if t.done() and not t.cancelled() and not t.exception()]
    return sorted(items, key=lambda e: (e["choice"], e["block"]))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
