"""`index build --engine ray`: the build's units of work run as Ray tasks.

Workers read their unit of the input (index/units.py), tokenize, fingerprint and write
one segment per shard with the local build's own code (build.Builder); per shard, a task
then merges those segments into the shard's one segment (maintain.copy_segment: stored
bytes, never re-tokenized, each content once, in blob id order). The driver plans units,
collects small reports and commits the manifest; it never holds the corpus or its
fingerprints. Every process, the driver's included, needs the index directory on a file
system they share.

A task that dies is retried by Ray (`max_retries`): a unit writes under a temporary name
and renames its finished directory into place, so a retry starts clean and the result is
the same. An interrupted build, run again with the same input, config and shards, reuses
the units already finished (under INDEX/.build/<key>/).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from attribution.core.config import Config
from attribution.index.build import Builder, BuildReport
from attribution.index.format import read_json, write_json
from attribution.index.guards import Guard
from attribution.index.ingest import IngestLimits, Skipped
from attribution.index.maintain import copy_segment
from attribution.index.optout import OptOut
from attribution.index.segment import Segment, SegmentWriter
from attribution.index.shards import ShardedWriter, check_count
from attribution.index.shards import prepare as prepare_shards
from attribution.index.units import Unit, plan, plan_key, read_unit
from attribution.index.writer import (
    IndexShrinkError,
    check_buildable,
    locked,
    new_segment,
    publish,
)

BUILD_DIR = ".build"
DONE_FILE = "DONE.json"
TASK_RETRIES = 3


class RayUnavailable(RuntimeError):
    """Ray is not installed, or its cluster cannot be reached (the address is named)."""


def connect(address: str | None, num_cpus: int | None = None) -> Any:
    """The ray module, connected: to the cluster at `address`, to a running session, or
    to a new local one."""
    try:
        import ray
    except ImportError:
        raise RayUnavailable("--engine ray needs Ray: pip install 'attribution[ray]'") from None
    if address and address != "auto":
        _check_reachable(address)
    if ray.is_initialized():
        return ray
    try:
        with _quiet_stderr(bool(address)):  # Ray's own retry lines: one error line instead
            ray.init(address=address, num_cpus=None if address else num_cpus, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise RayUnavailable(f"cannot connect to the Ray cluster at {address}: {err}") from None
    return ray


@contextmanager
def _quiet_stderr(quiet: bool) -> Iterator[None]:
    """While connecting to a cluster, send file descriptor 2 (where Ray's native code
    logs each failed attempt) to /dev/null."""
    if not quiet:
        yield
        return
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _check_reachable(address: str) -> None:
    """Fail at once, naming the address, when nothing listens there (Ray itself retries
    for a minute before it gives up)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise RayUnavailable(f"bad Ray address {address!r}: expected HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as err:
        raise RayUnavailable(
            f"cannot reach the Ray cluster at {address}: {err.strerror or err}"
        ) from None


def _unit_task(
    unit: Unit,
    work: str,
    cfg: Config,
    n_shards: int,
    limits: IngestLimits,
    opt_out: OptOut,
    die_once: int | None = None,
) -> dict[str, Any]:
    """Build one unit into work/unit-N/shard-S segments; return its report."""
    final = Path(work) / unit.name
    if (final / DONE_FILE).exists():
        return dict(read_json(final / DONE_FILE))
    tmp = Path(work) / f".tmp-{unit.name}-{uuid.uuid4().hex[:8]}"
    writers = [
        SegmentWriter(tmp / f"shard-{s}", cfg.sketch_perm // 8) for s in range(max(n_shards, 1))
    ]
    writer = ShardedWriter(writers)
    try:
        report = Builder(writer, cfg, 1, opt_out).run(read_unit(unit, limits))
        writers[0].finish()
        if die_once == unit.number and _first_attempt(Path(work), unit):
            os._exit(1)  # a worker lost halfway: one shard's segment written, no DONE
        for w in writers[1:]:
            w.finish()
    except BaseException:
        writer.abort()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    summary = _report_json(report, opt_out)
    write_json(tmp / DONE_FILE, summary)
    try:
        os.rename(tmp, final)
    except OSError:  # another attempt of the same unit finished first: same content
        shutil.rmtree(tmp, ignore_errors=True)
    return summary


def _first_attempt(work: Path, unit: Unit) -> bool:
    mark = work / f".attempted-{unit.name}"
    if mark.exists():
        return False
    mark.touch()
    return True


def _report_json(report: BuildReport, opt_out: OptOut) -> dict[str, Any]:
    out = asdict(report)
    out["examples"] = [asdict(e) for e in report.examples[:20]]
    out["excluded"] = sorted(opt_out.excluded)
    return out


def _merge_task(root: str, shard: int | None, units: list[str], sketch_bytes: int) -> str:
    """One shard's segment (the index's only one when not sharded) from its units'."""
    writer = new_segment(Path(root), sketch_bytes, shard)
    try:
        for unit in units:
            seg = Segment(Path(unit) / f"shard-{shard or 0}")
            try:
                copy_segment(writer, seg, lambda sid: False)
            finally:
                seg.close()
        writer.finish()
    except BaseException:
        writer.abort()
        raise
    return str(writer.path)


def build_on_ray(
    specs: list[str],
    root: str | Path,
    *,
    config: Config | None = None,
    shards: int | None = None,
    address: str | None = None,
    limits: IngestLimits | None = None,
    opt_out: OptOut | None = None,
    unit_rows: int | None = None,
    num_cpus: int | None = None,
    die_once: int | None = None,
    shrink: bool = False,
) -> BuildReport:
    """Build a new index (of `shards` shards; None: unsharded) from SOURCEs on Ray, with
    the local build's promises (guards.py): nothing indexed leaves the index as it was,
    fewer sources need `shrink`, the opt-outs kept with the index are honoured.

    `die_once` (for tests of retries): the first attempt of that unit's task kills its
    worker process halfway through writing, as a machine lost mid-task would."""
    ray = connect(address, num_cpus)
    root = Path(root).resolve()
    cfg = config or Config()
    n = check_count(shards) if shards is not None else 0
    given = opt_out or OptOut()
    check_buildable(root)
    with locked(root):
        guard = Guard.take(root)
        report, units = _run_units(ray, specs, root, cfg, n, limits, guard.rules(given),
                                   unit_rows, die_once)  # fmt: skip
        try:
            if guard.allows(report, shrink):
                _commit(ray, root, cfg, n, units)
                report.published = True
        except IndexShrinkError:
            shutil.rmtree(root / BUILD_DIR, ignore_errors=True)  # refused: as it was
            raise
        shutil.rmtree(root / BUILD_DIR, ignore_errors=True)
    report.blobs = blob_count(root) if report.published else 0
    guard.reapply(report, given)
    return report


def _run_units(
    ray: Any,
    specs: list[str],
    root: Path,
    cfg: Config,
    n: int,
    limits: IngestLimits | None,
    rules: OptOut,
    unit_rows: int | None,
    die_once: int | None,
) -> tuple[BuildReport, list[Path]]:
    """Build every unit not already finished (by an interrupted run) into INDEX/.build:
    the summed report, and the units' directories in order."""
    units = plan(specs, unit_rows) if unit_rows else plan(specs)
    extra: dict[str, Any] = {"config": cfg.build_dict(), "shards": n}
    if rules:  # other opt-outs, other units: never resume units built without them
        extra["opt_out"] = _rules_key(rules)
    work = root / BUILD_DIR / plan_key(specs, units, extra)
    work.mkdir(parents=True, exist_ok=True)
    done = [u for u in units if (work / u.name / DONE_FILE).exists()]
    todo = [u for u in units if u not in done]
    task = ray.remote(max_retries=TASK_RETRIES)(_unit_task)
    args = (str(work), cfg, n, limits or IngestLimits(), rules, die_once)
    reports = [read_json(work / u.name / DONE_FILE) for u in done]
    reports += ray.get([task.remote(u, *args) for u in todo])
    report = _total(reports, rules)
    report.resumed_units = len(done)
    return report, [work / u.name for u in units]


def _rules_key(rules: OptOut) -> list[Any]:
    """An opt-out list's rules, as text, for a build's work key."""
    parts = [rules.rules(), sorted(rules.kept_blobs), sorted(rules.kept_sources)]
    return [*parts, sorted(rules.blobs), sorted(rules.paths), sorted(rules.path_blobs)]


def _commit(ray: Any, root: Path, cfg: Config, n: int, units: list[Path]) -> None:
    """Merge the units' segments into one per shard, then publish them as the index."""
    if n:
        prepare_shards(root, n, cfg.build_dict())
    merge = ray.remote(max_retries=TASK_RETRIES)(_merge_task)
    dirs = [str(u) for u in units]
    shard_ids = list(range(n)) if n else [None]
    sketch_bytes = cfg.sketch_perm // 8
    paths = ray.get([merge.remote(str(root), s, dirs, sketch_bytes) for s in shard_ids])
    publish(root, [Path(p) for p in paths], cfg.build_dict(), replace=True, n_shards=n)


def _total(reports: list[dict[str, Any]], opt_out: OptOut | None) -> BuildReport:
    """The build's report: the units' summed; blobs counted once (as merged)."""
    total = BuildReport()
    for r in reports:
        total.files += r["files"]
        total.source_bytes += r["source_bytes"]
        total.opted_out += r["opted_out"]
        for reason, count in r["skipped"].items():
            total.skipped[reason] = total.skipped.get(reason, 0) + count
        total.examples += [Skipped(**e) for e in r["examples"]][: 200 - len(total.examples)]
        if opt_out is not None:
            opt_out.excluded.update(r["excluded"])
    return total


def blob_count(root: Path) -> int:
    """Blobs in the index's segments (after a build: each content once)."""
    from attribution.index.format import read_manifest
    from attribution.index.shards import segment_path

    manifest = read_manifest(root)
    return sum(
        int(json.loads((segment_path(root, n) / "SEGMENT.json").read_text())["blobs"])
        for n in manifest["segments"]
    )
