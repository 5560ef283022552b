"""License and authors of indexed source files: the evidence cascade (see LICENSES.md).

Pure: a :class:`RepoContext` is built once per repository from the text of its license and
metadata files, then :meth:`RepoContext.attribute_file` answers for each file from its path
and the first ~8 KiB of its text (and the next 64 KiB, scanned for later notices).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from attribution.core.authors import (
    EMAIL,
    PackageInfo,
    Scoped,
    authors_file_people,
    copyright_statements,
    holder,
    name_key,
    package_info,
    parse_dep5,
    parse_reuse_toml,
    people,
)
from attribution.core.license_header import header_license, refine_bsd, with_file_exception
from attribution.core.license_notices import tag_expression
from attribution.core.license_texts import read_license_text
from attribution.core.obligations import (
    NOASSERTION,
    agrees,
    combine,
    id_type,
    license_ids,
    license_type,
    normalize,
    spdx_expression,
)

MAX_AUTHORS = 50  # names kept per file (a file may list dozens of holders)

__all__ = ["NOASSERTION", "FileAttribution", "RepoContext", "license_type", "normalize"]


# ---------------------------------------------------------------- the cascade
@dataclass(frozen=True)
class FileAttribution:
    """License and authors of one source file, with the evidence that decided the license."""

    license: str  # SPDX expression or NOASSERTION
    license_type: str  # permissive | weak-copyleft | copyleft | proprietary | unknown
    license_evidence: str  # spdx-tag | reuse | header | debian-copyright | license-file |
    #                        package-metadata | table | none
    authors: tuple[str, ...]
    emails: tuple[str, ...]
    copyright: tuple[str, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Found:
    expression: str
    evidence: str


@dataclass(frozen=True)
class _Declared:
    """A license read from license files or package metadata, before the two are merged."""

    expression: str
    generic: bool = False  # a family name without version ("BSD", "GPL"): files refine it
    bare_gnu: bool = False  # a deprecated GNU id without scope ("LGPL-3.0"): files scope it


@dataclass(frozen=True)
class _DirFacts:
    """What applies to every file of one directory, inherited from the nearest ancestor."""

    license: _Found | None = None
    file_license: _Declared | None = None
    package_license: _Declared | None = None
    people: tuple[str, ...] = ()  # package metadata, "Name <mail>"
    credits: tuple[str, ...] = ()  # AUTHORS/CONTRIBUTORS/... entries
    statements: tuple[str, ...] = ()  # copyright statements of the nearest license file
    url: str | None = None


_LICENSE_FILE = re.compile(r"(?:LICEN[CS]E|COPYING|UNLICEN[CS]E|COPYRIGHT)(?:[-._ ][^/]*)?", re.I)
_CREDITS_FILE = re.compile(r"(?:AUTHORS|CONTRIBUTORS|MAINTAINERS|CREDITS)(?:[-._ ][^/]*)?", re.I)
_NOT_TEXT = re.compile(
    r"\.(?:py|[cm]?js|tsx?|jsx|[ch]|cc|[ch]pp|go|rs|java|rb|p[lm]|php|sh|json|xml|svg|png|css"
    r"|rtf|in|cfg|toml|ya?ml|license)$",
    re.I,
)
_SUFFIXED = re.compile(r"(?:LICEN[CS]E|COPYING)[-._](?!txt$|md$|rst$)\w+", re.I)
_MANIFESTS = (
    "PKG-INFO",
    "METADATA",
    "pyproject.toml",
    "setup.cfg",
    "package.json",
    "Cargo.toml",
    "pom.xml",
    "go.mod",
)


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _homes(path: str) -> list[str]:
    """The directories a metadata file speaks for: its own, except that wheel and egg
    metadata (``x-1.0.dist-info/licenses/LICENSE``) speak for the directory holding the
    ``.dist-info`` when that is the repository root (a wheel), else for the package
    directories its name suggests (``_vendor/jaraco.text-4.0.dist-info`` ->
    ``_vendor/jaraco/text``)."""
    directory = _parent(path)
    m = _DIST_INFO.search(directory)
    if m is None:
        return [directory]
    parent = directory[: m.start()].rstrip("/")
    name = (m.group("name") or m.group("egg")).lower()
    if not parent:
        return [""]
    names = {
        name.replace(".", "/").replace("-", "_"),
        name.replace("-", "_"),
        name.replace("_", "/"),
        name.replace("-", "/"),
    }
    return [f"{parent}/{n}" for n in sorted(names)]


_DIST_INFO = re.compile(
    r"(?:^|/)(?P<name>[^/]+?)(?:-[^-/]*\d[^-/]*)?\.(?:dist-info|egg-info)(?:/|$)"
    r"|(?:^|/)(?P<egg>[^/]+?)(?:-[^-/]*\d[^-/]*)?\.egg/EGG-INFO(?:/|$)"
)
_FIXTURES = re.compile(r"(?:^|/)(?:tests?|testdata|test_data|testing|fixtures|__fixtures__)/")
_DEBIAN_PART = re.compile(r"^.*\b(?:the\s+)?Debian\s+packaging\b.*$", re.I | re.M)
_GENERIC = {"LicenseRef-BSD", "GPL-1.0-or-later", "LGPL-2.0-or-later", "AGPL-3.0-or-later"}


def _merge(found: _Declared | None, declared: _Declared | None) -> _Found | None:
    """Levels 4 and 5: a license file wins over package metadata, except that metadata
    agreeing with the file (subset either way) is taken for its operators and GPL scope."""
    if found is None or found.expression == NOASSERTION:
        return _Found(declared.expression, "package-metadata") if declared else None
    if declared is None or declared.generic:
        return _Found(found.expression, "license-file")
    scoped = declared.bare_gnu and "-or-later" in found.expression
    if agrees(declared.expression, found.expression) and not (
        scoped or _variant_of(found, declared)
    ):
        return _Found(declared.expression, "package-metadata")
    return _Found(found.expression, "license-file")


def _variant_of(found: _Declared, declared: _Declared) -> bool:
    """Whether the license file names a variant of a declared license, told apart by its
    text (``BSD-2-Clause-Views`` where the metadata says ``BSD-2-Clause``)."""
    bases = [_unscoped(d) + "-" for d in license_ids(declared.expression)]
    return any(_unscoped(f).startswith(b) for f in license_ids(found.expression) for b in bases)


def _unscoped(spdx_id: str) -> str:
    return re.sub(r"-(?:only|or-later)$", "", spdx_id)


class RepoContext:
    """License and author context of one repository, built once from its metadata files."""

    def __init__(
        self,
        metadata_files: Mapping[str, str],
        *,
        declared_license: Sequence[str] | None = None,
        declared_authors: Sequence[str] | None = None,
    ) -> None:
        self._files = dict(metadata_files)
        self._declared = normalize(declared_license) if declared_license else NOASSERTION
        self._declared_people = tuple(declared_authors or ())
        self._by_dir: dict[str, list[str]] = {}
        for path in sorted(self._files):
            for home in _homes(path):
                self._by_dir.setdefault(home, []).append(path)
        self._dirs: dict[str, _DirFacts] = {}
        self._stanza_licenses: dict[int, str] = {}
        self._debian_statements: tuple[str, ...] = ()
        self._tails: dict[int, Any] = {}
        self._debian, self._source = self._read_debian()
        self._reuse = self._read_reuse()
        self._reuse_default = self._licenses_dir()
        self._bundled = _bundled_parts(self._files)
        for directory in list(self._by_dir):
            self._facts(directory)  # read every license file now, once

    # -- repository-wide sources, read once
    def _read_debian(self) -> tuple[list[Scoped] | _Found | None, str | None]:
        text = self._files.get("debian/copyright")
        if text is None:
            return None, None
        parsed = parse_dep5(text)
        if parsed is not None:
            return parsed
        upstream = _DEBIAN_PART.split(text, maxsplit=1)[0]
        upstream = "\n".join(x for x in upstream.splitlines() if "common-licenses" not in x)
        ids, _, rest = read_license_text(upstream)
        self._debian_statements = tuple(copyright_statements(rest, limit=20))
        return (_Found(normalize(ids[0]), "debian-copyright") if ids else None), None

    def _read_reuse(self) -> list[Scoped]:
        scoped: list[Scoped] = []
        dep5 = self._files.get(".reuse/dep5")
        if dep5 is not None:
            scoped += (parse_dep5(dep5) or ([], None))[0]
        tomls = sorted(
            (p for p in self._files if p.rsplit("/", 1)[-1] == "REUSE.toml"),
            key=lambda p: p.count("/"),
        )
        for path in tomls:
            prefix = _parent(path) + "/" if "/" in path else ""
            scoped += parse_reuse_toml(self._files[path], prefix)
        return scoped

    def _licenses_dir(self) -> _Found | None:
        names = [p[9:].rsplit(".", 1)[0] for p in self._files if p.startswith("LICENSES/")]
        ids = [n for n in dict.fromkeys(names) if spdx_expression(n)]
        return _Found(normalize(ids[0]), "reuse") if len(ids) == 1 else None

    @property
    def url(self) -> str | None:
        """Home or repository URL from the package metadata, when present."""
        return self._facts("").url or self._source

    # -- per directory, cached
    def _facts(self, directory: str) -> _DirFacts:
        hit = self._dirs.get(directory)
        if hit is not None:
            return hit
        up = self._facts(_parent(directory)) if directory else _DirFacts()
        paths = self._by_dir.get(directory, [])
        file_license, statements = self._license_files(paths)
        package = self._package(paths)
        credits = [
            e
            for p in paths
            if _CREDITS_FILE.fullmatch(p.rsplit("/", 1)[-1])
            for e in authors_file_people(self._files[p])
        ]
        package_license = (package and self._package_license(package)) or up.package_license
        file_license = file_license or up.file_license
        facts = _DirFacts(
            _merge(file_license, package_license),
            file_license,
            package_license,
            (package.people if package else ()) or up.people,
            tuple(credits) or up.credits,
            statements or up.statements,
            (package.url if package else None) or up.url,
        )
        self._dirs[directory] = facts
        return facts

    def _license_files(self, paths: Sequence[str]) -> tuple[_Declared | None, tuple[str, ...]]:
        """The license files of one directory together; LICENSE-MIT beside LICENSE-APACHE
        (license-named files) are read as a choice, as are texts that say so."""
        ids: list[str] = []
        dual, suffixed = False, 0
        statements: list[str] = []
        for path in paths:
            name = path.rsplit("/", 1)[-1]
            if not _LICENSE_FILE.fullmatch(name) or _NOT_TEXT.search(name):
                continue
            found, offers_choice, rest = read_license_text(self._files[path])
            ids += found
            dual = dual or offers_choice
            suffixed += bool(found and _SUFFIXED.fullmatch(name))
            statements += copyright_statements(rest, limit=5)
        expression = combine(ids, dual or suffixed > 1) if ids else None
        return (_Declared(expression) if expression else None), tuple(statements)

    def _package(self, paths: Sequence[str]) -> PackageInfo | None:
        order = {name: i for i, name in enumerate(_MANIFESTS)}
        infos = [
            package_info(p, self._files[p])
            for p in sorted(paths, key=lambda p: order.get(p.rsplit("/", 1)[-1], 99))
            if not _FIXTURES.search(p)
        ]
        found = [i for i in infos if i is not None]
        if not found:
            return None
        licenses = next((i.licenses for i in found if i.licenses), ())
        people = tuple(dict.fromkeys(p for i in found for p in i.people))
        return PackageInfo(licenses, people, next((i.url for i in found if i.url), None))

    @staticmethod
    def _package_license(package: PackageInfo) -> _Declared | None:
        for raw in package.licenses:
            spdx = normalize(raw)
            if spdx == NOASSERTION and len(raw) > 200:
                ids, dual, _ = read_license_text(raw)
                spdx = combine(ids, dual) if ids else NOASSERTION
            if spdx != NOASSERTION:
                generic = spdx in _GENERIC and not re.search(r"\d", raw)
                bare = bool(re.fullmatch(r"\s*[LA]?GPL-\d\.\d\s*", raw))
                return _Declared(spdx, generic=generic, bare_gnu=bare)
        return None

    # -- per file
    def attribute_file(
        self,
        path: str,
        head: str,
        *,
        declared_license: Sequence[str] | None = None,
        declared_authors: Sequence[str] | None = None,
        beyond: str = "",
    ) -> FileAttribution:
        """License, authors and copyright of one file from its path and first ~8 KiB;
        ``beyond``, the text after the head (up to ``LATER_CHARS``), is read for the notices
        of code taken from elsewhere."""
        warnings: list[str] = []
        facts = self._facts(_parent(path))
        stanza = self._stanza(path)
        found = (
            self._tagged(path, head, warnings)
            or _header(head, facts, beyond)
            or self._reuse_default
            or self._stanza_found(stanza, facts)
            or (self._debian if isinstance(self._debian, _Found) else None)
            or facts.license
            or _table(declared_license)
            or _table([self._declared] if self._declared != NOASSERTION else None)
            or _Found(NOASSERTION, "none")
        )
        found = self._unbundled(path, found) if self._bundled else found
        statements = copyright_statements(head)
        statements += [*(stanza.statements if stanza else ()), *self._reuse_statements(path)]
        first, emails = people([*(holder(s) for s in statements), *(declared_authors or ())])
        emails += tuple(e for s in statements for e in EMAIL.findall(s))
        tail_names, tail_emails, tail_shown = self._tail(facts)
        keys = {name_key(n) for n in first}
        names = first + tuple(n for k, n in tail_names if k not in keys)
        shown = [EMAIL.sub("", s).replace("<>", "").strip() for s in statements]
        return FileAttribution(
            found.expression,
            license_type(found.expression),
            found.evidence,
            names[:MAX_AUTHORS],
            tuple(dict.fromkeys(emails + tail_emails)),
            tuple(dict.fromkeys([*shown, *tail_shown]))[:10],
            tuple(warnings),
        )

    def _unbundled(self, path: str, found: _Found) -> _Found:
        """A package's AND expression less the licenses its NOTICE gives to bundled files
        other than this one (prometheus-client: "Apache-2.0 AND BSD-2-Clause", the BSD part
        being the bundled decorator.py)."""
        if found.evidence not in ("package-metadata", "license-file"):
            return found
        parts = found.expression.split(" AND ")
        if len(parts) < 2 or "(" in found.expression:
            return found
        mine = {spdx for spdx, scope in self._bundled if path == scope or _under(path, scope)}
        drop = {spdx for spdx, _ in self._bundled} - mine
        kept = [p for p in parts if p not in drop]
        return _Found(" AND ".join(kept), found.evidence) if kept and kept != parts else found

    def _tail(
        self, facts: _DirFacts
    ) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...], tuple[str, ...]]:
        """The authors every file of a directory shares, after its own: package people,
        table authors, AUTHORS-file entries, license-file and debian/copyright holders."""
        hit = self._tails.get(id(facts))
        if hit is None:
            entries = [*facts.people, *self._declared_people, *facts.credits]
            entries += [holder(s) for s in [*facts.statements, *self._debian_statements]]
            names, emails = people(entries)
            shown = [EMAIL.sub("", s).replace("<>", "").strip() for s in facts.statements]
            hit = tuple((name_key(n), n) for n in names), emails, tuple(shown)
            self._tails[id(facts)] = hit
        return hit

    def _tagged(self, path: str, head: str, warnings: list[str]) -> _Found | None:
        """Level 1: SPDX tags in the file, its .license sidecar, REUSE.toml and .reuse/dep5."""
        override = self._reuse_match(path, override=True)
        if override:
            return _Found(override, "reuse")
        tagged = tag_expression(head, warnings)
        if tagged:
            return _Found(tagged, "spdx-tag")
        sidecar = self._files.get(path + ".license")
        tagged = tag_expression(sidecar, warnings) if sidecar else None
        reuse = tagged or self._reuse_match(path, override=False)
        return _Found(reuse, "reuse") if reuse else None

    def _reuse_match(self, path: str, *, override: bool) -> str | None:
        for scoped in reversed(self._reuse):
            if scoped.override == override and scoped.license and scoped.pattern.fullmatch(path):
                return normalize(scoped.license)
        return None

    def _reuse_statements(self, path: str) -> list[str]:
        sidecar = self._files.get(path + ".license", "")
        found = copyright_statements(sidecar) if sidecar else []
        for scoped in reversed(self._reuse):
            if scoped.statements and scoped.pattern.fullmatch(path):
                return found + list(scoped.statements)
        return found

    def _stanza(self, path: str) -> Scoped | None:
        if not isinstance(self._debian, list):
            return None
        for scoped in reversed(self._debian):
            if scoped.pattern.fullmatch(path):
                return scoped
        return None

    def _stanza_found(self, stanza: Scoped | None, facts: _DirFacts) -> _Found | None:
        """Level 3: the DEP-5 stanza naming the file; a catch-all ``Files: *`` stanza gives
        way to a license file of the file's own directory tree that the root does not hold
        (gawk's ``missing_d/COPYING.LIB`` under a GPL-3+ ``Files: *``)."""
        if stanza is None:
            return None
        own = facts.file_license
        if stanza.catch_all and own is not None and own != self._facts("").file_license:
            return None
        return _Found(self._stanza_license(stanza), "debian-copyright")

    def _stanza_license(self, stanza: Scoped) -> str:
        """A DEP-5 stanza's license: its short name mapped to SPDX; an unknown or ambiguous
        name (Debian's "X11" and "MIT" name several texts) is read from the license text
        given with it, else kept as ``LicenseRef-<name>``."""
        key = id(stanza)
        if key not in self._stanza_licenses:
            spdx = normalize(stanza.license)
            unknown = spdx == NOASSERTION or any(
                i.startswith("LicenseRef-") and id_type(i) == "unknown" for i in license_ids(spdx)
            )
            if (unknown or spdx in _AMBIGUOUS) and stanza.text:
                ids, dual, _ = read_license_text(stanza.text)
                spdx = combine(ids, dual) if ids else spdx
            self._stanza_licenses[key] = spdx
        return self._stanza_licenses[key]


_AMBIGUOUS = {"MIT", "X11", "LicenseRef-BSD"}
_BUNDLES = re.compile(
    r"\bbundles\s+.{1,80}?\s+(?:which\s+is\s+)?(?:available|licensed|released|distributed)"
    r"\s+under\s+(?:the\s+|an?\s+)?[\"']?(?P<license>[^\"'.]{1,40}?)[\"']?\s+licen[cs]e\.?\s+"
    r"(?:for\s+details,?\s+)?see\s+(?P<path>[\w.-]+(?:/[\w.-]+)+|[\w-]+\.\w+)",
    re.I,
)


def _bundled_parts(files: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """(license id, scope) of each bundled part a NOTICE names with its license: the file it
    names ("This product bundles decorator 4.0.10 which is available under a "2-clause BSD"
    license. For details, see prometheus_client/decorator.py"), or the directory of the
    license text it names ("see deps/zlib/LICENSE.txt": ``deps/zlib/``)."""
    out = []
    for path, text in files.items():
        if not path.rsplit("/", 1)[-1].upper().startswith("NOTICE"):
            continue
        prefix = _parent(path) + "/" if "/" in path else ""
        for m in _BUNDLES.finditer(" ".join(text.split())):
            spdx = normalize(m["license"])
            if spdx != NOASSERTION and " " not in spdx:
                named = prefix + m["path"].rstrip(".")
                text_file = _LICENSE_FILE.fullmatch(named.rsplit("/", 1)[-1]) or named.endswith(
                    (".txt", ".md", ".rst")
                )
                out.append((spdx, _parent(named) + "/" if text_file else named))
    return tuple(out)


def _under(path: str, scope: str) -> bool:
    return scope.endswith("/") and (scope == "/" or path.startswith(scope))


def _header(head: str, facts: _DirFacts, beyond: str = "") -> _Found | None:
    """Level 2: the license notices of the file's head and of borrowed code after it (see
    ``license_header``), refined by the nearest license file (its BSD variant, its
    exception)."""
    found = header_license(head, beyond)
    if found is None:
        return None
    nearest = facts.file_license.expression if facts.file_license else None
    return _Found(with_file_exception(refine_bsd(found, nearest, head), nearest), "header")


def _table(declared: Sequence[str] | None) -> _Found | None:
    """Level 5 for tables: license ids given per file or per repository (The Stack)."""
    spdx = normalize(declared) if declared else NOASSERTION
    return _Found(spdx, "table") if spdx != NOASSERTION else None
