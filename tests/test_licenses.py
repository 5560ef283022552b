"""The license evidence cascade: one test per evidence kind, precedence, dual licensing."""

from __future__ import annotations

import pytest

from attribution.core.license_texts import template_text
from attribution.core.licenses import NOASSERTION, FileAttribution, RepoContext, normalize

MIT = """MIT License

Copyright (c) 2010-2020 Benjamin Peterson

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of
the Software, and to permit persons to whom the Software is furnished to do so,
subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS
FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""

BSD_CLAUSES = """Copyright (c) 2014, Jane Roe
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.
{third}
THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""
THIRD = """
3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.
"""
BSD2, BSD3 = BSD_CLAUSES.format(third=""), BSD_CLAUSES.format(third=THIRD)

GPL2_PLUS_HEADER = """/*
 * frob.c - frobnicate widgets
 * Copyright (C) 2003 Free Software Foundation, Inc.
 *
 * This program is free software; you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation; either version 2 of the License, or
 * (at your option) any later version.
 */
#include <stdio.h>
"""

DEP5 = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: frob
Source: https://example.org/frob

Files: *
Copyright: 2001-2010 Jane Roe <jane@example.org>
License: GPL-2+

Files: lib/*
Copyright: 2005 John Doe
License: Expat

Files: lib/vendor/*.c
Copyright: Free Software Foundation, Inc.
License: LGPL-2.1+

Files: lib/odd.c
Copyright: 2009 Odd Person
License: Frobnitz
 Redistribution and use in source and binary forms, with or without
 modification, are permitted provided that the following conditions are met:
 .
 1. Redistributions of source code must retain the above copyright notice, this
 list of conditions and the following disclaimer.
 .
 2. Redistributions in binary form must reproduce the above copyright notice,
 this list of conditions and the following disclaimer in the documentation
 and/or other materials provided with the distribution.
 .
 THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
 AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
 IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
 DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
 FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
 DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
 SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
 CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
 OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
 OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""


def attribute(files: dict[str, str], path: str, head: str = "x = 1\n", **kw) -> FileAttribution:
    return RepoContext(files).attribute_file(path, head, **kw)


# ---------------------------------------------------------------- level 1: SPDX tags, REUSE
@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("// SPDX-License-Identifier: MIT\n", "MIT"),
        ("# SPDX-License-Identifier: GPL-2.0+\n", "GPL-2.0-or-later"),
        (
            "/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause) */\n",
            "GPL-2.0-only OR BSD-3-Clause",
        ),
        (
            "-- SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception\n",
            "Apache-2.0 WITH LLVM-exception",
        ),
        ("<!-- SPDX-License-Identifier: LicenseRef-Acme-1 -->\n", "LicenseRef-Acme-1"),
    ],
)
def test_spdx_tag_wins_over_everything(head: str, expected: str) -> None:
    got = attribute({"LICENSE": MIT, "package.json": '{"license": "ISC"}'}, "a.c", head)
    assert (got.license, got.license_evidence, got.warnings) == (expected, "spdx-tag", ())


def test_malformed_spdx_tag_warns_and_never_raises() -> None:
    got = attribute({"LICENSE": MIT}, "a.c", "// SPDX-License-Identifier: MIT OR OR (\n")
    assert got.warnings and "malformed" in got.warnings[0]
    assert got.license == "MIT" and got.license_evidence == "license-file"


def test_lenient_reading_of_a_malformed_tag_is_kept_with_a_warning() -> None:
    got = attribute({}, "a.py", "# SPDX-License-Identifier: Apache 2.0\n")
    assert got.license == "Apache-2.0" and got.license_evidence == "spdx-tag"
    assert got.warnings == ("malformed SPDX-License-Identifier 'Apache 2.0'; read as Apache-2.0",)


def test_reuse_sidecar_and_reuse_toml() -> None:
    files = {
        "img/logo.svg.license": "SPDX-FileCopyrightText: 2021 Jane Roe\n"
        "SPDX-License-Identifier: CC-BY-4.0\n",
        "REUSE.toml": 'version = 1\n[[annotations]]\npath = "docs/**"\n'
        'SPDX-License-Identifier = "CC0-1.0"\nSPDX-FileCopyrightText = "2020 Doc Writer"\n',
        "LICENSE": MIT,
    }
    sidecar = attribute(files, "img/logo.svg")
    assert (sidecar.license, sidecar.license_evidence) == ("CC-BY-4.0", "reuse")
    assert sidecar.authors[0] == "Jane Roe"
    toml = attribute(files, "docs/guide/intro.py")
    assert (toml.license, toml.license_evidence, toml.authors[0]) == (
        "CC0-1.0",
        "reuse",
        "Doc Writer",
    )
    assert attribute(files, "src/a.py").license == "MIT"


def test_reuse_dep5_and_single_licenses_dir() -> None:
    dep5 = (
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "Files: vendor/*\nCopyright: 2019 Vendor Inc.\nLicense: Apache-2.0\n"
    )
    files = {".reuse/dep5": dep5, "LICENSES/MIT.txt": MIT}
    assert attribute(files, "vendor/x.go").license == "Apache-2.0"
    got = attribute(files, "src/x.go")
    assert (got.license, got.license_evidence) == ("MIT", "reuse")


# ---------------------------------------------------------------- level 2: header notices
@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (GPL2_PLUS_HEADER, "GPL-2.0-or-later"),
        (
            GPL2_PLUS_HEADER.replace(
                "; either version 2 of the License, or\n * (at your option) any later version.",
                "; version 2.",
            ),
            "GPL-2.0-only",
        ),
        (
            "# This library is free software; you can redistribute it and/or modify it under the\n"
            "# terms of the GNU Lesser General Public License as published by the Free Software\n"
            "# Foundation; either version 2.1 of the License, or (at your option) any later\n"
            "# version.\nimport os\n",
            "LGPL-2.1-or-later",
        ),
        (
            '// Licensed under the Apache License, Version 2.0 (the "License");\n'
            "// you may not use this file except in compliance with the License.\n",
            "Apache-2.0",
        ),
        ("/*! widget.js | (c) 2020 Jane Roe | Licensed under the MIT license */\n", "MIT"),
        (
            "# Copyright 2020 Jane Roe\n#\n"
            + "\n".join("# " + x for x in MIT.splitlines()[4:])
            + "\nimport os\n",
            "MIT",
        ),
        ("# " + "\n# ".join(BSD3.splitlines()) + "\n", "BSD-3-Clause"),
        (
            "// This Source Code Form is subject to the terms of the Mozilla Public\n// License, "
            "v. 2.0. If a copy of the MPL was not distributed with this\n// file, You can obtain "
            "one at http://mozilla.org/MPL/2.0/.\n",
            "MPL-2.0",
        ),
    ],
)
def test_header_notice(head: str, expected: str) -> None:
    got = attribute({}, "src/a.c", head)
    assert (got.license, got.license_evidence) == (expected, "header")


def test_gpl_headed_file_inside_an_mit_repository_is_gpl() -> None:
    files = {"LICENSE": MIT, "package.json": '{"license": "MIT"}'}
    assert attribute(files, "src/frob.c", GPL2_PLUS_HEADER).license == "GPL-2.0-or-later"
    assert attribute(files, "src/other.c").license == "MIT"


def test_dual_license_header() -> None:
    head = (
        "# Licensed under the Apache License, Version 2.0 <LICENSE-APACHE or\n"
        "# http://www.apache.org/licenses/LICENSE-2.0> or the MIT license\n"
        "# <LICENSE-MIT or http://opensource.org/licenses/MIT>, at your\n# option.\n"
    )
    assert attribute({}, "x.py", head).license == "Apache-2.0 OR MIT"


def test_notice_below_the_first_code_line_is_not_a_header() -> None:
    head = "import os\n\nLICENSES = ['GNU General Public License version 3 or later']\n"
    assert attribute({"LICENSE": MIT}, "x.py", head).license == "MIT"


# ---------------------------------------------------------------- level 3: debian/copyright
def test_dep5_last_matching_stanza_wins_and_names_are_mapped() -> None:
    files = {"debian/copyright": DEP5, "COPYING": template_text("GPL-3.0-only")}
    top = attribute(files, "src/main.c")
    assert (top.license, top.license_evidence) == ("GPL-2.0-or-later", "debian-copyright")
    assert top.authors[0] == "Jane Roe" and "jane@example.org" in top.emails
    assert attribute(files, "lib/util.c").license == "MIT"
    vendored = attribute(files, "lib/vendor/regex.c")
    assert vendored.license == "LGPL-2.1-or-later"
    assert vendored.authors[0] == "Free Software Foundation, Inc."
    odd = attribute(files, "lib/odd.c")  # unknown short name: read from its text
    assert odd.license == "BSD-2-Clause" and odd.authors[0] == "Odd Person"


def test_free_text_debian_copyright_is_read_as_text() -> None:
    text = (
        "This package was debianized by Someone <s@debian.org>.\n\nCopyright (C) 2010 "
        "Jane Roe\n\nLicense:\n\n" + MIT.split("\n", 3)[3] + "\nThe Debian packaging is "
        "licensed under the GPL, see /usr/share/common-licenses/GPL-3.\n"
    )
    got = attribute({"debian/copyright": text}, "src/a.c")
    assert (got.license, got.license_evidence) == ("MIT", "debian-copyright")
    assert "Jane Roe" in got.authors


# ---------------------------------------------------------------- level 4: license files
def test_nearest_license_file_up_the_tree() -> None:
    files = {"LICENSE": MIT, "third_party/zlib/LICENSE": template_text("Zlib")}
    assert attribute(files, "third_party/zlib/src/inflate.c").license == "Zlib"
    got = attribute(files, "src/deep/a.py")
    assert (got.license, got.license_evidence) == ("MIT", "license-file")
    assert got.copyright == ("Copyright (c) 2010-2020 Benjamin Peterson",)
    assert got.authors == ("Benjamin Peterson",)


@pytest.mark.parametrize(("text", "expected"), [(BSD2, "BSD-2-Clause"), (BSD3, "BSD-3-Clause")])
def test_bsd_variants(text: str, expected: str) -> None:
    assert attribute({"LICENSE.txt": text}, "a.py").license == expected


@pytest.mark.parametrize(
    "spdx_id",
    [
        "Apache-2.0",
        "ISC",
        "Zlib",
        "PSF-2.0",
        "MPL-2.0",
        "EPL-2.0",
        "Unlicense",
        "CC0-1.0",
        "BSL-1.0",
        "0BSD",
        "Artistic-2.0",
        "BlueOak-1.0.0",
        "AGPL-3.0-only",
        "BSD-4-Clause",
        "LGPL-2.1-only",
        "LGPL-3.0-only",
        "GPL-2.0-only",
        "GPL-3.0-only",
        "MIT-0",
    ],
)
def test_full_license_texts(spdx_id: str) -> None:
    assert attribute({"COPYING": template_text(spdx_id)}, "a.c").license == spdx_id


def test_rust_style_dual_license_files() -> None:
    files = {"LICENSE-MIT": MIT, "LICENSE-APACHE": template_text("Apache-2.0")}
    assert attribute(files, "src/lib.rs").license in ("MIT OR Apache-2.0", "Apache-2.0 OR MIT")


def test_gpl_text_alone_is_only_and_metadata_or_a_notice_can_say_or_later() -> None:
    gpl = template_text("GPL-2.0-only")
    assert attribute({"COPYING": gpl}, "a.c").license == "GPL-2.0-only"
    meta = "Metadata-Version: 2.1\nName: frob\nLicense: GPLv2+\n"
    assert attribute({"COPYING": gpl, "PKG-INFO": meta}, "a.py").license == "GPL-2.0-or-later"
    notice = (
        "frob is free software; you can redistribute it under the terms of the GNU "
        "General Public License, either version 2 of the License, or (at your option) "
        "any later version.\n\n" + gpl
    )
    assert attribute({"COPYING": notice}, "a.c").license == "GPL-2.0-or-later"


def test_lgpl3_shipped_with_the_gpl3_text_is_lgpl3() -> None:
    files = {
        "COPYING": template_text("GPL-3.0-only"),
        "COPYING.LESSER": template_text("LGPL-3.0-only"),
    }
    assert attribute(files, "lib/a.c").license == "LGPL-3.0-only"


def test_license_file_beats_contradicting_metadata() -> None:
    files = {"LICENSE": template_text("Apache-2.0"), "package.json": '{"license": "MIT"}'}
    got = attribute(files, "index.js")
    assert (got.license, got.license_evidence) == ("Apache-2.0", "license-file")


# ---------------------------------------------------------------- level 5: package metadata
@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"PKG-INFO": "Metadata-Version: 2.4\nName: a\nLicense-Expression: MIT OR Apache-2.0\n"},
            "MIT OR Apache-2.0",
        ),
        (
            {
                "METADATA": "Metadata-Version: 2.1\nName: a\nClassifier: License :: OSI "
                "Approved :: BSD License\nClassifier: Programming Language :: Python\n"
            },
            "LicenseRef-BSD",
        ),
        (
            {
                "PKG-INFO": "Metadata-Version: 2.1\nName: a\nLicense: UNKNOWN\nClassifier: "
                "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)\n"
            },
            "LGPL-3.0-only",
        ),
        ({"package.json": '{"name": "a", "license": {"type": "ISC"}}'}, "ISC"),
        (
            {"package.json": '{"name": "a", "licenses": [{"type": "MIT"}, {"type": "GPL-2.0"}]}'},
            "MIT OR GPL-2.0-only",
        ),
        (
            {"Cargo.toml": '[package]\nname = "a"\nlicense = "MIT/Apache-2.0"\n'},
            "MIT OR Apache-2.0",
        ),
        (
            {"pyproject.toml": '[project]\nname = "a"\nlicense = {text = "BSD-3-Clause"}\n'},
            "BSD-3-Clause",
        ),
        (
            {
                "pom.xml": "<project><artifactId>a</artifactId><licenses><license><name>Apache "
                "License, Version 2.0</name></license></licenses></project>"
            },
            "Apache-2.0",
        ),
    ],
)
def test_package_metadata(files: dict[str, str], expected: str) -> None:
    got = attribute(files, "pkg/mod.py")
    assert (got.license, got.license_evidence) == (expected, "package-metadata")


def test_metadata_confirmed_by_license_files_keeps_its_operator() -> None:
    files = {"LICENSE-MIT": MIT, "Cargo.toml": '[package]\nlicense = "MIT OR Apache-2.0"\n'}
    assert attribute(files, "src/lib.rs").license == "MIT OR Apache-2.0"


def test_wheel_metadata_speaks_for_the_whole_wheel() -> None:
    files = {
        "frob-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: frob\nLicense: MIT\n"
        "Author: Jane Roe\n"
    }
    got = attribute(files, "frob/core.py")
    assert (got.license, got.authors) == ("MIT", ("Jane Roe",))


# ---------------------------------------------------------------- table, none
def test_table_declared_license_is_used_as_is() -> None:
    ctx = RepoContext({})
    got = ctx.attribute_file("a.py", "x = 1", declared_license=["MIT", "Apache-2.0"])
    assert (got.license, got.license_evidence) == ("MIT AND Apache-2.0", "table")
    repo = RepoContext({}, declared_license=["BSD-3-Clause"], declared_authors=["Jane Roe"])
    got = repo.attribute_file("a.py", "x = 1")
    assert (got.license, got.license_evidence, got.authors) == (
        "BSD-3-Clause",
        "table",
        ("Jane Roe",),
    )


def test_nothing_known_is_noassertion() -> None:
    got = attribute({"README.md": "hello"}, "a.py")
    assert (got.license, got.license_type, got.license_evidence) == (NOASSERTION, "unknown", "none")


def test_url_from_metadata() -> None:
    assert (
        RepoContext({"package.json": '{"repository": "git+https://github.com/a/b.git"}'}).url
        == "https://github.com/a/b"
    )
    assert (
        RepoContext({"PKG-INFO": "Name: a\nProject-URL: Source, https://github.com/a/b\n"}).url
        == "https://github.com/a/b"
    )
    assert (
        RepoContext({"Cargo.toml": '[package]\nrepository = "https://gitlab.com/x/y"\n'}).url
        == "https://gitlab.com/x/y"
    )
    assert RepoContext({}).url is None


# ---------------------------------------------------------------- normalize
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("MIT", "MIT"),
        ("Expat", "MIT"),
        ("GPL-2+", "GPL-2.0-or-later"),
        ("GPL-2", "GPL-2.0-only"),
        ("GPL-2.0", "GPL-2.0-only"),
        ("LGPL-2.1+", "LGPL-2.1-or-later"),
        ("BSD-3-clause", "BSD-3-Clause"),
        ("public-domain", "LicenseRef-public-domain"),
        ("Apache 2.0", "Apache-2.0"),
        ("GPLv3", "GPL-3.0-only"),
        ("LGPLv2+", "LGPL-2.0-or-later"),
        ("GNU General Public License v2 or later (GPLv2+)", "GPL-2.0-or-later"),
        ("License :: OSI Approved :: MIT License", "MIT"),
        ("BSD-3-clause or GPL-2", "BSD-3-Clause OR GPL-2.0-only"),
        ("MIT/Apache-2.0", "MIT OR Apache-2.0"),
        ("GPL-3+ with Bison exception", "GPL-3.0-or-later WITH Bison-exception-2.2"),
        ("mit and apache-2.0", "MIT AND Apache-2.0"),
        ("FLEX", "LicenseRef-FLEX"),
        ("UNKNOWN", NOASSERTION),
        ("", NOASSERTION),
        ("see the file COPYING for details", NOASSERTION),
        (["MIT", "Apache-2.0"], "MIT AND Apache-2.0"),
        (["LGPL-3.0-or-later", "GPL-2.0-or-later"], "LGPL-3.0-or-later AND GPL-2.0-or-later"),
        ([], NOASSERTION),
    ],
)
def test_normalize(value: str | list[str], expected: str) -> None:
    assert normalize(value) == expected


def test_garbage_in_never_raises() -> None:
    files = {
        "package.json": "{not json",
        "Cargo.toml": "[package\nlicense = ",
        "pyproject.toml": "[project]\nlicense = 3\n",
        "setup.cfg": "[metadata\nlicense",
        "pom.xml": "<project><licenses><license><name>",
        "REUSE.toml": "[[annotations]]\npath = 1\n",
        "debian/copyright": "Format: x\n\nFiles: [\nLicense: (((\n",
        "LICENSE": "\x00\x01" * 100,
        "a.py.license": "SPDX-License-Identifier: ((((",
    }
    ctx = RepoContext(files)
    for head in (
        "",
        "\x00" * 50,
        "SPDX-License-Identifier:",
        "# Copyright (c)\n" * 500,
        "GPL " * 3000,
    ):
        got = ctx.attribute_file("a.py", head)
        assert got.license_type in (
            "permissive",
            "weak-copyleft",
            "copyleft",
            "proprietary",
            "unknown",
        )


def test_normalize_and_cascade_never_raise_on_arbitrary_text() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    spdx = ("MIT", "GPL-2.0+", " OR ", " AND ", " WITH ", "(", ")", "Apache 2.0", "/", ",")

    @hypothesis.settings(max_examples=200, deadline=None, derandomize=True)
    @hypothesis.given(st.lists(st.sampled_from(spdx) | st.text(max_size=8), max_size=6))
    def check(parts: list[str]) -> None:
        text = "".join(parts)
        got = normalize(text)
        assert got == NOASSERTION or normalize(got) == got
        attribution = RepoContext({"LICENSE": text}).attribute_file(
            "a.c", f"// SPDX-License-Identifier: {text}\n"
        )
        assert attribution.license == NOASSERTION or normalize(attribution.license)

    check()


def test_license_file_variant_wins_over_the_metadata_family_id() -> None:
    # uri-js: LICENSE holds the 2-clause text with the "views and conclusions" sentence
    files = {
        "LICENSE": template_text("BSD-2-Clause-Views").replace("*", "Copyright 2011 Gary Court"),
        "package.json": '{"name": "uri-js", "license": "BSD-2-Clause"}',
    }
    found = attribute(files, "dist/uri.js")
    assert (found.license, found.license_evidence) == ("BSD-2-Clause-Views", "license-file")


def test_bare_gnu_id_in_metadata_takes_the_scope_of_the_license_file() -> None:
    # web3-utils: package.json says "LGPL-3.0", its LICENSE says "or any later version"
    notice = (
        "web3.js is free software: you can redistribute it and/or modify it under the terms of "
        "the GNU Lesser General Public License as published by the Free Software Foundation, "
        "either version 3 of the License, or (at your option) any later version.\n\n"
    )
    files = {
        "LICENSE": notice + template_text("LGPL-3.0-only"),
        "package.json": '{"name": "web3-utils", "license": "LGPL-3.0"}',
    }
    assert attribute(files, "lib/index.d.ts").license == "LGPL-3.0-or-later"


def test_bsd_text_allowing_endorsement_is_told_apart() -> None:
    # libgit2 include/git2/stdint.h (msinttypes): "The name of the author may be used ..."
    text = BSD3.replace(
        "Neither the name of the copyright holder nor the names of its\n   contributors may be",
        "The name of the author may be",
    )
    head = "".join(f"// {line}\n" for line in text.splitlines())
    assert attribute({}, "stdint.h", head).license == "LicenseRef-scancode-bsd-endorsement-allowed"
