"""The HTTP API of SPEC.md: one decorated function per endpoint. /openapi.json is
generated from the pydantic models of web/schemas.py by spectree; requests are validated
against the same models here (`Endpoints`), answers only when asked to."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request
from flask import Response as FlaskResponse
from pydantic import BaseModel, ValidationError
from spectree import Response, SpecTree
from spectree.models import SecureType, SecurityScheme, SecuritySchemeData
from spectree.utils import get_multidict_items

from attribution.core.explain import MAX_ORIGINS
from attribution.index.codec import parse_source_id
from attribution.web import schemas as m
from attribution.web.auth import require
from attribution.web.errors import AnswerError, ApiError, validation_message
from attribution.web.service import Service

ADMIN = "admin_bearer"
READ = "read_bearer"
_ERR = m.ErrorResponse


def errors(*statuses: int) -> dict[str, Any]:
    """Response declarations for error statuses (all share ErrorResponse)."""
    return {f"HTTP_{s}": _ERR for s in statuses}


def make_spec() -> SpecTree:
    return SpecTree(
        "flask",
        title="attribution",
        description="Where was this code copied from? Source files, line ranges, licenses, "
        'authors. Errors are `{"error": {"code", "message"}}` with a 4xx status for bad '
        "requests; 503 when a query runs out of time.",
        version="1",
        mode="strict",
        naming_strategy=lambda model: model.__name__,
        nested_naming_strategy=lambda parent, child: child,
        validation_error_model=_ERR,
        page_templates={},
        security_schemes=[
            SecurityScheme(
                name=ADMIN, data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer")
            ),
            SecurityScheme(
                name=READ, data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer")
            ),
        ],
    )


class Endpoints:
    """`@endpoint(json=..., query=..., resp=..., ...)`: the endpoint is described to
    spectree (its arguments are spectree.validate's), and validated here: the query or the
    JSON body against its model (a 422 naming the fields), given to the function as
    `query=` or `json=`. The answer is checked against its 200 model only with
    `validate_responses` (settings.py; test_web_api sets it, and the schemathesis tests
    check answers against /openapi.json from outside): the service's answers have fixed
    shapes, and spectree's wrapper checked each one and walked it whole for model
    instances, 0.15 ms of a 1 KB answer and 1 ms of a 12 KB one (a match with 20 other
    copies listed). spectree's wrapper is kept for the description only, never called."""

    def __init__(self, spec: SpecTree, validate_responses: bool) -> None:
        self.spec = spec
        self.validate_responses = validate_responses

    def __call__(
        self,
        *,
        query: type[BaseModel] | None = None,
        json: type[BaseModel] | None = None,
        resp: Response,
        **described: Any,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
            documented = self.spec.validate(query=query, json=json, resp=resp, **described)(func)
            answer = resp.find_model(200) if self.validate_responses else None

            @wraps(documented)  # spectree finds its description through __wrapped__
            def view(**kwargs: Any) -> Any:
                if query is not None:
                    kwargs["query"] = _valid(query, get_multidict_items(request.args, query))
                if json is not None:
                    kwargs["json"] = _valid(json, request.get_json(silent=True) or {})
                result = func(**kwargs)
                if answer is not None and not isinstance(result, FlaskResponse):
                    _check_answer(answer, result)
                return result

            return view

        return decorate


def _valid(model: type[BaseModel], data: Any) -> BaseModel:
    """The request's query or body as its model; 422 naming what is wrong."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ApiError(422, "invalid_request", validation_message(err)) from None


def _check_answer(model: Any, answer: Any) -> None:
    try:
        model.model_validate(answer)
    except ValidationError as err:
        where = request.endpoint or request.path
        raise AnswerError(f"{where}: the answer does not match {model.__name__}: "
                          f"{validation_message(err)}") from err  # fmt: skip


def service() -> Service:
    svc: Service = current_app.extensions["attribution"]
    return svc


def register(app: Flask, spec: SpecTree, validate_responses: bool = False) -> None:
    """Add every endpoint of the API to the app."""
    endpoints = Endpoints(spec, validate_responses)
    _queries(app, endpoints)
    _reads(app, endpoints)
    _admin(app, endpoints)
    _meta(app, endpoints, spec)


def _queries(app: Flask, endpoint: Endpoints) -> None:
    read: list[dict[str, list[str]]] = [{}, {READ: []}]  # open, or the read token when set

    @app.post("/v1/attribute")
    @endpoint(
        json=m.AttributeRequest,
        resp=Response(HTTP_200=m.AttributeResponse, **errors(400, 401, 403, 413, 503)),
        tags=["query"],
        security=read,
    )
    def attribute(json: m.AttributeRequest) -> Any:
        """Attribute one snippet.

        The answer is one query's result (SPEC.md): verdict, matches best first, each with
        its source, license, authors, line ranges on both sides, coverage and copies.
        """
        return service().attribute(
            json.code,
            language=json.language,
            filename=json.filename,
            top=json.top,
            min_tokens=json.min_tokens,
            origins=(
                json.origins_offset,
                MAX_ORIGINS if json.origins_limit is None else json.origins_limit,
            ),
        )

    @app.post("/v1/batch")
    @endpoint(
        json=m.BatchRequest,
        resp=Response(HTTP_200=m.BatchResponse, **errors(400, 401, 403, 413, 503)),
        tags=["query"],
        security=read,
    )
    def batch(json: m.BatchRequest) -> Any:
        """Attribute several snippets.

        Each result carries its item's id; an item that cannot be attributed (unknown
        language, empty code, out of time) gets an `error` instead, the others still answer.
        """
        items = [item.model_dump() for item in json.items]
        return {"results": service().batch(items, json.top)}


def _reads(app: Flask, endpoint: Endpoints) -> None:
    read: list[dict[str, list[str]]] = [{}, {READ: []}]  # open, or the read token when set

    @app.get("/v1/sources/<source_id>")
    @endpoint(
        query=m.SourceQuery,
        resp=Response(HTTP_200=m.SourceExcerpt, **errors(401, 403, 404)),
        tags=["sources"],
        security=read,
        path_parameter_descriptions={"source_id": "a source id from a match (`s:` + 16 hex)"},
    )
    def source(source_id: str, query: m.SourceQuery) -> Any:
        """A source's metadata and a redacted excerpt of its lines."""
        _check_source_id(source_id)
        return service().source(source_id, query.lines)

    @app.get("/v1/lookup")
    @endpoint(
        query=m.LookupQuery,
        resp=Response(HTTP_200=m.LookupResponse, **errors(401, 403)),
        tags=["sources"],
        security=read,
    )
    def lookup(query: m.LookupQuery) -> Any:
        """Is my code in this index? Counts and repositories of a repo's or an author's
        live sources (matched as an opt-out would match them)."""
        return service().lookup(query.repo, query.author)

    @app.get("/v1/stats")
    @endpoint(
        resp=Response(HTTP_200=m.StatsResponse, **errors(401, 403)), tags=["meta"], security=read
    )
    def stats() -> Any:
        """Index size, sources, blobs, languages, licenses."""
        return service().stats()

    @app.get("/v1/languages")
    @endpoint(resp=Response(HTTP_200=m.LanguagesResponse), tags=["meta"])
    def languages() -> Any:
        """The languages the engine knows, their file extensions and comment syntax."""
        return service().languages()


MAX_SOURCE_KEY = (1 << 63) - 1  # source keys are 63-bit (index/codec.py source_key)


def _check_source_id(source_id: str) -> None:
    """404 for an id that is malformed or out of the range any source id can have, before
    it reaches the index (an id past 63 bits would overflow SQLite's integers)."""
    try:
        key = parse_source_id(source_id)
    except ValueError as err:
        raise ApiError(404, "not_found", str(err)) from None
    if key > MAX_SOURCE_KEY:
        raise ApiError(404, "not_found", f"no source {source_id!r} in this index")


def _admin(app: Flask, endpoint: Endpoints) -> None:
    @app.post("/v1/optout")
    @endpoint(
        json=m.OptOutRequest,
        resp=Response(HTTP_200=m.OptOutResponse, **errors(400, 401, 403, 429, 503)),
        tags=["admin"],
        security={ADMIN: []},
    )
    def optout(json: m.OptOutRequest) -> Any:
        """Remove a repository's or an author's sources from the index, at once.

        The removal follows content: copies of the removed files in other repositories
        (the identical file, or the same code with other layout or comments) go too, and
        the answer counts them (`copies`); `"follow": false` in the body removes only the
        sources the rules name. Needs the admin bearer token; rate-limited (429 with
        Retry-After beyond).
        """
        return service().opt_out(json.repo, json.author, _follow(json))


def _follow(body: m.OptOutRequest) -> bool:
    """The opt-out's `follow` flag (default true), read from the raw body until the
    request model declares it."""
    declared = getattr(body, "follow", None)
    if isinstance(declared, bool):
        return declared
    raw = request.get_json(silent=True)
    value = raw.get("follow", True) if isinstance(raw, dict) else True
    if not isinstance(value, bool):
        raise ApiError(422, "invalid_request", "follow: Input should be a valid boolean")
    return value


def _meta(app: Flask, endpoint: Endpoints, spec: SpecTree) -> None:
    @app.get("/healthz")
    @endpoint(resp=Response(HTTP_200=m.Health), tags=["meta"])
    def healthz() -> Any:
        """Liveness: the index is open."""
        service().index.get()
        return {"status": "ok"}

    @app.get("/")
    @endpoint(
        resp=Response(HTTP_200=(None, "the web page (text/html)")),
        tags=["page"],
        skip_validation=True,  # a file response: nothing to validate
    )
    def page() -> Any:
        """The web page: paste code, see matches side by side with licenses."""
        assert app.static_folder is not None
        html = (Path(app.static_folder) / "index.html").read_bytes()
        return app.response_class(html, mimetype="text/html")

    @app.get("/openapi.json")
    def openapi_json() -> Any:
        return app.json.response(spec.spec)


def check_access(svc: Service) -> None:
    """Before a request: the read token (when set) for reads, the admin rules for admin."""
    endpoint = request.endpoint or ""
    settings = svc.settings
    if endpoint == "optout":
        svc.admin_bucket.check()
        if settings.admin_token_sha256 is None:
            raise ApiError(403, "forbidden", "opt-out is disabled: no admin token was set")
        require(request, settings.admin_token_sha256, what="opt-out")
    elif endpoint in READ_ENDPOINTS and settings.read_token_sha256 is not None:
        require(request, settings.read_token_sha256, settings.admin_token_sha256, what="reading")


READ_ENDPOINTS = frozenset({"attribute", "batch", "source", "lookup", "stats"})
JSON_ENDPOINTS = frozenset({"attribute", "batch", "optout"})  # POST with a JSON body
