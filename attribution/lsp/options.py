"""Settings of the language server, from the client's initializationOptions: frozen,
validated once; every bad field is named, and falls back to its default."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from lsprotocol import types

LICENSE_TYPES = ("permissive", "weak-copyleft", "copyleft", "proprietary", "unknown")
SEVERITIES: dict[str, types.DiagnosticSeverity | None] = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
    "off": None,  # no diagnostic for this license type
}
DEFAULT_SEVERITY = (
    ("permissive", "information"),
    ("weak-copyleft", "warning"),
    ("copyleft", "error"),
    ("proprietary", "error"),
    ("unknown", "warning"),
)
# initializationOptions key -> field
_KEYS = {
    "debounceMs": "debounce_ms",
    "severity": "severity",
    "minTokens": "min_tokens",
    "top": "top",
    "maxDocumentBytes": "max_document_bytes",
    "maxCandidates": "max_candidates",
}


@dataclass(frozen=True)
class Options:
    """What the client may set (initializationOptions, camelCase keys)."""

    debounce_ms: int = 300  # quiet time after an edit before the document is checked
    severity: tuple[tuple[str, str], ...] = DEFAULT_SEVERITY  # license type -> severity name
    min_tokens: int | None = None  # evidence a match needs (None: the index's setting)
    top: int = 10  # matches kept per region
    max_document_bytes: int = 1_000_000  # larger documents are not checked
    # blobs aligned per region (null: the index's, 12): fewer than `check` keeps an edit's p99
    # under 100 ms; the best source is found all the same, weaker near-copies may go unlisted
    max_candidates: int | None = 6

    def severity_of(self, license_type: str) -> types.DiagnosticSeverity | None:
        names = dict(self.severity)
        return SEVERITIES[names.get(license_type, names.get("unknown", "warning"))]

    @classmethod
    def from_client(cls, value: Any) -> tuple[Options, list[str]]:
        """Options from initializationOptions, and the problems found (bad fields keep
        their defaults). Unknown keys are problems too: they are usually typos."""
        if value is None:
            return cls(), []
        if not isinstance(value, dict):
            return cls(), [f"initializationOptions must be an object, got {value!r}"]
        problems: list[str] = []
        fields: dict[str, Any] = {}
        for key, raw in value.items():
            name = _KEYS.get(key)
            if name is None:
                problems.append(f"unknown option {key!r}; known: {', '.join(_KEYS)}")
                continue
            parsed, problem = _parse(name, raw)
            if problem:
                problems.append(f"{key}: {problem}")
            else:
                fields[name] = parsed
        return dataclasses.replace(cls(), **fields), problems


def _parse(name: str, raw: Any) -> tuple[Any, str | None]:
    if name == "severity":
        return _parse_severity(raw)
    low = {"debounce_ms": 0, "min_tokens": 1, "top": 1, "max_document_bytes": 1}.get(name, 1)
    if name in ("min_tokens", "max_candidates") and raw is None:
        return None, None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < low:
        return None, f"must be an integer >= {low}, got {raw!r}"
    return raw, None


def _parse_severity(raw: Any) -> tuple[Any, str | None]:
    if not isinstance(raw, dict):
        return None, f"must map license types to severities, got {raw!r}"
    merged = dict(DEFAULT_SEVERITY)
    bad = []
    for kind, level in raw.items():
        if kind not in LICENSE_TYPES:
            bad.append(f"unknown license type {kind!r} (known: {', '.join(LICENSE_TYPES)})")
        elif not isinstance(level, str) or level.lower() not in SEVERITIES:
            bad.append(f"{kind}: {level!r} is not one of {', '.join(SEVERITIES)}")
        else:
            merged[kind] = level.lower()
    if bad:
        return None, "; ".join(bad)
    return tuple(merged.items()), None
