"""Where a file states its license: the notices of its head.

The head is read in two places, first that yields a license: the leading comments (all the
text before the first line of code, however many comment blocks), else the notice-like
comments further in the head (a notice after an include guard, ``"use strict";``, a module
wrapper or the imports; several notices, each for a borrowed part, are joined with AND).
Each place is read for pasted license texts (same matcher as license files), short
notices, GNU notices and their exceptions.
A notice of its own further on (a comment block with a dated copyright line and a license,
for code taken from elsewhere) adds its license with AND, whether in the head after the
leading notice or in the next ``LATER_CHARS`` of the file (found by a plain substring scan
for "copyright", so a file without one costs a few microseconds); inside one comment, a
line opening with a dated copyright after a stated license starts such a notice too.
Pure: strings in, SPDX ids out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from attribution.core.license_notices import (
    exceptions_in,
    flatten,
    is_dual,
    notices,
    with_exceptions,
)
from attribution.core.license_texts import match_texts, outside
from attribution.core.obligations import combine, license_ids, normalize

HEAD_CHARS = 8192
LATER_CHARS = 64 * 1024  # text after the head scanned for notices of borrowed code
MAX_LATER_BLOCKS = 8  # comment blocks read there at most
_TRIGGER_WORDS = (
    "licen",
    "public domain",
    "public-domain",
    "permission",
    "redistribut",
    "wtfpl",
    "gpl",
    "mit",
    "independent jpeg group",
)
_FULL_TEXT_PHRASES = (
    "permission is hereby granted",
    "redistribution and use",
    "permission to use, copy",
    "free and unencumbered",
    "provided 'as-is'",
    "this software is provided",
    'provided "as is"',
)
_CODE_LINE = re.compile(
    r"^[ \t]*(?:import\s|from\s+[\w.]+\s+import\s|#\s*(?:include|define|if|import)\b"
    r"|package\s+[\w.]+\s*;?\s*$|use\s+[\w:]+|def\s|class\s|(?:async\s+)?function\b"
    r"|(?:const|var|let|export|typedef|struct|namespace|static|public|void|int)\s"
    r"|module\.exports|['\"]use strict|require\(|local\s)",
    re.M,
)
_MARKERS = ("//", "#", "/*", "*", "--", ";", "%", "<!--", "dnl ", "REM ", '"""', "'''")
_DIRECTIVE = re.compile(r"#\s*(?:include|define|if|ifn?def|endif|else|elif|pragma|import|undef)\b")


def header_license(head: str, beyond: str = "") -> str | None:
    """The SPDX expression stated by the notices of a file's head (its first ~8 KiB):
    the leading comments first, else the notice-like comments after them (several: AND);
    then the notices of borrowed code after the leading notice and in ``beyond`` (the text
    after the head, up to ``LATER_CHARS``), with AND."""
    head = head[:HEAD_CHARS]
    code = _CODE_LINE.search(head)
    leading = head[: code.start()] if code else head
    found, borrowed = _notices_of(leading)
    later = list(borrowed)
    rest = head[code.start() :] if code else ""
    if found:  # only blocks with a copyright line of their own: look for one first
        blocks = [] if _next_copyright(rest, 0) < 0 else comment_blocks(rest)
        later += [_borrowed(b, found) for b in blocks if _OWN_COPYRIGHT.search(b)]
    else:
        blocks = list(comment_blocks(rest)) if _notice_like(rest) else []
        later = []
        for block in blocks:
            own, borrowed = _notices_of(block)
            later += [own, *borrowed]
    later += [_borrowed(b, found) for b in own_notices(beyond)]
    if not any(later):
        return found
    # a later notice naming only licenses of the header adds nothing (and ANDed to a
    # choice, "MIT OR GPL-2.0-only" AND "MIT", it would take the choice away)
    named = set(license_ids(found)) if found else set()
    parts = [
        x
        for x in [found, *later]
        if x and (x == found or (set(license_ids(x)) - named and not _offers(x, found)))
    ]
    return normalize(parts) if parts else None  # several notices (one per part): AND


@lru_cache(maxsize=4096)
def _notices_of(region: str) -> tuple[str | None, tuple[str | None, ...]]:
    """(the license of a comment region's notice, those of the borrowed code's notices after
    it): a line opening with a dated copyright after a stated license starts a notice of its
    own ("Based on ionice, Copyright (C) 2005 Jens Axboe, Released under the terms of the GNU
    General Public License version 2" after htop's GPLv2+), unless the region offers a choice."""
    lower = region.lower()
    words = [i for i in (lower.find(w) for w in _TRIGGER_WORDS) if i >= 0]
    if not words or lower.count("copyright") + lower.count("(c)") + lower.count("©") < 2:
        return region_license(region), ()
    for m in _COPYRIGHT_LINE.finditer(region, min(words)):  # after the first license word
        before = region[: m.start()]
        if not _OWN_COPYRIGHT.search(before):
            continue
        found = region_license(before)
        if found and not is_dual(region):
            return found, (_borrowed(region[m.start() :], found),)
        if found:
            break
    return region_license(region), ()


_COPYRIGHT_LINE = re.compile(
    r"^[ \t/*#;!-]*(?:copyright\s*(?:\(c\)|©)?|\(c\)|©)\s*\d{4}", re.I | re.M
)


def own_notices(text: str) -> list[str]:
    """The comment blocks of ``text`` (at most ``LATER_CHARS`` of it) holding a dated
    copyright line and a license word: notices of code taken from elsewhere."""
    text = text[:LATER_CHARS]
    blocks: list[str] = []
    at = _next_copyright(text, 0)
    while at >= 0 and len(blocks) < MAX_LATER_BLOCKS:
        start = text.rfind("\n", 0, max(0, at - _BLOCK_BEFORE)) + 1
        end = text.find("\n", at + _BLOCK_AFTER)
        end = len(text) if end < 0 else end
        blocks += [
            b
            for b in comment_blocks(text[start:end])
            if _OWN_COPYRIGHT.search(b) and b not in blocks
        ]
        at = _next_copyright(text, end)
    return blocks


def _next_copyright(text: str, start: int) -> int:
    hits = [i for i in (text.find(w, start) for w in ("opyright", "OPYRIGHT")) if i >= 0]
    return min(hits) if hits else -1


_BLOCK_BEFORE = 1000  # characters read before a copyright line for its comment block
_BLOCK_AFTER = 3000  # and after it (a pasted license text follows the line)
_OWN_COPYRIGHT = re.compile(r"(?:copyright\s*(?:\(c\)|©)?|\(c\)|©)\s*\d{4}", re.I)


def _borrowed(block: str, found: str | None) -> str | None:
    """The license of a notice of borrowed code: every license it names (a GNU notice does
    not hide the others here), less the header's own GNU license named again in another
    scope ("modified by the htop developers applying GPL-2" in a GPL-2.0-or-later file),
    unless the notice offers a choice or releases the borrowed code under that scope
    ("Released under the terms of the GNU General Public License version 2")."""
    ids = header_ids(block, first_only=False)
    if len(ids) > 1 and is_dual(block):  # a choice is kept whole ("MIT, and GPL version 2
        return combine(ids, True)  # or later ... apply one of these licenses": OR)
    granted = _GNU_GRANT.search(flatten(block))
    own = {_gnu_base(i) for i in license_ids(found)} - {None} if found and not granted else set()
    ids = [i for i in ids if _gnu_base(i.split()[0]) not in own]
    return combine(ids, False) if ids else None


_GNU_GRANT = re.compile(
    r"(?:released|licen[cs]ed|distributed)\s+under\s+(?:the\s+)?(?:terms\s+of\s+(?:the\s+)?)?"
    r"(?:GNU\s+(?:(?:Lesser|Library|Affero)\s+)?General\s+Public\s+Licen[cs]e|[LA]?GPL)",
    re.I,
)


def _offers(choice: str, found: str | None) -> bool:
    """Whether ``choice`` is a choice offering the whole of ``found`` ("GPL-2.0-or-later"
    AND "MIT OR GPL-2.0-or-later" is GPL-2.0-or-later)."""
    if not found or " AND " in choice or " OR " not in choice:
        return False
    return found in {p.strip("() ") for p in choice.split(" OR ")}


def _gnu_base(spdx_id: str) -> str | None:
    m = re.fullmatch(r"((?:A|L)?GPL-\d\.\d)(?:-only|-or-later)?", spdx_id)
    return m.group(1) if m else None


@lru_cache(maxsize=4096)
def region_license(region: str) -> str | None:
    """The license expression of one comment region, or None."""
    ids = header_ids(region)
    if not ids:
        return None
    return combine(ids, len(ids) > 1 and is_dual(region))


def header_ids(head: str, *, first_only: bool = True) -> list[str]:
    """SPDX ids (``X WITH exception`` where one is granted) named by the notices or pasted
    license texts of a header."""
    lower = head.lower()
    if not any(word in lower for word in _TRIGGER_WORDS):
        return []
    squeezed = " ".join(flatten(lower).split())
    full = any(phrase in squeezed for phrase in _FULL_TEXT_PHRASES)
    matches = match_texts(head) if full else []
    granted, rest = exceptions_in(outside(head, matches))
    found = [m.license_id for m in matches]
    ids = list(dict.fromkeys(found + notices(rest, first_only=first_only)))
    return with_exceptions(ids or unnamed_license(rest, squeezed), granted)


def unnamed_license(text: str, squeezed: str) -> list[str]:
    """A notice naming no license: the header calling its own code a "public-domain
    implementation" (its title line, not a work it derives from), or a permission to use,
    copy, modify and distribute granted with no condition (no SPDX id: ScanCode's
    ``other-permissive`` key). ``squeezed``: the text flattened to one lower-case line."""
    public = "public domain" in squeezed or "public-domain" in squeezed
    if public and _OWN_PUBLIC_DOMAIN.search(text):
        return ["LicenseRef-public-domain"]
    granted = "permission" in squeezed and all(p.search(squeezed) for p in _FREE_GRANT)
    if granted and not _CONDITION.search(squeezed):
        return ["LicenseRef-scancode-other-permissive"]
    return []


_OWN_PUBLIC_DOMAIN = re.compile(
    r"^[ \t/*#;-]*(?:\(\w+\)\s*)?(?:\w+\s+)?public[- ]domain\s+(?:implementation|version)\b",
    re.I | re.M,
)
_FREE_GRANT = (
    re.compile(r"permission to (?:use|copy)\b[^.]{0,80}?\bgranted\b"),
    re.compile(r"permission to [^.]{0,40}\bmodify\b[^.]{0,80}?\bgranted\b"),
    re.compile(r"\bdistribut"),
    re.compile(r"\bwithout (?:any )?(?:restrictions?|fee)\b"),
)
_CONDITION = re.compile(
    r"provided (?:that|this|the|you)\b|subject to|as long as|on condition|\b(?:must|shall)\b"
)


def _notice_like(text: str) -> bool:
    lower = text.lower()
    return any(word in lower for word in _TRIGGER_WORDS)


def comment_blocks(text: str) -> Iterator[str]:
    """The comment blocks of ``text`` (runs of comment lines, ``/* ... */`` and docstring
    bodies) that hold a notice-like word, in order."""
    block: list[str] = []
    state = ""
    for line in text.splitlines():
        comment, state = _comment_line(line.strip(), state)
        if comment:
            block.append(line)
            continue
        if block and _notice_like(joined := "\n".join(block)):
            yield joined
        block = []
    if block and _notice_like(joined := "\n".join(block)):
        yield joined


def _comment_line(line: str, state: str) -> tuple[bool, str]:
    """(whether ``line`` is comment text, the block state after it): state is ``/*`` inside
    a C block comment, a triple quote inside a docstring, else empty."""
    if state == "/*":
        return True, "" if "*/" in line else state
    if state:
        return True, "" if state in line else state
    if line.startswith(('"""', "'''")):
        quote = line[:3]
        return True, quote if line.count(quote) == 1 else ""
    if "/*" in line and "*/" not in line[line.index("/*") :]:
        return line.startswith("/*"), "/*"
    return line.startswith(_MARKERS) and not _DIRECTIVE.match(line), ""


def refine_bsd(expression: str, nearest: str | None, head: str) -> str:
    """A notice naming only "a BSD-style license" takes the BSD variant of the nearest
    license file (``nearest``); Go's "governed by a BSD-style license" without one is Go's
    BSD-3-Clause."""
    if "LicenseRef-BSD" not in expression:
        return expression
    specific = [i for i in license_ids(nearest) if i.startswith("BSD-")] if nearest else []
    if not specific and _GO_STYLE.search(head):
        specific = ["BSD-3-Clause"]
    return normalize(expression.replace("LicenseRef-BSD", specific[0])) if specific else expression


_GO_STYLE = re.compile(r"governed[\s/#*]+by[\s/#*]+a[\s/#*]+BSD-style[\s/#*]+licen[cs]e", re.I)


def with_file_exception(expression: str, nearest: str | None) -> str:
    """A notice naming a license that the nearest license file grants with an exception
    ("Licensed under the LGPLv3, see LICENCE file" beside LGPL-3.0 WITH its linking
    exception) takes the exception."""
    if not nearest or " WITH " not in nearest:
        return expression
    for m in re.finditer(r"([\w.+-]+) WITH ([\w.+-]+)", nearest):
        expression = re.sub(rf"\b{re.escape(m[1])}\b(?! WITH)", m[0], expression)
    return expression
