"""Secrets and personal data out of source excerpts shown to users (SPEC: excerpts).

A first, conservative version: it prefers hiding a harmless string to showing a key.
Each hit becomes a typed placeholder such as `[REDACTED:email]`; a hit spanning lines
(a private key block) keeps its line breaks, so line numbers of an excerpt stay true.

Rules run in order (earlier rules win): private key blocks, credentials in URLs, known
token formats (AWS, GitHub, Slack, Google, Stripe, JWT), secrets assigned to a
password/secret/api-key-like name, then e-mail addresses.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass


def placeholder(kind: str) -> str:
    return f"[REDACTED:{kind}]"


Replacer = Callable[[re.Match[str]], tuple[str, str]]  # a hit -> (replacement, kind)


def _whole(kind: str) -> Replacer:
    """Replace the whole hit, keeping its line breaks."""

    def sub(m: re.Match[str]) -> tuple[str, str]:
        return placeholder(kind) + "\n" * m.group(0).count("\n"), kind

    return sub


def _group(kind: str, name: str) -> Replacer:
    """Replace one named group of the hit, keep the rest (the variable name, quotes)."""

    def sub(m: re.Match[str]) -> tuple[str, str]:
        s0, text = m.start(0), m.group(0)
        start, end = m.start(name) - s0, m.end(name) - s0
        return text[:start] + placeholder(kind) + text[end:], kind

    return sub


_SECRET_NAME = (
    r"(?:password|passwd|passphrase|pwd|secret|api[_-]?key|apikey|private[_-]?key"
    r"|(?:access|auth|api|bearer|refresh|secret|session)[_-]?token|credentials?)"
)
_PASSWORD_NAME = re.compile(r"(?i)pass|pwd")


def _assigned(m: re.Match[str]) -> tuple[str, str]:
    kind = "password" if _PASSWORD_NAME.search(m.group("name")) else "secret"
    return _group(kind, "value")(m)


@dataclass(frozen=True)
class Rule:
    kind: str
    pattern: re.Pattern[str]
    replace: Replacer


RULES: tuple[Rule, ...] = (
    Rule(
        "private_key",
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
            r".*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
            re.DOTALL,
        ),
        _whole("private_key"),
    ),
    Rule(
        "url_credentials",
        re.compile(r"(?i)\b[a-z][a-z0-9+.-]{1,20}://(?P<cred>[^\s:/@'\"]+:[^\s/@'\"]+)@"),
        _group("url_credentials", "cred"),
    ),
    Rule(
        "aws_access_key",
        re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
        _whole("aws_access_key"),
    ),
    Rule(
        "github_token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
        _whole("github_token"),
    ),
    Rule(
        "slack_token",
        re.compile(
            r"\bxox[abposre]-[A-Za-z0-9-]{10,}"
            r"|https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}"
        ),
        _whole("slack_token"),
    ),
    Rule(
        "google_api_key",
        re.compile(r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"),
        _whole("google_api_key"),
    ),
    Rule(
        "stripe_key",
        re.compile(r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{10,99}\b"),
        _whole("stripe_key"),
    ),
    Rule(
        "jwt",
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
        _whole("jwt"),
    ),
    Rule(
        "assigned_secret",  # name = "value", "name": "value", name => 'value', name := "value"
        re.compile(
            r"(?i)(?P<name>\b[\w.-]*" + _SECRET_NAME + r"[\w.-]*)[\"']?"
            r"(?:\s*:\s*[\w.\[\]| ]{1,40}?)?\s*(?::=|=>|[:=])\s*"
            r"(?P<q>[\"'`])(?P<value>[^\"'`\n]{1,500})(?P=q)"
        ),
        _assigned,
    ),
    Rule(
        "assigned_password",  # PASSWORD=hunter2 unquoted, not indented (.env, ini, shell)
        re.compile(
            r"(?im)^(?P<name>(?:export\s+)?[\w.-]*(?:password|passwd|pwd|secret)[\w.-]*)"
            r"[ \t]*[=:][ \t]*(?P<value>[^\s\"'`#;=][^\s#;]*)"
        ),
        _assigned,
    ),
    Rule(
        "email",
        re.compile(
            r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
        ),
        _whole("email"),
    ),
)


def redact_counted(text: str) -> tuple[str, dict[str, int]]:
    """The text with secrets and personal data replaced, and how many of each kind."""
    counts: Counter[str] = Counter()
    for rule in RULES:

        def sub(m: re.Match[str], rule: Rule = rule) -> str:
            out, kind = rule.replace(m)
            counts[kind] += 1
            return out

        text = rule.pattern.sub(sub, text)
    return text, dict(counts)


def redact(text: str) -> str:
    """The text with secrets and personal data replaced by `[REDACTED:<kind>]`."""
    return redact_counted(text)[0]
