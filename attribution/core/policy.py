"""A project's license policy: which matched licenses are fine, which are not.

The one policy model of `check`, `check --staged`, `scan`, the LSP and the proxy. Pure:
`Policy.from_dict` validates a mapping (from `attribution.toml` or `[tool.attribution]` in
`pyproject.toml`; attribution/scan/policyfile.py reads the files) and lists every bad field
in one `PolicyError`; `Policy.from_flags` is the same policy from `--fail-on` and
`--allow-license`; `Policy.decide` judges one match. Summaries, not legal advice.

Allow and deny entries are SPDX ids or license types. For each license of an expression a
named id decides before a type (`deny = ["copyleft"]` with `allow = ["LGPL-2.1-only"]`
allows LGPL-2.1-only), and deny before allow at the same level. An expression is denied
when every choice (OR) holds a denied part (AND), allowed when some choice is all allowed.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import pathspec
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
# --fail-on: which license types are denied (an allowed license never is)
FAIL_ON: dict[str, tuple[str, ...]] = {
    "any": LICENSE_TYPES,
    "unknown": ("unknown", "weak-copyleft", "copyleft", "proprietary"),
    "weak-copyleft": ("weak-copyleft", "copyleft", "proprietary"),
    "copyleft": ("copyleft", "proprietary"),
}
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

    @classmethod
    def from_flags(cls, fail_on: str | None, allow: Sequence[str] = ()) -> Policy:
        """The policy of `--fail-on TYPE` (default: any match) and `--allow-license SPDX`."""
        level = fail_on or "any"
        if level not in FAIL_ON:
            raise PolicyError(f"unknown --fail-on {level!r}; known: {', '.join(sorted(FAIL_ON))}")
        denied = FAIL_ON[level]
        fine = [kind for kind in LICENSE_TYPES if kind not in denied]  # not a whitelist
        return cls.from_dict(
            {"deny": list(denied), "allow": [*fine, *allow]}, origin="--allow-license"
        )

    def describe(self) -> str:
        """The policy in a few words, for summaries."""
        types = [k for k in LICENSE_TYPES if k in self.deny]
        named = [d for d in self.deny if d not in LICENSE_TYPES]
        parts = []
        if len(types) == len(LICENSE_TYPES):
            parts.append("any match")
        elif self.deny:
            parts.append("denying " + ", ".join(types + named))
        if self.allow:
            parts.append(f"allowing {', '.join(self.allow)}")
        if self.project_license:
            parts.append(f"compatible with {self.project_license}")
        return ", ".join(parts) or "nothing denied"

    def to_json(self) -> dict[str, Any]:
        """The policy's fields as JSON (reports)."""
        return {
            "project_license": self.project_license,
            "allow": list(self.allow),
            "deny": list(self.deny),
            "min_tokens": self.min_tokens,
            "ignore": list(self.ignore),
            "own_repositories": list(self.own_repositories),
            "fail_on_unknown": self.fail_on_unknown,
        }

    # ---------------------------------------------------------------- judging
    def ignores(self, path: str) -> bool:
        """Whether a scanned path is excluded by an `ignore` pattern (gitignore rules)."""
        return bool(self.ignore) and _spec(self.ignore).match_file(path.removeprefix("./"))

    def blocks(self, match: Mapping[str, Any]) -> bool:
        """Whether a match is a violation of this policy."""
        return self.decide(match).status == VIOLATION

    def is_own(self, repo_names: Sequence[str]) -> bool:
        """Whether any of these indexed repositories is one of the user's own."""
        return any(fnmatch.fnmatchcase(r, p) for r in repo_names for p in self.own_repositories)

    def decide(self, match: Mapping[str, Any]) -> Decision:
        """Judge one match of a scan (SPEC match shape)."""
        source = match["source"]
        repos = [source["repo_name"], *(o["repo_name"] for o in match.get("origins", []))]
        if self.own_repositories and self.is_own(repos):
            return Decision(IGNORED, "own-repository", "the matched code is your own")
        tokens = match_tokens(match)
        if tokens < self.min_tokens:
            why = f"{tokens} tokens < min_tokens={self.min_tokens}"
            return Decision(IGNORED, "below-min-tokens", why)
        expression = source.get("license") or NOASSERTION
        node = parse(expression) if expression != NOASSERTION else None
        if self.deny and _judged(node, self._leaf_status, DENY):
            return Decision(VIOLATION, "denied-license", f"{expression} is denied by the policy")
        if self.allow and _judged(node, self._leaf_status, ALLOW):
            return Decision(ALLOWED, "allowed-license", f"{expression} is allowed by the policy")
        if self.project_license:
            return self._compatibility(expression)
        if self.allow:
            why = f"{expression} is not in the allowed licenses ({', '.join(self.allow)})"
            return Decision(VIOLATION, "not-allowed-license", why)
        return Decision(ALLOWED, "not-denied", f"{expression} is not denied by the policy")

    def _leaf_status(self, key: str) -> str | None:
        """DENY, ALLOW or None for one license id: a named id decides before its type."""
        kind = "unknown" if key == NOASSERTION else id_type(key)
        for entries, status in ((self.deny, DENY), (self.allow, ALLOW)):
            if key in entries:
                return status
        for entries, status in ((self.deny, DENY), (self.allow, ALLOW)):
            if kind in entries:
                return status
        return None

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
DENY, ALLOW = "deny", "allow"


def match_tokens(match: Mapping[str, Any]) -> int:
    """A match's evidence in tokens: its own count (scan items), else its spans' sum."""
    if "tokens" in match:
        return int(match["tokens"])
    return sum(int(s.get("tokens", 0)) for s in match.get("spans", ()))


def _leaf(node: Any) -> str:
    if node is None:
        return NOASSERTION
    symbol = getattr(node, "license_symbol", node)  # X WITH exception: judged as X
    return str(symbol.key)


def _judged(node: Any, status_of: Any, wanted: str) -> bool:
    """DENY: every choice (OR) holds a denied part (AND). ALLOW: some choice is all allowed."""
    licensing = get_spdx_licensing()
    every, some = (all, any) if wanted == DENY else (any, all)
    if isinstance(node, licensing.OR):
        return every(_judged(a, status_of, wanted) for a in node.args)
    if isinstance(node, licensing.AND):
        return some(_judged(a, status_of, wanted) for a in node.args)
    return bool(status_of(_leaf(node)) == wanted)


@cache
def _spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    """Gitignore patterns, relative to the scanned root (a leading `./` is the root too)."""
    return pathspec.GitIgnoreSpec.from_lines(
        "/" + p.removeprefix("./") if p.startswith("./") else p for p in patterns
    )
