"""The five disagreements of the fresh ScanCode sample (seed 17) where ScanCode is right.

Each rule reads what the notice says, not the file's name; the texts are short excerpts of the
corpus files named in each test (issue 16).
"""

from __future__ import annotations

from attribution.core.license_header import header_license
from attribution.core.licenses import RepoContext

# debian/libedit/src/wcsdup.c
WCSDUP = """/*	$NetBSD: wcsdup.c,v 1.6 2022/03/12 17:31:40 christos Exp $	*/

/*
 * Copyright (C) 2006 Aleksey Cheusov
 *
 * This material is provided "as is", with absolutely no warranty expressed
 * or implied. Any use is at your own risk.
 *
 * Permission to use or copy this software for any purpose is hereby granted
 * without fee. Permission to modify the code and to distribute modified
 * code is also granted without any restrictions.
 */

#ifndef HAVE_WCSDUP

#include "config.h"
"""
# debian/libjpeg-turbo/jdarith.c
JDARITH = """/*
 * jdarith.c
 *
 * This file was part of the Independent JPEG Group's software:
 * Developed 1997-2015 by Guido Vollbeding.
 * libjpeg-turbo Modifications:
 * Copyright (C) 2015-2020, 2022, D. R. Commander.
 * For conditions of distribution and use, see the accompanying README.ijg
 * file.
 *
 * This file contains portable arithmetic entropy encoding routines for JPEG
 * (implementing Recommendation ITU-T T.81 | ISO/IEC 10918-1).
 */

#define JPEG_INTERNALS
#include "jinclude.h"
"""
# debian/make-dfsg/lib/alloca.c (gnulib)
ALLOCA = """/* alloca.c -- allocate automatically reclaimed memory
   (Mostly) portable public-domain implementation -- D A Gwyn

   This implementation of the PWB library alloca function,
   which is used to allocate space off the run-time stack so
   that it is automatically reclaimed upon procedure exit,
   was inspired by discussions with J. Q. Johnson of Cornell.  */

#include <config.h>
"""
# npm/sjcl/core/aes.js: the same words about the work it derives from, beside its own licence
SJCL_AES = """/** @fileOverview Low-level AES implementation.
 *
 * This file contains a low-level implementation of AES, optimized for
 * size and for efficiency on several browsers.  It is based on
 * OpenSSL's aes_core.c, a public-domain implementation by Vincent
 * Rijmen, Antoon Bosselaers and Paulo Barreto.
 *
 * An older version of this implementation is available in the public
 * domain, but this one is (c) Emily Stark, Mike Hamburg, Dan Boneh,
 * Stanford University 2008-2010 and BSD-licensed for liability
 * reasons.
 */
"""
# debian/nettle/md5.c: "Based on public domain code" after the file's own LGPL/GPL notice
NETTLE_NOTE = """/* Based on public domain code hacked by Colin Plumb, Andrew Kuchling, and
 * Niels Möller. */

#include <assert.h>
"""
# debian/htop/linux/IOPriority.h
IOPRIORITY = """#ifndef HEADER_IOPriority
#define HEADER_IOPriority
/*
htop - IOPriority.h
(C) 2004-2012 Hisham H. Muhammad
Released under the GNU GPLv2+, see the COPYING file
in the source distribution for its full text.

Based on ionice,
Copyright (C) 2005 Jens Axboe <jens@axboe.dk>
Released under the terms of the GNU General Public License version 2
*/

enum {
   IOPRIO_CLASS_NONE,
};
"""
# pypi/prometheus-client: its NOTICE and its package expression
PROMETHEUS = {
    "NOTICE": (
        "Prometheus instrumentation library for Python applications\n"
        "Copyright 2015 The Prometheus Authors\n\n"
        'This product bundles decorator 4.0.10 which is available under a "2-clause BSD"\n'
        "license. For details, see prometheus_client/decorator.py.\n"
    ),
    "PKG-INFO": (
        "Metadata-Version: 2.4\nName: prometheus_client\nVersion: 0.23.1\n"
        "License-Expression: Apache-2.0 AND BSD-2-Clause\n"
    ),
}


def test_a_permission_notice_with_no_spdx_id_is_other_permissive() -> None:
    assert header_license(WCSDUP) == "LicenseRef-scancode-other-permissive"
    got = RepoContext({}).attribute_file("src/wcsdup.c", WCSDUP)
    assert (got.license, got.license_type) == ("LicenseRef-scancode-other-permissive", "permissive")


def test_a_permission_notice_with_conditions_is_not_read_as_unconditional() -> None:
    conditional = WCSDUP.replace("without any restrictions", "provided this notice is kept")
    assert header_license(conditional) is None


def test_the_ijg_notice_pointing_to_its_readme_is_ijg() -> None:
    assert header_license(JDARITH) == "IJG"
    unmodified = (
        "/*\n * jcomapi.c\n *\n * This file is part of the Independent JPEG Group's software.\n"
        " * For conditions of distribution and use, see the accompanying README file.\n */\n"
    )
    assert header_license(unmodified) == "IJG"


def test_a_public_domain_implementation_described_by_its_own_header() -> None:
    assert header_license(ALLOCA) == "LicenseRef-public-domain"


def test_public_domain_work_it_derives_from_is_not_a_dedication() -> None:
    assert header_license(SJCL_AES) == "LicenseRef-BSD"
    assert header_license(NETTLE_NOTE) is None


def test_borrowed_code_granted_under_its_own_gnu_version_keeps_its_scope() -> None:
    assert header_license(IOPRIORITY) == "GPL-2.0-or-later AND GPL-2.0-only"


def test_one_gnu_notice_stating_both_scopes_stays_or_later() -> None:
    mupdf = (
        "// Copyright (C) 2004-2021 Artifex Software, Inc.\n//\n"
        "// MuPDF is free software: you can redistribute it and/or modify it under the\n"
        "// terms of the GNU Affero General Public License as published by the Free\n"
        "// Software Foundation, either version 3 of the License, or (at your option)\n"
        "// any later version.\n\n#include <stdio.h>\n"
    )
    assert header_license(mupdf) == "AGPL-3.0-or-later"


def test_a_notice_naming_the_bundled_file_takes_its_license_off_the_others() -> None:
    ctx = RepoContext(PROMETHEUS)
    assert ctx.attribute_file("tests/test_twisted.py", "import os\n").license == "Apache-2.0"
    bundled = ctx.attribute_file("prometheus_client/decorator.py", "import re\n")
    assert bundled.license == "Apache-2.0 AND BSD-2-Clause"


def test_a_notice_naming_no_file_leaves_the_package_expression() -> None:
    notice = PROMETHEUS["NOTICE"].replace(" For details, see prometheus_client/decorator.py.", "")
    ctx = RepoContext({**PROMETHEUS, "NOTICE": notice})
    got = ctx.attribute_file("tests/test_twisted.py", "import os\n").license
    assert got == "Apache-2.0 AND BSD-2-Clause"


def test_a_notice_naming_a_license_text_scopes_its_directory() -> None:
    notice = PROMETHEUS["NOTICE"].replace("prometheus_client/decorator.py", "vendor/deco/LICENSE")
    ctx = RepoContext({**PROMETHEUS, "NOTICE": notice})
    assert ctx.attribute_file("tests/test_twisted.py", "import os\n").license == "Apache-2.0"
    got = ctx.attribute_file("vendor/deco/deco.py", "import re\n").license
    assert got == "Apache-2.0 AND BSD-2-Clause"
    at_root = PROMETHEUS["NOTICE"].replace("prometheus_client/decorator.py", "LICENSE.txt")
    ctx = RepoContext({**PROMETHEUS, "NOTICE": at_root})
    got = ctx.attribute_file("tests/test_twisted.py", "import os\n").license
    assert got == "Apache-2.0 AND BSD-2-Clause"
