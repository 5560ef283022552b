"""A stand-in model server speaking the OpenAI API over real HTTP, with scripted answers, and
the proxy started in front of it (imported by the test_proxy*.py files).

The last user message (or a completion's prompt) names the script: `verbatim` reproduces a
function of the index's `mylib` (textwrap, MIT), `renamed` the same with its names changed,
`original` code of our own, `two` two blocks and prose, `gpl` a function of `gpllib`
(GPL-3.0-or-later). Failure scripts: `error500`, `notjson`, `slow`, `cut`, `forever`, `gated`.
"""

from __future__ import annotations

import http.server
import json
import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
from test_check_staged_corpus import GPL_FUNCTION, MIT_FUNCTION

from attribution.proxy import Attributor, Proxy, Settings
from attribution.proxy.audit import AuditLog

CHUNK = 5  # characters of content per streamed chunk: fences are cut across chunks
WAIT_S = 10.0

_NAMES = {
    "chunks": "pieces",
    "lines": "rows",
    "cur_line": "current",
    "cur_len": "size",
    "width": "room",
    "indent": "lead",
    "prev_line": "previous",
}
RENAMED = re.sub(r"\b(" + "|".join(_NAMES) + r")\b", lambda m: _NAMES[m.group(1)], MIT_FUNCTION)
ORIGINAL = '''def tally_votes(ballots, quorum):
    """Count ranked ballots round by round until one option has a majority."""
    remaining = {choice for ballot in ballots for choice in ballot}
    while remaining:
        firsts = {}
        for ballot in ballots:
            top = next((c for c in ballot if c in remaining), None)
            if top is not None:
                firsts[top] = firsts.get(top, 0) + 1
        total = sum(firsts.values())
        if total < quorum:
            return None
        leader, votes = max(firsts.items(), key=lambda kv: (kv[1], kv[0]))
        if votes * 2 > total:
            return leader
        remaining.discard(min(firsts, key=lambda c: (firsts[c], c)))
    return None
'''
PROSE_1 = "Here is the wrapping routine you asked for.\n\n"
PROSE_2 = "\nAnd the string scanner, fenced with tildes:\n\n"
PROSE_3 = "\nBoth are standard techniques.\n"


def fenced(code: str, tag: str = "python", fence: str = "```") -> str:
    return f"{fence}{tag}\n{code}{fence}\n"


ANSWERS = {
    "verbatim": PROSE_1 + fenced(MIT_FUNCTION) + "\nIt wraps text to a width.\n",
    "renamed": PROSE_1 + fenced(RENAMED),
    "original": "Written for you:\n\n" + fenced(ORIGINAL) + "\nNo library needed.\n",
    "two": PROSE_1 + fenced(MIT_FUNCTION) + PROSE_2 + fenced(GPL_FUNCTION, "py", "~~~~") + PROSE_3,
    "gpl": "A scanner:\n\n" + fenced(GPL_FUNCTION) + "\nDone.\n",
    "mixed": PROSE_1 + fenced(GPL_FUNCTION) + PROSE_2 + fenced(MIT_FUNCTION) + PROSE_3,
}


def first_block_end(answer: str) -> int:
    """Where the first block's closing fence line ends."""
    return answer.index("```\n", answer.index("```python\n") + 10) + 4


def pieces(text: str, size: int = CHUNK) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


class Upstream(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.authorization: list[str | None] = []
        self.gate = threading.Event()  # `gated`: the client has seen what it waited for
        self.gate_timed_out = False
        self.disconnected = threading.Event()  # `forever`: the proxy closed the request
        self.count = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Upstream

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # ---------------------------------------------------------------- plumbing
    def _json(self, status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Upstream", "standin")
        for k, v in headers or []:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("X-Upstream", "standin")
        self.end_headers()

    def _send(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _event(self, payload: Any) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        self._send(f"data: {text}\n\n".encode())

    # ---------------------------------------------------------------- routes
    def do_GET(self) -> None:
        self.server.authorization.append(self.headers.get("Authorization"))
        if self.path.rstrip("/") == "/v1/models":
            model = {"id": "standin", "object": "model", "created": 1, "owned_by": "tests"}
            cookies = [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
            self._json(200, {"object": "list", "data": [model]}, cookies)
        else:
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        self.server.authorization.append(self.headers.get("Authorization"))
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        if self.path == "/v1/embeddings":
            data = [{"object": "embedding", "index": 0, "embedding": [0.25, 0.5]}]
            usage = {"prompt_tokens": 1, "total_tokens": 1}
            self._json(200, {"object": "list", "data": data, "model": "standin", "usage": usage})
            return
        whole = self.path == "/v1/completions"
        script = str(request.get("prompt") if whole else request["messages"][-1]["content"])
        if self._failure(script, request):
            return
        self.server.count += 1
        answer = ANSWERS.get("two" if script == "gated" else script, "no script " + script)
        if whole:
            answer = MIT_FUNCTION if script == "verbatim" else ORIGINAL
        if request.get("stream"):
            self._stream(answer, whole, script)
        else:
            self._whole(answer, whole, script)

    def _failure(self, script: str, request: dict[str, Any]) -> bool:
        if script == "error500":
            error = {"message": "the model crashed", "type": "server_error", "code": None}
            self._json(500, {"error": error}, [("X-Request-Id", "req-500")])
        elif script == "notjson":
            data = b"<html>proxy error page</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif script == "slow":
            time.sleep(3.0)
            self._json(200, {"choices": []})
        elif script == "cut":
            self._cut()
        elif script == "forever":
            self._forever()
        else:
            return False
        return True

    # ---------------------------------------------------------------- answers
    def _head(self, whole: bool, stream: bool) -> dict[str, Any]:
        kind = "text_completion" if whole else "chat.completion"
        kind += ".chunk" if stream and not whole else ""
        return {
            "id": f"cmpl-standin-{self.server.count}",
            "object": kind,
            "created": 1,
            "model": "standin",
        }

    def _whole(self, answer: str, whole: bool, script: str) -> None:
        choice: dict[str, Any] = {"index": 0, "finish_reason": "stop", "logprobs": None}
        if whole:
            choice["text"] = answer
        elif script == "tool":
            arguments = json.dumps({"path": "wrap.py", "content": MIT_FUNCTION})
            call = {
                "id": "call_1",
                "type": "function",
                "function": {"name": "write_file", "arguments": arguments},
            }
            choice["message"] = {"role": "assistant", "content": None, "tool_calls": [call]}
            choice["finish_reason"] = "tool_calls"
        else:
            choice["message"] = {"role": "assistant", "content": answer}
        usage = {"prompt_tokens": 3, "completion_tokens": 50, "total_tokens": 53}
        self._json(200, {**self._head(whole, False), "choices": [choice], "usage": usage})

    def _delta(self, whole: bool, text: str | None, finish: str | None = None) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "finish_reason": finish}
        if whole:
            choice["text"] = text or ""
        else:
            choice["delta"] = {} if text is None else {"content": text}
        return {**self._head(whole, True), "choices": [choice]}

    def _stream(self, answer: str, whole: bool, script: str) -> None:
        self._start_stream()
        if not whole:
            first = self._delta(whole, "")
            first["choices"][0]["delta"]["role"] = "assistant"
            self._event(first)
        if script == "tool":
            self._stream_tool()
        else:
            gate = (
                answer.index("```\n", answer.index("```python\n") + 10) + 4
                if script == "gated"
                else -1
            )
            sent = 0
            for piece in pieces(answer):
                self._event(self._delta(whole, piece))
                sent += len(piece)
                if script == "gated" and sent >= gate > sent - len(piece):
                    # the first block has closed: wait until the client saw its attribution
                    self.server.gate_timed_out = not self.server.gate.wait(WAIT_S)
        self._event(self._delta(whole, None, "tool_calls" if script == "tool" else "stop"))
        self._event("[DONE]")
        self._send(b"")

    def _stream_tool(self) -> None:
        arguments = json.dumps({"path": "wrap.py", "content": MIT_FUNCTION})
        for n, piece in enumerate(pieces(arguments, 40)):
            call: dict[str, Any] = {"index": 0, "function": {"arguments": piece}}
            if n == 0:
                call.update(id="call_1", type="function")
                call["function"]["name"] = "write_file"
            chunk = self._delta(False, None)
            chunk["choices"][0]["delta"] = {"tool_calls": [call]}
            self._event(chunk)

    def _cut(self) -> None:
        """Half a block, then the connection closes without the chunked body's end."""
        self._start_stream()
        text = ANSWERS["verbatim"]
        for piece in pieces(text[: len(text) // 2]):
            self._event(self._delta(False, piece))
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)

    def _forever(self) -> None:
        """Three chunks, then silence until the reader goes away (`disconnected` is set):
        the proxy must notice a client leaving even while the model says nothing."""
        self._start_stream()
        for _ in range(3):
            self._event(self._delta(False, "word "))
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable and not self.connection.recv(1):
                self.server.disconnected.set()
                return


# ---------------------------------------------------------------- fixtures
@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a free port in a thread; its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(WAIT_S)
        sock.close()


@pytest.fixture(scope="session")
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@contextmanager
def proxy_for(
    upstream_url: str,
    index: Any,
    mode: str = "annotate",
    policy: Any = None,
    audit: str | None = None,
    timeout: float = 2.0,
) -> Iterator[str]:
    attributor = Attributor(index=str(index))
    settings = Settings(mode, attributor, policy)
    log = AuditLog(audit) if audit else None
    proxy = Proxy(upstream_url, settings, log, timeout=timeout)
    with serving(proxy.app()) as url:
        yield url
    attributor.close()
