"""Who wrote it: copyright statements, author lists and package metadata people.

Pure functions over strings: names come back without e-mail addresses, which are returned
separately (kept for opt-out look-ups, never shown by default).
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.parser import HeaderParser
from email.utils import getaddresses
from functools import lru_cache

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|de|fr)\b/?\S*")
_COMMENT = re.compile(r"^[\s#*/;!%\"'<>{}\-=\\|.:+]*(?:(?:REM|dnl|rem)\s+)?")
_TRAILER = re.compile(r"\s*(?:\*/|-->|\"\"\"|'''|\*+|#+|\\n)\s*$")
_MARK = re.compile(r"^(?:SPDX-FileCopyrightText\s*:|Copyright\b|\(c\)|©)", re.I)
_YEAR_MARK = re.compile(r"^(?:\d{4}(?:\s*[-–,]\s*(?:\d{4}|present))*\s+)(?:\(c\)|©)", re.I)
_PREFIX = re.compile(
    r"^(?:SPDX-FileCopyrightText\s*:\s*)?(?:(?:Copyright|\(c\)|©|&copy;)[\s,:]*|portions\s+)*",
    re.I,
)
_YEARS = re.compile(
    r"^(?:(?:\(c\)|©|\d{4}(?:\s*[-–]\s*(?:\d{2,4}|present|now))?)[\s,.;:]*|by\s+|-\s*present\s*)+",
    re.I,
)
_RIGHTS = re.compile(r"[\s,.;]*(?:all\s+rights\s+reserved|some\s+rights\s+reserved).*$", re.I)
_NOT_HOLDER = re.compile(
    r"^(?:notices?|holders?|owners?|and\b|or\b|law|laws|statements?|the\s+above|of\b|in\b|"
    r"license|licen[cs]e|protection|interest|to\b|for\b|on\b|is\b|info|information|years?\b|"
    r"assignment|disclaimer|text|date|line|message|header|\d+\s*$|\W*$|the\s+copyright|"
    r"the\s+(?:author|name|owner|holder|program|software)|this\b|these\b|that\b|is\s+held)",
    re.I,
)
_TERMS = re.compile(
    r"\s+(?:under\s+the|licen[cs]ed|released|and\s+(?:also\s+)?(?:published|released|licen[cs]ed))"
    r"\b.*$",
    re.I,
)
_CODE = re.compile(r"[=;{}$%]|\(\s*\)|\bself\b|\breturn\b|\bdef\b|\+\s*['\"]|<[a-z /]+>", re.I)
_MAX_STATEMENT = 160
_ABBREVIATION = re.compile(r"\b(?:Inc|Ltd|Co|Corp|Jr|Sr|[A-Z])\.$")


@lru_cache(maxsize=65536)
def split_person(text: str) -> tuple[str, tuple[str, ...]]:
    """("Name", emails) of an author string like ``Jane Doe <jane@x.org> (https://x.org)``."""
    emails = tuple(dict.fromkeys(EMAIL.findall(text)))
    name = EMAIL.sub(" ", text)
    name = re.sub(r"<[^>]*>|\([^)]*\)|\[[^\]]*\]", " ", name)
    name = _URL.sub(" ", name)
    name = re.sub(r"\s+", " ", name).strip(" \t\"'`,;:<>()[]-*")
    return name, emails


def copyright_statements(text: str, limit: int = 50) -> list[str]:
    """Copyright statements of ``text`` (one per line, or continued on the next line when
    the holder follows there), comment markers removed. A statement may start mid-line
    when a year follows its mark (``types.c - Copyright (c) 1996 Red Hat, Inc.``)."""
    out: list[str] = []
    end = -1
    for m in _CANDIDATE.finditer(text):
        if m.start() < end:
            continue  # same line as the previous hit
        start, end = text.rfind("\n", 0, m.start()) + 1, text.find("\n", m.end())
        end = len(text) if end < 0 else end
        line = _statement_line(_TRAILER.sub("", _COMMENT.sub("", text[start:end])).strip())
        if line is None:
            continue
        statement = re.sub(r"\s+", " ", line).strip(" ,")
        if not holder(statement) or statement.endswith(","):
            statement = _continued(statement, text, end)
        if statement not in out and holder(statement):
            out.append(statement)
            if len(out) >= limit:
                break
    return out


def _statement_line(line: str) -> str | None:
    """The statement a line holds (from its copyright mark on), or None."""
    if not (_MARK.match(line) or _YEAR_MARK.match(line)):
        mid = _MID_MARK.search(line)
        if mid is None or re.search(r"[\"'`=;{}]", line[: mid.start()]):
            return None  # none, or inside code: print("(c) 2010 ...")
        opened = line[: mid.start()].count("(") > line[: mid.start()].count(")")
        line = line[mid.start() :]
        if opened and line.count(")") > line.count("("):
            line = line[: line.rfind(")")]  # "(Copyright (c) 2017, Intel Corporation)"
    if len(line) > _MAX_STATEMENT:
        return None
    if line[:1] == "(" and not re.search(r"\d{4}", line):
        return None  # "(c) You must retain ...": a list item, not a statement
    return line


def _continued(statement: str, text: str, end: int) -> str:
    """A statement whose holder is on the next line ("Copyright (c) 1994, 1995" then
    "The Regents of the University of California."): the two lines joined."""
    stop = text.find("\n", end + 1)
    following = text[end + 1 : len(text) if stop < 0 else stop]
    following = _TRAILER.sub("", _COMMENT.sub("", following)).strip()
    if not following or len(following) > 80 or _CANDIDATE.search(following):
        return statement
    if not re.match(r"[A-Z]", following) or _CODE.search(following):
        return statement
    return f"{statement} {following}"


_MID_MARK = re.compile(r"(?:Copyright\s*(?:\(c\)|©)?|\(c\)|©)\s*\d{4}", re.I)
_CANDIDATE = re.compile(r"opyright|COPYRIGHT|\([cC]\)|©")


@lru_cache(maxsize=65536)
def holder(statement: str) -> str:
    """The holder named by a copyright statement (years, marks and "All rights reserved" off),
    or "" when the line is not a real statement (``copyright notice``, code, templates)."""
    rest = _PREFIX.sub("", statement.strip())
    rest = _YEARS.sub("", rest)
    rest = _RIGHTS.sub("", rest)
    rest = _TERMS.sub("", rest)
    name, _ = split_person(rest)
    name = re.sub(r"^(?:by|the\s+copyright\s+holders?\s+is)\s+", "", name, flags=re.I)
    name = re.sub(r"\s*\b(?:and\s+others|et\s+al)\.?$", "", name, flags=re.I).strip(" ,;")
    name = name if _ABBREVIATION.search(name) else name.rstrip(".").strip()
    if not name or _NOT_HOLDER.match(name) or _CODE.search(name) or "<" in rest[:1]:
        return ""
    if re.search(r"\bcopyright\s+holders?\b|^holders?$", name, re.I):
        return ""
    return name if re.search(r"[^\W\d_]{2}", name) else ""


def authors_file_people(text: str, limit: int = 50) -> list[str]:
    """Author entries ("Name <mail>") of an AUTHORS/CONTRIBUTORS/MAINTAINERS/CREDITS file."""
    out: list[str] = []
    for raw in text.splitlines():
        line = re.sub(r"^\s*(?:[-*+•]|\d+[.)])\s+", "", raw).strip()
        if not line or line.endswith(":") or re.match(r"^[#=~`>|_-]|^\.\.", line):
            continue
        name, _ = split_person(line)
        if _looks_like_name(name) and line not in out:
            out.append(line)
            if len(out) >= limit:
                break
    return out


def _looks_like_name(name: str) -> bool:
    tokens = name.split()
    if not 1 <= len(tokens) <= 6 or len(name) > 60:
        return False
    if re.search(r"[=;{}$%]|\.\s|\b(?:the|this|with|is|are|for|see|please)\b|https?:", name, re.I):
        return False
    return any(t[:1].isupper() for t in tokens) and bool(re.search(r"[^\W\d_]{2}", name))


def people(entries: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names, e-mails) of author entries, deduplicated case-insensitively, order kept."""
    names: dict[str, str] = {}
    emails: dict[str, None] = {}
    for entry in entries:
        name, found = split_person(entry)
        for mail in found:
            emails.setdefault(mail.lower(), None)
        key = name_key(name)
        if key and key not in names:
            names[key] = name
    return tuple(names.values()), tuple(emails)


def name_key(name: str) -> str:
    """Comparison key of a name: lower case, letters and digits only, single spaces."""
    return " ".join(re.findall(r"[^\W_]+", name.lower()))


# ---------------------------------------------------------------- package metadata
@dataclass(frozen=True)
class PackageInfo:
    """What a package manifest declares: license strings (best first), people, home URL."""

    licenses: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    url: str | None = None


def package_info(path: str, text: str) -> PackageInfo | None:
    """Parse a manifest (PKG-INFO, METADATA, package.json, Cargo.toml, pyproject.toml,
    setup.cfg, pom.xml, go.mod, debian/upstream/metadata); None for other or broken files."""
    base = path.rsplit("/", 1)[-1]
    parser = _PARSERS.get(base)
    if parser is None and path.endswith("debian/upstream/metadata"):
        parser = _upstream_metadata
    if parser is None:
        return None
    try:
        return parser(text)
    except (ValueError, TypeError, AttributeError, KeyError, configparser.Error):
        return None


def _core_metadata(text: str) -> PackageInfo:
    msg = HeaderParser().parsestr(text)
    licenses = [v for v in (msg.get("License-Expression"), _short(msg.get("License"))) if v]
    trove = [c for c in msg.get_all("Classifier", []) if c.startswith("License ::")]
    if trove:
        licenses.append(" OR ".join(trove))
    if msg.get("License") and not _short(msg.get("License")):
        licenses.append(str(msg.get("License")))
    who = _named(msg.get("Author"), msg.get("Author-email"))
    who += _named(msg.get("Maintainer"), msg.get("Maintainer-email"))
    urls = [u.split(",", 1)[-1].strip() for u in msg.get_all("Project-URL", [])]
    urls.sort(key=lambda u: not re.search(r"github|gitlab|bitbucket|codeberg|sr\.ht", u))
    return PackageInfo(tuple(licenses), tuple(who), _first_url(*urls, msg.get("Home-page")))


def _short(value: str | None) -> str | None:
    if not value or "\n" in value.strip() or len(value) > 100 or value.upper() == "UNKNOWN":
        return None
    return value.strip()


def _named(names: str | None, mails: str | None) -> list[str]:
    """ "Name <mail>" entries of core metadata Author/Author-email (or Maintainer) fields;
    bare addresses are paired with the names given in order when the counts agree."""
    given = [n.strip() for n in re.split(r",|\band\b", names or "") if n.strip()]
    given = [] if [n.upper() for n in given] == ["UNKNOWN"] else given
    addrs = [(n, m) for n, m in getaddresses([mails or ""]) if m or n]
    if given and len(given) == len(addrs) and not any(n for n, _ in addrs):
        addrs = [(g, m) for g, (_, m) in zip(given, addrs, strict=True)]
    out = [f"{n} <{m}>" if n else m for n, m in addrs]
    known = {name_key(split_person(o)[0]) for o in out}
    return [g for g in given if name_key(g) not in known] + out


def _package_json(text: str) -> PackageInfo:
    data = json.loads(text)
    lic = data.get("license") or data.get("licenses") or ""
    licenses = [_npm_license(lic)] if lic else []
    listed = [data.get("author"), *_list(data.get("contributors")), *_list(data.get("maintainers"))]
    who = [_npm_person(p) for p in listed if p]
    repo = data.get("repository")
    repo = repo.get("url") if isinstance(repo, dict) else repo
    return PackageInfo(
        tuple(x for x in licenses if x),
        tuple(x for x in who if x),
        _first_url(_repo_url(repo), data.get("homepage")),
    )


def _npm_license(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("type") or "")
    if isinstance(value, list):
        return " OR ".join(_npm_license(v) for v in value if _npm_license(v))
    text = str(value)
    return "" if text.upper().startswith("SEE LICEN") else text


def _npm_person(value: object) -> str:
    if isinstance(value, dict):
        name, mail = str(value.get("name") or ""), str(value.get("email") or "")
        return f"{name} <{mail}>" if mail else name
    return str(value) if value else ""


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _toml(text: str) -> PackageInfo:
    data = tomllib.loads(text)
    pkg = data.get("package") or data.get("project") or data.get("tool", {}).get("poetry") or {}
    lic = pkg.get("license")
    lic = lic.get("text") if isinstance(lic, dict) else lic
    licenses = [str(lic)] if lic else []
    trove = [c for c in pkg.get("classifiers", []) if c.startswith("License ::")]
    licenses += [" OR ".join(trove)] if trove else []
    who = [_npm_person(p) for p in _list(pkg.get("authors")) + _list(pkg.get("maintainers"))]
    urls = pkg.get("urls") or {}
    return PackageInfo(
        tuple(licenses),
        tuple(w for w in who if w),
        _first_url(
            pkg.get("repository"),
            *[urls[k] for k in urls if re.search("sour|repo|code", k, re.I)],
            pkg.get("homepage"),
            *urls.values(),
        ),
    )


def _setup_cfg(text: str) -> PackageInfo:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read_string(text)
    meta = cfg["metadata"] if cfg.has_section("metadata") else {}
    licenses = [meta["license"]] if meta.get("license") else []
    trove = [c.strip() for c in meta.get("classifiers", "").splitlines() if "License ::" in c]
    licenses += [" OR ".join(trove)] if trove else []
    who = _named(meta.get("author"), meta.get("author_email"))
    who += _named(meta.get("maintainer"), meta.get("maintainer_email"))
    return PackageInfo(tuple(licenses), tuple(who), _first_url(meta.get("url")))


def _pom(text: str) -> PackageInfo:
    licenses = re.findall(r"<license>\s*<name>([^<]+)</name>", text)
    who = re.findall(r"<developer>.*?<name>([^<]+)</name>", text, re.S)
    scm = re.search(r"<scm>.*?<url>([^<]+)</url>", text, re.S)
    top = re.search(r"</artifactId>.*?<url>([^<]+)</url>", text, re.S)
    return PackageInfo(
        (" AND ".join(licenses),) if licenses else (),
        tuple(who),
        _first_url(scm and scm.group(1), top and top.group(1)),
    )


def _go_mod(text: str) -> PackageInfo:
    m = re.search(r"^module\s+(\S+)", text, re.M)
    host = m and re.match(r"(?:github\.com|gitlab\.com|bitbucket\.org)/[^/]+/[^/]+", m.group(1))
    return PackageInfo(url=f"https://{host.group(0)}" if host else None)


def _upstream_metadata(text: str) -> PackageInfo:
    m = re.search(r"^Repository(?:-Browse)?:\s*(\S+)", text, re.M)
    return PackageInfo(url=_first_url(m and m.group(1)))


def _repo_url(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    url = re.sub(r"^git\+|\.git$", "", value.strip())
    url = re.sub(r"^git@([^:]+):", r"https://\1/", url)
    url = re.sub(r"^(?:git|ssh)://(?:git@)?", "https://", url)
    if re.fullmatch(r"(?:github:)?[\w.-]+/[\w.-]+", url):
        return "https://github.com/" + url.removeprefix("github:")
    return url


def _first_url(*candidates: object) -> str | None:
    for url in candidates:
        if isinstance(url, str) and re.match(r"https?://\S+$", url.strip()):
            return url.strip().rstrip("/")
    return None


_PARSERS: dict[str, Callable[[str], PackageInfo]] = {
    "PKG-INFO": _core_metadata,
    "METADATA": _core_metadata,
    "package.json": _package_json,
    "Cargo.toml": _toml,
    "pyproject.toml": _toml,
    "setup.cfg": _setup_cfg,
    "pom.xml": _pom,
    "go.mod": _go_mod,
}


# ---------------------------------------------------------------- copyright files: DEP-5, REUSE
@dataclass(frozen=True)
class Scoped:
    """A license declared for the paths matching ``pattern`` (DEP-5 stanza, REUSE.toml)."""

    pattern: re.Pattern[str]
    license: str  # as written: a Debian short name or an SPDX expression
    text: str  # the license text given with it (DEP-5), may be empty
    statements: tuple[str, ...]
    override: bool = False
    catch_all: bool = False  # DEP-5 "Files: *": any directory's own license file is nearer


def _paragraphs(text: str) -> list[dict[str, str]]:
    """RFC 822-style paragraphs of a DEP-5 file, field names lower-cased."""
    paras: list[dict[str, str]] = []
    current: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if not line.strip():
            if current:
                paras.append(current)
            current, key = {}, ""
        elif line[0] in " \t" and key:
            current[key] += "\n" + line.strip()
        elif m := re.match(r"([\w-]+)\s*:\s?(.*)", line):
            key = m.group(1).lower()
            current[key] = m.group(2).strip()
    return [*paras, current] if current else paras


def parse_dep5(text: str, prefix: str = "") -> tuple[list[Scoped], str | None] | None:
    """(stanzas in file order, Source URL) of a machine-readable debian/copyright or
    .reuse/dep5; None when the file is not machine-readable."""
    paras = _paragraphs(text)
    if not paras or "format" not in paras[0]:
        return None
    texts = {
        p["license"].split("\n")[0].strip().lower(): p["license"]
        for p in paras
        if "license" in p and "files" not in p
    }
    stanzas = []
    for p in paras:
        if "files" in p and "license" in p:
            name, _, body = p["license"].partition("\n")
            body = body or texts.get(name.strip().lower(), "").partition("\n")[2]
            stanzas.append(
                Scoped(
                    _globs(p["files"].split(), prefix),
                    name.strip(),
                    body,
                    tuple(_statements(p.get("copyright", ""))),
                    catch_all=p["files"].split() == ["*"],
                )
            )
    source = re.search(r"https?://\S+", paras[0].get("source", ""))
    return stanzas, source.group(0) if source else None


def _statements(field: str) -> list[str]:
    out = []
    for line in field.split("\n"):
        line = line.strip()
        if line and line != ".":
            has_mark = re.match(r"(?:copyright|\(c\)|©)", line, re.I)
            out.append(line if has_mark else f"Copyright {line}")
    return out


def _globs(patterns: Sequence[str], prefix: str = "", *, reuse: bool = False) -> re.Pattern[str]:
    """One regex for DEP-5 globs (``*`` crosses ``/``) or REUSE globs (``**`` does, ``*`` not);
    a pattern without a wildcard also matches the files below it."""
    rx = []
    for pat in patterns:
        pat = prefix + pat.strip(",").removeprefix("./")
        body = re.escape(pat).replace(r"\*\*", "\0").replace(r"\?", ".")
        body = body.replace(r"\*", "[^/]*" if reuse else ".*").replace("\0", ".*")
        rx.append(body + ("(?:/.*)?" if "*" not in pat and "?" not in pat else ""))
    return re.compile("|".join(f"(?:{r})" for r in rx) or "(?!)")


def parse_reuse_toml(text: str, prefix: str = "") -> list[Scoped]:
    """The annotations of a REUSE.toml, in file order (malformed entries skipped)."""
    try:
        annotations = tomllib.loads(text).get("annotations", [])
    except tomllib.TOMLDecodeError:
        return []
    out = []
    for ann in annotations if isinstance(annotations, list) else []:
        if not isinstance(ann, dict):
            continue
        paths, held = _strings(ann.get("path")), _strings(ann.get("SPDX-FileCopyrightText"))
        spdx = ann.get("SPDX-License-Identifier")
        if paths:
            pattern = _globs(paths, prefix, reuse=True)
            statements = tuple(_statements("\n".join(held)))
            override = ann.get("precedence") == "override"
            out.append(
                Scoped(pattern, spdx if isinstance(spdx, str) else "", "", statements, override)
            )
    return out


def _strings(value: object) -> list[str]:
    """A TOML value that should be a string or a list of strings, as a list of strings."""
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, str)]
