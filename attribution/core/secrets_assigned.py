"""Values given to a secret-like name, for redaction (redact.py).

`password`, `api_key`, `clientSecret`, `AUTH_TOKEN`, ... in code, JSON, YAML, XML, .env,
ini, connection strings, URL queries, command flags and SQL: any literal for a password,
a secret-looking one for a token or a key (letters and digits, or high entropy by
detect-secrets' Shannon measure); never an expression, a template (`${VAR}`), a
placeholder (`YOUR_API_KEY`, `***`), or a name (`X-API-Key`), nor names that only describe
a secret (`password_min_length`, `token_url`). Every pattern is bounded or possessive, so
none backtracks beyond a constant per position.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from detect_secrets.plugins.high_entropy_strings import (
    Base64HighEntropyString,
    HexHighEntropyString,
)

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
# a command flag and its value after a space: --client-secret VALUE, --apikey 'VALUE'
_FLAG = re.compile(
    r"(?<![\w-])--?(?P<name>[A-Za-z][\w-]{0,40}+)[ \t]++(?P<q>[\"']?)"
    r"(?P<value>[^\s\"'|;&<>()$`\\-][^\s\"'|;&<>`]{0,299}+)(?P=q)(?=[\s;|&)]|$)"
)
# .netrc: machine HOST login USER password VALUE, on one line or several
_NETRC = re.compile(r"(?<![\w-])password[ \t]++(?P<value>[^\s\"'`]{1,300}+)(?=\s|$)")
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


def assigned(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, kind) of each value given to a secret-like name."""
    for a, b in _candidate_lines(text):
        for m in _ASSIGNMENT.finditer(text, a, b):
            # `String dbPassword = ...`, `const val KEY = ...`: the second word is the name
            name2 = m.group("name2")
            cls = (name2 and name_class(name2)) or name_class(m.group("name"))
            if cls and _call_ok(text, m) and value_is_secret(cls, m.group("value")):
                yield m.start("value"), m.end("value"), _kind(cls)
        for m in itertools.chain(_PAIR.finditer(text, a, b), _XML.finditer(text, a, b)):
            cls = name_class(m.group("name"))
            if cls and value_is_secret(cls, m.group("value")):
                yield m.start("value"), m.end("value"), _kind(cls)
        for m in _UNQUOTED.finditer(text, a, b):
            cls = name_class(m.group("name"))
            if cls and _unquoted_is_secret(cls, m):
                yield m.start("value"), m.end("value"), _kind(cls)
        yield from _flags(text, a, b)
        for m in _SQL_PASSWORD.finditer(text, a, b):
            if not _is_placeholder(m.group("value")):
                yield m.start("value"), m.end("value"), "password"
    for m in _K8S_ENV.finditer(text):
        cls = name_class(m.group("name"))
        if cls and value_is_secret(cls, m.group("value")):
            yield m.start("value"), m.end("value"), _kind(cls)


def _flags(text: str, a: int, b: int) -> Iterator[tuple[int, int, str]]:
    """Values of secret-like command flags, and .netrc passwords (after a `login`)."""
    for m in _FLAG.finditer(text, a, b):
        cls = name_class(m.group("name"))
        if cls and value_is_secret(cls, m.group("value")):
            yield m.start("value"), m.end("value"), _kind(cls)
    for m in _NETRC.finditer(text, a, b):
        netrc = "login" in text[max(0, m.start() - 200) : m.start()]
        if netrc and not _is_placeholder(m.group("value")):
            yield m.start("value"), m.end("value"), "password"


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
