"""Recognise licenses in free text: full license texts, header notices and SPDX tags.

Pure functions over strings. The license templates are SPDX License List texts shipped in
``attribution/data/license_texts.json`` (see ``spdx_template`` for how they were made).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from xml.etree import ElementTree

SHINGLE = 4  # words per shingle
MIN_COVERAGE = 0.72  # fraction of a template's shingles a file must hold to contain that text
_WORD = re.compile(r"[a-z0-9]+")
_EQUIVALENT = {
    "licence": "license",
    "licences": "licenses",
    "licenced": "licensed",
    "acknowledgement": "acknowledgment",
    "acknowledgements": "acknowledgments",
    "organisation": "organization",
    "authorised": "authorized",
    "copyrights": "copyright",
    "sublicence": "sublicense",
}
_SKIP_TAGS = {
    "titleText",
    "copyrightText",
    "optional",
    "bullet",
    "standardLicenseHeader",
    "notes",
    "crossRefs",
    "obsoletedBy",
}
_GAP = "*"


def words(text: str) -> list[str]:
    """Lower-case word tokens of ``text`` with spelling variants folded together."""
    return _tokens(text)[0]


def _tokens(text: str) -> tuple[list[str], list[int]]:
    """(words, character offset of each word) of ``text``."""
    text = text.lower().replace("non-infringement", "noninfringement ")
    found = [(_EQUIVALENT.get(m.group(), m.group()), m.start()) for m in _WORD.finditer(text)]
    return [w for w, _ in found], [o for _, o in found]


# ---------------------------------------------------------------- SPDX XML -> template words
def spdx_template(xml: str) -> tuple[str, str]:
    """Template words (gaps as ``*``) of an SPDX License List XML file: (text, standard header).

    Optional parts, titles, bullets and copyright lines are left out (a copyright line
    becomes a gap); a variable ``<alt>`` part keeps its default wording, so that related
    templates (BSD-2/3-Clause) are compared on the same words. This regenerates
    ``data/license_texts.json``.
    """
    root = ElementTree.fromstring(xml)
    text, header = "", ""
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "text":
            text = " ".join(_template_words(element))
        elif tag == "standardLicenseHeader":
            header = " ".join(_template_words(element, top=True))
    return text, header


def _template_words(element: ElementTree.Element, *, top: bool = False) -> list[str]:
    tag = element.tag.rsplit("}", 1)[-1]
    if tag in _SKIP_TAGS and not top:
        return ([_GAP] if tag == "copyrightText" else []) + words(element.tail or "")
    out = words(element.text or "")
    for child in element:
        out += _template_words(child)
    return out + words(element.tail or "") if not top else out


# ---------------------------------------------------------------- full-text matching
@dataclass(frozen=True)
class TextMatch:
    """A license text found in a larger text, with the word span it covers."""

    license_id: str
    coverage: float  # fraction of the template's shingles present
    start: int  # character offset where the matched region starts
    end: int  # character offset just past the matched region


@dataclass(frozen=True)
class _Templates:
    shingles: dict[str, frozenset[tuple[str, ...]]]
    index: dict[tuple[str, ...], tuple[str, ...]]


def _shingles(seq: list[str]) -> Iterable[tuple[int, tuple[str, ...]]]:
    for i in range(len(seq) - SHINGLE + 1):
        gram = tuple(seq[i : i + SHINGLE])
        if _GAP not in gram:
            yield i, gram


@cache
def _data() -> dict[str, dict[str, str]]:
    raw = resources.files("attribution.core").joinpath("data/license_texts.json")
    return dict(json.loads(raw.read_text(encoding="utf-8"))["licenses"])


@cache
def _templates() -> _Templates:
    shingles: dict[str, frozenset[tuple[str, ...]]] = {}
    for key, entry in _data().items():
        shingles[key] = frozenset(g for _, g in _shingles(entry["text"].split()))
        if entry.get("header") and entry.get("use_header"):
            shingles[key + "#notice"] = frozenset(g for _, g in _shingles(entry["header"].split()))
    index: dict[tuple[str, ...], list[str]] = {}
    for key, grams in shingles.items():
        for gram in grams:
            index.setdefault(gram, []).append(key)
    return _Templates(shingles, {g: tuple(keys) for g, keys in index.items()})


def template_ids() -> list[str]:
    """SPDX ids of the shipped license texts."""
    return sorted(_data())


def template_text(spdx_id: str) -> str:
    """The shipped words of a license text (lower case, no punctuation, ``*`` for the
    copyright line); matching reads words only, so this stands in for the text in tests."""
    return _data()[spdx_id]["text"]


def match_texts(text: str, min_coverage: float = MIN_COVERAGE) -> list[TextMatch]:
    """License texts contained in ``text``, in order of appearance.

    Greedy over regions: each candidate template is located as its densest cluster of
    matching shingles; the candidate with the best F1 of coverage (template shingles found)
    and precision (region shingles explained) wins, and its region is taken out, so a
    BSD-3-Clause text is not also reported as BSD-2-Clause, nor a GPL-3.0 text as AGPL-3.0.
    """
    tpl = _templates()
    seq, offsets = _tokens(text)
    grams = [g for _, g in _shingles(seq)]
    where: dict[tuple[str, ...], list[int]] = {}
    for pos, gram in enumerate(grams):
        where.setdefault(gram, []).append(pos)
    hits = Counter(k for g in where for k in tpl.index.get(g, ()))
    cands = {k for k, n in hits.items() if n >= min_coverage * len(tpl.shingles[k])}
    taken = [False] * len(grams)
    found: list[TextMatch] = []
    scored = {k: _locate(tpl.shingles[k], grams, where, taken) for k in cands}
    while cands:
        best = max(cands, key=lambda k: (scored[k][0], len(tpl.shingles[k]), k))
        _, coverage, start, end = scored[best]
        if coverage < min_coverage:
            cands.discard(best)
            continue
        last = min(end + SHINGLE, len(offsets)) - 1
        span = (offsets[start], offsets[last] + len(seq[last]))
        found.append(TextMatch(_refine(best, seq[start : last + 1]), round(coverage, 3), *span))
        taken[start : end + 1] = [True] * (end + 1 - start)
        for k in cands:  # re-score the candidates whose region was taken
            if scored[k][2] <= end and scored[k][3] >= start:
                scored[k] = _locate(tpl.shingles[k], grams, where, taken)
    return sorted(found, key=lambda m: m.start)


def _locate(
    template: frozenset[tuple[str, ...]],
    grams: list[tuple[str, ...]],
    where: dict[tuple[str, ...], list[int]],
    taken: list[bool],
) -> tuple[float, float, int, int]:
    """(F1, coverage, start, end) of the densest region of ``grams`` matching ``template``."""
    spots = sorted(p for g in template.intersection(where) for p in where[g] if not taken[p])
    if not spots:
        return 0.0, 0.0, 0, 0
    best, first = (0, 0, 0), 0
    for i in range(1, len(spots) + 1):
        if i == len(spots) or spots[i] - spots[i - 1] > _MAX_GAP:
            best = max(best, (i - first, spots[first], spots[i - 1]))
            first = i
    _, start, end = best
    region = {grams[p] for p in range(start, end + 1) if not taken[p]}
    matched = len(region & template)
    coverage, precision = matched / len(template), matched / len(region)
    return 2 * coverage * precision / (coverage + precision or 1), coverage, start, end


_MAX_GAP = 30  # shingles between two matches still counted as one region


def _refine(key: str, region: list[str]) -> str:
    """The id of a matched template; a BSD-4-Clause text without its advertising clause
    (as the University of California deleted it in 1999) is BSD-3-Clause."""
    spdx = key.split("#")[0]
    if spdx.startswith("BSD-4-Clause") and "advertising" not in region:
        return "BSD-3-Clause"
    return spdx


# ---------------------------------------------------------------- header notices
_GNU = re.compile(
    r"\b(?:GNU\s+)?(?:(?P<kind>Lesser|Library|Affero)\s+)?(?:General\s+)?Public\s+Licen[cs]e"
    r"|\b(?P<abbr>[LA]?GPL)(?=v?\d|\b)",
    re.I,
)
_GNU_VERSION = re.compile(
    r"^[-\s]?v?(?P<v0>[123](?:\.[01])?)(?P<plus0>\+|-or-later)?(?![\d.]*\d)"
    r"|(?:version|v\.?|ver\.?)\s*(?P<v>[123](?:\.[01])?)\b"
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
_TRIGGER_WORDS = ("licen", "public domain", "permission", "redistribut", "wtfpl", "gpl", "mit")
_FULL_TEXT_PHRASES = (
    "permission is hereby granted",
    "redistribution and use",
    "permission to use, copy",
    "free and unencumbered",
    "provided 'as-is'",
    "this software is provided",
    'provided "as is"',
)


def flatten(text: str) -> str:
    """``text`` as one line, comment markers at line ends removed (so that patterns can
    span the lines of a comment block)."""
    return " ".join(line.strip(" \t#*/;!%|") for line in text.splitlines())


def gnu_notices(text: str) -> list[str]:
    """SPDX ids of the GNU GPL/LGPL/AGPL notices in ``text`` ("... either version 2 of the
    License, or (at your option) any later version" -> GPL-2.0-or-later). Versions inside
    URLs are ignored; "X-only" is dropped when "X-or-later" is also stated."""
    text = flatten(text)
    found: list[str] = []
    for m in _GNU.finditer(text):
        window = text[m.end() : m.end() + 300]
        before = text[max(0, m.start() - 160) : m.start()]
        version, plus, vend = _gnu_version(window, before)
        if version is None:
            continue
        if not (m.group("abbr") or _GNU_CONTEXT.search(before + text[m.start() : m.end()])):
            continue
        family = _gnu_family(m.group("kind") or m.group("abbr") or "")
        if version not in _GNU_VERSIONS[family]:
            continue
        later = plus or bool(_LATER.search(window[vend : vend + 120]))
        spdx = f"{family}-{version}-{'or-later' if later else 'only'}"
        if spdx not in found:
            found.append(spdx)
    return [f for f in found if not (f.endswith("-only") and f[:-5] + "-or-later" in found)]


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


def header_notice(head: str) -> list[str]:
    """SPDX ids named by the license notices or pasted license texts of a file's header."""
    lower = head.lower()
    if not any(word in lower for word in _TRIGGER_WORDS):
        return []
    squeezed = " ".join(flatten(lower).split())
    full = any(phrase in squeezed for phrase in _FULL_TEXT_PHRASES)
    matches = match_texts(head) if full else []
    found = [m.license_id for m in matches]
    return list(dict.fromkeys(found + notices(outside(head, matches), first_only=True)))


def notices(text: str, *, first_only: bool = False) -> list[str]:
    """SPDX ids named by short notices in ``text`` ("Licensed under the MIT license",
    "either version 2 of the License, or ..."); with ``first_only``, GNU notices hide the
    others (then usually mentions of other works) unless the text offers a choice."""
    text = flatten(text)
    lower = text.lower()
    gnu = gnu_notices(text) if "gpl" in lower or "general public" in lower else []
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
    r"|may\s+select|one\s+of\s+the\s+above(?:-listed)?\s+licen"
    r"|at\s+your\s+option(?!\s*\)?,?\s*(?:any\s+)?later)",
    re.I,
)


def is_dual(text: str) -> bool:
    """Whether ``text`` offers a choice between licenses (dual licensing wording)."""
    return bool(_DUAL.search(flatten(text)))


# ---------------------------------------------------------------- SPDX tags
_TAG = re.compile(r"SPDX-License-Identifier\s*:?[ \t]*(?P<expr>[^\n\r]*)", re.I)
_TAG_END = re.compile(r"\s*(?:\*/|-->|\*\)|#\}|%>|\"\"\"|'''|;|\\n\"?|\"|\*).*$")


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


def outside(text: str, matches: Iterable[TextMatch]) -> str:
    """``text`` with the regions of ``matches`` blanked out (to look for notices around
    full license texts without reading the texts themselves)."""
    for m in matches:
        text = text[: m.start] + " " * (m.end - m.start) + text[m.end :]
    return text


def drop_gnu_appendix(text: str) -> str:
    """``text`` without the "How to Apply These Terms" appendix of GNU licenses, whose sample
    notice ("or (at your option) any later version") is not a notice about this work."""
    return _APPENDIX.sub(" ", text)


_APPENDIX = re.compile(
    r"How\s+to\s+Apply\s+These\s+Terms.*?(?:instead\s+of\s+this\s+License\.|why-not-lgpl\."
    r"html>?\.?|Ty\s+Coon,\s+President\s+of\s+Vice|$)",
    re.I | re.S,
)


def read_license_text(text: str) -> tuple[list[str], bool, str]:
    """(SPDX ids, offers-a-choice, the text around the license texts) of a license file:
    full texts, then notices around them; a GNU text alone is "-only" unless a notice there
    says "or later"."""
    found = match_texts(text)
    rest = drop_gnu_appendix(outside(text, found))
    said = notices(rest)
    scope = gnu_notices(drop_gnu_appendix(text)) if found else []  # notices may touch texts
    ids = []
    for m in found:
        later = f"{m.license_id.removesuffix('-only')}-or-later"
        ids.append(later if later in said or later in scope else m.license_id)
    ids += [i for i in said if _unscoped(i) not in {_unscoped(x) for x in ids}]
    return ids, len(ids) > 1 and is_dual(rest), rest


def _unscoped(spdx_id: str) -> str:
    return spdx_id.removesuffix("-only").removesuffix("-or-later")
