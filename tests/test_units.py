"""Units of a build (index/units.py): read one by one, a table's units give exactly the
files of the table read whole, in its order, whatever the cut (units across batch and
row group boundaries)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from attribution.index.ingest import IngestLimits, Skipped, SourceFile, read_sources
from attribution.index.units import plan, read_unit

ROWS = 1300  # row groups of 700 and 600 rows, read in batches of 256


def _key(item: SourceFile | Skipped) -> tuple[str, ...]:
    if isinstance(item, Skipped):
        return ("skipped", item.reason, item.path.split(":")[0])
    return ("file", item.repo.name, item.path, item.data.decode())


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    contents = [f"def f{i}(x):\n    return x * {i}\n" for i in range(ROWS)]
    contents[5] = None  # a row without content: skipped, in its place
    rows = pa.table(
        {
            "repo_name": [f"owner/repo{i % 37}" for i in range(ROWS)],
            "path": [f"src/m{i}.py" for i in range(ROWS)],
            "content": contents,
        }
    )
    path = tmp_path_factory.mktemp("units") / "t.parquet"
    pq.write_table(rows, path, row_group_size=700)
    return path


@pytest.mark.parametrize("unit_rows", [97, 300, 700, 10_000])
def test_the_units_of_a_table_read_as_the_whole_table(table: Path, unit_rows: int) -> None:
    limits = IngestLimits()
    units = plan([str(table)], unit_rows)
    assert [u.row_group for u in units[:1]] == [0] and units[-1].row_group == 1
    assert all(0 < u.stop - u.start <= unit_rows for u in units)
    whole = [_key(item) for item in read_sources(str(table), limits)]
    by_unit = [_key(item) for u in units for item in read_unit(u, limits)]
    assert len(whole) == ROWS
    assert by_unit == whole
