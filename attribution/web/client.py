"""Client mode: `attribution check --server URL` asks a running service instead of an index."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

TIMEOUT_S = 60.0


class ServiceError(OSError):
    """The service could not be reached, or answered with an error (its message is kept)."""


def check_url(server: str) -> None:
    """ServiceError unless the service URL is http(s)."""
    if not server.startswith(("http://", "https://")):
        raise ServiceError(f"--server must be an http:// or https:// URL, got {server!r}")


def post_json(url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    """POST a JSON body; the JSON answer, or ServiceError naming what went wrong."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp:
            answer: dict[str, Any] = json.loads(resp.read())
            return answer
    except urllib.error.HTTPError as err:
        raise ServiceError(f"{url}: {err.code} {_message(err)}") from None
    except urllib.error.URLError as err:
        raise ServiceError(f"cannot reach {url}: {err.reason}") from None
    except (TimeoutError, json.JSONDecodeError) as err:
        raise ServiceError(f"{url}: {err}") from None


def _message(err: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(err.read())["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return str(err.reason)


def attribute_remote(
    server: str,
    data: bytes,
    *,
    language: str | None,
    filename: str | None,
    top: int | None,
    min_tokens: int | None,
    origins_limit: int | None = None,
) -> dict[str, Any]:
    """One query's result from a service's POST /v1/attribute."""
    check_url(server)
    body: dict[str, Any] = {"code": data.decode("utf-8", "replace")}
    optional = {
        "language": language,
        "filename": filename,
        "top": top,
        "min_tokens": min_tokens,
        "origins_limit": origins_limit,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    url = server.rstrip("/") + "/v1/attribute"
    return post_json(url, body, token=os.environ.get("ATTRIBUTION_READ_TOKEN") or None)
