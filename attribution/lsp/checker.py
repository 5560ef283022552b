"""Attribute one version of a document: resolve its language, split it into regions,
attribute the regions not seen before (results are cached by region content), and put the
matches back on the document's lines. Runs in the server's worker thread."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from attribution.core.config import Config
from attribution.core.languages import LANGUAGES, UnknownLanguageError, detect_language
from attribution.core.search import QueryError
from attribution.lsp import regions
from attribution.lsp.backend import Backend
from attribution.lsp.options import Options

CACHE_REGIONS = 4096
DEFAULT_MIN_TOKENS = Config().min_tokens  # regions smaller than the engine's floor: no query

# LSP language identifiers that are not our language names.
LSP_LANGUAGE_IDS = {
    "javascriptreact": "javascript",
    "typescriptreact": "tsx",
    "shellscript": "shell",
    "objective-c": "objc",
    "objective-cpp": "objc",
    "cuda-cpp": "cpp",
    "csharp": "csharp",
}


class DocumentProblem(Exception):
    """The document cannot be checked (unknown language, too large, binary, no index)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Snapshot:
    """One version of a document, as the client sent it."""

    uri: str
    version: int | None
    text: str
    language_id: str | None
    path: str | None


@dataclass
class Outcome:
    """The matches of one document version, on its lines."""

    language: str
    matches: list[dict[str, Any]]
    regions: int = 0
    attributed: int = 0  # regions attributed for this version (the others came from cache)
    elapsed_ms: float = 0.0
    notes: list[str] = field(default_factory=list)  # regions that could not be attributed


def resolve_language(language_id: str | None, path: str | None, head: bytes) -> str:
    """Our language name from the client's languageId, else the file name, else a #! line."""
    if language_id:
        key = LSP_LANGUAGE_IDS.get(language_id, language_id)
        try:
            found = detect_language(None, b"", key)
        except UnknownLanguageError:
            found = None
        if found:
            return found
    found = detect_language(path, head)
    if found:
        return found
    name = (path or "").rsplit("/", 1)[-1] or "this document"
    raise DocumentProblem(
        "language",
        f"attribution: cannot check {name}: language {language_id!r} is not one it knows "
        f"(known: {', '.join(sorted(LANGUAGES))})",
    )


class Checker:
    """Region results cached by content, shared by all documents."""

    def __init__(self, backend: Backend, options: Options) -> None:
        self.backend = backend
        self.options = options
        self._cache: OrderedDict[tuple[str, str], list[dict[str, Any]]] = OrderedDict()
        self._documents: dict[str, tuple[str, Outcome]] = {}  # uri -> (text digest, outcome)
        self._lock = threading.Lock()

    @property
    def min_tokens(self) -> int:
        return self.options.min_tokens or DEFAULT_MIN_TOKENS

    def check(self, snap: Snapshot) -> Outcome:
        """The matches of a document version; DocumentProblem when it cannot be checked."""
        started = time.perf_counter()
        data = snap.text.encode("utf-8", "surrogatepass")
        self._refuse(snap, data)
        language = resolve_language(snap.language_id, snap.path, data[:256])
        key = regions.digest(f"{language}\0{snap.text}")
        with self._lock:
            last = self._documents.get(snap.uri)
        if last is not None and last[0] == key:  # unchanged (a save, an undo): nothing to do
            return Outcome(language, last[1].matches, regions=last[1].regions)
        outcome = self._check(snap.text, language)
        outcome.elapsed_ms = round((time.perf_counter() - started) * 1000.0, 3)
        if not outcome.notes:
            with self._lock:
                self._documents[snap.uri] = (key, outcome)
        return outcome

    def _check(self, text: str, language: str) -> Outcome:
        parts = regions.split(text, language, big=2 * self.min_tokens)
        todo = [r for r in parts if self._cached(language, r) is None]
        outcome = Outcome(language, [], regions=len(parts), attributed=len(todo))
        answers = self._attribute(todo, language) if todo else []
        for region, answer in zip(todo, answers, strict=True):
            if isinstance(answer, QueryError):
                outcome.notes.append(f"lines {region.first}-{region.last}: {answer}")
                continue
            self._store(language, region, answer["matches"])
        found: list[dict[str, Any]] = []
        for region in parts:
            cached = self._cached(language, region) or []
            found += regions.shift(cached, region.first - 1)
        outcome.matches = regions.merge_adjacent(found)
        return outcome

    def forget(self, uri: str) -> None:
        """Drop what is known of a closed document (region results stay cached)."""
        with self._lock:
            self._documents.pop(uri, None)

    def _refuse(self, snap: Snapshot, data: bytes) -> None:
        name = (snap.path or snap.uri).rsplit("/", 1)[-1]
        limit = self.options.max_document_bytes
        if len(data) > limit:
            raise DocumentProblem(
                "size",
                f"attribution: {name} is too large to check ({len(data):,} bytes; "
                f"the limit is {limit:,}, set by maxDocumentBytes)",
            )
        if "\x00" in snap.text[:8192]:
            raise DocumentProblem("binary", f"attribution: {name} looks binary (NUL bytes)")

    def _attribute(self, todo: list[regions.Region], language: str) -> list[Any]:
        try:
            return self.backend.attribute_many([(r.text, language) for r in todo])
        except (OSError, ValueError) as err:  # no index, a broken index, an unreachable service
            raise DocumentProblem(
                "backend", f"attribution: {self.backend.describe()}: {err}"
            ) from err

    def _cached(self, language: str, region: regions.Region) -> list[dict[str, Any]] | None:
        if region.max_tokens < self.min_tokens:
            return []
        key = (language, region.digest)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
            return found

    def _store(self, language: str, region: regions.Region, matches: list[dict[str, Any]]) -> None:
        with self._lock:
            self._cache[(language, region.digest)] = matches
            while len(self._cache) > CACHE_REGIONS:
                self._cache.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self._documents.clear()
