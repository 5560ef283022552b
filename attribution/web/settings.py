"""Service settings: from create_app's arguments, else ATTRIBUTION_* variables, else defaults.

| variable | default | what |
|---|---|---|
| ATTRIBUTION_INDEX | ./.attribution-index | index directory |
| ATTRIBUTION_ADMIN_TOKEN | unset (opt-out disabled) | bearer token of POST /v1/optout |
| ATTRIBUTION_READ_TOKEN | unset (reads are open) | bearer token required by the read endpoints |
| ATTRIBUTION_MAX_BODY | 4194304 | request body limit in bytes (413 beyond) |
| ATTRIBUTION_MAX_BATCH | 100 | items of one POST /v1/batch (413 beyond) |
| ATTRIBUTION_QUERY_TIMEOUT_MS | 10000 | time budget of one query (503 beyond; 0 = none) |
| ATTRIBUTION_BATCH_TIMEOUT_MS | 25000 | time budget of one batch (503 beyond; 0 = none) |
| ATTRIBUTION_ADMIN_RATE | 10/60 | admin requests: burst / refill seconds (429 beyond) |
| ATTRIBUTION_MAX_EXCERPT_LINES | 2000 | lines of one source excerpt |
| ATTRIBUTION_HEAD_TIMEOUT_MS | 10000 | serve: request line and headers in time (408 beyond) |
| ATTRIBUTION_BODY_TIMEOUT_MS | 15000 | serve: the body after the headers (408 beyond) |
| ATTRIBUTION_WRITE_TIMEOUT_MS | 30000 | serve: the answer taken by the client (else closed) |
| ATTRIBUTION_MAX_CONNECTIONS | 1000 | serve: open connections per worker (503 beyond) |
| ATTRIBUTION_VALIDATE_RESPONSES | 0 | 1: every answer checked against schemas.py (500 if not) |
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

PREFIX = "ATTRIBUTION_"


class SettingsError(ValueError):
    """One or more settings are invalid (all of them are named)."""


def digest(token: str) -> str:
    """SHA-256 of a token: the only form in which the service keeps it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Settings:
    """Everything the service is told at start; validated once."""

    index: str = ".attribution-index"
    admin_token_sha256: str | None = None
    read_token_sha256: str | None = None
    max_body: int = 4 * 1024 * 1024
    max_batch: int = 100
    query_timeout_ms: int = 10_000
    batch_timeout_ms: int = 25_000
    admin_burst: int = 10
    admin_refill_s: float = 60.0
    max_excerpt_lines: int = 2000
    # the front of `serve` (web/front.py): deadlines of a connection, and how many
    head_timeout_ms: int = 10_000
    body_timeout_ms: int = 15_000
    write_timeout_ms: int = 30_000
    max_connections: int = 1000
    validate_responses: bool = False

    def __post_init__(self) -> None:
        problems = []
        for name in ("max_body", "max_batch", "admin_burst", "max_excerpt_lines", *_FRONT):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("query_timeout_ms", "batch_timeout_ms", "admin_refill_s"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0, got {getattr(self, name)}")
        if problems:
            raise SettingsError("invalid service settings: " + "; ".join(problems))

    @classmethod
    def load(
        cls,
        index_dir: str | os.PathLike[str] | None = None,
        *,
        admin_token: str | None = None,
        read_token: str | None = None,
        env: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> Settings:
        """Arguments first, then `ATTRIBUTION_*` variables of env (os.environ), then defaults."""
        env = os.environ if env is None else env
        values: dict[str, Any] = _from_env(env)
        admin = admin_token if admin_token is not None else env.get(PREFIX + "ADMIN_TOKEN")
        read = read_token if read_token is not None else env.get(PREFIX + "READ_TOKEN")
        values["admin_token_sha256"] = digest(admin) if admin else None
        values["read_token_sha256"] = digest(read) if read else None
        if index_dir is not None:
            values["index"] = os.fspath(index_dir)
        unknown = sorted(set(overrides) - {f.name for f in fields(cls)})
        if unknown:
            raise SettingsError(f"unknown settings: {', '.join(unknown)}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


_FRONT = ("head_timeout_ms", "body_timeout_ms", "write_timeout_ms", "max_connections")
_NUMBERS = {
    "MAX_BODY": "max_body",
    "MAX_BATCH": "max_batch",
    "QUERY_TIMEOUT_MS": "query_timeout_ms",
    "BATCH_TIMEOUT_MS": "batch_timeout_ms",
    "MAX_EXCERPT_LINES": "max_excerpt_lines",
    **{name.upper(): name for name in _FRONT},
}

_BOOLS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    problems = []
    if env.get(PREFIX + "INDEX"):
        values["index"] = env[PREFIX + "INDEX"]
    for var, name in _NUMBERS.items():
        raw = env.get(PREFIX + var)
        if raw:
            try:
                values[name] = int(raw)
            except ValueError:
                problems.append(f"{PREFIX}{var} must be an integer, got {raw!r}")
    check = env.get(PREFIX + "VALIDATE_RESPONSES", "").strip().lower()
    if check:
        if check not in _BOOLS:
            problems.append(f"{PREFIX}VALIDATE_RESPONSES must be 1 or 0, got {check!r}")
        else:
            values["validate_responses"] = _BOOLS[check]
    rate = env.get(PREFIX + "ADMIN_RATE")
    if rate:
        try:
            burst, _, refill = rate.partition("/")
            values["admin_burst"], values["admin_refill_s"] = int(burst), float(refill or 60)
        except ValueError:
            problems.append(f"{PREFIX}ADMIN_RATE must look like BURST/SECONDS, got {rate!r}")
    if problems:
        raise SettingsError("invalid service settings: " + "; ".join(problems))
    return values
