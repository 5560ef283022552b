"""How answers leave the app: checked against their models only when asked
(ATTRIBUTION_VALIDATE_RESPONSES), and encoded to the same bytes as json.dumps."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from test_web_corpus import DECODER, TEXTWRAP, built_index, snippet

from attribution.web import create_app
from attribution.web.settings import Settings, SettingsError

__all__ = ["built_index"]

QUERIES = [snippet(TEXTWRAP, 100, 140), snippet(DECODER, 20, 60), "print('no such code')\n"]


def _without_elapsed(data: bytes) -> Any:
    answer = json.loads(data)
    answer.pop("elapsed_ms", None)
    return answer


def _break_answers(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's service, answering as before but with `verdict` a number (a bug)."""
    svc = app.extensions["attribution"]
    real = svc.attribute

    def wrong(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**real(*args, **kwargs), "verdict": 1}

    monkeypatch.setattr(svc, "attribute", wrong)


def test_an_answer_off_its_model_is_a_500_when_answers_are_validated(
    built_index: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(built_index, env={}, validate_responses=True)
    _break_answers(app, monkeypatch)
    with caplog.at_level(logging.ERROR, logger="attribution.web"):
        resp = app.test_client().post("/v1/attribute", json={"code": QUERIES[0]})
    assert resp.status_code == 500
    assert resp.get_json()["error"]["code"] == "internal"
    assert "Traceback" not in resp.get_data(as_text=True)
    assert "attribute: the answer does not match AttributeResponse: verdict" in caplog.text


def test_answers_are_not_validated_by_default(
    built_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default costs nothing per answer: the same broken answer goes out as it is."""
    app = create_app(built_index, env={})
    _break_answers(app, monkeypatch)
    resp = app.test_client().post("/v1/attribute", json={"code": QUERIES[0]})
    assert resp.status_code == 200 and resp.get_json()["verdict"] == 1


def test_validating_answers_changes_no_answer(built_index: Path) -> None:
    plain = create_app(built_index, env={}).test_client()
    checked = create_app(built_index, env={}, validate_responses=True).test_client()
    for code in QUERIES:
        a, b = (c.post("/v1/attribute", json={"code": code}) for c in (plain, checked))
        assert a.status_code == b.status_code == 200
        assert _without_elapsed(a.data) == _without_elapsed(b.data)
    for path in ("/v1/stats", "/v1/languages", "/healthz", "/v1/lookup?repo=mylib"):
        a, b = (c.get(path) for c in (plain, checked))
        assert (a.status_code, a.data) == (b.status_code, b.data) == (200, a.data)


def test_validate_responses_setting_from_the_environment() -> None:
    on = Settings.load(env={"ATTRIBUTION_VALIDATE_RESPONSES": "1"})
    off = Settings.load(env={"ATTRIBUTION_VALIDATE_RESPONSES": "false"})
    assert (on.validate_responses, off.validate_responses, Settings().validate_responses) == (
        True,
        False,
        False,
    )
    with pytest.raises(SettingsError, match="ATTRIBUTION_VALIDATE_RESPONSES must be 1 or 0"):
        Settings.load(env={"ATTRIBUTION_VALIDATE_RESPONSES": "maybe"})


def test_answers_are_encoded_as_json_dumps_would(built_index: Path) -> None:
    """Byte for byte: compact, keys in order, non-ASCII escaped, one newline at the end."""
    app = create_app(built_index, env={})
    client = app.test_client()
    bodies = [client.post("/v1/attribute", json={"code": code}).data for code in QUERIES]
    bodies += [client.get(p).data for p in ("/v1/stats", "/openapi.json", "/v1/nope")]
    for body in bodies:
        assert body == (json.dumps(json.loads(body), separators=(",", ":")) + "\n").encode()
    odd = {"naïve ✓": ["é", "\u2028", "😀", "\x00", 0.1, 0.0001, 1e16, -0.0, 2**60, None]}
    lone = {"path": "a\udcff.py"}  # a lone surrogate: json.dumps escapes it
    with app.app_context():
        encoded = app.json.response(odd).get_data()
        assert encoded == (json.dumps(odd, separators=(",", ":")) + "\n").encode()
        encoded = app.json.response(lone).get_data()
        assert encoded == (json.dumps(lone, separators=(",", ":")) + "\n").encode()
        assert app.json.dumps(odd) == json.dumps(odd)  # other calls: json.dumps's as before
        assert app.json.dumps(odd, indent=2) == json.dumps(odd, indent=2)
