"""A file's own notice: where it is read (license_header) and what it says (license_notices).

The notice texts are short excerpts of real corpus files (named in each case).
"""

from __future__ import annotations

import pytest

from attribution.core.license_header import comment_blocks, header_license
from attribution.core.licenses import RepoContext

GO_BSD2 = """Copyright (c) 2013 The Gorilla WebSocket Authors. All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

  Redistributions of source code must retain the above copyright notice, this
  list of conditions and the following disclaimer.

  Redistributions in binary form must reproduce the above copyright notice,
  this list of conditions and the following disclaimer in the documentation
  and/or other materials provided with the distribution.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND
ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""
MIT_BLOCK = """/*
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
BISON = """/* A Bison parser, made by GNU Bison 3.0.2.  */

/* Bison interface for Yacc-like parsers in C

   Copyright (C) 1984, 1989-1990, 2000-2013 Free Software Foundation, Inc.

   This program is free software: you can redistribute it and/or modify
   it under the terms of the GNU General Public License as published by
   the Free Software Foundation, either version 3 of the License, or
   (at your option) any later version.  */

/* As a special exception, you may create a larger work that contains
   part or all of the Bison parser skeleton and distribute that work
   under terms of your choice, so long as that work isn't itself a
   parser generator using the skeleton or a modified version thereof
   as a parser skeleton.  Alternatively, if you modify or redistribute
   the parser skeleton itself, you may (at your option) remove this
   special exception, which will cause the skeleton and the resulting
   Bison output files to be licensed under the GNU General Public
   License without this special exception.

   This special exception was added by the Free Software Foundation in
   version 2.2 of Bison.  */
"""
FLEX = """/* This file is part of flex.
 *
 * Redistribution and use in source and binary forms, with or without
 * modification, are permitted provided that the following conditions
 * are met:
 *
 * 1. Redistributions of source code must retain the above copyright
 *    notice, this list of conditions and the following disclaimer.
 * 2. Redistributions in binary form must reproduce the above copyright
 *    notice, this list of conditions and the following disclaimer in the
 *    documentation and/or other materials provided with the distribution.
 *
 * Neither the name of the University nor the names of its contributors
 * may be used to endorse or promote products derived from this software
 * without specific prior written permission.
 *
 * THIS SOFTWARE IS PROVIDED ``AS IS'' AND WITHOUT ANY EXPRESS OR
 * IMPLIED WARRANTIES, INCLUDING, WITHOUT LIMITATION, THE IMPLIED
 * WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR
 * PURPOSE.
 */
"""


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        # c-ares src/tools/ares_getopt.h: the notice follows the include guard
        (
            "#ifndef ARES_GETOPT_H\n#define ARES_GETOPT_H\n\n/*\n * Copyright (c) 1987-2001 The "
            "Regents of the University of California.\n * Licensed under the MIT license.\n */\n",
            "MIT",
        ),
        # web3-utils lib/commonjs/hash.js: the notice follows "use strict"
        (
            '"use strict";\n/*\nThis file is part of web3.js.\n\nweb3.js is free software: you '
            "can redistribute it and/or modify\nit under the terms of the GNU Lesser General "
            "Public License as published by\nthe Free Software Foundation, either version 3 of "
            "the License, or\n(at your option) any later version.\n*/\n",
            "LGPL-3.0-or-later",
        ),
        # mujs jsdtoa.c: a pasted license text in a comment after the first functions
        ('#include "jsi.h"\n\nvoid js_fmtexp(char *p, int e) {\n}\n\n' + MIT_BLOCK, "MIT"),
    ],
)
def test_notice_after_the_first_line_of_code(head: str, expected: str) -> None:
    assert header_license(head) == expected


def test_license_words_in_code_or_strings_are_not_a_notice() -> None:
    head = 'import os\n\nLICENSES = ["GNU General Public License version 3 or later"]\n'
    assert header_license(head) is None
    assert list(comment_blocks('x = "licensed under the MIT license"\n')) == []


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (BISON, "GPL-3.0-or-later WITH Bison-exception-2.2"),
        # libtool's ltmain.sh
        (
            "# This program is free software; you can redistribute it and/or modify it\n"
            "# under the terms of the GNU General Public License as published by the Free\n"
            "# Software Foundation; either version 2 of the License, or (at your option)\n"
            "# any later version.\n#\n# As a special exception to the GNU General Public "
            "License, if you\n# distribute this file as part of a program or library that is "
            "built\n# using GNU Libtool, you may include this file under the  same\n"
            "# distribution terms that you use for the rest of that program.\n",
            "GPL-2.0-or-later WITH Libtool-exception",
        ),
        # libgcc
        (
            "/* This file is free software; you can redistribute it and/or modify it under\n"
            "   the terms of the GNU General Public License as published by the Free\n"
            "   Software Foundation; either version 3, or (at your option) any later version.\n"
            "\n   Under Section 7 of GPL version 3, you are granted additional\n   permissions "
            "described in the GCC Runtime Library Exception, version\n   3.1, as published by "
            "the Free Software Foundation.  */\n",
            "GPL-3.0-or-later WITH GCC-exception-3.1",
        ),
        # GNU Classpath
        (
            "/* GNU Classpath is free software; you can redistribute it and/or modify\n"
            "it under the terms of the GNU General Public License as published by\n"
            "the Free Software Foundation; version 2.\n\nAs a special exception, the copyright "
            "holders of this library give you\npermission to link this library with "
            "independent modules to produce an\nexecutable, regardless of the license terms of "
            "these independent\nmodules. */\n",
            "GPL-2.0-only WITH Classpath-exception-2.0",
        ),
    ],
)
def test_exceptions_are_kept_as_with(head: str, expected: str) -> None:
    assert header_license(head) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        # python-telegram-bot: "Lesser Public License" without "General"
        (
            "# This program is free software: you can redistribute it and/or modify\n# it under "
            "the terms of the GNU Lesser Public License as published by\n# the Free Software "
            "Foundation, either version 3 of the License, or\n# (at your option) any later "
            "version.\n",
            "LGPL-3.0-or-later",
        ),
        # libmaxminddb t/libtap/tap.c: no version, so any
        (
            "/*\nlibtap - Write tests in C\nThis file is licensed under the LGPL\n*/\n",
            "LGPL-2.0-or-later",
        ),
        # readline examples/rlfe/extern.h: "$Id: extern.h,v 1.18" is not a GPL version
        (
            " * This program is free software; you can redistribute it and/or modify\n * it "
            "under the terms of the GNU General Public License as published by\n * the Free "
            "Software Foundation; either version 2, or (at your option)\n * any later version."
            "\n * You should have received a copy of the GNU General Public License\n * along "
            "with this program (see the file COPYING); if not, write to the\n * Free Software "
            "Foundation, Inc.\n *****\n * $Id: extern.h,v 1.18 1994/05/31 12:31:57 mlschroe "
            "Exp $ FAU\n */\n",
            "GPL-2.0-or-later",
        ),
        # python-gnupg gnupg.py: someone else's code under the GPL is not this file's license
        (
            '"""\nWhile the rest of ISconf is released under the GPL, I am releasing\nthis '
            'single file under the same terms that A.M. Kuchling used for\npycrypto.\n"""\n',
            None,
        ),
    ],
)
def test_gnu_wording_variants(head: str, expected: str | None) -> None:
    assert header_license(head) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        # libcap2 psx/doc.go
        (
            "// The psx package is licensed with a (you choose) BSD 3-clause or\n// GPL2. See "
            "LICENSE file for details.\npackage psx\n",
            "GPL-2.0-only OR BSD-3-Clause",
        ),
        # libtomcrypt src/hashes/blake2s.c
        (
            "/*\n   Copyright 2012, Samuel Neves <sneves@dei.uc.pt>.  You may use this under "
            "the\n   terms of the CC0, the OpenSSL Licence, or the Apache Public License 2.0, "
            "at\n   your option.\n*/\n",
            "Apache-2.0 OR CC0-1.0 OR OpenSSL",
        ),
        # httplib2's jquery.js 1.3.2
        (
            "/*!\n * jQuery JavaScript Library v1.3.2\n * Copyright (c) 2009 John Resig\n * Dual "
            "licensed under the MIT and GPL licenses.\n */\n",
            "MIT OR GPL-2.0-only",
        ),
        # defusedxml, distlib (CPython's contributor agreement line)
        ("# Licensed to PSF under a Contributor Agreement.\n", "Python-2.0"),
        # regex _regex_core.py
        (
            "# This version of the SRE library can be redistributed under CNRI's\n# Python 1.6 "
            "license.\n",
            "CNRI-Python",
        ),
        # pycryptodome: a dedication in the file
        (
            "# The contents of this file are dedicated to the public domain. To\n# the extent "
            "that dedication to the public domain is not available,\n",
            "LicenseRef-public-domain",
        ),
        (FLEX, "BSD-3-Clause-flex"),
    ],
)
def test_choices_dedications_and_variants(head: str, expected: str) -> None:
    assert header_license(head) == expected


def test_public_domain_history_is_not_a_dedication() -> None:
    # sjcl core/sha256.js: the older version was public domain, this one is BSD
    head = (
        "/** @fileOverview Javascript SHA-256 implementation.\n *\n * An older version of this "
        "implementation is available in the public\n * domain, but this one is (c) Emily Stark,"
        " Mike Hamburg, Dan Boneh,\n * Stanford University 2008-2010 and BSD-licensed for "
        "liability\n * reasons.\n */\n"
    )
    files = {"LICENSE.txt": GO_BSD2}
    assert RepoContext(files).attribute_file("core/sha256.js", head).license == "BSD-2-Clause"


def test_file_notice_wins_over_package_metadata() -> None:
    files = {"package.json": '{"name": "x", "license": "BSD-2-Clause"}'}
    head = "'use strict';\nvar a = 1;\n// Apache License 2.0\n// https://x.org/LICENSE\n"
    found = RepoContext(files).attribute_file("lib/utils.js", head)
    assert (found.license, found.license_evidence) == ("Apache-2.0", "header")


@pytest.mark.parametrize(
    ("files", "expected"),
    [({"LICENSE": GO_BSD2}, "BSD-2-Clause"), ({}, "BSD-3-Clause")],
)
def test_go_style_bsd_notice(files: dict[str, str], expected: str) -> None:
    head = (
        "// Copyright 2010 The Go Authors.  All rights reserved.\n// Use of this source code "
        "is governed by a BSD-style\n// license that can be found in the LICENSE file.\n\n"
        "package websocket\n"
    )
    assert RepoContext(files).attribute_file("json.go", head).license == expected
