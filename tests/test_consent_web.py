"""`GET /v1/lookup` and `POST /v1/optout` over the consent corpus (tests/test_consent.py)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from test_consent import TW_QUERY, write_corpus

from attribution.index.build import build
from attribution.web import create_app

ADMIN = "consent-admin-token"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("consent-web")
    build([str(write_corpus(tmp / "corpus"))], tmp / "index", jobs=1)
    return tmp / "index"


@pytest.fixture
def client(built: Path, tmp_path: Path) -> Any:
    shutil.copytree(built, tmp_path / "index")
    return create_app(tmp_path / "index", admin_token=ADMIN, env={}).test_client()


def repos(client: Any) -> set[str]:
    body = client.post("/v1/attribute", json={"code": TW_QUERY, "language": "python"}).get_json()
    return {m["source"]["repo_name"] for m in body["matches"]} | {
        o["repo_name"] for m in body["matches"] for o in m["origins"]
    }


def test_lookup_answers_counts_repositories_and_a_few_paths(client: Any) -> None:
    body = client.get("/v1/lookup?repo=Origin").get_json()
    assert body["indexed"] and body["sources"] == 3 and body["repo_count"] == 1
    assert {"repo_name": "origin", "path": "textwrap.py"} in body["paths"]
    body = client.get("/v1/lookup?author=GRACE HOPPER").get_json()
    assert body["sources"] == 3 and "grace@navy.example" not in str(body)
    body = client.get("/v1/lookup?author=grace@navy.example").get_json()
    assert body["query"] == {"author": "grace@navy.example"} and body["sources"] == 3


def test_optout_follows_copies_and_counts_them(client: Any) -> None:
    assert repos(client) == {"origin", "vendor-a", "vendor-b", "near"}
    resp = client.post("/v1/optout", json={"repo": "origin"}, headers=bearer(ADMIN))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["sources"] == 6 and body["copies"] == 3 and body["follow"] is True
    (removal,) = body["removed"]
    assert removal["rule"] == "repo:origin" and removal["copy_repos"] == 3
    assert repos(client) == set()
    assert client.get("/v1/lookup?repo=origin").get_json()["indexed"] is False


def test_optout_without_following(client: Any) -> None:
    resp = client.post(
        "/v1/optout", json={"repo": "origin", "follow": False}, headers=bearer(ADMIN)
    )
    body = resp.get_json()
    assert body["sources"] == 3 and body["copies"] == 0 and body["follow"] is False
    assert repos(client) == {"vendor-a", "vendor-b", "near"}


def test_optout_refuses_a_bad_follow_and_needs_the_token(client: Any) -> None:
    resp = client.post("/v1/optout", json={"repo": "origin", "follow": "no"}, headers=bearer(ADMIN))
    assert resp.status_code == 422
    assert client.post("/v1/optout", json={"repo": "origin"}).status_code == 401
    resp = client.post("/v1/optout", json={"repo": "origin"}, headers=bearer("wrong"))
    assert resp.status_code == 403
    assert repos(client) == {"origin", "vendor-a", "vendor-b", "near"}  # nothing went
