"""A LiteLLM guardrail that attributes the code of every answer, for users of LiteLLM's
proxy. In its `config.yaml`:

    guardrails:
      - guardrail_name: attribution
        litellm_params:
          guardrail: attribution.proxy.litellm_guardrail.AttributionGuardrail
          mode: post_call
          default_on: true
          attribution_index: /srv/attribution-index   # or attribution_server: http://...
          attribution_mode: annotate                  # footnote | block
          attribution_policy: /srv/attribution.toml   # block mode
          attribution_audit: /var/log/attribution.jsonl

Whole answers get the same `attribution` list and citations as from `attribution proxy`;
streamed ones get the attribution chunks (`choices: []`) after their blocks and at the end.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from litellm.integrations.custom_guardrail import CustomGuardrail
from litellm.types.utils import Delta, ModelResponse, ModelResponseStream, StreamingChoices

from attribution.proxy.attributor import Attributor
from attribution.proxy.audit import AuditLog
from attribution.proxy.choice import MODES, Settings
from attribution.proxy.complete import attribute_body
from attribution.proxy.exchange import Exchange, finished
from attribution.scan import policyfile


class AttributionGuardrail(CustomGuardrail):
    """Post-call and streaming hooks that attribute code blocks (see the module docstring)."""

    def __init__(
        self,
        attribution_index: str | None = None,
        attribution_server: str | None = None,
        attribution_mode: str = "annotate",
        attribution_policy: str | None = None,
        attribution_audit: str | None = None,
        **kwargs: Any,
    ) -> None:
        if attribution_mode not in MODES:
            raise ValueError(f"attribution_mode must be one of {', '.join(MODES)}")
        if attribution_mode == "block" and not attribution_policy:
            raise ValueError("attribution_mode: block needs attribution_policy (a policy file)")
        policy = policyfile.load(attribution_policy) if attribution_policy else None
        attributor = Attributor(index=attribution_index, server=attribution_server)
        self.settings = Settings(attribution_mode, attributor, policy)
        self.audit = AuditLog(attribution_audit) if attribution_audit else None
        super().__init__(**kwargs)

    async def async_post_call_success_hook(
        self, data: dict[str, Any], user_api_key_dict: Any, response: Any
    ) -> Any:
        """A whole answer: blocks attributed, text changed per the mode, citations added."""
        if not isinstance(response, ModelResponse):
            return response
        exchange = Exchange(self.settings, "chat", data, stream=False)
        body = await attribute_body(response.model_dump(), exchange)
        for choice, new in zip(response.choices, body["choices"], strict=True):
            message = getattr(choice, "message", None)
            if message is None:
                continue
            message.content = new["message"].get("content")
            if new["message"].get("annotations"):
                message.annotations = new["message"]["annotations"]
        extended: Any = response  # LiteLLM's models keep extra fields
        extended.attribution = body["attribution"]
        self._audit(exchange, body["attribution"], "complete")
        return response

    async def async_post_call_streaming_iterator_hook(
        self, user_api_key_dict: Any, response: Any, request_data: dict[str, Any]
    ) -> AsyncGenerator[ModelResponseStream, None]:
        """A streamed answer: chunks as they come (a held block in block mode), and
        attribution chunks after each block and at the end."""
        exchange = Exchange(self.settings, "chat", request_data, stream=True)
        sent: list[Any] = []
        last: Any = None
        async for chunk in _chunks(response):
            last = chunk
            exchange.seen(
                {"id": getattr(chunk, "id", None), "model": getattr(chunk, "model", None)}
            )
            for choice in getattr(chunk, "choices", None) or []:
                await self._choice(exchange, choice)
            yield chunk
            for item in self._ready(exchange, sent):
                yield _attribution_chunk(last, [item])
        for index, text in sorted(exchange.choices.items()):
            rest = "".join(o for o in await text.finish() if isinstance(o, str))
            if rest and last is not None:
                yield _text_chunk(last, index, rest)
        items = await exchange.entries()
        for item in self._ready(exchange, sent):
            yield _attribution_chunk(last, [item])
        yield _attribution_chunk(last, items)
        self._audit(exchange, items, "complete")

    async def _choice(self, exchange: Exchange, choice: Any) -> None:
        text = exchange.choice(getattr(choice, "index", 0) or 0)
        delta = getattr(choice, "delta", None)
        content = getattr(delta, "content", None)
        outs = await text.feed(content) if isinstance(content, str) and content else []
        if getattr(choice, "finish_reason", None):
            outs += await text.finish()
        new = "".join(o for o in outs if isinstance(o, str))
        if delta is not None and new != (content or ""):
            delta.content = new

    @staticmethod
    def _ready(exchange: Exchange, sent: list[Any]) -> list[dict[str, Any]]:
        fresh = [t for t in exchange.tasks() if t.done() and t not in sent]
        sent.extend(fresh)
        return finished(fresh)

    def _audit(self, exchange: Exchange, items: list[dict[str, Any]], status: str) -> None:
        if self.audit is not None:
            self.audit.write(exchange.audit_record(items, status))


async def _chunks(response: Any) -> AsyncIterator[Any]:
    async for chunk in response:
        yield chunk


def _attribution_chunk(last: Any, items: list[dict[str, Any]]) -> ModelResponseStream:
    chunk = ModelResponseStream(
        id=getattr(last, "id", None), model=getattr(last, "model", None), choices=[]
    )
    extended: Any = chunk
    extended.attribution = items
    return chunk


def _text_chunk(last: Any, index: int, text: str) -> ModelResponseStream:
    choice = StreamingChoices(index=index, delta=Delta(content=text), finish_reason=None)
    return ModelResponseStream(id=last.id, model=last.model, choices=[choice])
