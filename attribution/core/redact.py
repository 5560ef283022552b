"""Secrets and personal data out of source excerpts shown to users (SPEC: excerpts).

Every hit becomes a typed placeholder, `[REDACTED:<kind>]` (kinds are `[a-z_]+`); a hit
spanning lines keeps its line breaks, so line numbers of an excerpt stay true. Redaction
changes only what is shown: the index and the matching always see the original text.

Detectors find spans in the original text; overlapping spans merge and the more
specific detector names the kind:
- private key blocks (PEM, OpenSSH, PGP), body included, also cut short or `\\n`-escaped,
  and the private lines of PuTTY key files;
- credentials in URLs (`scheme://user:pass@`, `redis://:pass@`) and `curl -u user:pass`;
- provider token formats: detect-secrets' plugins (AWS, GitHub, GitLab, Slack, Stripe,
  Twilio, SendGrid, PyPI, OpenAI, Discord, Telegram, Mailchimp, Square, Azure, JWT), used
  for their patterns only (never their network verification), plus formats they miss or
  know in part (GitHub fine-grained, Google API keys, whole JWTs, npm, ...), and bearer
  and basic credentials in headers;
- gitleaks' published rule set, read as data (secrets_rules: 217 of its 222 rules, under RE2);
- values given to a secret-like name (secrets_assigned: `password = "..."`,
  `--client-secret VALUE`, `.env`, YAML, XML, SQL, ...);
- e-mail and IP addresses (personal_data).

Every pattern runs in time linear in the text (RE2, or bounded and possessive repeats in
Python's `re`: tests/test_redact_redos.py). With a Budget, the text is redacted in chunks
and the lines past the budget are each `[REDACTED:withheld]`, never shown as they are.

Pure: no Flask and no I/O, so reports can import it.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from detect_secrets.plugins import (
    aws,
    azure_storage_key,
    discord,
    github_token,
    gitlab_token,
    jwt,
    mailchimp,
    openai,
    pypi_token,
    sendgrid,
    slack,
    square_oauth,
    stripe,
    telegram_token,
    twilio,
)
from detect_secrets.plugins.base import RegexBasedDetector

from attribution.core import personal_data, secrets_assigned, secrets_rules

PLACEHOLDER = re.compile(r"\[REDACTED:([a-z_]+)\]")


def placeholder(kind: str) -> str:
    return f"[REDACTED:{kind}]"


@dataclass(frozen=True, order=True)
class Hit:
    """A span of the text to hide; among overlapping hits the lowest rank names the kind."""

    start: int
    end: int
    rank: int
    kind: str


Finder = Callable[[str], Iterator[Hit]]

# ranks: the more specific detector names a merged span
_KEY_BLOCK, _CREDENTIALS, _PROVIDER, _RULESET, _ASSIGNED, _GENERIC, _PERSONAL = range(7)


# --- private keys ---------------------------------------------------------------------------
_PEM_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----")
_KEY_BODY = re.compile(r"[A-Za-z0-9+/]{16}")
# The body of a key whose END line is cut off: `\n`-escaped in one string, or lines of
# base64 (quoted or not) and PEM headers.
_KEY_TAIL = re.compile(
    r"(?:\\n[A-Za-z0-9+/=]*)+"
    r"|(?:\n?[ \t]{0,64}+[\"']?(?:[A-Za-z0-9+/=]{16,}+|(?:Proc-Type|DEK-Info|Comment): [^\n]*+)"
    r"(?:\\n)?[\"']?[ \t,;+]{0,64}+)++"
)


def _private_keys(text: str) -> Iterator[Hit]:
    """A key block up to its END line, else its body; a header alone (code that parses
    keys) is not a key."""
    for m in _PEM_BEGIN.finditer(text):
        marker = f"-----END {m.group(1)}-----"
        end = text.find(marker, m.end(), m.end() + 50_000)
        if end >= 0:
            stop = end + len(marker)
        else:
            tail = _KEY_TAIL.match(text, m.end())
            stop = tail.end() if tail else m.end()
        if _KEY_BODY.search(text, m.end(), stop):
            yield Hit(m.start(), stop, _KEY_BLOCK, "private_key")


_PUTTY_PRIVATE = re.compile(r"(?m)^Private-Lines: (\d{1,3})\r?\n")


def _putty_keys(text: str) -> Iterator[Hit]:
    """The private lines of a PuTTY key file (`PuTTY-User-Key-File-N:` above them)."""
    for m in _PUTTY_PRIVATE.finditer(text):
        if "PuTTY-User-Key-File-" not in text[max(0, m.start() - 4000) : m.start()]:
            continue
        stop = m.end()
        for _ in range(int(m.group(1))):
            nl = text.find("\n", stop)
            stop = len(text) if nl < 0 else nl + 1
        if stop > m.end():
            yield Hit(m.end(), stop - (text[stop - 1 : stop] == "\n"), _KEY_BLOCK, "private_key")


# --- credentials in URLs --------------------------------------------------------------------
_PLACEHOLDER_CRED = re.compile(
    r"(?i)\$\{?\w+\}?|\{\{?[^}]{0,64}\}\}?|%\(?\w*\)?s|<[^>]{0,64}>|\*+|x+|\.\.\.|password|passwd|pass"
    r"|pwd|secret|user|username|changeme|foo|bar|baz|test|example"
)
_URL_CRED = re.compile(
    r"(?i)\b[a-z][a-z0-9+.-]{1,20}://(?P<user>[^\s:/@'\"`]{0,256}+):(?P<pw>[^\s/@'\"`]{1,256}+)@"
)
_CURL_CRED = re.compile(
    r"(?:curl|wget|http)\b[^\n]{0,300}?\s(?:-u|--user)[ =]{1,4}+[\"']?"
    r"(?P<user>[^\s:'\"]{1,256}+):(?P<pw>[^\s'\"]{1,256}+)"
)


def _url_credentials(text: str) -> Iterator[Hit]:
    for pattern in (_URL_CRED, _CURL_CRED):
        for m in pattern.finditer(text):
            if not _PLACEHOLDER_CRED.fullmatch(m.group("pw")):
                yield Hit(m.start("user"), m.end("pw"), _CREDENTIALS, "url_credentials")


# --- provider formats -----------------------------------------------------------------------
def _token_ok(text: str, a: int, b: int) -> bool:
    """A whole token (not part of a longer word or base64 run) and not a placeholder
    such as `AKIAXXXXXXXXXXXXXXXX`."""
    if (a > 0 and text[a - 1].isalnum()) or (b < len(text) and text[b].isalnum()):
        return False
    return len(set(text[a:b])) >= 8


# Formats detect-secrets does not know, or knows only in part. Each starts with a literal
# (fast to scan for); _token_ok checks the edges.
_FORMATS: tuple[tuple[str, str], ...] = (
    ("github_token", r"gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}"),
    ("google_api_key", r"AIza[0-9A-Za-z_-]{35}(?![\w-])"),
    ("stripe_key", r"[sr]k_(?:live|test)_[0-9A-Za-z]{10,99}"),
    ("slack_token", r"xox[abposre]-[A-Za-z0-9-]{10,}"),
    ("slack_token", r"https://hooks\.slack\.com/services/[\w/-]{20,}"),
    ("jwt", r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("openai_key", r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}"),
    ("anthropic_key", r"sk-ant-[a-z]{3,8}\d{2}-[A-Za-z0-9_-]{32,}"),
    ("huggingface_token", r"hf_[A-Za-z]{34}"),
    ("npm_token", r"npm_[A-Za-z0-9]{36}"),
    # detect-secrets' npm pattern (`//.+/:_authToken=`) backtracks: its legacy form here
    ("npm_token", r"(?<=:_authToken=)[A-Fa-f0-9-]{36}"),
    ("digitalocean_token", r"do[opr]_v1_[a-f0-9]{64}"),
    ("shopify_token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    ("auth_header", r"(?i)(?<=bearer )(?=[\w.~+/-]*\d)[\w.~+/-]{20,}=*"),
    ("auth_header", r"(?i)(?<=basic )(?=[A-Za-z0-9+/]*\d)[A-Za-z0-9+/]{16,}={0,2}"),
)
# Formats gitleaks 8.30.1 lacks (or finds only near a keyword), added when the redaction
# benchmark missed them: bench/results/redaction.md gives the recall with and without.
FORMATS_GITLEAKS_LACKS: tuple[tuple[str, str], ...] = (
    ("tencent_secret_id", r"AKID[A-Za-z0-9]{32}"),
    ("stripe_webhook_secret", r"whsec_[A-Za-z0-9+/=]{32,}"),
    ("docker_hub_token", r"dckr_pat_[A-Za-z0-9_-]{27}"),
    ("discord_webhook", r"(?<=discord\.com/api/webhooks/)\d{17,20}/[\w-]{60,}"),
)


def _regex(kind: str, pattern: str) -> Finder:
    compiled = re.compile(pattern)

    def find(text: str) -> Iterator[Hit]:
        for m in compiled.finditer(text):
            if _token_ok(text, m.start(), m.end()):
                yield Hit(m.start(), m.end(), _PROVIDER, kind)

    return find


# detect-secrets' plugins with the kind of their hits, and substrings one of which a text
# must hold for the plugin to run (its patterns have no literal to scan for).
_PLUGINS: tuple[tuple[type[RegexBasedDetector], str, tuple[str, ...]], ...] = (
    (aws.AWSKeyDetector, "aws_access_key", ()),
    (azure_storage_key.AzureStorageKeyDetector, "azure_storage_key", ()),
    (discord.DiscordBotTokenDetector, "discord_token", ()),
    (github_token.GitHubTokenDetector, "github_token", ()),
    (gitlab_token.GitLabTokenDetector, "gitlab_token", ()),
    (jwt.JwtTokenDetector, "jwt", ()),
    (mailchimp.MailchimpDetector, "mailchimp_key", ("-us",)),
    (openai.OpenAIDetector, "openai_key", ()),
    (pypi_token.PypiTokenDetector, "pypi_token", ()),
    (sendgrid.SendGridDetector, "sendgrid_key", ()),
    (slack.SlackDetector, "slack_token", ("xox", "hooks.slack.com")),
    (square_oauth.SquareOAuthDetector, "square_secret", ()),
    (stripe.StripeDetector, "stripe_key", ()),
    (telegram_token.TelegramBotTokenDetector, "telegram_token", (":",)),
    (twilio.TwilioKeyDetector, "twilio_key", ()),
)


def _secret_span(m: re.Match[str]) -> tuple[int, int]:
    """The secret in a plugin's match: a group after some context (`aws...key = "(...)"`,
    `:_authToken=(...)`), else the whole match (a group at its start is a prefix: `(ghp)_`)."""
    groups = [g for g in range(1, (m.re.groups or 0) + 1) if m.group(g) and m.start(g) > m.start()]
    if not groups:
        return m.start(), m.end()
    return min(m.start(g) for g in groups), max(m.end(g) for g in groups)


def _plugin(cls: type[RegexBasedDetector], kind: str, needs: tuple[str, ...]) -> Finder:
    """A detect-secrets plugin as a span finder: the secret of each match of its patterns,
    kept when the plugin's own check agrees (JWTs are decoded)."""
    plugin = cls()
    checks = type(plugin).analyze_string is not RegexBasedDetector.analyze_string

    def find(text: str) -> Iterator[Hit]:
        if needs and not any(n in text for n in needs):
            return
        accepted = set(plugin.analyze_string(text)) if checks else None
        for i, pattern in enumerate(plugin.denylist):
            this = "aws_secret_key" if cls is aws.AWSKeyDetector and i == 1 else kind
            for m in pattern.finditer(text):
                a, b = _secret_span(m)
                if (accepted is None or text[a:b] in accepted) and _token_ok(text, a, b):
                    yield Hit(a, b, _PROVIDER, this)

    return find


# --- values given to a secret-like name (secrets_assigned) -----------------------------------
def _assigned(text: str) -> Iterator[Hit]:
    for start, end, kind in secrets_assigned.assigned(text):
        yield Hit(start, end, _ASSIGNED, kind)


# --- gitleaks' rule set ---------------------------------------------------------------------
def _ruleset(text: str) -> Iterator[Hit]:
    """Gitleaks' rules (secrets_rules); its generic rule ranks after the assigned values."""
    for start, end, rule in secrets_rules.findings(text):
        yield Hit(start, end, _GENERIC if rule.generic else _RULESET, rule.kind)


# --- personal data (personal_data) -----------------------------------------------------------
def _personal(text: str) -> Iterator[Hit]:
    for finder in (personal_data.emails, personal_data.ip_addresses):
        for start, end, kind in finder(text):
            yield Hit(start, end, _PERSONAL, kind)


ADDED_FINDERS = tuple(_regex(kind, pattern) for kind, pattern in FORMATS_GITLEAKS_LACKS)


# --- the redaction --------------------------------------------------------------------------
FINDERS: tuple[Finder, ...] = (
    _private_keys,
    _putty_keys,
    _url_credentials,
    *(_plugin(cls, kind, needs) for cls, kind, needs in _PLUGINS),
    *(_regex(kind, pattern) for kind, pattern in _FORMATS),
    *ADDED_FINDERS,
    _ruleset,
    _assigned,
    _personal,
)


def _merge(hits: list[Hit], done: list[tuple[int, int]]) -> list[Hit]:
    """Hits in order, overlaps merged (the lowest rank names the kind), none over `done`."""
    merged: list[Hit] = []
    for h in sorted(hits):
        if done and any(a < h.end and h.start < b for a, b in done):
            continue
        if merged and h.start < merged[-1].end:
            last = merged[-1]
            best = min(last, h, key=lambda x: (x.rank, x.start))
            merged[-1] = Hit(last.start, max(last.end, h.end), best.rank, best.kind)
        else:
            merged.append(h)
    return merged


def find(text: str) -> list[Hit]:
    """The spans to hide, in order, overlaps merged; text already redacted stays."""
    done = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(text)]
    return _merge([h for f in FINDERS for h in f(text)], done)


# --- a budget per request -------------------------------------------------------------------
WITHHELD = "withheld"
CHUNK = 128 * 1024  # redacted at once: the budget is checked between chunks
CONTEXT = 16 * 1024  # read on both sides of a chunk, for secrets across its edges


@dataclass(frozen=True)
class Budget:
    """What one redaction may spend: CPU seconds of the calling thread, and characters.
    Past either, the rest of the text is withheld, line by line, never shown as it is."""

    seconds: float = 2.0
    chars: int = 8_000_000


def _snap(text: str, i: int, forward: bool) -> int:
    """The line edge nearest `i` (after it if `forward`), if within CONTEXT; else `i`."""
    if i <= 0 or i >= len(text):
        return max(0, min(i, len(text)))
    j = text.find("\n", i, i + CONTEXT) + 1 if forward else text.rfind("\n", i - CONTEXT, i) + 1
    return j if j > 0 else i


def find_within(text: str, budget: Budget) -> tuple[list[Hit], int]:
    """The spans to hide in `text[:cut]`, and `cut`: where the budget ran out (len(text)
    when it did not). Chunk by chunk, each read with CONTEXT around it."""
    started = time.thread_time()
    limit = len(text) if budget.chars >= len(text) else _snap(text, budget.chars, False)
    hits: list[Hit] = []
    a = 0
    while a < limit:
        if time.thread_time() - started > budget.seconds:
            break
        b = min(limit, _snap(text, a + CHUNK, True))
        lo, hi = _snap(text, a - CONTEXT, False), min(limit, _snap(text, b + CONTEXT, True))
        hits += [
            Hit(h.start + lo, min(h.end + lo, limit), h.rank, h.kind)
            for h in find(text[lo:hi])
            if h.end + lo > a and h.start + lo < b
        ]
        a = b
    return _merge(hits, []), a


def redact_counted(text: str, budget: Budget | None = None) -> tuple[str, dict[str, int]]:
    """The text with secrets and personal data replaced, and how many of each kind; with a
    budget, lines past it are each `[REDACTED:withheld]`."""
    hits, cut = find_within(text, budget) if budget else (find(text), len(text))
    counts: Counter[str] = Counter()
    out: list[str] = []
    pos = 0
    for h in hits:
        out += [text[pos : h.start], placeholder(h.kind), "\n" * text.count("\n", h.start, h.end)]
        counts[h.kind] += 1
        pos = h.end
    out.append(text[pos:cut])
    if cut < len(text):
        withheld = text[cut:].split("\n")
        out.append("\n".join(placeholder(WITHHELD) if line else "" for line in withheld))
        counts[WITHHELD] = sum(1 for line in withheld if line)
    return "".join(out), dict(counts)


def redact(text: str, budget: Budget | None = None) -> str:
    """The text with secrets and personal data replaced by `[REDACTED:<kind>]`."""
    return redact_counted(text, budget)[0]
