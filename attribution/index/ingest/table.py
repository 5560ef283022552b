"""Tables in The Stack's schema: .parquet (streamed with pyarrow) and .jsonl[.gz].

Skipped rows are reported as `<repo_name>/<path>`; a broken table or line as the file.
Input is bounded: a compressed .jsonl.gz is read through `bounded.py` (byte budget
max_archive_bytes, ratio max_ratio), a line nested deeper than jsondepth.MAX_DEPTH or
longer than a cap is skipped with one line, and a parquet table whose columns are not
of the expected types (strings, lists of strings), or whose row groups declare more
expansion than max_ratio, is refused before its pages are read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

from attribution.core import jsondepth
from attribution.index.ingest.naming import web_link

from .bounded import RATIO_FLOOR, ExpansionLimit, buffered, open_decompressed
from .examine import READ_ERRORS, Context, Declared, bytes_reader, examine, one_line
from .filters import ignored_dir, is_metadata_file, vendored_dir
from .records import EMPTY_METADATA, IngestLimits, Repository, Skipped, SourceFile

# Each logical column: the names it may have (The Stack v2 first, then v1).
REQUIRED = {
    "content": ("content",),
    "repo_name": ("repo_name", "max_stars_repo_name"),
    "path": ("path", "max_stars_repo_path"),
}
OPTIONAL = {
    "licenses": ("detected_licenses", "max_stars_repo_licenses"),
    "authors": ("authors",),
    "repo_url": ("repo_url",),
    "language": ("language",),
}
LIST_COLUMNS = frozenset({"licenses", "authors"})  # a string or a list of strings
_EXPECTED = "a string (licenses, authors: a string or a list of strings)"
BATCH_ROWS = 256
_PARQUET_BUFFER = 1 << 20  # read pages through a buffer, not whole column chunks
_JSONL_SLACK = 64 * 1024


def resolve_columns(present: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """Map logical columns to the table's names; also the required ones missing."""
    names = set(present)
    found: dict[str, str] = {}
    for logical, options in (REQUIRED | OPTIONAL).items():
        name = next((n for n in options if n in names), None)
        if name:
            found[logical] = name
    missing = ["/".join(REQUIRED[c]) for c in REQUIRED if c not in found]
    return found, missing


def _missing_detail(missing: list[str], present: Iterable[str]) -> str:
    return f"missing column(s) {', '.join(missing)}; present: {', '.join(sorted(present))}"


class _Rows:
    """Turns table rows into SourceFile/Skipped, one Repository per repo name."""

    def __init__(self, ctx: Context, table: str) -> None:
        self._ctx = ctx
        self._table = table
        self._repos: dict[str, Repository] = {}

    def item(self, row: Mapping[str, Any], where: str) -> SourceFile | Skipped | None:
        """One row (logical column -> value) as an item; None for metadata/ignored rows."""
        repo_name, path, content = row.get("repo_name"), row.get("path"), row.get("content")
        if not isinstance(repo_name, str) or not isinstance(path, str) or not repo_name:
            detail = f"{where}: no repo name or path"
            return self._ctx.skip(f"{self._table}:{where}", "unreadable", detail)
        path = path.lstrip("/").removeprefix("./")
        at = f"{repo_name}/{path}"
        if ignored_dir(path) or is_metadata_file(path):
            return None
        if vendored_dir(path):
            return self._ctx.vendored(path, f"{repo_name}/")
        if not isinstance(content, str):
            return self._ctx.skip(at, "empty", f"{where}: no text content")
        data = content.encode("utf-8", "replace")
        repo = self._repo(repo_name, row.get("repo_url"))
        declared = Declared(
            _strings(row.get("licenses")),
            _strings(row.get("authors")),
            _string(row.get("language")),
        )
        return examine(self._ctx, repo, path, at, len(data), bytes_reader(data), declared)

    def _repo(self, name: str, url: Any) -> Repository:
        """The repository of a name; its URL is the first row's repo_url."""
        repo = self._repos.get(name)
        if repo is None:
            repo = self._repos[name] = Repository(name, web_link(url), EMPTY_METADATA)
        return repo


def _strings(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if v is not None)
    return None


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def read_parquet(source: str, path: str, limits: IngestLimits) -> Iterator[SourceFile | Skipped]:
    """Stream a .parquet table in batches, reading only the needed columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ctx = Context(source, limits)
    errors = (pa.ArrowException, *READ_ERRORS)
    try:
        table = pq.ParquetFile(path, buffer_size=_PARQUET_BUFFER, pre_buffer=False)
    except errors as e:
        yield ctx.skip(path, "unreadable", f"not a readable parquet file: {one_line(e)}")
        return
    with table:
        present = table.schema_arrow.names
        columns, missing = resolve_columns(present)
        if missing:
            yield ctx.skip(path, "unreadable", _missing_detail(missing, present))
            return
        wanted = {name: logical for logical, name in columns.items()}
        refused = _parquet_problem(table, wanted, limits)
        if refused:
            yield ctx.skip(path, *refused)
            return
        try:
            yield from _parquet_items(table, wanted, _Rows(ctx, path))
        except errors as e:
            detail = f"parquet file broken while reading: {one_line(e)}"
            yield ctx.skip(path, "unreadable", detail)


def _parquet_problem(
    table: Any, wanted: dict[str, str], limits: IngestLimits
) -> tuple[str, str] | None:
    """(reason, detail) when a column has an unexpected type or a row group declares more
    expansion than the limits allow; None when the table may be read."""
    import pyarrow as pa

    for name in wanted:
        kind = table.schema_arrow.field(name).type
        fits = _is_text(kind) or pa.types.is_null(kind)
        if not fits and not (wanted[name] in LIST_COLUMNS and _is_text_list(kind)):
            return "unreadable", f"column {name} has type {kind}; expected {_EXPECTED}"
    meta = table.metadata
    for group in range(meta.num_row_groups):
        packed, size = _row_group_sizes(meta.row_group(group), wanted)
        if size > limits.max_archive_bytes or (
            size > RATIO_FLOOR and size > max(packed, 1) * limits.max_ratio
        ):
            detail = (
                f"row group {group} declares {packed} -> {size} bytes "
                f"(over max_ratio={limits.max_ratio} or max_archive_bytes)"
            )
            return "limit", detail
    return None


def _row_group_sizes(group: Any, wanted: dict[str, str]) -> tuple[int, int]:
    """Compressed and uncompressed bytes of the wanted columns of one row group."""
    packed = size = 0
    for i in range(group.num_columns):
        column = group.column(i)
        if column.path_in_schema.split(".", 1)[0] in wanted:
            packed += column.total_compressed_size
            size += column.total_uncompressed_size
    return packed, size


def _is_text(kind: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _is_text_list(kind: Any) -> bool:
    import pyarrow as pa

    is_list = pa.types.is_list(kind) or pa.types.is_large_list(kind)
    return bool(is_list and (_is_text(kind.value_type) or pa.types.is_null(kind.value_type)))


def _parquet_items(table: Any, wanted: dict[str, str], rows: _Rows) -> Iterator[Any]:
    number = 0
    for batch in table.iter_batches(batch_size=BATCH_ROWS, columns=list(wanted)):
        data = {wanted[name]: batch.column(name).to_pylist() for name in batch.schema.names}
        for i in range(batch.num_rows):
            number += 1
            item = rows.item({k: v[i] for k, v in data.items()}, f"row {number}")
            if item is not None:
                yield item


def read_jsonl(source: str, path: str, limits: IngestLimits) -> Iterator[SourceFile | Skipped]:
    """Read a .jsonl or .jsonl.gz table line by line; a bad line is skipped, not fatal."""
    ctx = Context(source, limits)
    try:
        stream = open_decompressed(path, limits.max_archive_bytes, limits.max_ratio)
    except OSError as e:
        yield ctx.skip(path, "unreadable", f"cannot open table: {one_line(e)}")
        return
    try:
        with stream:
            yield from _jsonl_items(ctx, path, buffered(stream))
    except ExpansionLimit as e:
        yield ctx.skip(path, "limit", f"stopped reading the table: {one_line(e)}")
    except READ_ERRORS as e:
        yield ctx.skip(path, "unreadable", f"table broken while reading: {one_line(e)}")


def _jsonl_items(ctx: Context, path: str, stream: IO[bytes]) -> Iterator[SourceFile | Skipped]:
    cap = 8 * ctx.limits.max_file_bytes + _JSONL_SLACK  # JSON escapes can grow text 6x
    rows: _Rows | None = None
    for number, line in _lines(stream, cap):
        where = f"{path}:{number}"
        if line is None:
            yield ctx.skip(where, "too_large", f"line {number}: longer than {cap} bytes")
            continue
        if not line.strip():
            continue
        try:
            row = jsondepth.loads(line)
        except ValueError as e:
            yield ctx.skip(where, "unreadable", f"line {number}: invalid JSON: {one_line(e)}")
            continue
        if not isinstance(row, dict):
            yield ctx.skip(where, "unreadable", f"line {number}: not a JSON object")
            continue
        if rows is None:
            _, missing = resolve_columns(row)
            if missing:
                yield ctx.skip(
                    path, "unreadable", f"line {number}: {_missing_detail(missing, row)}"
                )
                return
            rows = _Rows(ctx, path)
        item = rows.item(_logical(row), f"line {number}")
        if item is not None:
            yield item


def _logical(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for logical, options in (REQUIRED | OPTIONAL).items():
        out[logical] = next((row[n] for n in options if n in row), None)
    return out


def _lines(stream: IO[bytes], cap: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) pairs; None for a line longer than cap (its rest is drained)."""
    number = 0
    while True:
        line = stream.readline(cap)
        if not line:
            return
        number += 1
        if len(line) >= cap and not line.endswith(b"\n"):
            while (more := stream.readline(cap)) and not more.endswith(b"\n"):
                pass
            yield number, None
            continue
        yield number, line
