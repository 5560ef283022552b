"""Notices of borrowed code after a file's header, and DEP-5 catch-all stanzas.

The cases are the ScanCode benchmark's disagreements that were ours to fix (issue 16), with
short excerpts of the real corpus files named in each test.
"""

from __future__ import annotations

from pathlib import Path

from attribution.core.license_header import LATER_CHARS, header_license, own_notices
from attribution.core.license_texts import template_text
from attribution.core.licenses import RepoContext
from attribution.index.build import build
from attribution.index.store import Index

# debian/mujs/jsdtoa.c: grisu (MIT) in the head, strtod (Lucent/Sun, HPND-UC) at byte 23,594
GRISU = """/*
 * grisu2_59_56.c
 *
 * Copyright (c) 2009 Florian Loitsch
 *
 * Permission is hereby granted, free of charge, to any person obtaining a copy
 * of this software and associated documentation files (the "Software"), to
 * deal in the Software without restriction, including without limitation the
 * rights to use, copy, modify, merge, publish, distribute, sublicense, and/or
 * sell copies of the Software, and to permit persons to whom the Software is
 * furnished to do so, subject to the following conditions:
 *
 * The above copyright notice and this permission notice shall be included in
 * all copies or substantial portions of the Software.
 *
 * THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 * IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 * FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 * AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 * LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING
 * FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS
 * IN THE SOFTWARE.
 */
"""
STRTOD = """/*
 * strtod.c
 *
 * Copyright (c) 1988-1993 The Regents of the University of California.
 * Copyright (c) 1994 Sun Microsystems, Inc.
 *
 * Permission to use, copy, modify, and distribute this software and its
 * documentation for any purpose and without fee is hereby granted, provided
 * that the above copyright notice appear in all copies. The University of
 * California makes no representations about the suitability of this software
 * for any purpose. It is provided "as is" without express or implied warranty.
 */
"""
# debian/htop/openbsd/OpenBSDProcessList.c
HTOP_HEADER = """/*
htop - OpenBSDProcessList.c
(C) 2014 Hisham H. Muhammad
(C) 2015 Michael McConville
Released under the GNU GPLv2+, see the COPYING file
in the source distribution for its full text.
*/

#include "openbsd/OpenBSDProcessList.h"
"""
LOCKERT = """static void OpenBSDProcessList_scanMemoryInfo(ProcessList* pl) {
   /*
    * Copyright (c) 1994 Thorsten Lockert <tholo@sigmasoft.com>
    * All rights reserved.
    *
    * Taken almost directly from OpenBSD's top(1)
    *
    * Originally released under a BSD-3 license
    * Modified through htop developers applying GPL-2
    */
   int nswap = swapctl(SWAP_NSWAP, 0, 0);
}
"""
# pypi/httplib2/doc/html/_static/jquery.js: jQuery's choice, Sizzle's MIT further on
JQUERY = """/*!
 * jQuery JavaScript Library v1.3.2
 * http://jquery.com/
 *
 * Copyright (c) 2009 John Resig
 * Dual licensed under the MIT and GPL licenses.
 * http://docs.jquery.com/License
 */
(function(){
"""
SIZZLE = """});/*!
 * Sizzle CSS Selector Engine - v0.9.3
 *  Copyright 2009, The Dojo Foundation
 *  Released under the MIT, BSD, and GPL Licenses.
 *  More information: http://sizzlejs.com/
 */
(function(){
"""


def code(n: int) -> str:
    """``n`` lines of plain C without a notice."""
    return "".join(f"static int f{i}(int x) {{ return x * {i} + {i % 7}; }}\n" for i in range(n))


def test_a_second_notice_beyond_the_head_is_joined_with_and() -> None:
    head = '#include "jsi.h"\n\n' + code(10) + GRISU + code(100)
    beyond = code(300) + STRTOD + code(20)
    assert header_license(head) == "MIT"  # the head alone: what the cascade read before
    assert header_license(head, beyond) == "MIT AND HPND-UC"
    got = RepoContext({}).attribute_file("jsdtoa.c", head, beyond=beyond)
    assert (got.license, got.license_evidence) == ("MIT AND HPND-UC", "header")


def test_the_scan_after_the_head_is_bounded() -> None:
    far = "x" * LATER_CHARS + "\n" + STRTOD
    assert own_notices(far) == []
    assert header_license(GRISU, far) == "MIT"


def test_only_comment_blocks_with_a_dated_copyright_line_count_after_the_head() -> None:
    beyond = (
        code(5)
        + "/* This part is licensed under the Apache License 2.0 (see LICENSE). */\n"
        + 'const char *s = "Copyright 2010 Foo. Licensed under the GPL version 3";\n'
        + "/* copyright notice handling: see the MIT license of the COPYING file */\n"
    )
    assert own_notices(beyond) == []
    assert header_license(GRISU, beyond) == "MIT"


def test_a_notice_inside_the_code_adds_the_borrowed_license() -> None:
    head = HTOP_HEADER + code(3) + LOCKERT + code(3)
    # 'applying GPL-2' names the header's own GPL again: no GPL-2.0-only beside 2.0-or-later
    assert header_license(head) == "GPL-2.0-or-later AND BSD-3-Clause"


def test_a_later_notice_naming_only_the_headers_licenses_keeps_the_choice() -> None:
    head = JQUERY + "var window = this;\n" + code(5)
    assert header_license(head, code(50) + SIZZLE) == "MIT OR GPL-2.0-only"


def test_a_directory_license_file_beats_a_catch_all_dep5_stanza() -> None:
    # debian/gawk: 'Files: *' GPL-3+, and missing_d/ holds its own COPYING.LIB (LGPL-2.0)
    dep5 = (
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "Files: *\nCopyright: 1986-2014, Free Software Foundation, Inc.\nLicense: GPL-3+\n\n"
        "Files: debian/*\nCopyright: 2011-2014, Jeroen Schot\nLicense: GPL-3+\n"
    )
    gpl3 = template_text("GPL-3.0-only")
    files = {
        "debian/copyright": dep5,
        "COPYING": gpl3,
        "extension/COPYING": gpl3,
        "missing_d/COPYING.LIB": template_text("LGPL-2.0-only"),
    }
    ctx = RepoContext(files)
    own = ctx.attribute_file("missing_d/getaddrinfo.c", "#include <netdb.h>\n")
    assert (own.license, own.license_evidence) == ("LGPL-2.0-only", "license-file")
    for path in ("awk.h", "extension/filefuncs.c"):  # the root's license file: the stanza
        got = ctx.attribute_file(path, "#include <stdio.h>\n")
        assert (got.license, got.license_evidence) == ("GPL-3.0-or-later", "debian-copyright")


def test_a_stanza_naming_the_directory_still_beats_its_license_file() -> None:
    dep5 = (
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "Files: *\nCopyright: 2014, Jane Roe\nLicense: GPL-3+\n\n"
        "Files: missing_d/*\nCopyright: 2014, Jane Roe\nLicense: Expat\n"
    )
    files = {"debian/copyright": dep5, "missing_d/COPYING.LIB": template_text("LGPL-2.0-only")}
    got = RepoContext(files).attribute_file("missing_d/getaddrinfo.c", "int x;\n")
    assert (got.license, got.license_evidence) == ("MIT", "debian-copyright")


def test_the_build_reads_the_notice_beyond_the_head(tmp_path: Path) -> None:
    source = tmp_path / "src" / "mujs"
    source.mkdir(parents=True)
    text = '#include "jsi.h"\n\n' + GRISU + code(300) + STRTOD + code(20)
    assert text.index("strtod.c") > 8192
    (source / "jsdtoa.c").write_text(text)
    build([str(source)], tmp_path / "index", jobs=1)
    (found,) = Index(tmp_path / "index").sources(0)
    assert found.license == "MIT AND HPND-UC"
