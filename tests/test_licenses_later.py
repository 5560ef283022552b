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


# ------------------------------------------------------- found on the fresh sample (seed 17)
LIBGIT2_COPYING = """ libgit2 is Copyright (C) the libgit2 contributors,
 unless otherwise stated. See the AUTHORS file for details.

 Note that the only valid version of the GPL as far as this project
 is concerned is _this_ particular version of the license (ie v2, not
 v2.2 or v3.x or whatever), unless explicitly otherwise stated.

----------------------------------------------------------------------

			LINKING EXCEPTION

 In addition to the permissions in the GNU General Public License,
 the authors give you unlimited permission to link the compiled
 version of this library into combinations with other programs,
 and to distribute those combinations without any restriction
 coming from the use of this file.  (The General Public License
 restrictions do apply in other respects; for example, they cover
 modification of the file, and distribution when not linked into
 a combined executable.)

----------------------------------------------------------------------

"""
LIBGIT2_HEADER = """/*
 * Copyright (C) the libgit2 contributors. All rights reserved.
 *
 * This file is part of libgit2, distributed under the GNU GPL v2 with
 * a Linking Exception. For full terms see the included COPYING file.
 */
#ifndef INCLUDE_git_mailmap_h__
"""
# debian/libpcap/bpf_dump.c
LBL_SHORT = """/*
 * Copyright (c) 1992, 1993, 1994, 1995, 1996
 *	The Regents of the University of California.  All rights reserved.
 *
 * Redistribution and use in source and binary forms, with or without
 * modification, are permitted provided that: (1) source code distributions
 * retain the above copyright notice and this paragraph in its entirety, (2)
 * distributions including binary code include the above copyright notice and
 * this paragraph in its entirety in the documentation or other materials
 * provided with the distribution, and (3) all advertising materials mentioning
 * features or use of this software display the following acknowledgement:
 * ``This product includes software developed by the University of California,
 * Lawrence Berkeley Laboratory and its contributors.'' Neither the name of
 * the University nor the names of its contributors may be used to endorse
 * or promote products derived from this software without specific prior
 * written permission.
 * THIS SOFTWARE IS PROVIDED ``AS IS'' AND WITHOUT ANY EXPRESS OR IMPLIED
 * WARRANTIES, INCLUDING, WITHOUT LIMITATION, THE IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE.
 */

#include <pcap.h>
"""
# libzip's licence as its free-text debian/copyright gives it, before another licence
LIBZIP = """License:

    Redistribution and use in source and binary forms, with or without
    modification, are permitted provided that the following conditions
    are met:
    1. Redistributions of source code must retain the above copyright
       notice, this list of conditions and the following disclaimer.
    2. Redistributions in binary form must reproduce the above copyright
       notice, this list of conditions and the following disclaimer in
       the documentation and/or other materials provided with the
       distribution.
    3. The names of the authors may not be used to endorse or promote
       products derived from this software without specific prior
       written permission.

    THIS SOFTWARE IS PROVIDED BY THE AUTHORS ``AS IS'' AND ANY EXPRESS
    OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
    WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE
    ARE DISCLAIMED.  IN NO EVENT SHALL THE AUTHORS BE LIABLE FOR ANY
    DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
    DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE
    GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS
    INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER
    IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR
    OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN
    IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.

License gladman-fcrypt:

    The free distribution and use of this software in both source and binary
    form is allowed (with or without changes) provided that:

    1. distributions of this source code include the above copyright
       notice, this list of conditions and the following disclaimer;

    2. distributions in binary form include the above copyright
       notice, this list of conditions and the following disclaimer
       in the documentation and/or other associated materials;

    3. the copyright holder's name is not used to endorse products
       built using this software without specific written permission.
"""
PACKAGING = """# This file is dual licensed under the terms of the Apache License, Version
# 2.0, and the BSD License. See the LICENSE file in the root of this repository
# for complete details.
\"\"\"Private version-range helpers used by :mod:`packaging.specifiers`.\"\"\"

from __future__ import annotations
"""


def test_a_linking_exception_for_this_library_reaches_the_header() -> None:
    files = {"COPYING": LIBGIT2_COPYING + template_text("GPL-2.0-only")}
    got = RepoContext(files).attribute_file("include/git2/mailmap.h", LIBGIT2_HEADER)
    assert got.license == "GPL-2.0-only WITH GCC-exception-2.0"


def test_the_shortened_lbl_bsd_text() -> None:
    assert header_license(LBL_SHORT) == "BSD-4-Clause-Shortened"


def test_a_two_clause_match_with_a_non_endorsement_clause_is_three_clause() -> None:
    text = "Copyright:\n\n    Copyright (C) 1999-2017 Dieter Baron and Thomas Klausner\n\n" + LIBZIP
    got = RepoContext({"debian/copyright": text}).attribute_file("regress/fuzz_main.c", "int x;\n")
    assert got.license.startswith("BSD-3-Clause")
    assert "BSD-2-Clause" not in got.license


def test_the_bsd_license_named_beside_another_takes_the_license_files_variant() -> None:
    files = {
        "_vendor/packaging-26.3.dist-info/licenses/LICENSE.APACHE": template_text("Apache-2.0"),
        "_vendor/packaging-26.3.dist-info/licenses/LICENSE.BSD": template_text("BSD-2-Clause"),
    }
    got = RepoContext(files).attribute_file("_vendor/packaging/_ranges.py", PACKAGING)
    assert (got.license, got.license_evidence) == ("Apache-2.0 OR BSD-2-Clause", "header")


def test_a_borrowed_notice_offering_the_headers_license_adds_nothing() -> None:
    # debian/libedit/ltmain.sh: libtool's GPLv2+ header, then gnulib bootstrap's dual notice
    head = (
        "#! /usr/bin/env sh\n## DO NOT EDIT - This file generated from ./build-aux/ltmain.in\n"
        "# GNU Libtool is free software; you can redistribute it and/or modify\n"
        "# it under the terms of the GNU General Public License as published by\n"
        "# the Free Software Foundation; either version 2 of the License, or\n"
        "# (at your option) any later version.\n\nPROGRAM=libtool\n"
        "func_echo ()\n{\n    local _G_message=$*\n}\n\n"
        "# Copyright (C) 2004-2019, 2021 Bootstrap Authors\n#\n"
        "# This file is dual licensed under the terms of the MIT license\n"
        "# <https://opensource.org/license/MIT>, and GPL version 2 or later\n"
        "# <http://www.gnu.org/licenses/gpl-2.0.html>.  You must apply one of\n"
        "# these licenses when using or redistributing this software.\n\nset -e\n"
    )
    assert header_license(head) == "GPL-2.0-or-later"


def test_code_pasted_from_another_project_adds_its_license() -> None:
    # pypi/dill/dill/pointers.py
    head = (
        "#!/usr/bin/env python\n#\n# Author: Mike McKerns (mmckerns @caltech and @uqfoundation)\n"
        "# License: 3-clause BSD.  The full license text is available at:\n"
        "#  - https://github.com/uqfoundation/dill/blob/master/LICENSE\n\n"
        "__all__ = ['parent', 'reference', 'at', 'parents', 'children']\n\nimport gc\n\n"
        "# more generic helper function (cut-n-paste from objgraph)\n"
        "# Source at http://mg.pov.lt/objgraph/\n"
        "# Copyright (c) 2008-2010 Marius Gedminas <marius@pov.lt>\n"
        "# Released under the MIT licence (see objgraph/objgrah.py)\n\ndef _find_chain():\n"
    )
    assert header_license(head) == "BSD-3-Clause AND MIT"
