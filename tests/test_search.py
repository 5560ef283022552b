"""The query path against an in-memory index of real code (the standard library)."""

import inspect
import json
import json.decoder as json_decoder
import json.encoder as json_encoder
import textwrap
import textwrap as textwrap_module

import pytest
from memindex import MemoryIndex

from attribution.core.paths import vendored_dir
from attribution.core.search import QueryError, Source, attribute, authority
from attribution.core.tokenize import tokenize

FILES = {
    "stdlib/textwrap.py": inspect.getsource(textwrap_module),
    "stdlib/json/decoder.py": inspect.getsource(json_decoder),
    "stdlib/json/encoder.py": inspect.getsource(json_encoder),
}


@pytest.fixture(scope="module")
def index():
    files = dict(FILES)
    files["vendor/copy/textwrap.py"] = FILES["stdlib/textwrap.py"]  # an identical copy
    return MemoryIndex(files)


def function_source(module, name):
    lines, start = inspect.getsourcelines(getattr(module, name))
    return "".join(lines), start, start + len(lines) - 1


def rename_identifiers(code: str) -> str:
    data = code.encode()
    ts = tokenize(data, "python")
    names = {}
    out, last = bytearray(), 0
    for s, e, kind in zip(ts.start.tolist(), ts.end.tolist(), ts.kind.tolist(), strict=True):
        if kind == 1:
            word = data[s:e]
            names.setdefault(word, b"renamed_%d" % len(names))
            out += data[last:s] + names[word]
            last = e
    return (out + data[last:]).decode()


def test_verbatim_copy_is_exact_with_lines(index):
    code, first, last = function_source(textwrap_module, "dedent")
    result = attribute(code, index)
    assert result["verdict"] == "match"
    top = result["matches"][0]
    assert top["match_type"] == "exact"
    assert top["source"]["path"].endswith("textwrap.py")
    assert abs(top["source_lines"][0] - first) <= 1 and abs(top["source_lines"][1] - last) <= 1
    assert top["coverage"] > 0.95
    json.dumps(result)  # the answer is plain JSON


def test_identical_files_are_one_match_with_copies(index):
    code, _, _ = function_source(textwrap_module, "dedent")
    top = attribute(code, index)["matches"][0]
    assert top["copies"] == 2
    paths = {top["source"]["path"]} | {o["path"] for o in top["origins"]}
    assert paths == {"stdlib/textwrap.py", "vendor/copy/textwrap.py"}
    assert top["source"]["path"] == "stdlib/textwrap.py"  # not the vendored copy


def test_reformatting_and_comments_keep_exact(index):
    code, _, _ = function_source(textwrap_module, "indent")
    changed = "# a model wrote this\n\n" + code.replace(" = ", "  =  ").replace(
        "\n", "  # note\n", 3
    )
    top = attribute(changed, index)["matches"][0]
    assert top["match_type"] == "exact"
    assert top["query_lines"][0] == 3


def test_renaming_every_identifier_keeps_renamed(index):
    code, first, last = function_source(json_decoder, "py_scanstring")
    top = attribute(rename_identifiers(code), index)["matches"][0]
    assert top["match_type"] == "renamed"
    assert top["source"]["path"] == "stdlib/json/decoder.py"
    assert abs(top["source_lines"][0] - first) <= 1 and abs(top["source_lines"][1] - last) <= 1


def test_changed_statements_give_near(index):
    code, first, last = function_source(json_decoder, "JSONObject")
    lines = code.splitlines()
    plain = [
        i
        for i, line in enumerate(lines[2:-2], 2)
        if line.strip()
        and not line.strip().startswith(("if", "el", "try", "except", "for", "return"))
        and line.rstrip().endswith(")")
    ]
    for i in plain[::5]:  # about a fifth of the simple statements become something else
        lines[i] = " " * (len(lines[i]) - len(lines[i].lstrip())) + "counter += 1"
    top = attribute("\n".join(lines) + "\n", index)["matches"][0]
    assert top["match_type"] == "near"
    assert top["source"]["path"] == "stdlib/json/decoder.py"
    assert abs(top["source_lines"][0] - first) <= 1 and abs(top["source_lines"][1] - last) <= 1


def test_code_written_from_scratch_is_no_match(index):
    code = textwrap.dedent(
        """
        def histogram(values, bins=10):
            lo, hi = min(values), max(values)
            width = (hi - lo) / bins or 1
            counts = [0] * bins
            for v in values:
                slot = min(int((v - lo) / width), bins - 1)
                counts[slot] += 1
            return [(lo + i * width, c) for i, c in enumerate(counts)]
        """
    )
    result = attribute(code, index)
    assert result["verdict"] == "no_match" and result["matches"] == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty query"),
        ("   \n\t\n", "empty query"),
        (b"\x00\x01\x02binary", "binary"),
        ("x = 1\n" * 300_000, "too large"),
    ],
)
def test_bad_queries_raise_one_line_errors(index, query, message):
    with pytest.raises(QueryError, match=message) as err:
        attribute(query, index)
    assert "\n" not in str(err.value)


def test_unknown_language_is_named(index):
    with pytest.raises(QueryError, match="unknown language 'cobol'; known: "):
        attribute("x = 1\n", index, language="cobol")


def test_comments_only_and_invalid_utf8_are_no_match(index):
    assert attribute("# just a comment\n# and another\n", index)["verdict"] == "no_match"
    result = attribute(b"x = '\xff\xfe'\n", index, language="python")
    assert result["query"]["tokens"] == 3 and result["verdict"] == "no_match"


def test_result_shape_follows_spec(index):
    code, _, _ = function_source(textwrap_module, "dedent")
    result = attribute(code, index)
    assert set(result) == {"query", "verdict", "matches", "elapsed_ms"}
    m = result["matches"][0]
    assert {
        "source",
        "match_type",
        "query_lines",
        "source_lines",
        "spans",
        "coverage",
        "score",
        "copies",
        "origins",
    } <= set(m)
    assert m["source"]["swhid"] == "swh:1:cnt:" + m["source"]["blob_id"]
    assert 0 <= m["score"] <= 1 and 0 <= m["coverage"] <= 1


def test_compatibility_with_the_project_license(index):
    code, _, _ = function_source(textwrap_module, "dedent")
    top = attribute(code, index, project_license="GPL-3.0-or-later")["matches"][0]
    assert top["compatibility"]["compatible"] is True  # MIT code into a GPL project
    assert "MIT" in top["compatibility"]["reason"]
    assert "compatibility" not in attribute(code, index)["matches"][0]


def test_among_token_identical_files_the_one_sharing_the_querys_comments_is_shown():
    code, _, _ = function_source(textwrap_module, "dedent")
    commented = code.replace("    # Look for", "    # Strip the common margin\n    # Look for", 1)
    assert commented != code
    files = {
        "a/textwrap.py": code,  # first by path, same tokens, other comments
        "b/textwrap.py": "\n" * 7 + commented,  # the query's own file, 7 lines further down
    }
    result = attribute(commented, MemoryIndex(files))
    top = result["matches"][0]
    assert top["copies"] == 2
    assert top["source"]["path"] == "b/textwrap.py"
    assert top["source_lines"] == [8, 7 + commented.count("\n")]  # that file's own lines


def test_among_token_identical_files_the_querys_language_comes_first():
    body = "".join(
        f"function step{i}(state, input) {{\n"
        f"  const next = state.values.map((value) => value * {i} + input.offset);\n"
        f"  return {{ values: next, count: state.count + {i} }};\n"
        "}\n"
        for i in range(6)
    )
    files = {"dist/step.js": body, "src/step.ts": body}
    top = attribute(body, MemoryIndex(files), language="typescript")["matches"][0]
    assert top["copies"] == 2
    assert top["source"]["path"] == "src/step.ts"
    top = attribute(body, MemoryIndex(files), language="javascript")["matches"][0]
    assert top["source"]["path"] == "dist/step.js"


GO_SOURCE = """package errors

func NotProvisionedf(format string, args ...interface{}) error {
	return newLocationError(
		makeWrappedConstError(NotProvisioned, format, args...),
		6,
	)
}
"""


def test_a_short_renamed_copy_sharing_one_rare_fingerprint_is_aligned():
    # renamed, a 31-token function keeps one or two abstracted fingerprints of its source:
    # too few to pass the candidate floor, but held by no other file, so it is aligned
    files = dict(FILES)
    files["errors/errortypes.go"] = GO_SOURCE
    query = GO_SOURCE.split("\n", 2)[2].replace("format", "suffixPosition")
    result = attribute(query, MemoryIndex(files), language="go")
    assert [(m["source"]["path"], m["match_type"]) for m in result["matches"]] == [
        ("errors/errortypes.go", "renamed")
    ]


def test_a_snippet_cut_inside_a_docstring_matches_from_the_code_after_it(index):
    code, _, last = function_source(textwrap_module, "indent")
    lines = code.splitlines(True)
    closing = next(i for i, line in enumerate(lines) if i > 0 and line.strip() == '"""')
    snippet = "".join(lines[closing - 2 :])  # two lines of docstring prose, then its end
    top = attribute(snippet, index)["matches"][0]
    assert top["match_type"] == "exact"
    assert top["source"]["path"].endswith("textwrap.py")
    assert top["query_lines"] == [4, len(lines) - closing + 2]  # the code, not the prose
    assert abs(top["source_lines"][1] - last) <= 1


def test_a_header_counts_as_cpp_for_a_cpp_query():
    body = "".join(
        f"static inline int scaled_sum_{i}(const int *values, int count, int factor) {{\n"
        "    int total = 0;\n"
        f"    for (int k = 0; k < count; ++k) total += values[k] * factor + {i};\n"
        "    return total;\n"
        "}\n"
        for i in range(5)
    )
    files = {"a/vec.h": body, "b/vec.cc": body}  # a .h file is C by its name
    top = attribute(body, MemoryIndex(files), language="cpp")["matches"][0]
    assert top["copies"] == 2
    assert top["source"]["path"] == "a/vec.h"  # authority decides, not the file name's language


@pytest.mark.parametrize(
    "path",
    [
        "vendor/copy/textwrap.py",
        "web/node_modules/tw/index.js",
        "pip/_vendor/textwrap.py",
        "src/Third_Party/textwrap.py",
        "build/_deps/tw/textwrap.py",
    ],
)
def test_a_source_in_a_vendored_directory_ranks_after_the_original(path):
    """Answers order sources by the one notion of vendored code (core/paths.py), before
    license and depth: a shallow vendored copy with a known license still comes last."""
    original = Source(id="1", repo_name="z", path="a/b/c/textwrap.py", blob_id="b")
    copy = Source(id="2", repo_name="a", path=path, blob_id="b", license="MIT")
    assert vendored_dir(path) is not None
    assert sorted([copy, original], key=authority) == [original, copy]
    plain = Source(id="3", repo_name="a", path="src/vendor.py", blob_id="b", license="MIT")
    assert sorted([original, plain], key=authority) == [plain, original]
