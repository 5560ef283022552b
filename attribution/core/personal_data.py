"""Personal data in source excerpts, for redaction (redact.py): e-mail addresses, and IPv4
and IPv6 addresses except loopback, unspecified, netmasks, networks (`10.0.0.0/8`) and
version numbers. Each finder yields (start, end, kind).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

_EMAIL = re.compile(
    r"(?<![\w.+%-])(?P<local>[A-Za-z0-9][A-Za-z0-9._%+-]*)@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
    r"\.(?P<tld>[A-Za-z]{2,24}))\b(?![(@])"
)
_IMAGE = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff"})
_COMMON_TLDS = frozenset(
    {"com", "org", "net", "edu", "gov", "mil", "int", "io", "dev", "app", "ai", "info", "biz",
     "name", "pro", "tech", "xyz", "cloud", "online", "site", "email", "page", "blog", "shop",
     "store", "live", "news", "agency", "company", "systems", "solutions", "services",
     "network", "works", "tools", "software", "codes", "digital", "media", "group", "team",
     "world", "global", "science", "space", "today", "center", "social", "zone", "link",
     "club", "museum", "aero", "coop", "jobs", "mobi", "travel", "local", "localhost",
     "example", "test", "invalid", "mail", "ninja", "guru", "rocks", "lol", "fun"}
)  # fmt: skip


def emails(text: str) -> Iterator[tuple[int, int, str]]:
    for m in _EMAIL.finditer(text):
        tld, domain = m.group("tld").lower(), m.group("domain")
        if tld in _IMAGE:
            continue  # icon@2x.png
        if m.group("local") == "git" and text.startswith(":", m.end()):
            continue  # git@github.com:owner/repo.git
        if domain.count(".") == 1 and len(tld) > 2 and tld not in _COMMON_TLDS:
            continue  # x@w.shape, a@b.transpose: a matrix product, not an address
        yield m.start(), m.end(), "email"


_IPV4 = re.compile(
    r"(?<![\w.:-])(?<![=<>~!^@]=)(?<!@)(\d{1,3}(?:\.\d{1,3}){3})(?![\w\[-]|\.\d|/\d)"
)
_IPV6 = re.compile(
    r"(?<![\w:.])((?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|:|(?:\d{1,3}\.){3}\d{1,3})"
    r"(?:%[\w.]+)?)(?![\w:\[]|/\d)"
)
_VERSION = re.compile(r"(?i)version|release|section|rfc|§|\bv(?:er)?[ \t]*[=:(\"']")


def ip_addresses(text: str) -> Iterator[tuple[int, int, str]]:
    for m in _IPV4.finditer(text):
        try:
            ip = ipaddress.IPv4Address(m.group(1))
        except ValueError:
            continue
        if ip.is_loopback or m.group(1).startswith(("0.", "255.")):
            continue
        if max(map(len, m.group(1).split("."))) == 1 and len(set(m.group(1))) > 2:
            continue  # 2.7.2.2, 8.4.1.3: a version or a section, not a host (8.8.8.8 is one)
        if text.startswith("/", m.start() - 1) and not text.startswith("//", m.start() - 2):
            continue  # /packages/Foo/4.2.0.0: a path segment
        if _VERSION.search(text, text.rfind("\n", 0, m.start()) + 1, m.start()):
            continue  # AssemblyVersion("1.0.0.0"), version: 2.1.0.4
        yield m.start(1), m.end(1), "ip_address"
    for m in _IPV6.finditer(text):
        if _plausible_ipv6(m.group(1)):
            yield m.start(1), m.end(1), "ip_address"


def _plausible_ipv6(candidate: str) -> bool:
    """A valid IPv6 address that is not `::`, `::1`, a slice (`a[1::2]`) or `Face::add`."""
    address = candidate.split("%")[0]
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        return False
    groups = [g for g in re.split(r"[:.]", address) if g]
    has_digit = any(c.isdigit() for c in address)
    spread = len(groups) >= 3 or any(len(g) == 4 for g in groups)
    return has_digit and spread and not (ip.is_loopback or ip.is_unspecified)
