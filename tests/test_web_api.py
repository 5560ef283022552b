"""The HTTP API through Flask's test client, over a small real index."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from test_web_corpus import DECODER, SETTINGS, TEXTWRAP, built_index, index_copy, snippet

from attribution.core.redact import redact
from attribution.web import create_app
from attribution.web.settings import Settings, SettingsError

__all__ = ["built_index", "index_copy"]  # fixtures used here

ADMIN, READER = "admin-secret-token", "reader-token"
QUERY = snippet(TEXTWRAP, 100, 140)


@pytest.fixture
def app(built_index: Path) -> Any:
    """The app, every answer checked against its model (a 500 when one is not)."""
    return create_app(built_index, admin_token=ADMIN, env={}, validate_responses=True)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def error_of(resp: Any, status: int) -> str:
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert "Traceback" not in body["error"]["message"]
    return str(body["error"]["code"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- POST /v1/attribute -------------------------------------------------------------------
def test_attribute_finds_the_source_with_license_and_lines(client: Any) -> None:
    resp = client.post("/v1/attribute", json={"code": QUERY, "filename": "x.py"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["verdict"] == "match" and body["query"]["language"] == "python"
    best = body["matches"][0]
    assert best["source"]["path"] == "textwrap.py"
    assert best["source"]["repo_name"] == "mylib"
    assert (best["source"]["license"], best["source"]["license_type"]) == ("MIT", "permissive")
    assert best["source"]["swhid"] == "swh:1:cnt:" + best["source"]["blob_id"]
    assert best["source_lines"][0] >= 100 and best["source_lines"][1] <= 140
    assert best["copies"] == 2
    (origin,) = best["origins"]
    assert (origin["repo_name"], origin["path"]) == ("fork", "third_party/textwrap.py")
    assert origin["license"] == "NOASSERTION" and origin["kind"] == "module"
    assert origin["source_lines"] == best["source_lines"]  # the same function, its own lines
    assert best["licenses"] == {"MIT": 1, "NOASSERTION": 1}
    paged = client.post(
        "/v1/attribute", json={"code": QUERY, "origins_offset": 1, "origins_limit": 5}
    ).get_json()
    assert paged["matches"][0]["origins"] == [] and paged["matches"][0]["copies"] == 2
    assert list(body) == ["query", "verdict", "matches", "elapsed_ms"]  # SPEC order


def test_attribute_top_and_language(client: Any) -> None:
    resp = client.post("/v1/attribute", json={"code": QUERY, "language": "py", "top": 1})
    assert resp.status_code == 200 and len(resp.get_json()["matches"]) == 1


def test_attribute_unrelated_code_is_no_match(client: Any) -> None:
    code = "def add(a, b):\n    return a + b\n"
    body = client.post("/v1/attribute", json={"code": code}).get_json()
    assert body["verdict"] == "no_match" and body["matches"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"code": 5},
        {"code": QUERY, "top": "5"},
        {"code": QUERY, "top": 0},
        {"code": QUERY, "language": 3},
        {"language": "python"},
        [1, 2],
        {"code": ""},
    ],
)
def test_attribute_wrong_shapes_are_422(client: Any, body: Any) -> None:
    assert error_of(client.post("/v1/attribute", json=body), 422) == "invalid_request"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"code": QUERY, "language": "cobol"}, "unknown language 'cobol'"),
        ({"code": "   \n\t"}, "empty query"),
        ({"code": "a\x00b" * 10}, "binary"),
    ],
)
def test_attribute_unprocessable_is_422_naming_the_problem(
    client: Any, body: Any, words: str
) -> None:
    resp = client.post("/v1/attribute", json=body)
    assert error_of(resp, 422) == "unprocessable"
    assert words in resp.get_json()["error"]["message"]


@pytest.mark.parametrize(
    "data", [b"{", b'{"code": "x",}', b"\xff\xfe", b"", b"nul", b"[" * 100_000 + b"]" * 100_000]
)
def test_malformed_json_is_400(client: Any, data: bytes) -> None:
    resp = client.post("/v1/attribute", data=data, content_type="application/json")
    assert error_of(resp, 400) == "malformed"


def test_form_body_is_415(client: Any) -> None:
    assert error_of(client.post("/v1/attribute", data={"code": "x"}), 415)


def test_body_over_the_limit_is_413(built_index: Path) -> None:
    client = create_app(built_index, env={}, max_body=1000).test_client()
    resp = client.post("/v1/attribute", json={"code": "x = 1\n" * 400})
    assert error_of(resp, 413) == "too_large"


def test_code_over_the_engine_limit_is_413(built_index: Path) -> None:
    client = create_app(built_index, env={}, max_body=3_000_000).test_client()
    resp = client.post("/v1/attribute", json={"code": "x = 1\n" * 200_000})
    assert error_of(resp, 413) == "too_large"
    assert "limit" in resp.get_json()["error"]["message"]


def test_unknown_path_and_method(client: Any) -> None:
    assert error_of(client.get("/v1/nothing"), 404) == "not_found"
    assert error_of(client.post("/v1/nothing", data=b"{"), 404) == "not_found"
    resp = client.get("/v1/attribute")
    assert error_of(resp, 405) == "method_not_allowed"
    assert "POST" in resp.headers["Allow"]


def test_query_time_budget_gives_503(built_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(*args: Any, **kwargs: Any) -> dict[str, Any]:
        end = time.monotonic() + 5.0
        while time.monotonic() < end:  # pure Python work, as the engine's loops are
            pass
        raise AssertionError("the deadline did not stop the query")

    monkeypatch.setattr("attribution.web.service.attribute", slow)
    client = create_app(built_index, env={}, query_timeout_ms=50).test_client()
    started = time.monotonic()
    resp = client.post("/v1/attribute", json={"code": QUERY})
    assert error_of(resp, 503) == "timeout"
    assert time.monotonic() - started < 2.0
    batch = client.post("/v1/batch", json={"items": [{"id": "a", "code": QUERY}]})
    assert batch.status_code == 200
    assert batch.get_json()["results"][0]["error"]["code"] == "timeout"


# --- POST /v1/batch -----------------------------------------------------------------------
def test_batch_answers_each_item_by_id(client: Any) -> None:
    items = [
        {"id": "wrap", "code": QUERY},
        {"id": "dec", "code": snippet(DECODER, 330, 360), "language": "python"},
        {"id": "bad", "code": "x", "language": "cobol"},
    ]
    resp = client.post("/v1/batch", json={"items": items})
    assert resp.status_code == 200
    results = resp.get_json()["results"]
    assert [r["id"] for r in results] == ["wrap", "dec", "bad"]
    assert results[0]["matches"][0]["source"]["path"] == "textwrap.py"
    assert results[1]["matches"][0]["source"]["path"] == "pkg/decoder.py"
    assert results[2]["error"]["code"] == "unprocessable"


def test_batch_limits(built_index: Path) -> None:
    client = create_app(built_index, env={}, max_batch=3).test_client()
    items = [{"id": str(i), "code": "x = 1"} for i in range(4)]
    assert error_of(client.post("/v1/batch", json={"items": items}), 413) == "too_large"
    assert client.post("/v1/batch", json={"items": items[:3]}).status_code == 200
    assert error_of(client.post("/v1/batch", json={"items": [{"code": "x"}]}), 422)
    assert error_of(client.post("/v1/batch", json={"items": "x"}), 422)


# --- GET /v1/sources/<id> -----------------------------------------------------------------
def _source_id(client: Any, code: str, path: str) -> str:
    matches = client.post("/v1/attribute", json={"code": code}).get_json()["matches"]
    return next(m["source"]["id"] for m in matches if m["source"]["path"] == path)


def test_source_excerpt_lines(client: Any) -> None:
    sid = _source_id(client, QUERY, "textwrap.py")
    resp = client.get(f"/v1/sources/{sid}?lines=100-104")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["source"]["id"] == sid and body["source"]["license"] == "MIT"
    assert body["lines"] == [100, 104] and body["language"] == "python"
    assert body["excerpt"] == snippet(TEXTWRAP, 100, 104)
    assert body["total_lines"] == len(TEXTWRAP.splitlines())
    whole = client.get(f"/v1/sources/{sid}").get_json()
    assert whole["excerpt"] == redact(TEXTWRAP) and whole["lines"] == [1, whole["total_lines"]]
    assert client.get(f"/v1/sources/{sid}?lines=7").get_json()["lines"] == [7, 7]
    tail = client.get(f"/v1/sources/{sid}?lines=480-99999").get_json()
    assert tail["lines"] == [480, tail["total_lines"]]


def test_source_excerpt_is_redacted(client: Any) -> None:
    code = snippet(SETTINGS, 10, 18)
    sid = _source_id(client, code, "pkg/settings.py")
    body = client.get(f"/v1/sources/{sid}?lines=1-9").get_json()
    text = body["excerpt"]
    for secret in ("ops-team@example.com", "AKIAIOSFODNN7EXAMPLE", "s3cr3t-pa55", "hunter2"):
        assert secret not in text
    assert "[REDACTED:email]" in text and "[REDACTED:aws_access_key]" in text
    assert text.count("\n") == 9  # redaction keeps the lines in place
    assert body["redactions"]["email"] == 1


def test_source_errors(client: Any) -> None:
    assert error_of(client.get("/v1/sources/s:0000000000000001"), 404) == "not_found"
    assert error_of(client.get("/v1/sources/not-an-id"), 404) == "not_found"
    sid = _source_id(client, QUERY, "textwrap.py")
    assert error_of(client.get(f"/v1/sources/{sid}?lines=9-3"), 422)
    assert error_of(client.get(f"/v1/sources/{sid}?lines=0-3"), 422)
    assert error_of(client.get(f"/v1/sources/{sid}?lines=99999"), 422)
    assert error_of(client.get(f"/v1/sources/{sid}?lines=abc"), 422) == "invalid_request"


def test_source_excerpt_is_capped(built_index: Path) -> None:
    client = create_app(built_index, env={}, max_excerpt_lines=10).test_client()
    sid = _source_id(client, QUERY, "textwrap.py")
    body = client.get(f"/v1/sources/{sid}?lines=5-500").get_json()
    assert body["lines"] == [5, 14] and body["truncated"] is True


# --- GET /v1/lookup, /v1/stats, /v1/languages, /healthz, /openapi.json, / -----------------
def test_lookup_by_repo_and_author(client: Any) -> None:
    body = client.get("/v1/lookup?repo=mylib").get_json()
    assert body["indexed"] and body["sources"] == 3 and body["repos"][0]["name"] == "mylib"
    assert body["licenses"] == {"MIT": 3}
    body = client.get("/v1/lookup?author=JANE DOE").get_json()
    assert body["sources"] == 3 and body["query"] == {"author": "JANE DOE"}
    assert "jane@example.org" not in str(body)  # never an address the caller did not give
    body = client.get("/v1/lookup?repo=nobody").get_json()
    assert body["indexed"] is False and body["sources"] == 0 and body["repos"] == []


def test_lookup_needs_exactly_one(client: Any) -> None:
    assert error_of(client.get("/v1/lookup"), 422) == "unprocessable"
    assert error_of(client.get("/v1/lookup?repo=a&author=b"), 422) == "unprocessable"


def test_stats_and_languages_and_health(client: Any) -> None:
    stats = client.get("/v1/stats").get_json()
    assert stats["sources"] == 4 and stats["repos"] == 2 and stats["languages"] == {"python": 3}
    assert stats["licenses"]["MIT"] == 3 and "index" not in stats
    langs = client.get("/v1/languages").get_json()
    python = next(lang for lang in langs["languages"] if lang["name"] == "python")
    assert python["line_comment"] == "#" and ".py" in python["extensions"]
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_openapi_describes_every_endpoint(client: Any) -> None:
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    paths = set(doc["paths"])
    for path in ("/v1/attribute", "/v1/batch", "/v1/sources/{source_id}", "/v1/lookup",
                 "/v1/optout", "/v1/stats", "/healthz", "/"):  # fmt: skip
        assert path in paths
    body = doc["paths"]["/v1/attribute"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith("/AttributeRequest")
    assert doc["paths"]["/v1/optout"]["post"]["security"] == [{"admin_bearer": []}]


def test_page_and_static_files(client: Any) -> None:
    resp = client.get("/")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    html = resp.get_data(as_text=True)
    assert "/static/app.js" in html and "/static/app.css" in html
    assert "http://" not in html and "https://" not in html  # nothing from elsewhere
    js = client.get("/static/app.js")
    assert js.status_code == 200 and "How it is built: it isn't" in js.get_data(as_text=True)


# --- tokens --------------------------------------------------------------------------------
def test_read_token_guards_reads_only(built_index: Path) -> None:
    client = create_app(built_index, admin_token=ADMIN, read_token=READER, env={}).test_client()
    assert error_of(client.post("/v1/attribute", json={"code": QUERY}), 401) == "unauthorized"
    resp = client.post("/v1/attribute", json={"code": QUERY}, headers=bearer("wrong"))
    assert error_of(resp, 403) == "forbidden"
    ok = client.post("/v1/attribute", json={"code": QUERY}, headers=bearer(READER))
    assert ok.status_code == 200
    assert client.get("/v1/stats", headers=bearer(ADMIN)).status_code == 200
    assert error_of(client.get("/v1/lookup?repo=mylib"), 401)
    assert client.get("/healthz").status_code == 200 and client.get("/").status_code == 200


def test_tokens_are_kept_as_hashes(built_index: Path) -> None:
    app = create_app(built_index, admin_token=ADMIN, read_token=READER, env={})
    settings = app.extensions["attribution"].settings
    assert ADMIN not in repr(settings) and READER not in repr(settings)
    assert len(settings.admin_token_sha256) == 64


# --- POST /v1/optout -----------------------------------------------------------------------
def test_optout_needs_the_admin_token(client: Any) -> None:
    body = {"repo": "fork"}
    resp = client.post("/v1/optout", json=body)
    assert error_of(resp, 401) == "unauthorized" and "Bearer" in resp.headers["WWW-Authenticate"]
    assert error_of(client.post("/v1/optout", json=body, headers=bearer("nope")), 403)
    assert error_of(client.post("/v1/optout", json=body, headers={"Authorization": "Basic x"}), 401)


def test_optout_disabled_without_admin_token(built_index: Path) -> None:
    client = create_app(built_index, env={}).test_client()
    resp = client.post("/v1/optout", json={"repo": "fork"}, headers=bearer(ADMIN))
    assert error_of(resp, 403) == "forbidden"


def test_optout_removes_matches_at_once(index_copy: Path) -> None:
    app = create_app(index_copy, admin_token=ADMIN, env={})
    client = app.test_client()
    other_worker = create_app(index_copy, env={}).test_client()  # another process's view
    before = client.post("/v1/attribute", json={"code": QUERY}).get_json()["matches"][0]
    assert before["copies"] == 2
    other_worker.post("/v1/attribute", json={"code": QUERY})  # opened and warm
    resp = client.post(  # not following copies: fork's vendored textwrap stays
        "/v1/optout", json={"author": "jane doe", "follow": False}, headers=bearer(ADMIN)
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["sources"] == 3 and body["removed"][0]["rule"] == "author:jane doe"
    for c in (client, other_worker):
        after = c.post("/v1/attribute", json={"code": QUERY}).get_json()["matches"]
        assert [m["source"]["repo_name"] for m in after] == ["fork"]
        assert after[0]["copies"] == 1
        assert c.get("/v1/lookup?author=Jane Doe").get_json()["indexed"] is False
    assert error_of(client.get(f"/v1/sources/{before['source']['id']}"), 404) == "not_found"
    assert client.get("/v1/stats").get_json()["sources"] == 1


def test_optout_needs_a_rule(client: Any) -> None:
    assert error_of(client.post("/v1/optout", json={}, headers=bearer(ADMIN)), 422)
    assert error_of(client.post("/v1/optout", json={"repo": 3}, headers=bearer(ADMIN)), 422)


def test_admin_rate_limit_is_429(built_index: Path) -> None:
    client = create_app(built_index, admin_token=ADMIN, env={}, admin_burst=3).test_client()
    codes = [client.post("/v1/optout", json={"repo": "x"}).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    resp = client.post("/v1/optout", json={"repo": "x"}, headers=bearer(ADMIN))
    assert error_of(resp, 429) == "rate_limited" and int(resp.headers["Retry-After"]) >= 1
    assert client.get("/v1/stats").status_code == 200  # reads are not limited


# --- settings ------------------------------------------------------------------------------
def test_settings_from_environment_and_arguments() -> None:
    env = {
        "ATTRIBUTION_INDEX": "/srv/idx",
        "ATTRIBUTION_ADMIN_TOKEN": "t",
        "ATTRIBUTION_MAX_BODY": "5000",
        "ATTRIBUTION_MAX_BATCH": "7",
        "ATTRIBUTION_QUERY_TIMEOUT_MS": "250",
        "ATTRIBUTION_ADMIN_RATE": "2/10",
    }
    s = Settings.load(env=env)
    assert (s.index, s.max_body, s.max_batch, s.query_timeout_ms) == ("/srv/idx", 5000, 7, 250)
    assert (s.admin_burst, s.admin_refill_s) == (2, 10.0) and s.admin_token_sha256
    assert Settings.load("/other", env=env, max_batch=9).max_batch == 9
    assert Settings.load("/other", env=env).index == "/other"


def test_bad_settings_name_every_problem() -> None:
    with pytest.raises(SettingsError) as err:
        Settings.load(env={"ATTRIBUTION_MAX_BODY": "lots", "ATTRIBUTION_ADMIN_RATE": "x"})
    assert "ATTRIBUTION_MAX_BODY" in str(err.value) and "ATTRIBUTION_ADMIN_RATE" in str(err.value)
    with pytest.raises(SettingsError, match="max_batch"):
        Settings.load(env={}, max_batch=0)
