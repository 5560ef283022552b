"""A streamed answer: the upstream's SSE chunks go out as they arrive; after each block,
a chunk `{"choices": [], "attribution": [...]}` as soon as the engine has answered; the
whole list again in a last such chunk before `data: [DONE]`.

A stream that breaks off (the upstream closes early, times out, sends garbage) still gets
the attributions of what arrived, then an error event the OpenAI clients raise as an error;
never a hang. When the client goes, the generator is closed and so is the upstream request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import httpx

from attribution.proxy.exchange import Exchange, finished
from attribution.proxy.sse import Event, SSEParser, encode

Task = asyncio.Task[dict[str, Any]]
_COPIED = ("id", "object", "created", "model", "system_fingerprint")
DRAIN_S = 1.0  # longest wait for the upstream's body to end after data: [DONE]


class Relay:
    """The state of one streamed answer."""

    def __init__(self, exchange: Exchange, on_end: Callable[[list[dict[str, Any]], str], None]):
        self.exchange = exchange
        self.on_end = on_end
        self.pending: list[Task] = []  # attributions not sent yet, in order
        self.sent: list[Task] = []
        self.head: dict[str, Any] = {}  # id, object, created, model of the last chunk
        self.done = False  # data: [DONE] has been sent
        self.ended = False  # the audit line has been written

    # ---------------------------------------------------------------- chunks
    def attribution_chunk(self, items: list[dict[str, Any]]) -> bytes:
        default = "text_completion" if self.exchange.whole else "chat.completion.chunk"
        chunk = {k: self.head[k] for k in _COPIED if k in self.head}
        chunk.setdefault("object", default)
        return encode({**chunk, "choices": [], "attribution": items})

    def text_chunk(self, index: int, text: str) -> bytes:
        choice: dict[str, Any] = {"index": index, "finish_reason": None}
        if self.exchange.whole:
            choice["text"] = text
        else:
            choice["delta"] = {"content": text}
        chunk = {k: self.head[k] for k in _COPIED if k in self.head}
        return encode({**chunk, "choices": [choice]})

    def ready(self) -> list[bytes]:
        """Attribution chunks of the blocks whose attribution has finished."""
        out = []
        for task in [t for t in self.pending if t.done()]:
            self.pending.remove(task)
            self.sent.append(task)
            items = finished([task])
            if items:
                out.append(self.attribution_chunk(items))
        return out

    # ---------------------------------------------------------------- events
    async def events(self, events: list[Event]) -> list[bytes]:
        """What goes out for some upstream events (up to data: [DONE])."""
        out: list[bytes] = []
        for event in events:
            out += await self.event(event)
            if self.done:
                break
        return out

    async def event(self, event: Event) -> list[bytes]:
        """What goes out for one upstream event (itself, changed or not, then attributions)."""
        if event.data is None or event.name not in (None, "message"):
            return [event.raw]
        if event.data.strip() == "[DONE]":
            out = await self.end("complete")
            self.done = True
            return [*out, event.raw]
        try:
            chunk = json.loads(event.data)
        except ValueError:
            return [event.raw]
        if not isinstance(chunk, dict) or not isinstance(chunk.get("choices"), list):
            return [event.raw]
        self.exchange.seen(chunk)
        self.head.update({k: chunk[k] for k in _COPIED if k in chunk})
        changed = False
        for position, choice in enumerate(chunk["choices"]):
            if isinstance(choice, dict):
                changed = await self._choice(choice, position) or changed
        if not changed:
            return [event.raw, *self.ready()]
        if _empty(chunk):
            return self.ready()
        return [encode(chunk, event.name), *self.ready()]

    async def _choice(self, choice: dict[str, Any], position: int) -> bool:
        """Feed one choice of a chunk; True when its text had to change."""
        index = choice.get("index", position)
        text = self.exchange.choice(index if isinstance(index, int) else position)
        if self.exchange.whole:
            place, key = choice, "text"
        else:
            place, key = choice.get("delta") or {}, "content"
        if not self.exchange.whole:
            text.tools.add(place.get("tool_calls"))
        content = place.get(key)
        outs = await text.feed(content) if isinstance(content, str) and content else []
        if choice.get("finish_reason"):
            outs += await text.finish()
        self.pending.extend(o for o in outs if not isinstance(o, str))
        new = "".join(o for o in outs if isinstance(o, str))
        if new == (content if isinstance(content, str) else ""):
            return False
        if isinstance(place, dict):
            place[key] = new
            if key == "content" and "delta" not in choice:
                choice["delta"] = place
        return True

    async def end(self, status: str) -> list[bytes]:
        """Finish every choice, wait for every attribution; their chunks and the whole list."""
        out: list[bytes] = []
        for index, text in sorted(self.exchange.choices.items()):
            outs = await text.finish()
            self.pending.extend(o for o in outs if not isinstance(o, str))
            rest = "".join(o for o in outs if isinstance(o, str))
            if rest:
                out.append(self.text_chunk(index, rest))
        if self.pending:
            await asyncio.wait(self.pending)
        out += self.ready()
        items = finished(self.sent)
        out.append(self.attribution_chunk(items))
        self.ended = True
        self.on_end(items, status)
        return out


def _empty(chunk: dict[str, Any]) -> bool:
    """A chunk left with no text and nothing else to say (its text is held back)."""
    if any(
        k not in ("id", "object", "created", "model", "system_fingerprint", "choices")
        for k in chunk
    ):
        return False
    for choice in chunk["choices"]:
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if not isinstance(delta, dict) or choice.get("finish_reason") is not None:
            return False
        if set(delta) - {"content"} or delta.get("content"):
            return False
        if set(choice) - {"index", "delta", "finish_reason", "logprobs"} or choice.get("logprobs"):
            return False
    return True


def broken(why: str) -> bytes:
    """The error event that ends a stream the upstream broke off."""
    message = f"the upstream's stream broke off before its end ({why}); the answer is incomplete"
    return encode({"error": {"message": message, "type": "upstream_error", "code": "bad_gateway"}})


async def relay(response: httpx.Response, state: Relay) -> AsyncIterator[bytes]:
    """The bytes to send the client, from the upstream's streamed response. While an
    attribution runs, reading the upstream races it; otherwise the read is awaited alone."""
    batches = _batches(response)
    reader: asyncio.Task[tuple[list[Event] | None, str]] | None = None
    why = ""
    try:
        while not state.done:
            running = [t for t in state.pending if not t.done()]
            if reader is None and not running:
                events, why = await _read(batches)
            else:
                reader = reader or asyncio.ensure_future(_read(batches))
                await asyncio.wait([reader, *running], return_when=asyncio.FIRST_COMPLETED)
                for data in state.ready():
                    yield data
                if not reader.done():
                    continue
                (events, why), reader = reader.result(), None
            if events is None:
                break
            out = await state.events(events)
            if out:
                yield b"".join(out)
        if not state.done:
            yield b"".join([*await state.end("incomplete"), broken(why)])
    finally:
        if reader is not None:
            reader.cancel()
        with anyio.CancelScope(shield=True):
            if state.done and reader is None:
                await _drain(batches)
            await response.aclose()
        if not state.ended:
            state.on_end(finished(state.sent + state.pending), "client disconnected")


async def _drain(batches: AsyncIterator[list[Event]]) -> None:
    """Read the body's end after data: [DONE], so the upstream connection is kept for the
    next request instead of closed (a new connection costs milliseconds)."""
    with anyio.move_on_after(DRAIN_S):
        async for _ in batches:
            pass


async def _batches(response: httpx.Response) -> AsyncIterator[list[Event]]:
    parser = SSEParser()
    async for data in response.aiter_bytes():
        yield parser.feed(data)


async def _read(batches: AsyncIterator[list[Event]]) -> tuple[list[Event] | None, str]:
    """The next events of the upstream's body; or None and why it ended before [DONE]."""
    try:
        return await anext(batches), ""
    except StopAsyncIteration:
        return None, "the connection closed before data: [DONE]"
    except httpx.HTTPError as err:
        return None, _reason(err)


def _reason(err: httpx.HTTPError) -> str:
    if isinstance(err, httpx.TimeoutException):
        return "the upstream sent nothing for too long"
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
