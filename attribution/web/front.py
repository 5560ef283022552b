"""An asyncio HTTP/1.1 front: whole requests are read with deadlines, then handed to the
WSGI app on a small thread pool, so slow clients hold a coroutine, never a thread.

One connection, one coroutine (`serve_connection`): the request line and headers must
arrive within ATTRIBUTION_HEAD_TIMEOUT_MS of the first byte (an idle keep-alive
connection is closed after `keepalive` s), the body within ATTRIBUTION_BODY_TIMEOUT_MS,
and the answer must be taken by the client within ATTRIBUTION_WRITE_TIMEOUT_MS (settings.py;
10, 15 and 30 s by default). Past a deadline the answer is 408 (or the connection is
closed). Only a complete request reaches a thread (`wsgi.call_app`), so 256 connections
sending one byte a second take no thread from /healthz or a query. Limits: a request line
over MAX_REQUEST_LINE bytes is 414, headers over MAX_HEAD_BYTES 431, a declared or
chunked body over the app's max_body 413: every error is JSON like the app's own
(`{"error": {"code", "message"}}`). HTTP parsing is h11's.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import h11

from attribution.web.settings import Settings
from attribution.web.wsgi import Answer, call_app, environ_for

MAX_REQUEST_LINE = 4094  # gunicorn's limit, kept
MAX_HEAD_BYTES = 32 * 1024
READ_SIZE = 64 * 1024
LINGER_S = 1.0  # after an error answer, what the client still sends is read this long
LINGER_READS = 64  # and this many reads at most
_SERVER = b"attribution"
_REASONS = {s.value: s.phrase.encode() for s in http.HTTPStatus}


class FrontError(Exception):
    """An error answered by the front itself (the request never reaches the app)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class _Closed(Exception):
    """The client went away, or stayed idle past keep-alive: close without an answer."""


@dataclass
class Limits:
    """The front's deadlines and sizes (defaults: the service settings'; tests shorten them)."""

    max_body: int
    keepalive_s: float = 5.0
    head_timeout_s: float = Settings.head_timeout_ms / 1000
    body_timeout_s: float = Settings.body_timeout_ms / 1000
    write_timeout_s: float = Settings.write_timeout_ms / 1000

    @classmethod
    def of(cls, settings: Settings, keepalive_s: float) -> Limits:
        """The limits a service's settings give."""
        return cls(
            max_body=settings.max_body,
            keepalive_s=keepalive_s,
            head_timeout_s=settings.head_timeout_ms / 1000,
            body_timeout_s=settings.body_timeout_ms / 1000,
            write_timeout_s=settings.write_timeout_ms / 1000,
        )


@dataclass
class Front:
    """What every connection of one worker shares."""

    app: Callable[..., Iterable[bytes]]
    pool: Executor
    limits: Limits
    server_name: str
    server_port: int
    max_connections: int
    open_connections: int = 0
    in_flight: int = 0


def error_answer(status: int, code: str, message: str) -> Answer:
    """A JSON error answer, shaped like the app's."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [("Content-Type", "application/json"), ("Connection", "close")]
    return Answer(status, headers, body)


async def serve_connection(
    front: Front, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Answer requests on one connection until it closes or a deadline passes."""
    front.open_connections += 1
    try:
        if front.open_connections > front.max_connections:
            busy = error_answer(503, "busy", "too many connections; try again shortly")
            await _send(front, h11.Connection(h11.SERVER), writer, busy, head_only=False)
            await _linger(reader, writer)
            return
        await _requests(front, reader, writer)
    except (_Closed, ConnectionError, TimeoutError, h11.LocalProtocolError):
        pass
    finally:
        front.open_connections -= 1
        writer.close()


async def _requests(
    front: Front, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
    peer = writer.get_extra_info("peername") or ("", 0)
    while True:
        try:
            request = await _read_head(front.limits, conn, reader)
            body = await _read_body(front.limits, conn, reader, writer, request)
        except FrontError as err:
            answer = error_answer(err.status, err.code, err.message)
            await _send(front, conn, writer, answer, head_only=False)
            await _linger(reader, writer)
            return
        environ = environ_for(request, body, front.server_name, front.server_port, peer)
        front.in_flight += 1
        try:
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(front.pool, call_app, front.app, environ)
        finally:
            front.in_flight -= 1
        await _send(front, conn, writer, answer, head_only=request.method == b"HEAD")
        if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
            return
        conn.start_next_cycle()


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """After an early answer: stop writing, then read what the client still sends for a
    moment, so closing does not reset the connection before the answer is read."""
    if writer.can_write_eof():
        writer.write_eof()
    with contextlib.suppress(TimeoutError, ConnectionError):
        async with asyncio.timeout(LINGER_S):
            for _ in range(LINGER_READS):
                if not await reader.read(READ_SIZE):
                    return


async def _read_head(limits: Limits, conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
    """The next request's line and headers; _Closed when the client leaves or idles."""
    received = bytearray()
    deadline: float | None = None
    loop = asyncio.get_running_loop()
    while True:
        event = _next_event(conn)
        if isinstance(event, h11.Request):
            _check_head_size(event)
            return event
        if isinstance(event, h11.ConnectionClosed):
            raise _Closed
        if deadline is None and (received or conn.trailing_data[0]):
            deadline = loop.time() + limits.head_timeout_s
        wait = limits.keepalive_s if deadline is None else deadline - loop.time()
        data = await _read(reader, wait, idle=deadline is None)
        received += data[: MAX_REQUEST_LINE + 2]
        _check_request_line(received)
        conn.receive_data(data)


def _check_head_size(request: Any) -> None:
    """431 for headers over MAX_HEAD_BYTES (h11 checks only heads that arrive in parts)."""
    size = len(request.target) + sum(len(n) + len(v) + 4 for n, v in request.headers)
    if size > MAX_HEAD_BYTES:
        raise FrontError(431, "headers_too_large", "request headers too large")


def _check_request_line(received: bytearray) -> None:
    end = received.find(b"\n")
    if (end == -1 and len(received) > MAX_REQUEST_LINE + 1) or end > MAX_REQUEST_LINE + 1:
        raise FrontError(414, "uri_too_long", f"request line over {MAX_REQUEST_LINE} bytes")


async def _read(reader: asyncio.StreamReader, wait: float, idle: bool) -> bytes:
    """Some bytes within `wait` s; b"" at the end. An idle connection just closes."""
    try:
        async with asyncio.timeout(max(wait, 0.0)):
            return await reader.read(READ_SIZE)
    except TimeoutError:
        if idle:
            raise _Closed from None
        raise FrontError(408, "timeout", "the request was not received in time") from None


def _next_event(conn: h11.Connection) -> Any:
    try:
        return conn.next_event()
    except h11.RemoteProtocolError as err:
        status = err.error_status_hint
        if status == 431:
            raise FrontError(431, "headers_too_large", "request headers too large") from None
        raise FrontError(status, "malformed", f"malformed HTTP request: {err}") from None


async def _read_body(
    limits: Limits,
    conn: h11.Connection,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    request: Any,
) -> bytes:
    """The whole body, at most max_body bytes, within the body deadline."""
    declared = _content_length(request)
    if declared is not None and declared > limits.max_body:
        raise FrontError(413, "too_large", f"body over {limits.max_body} bytes")
    if conn.they_are_waiting_for_100_continue:
        writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
    body = bytearray()
    deadline = asyncio.get_running_loop().time() + limits.body_timeout_s
    while True:
        event = _next_event(conn)
        if isinstance(event, h11.Data):
            body += event.data
            if len(body) > limits.max_body:
                raise FrontError(413, "too_large", f"body over {limits.max_body} bytes")
        elif isinstance(event, h11.EndOfMessage):
            return bytes(body)
        elif isinstance(event, h11.ConnectionClosed):
            raise _Closed
        else:
            wait = deadline - asyncio.get_running_loop().time()
            data = await _read(reader, wait, idle=False)
            conn.receive_data(data)


def _content_length(request: Any) -> int | None:
    for name, value in request.headers:
        if name == b"content-length":
            return int(value)  # h11 has checked it is a number
    return None


async def _send(
    front: Front,
    conn: h11.Connection,
    writer: asyncio.StreamWriter,
    answer: Answer,
    head_only: bool,
) -> None:
    """Write one answer, within the write deadline."""
    headers = _headers(answer, head_only)
    if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        raise _Closed
    reason = _REASONS.get(answer.status, b"")
    data = conn.send(h11.Response(status_code=answer.status, headers=headers, reason=reason))
    if not head_only:
        data += conn.send(h11.Data(data=answer.body)) if answer.body else b""
    data += conn.send(h11.EndOfMessage())
    writer.write(data)
    async with asyncio.timeout(front.limits.write_timeout_s):
        await writer.drain()


def _headers(answer: Answer, head_only: bool) -> list[tuple[str, str]]:
    skip = {"content-length", "transfer-encoding", "connection"}
    headers = [(k, v) for k, v in answer.headers if k.lower() not in skip]
    if head_only:
        length = next((v for k, v in answer.headers if k.lower() == "content-length"), "0")
        headers.append(("Content-Length", length))
    else:
        headers.append(("Content-Length", str(len(answer.body))))
    if any(k.lower() == "connection" and v.lower() == "close" for k, v in answer.headers):
        headers.append(("Connection", "close"))
    headers.append(("Server", _SERVER.decode()))
    return headers
