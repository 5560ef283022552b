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

from attribution.core.license_notices import (
    exceptions_in,
    gnu_notices,
    is_dual,
    notices,
    with_exceptions,
)

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
    (as the University of California deleted it in 1999) is BSD-3-Clause; a 3-clause text
    whose third clause allows endorsement ("may be used to endorse") is ScanCode's
    ``bsd-endorsement-allowed``; a 2-clause match whose region holds a non-endorsement
    clause ("The names of the authors may not be used to endorse ...", worded unlike the
    3-clause template) is BSD-3-Clause."""
    spdx = key.split("#")[0]
    if spdx.startswith("BSD-4-Clause") and "advertising" not in region:
        return "BSD-3-Clause"
    if spdx == "BSD-3-Clause" and _ENDORSE_ALLOWED in " ".join(region):
        return "LicenseRef-scancode-bsd-endorsement-allowed"
    if spdx == "BSD-2-Clause" and _NO_ENDORSEMENT in " ".join(region):
        return "BSD-3-Clause"
    return spdx


_ENDORSE_ALLOWED = "name of the author may be used to endorse"
_NO_ENDORSEMENT = "not be used to endorse or promote products derived from this software"


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
    granted, rest = exceptions_in(drop_gnu_appendix(outside(text, found)))
    said = notices(rest)
    scope = gnu_notices(drop_gnu_appendix(text)) if found else []  # notices may touch texts
    ids = []
    for m in found:
        later = f"{m.license_id.removesuffix('-only')}-or-later"
        ids.append(later if later in said or later in scope else m.license_id)
    ids += [i for i in said if _unscoped(i) not in {_unscoped(x) for x in ids}]
    return with_exceptions(ids, granted), len(ids) > 1 and is_dual(rest), rest


def _unscoped(spdx_id: str) -> str:
    return spdx_id.removesuffix("-only").removesuffix("-or-later")
