"""End to end over real HTTP: the official `openai` client -> `attribution proxy` -> a
stand-in model server (test_proxy_upstream.py), on a small real index (mylib: textwrap under
MIT; gpllib: json.decoder under GPL-3.0-or-later)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from test_check_staged_corpus import GPL_FUNCTION, MIT_FUNCTION, small_index
from test_proxy_upstream import (
    ANSWERS,
    ORIGINAL,
    PROSE_1,
    RENAMED,
    Upstream,
    proxy_for,
    serving,
    upstream,
)
from werkzeug.serving import make_server

from attribution.proxy import Attributor, Proxy, Settings
from attribution.scan.policyfile import load
from attribution.web import create_app

__all__ = ["small_index", "upstream"]  # fixtures used here


def timeless(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attribution entries without the engine's time (it differs between two runs)."""
    return [{k: v for k, v in item.items() if k != "elapsed_ms"} for item in items]


def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0, timeout=20)


def ask(url: str, script: str, **options: Any) -> Any:
    messages = [{"role": "user", "content": script}]
    return client(url).chat.completions.create(model="standin", messages=messages, **options)


def streamed(url: str, script: str) -> tuple[str, list[list[dict[str, Any]]]]:
    """The text and the attribution chunks a streaming client receives."""
    text, extras = "", []
    for chunk in ask(url, script, stream=True):
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        extra = (chunk.model_extra or {}).get("attribution")
        if extra is not None:
            assert chunk.choices == []
            extras.append(extra)
    return text, extras


@pytest.fixture(scope="module")
def policy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "attribution.toml"
    path.write_text('deny = ["copyleft"]\n')
    return path


@pytest.fixture(scope="module")
def proxies(
    upstream: Upstream,
    small_index: Path,
    policy_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    audit = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    with (
        proxy_for(upstream.url, small_index, "annotate", audit=str(audit)) as annotate,
        proxy_for(upstream.url, small_index, "footnote") as footnote,
        proxy_for(upstream.url, small_index, "block", load(policy_file)) as block,
    ):
        yield {"annotate": annotate, "footnote": footnote, "block": block, "audit": audit}


# ---------------------------------------------------------------- annotate
@pytest.mark.parametrize(
    ("script", "match_type"), [("verbatim", "exact"), ("renamed", "renamed"), ("original", None)]
)
def test_annotate_whole_answer(proxies: dict[str, Any], script: str, match_type: str) -> None:
    answer = ask(proxies["annotate"], script)
    content = answer.choices[0].message.content
    assert content == ANSWERS[script]  # annotate mode never changes the text
    (item,) = answer.model_extra["attribution"]
    start, end = item["content_range"]
    code = {"verbatim": MIT_FUNCTION, "renamed": RENAMED, "original": ORIGINAL}[script]
    assert content[start:end] == code
    assert (item["choice"], item["block"], item["language"]) == (0, 0, "python")
    cites = answer.choices[0].message.annotations or []
    if match_type is None:
        assert item["verdict"] == "no_match" and item["matches"] == [] and cites == []
        return
    best = item["matches"][0]
    assert item["verdict"] == "match" and best["match_type"] == match_type
    assert (best["source"]["repo_name"], best["source"]["path"]) == ("mylib", "textwrap.py")
    assert best["source"]["license"] == "MIT"
    assert len(cites) == len(item["matches"])
    cite = cites[0].url_citation
    assert cites[0].type == "url_citation" and cite.url == "https://github.com/jane/mylib"
    assert cite.title.startswith("mylib textwrap.py lines ") and cite.title.endswith("(MIT)")
    assert start <= cite.start_index < cite.end_index <= end


@pytest.mark.parametrize("script", ["verbatim", "renamed", "original", "two"])
def test_annotate_stream_matches_the_whole_answer(proxies: dict[str, Any], script: str) -> None:
    whole = ask(proxies["annotate"], script)
    text, extras = streamed(proxies["annotate"], script)
    assert text == ANSWERS[script]
    *each, final = extras
    assert timeless(final) == timeless(whole.model_extra["attribution"])
    assert [item for chunk in each for item in chunk] == final  # one chunk per block first


def test_two_blocks_and_prose(proxies: dict[str, Any]) -> None:
    answer = ask(proxies["annotate"], "two")
    content = answer.choices[0].message.content
    first, second = answer.model_extra["attribution"]
    assert content[slice(*first["content_range"])] == MIT_FUNCTION
    assert content[slice(*second["content_range"])] == GPL_FUNCTION  # a ~~~~ py fence
    assert first["matches"][0]["source"]["repo_name"] == "mylib"
    assert second["matches"][0]["source"]["repo_name"] == "gpllib"
    assert second["matches"][0]["source"]["license"] == "GPL-3.0-or-later"
    titles = [a.url_citation.title for a in answer.choices[0].message.annotations]
    assert any(t.startswith("gpllib decoder.py") for t in titles)


@pytest.mark.parametrize("mode", ["annotate", "footnote", "block"])
def test_a_block_is_credited_before_the_model_goes_on(
    proxies: dict[str, Any], upstream: Upstream, mode: str
) -> None:
    """The stand-in stops after the first block until the client has seen its
    attribution: nothing before it was held back, and the attribution did not wait for
    the end of the answer."""
    upstream.gate.clear()
    text, seen_at = "", None
    for chunk in ask(proxies[mode], "gated", stream=True):
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if (chunk.model_extra or {}).get("attribution") and seen_at is None:
            seen_at = text
            upstream.gate.set()
    assert not upstream.gate_timed_out
    assert seen_at is not None and seen_at.startswith(PROSE_1 + "```python\n" + MIT_FUNCTION)
    assert "gpllib" in text if mode == "footnote" else text.endswith(ANSWERS["two"][-20:])


# ---------------------------------------------------------------- footnote
@pytest.mark.parametrize("script", ["verbatim", "renamed", "original"])
def test_footnote_mode(proxies: dict[str, Any], script: str) -> None:
    answer = ask(proxies["footnote"], script)
    content = answer.choices[0].message.content
    text, extras = streamed(proxies["footnote"], script)
    assert text == content
    (item,) = answer.model_extra["attribution"]
    assert timeless(extras[-1]) == timeless([item])
    block_end = ANSWERS[script].index("```\n", ANSWERS[script].index("```python\n") + 9) + 4
    assert content[:block_end] == ANSWERS[script][:block_end]
    if script == "original":
        assert content == ANSWERS[script]
        return
    note = content[block_end:]
    assert note.startswith("\n**Sources** (attribution):\n- [mylib · `textwrap.py` lines ")
    assert "](https://github.com/jane/mylib) · MIT · " in note
    kind = "exact" if script == "verbatim" else "renamed"
    assert f"{kind} copy" in note
    assert content.endswith(ANSWERS[script][block_end:])  # the rest follows the note


# ---------------------------------------------------------------- block
def test_block_mode_replaces_a_denied_block(proxies: dict[str, Any]) -> None:
    answer = ask(proxies["block"], "mixed")
    content = answer.choices[0].message.content
    assert GPL_FUNCTION not in content and "py_scanstring" not in content
    assert MIT_FUNCTION in content and content.startswith(PROSE_1)
    gpl, mit = answer.model_extra["attribution"]
    assert gpl["blocked"] is True and "blocked" not in mit
    notice = content[slice(*gpl["content_range"])]
    assert notice.startswith("> **Code withheld by the attribution policy.**")
    assert "gpllib `decoder.py` lines" in notice and "GPL-3.0-or-later (copyleft)" in notice
    assert gpl["matches"][0]["policy"]["status"] == "violation"
    assert mit["matches"][0]["policy"]["status"] == "allowed"
    assert content[slice(*mit["content_range"])] == MIT_FUNCTION
    text, extras = streamed(proxies["block"], "mixed")
    assert text == content
    assert timeless(extras[-1]) == timeless(answer.model_extra["attribution"])


@pytest.mark.parametrize("script", ["verbatim", "renamed", "original"])
def test_block_mode_lets_allowed_code_through(proxies: dict[str, Any], script: str) -> None:
    answer = ask(proxies["block"], script)
    assert answer.choices[0].message.content == ANSWERS[script]
    text, _ = streamed(proxies["block"], script)
    assert text == ANSWERS[script]


# ---------------------------------------------------------------- completions, tools
@pytest.mark.parametrize("stream", [False, True])
def test_completions(proxies: dict[str, Any], stream: bool) -> None:
    c = client(proxies["annotate"])
    found: dict[str, Any] = {}
    for prompt in ("verbatim", "original"):
        if stream:
            chunks = list(c.completions.create(model="standin", prompt=prompt, stream=True))
            text = "".join(ch.choices[0].text for ch in chunks if ch.choices)
            found[prompt] = chunks[-1].model_extra["attribution"]
        else:
            answer = c.completions.create(model="standin", prompt=prompt)
            text = answer.choices[0].text
            found[prompt] = answer.model_extra["attribution"]
        assert text == (MIT_FUNCTION if prompt == "verbatim" else ORIGINAL)
    assert found["verbatim"][0]["matches"][0]["source"]["path"] == "textwrap.py"
    assert found["verbatim"][0]["content_range"] == [0, len(MIT_FUNCTION)]
    assert found["original"][0]["verdict"] == "no_match"


@pytest.mark.parametrize("stream", [False, True])
def test_code_in_tool_call_arguments(proxies: dict[str, Any], stream: bool) -> None:
    if stream:
        chunks = list(ask(proxies["annotate"], "tool", stream=True))
        items = chunks[-1].model_extra["attribution"]
    else:
        items = ask(proxies["annotate"], "tool").model_extra["attribution"]
    (item,) = items
    assert (item["tool_call"], item["argument"], item["content_range"]) == (0, "content", None)
    assert item["matches"][0]["source"]["repo_name"] == "mylib"


# ---------------------------------------------------------------- pass-through and errors
def test_other_paths_pass_through(proxies: dict[str, Any], upstream: Upstream) -> None:
    c = client(proxies["annotate"])
    upstream.authorization.clear()
    raw = c.models.with_raw_response.list()
    assert raw.headers["x-upstream"] == "standin"
    assert raw.headers.get_list("set-cookie") == ["a=1", "b=2"]  # every value of a header
    assert [m.id for m in raw.parse()] == ["standin"]
    embedding = c.embeddings.create(model="standin", input="hello")
    assert embedding.data[0].embedding == [0.25, 0.5]
    assert upstream.authorization == ["Bearer sk-test", "Bearer sk-test"]
    missing = httpx.get(proxies["annotate"] + "/v1/nothing-here", timeout=10)
    assert missing.status_code == 404 and "no route" in missing.json()["error"]["message"]


def test_upstream_error_reaches_the_client(proxies: dict[str, Any]) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        ask(proxies["annotate"], "error500")
    assert caught.value.status_code == 500
    assert caught.value.message.endswith("the model crashed")
    assert caught.value.response.headers["x-request-id"] == "req-500"


@pytest.mark.parametrize(
    ("script", "message"),
    [("notjson", "not JSON"), ("slow", "did not answer within 2 s")],
)
def test_bad_upstream_answer_is_a_502(proxies: dict[str, Any], script: str, message: str) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        ask(proxies["block"], script)
    assert caught.value.status_code == 502 and message in caught.value.message


def test_unreachable_upstream_is_a_502(small_index: Path) -> None:
    closed_port = "http://127.0.0.1:9"  # the discard port: nothing listens
    with proxy_for(closed_port, small_index) as url, pytest.raises(openai.APIStatusError) as caught:
        ask(url, "verbatim")
    assert caught.value.status_code == 502 and "cannot reach the upstream" in caught.value.message


def test_stream_cut_mid_block(proxies: dict[str, Any]) -> None:
    """Half a block, then the upstream hangs up: what arrived is attributed, then the
    client gets an error, not a hang and not a clean end."""
    text, items = "", []
    with pytest.raises(openai.APIError) as caught:
        for chunk in ask(proxies["block"], "cut", stream=True):
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
            items.append((chunk.model_extra or {}).get("attribution"))
    assert "broke off before its end" in caught.value.message
    half = ANSWERS["verbatim"][: len(ANSWERS["verbatim"]) // 2]
    assert text == half  # the unterminated block was checked (MIT is allowed) and sent
    final = [i for i in items if i][-1]
    assert final[0]["verdict"] == "match" and final[0]["matches"][0]["source"]["path"] == (
        "textwrap.py"
    )


def test_client_disconnect_frees_the_upstream(upstream: Upstream, small_index: Path) -> None:
    """The model goes quiet, the client leaves: the upstream request is closed at once
    (the proxy's upstream time-out here is far longer than the wait)."""
    upstream.disconnected.clear()
    with proxy_for(upstream.url, small_index, timeout=60.0) as url:
        stream = ask(url, "forever", stream=True)
        for n, _ in enumerate(stream):
            if n == 2:  # the third of the three chunks
                break
        stream.close()
        assert upstream.disconnected.wait(10.0), "the upstream request was not closed"


def test_server_mode_asks_a_running_service(upstream: Upstream, small_index: Path) -> None:
    """--server URL: the blocks go to `attribution serve`'s API instead of an index."""
    service = make_server("127.0.0.1", 0, create_app(small_index, env={}), threaded=True)
    thread = threading.Thread(target=service.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{service.server_port}"
        settings = Settings("annotate", Attributor(server=base))
        with serving(Proxy(upstream.url, settings, timeout=10).app()) as url:
            answer = ask(url, "renamed")
    finally:
        service.shutdown()
    (item,) = answer.model_extra["attribution"]
    best = item["matches"][0]
    assert best["match_type"] == "renamed" and best["source"]["path"] == "textwrap.py"
    cite = answer.choices[0].message.annotations[0].url_citation
    assert cite.url == "https://github.com/jane/mylib"
