"""Request and answer shapes of the HTTP API (SPEC.md). Requests are validated with them
(api.Endpoints), answers too with ATTRIBUTION_VALIDATE_RESPONSES (as in the tests), and
spectree generates /openapi.json from them: the description cannot drift from the code."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

_STRICT = ConfigDict(strict=True)
_OPEN = ConfigDict(extra="allow")  # answers may grow fields (SPEC: additions welcome)


# --- requests ---------------------------------------------------------------------------
class AttributeRequest(BaseModel):
    """One snippet to attribute."""

    model_config = _STRICT
    code: str = Field(min_length=1, description="the snippet (source text)")
    language: str | None = Field(
        None, max_length=64, description="language name; omitted: from filename or guessed"
    )
    filename: str | None = Field(None, max_length=4096, description="file name, for the language")
    top: int | None = Field(None, ge=1, le=100, description="matches to return (default 10)")
    min_tokens: int | None = Field(
        None, ge=1, le=100_000, description="evidence a match needs, in tokens"
    )
    origins_offset: int = Field(
        0, ge=0, description="list each match's copies from this one on (paging)"
    )
    origins_limit: int | None = Field(
        None, ge=0, le=10_000, description="copies listed per match (default 20)"
    )


class BatchItem(BaseModel):
    model_config = _STRICT
    id: str = Field(min_length=1, max_length=256)
    code: str = Field(min_length=1)
    language: str | None = Field(None, max_length=64)
    filename: str | None = Field(None, max_length=4096)


class BatchRequest(BaseModel):
    """Several snippets (at most ATTRIBUTION_MAX_BATCH, 100 by default: 413 beyond)."""

    model_config = _STRICT
    items: list[BatchItem]
    top: int | None = Field(None, ge=1, le=100)


class SourceQuery(BaseModel):
    lines: str | None = Field(
        None,
        pattern=r"^[0-9]{1,9}(-[0-9]{1,9})?$",
        description="line range `a-b` (1-based, inclusive) or one line; omitted: the file",
    )


class LookupQuery(BaseModel):
    """Exactly one of repo and author."""

    repo: str | None = Field(None, min_length=1, max_length=512)
    author: str | None = Field(None, min_length=1, max_length=512)
    follow: bool = Field(True, description="also remove copies of the content elsewhere")


class OptOutRequest(BaseModel):
    """At least one of repo (a repository name) and author (a name or an e-mail)."""

    model_config = _STRICT
    repo: str | None = Field(None, min_length=1, max_length=512)
    author: str | None = Field(None, min_length=1, max_length=512)


# --- answers ----------------------------------------------------------------------------
class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail


class SourceInfo(BaseModel):
    model_config = _OPEN
    id: str
    repo_name: str
    path: str
    blob_id: str
    swhid: str
    url: str | None
    license: str
    license_type: str
    authors: list[str]
    copyright: list[str]
    obligations: list[str] = []


class Span(BaseModel):
    model_config = _OPEN
    query_lines: list[int]
    source_lines: list[int]
    tokens: int


class Origin(BaseModel):
    """Another copy of the matched code, with its own lines."""

    model_config = _OPEN
    id: str
    repo_name: str
    path: str
    blob_id: str
    url: str | None
    license: str
    license_type: str
    authors: list[str]
    copyright: list[str]
    kind: str = Field(description="module, bundle, dist, compiled, minified or generated")
    source_lines: list[int]
    spans: list[Span]


class Match(BaseModel):
    model_config = _OPEN
    source: SourceInfo
    match_type: str
    query_lines: list[int]
    source_lines: list[int]
    spans: list[Span]
    coverage: float
    score: float
    copies: int = Field(description="every indexed copy of the matched code")
    licenses: dict[str, int] = Field(description="copies under each license")
    origins: list[Origin] = Field(description="copies after the first, from origins_offset")
    origins_offset: int = 0


class QueryInfo(BaseModel):
    model_config = _OPEN
    language: str
    lines: int
    tokens: int


class AttributeResponse(BaseModel):
    """One query's result (SPEC: the same shape as `check --format json`)."""

    model_config = _OPEN
    query: QueryInfo
    verdict: str
    matches: list[Match]
    elapsed_ms: float


class BatchResult(BaseModel):
    """A result with its item id, or the item's error (the other items still answer)."""

    model_config = _OPEN
    id: str
    query: QueryInfo | None = None
    verdict: str | None = None
    matches: list[Match] | None = None
    elapsed_ms: float | None = None
    error: ErrorDetail | None = None


class BatchResponse(BaseModel):
    results: list[BatchResult]


class SourceExcerpt(BaseModel):
    """Source metadata and a redacted excerpt of its lines."""

    source: SourceInfo
    language: str | None
    lines: list[int] = Field(description="[first, last] line of the excerpt; [0, 0] if none")
    total_lines: int
    truncated: bool = Field(description="the range was cut at ATTRIBUTION_MAX_EXCERPT_LINES")
    excerpt: str
    redactions: dict[str, int] = Field(description="secrets of each kind hidden in the excerpt")


class RepoCount(BaseModel):
    name: str
    url: str | None
    sources: int


class LookupResponse(BaseModel):
    query: dict[str, str]
    indexed: bool
    sources: int
    blobs: int
    repo_count: int
    repos: list[RepoCount]
    licenses: dict[str, int]
    paths: list[dict[str, str]] = Field(default_factory=list)


class RemovalInfo(BaseModel):
    rule: str
    sources: int
    blobs: int
    repos: int
    copies: int = 0
    copy_repos: int = 0
    near_copies: int = 0


class OptOutResponse(BaseModel):
    removed: list[RemovalInfo]
    sources: int = Field(description="sources removed by this request")
    copies: int = Field(0, description="of which copies of the content in other repositories")
    follow: bool = True


class StatsResponse(BaseModel):
    model_config = _OPEN
    sources: int
    blobs: int
    repos: int
    segments: int
    languages: dict[str, int]
    licenses: dict[str, int]
    license_types: dict[str, int]
    disk_bytes: dict[str, int]


class Health(BaseModel):
    status: str


class LanguageInfo(BaseModel):
    name: str
    extensions: list[str]
    line_comment: str | None
    block_comment: list[str] | None


class LanguagesResponse(BaseModel):
    languages: list[LanguageInfo]
    aliases: dict[str, str]
