"""Gitleaks' rule set read as data (core/secrets_rules.py) and the finders beside it."""

from __future__ import annotations

import re

import pytest

from attribution.core import secrets_rules
from attribution.core.redact import redact, redact_counted
from attribution.core.secrets_rules import kind_of, parse_rules, shannon_entropy

CONFIG = """
[allowlist]
regexes = ['''^EXAMPLE''']
stopwords = ["dummy"]

[[rules]]
id = "acme-token"
regex = '''acme[_-]token\\s*=\\s*"?([a-z0-9]{16,})'''
keywords = ["acme"]
entropy = 3.0

[[rules]]
id = "acme-line"
regex = '''(ak_[a-z0-9]{12})'''
keywords = ["ak_"]
[[rules.allowlists]]
regexTarget = "line"
regexes = ['''#\\s*test''']
[[rules.allowlists]]
condition = "AND"
paths = ['''\\.md$''']
regexes = ['''.''']

[[rules]]
id = "two-groups"
regex = '''(tg)_([a-z0-9]{10})'''
secretGroup = 2

[[rules]]
id = "a-file"
path = '''\\.p12$'''
"""


def spans(text: str) -> list[tuple[str, str]]:
    rules, allow = parse_rules(CONFIG)
    saved = secrets_rules.rules
    secrets_rules.rules = lambda: (rules, allow)  # type: ignore[assignment]
    try:
        return [(rule.id, text[a:b]) for a, b, rule in secrets_rules.findings(text)]
    finally:
        secrets_rules.rules = saved  # type: ignore[assignment]


def test_the_packaged_rule_set_is_gitleaks_compiled_once() -> None:
    rules, allowlists = secrets_rules.rules()
    assert secrets_rules.rules() is secrets_rules.rules()  # compiled once
    assert len(rules) == 217 and allowlists  # 222 less the path-bound ones
    assert {"aws-access-token", "vault-service-token", "slack-app-token", "generic-api-key"} <= {
        r.id for r in rules
    }
    assert all(re.fullmatch(r"[a-z_]+", r.kind) for r in rules)
    assert all(r.keywords for r in rules)  # every rule has a keyword prefilter


def test_rules_follow_gitleaks_semantics() -> None:
    assert spans('acme_token = "k3j4h5g6f7d8s9a0"') == [("acme-token", "k3j4h5g6f7d8s9a0")]
    assert spans('ACME_TOKEN = "k3j4h5g6f7d8s9a0"') == []  # the regex is case-sensitive
    assert spans('acme_token = "aaaaaaaaaaaaaaaa"') == []  # entropy at or below 3.0
    assert spans('acme_token = "dummy5g6f7d8s9a0"') == []  # a global stopword
    assert spans("x = ak_0123456789ab") == [("acme-line", "ak_0123456789ab")]
    assert spans("x = ak_0123456789ab  # test fixture") == []  # allowlisted line
    assert spans("id = tg_0123456789") == [("two-groups", "0123456789")]  # secretGroup
    assert spans("tg_EXAMPLE1234") == []  # no match: upper case


def test_kinds_and_entropy() -> None:
    assert kind_of("1password-secret-key") == "password_secret_key"
    assert kind_of("aws-access-token") == "aws_access_token"
    assert shannon_entropy("") == 0.0 and shannon_entropy("abcd") == 2.0


# Values made up here, in each provider's published format.
@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("export VAULT_TOKEN=hvs.Qm8sT2vX9kLp4RzW7nYc1bDf\n", "hvs.Qm8sT2vX9kLp4RzW7nYc1bDf"),
        (
            "SLACK_APP_TOKEN=xapp-1-A0123ABCDEF-1234567890123-"
            + "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0\n",
            "0f1e2d3c4b5a6978",
        ),
        (
            "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQ9\n",
            "QYQSZQGPQYQSZQGP",
        ),
        ("REDIS_URL=redis://:Zq7vN2kP9sLm4xW8@cache:6379/0\n", "Zq7vN2kP9sLm4xW8"),
        ("machine git.example.com\n  login ci\n  password Tq9wE3rY7uI1oP5a\n", "Tq9wE3rY7uI1oP5a"),
        ("./sync --client-secret Hn3Jk8Lm2Qw7Er5Ty1Ui --verbose\n", "Hn3Jk8Lm2Qw7Er5Ty1Ui"),
        (
            "PuTTY-User-Key-File-3: ssh-ed25519\nPrivate-Lines: 1\n"
            "AAAAIGx0ZXN0a2V5Ym9keWJ5dGVzZm9ydGhldGVzdHNvbmx5AAAA\nPrivate-MAC: 00\n",
            "AAAAIGx0ZXN0a2V5",
        ),
    ],
)
def test_kinds_the_old_rules_missed_are_hidden(text: str, secret: str) -> None:
    out, counts = redact_counted(text)
    assert secret not in out, out
    assert counts and out.count("\n") == text.count("\n")


@pytest.mark.parametrize(
    "code",
    [
        "const stripe = Stripe('pk_live_51HqLyjWDarjtT1zdp7dc0aBcDeFgHiJkLmNoPq');\n",
        '{token.NUMBER, "0x123456789abcDEF"},\n{token.FLOAT, "01234567890.98e-10"},\n',
        "docker login -u ci --password-stdin < token.txt\n",
        "./tool --token-file ./secrets/token.txt --api-key $API_KEY\n",
        'password = getpass.getpass(prompt="Password: ")\n',
    ],
)
def test_look_alikes_stay(code: str) -> None:
    assert redact(code) == code
