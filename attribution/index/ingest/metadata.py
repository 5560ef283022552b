"""Reading license/metadata files: decoding, and the repository URL they declare."""

from __future__ import annotations

import codecs
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from email.parser import HeaderParser
from typing import Any

from .filters import is_binary
from .naming import FORGE_HOSTS, normalize_url
from .records import METADATA_CAP

_SOURCE_LABELS = ("source", "sourcecode", "repository", "repo", "code", "github", "gitlab")
_HOME_LABELS = ("homepage", "home")


def decode_text(data: bytes, truncated: bool = False) -> str | None:
    """Text of a metadata file (UTF-8, else Latin-1), capped; None when binary."""
    if is_binary(data):
        return None
    truncated = truncated or len(data) > METADATA_CAP
    data = data[:METADATA_CAP]
    try:
        return codecs.getincrementaldecoder("utf-8-sig")().decode(data, final=not truncated)
    except UnicodeDecodeError:
        return data.decode("latin-1")


def core_metadata_url(text: str) -> str | None:
    """Project-URL (source first, then homepage) or Home-page of PKG-INFO/METADATA text."""
    headers = HeaderParser().parsestr(text, headersonly=True)
    labelled: dict[str, str] = {}
    for entry in headers.get_all("Project-URL") or []:
        label, _, url = str(entry).partition(",")
        labelled.setdefault(re.sub(r"[^a-z0-9]", "", label.lower()), url.strip())
    return _pick(labelled) or normalize_url(str(headers.get("Home-page") or ""))


def _pick(labelled: Mapping[str, str]) -> str | None:
    for label in _SOURCE_LABELS + _HOME_LABELS:
        url = normalize_url(labelled.get(label))
        if url:
            return url
    return None


def _package_json_url(text: str) -> str | None:
    doc = json.loads(text)
    if not isinstance(doc, dict):
        return None
    repo = doc.get("repository")
    if isinstance(repo, dict):
        repo = repo.get("url")
    if isinstance(repo, str) and re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
        repo = f"https://github.com/{repo}"
    homepage = doc.get("homepage")
    return normalize_url(_str(repo)) or normalize_url(_str(homepage))


def _cargo_url(text: str) -> str | None:
    package = tomllib.loads(text).get("package", {})
    return normalize_url(_str(package.get("repository"))) or normalize_url(
        _str(package.get("homepage"))
    )


def _pyproject_url(text: str) -> str | None:
    urls = tomllib.loads(text).get("project", {}).get("urls", {})
    if not isinstance(urls, dict):
        return None
    return _pick({re.sub(r"[^a-z0-9]", "", k.lower()): _str(v) or "" for k, v in urls.items()})


def _field_url(*fields: str) -> Callable[[str], str | None]:
    def find(text: str) -> str | None:
        for name in fields:
            m = re.search(rf"^{name}:[ \t]*(\S+)", text, re.MULTILINE | re.IGNORECASE)
            url = normalize_url(m.group(1).strip("'\"")) if m else None
            if url:
                return url
        return None

    return find


def _go_mod_url(text: str) -> str | None:
    m = re.search(r"^module\s+(\S+)", text, re.MULTILINE)
    if not m or m.group(1).split("/", 1)[0] not in FORGE_HOSTS:
        return None
    return normalize_url("https://" + "/".join(m.group(1).split("/")[:3]))


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


_URL_READERS: tuple[tuple[str, Callable[[str], str | None]], ...] = (
    ("PKG-INFO", core_metadata_url),
    ("METADATA", core_metadata_url),
    ("package.json", _package_json_url),
    ("Cargo.toml", _cargo_url),
    ("pyproject.toml", _pyproject_url),
    ("go.mod", _go_mod_url),
    ("debian/upstream/metadata", _field_url("Repository", "Repository-Browse")),
    ("debian/control", _field_url("Homepage")),
    ("debian/copyright", _field_url("Source")),
)


_INFO_METADATA = re.compile(r"^[^/]+\.(?:dist-info/METADATA|egg-info/PKG-INFO)$")


def repository_url(metadata_files: Mapping[str, str]) -> str | None:
    """The URL declared by the top-level metadata files, or None."""
    infos = sorted(p for p in metadata_files if _INFO_METADATA.match(p))
    readers = [*_URL_READERS, *((p, core_metadata_url) for p in infos)]
    for path, reader in readers:
        text = metadata_files.get(path)
        if text is None:
            continue
        try:
            url = reader(text)
        except (ValueError, AttributeError, TypeError):  # malformed JSON/TOML/headers
            continue
        if url:
            return url
    return None
