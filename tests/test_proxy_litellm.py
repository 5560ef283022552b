"""The LiteLLM guardrail: loaded the way LiteLLM's proxy loads a custom guardrail from its
config, fed real LiteLLM responses from the stand-in model server (whole and streamed)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from test_check_staged_corpus import GPL_FUNCTION, MIT_FUNCTION, small_index
from test_proxy_upstream import ANSWERS, Upstream, upstream

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch at import
litellm = pytest.importorskip("litellm", reason="litellm (test extra) is not installed")

from litellm.proxy.types_utils.utils import get_instance_fn  # noqa: E402

from attribution.proxy.litellm_guardrail import AttributionGuardrail  # noqa: E402

__all__ = ["small_index", "upstream"]  # fixtures used here
CLASS = "attribution.proxy.litellm_guardrail.AttributionGuardrail"


def guardrail(index: Path, tmp_path: Path, mode: str = "annotate") -> AttributionGuardrail:
    """The guardrail as LiteLLM's proxy builds it from a config.yaml entry (its guardrail
    registry resolves the class with get_instance_fn and passes the extra litellm_params;
    the registry itself needs `litellm[proxy]`, whose pins clash with the lint extra)."""
    config = tmp_path / "config.yaml"
    config.write_text("# guardrails: [...]\n")
    extra: dict[str, Any] = {"attribution_index": str(index), "attribution_mode": mode}
    if mode == "block":
        policy = tmp_path / "attribution.toml"
        policy.write_text('deny = ["copyleft"]\n')
        extra["attribution_policy"] = str(policy)
    cls = get_instance_fn(CLASS, config_file_path=str(config))
    built = cls(guardrail_name="attribution", event_hook="post_call", default_on=True, **extra)
    assert isinstance(built, AttributionGuardrail)
    return built


def ask(upstream: Upstream, script: str, stream: bool) -> Any:
    return litellm.acompletion(
        model="openai/standin",
        api_base=upstream.url + "/v1",
        api_key="sk-test",
        messages=[{"role": "user", "content": script}],
        stream=stream,
    )


def test_post_call_hook(upstream: Upstream, small_index: Path, tmp_path: Path) -> None:
    async def run() -> Any:
        g = guardrail(small_index, tmp_path)
        response = await ask(upstream, "two", stream=False)
        return await g.async_post_call_success_hook({}, None, response)

    response = asyncio.run(run())
    content = response.choices[0].message.content
    assert content == ANSWERS["two"]
    first, second = response.attribution
    assert content[slice(*first["content_range"])] == MIT_FUNCTION
    assert first["matches"][0]["source"]["repo_name"] == "mylib"
    assert second["matches"][0]["source"]["license"] == "GPL-3.0-or-later"
    cites = response.choices[0].message.annotations
    assert {c["url_citation"]["title"].split()[0] for c in cites} == {"mylib", "gpllib"}
    assert "attribution" in response.model_dump()  # what LiteLLM's proxy sends on


def test_streaming_hook_block_mode(upstream: Upstream, small_index: Path, tmp_path: Path) -> None:
    async def run() -> list[Any]:
        g = guardrail(small_index, tmp_path, "block")
        stream = await ask(upstream, "mixed", stream=True)
        return [c async for c in g.async_post_call_streaming_iterator_hook(None, stream, {})]

    chunks = asyncio.run(run())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    extras = [c.attribution for c in chunks if getattr(c, "attribution", None) is not None]
    assert GPL_FUNCTION not in text and MIT_FUNCTION in text
    assert "> **Code withheld by the attribution policy.**" in text
    *each, final = extras
    assert [i for chunk in each for i in chunk] == final
    assert [item.get("blocked", False) for item in final] == [True, False]
