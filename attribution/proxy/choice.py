"""One choice of an answer, as its text arrives: which text goes out now, and each block's
attribution (a task, ready as soon as the engine has answered).

Modes: `annotate` sends text as it comes and attributes each block beside it; `footnote`
puts a "Sources" note right after an attributed block (the text that follows a closing fence
waits the milliseconds the engine takes); `block` holds back a block's text from its opening
fence until it is checked, then sends it, or a notice instead when the policy denies it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from attribution.core.policy import Policy
from attribution.proxy import present, toolcalls
from attribution.proxy.attributor import AttributionError, Attributor
from attribution.proxy.fences import Block, FenceTracker, Piece

ANNOTATE, FOOTNOTE, BLOCK = "annotate", "footnote", "block"
MODES = (ANNOTATE, FOOTNOTE, BLOCK)

Out = str | asyncio.Task[dict[str, Any]]


@dataclass(frozen=True)
class Settings:
    """How the proxy attributes: mode, engine, policy (block mode needs one)."""

    mode: str
    attributor: Attributor
    policy: Policy | None = None


def done(item: dict[str, Any]) -> asyncio.Task[dict[str, Any]]:
    async def ready() -> dict[str, Any]:
        return item

    return asyncio.ensure_future(ready())


class ChoiceText:
    """The text of one choice (message content, or a completion's text when `whole`)."""

    def __init__(self, index: int, settings: Settings, whole: bool = False) -> None:
        self.index = index
        self.settings = settings
        self.whole = whole
        self.tracker = FenceTracker(hold=settings.mode == BLOCK, whole=whole)
        self.shift = 0  # characters sent minus characters received, so far
        self.held: list[str] = []
        self.tasks: list[asyncio.Task[dict[str, Any]]] = []
        self.codes: dict[int, str] = {}  # block number -> its code (for annotations)
        self.tools = toolcalls.ToolCalls()
        self.finished = False
        self._newline = True  # the text sent so far ends a line

    async def feed(self, text: str) -> list[Out]:
        return await self._pieces(self.tracker.feed(text))

    async def finish(self) -> list[Out]:
        """The end of this choice: an open block ends, tool-call arguments are attributed."""
        if self.finished:
            return []
        self.finished = True
        out = await self._pieces(self.tracker.finish())
        first = len(self.tracker.blocks)
        for n, (call, path, tag, code) in enumerate(self.tools.blocks(), start=first):
            where = {"tool_call": call, "argument": path}
            task = asyncio.ensure_future(self._attribute(n, tag, code, None, where))
            self.tasks.append(task)
            out.append(task)
        return out

    async def _pieces(self, pieces: list[Piece]) -> list[Out]:
        out: list[Out] = []
        for p in pieces:
            if p.kind == "code" and self.settings.mode == BLOCK:
                self.held.append(p.text)
            else:
                self._sent(out, p.text)
            if p.closes:
                assert p.block is not None
                out.extend(await self._closed(p.block))
        return out

    def _sent(self, out: list[Out], text: str) -> None:
        if text:
            out.append(text)
            self._newline = text.endswith("\n")

    async def _closed(self, block: Block) -> list[Out]:
        code = block.code
        content_range = [block.code_start + self.shift, block.code_end + self.shift]
        if not code.strip():
            out: list[Out] = []
            self._sent(out, "".join(self.held))
            self.held = []
            return out
        task = asyncio.ensure_future(self._attribute(block.number, block.tag, code, content_range))
        self.tasks.append(task)
        if self.settings.mode == ANNOTATE:
            return [task]
        item = await task
        if self.settings.mode == FOOTNOTE:
            return self._footnoted(item, task)
        return self._checked(block, item, task)

    def _footnoted(self, item: dict[str, Any], task: asyncio.Task[dict[str, Any]]) -> list[Out]:
        out: list[Out] = []
        if self.whole:
            return [task]  # a plain completion is code: a Markdown note would break it
        note = present.footnote(item, self.settings.attributor.source_url, self._newline)
        self._sent(out, note)
        self.shift += len(note)
        return [*out, task]

    def _checked(
        self, block: Block, item: dict[str, Any], task: asyncio.Task[dict[str, Any]]
    ) -> list[Out]:
        held, self.held = "".join(self.held), []
        out: list[Out] = []
        if not item.get("blocked"):
            self._sent(out, held)
            return [*out, task]
        text = present.notice(item, self.settings.attributor.source_url)
        start = block.open_start + self.shift
        item["content_range"] = [start, start + len(text)]
        self.shift += len(text) - len(held)
        self._sent(out, text)
        return [*out, task]

    async def _attribute(
        self,
        number: int,
        tag: str | None,
        code: str,
        content_range: list[int] | None,
        where: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        self.codes[number] = code
        try:
            result = await self.settings.attributor.attribute(code, tag)
        except AttributionError as err:
            item = present.entry(self.index, number, tag, content_range, None, str(err))
            return {**item, **(where or {})}
        item = {**present.entry(self.index, number, tag, content_range, result), **(where or {})}
        denied = present.judge(item["matches"], self.settings.policy)
        if denied and self.settings.mode == BLOCK and content_range is not None:
            item["blocked"] = True
        return item
