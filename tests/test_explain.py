"""core/explain.py and core/matchtype.py: every copy with its own lines in the right order,
the licenses the copies are under, and match types that mean what they say."""

from __future__ import annotations

from typing import Any

import pytest
from memindex import MemoryIndex

from attribution.core.explain import copies_text, copy_kind, is_repackaging
from attribution.core.search import Source, attribute

FUNCTION = """function mergeDeep(target, source, seen) {
  const keys = Object.keys(source);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const value = source[key];
    if (value && typeof value === 'object' && !seen.has(value)) {
      seen.add(value);
      target[key] = mergeDeep(target[key] || {}, value, seen);
    } else if (value !== undefined) {
      target[key] = value;
    }
  }
  return target;
}
"""
BANNER = "".join(f"// bundle banner line {i}\n" for i in range(10))
MINIFIED = " ".join(line.strip() for line in FUNCTION.splitlines()) + "\n"
# Three contents; the module's content is held by five sources.
COPIES: dict[str, list[tuple[str, str, str]]] = {
    "module.js": [
        ("npm/other", "vendor/merge/index.js", "MIT"),
        ("debian/node-merge", "src/merge.js", "GPL-2.0-or-later"),
        ("npm/merge", "build/merge.js", "MIT"),
        ("npm/merge", "src/merge.js", "MIT"),
        ("npm/merge", "src/merge.generated.js", "MIT"),
    ],
    "bundle.js": [("npm/merge", "merge.bundle.js", "MIT")],
    "min.js": [("npm/merge", "merge.min.js", "MIT")],
}


class CopiesIndex(MemoryIndex):
    """A memory index whose blobs are held by several sources, as a disk index's are."""

    def __init__(self, contents: dict[str, str]) -> None:
        super().__init__(contents)

    def sources(self, blob: int) -> list[Source]:
        return [
            Source(
                id=f"s:{blob:08x}{i:08x}",
                repo_name=repo,
                path=path,
                blob_id=f"{blob:040x}",
                license=lic,
                license_type="copyleft" if lic.startswith("GPL") else "permissive",
            )
            for i, (repo, path, lic) in enumerate(COPIES[self.names[blob]])
        ]


@pytest.fixture(scope="module")
def copies_index() -> CopiesIndex:
    return CopiesIndex(
        {"module.js": FUNCTION, "bundle.js": BANNER + FUNCTION + "\n", "min.js": MINIFIED}
    )


def test_every_copy_with_its_own_lines_in_order(copies_index: CopiesIndex) -> None:
    (m,) = attribute(FUNCTION, copies_index, language="javascript")["matches"]
    first = (m["source"]["repo_name"], m["source"]["path"])
    rest = [(o["repo_name"], o["path"]) for o in m["origins"]]
    assert [first, *rest] == [
        ("npm/merge", "src/merge.js"),  # the original module, upstream
        ("debian/node-merge", "src/merge.js"),  # a distribution's repackaging of it
        ("npm/merge", "merge.bundle.js"),
        ("npm/merge", "build/merge.js"),
        ("npm/merge", "merge.min.js"),
        ("npm/merge", "src/merge.generated.js"),
        ("npm/other", "vendor/merge/index.js"),  # vendored: always last
    ]
    assert m["copies"] == 7 and m["licenses"] == {"MIT": 6, "GPL-2.0-or-later": 1}
    assert copies_text(m) == "7 copies under 2 licenses"
    lines = {o["path"]: o["source_lines"] for o in m["origins"]}
    assert m["source_lines"] == [1, 14] and lines["src/merge.js"] == [1, 14]
    assert lines["merge.bundle.js"] == [11, 24] and lines["merge.min.js"] == [1, 1]
    assert [o["kind"] for o in m["origins"]][1:5] == ["bundle", "dist", "minified", "generated"]
    for o in m["origins"]:
        assert {"license", "license_type", "authors", "copyright", "spans", "id"} <= set(o)


def test_origins_are_paged(copies_index: CopiesIndex) -> None:
    def page(offset: int, limit: int | None) -> list[str]:
        result = attribute(
            FUNCTION,
            copies_index,
            language="javascript",
            origins_offset=offset,
            origins_limit=limit,
        )
        return [o["path"] for o in result["matches"][0]["origins"]]

    every = page(0, None)
    assert len(every) == 6 and page(0, 2) + page(2, 2) + page(4, 10) == every


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("src/a.js", "module"),
        ("lib/a.py", "module"),
        ("dist/a.js", "dist"),
        ("pkg/build/lib/a.py", "dist"),
        ("dist/a.min.js", "minified"),
        ("a-min.js", "minified"),
        ("dist/vue.esm-bundler.js", "bundle"),
        ("umd/a.umd.js", "bundle"),
        ("esm/index.js", "compiled"),
        ("proto/a_pb2.py", "generated"),
        ("api/a.pb.go", "generated"),
        ("generated/a.ts", "generated"),
    ],
)
def test_copy_kinds(path: str, kind: str) -> None:
    assert copy_kind(path) == kind


def test_distributions_repackage() -> None:
    assert is_repackaging("debian/zlib") and not is_repackaging("pypi/debian")


# ---------------------------------------------------------------- match types
PY = """def summarize(records, limit):
    totals = {}
    for record in records:
        name = record.name
        totals[name] = totals.get(name, 0) + record.amount
        if len(totals) > limit:
            break
    ordered = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)
    return [f"{name}: {amount}" for name, amount in ordered]
"""


def kind_of(query: str, source: str = PY) -> str:
    index = MemoryIndex({"lib/summary.py": source})
    result: dict[str, Any] = attribute(query, index, language="python")
    (m,) = result["matches"]
    return str(m["match_type"])


def test_an_exact_copy_with_other_layout_and_comments_is_exact() -> None:
    reformatted = PY.replace("    totals = {}\n", "    # running totals\n    totals = {  }\n")
    assert kind_of(PY) == "exact" and kind_of(reformatted) == "exact"


def test_a_consistent_renaming_is_renamed() -> None:
    renamed = PY.replace("records", "rows").replace("record", "row").replace("totals", "acc")
    assert kind_of(renamed) == "renamed"


def test_a_name_changed_in_one_statement_only_is_near() -> None:
    edited = PY.replace("totals[name] = totals.get(name, 0)", "totals[key] = totals.get(name, 0)")
    assert kind_of(edited) == "near"


def test_a_statement_removed_at_the_end_is_near() -> None:
    source = PY + "\n\ndef other():\n    return None\n"
    shorter = PY.replace('    return [f"{name}: {amount}" for name, amount in ordered]\n', "")
    longer = PY.replace("    return [", "    print(len(ordered))\n    return [")
    assert kind_of(shorter, source) == "near"
    assert kind_of(longer) == "near"
