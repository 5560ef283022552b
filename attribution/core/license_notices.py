"""Short license notices in free text: GNU notices with their versions and "or later",
one-line notices ("Licensed under the MIT license"), license exceptions, dual-licensing
wording and ``SPDX-License-Identifier`` tags.

Pure functions over strings; the short notices and exceptions are data
(``data/license_notices.json``, ``data/license_exceptions.json``).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

from attribution.core.obligations import NOASSERTION, normalize, spdx_expression

# ---------------------------------------------------------------- header notices
_GNU = re.compile(
    r"\b(?:GNU\s+(?:(?P<kind>Lesser|Library|Affero)\s+)?(?:General\s+)?"
    r"|(?P<kind2>Lesser|Library|Affero)\s+(?:General\s+)?|General\s+)Public\s+Licen[cs]e"
    r"|\b(?P<abbr>[LA]?GPL)(?=v?\d|\b)",
    re.I,
)
_GNU_VERSION = re.compile(
    r"^[-\s]?v?(?P<v0>[123](?:\.[01])?)(?P<plus0>\+|-or-later)?(?![\d.]*\d)"
    r"|(?:version|v\.?|ver\.?)\s*(?P<v>[123](?:\.[01])?)\b(?!\.\d)"
    r"|\b[LA]?GPL-?v?(?P<v2>[123](?:\.[01])?)(?P<plus>\+|-or-later)?",
    re.I,
)
_LATER = re.compile(
    r"^[^.;]{0,40}?(?:\(?\s*at\s+your\s+option\s*\)?\s*)?(?:any\s+)?(?:later|newer)"
    r"(?:\s+version)?|^\s*\+|^\s*or\s+later|^\s*or\s+any\s+later",
    re.I,
)
_GNU_CONTEXT = re.compile(
    r"free\s+software|GNU|(?:terms|conditions)\s+of|licen[cs]ed\s+under|released\s+under"
    r"|distributed\s+under|published\s+by|SPDX|@license",
    re.I,
)


def flatten(text: str) -> str:
    """``text`` as one line, comment markers at line ends removed (so that patterns can
    span the lines of a comment block)."""
    return " ".join(line.strip(" \t#*/;!%|") for line in text.splitlines())


def gnu_notices(text: str, *, unversioned: bool = False) -> list[str]:
    """SPDX ids of the GNU GPL/LGPL/AGPL notices in ``text`` ("... either version 2 of the
    License, or (at your option) any later version" -> GPL-2.0-or-later). Versions inside
    URLs are ignored; "X-only" is dropped when "X-or-later" is also stated."""
    text = flatten(text)
    found: list[str] = []
    for m in _GNU.finditer(text):
        window = text[m.end() : m.end() + 300]
        before = text[max(0, m.start() - 160) : m.start()]
        version, plus, vend = _gnu_version(window, before)
        if version is None and unversioned:
            version, plus, vend = _unversioned(m, window, before)
        if version is None:
            continue
        if not (m.group("abbr") or _GNU_CONTEXT.search(before + text[m.start() : m.end()])):
            continue
        family = _gnu_family(m.group("kind") or m.group("kind2") or m.group("abbr") or "")
        if version not in _GNU_VERSIONS[family]:
            continue
        later = plus or bool(_LATER.search(window[vend : vend + 120]))
        spdx = f"{family}-{version}-{'or-later' if later else 'only'}"
        if spdx not in found:
            found.append(spdx)
    return [f for f in found if not (f.endswith("-only") and f[:-5] + "-or-later" in found)]


_UNDER = re.compile(
    r"(?:\bthis\s+(?:file|library|program|software|code|module|package|work)\s+(?:is|are)\s+"
    r"|[.:!]\s+)(?:licen[cs]ed|released|distributed)\s+under\s+(?:the\s+)?"
    r"(?:terms\s+of\s+the\s+)?(?:GNU\s+)?$",
    re.I,
)
_LOWEST = {"GPL": "1.0", "LGPL": "2.0", "AGPL": "3.0"}


def _unversioned(m: re.Match[str], window: str, before: str) -> tuple[str | None, bool, int]:
    """A GNU license named without a version as this work's license ("This file is licensed
    under the LGPL"): any version may be chosen, so the lowest "or later"."""
    sentence = re.split(r"[.;]", window, maxsplit=1)[0]
    if not _UNDER.search(before) or re.search(r"\d", sentence):
        return None, False, 0
    family = _gnu_family(m.group("kind") or m.group("kind2") or m.group("abbr") or "")
    return _LOWEST[family], True, 0


_GNU_VERSIONS = {
    "GPL": ("1.0", "2.0", "3.0"),
    "LGPL": ("2.0", "2.1", "3.0"),
    "AGPL": ("1.0", "3.0"),
}


def _gnu_version(window: str, before: str) -> tuple[str | None, bool, int]:
    m = _GNU_VERSION.search(window[:200])
    if m is not None and "/" in window[max(0, m.start() - 1) : m.start() + 1]:
        m = None
    if (
        m is None
        or not re.fullmatch(r"[^/]*?(?:\w+[\s\W]+){0,12}?", window[: m.start()])
        or ("://" in window[: m.start()])
    ):
        m2 = re.search(r"version\s+([123](?:\.[01])?)(?:\s+of)?\s+(?:the\s+)?$", before, re.I)
        if m2 is None:
            return None, False, 0
        return _full(m2.group(1)), False, 0
    v = m.group("v0") or m.group("v") or m.group("v2")
    return _full(v), bool(m.group("plus0") or m.group("plus")), m.end()


def _full(version: str) -> str:
    return version if "." in version else version + ".0"


def _gnu_family(kind: str) -> str:
    kind = kind.lower()
    if kind in ("lesser", "library", "lgpl"):
        return "LGPL"
    if kind in ("affero", "agpl"):
        return "AGPL"
    return "GPL"


@cache
def _simple_notices() -> list[tuple[tuple[str, ...], re.Pattern[str], str]]:
    raw = resources.files("attribution.core").joinpath("data/license_notices.json")
    entries = json.loads(raw.read_text(encoding="utf-8"))["notices"]
    return [(tuple(e["gate"]), re.compile(e["pattern"], re.I), e["id"]) for e in entries]


def notices(text: str, *, first_only: bool = False) -> list[str]:
    """SPDX ids named by short notices in ``text`` ("Licensed under the MIT license",
    "either version 2 of the License, or ..."); with ``first_only``, GNU notices hide the
    others (then usually mentions of other works) unless the text offers a choice."""
    text = flatten(text)
    lower = text.lower()
    gnu = (
        gnu_notices(text, unversioned=first_only)
        if "gpl" in lower or "public licen" in lower
        else []
    )
    simple = [
        spdx
        for gate, pattern, spdx in _simple_notices()
        if any(g in lower for g in gate) and pattern.search(text)
    ]
    if first_only and gnu and not is_dual(text):
        return gnu
    return list(dict.fromkeys(gnu + simple))


_DUAL = re.compile(
    r"dual[- ]licen[cs]|\beither\W+(?:of\s+)?(?:the\s+)?(?:following\s+|these\s+|two\s+)?"
    r"licen[cs]|alternatively|at\s+your\s+(?:choice|discretion)|your\s+choice\s+of"
    r"|choose\s+(?:either|between|one|any)|you\s+may\s+(?:choose|select|opt)"
    r"|\bor\s+under\s+the\s+(?:terms|gnu)|under\s+(?:the\s+terms\s+of\s+)?either"
    r"|may\s+select|one\s+of\s+the\s+above(?:-listed)?\s+licen|\byou\s+choose\b"
    r"|at\s+your\s+option(?!\s*\)?,?\s*(?:any\s+)?later)",
    re.I,
)


def is_dual(text: str) -> bool:
    """Whether ``text`` offers a choice between licenses (dual licensing wording)."""
    return bool(_DUAL.search(flatten(text)))


# ---------------------------------------------------------------- SPDX tags
_TAG = re.compile(r"SPDX-License-Identifier\s*:?[ \t]*(?P<expr>[^\n\r]*)", re.I)
_TAG_END = re.compile(r"\s*(?:\*/|-->|\*\)|#\}|%>|\"\"\"|'''|;|\\n\"?|\"|\*).*$")


def tag_expression(text: str, warnings: list[str]) -> str | None:
    """The license of the SPDX-License-Identifier tags in ``text`` (several: AND); a
    malformed tag is recorded in ``warnings`` and read leniently, never raised."""
    found = []
    for raw in spdx_tags(text):
        spdx = spdx_expression(raw) if raw else None
        if spdx is None:
            lenient = normalize(raw) if raw else NOASSERTION
            warnings.append(
                f"malformed SPDX-License-Identifier {raw!r}"
                + ("" if lenient == NOASSERTION else f"; read as {lenient}")
            )
            spdx = None if lenient == NOASSERTION else lenient
        if spdx:
            found.append(spdx)
    return normalize(found) if found else None


def spdx_tags(text: str) -> list[str]:
    """Raw expressions of the ``SPDX-License-Identifier:`` tags in ``text`` (comment closers
    and trailing punctuation removed; may be malformed)."""
    out: list[str] = []
    if "icense-Identifier" not in text and "icense-identifier" not in text.lower():
        return out
    for m in _TAG.finditer(text):
        expr = _TAG_END.sub("", m.group("expr")).strip().strip(",.")
        out.append(expr)
    return out


# ---------------------------------------------------------------- exceptions
@cache
def _exceptions() -> list[tuple[re.Pattern[str], re.Pattern[str], str]]:
    raw = resources.files("attribution.core").joinpath("data/license_exceptions.json")
    entries = json.loads(raw.read_text(encoding="utf-8"))["exceptions"]
    return [(re.compile(e["pattern"], re.I), re.compile(e["to"]), e["id"]) for e in entries]


_MARKS = re.compile(r"^[ \t]*(?:[#*/;!%]+|--|dnl\b)", re.M)
_PARAGRAPH_END = re.compile(r"\n[ \t]*(?:[*#/;!%-]+[ \t]*)?(?:\n|$)|\*/")


def exceptions_in(text: str) -> tuple[list[tuple[str, re.Pattern[str]]], str]:
    """(exceptions granted in ``text`` as (SPDX exception id, licenses it applies to), the
    text with each exception's paragraph blanked out)."""
    lower = text.lower()
    if "exception" not in lower and "in addition" not in lower:
        return [], text
    granted = []
    plain = _MARKS.sub(lambda m: " " * len(m.group()), text)  # same offsets, no comment marks
    for pattern, to, spdx in _exceptions():
        m = pattern.search(plain)
        if m is None:
            continue
        granted.append((spdx, to))
        start = _paragraph_start(text, m.start())
        end = _PARAGRAPH_END.search(text, m.end())
        stop = end.start() if end else len(text)
        text = text[:start] + " " * (stop - start) + text[stop:]
    return granted, text


def _paragraph_start(text: str, at: int) -> int:
    """Where the paragraph holding offset ``at`` starts (after the last blank comment line)."""
    starts = [m.end() for m in _PARAGRAPH_END.finditer(text, 0, at)]
    return starts[-1] if starts else 0


def with_exceptions(ids: list[str], granted: list[tuple[str, re.Pattern[str]]]) -> list[str]:
    """``ids`` with each granted exception attached (``GPL-3.0-or-later WITH
    Bison-exception-2.2``) to the licenses it applies to; an exception that applies to
    none of them is left out."""
    out = []
    for spdx in ids:
        extra = next((e for e, to in granted if to.search(spdx) and " WITH " not in spdx), None)
        out.append(f"{spdx} WITH {extra}" if extra else spdx)
    return out
