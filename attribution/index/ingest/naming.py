"""Names: repositories from archive names, normalised package names, URLs and safe paths."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

TAR_SUFFIXES = (
    ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".tar"
)  # fmt: skip
ZIP_SUFFIXES = (".zip",)
ARCHIVE_SUFFIXES = TAR_SUFFIXES + ZIP_SUFFIXES

FORGE_HOSTS = frozenset({"github.com", "gitlab.com", "bitbucket.org", "codeberg.org"})
_SCP_URL = re.compile(r"^(?:[\w.-]+@)?([\w.-]+):(?!//)(.+)$")
_NPM_SHORTHAND = re.compile(r"^(github|gitlab|bitbucket):([\w.-]+/[\w.-]+)$")
_HOST_SHORTHAND = {"github": "github.com", "gitlab": "gitlab.com", "bitbucket": "bitbucket.org"}


def suffix_of(filename: str, suffixes: tuple[str, ...]) -> str | None:
    """The suffix of `suffixes` that the file name ends with (case-insensitive), or None."""
    lower = filename.lower()
    return next((s for s in suffixes if lower.endswith(s)), None)


def archive_repo_name(filename: str) -> str:
    """Repository name of an archive: `npm__scope__name.tgz` -> `npm/@scope/name`."""
    base = filename.rsplit("/", 1)[-1]
    suffix = suffix_of(base, ARCHIVE_SUFFIXES)
    if suffix:
        base = base[: -len(suffix)]
    registry, sep, rest = base.partition("__")
    if not sep or not registry or not rest:
        return base
    if registry == "npm" and "__" in rest:
        scope, _, name = rest.partition("__")
        if scope and name:
            return f"npm/@{scope}/{name}"
    return f"{registry}/{rest}"


def normalize_dist_name(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def normalize_url(url: str | None) -> str | None:
    """An https URL for a repository or homepage; credentials and `.git` removed."""
    if not url:
        return None
    url = url.strip()
    short = _NPM_SHORTHAND.match(url)
    if short:
        return f"https://{_HOST_SHORTHAND[short.group(1)]}/{short.group(2)}"
    url = url.removeprefix("git+")
    scp = _SCP_URL.match(url)
    if scp and "/" not in scp.group(1):
        url = f"ssh://{scp.group(1)}/{scp.group(2)}"
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        return None
    if parts.scheme in ("ssh", "git") and host in FORGE_HOSTS:
        return _forge_url(host, parts.path)
    if parts.scheme not in ("http", "https"):
        return None
    if host in FORGE_HOSTS:
        return _forge_url(host, parts.path)
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _forge_url(host: str, path: str) -> str:
    path = path.strip("/").removesuffix(".git")
    return f"https://{host}/{path}"


def clean_member_path(name: str) -> tuple[str | None, str]:
    """('/'-separated relative path, '') or (None, why it is unsafe) for an archive name."""
    if "\\" in name and re.search(r"(^|\\)\.\.(\\|$)|^[A-Za-z]:\\", name):
        return None, "Windows path escaping the archive"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None, "absolute path"
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None, "path with '..' component"
    if not is_utf8(name):
        return None, "file name is not valid UTF-8"
    return "/".join(parts), ""


def is_utf8(name: str) -> bool:
    """False for names holding undecodable bytes (surrogate escapes)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class RootFinder:
    """Finds the single top-level directory shared by every member of an archive."""

    def __init__(self) -> None:
        self._root: str | None = None
        self._shared = True

    def add(self, path: str, is_dir: bool) -> None:
        """Record one member's cleaned path."""
        if not path:
            return
        head, sep, _ = path.partition("/")
        if not sep and not is_dir:
            self._shared = False
        elif self._root is None:
            self._root = head
        elif head != self._root:
            self._shared = False

    @property
    def root(self) -> str | None:
        """The shared top directory, or None when members do not share one."""
        return self._root if self._shared else None


def web_link(url: Any) -> str | None:
    """`url` when it is an http(s) link with a host, else None: no other scheme from
    indexed metadata (`javascript:`, `data:`, ...) ever becomes a link or is stored."""
    if not isinstance(url, str) or not url or any(c <= " " or c == "\x7f" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else None
