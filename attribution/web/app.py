"""The Flask app factory: the API of SPEC.md, the page at `/`, one error mapping."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, Request, Response, request
from flask.json.provider import DefaultJSONProvider
from pydantic_core import PydanticSerializationError, to_json

from attribution.core import jsondepth
from attribution.web import api, errors
from attribution.web.errors import ApiError
from attribution.web.service import Service
from attribution.web.settings import Settings

STATIC = Path(__file__).parent / "static"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# The page loads nothing from elsewhere; the browser is told so.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class JsonRequest(Request):
    """A request whose malformed JSON body is a 400 that says what is wrong with it."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        detail = f": {e}" if e else ""
        raise ApiError(400, "malformed", f"the body is not valid JSON{detail}")

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        try:
            jsondepth.check_depth(self.get_data(cache=True))
        except jsondepth.JsonTooDeep as err:
            if silent:
                return None
            raise ApiError(400, "malformed", f"the body is not valid JSON: {err}") from None
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            raise ApiError(
                400, "malformed", "the body is not valid JSON: nested too deeply"
            ) from None


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON out, encoded by pydantic_core (Rust) instead of the json module, about
    3x faster (38 against 132 us for a 12 KB answer) and to the same bytes for what the
    service answers, plain JSON types: compact, keys in order, non-ASCII escaped; floats
    are the same shortest round-trip digits (written alike down to 1e-4; scores have 4
    decimals). What pydantic_core refuses (a lone surrogate) goes to json.dumps, as does
    any other call (indent, other options)."""

    sort_keys = False
    compact = True  # response() always writes compact JSON

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs != {"separators": _COMPACT}:
            return super().dumps(obj, **kwargs)
        return self._encode(obj).decode("ascii")

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        return Response(self._encode(obj) + b"\n", mimetype=self.mimetype)

    def _encode(self, obj: Any) -> bytes:
        try:
            return to_json(obj, ensure_ascii=True, inf_nan_mode="constants")
        except PydanticSerializationError:
            return super().dumps(obj, separators=_COMPACT).encode("ascii")


_COMPACT = (",", ":")


def create_app(
    index_dir: str | os.PathLike[str] | None = None,
    *,
    admin_token: str | None = None,
    read_token: str | None = None,
    **settings: Any,
) -> Flask:
    """The service over one index. Arguments win over ATTRIBUTION_* variables (see
    web/settings.py); the index is opened here, once, and re-opened when it changes."""
    config = Settings.load(index_dir, admin_token=admin_token, read_token=read_token, **settings)
    app = Flask("web", static_folder=str(STATIC), static_url_path="/static")
    app.json = JsonProvider(app)
    app.request_class = JsonRequest
    app.config["MAX_CONTENT_LENGTH"] = config.max_body
    svc = Service(config)
    app.extensions["attribution"] = svc
    errors.register(app)
    spec = api.make_spec()
    # not spec.register(app): its doc pages load from a CDN
    api.register(app, spec, validate_responses=config.validate_responses)

    @app.before_request
    def _before() -> None:
        api.check_access(svc)
        if request.endpoint in api.JSON_ENDPOINTS:
            _parse_json_body()

    @app.after_request
    def _after(resp: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            resp.headers.setdefault(name, value)
        return resp

    return app


def _parse_json_body() -> None:
    """400 for a body that is not JSON, before validation turns it into a 422."""
    if request.mimetype in _FORM_TYPES:
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    if not request.get_data(cache=True):
        raise ApiError(400, "malformed", "empty body; send a JSON object")
    request.get_json(force=True)  # raises BadRequest (400) when malformed; the result is cached
