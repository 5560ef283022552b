"""`attribution lsp`: a language server (pygls 2) that shows copied code as diagnostics.

didOpen and didSave check at once, didChange after `debounceMs` of quiet. Every check runs
in one worker thread, so the editor never waits on the index; a check whose document
changed meanwhile is dropped (a newer one is queued), and one not yet started when the
next edit arrives is cancelled. Hover shows a match's source, license and obligations;
code actions insert an attribution comment or open the source.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument

from attribution.index.store import warm_up
from attribution.lsp import present
from attribution.lsp.backend import Backend, LocalBackend, RemoteBackend
from attribution.lsp.checker import Checker, DocumentProblem, Outcome, Snapshot
from attribution.lsp.options import Options

VERSION = "0.1.0"
OPEN_SOURCE = "attribution.openSource"
log = logging.getLogger("attribution.lsp")


@dataclass
class Published:
    """What was last published for a document: its version, lines and matches."""

    version: int | None
    language: str
    lines: list[str]
    matches: list[dict[str, Any]] = field(default_factory=list)


class AttributionServer(LanguageServer):
    """The server's state: options, the checker, the worker and each document's last result."""

    def __init__(self, backend: Backend) -> None:
        super().__init__("attribution", VERSION)
        self.backend = backend
        self.options = Options()
        self.checker = Checker(backend, self.options)
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attribution")
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.published: dict[str, Published] = {}
        self.shown: dict[str, str] = {}  # uri -> the problem last shown for it
        self.option_problems: list[str] = []
        self.invalid_utf8 = 0  # message bodies that were not UTF-8 (replaced)
        self._utf8_lock = threading.Lock()

    # ------------------------------------------------------------ scheduling
    def schedule(self, uri: str, delay_s: float) -> None:
        """Check a document after delay_s, superseding a check not yet done."""
        old = self.pending.pop(uri, None)
        if old is not None:
            old.cancel()
        task = asyncio.get_running_loop().create_task(self._check_later(uri, delay_s))
        self.pending[uri] = task
        task.add_done_callback(
            lambda t: self.pending.pop(uri, None) if self.pending.get(uri) is t else None
        )

    def document(self, uri: str) -> TextDocument | None:
        found: TextDocument | None = self.workspace.text_documents.get(unquote(uri))
        return found

    def is_current(self, snap: Snapshot) -> bool:
        doc = self.document(snap.uri)
        return doc is not None and doc.version == snap.version and doc.source == snap.text

    async def _check_later(self, uri: str, delay_s: float) -> None:
        if delay_s > 0:
            await asyncio.sleep(delay_s)
        doc = self.document(uri)
        if doc is None:
            return
        snap = Snapshot(uri, doc.version, doc.source, doc.language_id, doc.path)
        try:
            outcome = await asyncio.get_running_loop().run_in_executor(self.worker, self._run, snap)
        except DocumentProblem as problem:
            if self.is_current(snap):
                self._problem(snap, problem)
            return
        except Exception as err:  # a bug: say so, keep serving
            log.exception("checking %s failed", uri)
            self._problem(snap, DocumentProblem("internal", f"attribution: internal error: {err}"))
            return
        if outcome is not None and self.is_current(snap):
            self._publish(snap, outcome)

    def _run(self, snap: Snapshot) -> Outcome | None:
        """In the worker: skip a version that is already superseded."""
        if not self.is_current(snap):
            return None
        return self.checker.check(snap)

    # ------------------------------------------------------------ publishing
    def _publish(self, snap: Snapshot, outcome: Outcome) -> None:
        lines = snap.text.split("\n")
        doc = self.document(snap.uri)
        codec = doc.position_codec if doc is not None else self.workspace.position_codec
        self.published[snap.uri] = Published(snap.version, outcome.language, lines, outcome.matches)
        self.shown.pop(snap.uri, None)
        diagnostics = present.diagnostics(
            lines, outcome.matches, self.options, codec.client_num_units
        )
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(snap.uri, diagnostics, version=snap.version)
        )
        for note in outcome.notes:
            self.window_log_message(types.LogMessageParams(types.MessageType.Warning, note))

    def _problem(self, snap: Snapshot, problem: DocumentProblem) -> None:
        """Clear the document's diagnostics; say what is wrong once (until it changes)."""
        self.published.pop(snap.uri, None)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(snap.uri, [], version=snap.version)
        )
        message = str(problem)
        if self.shown.get(snap.uri) != message:
            self.shown[snap.uri] = message
            level = (
                types.MessageType.Info if problem.kind == "language" else types.MessageType.Warning
            )
            if problem.kind in ("backend", "internal"):
                level = types.MessageType.Error
            self.window_show_message(types.ShowMessageParams(level, message))

    def note_invalid_utf8(self) -> None:
        """Called by the reader thread when a message body was not valid UTF-8."""
        with self._utf8_lock:
            self.invalid_utf8 += 1

    def warn_invalid_utf8(self) -> None:
        with self._utf8_lock:
            count, self.invalid_utf8 = self.invalid_utf8, 0
        if count:
            self.window_show_message(
                types.ShowMessageParams(
                    types.MessageType.Warning,
                    "attribution: the editor sent text that is not valid UTF-8; the invalid "
                    "bytes were read as U+FFFD (reopen the file as UTF-8 for exact results)",
                )
            )

    def match_at(self, uri: str, line: int) -> list[dict[str, Any]]:
        """Published matches covering a 1-based line."""
        pub = self.published.get(uri)
        if pub is None:
            return []
        return [m for m in pub.matches if m["query_lines"][0] <= line <= m["query_lines"][1]]

    def shutdown_worker(self) -> None:
        for task in self.pending.values():
            task.cancel()
        self.worker.shutdown(wait=False, cancel_futures=True)
        close = getattr(self.backend, "close", None)
        if close is not None:
            close()


# ---------------------------------------------------------------- handlers
def on_initialize(ls: AttributionServer, params: types.InitializeParams) -> None:
    ls.options, ls.option_problems = Options.from_client(params.initialization_options)
    configure = getattr(ls.backend, "configure", None)
    if configure is not None:
        configure(ls.options.min_tokens, ls.options.top, ls.options.max_candidates)
    ls.checker = Checker(ls.backend, ls.options)


async def on_initialized(ls: AttributionServer, params: types.InitializedParams) -> None:
    if ls.option_problems:
        ls.window_show_message(
            types.ShowMessageParams(
                types.MessageType.Warning,
                "attribution: initializationOptions: " + "; ".join(ls.option_problems),
            )
        )
    try:  # open the index and load its structures before the first document arrives
        await asyncio.get_running_loop().run_in_executor(ls.worker, _warm_up, ls.backend)
    except (OSError, ValueError) as err:
        ls.window_show_message(
            types.ShowMessageParams(
                types.MessageType.Error, f"attribution: {ls.backend.describe()}: {err}"
            )
        )


def _warm_up(backend: Backend) -> None:
    if isinstance(backend, LocalBackend):
        warm_up(backend.index())


def on_did_open(ls: AttributionServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.warn_invalid_utf8()
    ls.schedule(params.text_document.uri, 0.0)


def on_did_change(ls: AttributionServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.warn_invalid_utf8()
    ls.schedule(params.text_document.uri, ls.options.debounce_ms / 1000.0)


def on_did_save(ls: AttributionServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, 0.0)


def on_did_close(ls: AttributionServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    task = ls.pending.pop(uri, None)
    if task is not None:
        task.cancel()
    ls.published.pop(uri, None)
    ls.shown.pop(uri, None)
    ls.checker.forget(uri)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))


def on_hover(ls: AttributionServer, params: types.HoverParams) -> types.Hover | None:
    uri = params.text_document.uri
    found = ls.match_at(uri, params.position.line + 1)
    pub = ls.published.get(uri)
    doc = ls.document(uri)
    if not found or pub is None or doc is None:
        return None
    text = "\n\n---\n\n".join(present.hover_text(m, ls.backend.source_url(m)) for m in found)
    first = found[0]["query_lines"]
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
        range=present.line_range(
            pub.lines, first[0], first[1], doc.position_codec.client_num_units
        ),
    )


def on_code_action(
    ls: AttributionServer, params: types.CodeActionParams
) -> list[types.CodeAction | types.Command] | None:
    uri = params.text_document.uri
    pub = ls.published.get(uri)
    if pub is None:
        return None
    a, b = params.range.start.line + 1, params.range.end.line + 1
    matches = [m for m in pub.matches if m["query_lines"][0] <= b and m["query_lines"][1] >= a]
    by_key = {
        d.data.get("key"): d
        for d in params.context.diagnostics
        if d.source == present.SOURCE and isinstance(d.data, dict)
    }
    actions: list[types.CodeAction | types.Command] = []
    for m in matches:
        actions += _actions_for(ls, uri, pub, m, by_key.get(present.match_key(m)))
    return actions


def _actions_for(
    ls: AttributionServer,
    uri: str,
    pub: Published,
    m: dict[str, Any],
    diag: types.Diagnostic | None,
) -> list[types.CodeAction | types.Command]:
    url = ls.backend.source_url(m)
    first = m["query_lines"][0]
    head = pub.lines[first - 1] if first - 1 < len(pub.lines) else ""
    indent = head[: len(head) - len(head.lstrip())]
    out: list[types.CodeAction | types.Command] = []
    if not present.attributed(pub.lines, m):
        at = types.Position(line=first - 1, character=0)
        edit = types.TextEdit(
            range=types.Range(start=at, end=at),
            new_text=present.attribution_comment(m, pub.language, indent, url),
        )
        doc_id = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=pub.version)
        out.append(
            types.CodeAction(
                title=f"Insert an attribution comment for {m['source']['repo_name']}",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diag] if diag else None,
                edit=types.WorkspaceEdit(
                    document_changes=[types.TextDocumentEdit(text_document=doc_id, edits=[edit])]
                ),
                is_preferred=True,
            )
        )
    if url:  # a bare Command: clients built on lsprotocol read a CodeAction with one as one
        out.append(
            types.Command(
                title=f"Open the source: {present.where(m)}", command=OPEN_SOURCE, arguments=[url]
            )
        )
    return out


async def open_source(ls: AttributionServer, url: str) -> bool:
    """window/showDocument of a source URL (shown as a message when the client cannot)."""
    window = ls.client_capabilities.window
    if window is None or not window.show_document:
        ls.window_show_message(types.ShowMessageParams(types.MessageType.Info, f"source: {url}"))
        return False
    result = await ls.window_show_document_async(types.ShowDocumentParams(uri=url, external=True))
    return bool(result.success)


def on_shutdown(ls: AttributionServer, params: Any) -> None:
    ls.shutdown_worker()


def create_server(backend: Backend) -> AttributionServer:
    """A server wired to its handlers (not yet started)."""
    ls = AttributionServer(backend)
    ls.feature(types.INITIALIZE)(on_initialize)
    ls.feature(types.INITIALIZED)(on_initialized)
    ls.feature(types.TEXT_DOCUMENT_DID_OPEN)(on_did_open)
    ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)(on_did_change)
    ls.feature(types.TEXT_DOCUMENT_DID_SAVE)(on_did_save)
    ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)(on_did_close)
    ls.feature(types.TEXT_DOCUMENT_HOVER)(on_hover)
    ls.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )(on_code_action)
    ls.feature(types.SHUTDOWN)(on_shutdown)
    ls.command(OPEN_SOURCE)(open_source)
    return ls


class Utf8Reader:
    """stdin for pygls: a message body that is not valid UTF-8 is decoded with U+FFFD
    replacements (and reported) instead of being dropped whole."""

    def __init__(self, raw: BinaryIO, on_invalid: Any) -> None:
        self.raw = raw
        self.on_invalid = on_invalid

    def readline(self) -> bytes:
        return self.raw.readline()

    def read(self, n: int) -> bytes:
        data = self.raw.read(n)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            self.on_invalid()
            return data.decode("utf-8", "replace").encode("utf-8")
        return data


def run_stdio(index: str, server: str | None = None) -> int:
    """Serve over stdin/stdout until the client says exit; the exit code."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
    backend: Backend = RemoteBackend(server) if server else LocalBackend(index)
    ls = create_server(backend)
    ls.start_io(Utf8Reader(sys.stdin.buffer, ls.note_invalid_utf8), sys.stdout.buffer)  # type: ignore[arg-type]
    return 0
