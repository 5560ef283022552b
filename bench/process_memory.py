"""Where one build process's memory goes, sampled from inside it (the code under test is
the tree first on PYTHONPATH):

    PYTHONPATH=TREE python bench/process_memory.py unit SOURCE SHARDS NUMBER
    PYTHONPATH=TREE python bench/process_memory.py main N

`unit`: one Ray build unit (ray_build._unit_task's work: read_unit -> Builder with one
process -> one SegmentWriter per shard), outside Ray, in this process. `main`: a local
build (jobs 2) of the shared corpus + N synthetic files (build_memory.py's inputs), in
this process. Every 20 s, and at the end, one JSON line: VmHWM and RssAnon from
/proc/self/status, the malloc heap in use and free (glibc mallinfo2, every arena),
pyarrow's pool, and the load average.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (n, ctypes.c_size_t)
        for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                  "uordblks", "fordblks", "keepcost")
    ]  # fmt: skip


_LIBC = ctypes.CDLL("libc.so.6")
_LIBC.mallinfo2.restype = _MallInfo2


def state() -> dict[str, Any]:
    import pyarrow as pa

    out: dict[str, Any] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "RssAnon"):
            out[key + "_mb"] = int(value.split()[0]) // 1024
    m = _LIBC.mallinfo2()
    out["heap_used_mb"] = (m.uordblks + m.hblkhd) >> 20
    out["heap_free_mb"] = m.fordblks >> 20
    out["arrow_mb"] = pa.total_allocated_bytes() >> 20
    out["load"] = round(os.getloadavg()[0], 2)
    return out


def sampled(label: str, work: Any) -> Any:
    """Run work() with a line of state() every 20 s and one at the end."""
    done = threading.Event()
    t0 = time.perf_counter()

    def sample() -> None:
        while not done.wait(20):
            print(json.dumps({"t": round(time.perf_counter() - t0), **state()}), flush=True)

    threading.Thread(target=sample, daemon=True).start()
    result = work()
    done.set()
    end = {"end": label, "seconds": round(time.perf_counter() - t0, 1), **state()}
    print(json.dumps(end), flush=True)
    return result


def unit(source: str, shards: int, number: int) -> None:
    from attribution.core.config import Config
    from attribution.index.build import Builder
    from attribution.index.ingest import IngestLimits
    from attribution.index.optout import OptOut
    from attribution.index.segment import SegmentWriter
    from attribution.index.shards import ShardedWriter
    from attribution.index.units import plan, read_unit

    cfg, the_unit = Config(), plan([source])[number]
    print(json.dumps({"unit": str(the_unit), "tree": os.environ.get("PYTHONPATH")}))
    with tempfile.TemporaryDirectory() as tmp:
        writers = [
            SegmentWriter(Path(tmp) / f"shard-{s}", cfg.sketch_perm // 8) for s in range(shards)
        ]

        def work() -> None:
            Builder(ShardedWriter(writers), cfg, 1, OptOut()).run(
                read_unit(the_unit, IngestLimits())
            )
            for w in writers:
                w.finish()

        sampled("unit", work)


def main_process(n: int) -> None:
    from build_memory import inputs

    from attribution.index.build import build

    ((name, tables),) = inputs([n])
    print(json.dumps({"input": name, "tree": os.environ.get("PYTHONPATH")}))
    out = Path(tempfile.mkdtemp(prefix="process_memory-"))
    try:
        sampled(name, lambda: build(tables, out / "index", jobs=2))
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["unit"]:
        unit(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1:2] == ["main"]:
        main_process(int(sys.argv[2]))
    else:
        sys.exit(__doc__)
