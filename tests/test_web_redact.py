"""Redaction of secrets and personal data in source excerpts (web/redact.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from web.redact import redact, redact_counted

# Fake secrets of each kind (made-up values in the documented formats).
AWS = "AKIAIOSFODNN7EXAMPLE"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
GITHUB_FINE = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
SLACK = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
GOOGLE = "AIza" + "SyA1234567890abcdefghijklmnopqrstuv"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
KEY_BLOCK = """-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEA1234567890abcdefghijklmnopqrstuvwxyz
ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/abcdefghijklmn
-----END RSA PRIVATE KEY-----"""


@pytest.mark.parametrize(
    ("text", "secret", "kind"),
    [
        ("contact = 'jane.doe+lists@example.co.uk'", "jane.doe+lists@example.co.uk", "email"),
        ("# Author: Bob <bob@mail.example.org>", "bob@mail.example.org", "email"),
        (f"aws_key_id = '{AWS}'", AWS, "aws_access_key"),
        (f"token: {GITHUB}", GITHUB, "github_token"),
        (f"GH={GITHUB_FINE}", GITHUB_FINE, "github_token"),
        (f"client = Slack('{SLACK}')", SLACK, "slack_token"),
        (f'url = "https://maps.example.com/api?key={GOOGLE}"', GOOGLE, "google_api_key"),
        (f"stripe.api_base_key = {STRIPE}", STRIPE, "stripe_key"),
        ('password = "hunter2"', "hunter2", "password"),
        ("db_password='correct horse battery'", "correct horse battery", "password"),
        ('"password": "p@ss:word"', "p@ss:word", "password"),
        ("PASSWORD=hunter2", "hunter2", "password"),
        ("export DB_PASSWD=s3cret!", "s3cret!", "password"),
        ('client_secret := "abc123def456"', "abc123def456", "secret"),
        ("api_key => 'k-12345'", "k-12345", "secret"),
        ('AUTH_TOKEN: str = "tok_live_123"', "tok_live_123", "secret"),
        ('url = "postgres://app:s3cr3t@db:5432/x"', "app:s3cr3t", "url_credentials"),
        ("git clone https://user:ghs_pass@example.com/r.git", "user:ghs_pass", "url_credentials"),
        (KEY_BLOCK, "MIIEowIBAAKCAQEA", "private_key"),
    ],
)
def test_each_kind_is_replaced_by_its_placeholder(text: str, secret: str, kind: str) -> None:
    out, counts = redact_counted(text)
    assert secret not in out
    assert f"[REDACTED:{kind}]" in out
    assert counts.get(kind, 0) >= 1


def test_the_code_around_a_secret_stays() -> None:
    assert (
        redact('password = "hunter2"  # default') == 'password = "[REDACTED:password]"  # default'
    )
    assert redact("PASSWORD=hunter2\n") == "PASSWORD=[REDACTED:password]\n"
    assert (
        redact('u = "postgres://app:pw@db/x"') == 'u = "postgres://[REDACTED:url_credentials]@db/x"'
    )


def test_private_key_blocks_keep_their_lines() -> None:
    text = f"a = 1\n{KEY_BLOCK}\nb = 2\n"
    out = redact(text)
    assert out.count("\n") == text.count("\n")
    assert out.splitlines()[0] == "a = 1" and out.splitlines()[-1] == "b = 2"


def test_a_key_block_cut_short_is_still_hidden() -> None:
    text = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
    assert "b3BlbnNzaC1" not in redact(text)


@pytest.mark.parametrize(
    "code",
    [
        "def check(password):\n    return verify(password, stored_hash)\n",
        "    password = request.form['password']\n",
        "if password == expected:\n    pass\n",
        "@property\ndef secret_name(self) -> str:\n",
        "token = next(tokens)\nkey = 'name'\n",
        "x = a @ b.T  # matrix product\n",
        "for key, value in mapping.items():\n    print(f'{key}={value}')\n",
        "pk_live_only_publishable = 1\n",
        "#include <stdio.h>\nint main(void) { return 0; }\n",
    ],
)
def test_ordinary_code_is_left_alone(code: str) -> None:
    assert redact(code) == code


def test_no_secret_no_change_and_counts_are_empty() -> None:
    text = "import os\n\nprint(os.getcwd())\n"
    assert redact_counted(text) == (text, {})


@given(st.text(max_size=300))
def test_redaction_never_changes_the_line_count(text: str) -> None:
    assert redact(text).count("\n") == text.count("\n")


@given(st.text(max_size=200))
def test_redaction_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
