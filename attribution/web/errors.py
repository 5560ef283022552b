"""The one place where exceptions become JSON errors: {"error": {"code", "message"}}.

Bad input is always a 4xx naming the problem; anything unexpected is logged with its
traceback and answered with a bare 500 (never a stack trace).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from attribution.core.config import ConfigError
from attribution.core.languages import UnknownLanguageError
from attribution.core.search import QueryError
from attribution.index.writer import IndexBusyError
from attribution.web.deadline import QueryTimeout

log = logging.getLogger("attribution.web")

# werkzeug's HTTP errors, by status: our code names for them.
_HTTP_CODES = {
    400: "malformed",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
}


class ApiError(Exception):
    """An error answer: HTTP status, a short code and a message for people."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


class AnswerError(RuntimeError):
    """An answer that is not of its documented shape (found only with
    ATTRIBUTION_VALIDATE_RESPONSES): a bug of the service, logged and answered 500."""


# Exceptions that describe a bad request or an expired budget (never a bug).
EXPECTED: tuple[type[Exception], ...] = (
    ApiError,
    ValidationError,
    QueryError,
    UnknownLanguageError,
    ConfigError,
    QueryTimeout,
)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def validation_message(err: ValidationError, limit: int = 5) -> str:
    """Pydantic errors as one line: `items.0.code: Input should be a valid string; ...`."""
    parts = []
    for e in err.errors()[:limit]:
        where = ".".join(str(p) for p in e["loc"]) or "body"
        parts.append(f"{where}: {e['msg']}")
    more = len(err.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def to_api_error(err: BaseException) -> ApiError:
    """The answer for an exception (the mapping of the whole service)."""
    if isinstance(err, ApiError):
        return err
    if isinstance(err, ValidationError):
        return ApiError(422, "invalid_request", validation_message(err))
    if isinstance(err, QueryError | UnknownLanguageError | ConfigError):
        return ApiError(422, "unprocessable", str(err))
    if isinstance(err, QueryTimeout):
        return ApiError(503, "timeout", str(err) or "the query ran out of time")
    if isinstance(err, IndexBusyError):
        return ApiError(503, "busy", str(err), {"Retry-After": "5"})
    if isinstance(err, HTTPException) and err.code and err.code < 500:
        code = _HTTP_CODES.get(err.code, "bad_request")
        headers = {k: v for k, v in err.get_headers() if k.lower() != "content-type"}
        return ApiError(err.code, code, err.description or err.name, headers)
    log.exception("unexpected error", exc_info=err)
    return ApiError(500, "internal", "internal error; the service log has the details")


def respond(err: ApiError) -> Response:
    resp = jsonify(error_body(err.code, err.message))
    resp.status_code = err.status
    resp.headers.update(err.headers)
    return resp


def register(app: Flask) -> None:
    """Install the mapping for every exception a request can raise."""

    @app.errorhandler(Exception)
    def _handle(err: Exception) -> Response:
        return respond(to_api_error(err))
