"""The proxy as an ASGI app: `POST /v1/chat/completions` and `POST /v1/completions` are
attributed; every other path goes to the upstream and back unchanged.

Status codes, headers and error bodies of the upstream reach the client as they are (the
client's `Authorization` goes to the upstream). An upstream that cannot be reached, times
out or answers 200 with something that is not JSON gives a 502 with a message that says so.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from attribution.proxy.audit import AuditLog
from attribution.proxy.choice import Settings
from attribution.proxy.complete import attribute_body
from attribution.proxy.exchange import Exchange
from attribution.proxy.stream import Relay, relay

log = logging.getLogger("attribution.proxy")
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
}
REENCODED = ("content-length", "content-encoding")  # of a body the proxy writes anew
KEEP_ALIVE_S = 2.0  # below the 5 s servers commonly keep an idle connection (uvicorn, vLLM)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class UpstreamError(Exception):
    """The upstream could not be asked or answered nonsense: a 502 naming why."""


def bad_gateway(message: str) -> JSONResponse:
    error = {"message": message, "type": "upstream_error", "code": "bad_gateway"}
    return JSONResponse({"error": error}, status_code=502)


def target(upstream: str, path: str, query: str) -> str:
    """The upstream URL of a request path (an upstream given as `.../v1` is not doubled)."""
    base = upstream.rstrip("/")
    if base.endswith("/v1") and (path == "/v1" or path.startswith("/v1/")):
        path = path[3:]
    return base + path + (f"?{query}" if query else "")


def with_headers(answer: Response, upstream: httpx.Headers, drop: tuple[str, ...] = ()) -> Response:
    """The answer with the upstream's headers, every value of each (but hop-by-hop ones,
    `drop`, and those the answer sets itself: its length, its type when it re-encodes)."""
    own = {k.decode("latin-1").lower() for k, _ in answer.raw_headers}
    for key, value in upstream.multi_items():
        low = key.lower()
        if low not in HOP_BY_HOP and low not in drop and low not in own:
            answer.raw_headers.append((low.encode("latin-1"), value.encode("latin-1")))
    return answer


class RelayResponse(StreamingResponse):
    """A streamed response that notices a client going away even while the upstream is
    silent, and then closes its body (and with it the upstream request) at once."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:

                async def watch() -> None:
                    await self.listen_for_disconnect(receive)
                    group.cancel_scope.cancel()

                group.start_soon(watch)
                with contextlib.suppress(OSError):  # the client went away while we wrote
                    await self.stream_response(send)
                group.cancel_scope.cancel()
        finally:
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await close()


class Proxy:
    """The proxy's state: upstream URL, HTTP client, attribution settings, audit log."""

    def __init__(
        self,
        upstream: str,
        settings: Settings,
        audit: AuditLog | None = None,
        timeout: float = 600.0,
    ) -> None:
        if not upstream.startswith(("http://", "https://")):
            raise ValueError(f"--upstream must be an http:// or https:// URL, got {upstream!r}")
        self.upstream = upstream
        self.settings = settings
        self.audit = audit
        self.timeout = timeout
        self.client: httpx.AsyncClient | None = None

    def app(self) -> Starlette:
        routes = [
            Route("/v1/chat/completions", self.chat, methods=["POST"]),
            Route("/v1/completions", self.completions, methods=["POST"]),
            Route("/{path:path}", self.passthrough, methods=METHODS),
        ]
        return Starlette(routes=routes, lifespan=self._lifespan)

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        limits = httpx.Limits(
            max_connections=None, max_keepalive_connections=64, keepalive_expiry=KEEP_ALIVE_S
        )
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))
        async with httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False) as client:
            self.client = client
            yield
        self.client = None

    # ---------------------------------------------------------------- upstream
    async def _open(self, request: Request, body: bytes, drop: tuple[str, ...] = ()) -> Any:
        assert self.client is not None, "the app's lifespan has not started"
        url = target(self.upstream, request.url.path, request.url.query)
        headers = [
            (k, v)
            for k, v in request.headers.items()
            if k.lower() not in HOP_BY_HOP and k.lower() not in ("content-length", *drop)
        ]
        if drop:
            headers.append(("accept-encoding", "identity"))
        upstream = self.client.build_request(request.method, url, headers=headers, content=body)
        try:
            return await self._send(upstream)
        except httpx.TimeoutException:
            why = f"the upstream {url} did not answer within {self.timeout:g} s"
            raise UpstreamError(why) from None
        except httpx.HTTPError as err:
            why = f"cannot reach the upstream {url}: {err or type(err).__name__}"
            raise UpstreamError(why) from None

    async def _send(self, upstream: httpx.Request) -> httpx.Response:
        """Send; once more when a kept-alive connection turns out closed by the upstream
        before it answered anything (it never saw the request: sending again is safe)."""
        assert self.client is not None
        try:
            return await self.client.send(upstream, stream=True)
        except httpx.RemoteProtocolError as err:
            if "without sending" not in str(err):
                raise
        return await self.client.send(upstream, stream=True)

    async def passthrough(self, request: Request) -> Response:
        """Any other path: the upstream's answer, streamed back unchanged."""
        try:
            response = await self._open(request, await request.body())
        except UpstreamError as err:
            return bad_gateway(str(err))
        answer = StreamingResponse(
            response.aiter_raw(),
            status_code=response.status_code,
            background=BackgroundTask(response.aclose),
        )
        return with_headers(answer, response.headers)

    # ---------------------------------------------------------------- attributed
    async def chat(self, request: Request) -> Response:
        return await self._attributed(request, "chat")

    async def completions(self, request: Request) -> Response:
        return await self._attributed(request, "completions")

    async def _attributed(self, request: Request, endpoint: str) -> Response:
        body = await request.body()
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None  # the upstream says what is wrong with it
        stream = isinstance(payload, dict) and payload.get("stream") is True
        exchange = Exchange(self.settings, endpoint, payload, stream)
        exchange.client_request_id = request.headers.get("x-request-id")
        try:
            response = await self._open(request, body, drop=("accept-encoding",))
        except UpstreamError as err:
            return bad_gateway(str(err))
        if response.status_code != 200:
            return await self._unchanged(response)
        if "text/event-stream" in response.headers.get("content-type", ""):
            exchange.stream = True
            return self._streamed(response, exchange)
        try:
            return await self._whole(response, exchange)
        finally:
            await response.aclose()

    async def _unchanged(self, response: httpx.Response) -> Response:
        try:
            content = await response.aread()
        except httpx.HTTPError as err:
            return bad_gateway(f"the upstream's answer broke off: {err or type(err).__name__}")
        finally:
            await response.aclose()
        answer = Response(content, status_code=response.status_code)
        return with_headers(answer, response.headers, REENCODED)

    async def _whole(self, response: httpx.Response, exchange: Exchange) -> Response:
        try:
            raw = await response.aread()
        except httpx.TimeoutException:
            return bad_gateway(f"the upstream did not finish its answer within {self.timeout:g} s")
        except httpx.HTTPError as err:
            return bad_gateway(f"the upstream's answer broke off: {err or type(err).__name__}")
        try:
            body = json.loads(raw)
        except ValueError:
            why = f"the upstream answered 200 with a body that is not JSON: {raw[:80]!r}"
            return bad_gateway(why)
        if not isinstance(body, dict):
            return bad_gateway("the upstream answered 200 with JSON that is not an object")
        body = await attribute_body(body, exchange)
        self._audit(exchange, body["attribution"], "complete")
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        answer = Response(content, status_code=200, media_type="application/json")
        return with_headers(answer, response.headers, REENCODED)

    def _streamed(self, response: httpx.Response, exchange: Exchange) -> Response:
        state = Relay(exchange, lambda items, status: self._audit(exchange, items, status))
        answer = RelayResponse(relay(response, state), status_code=200)
        return with_headers(answer, response.headers, REENCODED)

    def _audit(self, exchange: Exchange, items: list[dict[str, Any]], status: str) -> None:
        if self.audit is None:
            return
        try:
            self.audit.write(exchange.audit_record(items, status))
        except OSError as err:
            log.error("attribution proxy: cannot write the audit line: %s", err)
