"""Gitleaks' published rule set, read as data, as a secret finder for redaction.

The rules are `data/gitleaks.toml`: gitleaks' default configuration (v8.30.1, MIT; see
`data/gitleaks.NOTICE.md` for where it comes from). Each rule has a regular expression in
RE2 syntax, keywords one of which a text must hold for the rule to run, often a minimum
Shannon entropy of the secret, and allowlists. The expressions run under RE2 (google-re2),
which matches in time linear in the text whatever the pattern: no rule can backtrack.

Applied as gitleaks applies them, less what needs a file path or a commit (the 5 rules
that hold for one kind of file, such as `.tf` or `.php`, and path allowlists): the secret
is the rule's secret group, else its first non-empty group, else the whole match; a secret
at or below the rule's entropy is dropped, and so is a generic one without a digit or
(our addition) one that is a number literal; a secret an allowlist names (a regex on the
secret, the match or the line; a stopword in the secret) is dropped.

Pure: reads only its own package data.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import re2

RULES_FILE = "data/gitleaks.toml"
# Ours, beside gitleaks' allowlists: a number literal is no generic secret (`0x1234abcDEF`)
_NUMBER = re.compile(r"-?(?:0[xX][0-9a-fA-F_]+|[0-9_]+(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?)[lLuU]*")


@dataclass(frozen=True)
class Allowlist:
    """Secrets a rule lets through: any criterion (OR) or all of them (AND)."""

    regexes: tuple[Any, ...]
    target: str  # "secret", "match" or "line"
    stopwords: Any  # one RE2 alternation of the stopwords, or None
    all_of: bool

    def allows(self, secret: str, match: str, line: str) -> bool:
        subject = {"match": match, "line": line}.get(self.target, secret)
        found = [
            *([any(r.search(subject) for r in self.regexes)] if self.regexes else []),
            *([bool(self.stopwords.search(secret.lower()))] if self.stopwords else []),
        ]
        return bool(found) and (all(found) if self.all_of else any(found))


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str  # the placeholder's kind: the id in [a-z_]
    regex: Any  # compiled RE2
    keywords: tuple[str, ...]
    entropy: float
    secret_group: int
    allowlists: tuple[Allowlist, ...]

    @property
    def generic(self) -> bool:
        return self.id.startswith("generic")


def _allowlist(raw: dict[str, Any]) -> Allowlist | None:
    """None for an allowlist that needs a path or a commit, which redaction never has."""
    all_of = raw.get("condition", "OR").upper() == "AND"
    needs_context = bool(raw.get("paths") or raw.get("commits"))
    if needs_context and (all_of or not (raw.get("regexes") or raw.get("stopwords"))):
        return None
    words = raw.get("stopwords") or []
    return Allowlist(
        regexes=tuple(re2.compile(r) for r in raw.get("regexes", [])),
        target=raw.get("regexTarget", "secret"),
        stopwords=re2.compile("|".join(re2.escape(w.lower()) for w in words)) if words else None,
        all_of=all_of,
    )


def kind_of(rule_id: str) -> str:
    """`aws-access-token` -> `aws_access_token`; digits go (`1password-...` -> `password_...`)."""
    return re.sub(r"[^a-z]+", "_", rule_id.lower()).strip("_")


def parse_rules(text: str) -> tuple[tuple[Rule, ...], tuple[Allowlist, ...]]:
    """The content rules of a gitleaks configuration, compiled, and its global allowlists."""
    config = tomllib.loads(text)
    raw_global = config.get("allowlists", []) + (
        [config["allowlist"]] if "allowlist" in config else []
    )
    rules = []
    for raw in config.get("rules", []):
        if not raw.get("regex") or raw.get("path"):
            continue  # a rule on file paths, or for files of one kind: redaction has no path
        lists = (_allowlist(a) for a in raw.get("allowlists", []))
        rules.append(
            Rule(
                id=raw["id"],
                kind=kind_of(raw["id"]),
                regex=re2.compile(raw["regex"]),
                keywords=tuple(k.lower() for k in raw.get("keywords", [])),
                entropy=float(raw.get("entropy", 0.0)),
                secret_group=int(raw.get("secretGroup", 0)),
                allowlists=tuple(a for a in lists if a),
            )
        )
    return tuple(rules), tuple(a for a in map(_allowlist, raw_global) if a)


@cache
def rules() -> tuple[tuple[Rule, ...], tuple[Allowlist, ...]]:
    """The packaged rule set, compiled once."""
    text = resources.files("attribution.core").joinpath(RULES_FILE).read_text("utf-8")
    return parse_rules(text)


def shannon_entropy(value: str) -> float:
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def _secret_span(rule: Rule, m: Any) -> tuple[int, int]:
    groups = m.re.groups
    if rule.secret_group and rule.secret_group <= groups:
        return m.span(rule.secret_group)
    for g in range(1, groups + 1):
        if m.group(g):
            return m.span(g)
    return m.span()


def _line(text: str, a: int, b: int) -> str:
    start = text.rfind("\n", 0, a) + 1
    end = text.find("\n", b)
    return text[start : len(text) if end < 0 else end]


def _kept(
    rule: Rule, text: str, m: Any, span: tuple[int, int], lists: tuple[Allowlist, ...]
) -> bool:
    secret = text[span[0] : span[1]]
    if rule.entropy:
        if shannon_entropy(secret) <= rule.entropy:
            return False
        if rule.generic and (not any(c.isdigit() for c in secret) or _NUMBER.fullmatch(secret)):
            return False
    match, line = m.group(), _line(text, *m.span())
    return not any(a.allows(secret, match, line) for a in (*lists, *rule.allowlists))


def findings(text: str) -> Iterator[tuple[int, int, Rule]]:
    """(start, end, rule) of each secret the rule set finds in the text."""
    rule_set, global_lists = rules()
    lower = text.lower()
    for rule in rule_set:
        if rule.keywords and not any(k in lower for k in rule.keywords):
            continue
        for m in rule.regex.finditer(text):
            span = _secret_span(rule, m)
            if span[1] > span[0] and _kept(rule, text, m, span, global_lists):
                yield span[0], span[1], rule
