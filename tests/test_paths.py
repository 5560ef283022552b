"""The one notion of vendored code (core/paths.py) and its ingest subset."""

from __future__ import annotations

import pytest

from attribution.core.paths import (
    INSTALLED_DIRS,
    VENDORED_DIRS,
    installed_dir,
    is_vendored_name,
    vendored_dir,
)


@pytest.mark.parametrize(
    ("path", "directory"),
    [
        ("vendor/github.com/x/y.go", "vendor"),
        ("web/node_modules/left-pad/index.js", "web/node_modules"),
        ("pip/_vendor/six.py", "pip/_vendor"),
        ("src/third_party/zlib/inflate.c", "src/third_party"),
        ("lib/Third-Party/a.c", "lib/Third-Party"),
        ("external/json/json.hpp", "external"),
        ("build/_deps/fmt/format.cc", "build/_deps"),
        ("x/Vendors/a.php", "x/Vendors"),
        ("go/govendor/a.go", "go/govendor"),
        ("a/vendored/b/vendor/c.py", "a/vendored"),  # the first one
        ("src/vendor.py", None),  # a file's own name never counts
        ("src/app/main.py", None),
        ("externals_docs/a.md", None),
        ("", None),
    ],
)
def test_vendored_dir_is_the_path_up_to_the_first_vendored_directory(
    path: str, directory: str | None
) -> None:
    assert vendored_dir(path) == directory


def test_every_named_directory_is_vendored_whatever_its_case_and_underscores() -> None:
    for name in VENDORED_DIRS:
        for spelled in (name, name.upper(), f"_{name}", f"__{name}__"):
            assert is_vendored_name(spelled), spelled


def test_ingest_skips_a_named_subset_by_the_names_package_managers_give() -> None:
    assert {"node_modules", "bower_components", "jspm_packages", "vendor"} == INSTALLED_DIRS
    assert INSTALLED_DIRS <= VENDORED_DIRS
    assert installed_dir("web/node_modules/left-pad/index.js") == "web/node_modules"
    assert installed_dir("a/vendor/b.go") == "a/vendor"
    for hand_copied in ("pip/_vendor/six.py", "third_party/z.c", "Vendor/a.php", "deps/a.c"):
        assert installed_dir(hand_copied) is None
        assert vendored_dir(hand_copied) is not None  # vendored all the same
