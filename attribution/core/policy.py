"""A project's license policy for scans: which matched licenses are fine, which are not.

Pure: `Policy.from_dict` validates a mapping (from `attribution.toml` or `[tool.attribution]`
in `pyproject.toml`; index/scan reads the files) and lists every bad field in one
`PolicyError`; `Policy.decide` judges one match of a scan. Summaries, not legal advice.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from license_expression import get_spdx_licensing

from attribution.core.obligations import NOASSERTION, compatible, id_type, parse, spdx_expression

LICENSE_TYPES = ("permissive", "weak-copyleft", "copyleft", "proprietary", "unknown")
FIELDS = (
    "project_license",
    "allow",
    "deny",
    "min_tokens",
    "ignore",
    "own_repositories",
    "fail_on_unknown",
)
# What a decision says about one match.
ALLOWED, VIOLATION, REVIEW, IGNORED = "allowed", "violation", "review", "ignored"
_REF = re.compile(r"(?:DocumentRef-[\w.-]+:)?LicenseRef-[\w.+-]+")


class PolicyError(ValueError):
    """A policy with one or more bad fields (all of them are named)."""


@dataclass(frozen=True)
class Decision:
    """What the policy says about one match: status, the rule that decided, and why."""

    status: str  # allowed | violation | review | ignored
    rule: str  # e.g. "denied-license", "incompatible-license", "below-min-tokens"
    reason: str


@dataclass(frozen=True)
class Policy:
    """Validated policy; see FIELDS and README for the meaning of each field."""

    project_license: str | None = None
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    min_tokens: int = 0
    ignore: tuple[str, ...] = ()
    own_repositories: tuple[str, ...] = ()
    fail_on_unknown: bool = False

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], origin: str = "policy") -> Policy:
        """A policy from user values; raises PolicyError naming every bad field."""
        problems: list[str] = []
        unknown = sorted(set(values) - set(FIELDS))
        if unknown:
            problems.append(
                f"unknown field(s) {', '.join(map(repr, unknown))}; known: " + ", ".join(FIELDS)
            )
        fields: dict[str, Any] = {}
        fields["project_license"] = _project_license(values.get("project_license"), problems)
        for name in ("allow", "deny"):
            fields[name] = _license_list(name, values.get(name, []), problems)
        for name in ("ignore", "own_repositories"):
            fields[name] = _string_list(name, values.get(name, []), problems)
        fields["min_tokens"] = _min_tokens(values.get("min_tokens", 0), problems)
        flag = values.get("fail_on_unknown", False)
        if not isinstance(flag, bool):
            problems.append(f"fail_on_unknown must be true or false, got {flag!r}")
        fields["fail_on_unknown"] = flag is True
        if problems:
            raise PolicyError(f"invalid {origin}: " + "; ".join(problems))
        return cls(**fields)

    # ---------------------------------------------------------------- judging
    def ignores(self, path: str) -> bool:
        """Whether a scanned path is excluded by an `ignore` glob."""
        return any(_glob(pattern, path) for pattern in self.ignore)

    def is_own(self, repo_names: Sequence[str]) -> bool:
        """Whether any of these indexed repositories is one of the user's own."""
        return any(fnmatch.fnmatchcase(r, p) for r in repo_names for p in self.own_repositories)

    def decide(self, match: Mapping[str, Any]) -> Decision:
        """Judge one match of a scan (SPEC match shape)."""
        source = match["source"]
        repos = [source["repo_name"], *(o["repo_name"] for o in match.get("origins", []))]
        if self.own_repositories and self.is_own(repos):
            return Decision(IGNORED, "own-repository", "the matched code is your own")
        if int(match.get("tokens", 0)) < self.min_tokens:
            why = f"{match.get('tokens', 0)} tokens < min_tokens={self.min_tokens}"
            return Decision(IGNORED, "below-min-tokens", why)
        expression = source.get("license") or NOASSERTION
        node = parse(expression) if expression != NOASSERTION else None
        if self.deny and _denied(node, self.deny):
            return Decision(VIOLATION, "denied-license", f"{expression} is denied by the policy")
        if self.allow and _allowed(node, self.allow):
            return Decision(ALLOWED, "allowed-license", f"{expression} is allowed by the policy")
        if self.project_license:
            return self._compatibility(expression)
        if self.allow:
            why = f"{expression} is not in the allowed licenses ({', '.join(self.allow)})"
            return Decision(VIOLATION, "not-allowed-license", why)
        return Decision(ALLOWED, "not-denied", f"{expression} is not denied by the policy")

    def _compatibility(self, expression: str) -> Decision:
        assert self.project_license is not None
        ok, reason = compatible(expression, self.project_license)
        if ok is True:
            return Decision(ALLOWED, "compatible-license", reason)
        if ok is False:
            return Decision(VIOLATION, "incompatible-license", reason)
        status = VIOLATION if self.fail_on_unknown else REVIEW
        return Decision(status, "unknown-license", reason)


# ---------------------------------------------------------------- validation
@cache
def _known_ids() -> tuple[str, ...]:
    licensing = get_spdx_licensing()
    return tuple(sorted(str(k) for k in licensing.known_symbols))


def _unknown_id(value: str) -> str:
    close = difflib.get_close_matches(value, _known_ids(), n=3, cutoff=0.75)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return f"unknown SPDX license id {value!r}{hint}"


def _bad_ids(expression: str) -> list[str]:
    """Ids of an expression that are neither SPDX ids nor LicenseRef-s."""
    parsed = parse(expression)
    if parsed is None:
        return [expression]
    licensing = get_spdx_licensing()
    symbols = licensing.license_symbols(parsed, unique=True, decompose=True)
    return [
        s.key for s in symbols if s.key not in licensing.known_symbols and not _REF.fullmatch(s.key)
    ]


def _project_license(value: Any, problems: list[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(f"project_license must be an SPDX expression, got {value!r}")
        return None
    bad = _bad_ids(value)
    if bad:
        problems.extend(f"project_license: {_unknown_id(b)}" for b in bad)
        return None
    return spdx_expression(value)


def _license_list(name: str, value: Any, problems: list[str]) -> tuple[str, ...]:
    """Entries of allow/deny: license types or single SPDX ids (normalized)."""
    if not _is_string_list(value):
        problems.append(f"{name} must be a list of SPDX ids or license types, got {value!r}")
        return ()
    out = []
    for i, entry in enumerate(value):
        if entry.lower() in LICENSE_TYPES:
            out.append(entry.lower())
        elif entry == NOASSERTION:
            out.append(entry)
        elif re.search(r"\s(?:AND|OR|WITH)\s", entry, re.I):
            problems.append(f"{name}[{i}]: {entry!r} is an expression; list license ids one by one")
        elif _bad_ids(entry):
            problems.append(
                f"{name}[{i}]: {_unknown_id(entry)}; or a license type: " + ", ".join(LICENSE_TYPES)
            )
        else:
            out.append(spdx_expression(entry) or entry)
    return tuple(out)


def _string_list(name: str, value: Any, problems: list[str]) -> tuple[str, ...]:
    if not _is_string_list(value):
        problems.append(f"{name} must be a list of strings, got {value!r}")
        return ()
    return tuple(value)


def _min_tokens(value: Any, problems: list[str]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.append(f"min_tokens must be an integer >= 0, got {value!r}")
        return 0
    return value


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, str) and v for v in value)


# ---------------------------------------------------------------- expression rules
def _entry_matches(key: str, entries: tuple[str, ...]) -> bool:
    kind = "unknown" if key == NOASSERTION else id_type(key)
    return key in entries or kind in entries


def _leaf(node: Any) -> str:
    if node is None:
        return NOASSERTION
    symbol = getattr(node, "license_symbol", node)
    return str(symbol.key)


def _denied(node: Any, deny: tuple[str, ...]) -> bool:
    """Denied when every choice (OR) holds a denied part (AND)."""
    licensing = get_spdx_licensing()
    if isinstance(node, licensing.OR):
        return all(_denied(a, deny) for a in node.args)
    if isinstance(node, licensing.AND):
        return any(_denied(a, deny) for a in node.args)
    return _entry_matches(_leaf(node), deny)


def _allowed(node: Any, allow: tuple[str, ...]) -> bool:
    """Allowed when some choice (OR) has every part (AND) allowed."""
    licensing = get_spdx_licensing()
    if isinstance(node, licensing.OR):
        return any(_allowed(a, allow) for a in node.args)
    if isinstance(node, licensing.AND):
        return all(_allowed(a, allow) for a in node.args)
    return _entry_matches(_leaf(node), allow)


def _glob(pattern: str, path: str) -> bool:
    """Gitignore-like, on paths relative to the scanned root: `**` crosses directories, a
    pattern without `/` matches any file or directory name, a directory pattern (`vendor/`)
    covers everything below it, other patterns are anchored at the root."""
    path, pattern = path.removeprefix("./"), pattern.removeprefix("./")
    pattern = pattern.rstrip("/") + ("/**" if pattern.endswith("/") else "")
    if "/" not in pattern:
        return any(fnmatch.fnmatchcase(part, pattern) for part in path.split("/"))
    regex = _glob_regex(pattern.lstrip("/"))
    return regex.fullmatch(path) is not None or regex.fullmatch(path + "/") is not None


@cache
def _glob_regex(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))
