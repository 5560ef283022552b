"""A whole (not streamed) answer: the upstream's JSON plus a top-level `attribution` list and,
per match, a `url_citation` in the message's `annotations`."""

from __future__ import annotations

from typing import Any

from attribution.proxy import present
from attribution.proxy.choice import ChoiceText
from attribution.proxy.exchange import Exchange


async def attribute_body(body: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
    """The answer with its blocks attributed (footnotes or notices put in, per the mode)."""
    exchange.seen(body)
    choices = body.get("choices")
    places: dict[int, dict[str, Any]] = {}
    for position, choice in enumerate(choices if isinstance(choices, list) else []):
        if not isinstance(choice, dict):
            continue
        index = choice.get("index", position)
        index = index if isinstance(index, int) else position
        places[index] = await _choice(choice, exchange.choice(index), exchange.whole)
    items = await exchange.entries()
    urls = exchange.settings.attributor.source_url
    for item in items:
        place = places.get(item["choice"])
        code = exchange.choices[item["choice"]].codes.get(item["block"], "")
        cites = present.citations(item, code, urls)
        if place is not None and cites:
            place.setdefault("annotations", [])
            if isinstance(place["annotations"], list):
                place["annotations"].extend(cites)
    body["attribution"] = items
    return body


async def _choice(choice: dict[str, Any], text: ChoiceText, whole: bool) -> dict[str, Any]:
    """Attribute one choice in place; the dict that takes its annotations (the message)."""
    if whole:
        place, key = choice, "text"
    else:
        message = choice.get("message")
        place, key = (message if isinstance(message, dict) else {}), "content"
        text.tools.add(place.get("tool_calls"))
    content = place.get(key)
    outs = await text.feed(content) if isinstance(content, str) else []
    outs += await text.finish()
    new = "".join(o for o in outs if isinstance(o, str))
    if isinstance(content, str) and new != content:
        place[key] = new
    return place
