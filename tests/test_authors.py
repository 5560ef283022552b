"""Authors, e-mails and copyright statements: from file heads, author lists and manifests."""

from __future__ import annotations

import pytest

from attribution.core.authors import (
    authors_file_people,
    copyright_statements,
    holder,
    package_info,
    parse_dep5,
    people,
    split_person,
)
from attribution.core.licenses import RepoContext


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("Copyright (c) 2010-2020 Benjamin Peterson", "Benjamin Peterson"),
        (
            "Copyright 2010, 2011, Chris Winberry <chris@winberry.net>. All rights reserved.",
            "Chris Winberry",
        ),
        ("2009-2026 (c) Benoît Chesneau <benoitc@gunicorn.org>", "Benoît Chesneau"),
        (
            "Copyright (c) Sindre Sorhus <sindresorhus@gmail.com> (https://sindresorhus.com)",
            "Sindre Sorhus",
        ),
        ("Copyright © 2018-present, Encode OSS Ltd.", "Encode OSS Ltd."),
        ("SPDX-FileCopyrightText: 2021 Jane Roe <jane@example.org>", "Jane Roe"),
        (
            "Copyright (C) 1989, 1991 Free Software Foundation, Inc.",
            "Free Software Foundation, Inc.",
        ),
        ("Copyright notice", ""),
        ("Copyright (c) <year> <copyright holders>", ""),
        ("copyright = '2019, ' + author", ""),
    ],
)
def test_holder(statement: str, expected: str) -> None:
    assert holder(statement) == expected


def test_copyright_statements_from_comments_and_not_from_prose() -> None:
    head = (
        "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n"
        "# Copyright (c) 2012 Jane Roe <jane@example.org>\n"
        "#   Copyright 2014 John Doe\n"
        "# The above copyright notice shall be included in all copies.\n"
        "/* (c) You must retain the notice */\n"
        " * SPDX-FileCopyrightText: 2020 Acme Corp.\n"
    )
    found = copyright_statements(head)
    assert found == [
        "Copyright (c) 2012 Jane Roe <jane@example.org>",
        "Copyright 2014 John Doe",
        "SPDX-FileCopyrightText: 2020 Acme Corp.",
    ]


def test_split_person_keeps_names_and_emails_apart() -> None:
    assert split_person("Jane Roe <jane@example.org> (https://jane.dev)") == (
        "Jane Roe",
        ("jane@example.org",),
    )
    names, emails = people(["Jane Roe <jane@x.org>", "JANE ROE", "john@y.org", "John Doe"])
    assert names == ("Jane Roe", "John Doe") and emails == ("jane@x.org", "john@y.org")


def test_authors_file() -> None:
    text = (
        "# Authors\n\nThis project was started by many people listed below:\n\n"
        "* Jane Roe <jane@example.org>\n- John Doe (@jdoe)\nMaintainers:\n  Ann Lee\n\n"
        "See https://example.org for more.\n"
    )
    assert authors_file_people(text) == [
        "Jane Roe <jane@example.org>",
        "John Doe (@jdoe)",
        "Ann Lee",
    ]


@pytest.mark.parametrize(
    ("path", "text", "people_", "url"),
    [
        (
            "PKG-INFO",
            "Metadata-Version: 2.1\nName: a\nAuthor: Jane Roe\nAuthor-email: "
            'jane@example.org\nMaintainer-email: "John Doe" <john@example.org>\nHome-page: '
            "https://example.org/a\n",
            ("Jane Roe <jane@example.org>", "John Doe <john@example.org>"),
            "https://example.org/a",
        ),
        (
            "package.json",
            '{"author": {"name": "Jane Roe", "email": "jane@example.org"}, '
            '"contributors": ["John Doe <john@example.org> (https://jd.dev)"], '
            '"repository": {"type": "git", "url": "git+ssh://git@github.com/jr/a.git"}}',
            ("Jane Roe <jane@example.org>", "John Doe <john@example.org> (https://jd.dev)"),
            "https://github.com/jr/a",
        ),
        (
            "Cargo.toml",
            '[package]\nname = "a"\nauthors = ["Jane Roe <jane@example.org>"]\n'
            'repository = "https://github.com/jr/a"\n',
            ("Jane Roe <jane@example.org>",),
            "https://github.com/jr/a",
        ),
        (
            "pyproject.toml",
            '[project]\nname = "a"\nauthors = [{name = "Jane Roe", email = '
            '"jane@example.org"}]\n[project.urls]\nSource = "https://github.com/jr/a"\n',
            ("Jane Roe <jane@example.org>",),
            "https://github.com/jr/a",
        ),
    ],
)
def test_package_people_and_url(path: str, text: str, people_: tuple[str, ...], url: str) -> None:
    info = package_info(path, text)
    assert info is not None and info.people == people_ and info.url == url


def test_broken_manifest_is_ignored() -> None:
    assert package_info("package.json", "{not json") is None
    assert package_info("README.md", "# hi") is None


def test_dep5_stanza_holders() -> None:
    parsed = parse_dep5(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
        "\n\nFiles: *\nCopyright: 2001-2010 Jane Roe <jane@example.org>\n"
        "           2011 John Doe\nLicense: GPL-2+\n"
    )
    assert parsed is not None
    stanzas, _ = parsed
    assert stanzas[0].statements == (
        "Copyright 2001-2010 Jane Roe <jane@example.org>",
        "Copyright 2011 John Doe",
    )
    assert parse_dep5("This package was debianized by someone.\n") is None


def test_file_holders_come_first_then_package_authors_without_emails() -> None:
    files = {
        "package.json": '{"license": "MIT", "author": "Pkg Author <pa@example.org>"}',
        "AUTHORS": "Credit Person\n",
    }
    got = RepoContext(files).attribute_file(
        "lib/a.js", "// Copyright 2020 File Holder <fh@example.org>\nmodule.exports = 1\n"
    )
    assert got.authors == ("File Holder", "Pkg Author", "Credit Person")
    assert got.emails == ("fh@example.org", "pa@example.org")
    assert got.copyright == ("Copyright 2020 File Holder",)
    assert all("@" not in a for a in got.authors)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # libpcap pcap-rpcap.h: the holder on the line after the years
        (
            " * Copyright (c) 1994, 1995, 1996\n *\tThe Regents of the University of California."
            "  All rights reserved.\n *\n",
            "The Regents of the University of California",
        ),
        # cffi libffi_x86_x64/types.c: mid-line after the file name
        ("   types.c - Copyright (c) 1996, 1998  Red Hat, Inc.\n", "Red Hat, Inc."),
        # threadpoolctl.py: in parentheses
        (
            "# https://github.com/IntelPython/smp (Copyright (c) 2017, Intel Corporation)\n",
            "Intel Corporation",
        ),
        # sjcl core/sha512.js and css-select attributes.ts: after a name, before the terms
        (" * CryptoJS (c) 2009-2012 by Jeff Mott. All rights reserved.\n", "Jeff Mott"),
        (
            " * Taken from XRegExp, (c) 2007-2020 Steven Levithan under the MIT license\n",
            "Steven Levithan",
        ),
    ],
)
def test_holders_split_over_lines_or_mid_line(text: str, expected: str) -> None:
    assert [holder(s) for s in copyright_statements(text)] == [expected]


def test_copyright_inside_code_is_not_a_statement() -> None:
    assert copyright_statements('print("(c) 2010 Foo")\nx = "Copyright 2011 Bar"\n') == []


def test_a_file_listing_many_holders_keeps_them() -> None:
    head = "".join(f"# Copyright 2012 Person Number{i}\n" for i in range(40))
    authors = RepoContext({}).attribute_file("a.py", head + "import os\n").authors
    assert len(authors) == 40
