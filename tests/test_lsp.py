"""End to end: `attribution lsp` in a subprocess, driven by a real LSP client (pytest-lsp)."""

from __future__ import annotations

import asyncio
import http.server
import json
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
from test_check_staged_corpus import (
    GPL_FUNCTION,
    MIT_FUNCTION,
    OWN_CODE,
    lines_of,
    small_index,
)

from attribution.core.search import attribute
from attribution.index.store import Index

__all__ = ["small_index"]  # the fixture used here

pytestmark = pytest.mark.asyncio(loop_scope="module")

WAIT_S = 60.0
MORE_OWN_CODE = '''

class Counter:
    """Ours as well."""

    def __init__(self):
        self.count = 0

    def bump(self, by=1):
        self.count += by
        return self.count
'''
DOCUMENT = OWN_CODE + "\n\n" + MIT_FUNCTION + MORE_OWN_CODE


def _record(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
    client.diagnostics[params.uri] = params.diagnostics
    client.published.append(params)  # type: ignore[attr-defined]


def make_client() -> LanguageClient:
    """pytest-lsp's client, keeping every publishDiagnostics (not only the last one)."""
    client = LanguageClient(converter_factory=default_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = _record
    register_lsp_features(client, features)
    client.published = []  # type: ignore[attr-defined]
    return client


async def start(command: list[str], options: dict[str, Any] | None = None) -> LanguageClient:
    config = ClientServerConfig(server_command=command, client_factory=make_client)
    client = await config.start()
    assert isinstance(client, LanguageClient)
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options={"debounceMs": 30, **(options or {})},
        )
    )
    return client


def lsp_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "attribution", "lsp", *args]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(small_index: Path) -> AsyncIterator[LanguageClient]:
    c = await start(lsp_command("--index", str(small_index)))
    yield c
    await c.shutdown_session()
    await c.stop()


async def until(check: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    """Poll the client's recorded traffic until check() holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def diagnostics(client: LanguageClient, uri: str, version: int) -> list[types.Diagnostic]:
    def found() -> Any:
        for p in reversed(client.published):  # type: ignore[attr-defined]
            if p.uri == uri and p.version == version:
                return [p]
        return None

    params = (await until(found, f"diagnostics of {uri} v{version}"))[0]
    return list(params.diagnostics)


async def message(client: LanguageClient, needle: str) -> types.ShowMessageParams:
    def found() -> Any:
        return next((m for m in client.messages if needle in m.message), None)

    result: types.ShowMessageParams = await until(found, f"a message with {needle!r}")
    return result


def open_doc(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )


def change_doc(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def apply_edit(text: str, edit: types.TextEdit) -> str:
    """A text edit applied as an editor would (positions here are ASCII columns)."""
    lines = text.split("\n")

    def offset(p: types.Position) -> int:
        return sum(len(x) + 1 for x in lines[: p.line]) + p.character

    a, b = offset(edit.range.start), offset(edit.range.end)
    return text[:a] + edit.new_text + text[b:]


# ---------------------------------------------------------------- the main path
async def test_copied_function_is_a_diagnostic_with_hover_and_actions(
    client: LanguageClient,
) -> None:
    uri = "file:///project/completion.py"
    first, last = lines_of(DOCUMENT, MIT_FUNCTION)
    open_doc(client, uri, DOCUMENT)
    found = await diagnostics(client, uri, 1)
    assert len(found) == 1, found
    diag = found[0]
    assert diag.range.start.line == first - 1 and diag.range.end.line == last - 1
    assert diag.range.start.character == 0
    assert diag.severity == types.DiagnosticSeverity.Information  # MIT is permissive
    assert diag.source == "attribution" and diag.code == "MIT"
    assert "mylib textwrap.py" in diag.message and "MIT (permissive)" in diag.message
    assert "Gregory P. Ward" in diag.message

    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=first + 3, character=4),
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    text = hover.contents.value
    assert "[mylib](https://github.com/jane/mylib)" in text and "`textwrap.py`" in text
    assert "MIT (permissive)" in text and "**Obligations**" in text
    assert "Keep the copyright notice and the MIT license text" in text
    assert hover.range is not None and hover.range.start.line == first - 1
    nothing = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=0, character=0),
        )
    )
    assert nothing is None

    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diag.range,
            context=types.CodeActionContext(diagnostics=[diag]),
        )
    )
    assert actions is not None and len(actions) == 2
    insert, open_source = actions
    assert isinstance(insert, types.CodeAction) and isinstance(open_source, types.Command)
    assert insert.title.startswith("Insert an attribution comment")
    assert list(insert.diagnostics or []) == [diag]
    assert insert.edit is not None and insert.edit.document_changes is not None
    doc_edit = insert.edit.document_changes[0]
    assert isinstance(doc_edit, types.TextDocumentEdit)
    assert doc_edit.text_document.version == 1
    edit = doc_edit.edits[0]
    assert isinstance(edit, types.TextEdit)
    assert edit.new_text.startswith("# Adapted from mylib textwrap.py lines ")
    assert "(https://github.com/jane/mylib)\n# License: MIT. " in edit.new_text

    # apply it as the editor would: the copy is now attributed (a hint, 2 lines lower)
    attributed = apply_edit(DOCUMENT, edit)
    change_doc(client, uri, 2, attributed)
    found = await diagnostics(client, uri, 2)
    assert len(found) == 1 and found[0].severity == types.DiagnosticSeverity.Hint
    assert found[0].range.start.line == first - 1 + 2
    assert found[0].message.startswith("Attributed copy")

    assert open_source.command == "attribution.openSource"
    assert open_source.title == "Open the source: " + diag.message.split(" of ")[1].split(" (")[0]
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=open_source.command, arguments=open_source.arguments)
    )
    assert client.shown_documents[-1].uri == "https://github.com/jane/mylib"

    # edit the copied function away: its diagnostic goes
    rewritten = attributed.replace(MIT_FUNCTION, "def wrap(text):\n    return [text]\n")
    change_doc(client, uri, 3, rewritten)
    assert await diagnostics(client, uri, 3) == []


async def test_license_type_sets_the_severity(client: LanguageClient) -> None:
    uri = "file:///project/scanner.py"
    text = OWN_CODE + "\n\n" + GPL_FUNCTION
    open_doc(client, uri, text)
    found = await diagnostics(client, uri, 1)
    assert len(found) == 1
    assert found[0].severity == types.DiagnosticSeverity.Error  # GPL is copyleft
    assert found[0].code == "GPL-3.0-or-later" and "gpllib decoder.py" in found[0].message
    first, last = lines_of(text, GPL_FUNCTION)
    assert (found[0].range.start.line, found[0].range.end.line) == (first - 1, last - 1)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=found[0].range,
            context=types.CodeActionContext(diagnostics=found),
        )
    )
    assert actions is not None  # gpllib has no URL: only the comment
    assert [a.title.split(" ")[0] for a in actions] == ["Insert"]


async def test_edits_are_debounced_and_stale_versions_dropped(small_index: Path) -> None:
    c = await start(lsp_command("--index", str(small_index)), {"debounceMs": 1000})
    try:
        uri = "file:///project/typing.py"
        open_doc(c, uri, OWN_CODE)  # didOpen is checked at once
        assert await diagnostics(c, uri, 1) == []
        for version in range(2, 8):  # typing the copy in: a burst of edits
            change_doc(c, uri, version, OWN_CODE + "\n\n" + MIT_FUNCTION[: version * 200])
        change_doc(c, uri, 8, OWN_CODE + "\n\n" + MIT_FUNCTION)
        found = await diagnostics(c, uri, 8)
        assert len(found) == 1
        seen = [p.version for p in c.published if p.uri == uri]  # type: ignore[attr-defined]
        assert seen == [1, 8], seen  # the versions in between were superseded
    finally:
        await c.shutdown_session()
        await c.stop()


async def test_save_and_close(client: LanguageClient) -> None:
    uri = "file:///project/saved.py"
    text = OWN_CODE + "\n\n" + MIT_FUNCTION
    open_doc(client, uri, text)
    assert len(await diagnostics(client, uri, 1)) == 1
    before = len(client.published)  # type: ignore[attr-defined]
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await until(lambda: len(client.published) > before, "diagnostics after save")  # type: ignore[attr-defined]
    assert len(client.diagnostics[uri]) == 1
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await until(lambda: len(client.diagnostics[uri]) == 0, "diagnostics cleared on close")


# ---------------------------------------------------------------- bad input
async def test_unknown_language_is_a_message_and_the_server_stays_up(
    client: LanguageClient,
) -> None:
    uri = "file:///project/payroll.cob"
    open_doc(client, uri, "       IDENTIFICATION DIVISION.\n       PROGRAM-ID. PAY.\n", "cobol")
    shown = await message(client, "payroll.cob")
    assert "language 'cobol' is not one it knows" in shown.message and "python" in shown.message
    assert await diagnostics(client, uri, 1) == []
    await _still_serving(client, "file:///project/after-cobol.py")


async def test_a_5mb_document_is_refused_with_a_message(client: LanguageClient) -> None:
    uri = "file:///project/generated.py"
    big = "".join(f"value_{i} = {i} * 2 + 1\n" for i in range(250_000))
    assert len(big) > 5_000_000
    open_doc(client, uri, big)
    shown = await message(client, "generated.py is too large")
    assert "the limit is 1,000,000" in shown.message
    assert shown.type == types.MessageType.Warning
    assert await diagnostics(client, uri, 1) == []
    await _still_serving(client, "file:///project/after-big.py")


async def test_invalid_utf8_from_the_client_is_replaced_not_fatal(
    client: LanguageClient,
) -> None:
    uri = "file:///project/latin1.py"
    text = "# caf\udce9 au lait\n" + OWN_CODE + "\n\n" + MIT_FUNCTION  # \udce9: placeholder
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}
            },
        }
    ).encode("ascii")
    body = body.replace(b"\\udce9", b"\xe9")  # a raw Latin-1 byte inside the JSON string
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    server = client._server
    assert server is not None and server.stdin is not None
    server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    await server.stdin.drain()
    shown = await message(client, "not valid UTF-8")
    assert shown.type == types.MessageType.Warning
    found = await diagnostics(client, uri, 1)
    assert len(found) == 1 and "mylib textwrap.py" in found[0].message


async def test_lone_surrogates_in_the_text_are_checked(client: LanguageClient) -> None:
    uri = "file:///project/surrogates.py"
    text = "# broken: \udcff\udcfe\n" + OWN_CODE + "\n\n" + MIT_FUNCTION
    open_doc(client, uri, text)
    found = await diagnostics(client, uri, 1)
    assert len(found) == 1
    assert found[0].range.start.line == lines_of(text, MIT_FUNCTION)[0] - 1


async def _still_serving(client: LanguageClient, uri: str) -> None:
    open_doc(client, uri, OWN_CODE + "\n\n" + MIT_FUNCTION)
    assert len(await diagnostics(client, uri, 1)) == 1


# ---------------------------------------------------------------- configuration
async def test_severity_is_configurable_and_bad_options_are_named(small_index: Path) -> None:
    options = {"severity": {"permissive": "warning"}, "debounce": 5, "top": 0}
    c = await start(lsp_command("--index", str(small_index)), options)
    try:
        shown = await message(c, "initializationOptions")
        assert "unknown option 'debounce'" in shown.message
        assert "top: must be an integer >= 1, got 0" in shown.message
        uri = "file:///project/configured.py"
        open_doc(c, uri, OWN_CODE + "\n\n" + MIT_FUNCTION)
        found = await diagnostics(c, uri, 1)
        assert len(found) == 1 and found[0].severity == types.DiagnosticSeverity.Warning
    finally:
        await c.shutdown_session()
        await c.stop()


async def test_a_missing_index_is_a_message_not_a_crash(tmp_path: Path) -> None:
    c = await start(lsp_command("--index", str(tmp_path / "nowhere")))
    try:
        shown = await message(c, "nowhere")
        assert shown.type == types.MessageType.Error
        uri = "file:///project/x.py"
        open_doc(c, uri, OWN_CODE + "\n\n" + MIT_FUNCTION)
        assert await diagnostics(c, uri, 1) == []
    finally:
        await c.shutdown_session()
        await c.stop()


# ---------------------------------------------------------------- a slow service
class GatedService:
    """POST /v1/attribute and /v1/batch answered from a real index, but only once the
    test opens the gate: a service as slow as the test wants."""

    def __init__(self, index: Path) -> None:
        self.gate = threading.Event()
        self.requests = 0
        self.index = Index(index)
        self.lock = threading.Lock()
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                service.requests += 1
                service.gate.wait(WAIT_S)
                answer = service.answer(self.path, body)
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def answer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            if path == "/v1/attribute":
                return attribute(body["code"], self.index, language=body.get("language"))
            results = [
                {"id": item["id"], **attribute(item["code"], self.index, language=item["language"])}
                for item in body["items"]
            ]
            return {"results": results}

    def close(self) -> None:
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.index.close()


async def test_a_slow_service_never_blocks_the_editor(small_index: Path) -> None:
    service = GatedService(small_index)
    c = await start(lsp_command("--server", service.url))
    try:
        uri = "file:///project/remote.py"
        open_doc(c, uri, DOCUMENT)
        await until(lambda: service.requests > 0, "the service to be asked")
        # the check is stuck in the service: the editor's requests are still answered
        hover = await asyncio.wait_for(
            c.text_document_hover_async(
                types.HoverParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=12, character=4),
                )
            ),
            timeout=WAIT_S,
        )
        assert hover is None  # nothing published yet
        change_doc(c, uri, 2, DOCUMENT + "\n# edited while the service was slow\n")
        assert not c.published  # type: ignore[attr-defined]
        service.gate.set()
        found = await diagnostics(c, uri, 2)
        assert len(found) == 1 and "mylib textwrap.py" in found[0].message
        assert [p.version for p in c.published] == [2]  # type: ignore[attr-defined]
        first, last = lines_of(DOCUMENT, MIT_FUNCTION)
        assert (found[0].range.start.line, found[0].range.end.line) == (first - 1, last - 1)
    finally:
        await c.shutdown_session()
        await c.stop()
        service.close()
