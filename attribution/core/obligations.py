"""What a license expression means: its type, what reusing the code obliges you to do, and
whether it can go into a project under another license.

Plain-language summaries for developers, not legal advice. Pure functions over SPDX
expressions (parsed with ``license-expression``; ids from ScanCode's license DB it ships).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from license_expression import get_spdx_licensing

NOASSERTION = "NOASSERTION"
_AND_RANK = {"permissive": 0, "unknown": 1, "weak-copyleft": 2, "copyleft": 3, "proprietary": 4}
_OR_RANK = {"permissive": 0, "weak-copyleft": 1, "copyleft": 2, "proprietary": 3, "unknown": 4}
_REF = re.compile(r"(?:DocumentRef-[\w.-]+:)?LicenseRef-[\w.+-]+")
_LINKING = re.compile(
    r"Classpath|GCC-exception|linking|LLVM|FLTK|wxWindows|eCos|Universal-FOSS|Qt-GPL|u-boot", re.I
)


@cache
def _licensing() -> Any:
    return get_spdx_licensing()


@cache
def _facts() -> dict[str, Any]:
    raw = resources.files("attribution.core").joinpath("data/license_facts.json")
    data: dict[str, Any] = json.loads(raw.read_text(encoding="utf-8"))
    data["rules"] = [(re.compile(r["pattern"]), r) for r in data["rules"]]
    return data


@cache
def _categories() -> dict[str, str]:
    """SPDX id -> license type, from the ScanCode license DB shipped in license-expression."""
    raw = resources.files("license_expression").joinpath("data/scancode-licensedb-index.json")
    kinds = _facts()["scancode_categories"]
    out: dict[str, str] = {}
    for entry in json.loads(raw.read_text(encoding="utf-8")):
        kind = kinds.get(entry.get("category", ""), "unknown")
        out["LicenseRef-scancode-" + entry["license_key"]] = kind
        for key in [entry.get("spdx_license_key"), *entry.get("other_spdx_license_keys", [])]:
            if key and not key.startswith("LicenseRef-"):
                out.setdefault(key, kind)
    return out


_KEYLIKE = re.compile(r"[A-Za-z][A-Za-z0-9.+_-]{1,40}")
_SPLIT = re.compile(r"\s+(or|and|with)\s+|\s*(/|\||;|,\s*(?:and|or)?)\s*", re.I)


@cache
def _aliases() -> dict[str, str]:
    raw = resources.files("attribution.core").joinpath("data/license_aliases.json")
    return dict(json.loads(raw.read_text(encoding="utf-8"))["aliases"])


_GNU_NAME = re.compile(
    r"(?:gnu\s+)?(?:(?:(?P<kind>lesser|library|affero)\s+)?general\s+public\s+licen[cs]e|(?P<abbr>[la]?gpl))"
    r"[\s,]*(?:v(?:ersion)?\.?\s*)?-?(?P<ver>[123](?:\.[01])?)(?:\.0)?"
    r"(?P<later>\+|-or-later|\s+or\s+(?:any\s+)?later(?:\s+version)?)?(?:\s+with\b.*|\s*\(.*\))?",
)


# ---------------------------------------------------------------- SPDX expressions
def parse(expression: str) -> Any:
    """The parsed ``license-expression`` tree of an SPDX expression, or None."""
    try:
        return _licensing().parse(expression, validate=False)
    except Exception:  # license-expression raises several unrelated error types
        return None


def spdx_expression(text: str) -> str | None:
    """``text`` rendered as a normalized SPDX expression if it is one (known ids or
    ``LicenseRef-``), else None."""
    parsed = parse(text)
    if parsed is None:
        return None
    licensing = _licensing()
    for symbol in licensing.license_symbols(parsed, unique=True, decompose=True):
        if symbol.key not in licensing.known_symbols and not _REF.fullmatch(symbol.key):
            return None
    return str(parsed.render())


def license_ids(expression: str) -> list[str]:
    """License ids of an SPDX expression, exceptions left out."""
    parsed = parse(expression) if expression and expression != NOASSERTION else None
    if parsed is None:
        return []
    symbols = _licensing().license_symbols(parsed, unique=True, decompose=True)
    return [s.key for s in symbols if not getattr(s, "is_exception", False)]


# ---------------------------------------------------------------- normalize
def normalize(expression_or_ids: str | Sequence[str]) -> str:
    """Any license string, name or list of ids -> an SPDX expression, or ``NOASSERTION``.

    A list (The Stack's ``detected_licenses``) carries no operator: its ids are joined with
    AND, the reading that never understates obligations.
    """
    if isinstance(expression_or_ids, str):
        return _normalize_text(expression_or_ids)
    parts = [_normalize_text(x) for x in expression_or_ids if x]
    parts = list(dict.fromkeys(p for p in parts if p != NOASSERTION))
    if len(parts) <= 1:
        return parts[0] if parts else NOASSERTION
    return spdx_expression(" AND ".join(f"({p})" for p in parts)) or NOASSERTION


@lru_cache(maxsize=8192)
def _normalize_text(value: str) -> str:
    text = " ".join(value.split()).strip(" ;,.")
    text = re.sub(r"\bLicense\s*::\s*(?:OSI Approved\s*::\s*)?", "", text)
    if not text:
        return NOASSERTION
    return _single(text) or _composite(text) or NOASSERTION


def _single(text: str) -> str | None:
    """One license name (alias, SPDX id or expression) -> SPDX expression, or None."""
    key = text.lower().strip(" \"'")
    key = key[1:-1] if key.startswith("(") and key.endswith(")") else key
    alias = _aliases().get(key) or _aliases().get(re.sub(r"\s+licen[cs]e$", "", key))
    if alias:
        return alias
    spdx = spdx_expression(text)
    gnu = None if spdx else _GNU_NAME.fullmatch(key)
    if gnu is not None:
        family = {"lesser": "LGPL", "library": "LGPL", "affero": "AGPL"}.get(
            (gnu["kind"] or "").lower(), (gnu["abbr"] or "GPL").upper()
        )
        version = gnu["ver"] if "." in gnu["ver"] else gnu["ver"] + ".0"
        spdx = spdx_expression(f"{family}-{version}{'-or-later' if gnu['later'] else ''}")
    return spdx


def _composite(text: str) -> str | None:
    parts = _SPLIT.split(text)
    operands = parts[::3]
    operators = [a or b for a, b in zip(parts[1::3], parts[2::3], strict=True)]
    out: list[str] = []
    in_exception = False
    for i, operand in enumerate(operands):
        op = (operators[i - 1] or "").strip().lower() if i else ""
        in_exception = op == "with" or (in_exception and op.startswith(","))
        if in_exception:
            continue  # exceptions named in prose are dropped; the license itself stays
        spdx = _single(operand) or (_KEYLIKE.fullmatch(operand) and f"LicenseRef-{operand}")
        if not spdx or spdx == NOASSERTION:
            return None
        joiner = "OR" if op in ("or", "/", "|") else "AND"
        out.append(f"{joiner} ({spdx})" if out else f"({spdx})")
    return spdx_expression(" ".join(out)) if out else None


def combine(ids: Sequence[str], dual: bool) -> str:
    """Several license ids found together -> one expression (OR when the texts offer a
    choice); LGPL-3.0 shipped with the GPL-3.0 text it amends counts as LGPL-3.0."""
    ids = list(dict.fromkeys(ids))
    if "LicenseRef-BSD" in ids and any(i.startswith("BSD-") for i in ids):
        ids.remove("LicenseRef-BSD")
    if any(i.startswith("LGPL-3.0") for i in ids):
        ids = [i for i in ids if not i.startswith("GPL-3.0")]
    if not ids:
        return NOASSERTION
    return normalize(" OR ".join(ids)) if dual else normalize(ids)


# ---------------------------------------------------------------- license_type
@lru_cache(maxsize=4096)
def license_type(expression: str) -> str:
    """permissive | weak-copyleft | copyleft | proprietary | unknown.

    OR takes the most permissive choice, AND the most restrictive part; a copyleft license
    WITH a linking exception (Classpath, GCC) counts as weak copyleft.
    """
    parsed = parse(expression) if expression and expression != NOASSERTION else None
    return "unknown" if parsed is None else _tree_type(parsed)


def _tree_type(node: Any) -> str:
    licensing = _licensing()
    if isinstance(node, licensing.AND):
        return max((_tree_type(a) for a in node.args), key=_AND_RANK.__getitem__)
    if isinstance(node, licensing.OR):
        return min((_tree_type(a) for a in node.args), key=_OR_RANK.__getitem__)
    exception = getattr(node, "exception_symbol", None)
    if exception is not None:
        kind = id_type(node.license_symbol.key)
        return "weak-copyleft" if kind == "copyleft" and _LINKING.search(exception.key) else kind
    return id_type(node.key)


@lru_cache(maxsize=4096)
def id_type(key: str) -> str:
    """The type of one license id (own rules first, then the ScanCode category)."""
    rule = _rule(key)
    return rule["type"] if rule and "type" in rule else _categories().get(key, "unknown")


def _rule(key: str) -> dict[str, Any] | None:
    return next((r for pattern, r in _facts()["rules"] if pattern.search(key)), None)


# ---------------------------------------------------------------- obligations
def obligations(expression: str) -> list[str]:
    """Short plain sentences: what reusing code under ``expression`` obliges you to do.

    AND: the obligations of every part. OR: those of the least demanding choice, with a note.
    """
    parsed = parse(expression) if expression and expression != NOASSERTION else None
    sentences = _facts()["sentences"]
    if parsed is None:
        return [sentences["noassertion"]]
    return list(dict.fromkeys(_sentence(duty, arg) for duty, arg in _duties(parsed)))


def _sentence(duty: str, arg: str) -> str:
    template = _facts()["sentences"][duty]
    if duty == "choice":
        name, expression = arg.split("|", 1)
        return str(template.format(name=name, expression=expression))
    return str(template.format(id=arg))


def _duties(node: Any) -> list[tuple[str, str]]:
    """(duty, argument) pairs of an expression tree."""
    licensing = _licensing()
    if isinstance(node, licensing.OR):
        options = [(_duties(a), str(a.render())) for a in node.args]
        least, name = min(options, key=lambda o: _demand(o[0]))
        return [*least, ("choice", f"{name}|{node.render()}")]
    if isinstance(node, licensing.AND):
        return [d for a in node.args for d in _duties(a)]
    exception = getattr(node, "exception_symbol", None)
    if exception is not None:
        return [*_id_duties(node.license_symbol.key), ("exception", exception.key)]
    return _id_duties(node.key)


def _id_duties(key: str) -> list[tuple[str, str]]:
    rule = _rule(key)
    kind = id_type(key)
    if rule is None and kind == "unknown":
        return [("unknown", key)]
    duties = rule["duties"] if rule else _facts()["default_duties"][kind]
    return [(d, key) for d in duties]


def _demand(duties: list[tuple[str, str]]) -> int:
    weights = _facts()["weights"]
    return sum(int(weights.get(d, 0)) for d, _ in duties)


# ---------------------------------------------------------------- compatibility
def compatible(match_license: str, project_license: str) -> tuple[bool | None, str]:
    """Whether code under ``match_license`` may go into a project under ``project_license``
    (True, False, or None when it cannot be told), with the reason. A project offered under
    several licenses (OR) or combining several (AND) must be compatible with each."""
    match = parse(match_license) if match_license and match_license != NOASSERTION else None
    if match is None:
        return None, "the license of the matched code is unknown"
    project = license_ids(project_license)
    if not project:
        if all(d == "none" for d, _ in _duties(match)):
            return True, f"{match.render()} sets no conditions"
        return None, "the project's license is unknown"
    return _tree_compatible(match, project)


def _tree_compatible(node: Any, project: list[str]) -> tuple[bool | None, str]:
    licensing = _licensing()
    if isinstance(node, licensing.OR | licensing.AND):
        results = [_tree_compatible(a, project) for a in node.args]
        want = isinstance(node, licensing.OR)  # OR: one usable option is enough
        hit = next((r for r in results if r[0] is want), None)
        if hit is not None:
            return hit
        unsure = next((r for r in results if r[0] is None), None)
        return unsure or results[0]
    key = node.license_symbol.key if hasattr(node, "license_symbol") else node.key
    answers = [_pair(key, p) for p in project]
    return next((a for a in answers if a[0] is False), None) or next(
        (a for a in answers if a[0] is None), answers[0]
    )


_GNU = re.compile(r"^(?P<fam>A?GPL|LGPL)-(?P<ver>\d\.\d)(?P<later>-or-later|\+)?")


def _pair(match: str, project: str) -> tuple[bool | None, str]:
    """Single license id into single license id."""
    kind, duties = id_type(match), [d for d, _ in _id_duties(match)]
    if _base(match) == _base(project):
        limited = "" if match == project else f"; the combined work is under {match}"
        return True, f"same license ({_base(match)}){limited}"
    if kind == "proprietary":
        return False, f"{match} is proprietary: reuse needs the rights holder's permission"
    if duties == ["none"] or (kind == "permissive" and match != "Apache-2.0"):
        return True, f"{match} is permissive: keep its notice" + (
            "" if duties != ["none"] else " (not even that is required)"
        )
    gnu_m, gnu_p = _GNU.match(match), _GNU.match(project)
    if match == "Apache-2.0":
        if gnu_p and gnu_p["ver"] < "3" and not gnu_p["later"]:
            return False, f"Apache-2.0's patent terms are incompatible with {project} (v3 is fine)"
        return True, "Apache-2.0 is permissive: keep its notice and NOTICE attributions"
    if gnu_m:
        return _gnu_pair(gnu_m, gnu_p, match, project)
    return _other_pair(match, project, kind, gnu_p)


def _gnu_pair(m: Any, p: Any, match: str, project: str) -> tuple[bool | None, str]:
    """GNU license into a project: versions must meet ("or later" moves up, never down);
    LGPL code may become GPL (v2.x: any GPL version, v3: GPL-3.0), GPL never LGPL;
    GPL and AGPL combine at version 3 only."""
    if p is None:
        if m["fam"] == "LGPL":
            return False, (
                f"copied into your files, {match} code makes them part of the library, "
                f"which must stay {match}; only linking to it is allowed"
            )
        return False, f"the whole project would have to be distributed under {match}"
    fam, ver, later = m["fam"], m["ver"], bool(m["later"])
    pfam, pver, plater = p["fam"], p["ver"], bool(p["later"])
    meets = ver == pver or (later and pver > ver) or (plater and pver < ver)
    if fam == "LGPL" and pfam != "LGPL":
        ok = ver < "3" or pver >= "3" or plater
    elif pfam == "LGPL" and fam != "LGPL":
        ok = False
    elif fam != pfam:
        ok = meets and (ver == "3.0" or later) and (pver == "3.0" or plater)
    else:
        ok = meets
    if not ok:
        return False, f"{match} code cannot be made part of a {project} work"
    network = "AGPL" in (fam, pfam) and fam != pfam
    note = " (the combined work carries the AGPL network clause)" if network else ""
    return True, f"{match} code may be distributed as part of a {project} work{note}"


def _other_pair(match: str, project: str, kind: str, gnu_p: Any) -> tuple[bool | None, str]:
    if match.startswith("MPL-2.0") and "no-copyleft" not in match:
        if gnu_p is not None:
            return True, "MPL-2.0 allows its code to be distributed under GNU licenses"
        return True, "MPL-2.0 is file-level copyleft: keep the files holding this code under it"
    if kind == "weak-copyleft" and gnu_p is None:
        return True, f"{match} is file-level copyleft: keep the files holding this code under it"
    if match.startswith("CC-BY-SA-4.0") and project.startswith("GPL-3.0"):
        return True, "CC-BY-SA-4.0 is one-way compatible with GPL-3.0"
    if kind in ("weak-copyleft", "copyleft") and gnu_p is not None:
        return False, f"{match} is a copyleft license that the GNU licenses do not accept"
    if kind == "copyleft":
        return False, f"the whole project would have to be distributed under {match}"
    return None, f"no rule tells whether {match} code may go into a {project} project"


# ---------------------------------------------------------------- agreement
def agrees(declared: str, found: str) -> bool:
    """Whether a declared expression (package metadata) agrees with one found in license
    files: the ids of one are covered by the other's (same license, a variant of it such as
    BSD-2-Clause-Views, or "X-a-or-later" declared and version b >= a found)."""
    d_ids, f_ids = license_ids(declared), license_ids(found)
    if not d_ids or not f_ids:
        return False
    return all(any(_covers(d, f) for d in d_ids) for f in f_ids) or all(
        any(_covers(d, f) for f in f_ids) for d in d_ids
    )


def _base(spdx_id: str) -> str:
    return re.sub(r"(?:-only|-or-later|\+)$", "", spdx_id)


def _family(spdx_id: str) -> str:
    return re.sub(r"^LicenseRef-", "", re.split(r"[-\d.]", spdx_id + "-", maxsplit=1)[0])


def _covers(declared: str, found: str) -> bool:
    """Whether a declared id agrees with an id found in a license file (same license, a
    variant of it such as BSD-2-Clause-Views, or "X-a-or-later" declared and version b >= a
    found)."""
    if _base(declared) == _base(found) or found.startswith(_base(declared) + "-"):
        return True
    if declared.endswith("-or-later") and _family(declared) == _family(found):
        return _base(found).rsplit("-", 1)[-1] >= _base(declared).rsplit("-", 1)[-1]
    return False
