"""Secrets and personal data out of source excerpts shown to users (SPEC: excerpts).

Every hit becomes a typed placeholder, `[REDACTED:<kind>]` (kinds are `[a-z_]+`); a hit
spanning lines keeps its line breaks, so line numbers of an excerpt stay true. Redaction
changes only what is shown: the index and the matching always see the original text.

Detectors find spans in the original text; overlapping spans merge and the more
specific detector names the kind:
- private key blocks (PEM, OpenSSH, PGP), body included, also cut short or `\\n`-escaped;
- credentials in URLs (`scheme://user:pass@`) and `curl -u user:pass`;
- provider token formats: detect-secrets' plugins (AWS, GitHub, GitLab, Slack, Stripe,
  Twilio, SendGrid, npm, PyPI, OpenAI, Discord, Telegram, Mailchimp, Square, Azure,
  JWT), used for their patterns only (never their network verification), plus formats
  they miss or know in part: GitHub fine-grained, Google API keys, Stripe test keys,
  mixed-case Slack tokens, whole JWTs, OpenAI project and Anthropic keys, Hugging Face,
  npm, DigitalOcean, Shopify, and bearer and basic credentials in headers;
- values given to a secret-like name (`password`, `api_key`, `clientSecret`,
  `AUTH_TOKEN`, ...) in code, JSON, YAML, XML, .env, ini, connection strings, URL
  queries, command flags and SQL: any literal for a password, a secret-looking one for
  a token or a key (letters and digits, or high entropy by detect-secrets' Shannon
  measure); never an expression, a template (`${VAR}`), a placeholder (`YOUR_API_KEY`,
  `***`), or a name (`X-API-Key`), nor names that only describe a secret
  (`password_min_length`, `token_url`);
- e-mail addresses; IPv4 and IPv6 addresses, except loopback, unspecified, netmasks,
  networks (`10.0.0.0/8`) and version numbers.

Pure: no Flask and no I/O, so reports can import it.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
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
from detect_secrets.plugins.high_entropy_strings import (
    Base64HighEntropyString,
    HexHighEntropyString,
)

from attribution.core import secrets_rules

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


# --- credentials in URLs --------------------------------------------------------------------
_PLACEHOLDER_CRED = re.compile(
    r"(?i)\$\{?\w+\}?|\{\{?[^}]*\}\}?|%\(?\w*\)?s|<[^>]*>|\*+|x+|\.\.\.|password|passwd|pass"
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


# --- values given to a secret-like name -----------------------------------------------------
_PASSWORD_WORDS = frozenset({"password", "passwd", "passphrase", "passcode", "pass", "pwd", "pw"})
_WEAK_PASSWORD_WORDS = frozenset({"pass", "pwd", "pw"})  # only as the last word: pass_zero
_SECRET_WORDS = frozenset(
    {"secret", "secrets", "token", "apikey", "credential", "credentials", "creds", "privatekey"}
)
_KEY_OWNERS = frozenset(
    {"api", "access", "secret", "private", "signing", "encryption", "client", "app", "auth",
     "master", "consumer", "account", "service", "admin", "session", "webhook", "hmac",
     "aes", "jwt", "deploy", "subscription", "storage", "sas"}
)  # fmt: skip
# A name with one of these words describes a secret (its length, URL, field), it is none.
_META_WORDS = frozenset(
    {"length", "len", "min", "max", "size", "count", "timeout", "ttl", "expiry", "expires",
     "expiration", "age", "attempts", "retries", "rounds", "iterations", "field", "fields",
     "header", "headers", "env", "var", "name", "names", "file", "path", "dir", "url", "uri",
     "endpoint", "type", "kind", "prefix", "suffix", "regex", "pattern", "label", "prompt",
     "placeholder", "column", "param", "policy", "hint", "message", "msg", "text", "title",
     "id", "format", "mode", "style", "input", "form", "help", "error", "reset", "version",
     "strength", "validator", "encoding", "charset", "alphabet", "algorithm", "method",
     "scheme", "scope", "scopes", "provider", "attr", "attribute", "property", "position",
     "index", "idx", "start", "end", "offset", "flag", "enabled", "required", "visible",
     "changed", "confirm", "confirmation", "class", "location", "store", "manager",
     "public", "publishable"}
)  # fmt: skip
_NAME_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_KEYWORDS = re.compile(r"(?i)pass|pw|secret|token|key|cred|auth|identified")
_ASSIGNMENT = re.compile(
    r"(?P<nq>[\"'`]?)(?<![\w$.-])(?P<name>[A-Za-z_$][\w$.-]{0,63}+)(?P=nq)\]?"  # name, "name"
    r"(?:[ \t]*+:[ \t]*+[\w.\[\]|, ]{1,40}?|[ \t]++(?P<name2>[A-Za-z_][\w.*]{0,63}+))?"  # x: T
    r"[ \t]*+(?P<op>:=|=>|===?|!==?|=|:|\(|,)[ \t]*+@?[rbuRBU]{0,2}"
    r"(?P<q>[\"'`])(?P<value>(?:(?!(?P=q))[^\n\\]|\\.){1,500})(?P=q)"
)
# name=value in a string, a URL query or a flag: "Server=x;Password=y;", ?api_key=y, --password=y
_PAIR = re.compile(
    r"(?<=[?&;\"'-])(?P<name>[A-Za-z_][\w.-]{0,63}+)=(?P<value>[^&;\"'\s#<>()\[\]{}]{1,300}+)"
    r"(?=[&;\"'\s#<>]|$)"
)
_XML = re.compile(r"<(?P<name>[\w.-]+)>(?P<value>[^<>\n]{1,300})</(?P=name)>")
_SQL_PASSWORD = re.compile(r"(?i)\bidentified\s+by\s+(?P<q>['\"])(?P<value>[^'\"\n]{1,200})(?P=q)")
_UNQUOTED = re.compile(
    r"(?m)^(?P<indent>[ \t]*)(?:export[ \t]+)?(?P<name>[A-Za-z_][\w.-]*)[ \t]*(?P<op>[=:])"
    r"(?P<space>[ \t]*)(?P<value>[^\s\"'`#;,(){}\[\]<>!&*|][^\s#;,]*)(?:[ \t]+[#;].*)?[ \t]*$"
)
_K8S_ENV = re.compile(
    r"name:[ \t]*[\"']?(?P<name>[\w.-]+)[\"']?[ \t]*\n[ \t]*value:[ \t]*"
    r"(?P<q>[\"']?)(?P<value>[^\s\"'#]+)(?P=q)"
)
_TEMPLATE = re.compile(
    r"\$\{|\{\{|\}\}|%\(|%[sd]\b|^\$[A-Za-z_]|^<.*>$|^\{.*\}$|^\[REDACTED:"
    r"|\\[dswDSW]|\(\?|\[[^\]]*\]\{?\d*,?\d*\}?|\{\d+,?\d*\}"  # a regular expression
)
_NOT_SECRETS = frozenset(
    {"none", "null", "nil", "undefined", "true", "false", "yes", "no", "on", "off", "empty",
     "required", "optional", "string", "str", "bytes", "int", "integer", "number", "bool",
     "boolean", "object", "any", "password", "secret", "token", "dummy", "example",
     "redacted", "hidden", "masked", "default", "foo", "bar", "baz", "qux", "test"}
)  # fmt: skip
_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3,4}){1,2}")
_B64 = Base64HighEntropyString()
_HEX = HexHighEntropyString()


def name_class(name: str) -> str | None:
    """'password' (any literal is one), 'secret' or 'weak_password' (a secret-looking
    value), 'key' (only a high-entropy value), or None for names that are no secret or
    describe one."""
    words = [w.lower() for w in _NAME_WORDS.findall(name)]
    if not words or any(w in _META_WORDS for w in words):
        return None
    if any(w in _PASSWORD_WORDS - _WEAK_PASSWORD_WORDS for w in words):
        return "password"
    if words[-1] in _WEAK_PASSWORD_WORDS:
        return "weak_password"  # `pass`, `db_pwd`: a password when it looks like one
    if any(w in _SECRET_WORDS for w in words):
        return "secret"
    if any(a in _KEY_OWNERS and b in ("key", "token") for a, b in itertools.pairwise(words)):
        return "secret"
    return "key" if words[-1] == "key" else None


def _entropy(value: str) -> float:
    hexish = all(c in "0123456789abcdefABCDEF" for c in value)
    return float((_HEX if hexish else _B64).calculate_shannon_entropy(value))


def _is_placeholder(value: str) -> bool:
    """Empty, templated, a regular expression, a mask (****), a type or a name such as
    `X-API-Key`, `DB_PASSWORD`, `your-api-key-here`."""
    v = value.strip()
    if not v or _TEMPLATE.search(v) or v.lower().rstrip("?!") in _NOT_SECRETS:
        return True
    alnum = [c for c in v if c.isalnum()]
    if len(set(alnum)) <= 1 or "\\n" in v or _COLOUR.fullmatch(v):
        return True  # ****, :****, xxxx, text with line breaks, #d8dee9
    if re.fullmatch(r"[A-Za-z][A-Za-z_.-]*", v):
        words = {w.lower() for w in _NAME_WORDS.findall(v)}
        if words & (_PASSWORD_WORDS | _SECRET_WORDS | _META_WORDS | {"key", "your", "here"}):
            return True
        if v.isupper() and "_" in v:
            return True
    return False


def _wordy(value: str) -> bool:
    """Words and short numbers joined by separators (`LicenseRef-scancode-4suite-1.1`,
    `data/year=2019/part-0.parquet`): a name or a path, not a random string."""
    parts = [p for p in re.split(r"[-_./ :=]", value) if p]
    return len(parts) >= 2 and not any(_random_part(p) for p in parts)


def _random_part(part: str) -> bool:
    """Letters and digits interleaved (`7f8e6d5c`), or long and of mixed case or digits."""
    changes = sum(a.isdigit() != b.isdigit() for a, b in itertools.pairwise(part))
    return changes >= 3 or (len(part) >= 20 and not (part.isalpha() and part.islower()))


def value_is_secret(cls: str, value: str) -> bool:
    """Whether a literal given to a name of this class is worth hiding."""
    if _is_placeholder(value):
        return False
    if cls == "password":
        return len(value.split()) <= 5  # not a sentence: a description of the field
    if any(c.isspace() for c in value) or re.match(r"(?i)[a-z][a-z0-9+.-]*://|[./~]", value):
        return False
    digits = sum(c.isdigit() for c in value)
    if ("/" in value and not digits) or (re.search(r"\d+\.\d+", value) and len(value) < 20):
        return False  # application/json, a version
    letters = sum(c.isalpha() for c in value)
    if cls in ("secret", "weak_password"):
        if digits and letters and len(value) >= 6:
            return True
        symbols = len(value) - digits - letters
        return symbols > 0 and len(value) >= 16 and not _wordy(value) and _entropy(value) >= 3.0
    random_enough = len(value) >= 20 and digits >= 2 and letters >= 2 and _entropy(value) >= 3.5
    return random_enough and not _wordy(value) and not _is_uuid(value)


def _is_uuid(value: str) -> bool:
    return re.fullmatch(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", value) is not None


_SETTERS = frozenset({"set", "with", "use"})
_SECRETISH = _PASSWORD_WORDS | _SECRET_WORDS | _KEY_OWNERS | {"key"}


def _call_ok(text: str, m: re.Match[str]) -> bool:
    """`f("value")` counts for a setter (`setPassword`, `.password(...)`), not a getter
    (`get_password("user")`); `"name", "value"` only as a call's first two arguments."""
    op = m.group("op")
    if op == ",":
        first = m.start() > 0 and text[m.start() - 1] == "("
        return bool(m.group("nq")) and first and not m.group("value").isalpha()
    if op != "(":
        return True
    words = [w.lower() for w in _NAME_WORDS.findall(m.group("name").rsplit(".", 1)[-1])]
    while words and words[0] in _SETTERS:
        words.pop(0)
    return bool(words) and all(w in _SECRETISH for w in words)


def _kind(cls: str) -> str:
    return "secret" if cls in ("secret", "key") else "password"


def _candidate_lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each line holding a secret-like word: the only lines worth parsing."""
    done = -1
    for m in _KEYWORDS.finditer(text):
        if m.start() <= done:
            continue
        a = text.rfind("\n", 0, m.start()) + 1
        b = text.find("\n", m.end())
        done = b = len(text) if b < 0 else b
        yield a, b


def _assigned(text: str) -> Iterator[Hit]:
    for a, b in _candidate_lines(text):
        for m in _ASSIGNMENT.finditer(text, a, b):
            # `String dbPassword = ...`, `const val KEY = ...`: the second word is the name
            name2 = m.group("name2")
            cls = (name2 and name_class(name2)) or name_class(m.group("name"))
            if cls and _call_ok(text, m) and value_is_secret(cls, m.group("value")):
                yield Hit(m.start("value"), m.end("value"), _ASSIGNED, _kind(cls))
        for m in itertools.chain(_PAIR.finditer(text, a, b), _XML.finditer(text, a, b)):
            cls = name_class(m.group("name"))
            if cls and value_is_secret(cls, m.group("value")):
                yield Hit(m.start("value"), m.end("value"), _ASSIGNED, _kind(cls))
        for m in _UNQUOTED.finditer(text, a, b):
            cls = name_class(m.group("name"))
            if cls and _unquoted_is_secret(cls, m):
                yield Hit(m.start("value"), m.end("value"), _ASSIGNED, _kind(cls))
        for m in _SQL_PASSWORD.finditer(text, a, b):
            if not _is_placeholder(m.group("value")):
                yield Hit(m.start("value"), m.end("value"), _ASSIGNED, "password")
    for m in _K8S_ENV.finditer(text):
        cls = name_class(m.group("name"))
        if cls and value_is_secret(cls, m.group("value")):
            yield Hit(m.start("value"), m.end("value"), _ASSIGNED, _kind(cls))


def _unquoted_is_secret(cls: str, m: re.Match[str]) -> bool:
    """An unquoted value (.env, ini, YAML) rather than code (`password = get_password()`)."""
    value = m.group("value")
    if value.isdigit() or re.search(r"[()\[\]{}]", value):
        return False  # a number, a call or a subscript
    if re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+", value):
        return False  # attribute access: password = self.password
    env_style = not m.group("indent") and m.group("op") == "=" and not m.group("space")
    if re.fullmatch(r"[A-Za-z_]+", value) and not env_style:
        return False  # an identifier in code: password = password
    code_like = m.group("indent") or "_" in value  # ini's `password = S3cret` is a value
    if re.fullmatch(r"[A-Za-z_]\w*", value) and m.group("op") == "=" and code_like:
        return False  # token = tok_2 in code (YAML's `token: abc123` stays a value)
    return value_is_secret(cls, value)


# --- gitleaks' rule set ---------------------------------------------------------------------
def _ruleset(text: str) -> Iterator[Hit]:
    """Gitleaks' rules (secrets_rules); its generic rule ranks after the assigned values."""
    for start, end, rule in secrets_rules.findings(text):
        yield Hit(start, end, _GENERIC if rule.generic else _RULESET, rule.kind)


# --- personal data --------------------------------------------------------------------------
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


def _emails(text: str) -> Iterator[Hit]:
    for m in _EMAIL.finditer(text):
        tld, domain = m.group("tld").lower(), m.group("domain")
        if tld in _IMAGE:
            continue  # icon@2x.png
        if m.group("local") == "git" and text.startswith(":", m.end()):
            continue  # git@github.com:owner/repo.git
        if domain.count(".") == 1 and len(tld) > 2 and tld not in _COMMON_TLDS:
            continue  # x@w.shape, a@b.transpose: a matrix product, not an address
        yield Hit(m.start(), m.end(), _PERSONAL, "email")


_IPV4 = re.compile(
    r"(?<![\w.:-])(?<![=<>~!^@]=)(?<!@)(\d{1,3}(?:\.\d{1,3}){3})(?![\w\[-]|\.\d|/\d)"
)
_IPV6 = re.compile(
    r"(?<![\w:.])((?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|:|(?:\d{1,3}\.){3}\d{1,3})"
    r"(?:%[\w.]+)?)(?![\w:\[]|/\d)"
)
_VERSION = re.compile(r"(?i)version|release|section|rfc|§|\bv(?:er)?[ \t]*[=:(\"']")


def _ip_addresses(text: str) -> Iterator[Hit]:
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
        yield Hit(m.start(1), m.end(1), _PERSONAL, "ip_address")
    for m in _IPV6.finditer(text):
        if _plausible_ipv6(m.group(1)):
            yield Hit(m.start(1), m.end(1), _PERSONAL, "ip_address")


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


# --- the redaction --------------------------------------------------------------------------
FINDERS: tuple[Finder, ...] = (
    _private_keys,
    _url_credentials,
    *(_plugin(cls, kind, needs) for cls, kind, needs in _PLUGINS),
    *(_regex(kind, pattern) for kind, pattern in _FORMATS),
    _ruleset,
    _assigned,
    _emails,
    _ip_addresses,
)


def find(text: str) -> list[Hit]:
    """The spans to hide, in order, overlaps merged; text already redacted stays."""
    done = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(text)]
    merged: list[Hit] = []
    for h in sorted(h for f in FINDERS for h in f(text)):
        if done and any(a < h.end and h.start < b for a, b in done):
            continue
        if merged and h.start < merged[-1].end:
            last = merged[-1]
            best = min(last, h, key=lambda x: (x.rank, x.start))
            merged[-1] = Hit(last.start, max(last.end, h.end), best.rank, best.kind)
        else:
            merged.append(h)
    return merged


def redact_counted(text: str) -> tuple[str, dict[str, int]]:
    """The text with secrets and personal data replaced, and how many of each kind."""
    counts: Counter[str] = Counter()
    out: list[str] = []
    pos = 0
    for h in find(text):
        out += [text[pos : h.start], placeholder(h.kind), "\n" * text.count("\n", h.start, h.end)]
        counts[h.kind] += 1
        pos = h.end
    out.append(text[pos:])
    return "".join(out), dict(counts)


def redact(text: str) -> str:
    """The text with secrets and personal data replaced by `[REDACTED:<kind>]`."""
    return redact_counted(text)[0]
