"""A complete HTTP request as a WSGI environ (PEP 3333), and a WSGI app's answer as bytes."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("attribution.web")


@dataclass(frozen=True)
class Answer:
    """A whole HTTP answer: status, headers and body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def environ_for(
    request: Any, body: bytes, server_name: str, server_port: int, peer: Any
) -> dict[str, Any]:
    """The WSGI environ of an h11 Request whose body has been read in full."""
    target = request.target.decode("latin-1")
    path, _, query = target.partition("?")
    if "://" in path:  # absolute form: keep the path only
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method.decode("ascii"),
        "SCRIPT_NAME": "",
        "PATH_INFO": _unquote(path),
        "QUERY_STRING": query,
        "RAW_URI": target,
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "SERVER_PROTOCOL": "HTTP/" + request.http_version.decode("ascii"),
        "REMOTE_ADDR": str(peer[0]) if peer else "",
        "REMOTE_PORT": str(peer[1]) if peer and len(peer) > 1 else "",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in request.headers:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if name == "CONTENT_TYPE":
                environ[name] = value
            continue
        key = "HTTP_" + name
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _unquote(path: str) -> str:
    """Percent-decoded path as WSGI wants it: bytes shown as latin-1 characters."""
    from urllib.parse import unquote_to_bytes

    return unquote_to_bytes(path).decode("latin-1")


def call_app(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> Answer:
    """Run the app on one request (in a pool thread) and collect its whole answer."""
    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started["status"], started["headers"] = status, headers
        return chunks.append

    try:
        result = app(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    except Exception:
        log.exception("unexpected error outside the app's error handling")
        body = b'{"error":{"code":"internal","message":"internal error"}}'
        return Answer(500, [("Content-Type", "application/json")], body)
    status = int(str(started["status"]).split(" ", 1)[0])
    return Answer(status, list(started["headers"]), b"".join(chunks))
