"""Redaction of secrets and personal data in source excerpts (web/redact.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attribution.core.redact import redact, redact_counted

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


# --- detectors added with the consent work --------------------------------------------------
@pytest.mark.parametrize(
    ("text", "secret", "kind"),
    [
        ("srv = '203.0.113.9'", "203.0.113.9", "ip_address"),
        ("listen [2001:db8::42]:443;", "2001:db8::42", "ip_address"),
        (f"aws_secret = '{'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'}'", "wJalrXUtn", "secret"),
        (
            "t = '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'",
            "rESQ",
            "sendgrid_key",
        ),
        ("k = 'glpat-KLzdocJ2isAjIhKtJ0Rl'", "KLzdocJ2", "gitlab_token"),
        ("x = 'npm_zJr4i0B3JrTAwR4y9ojfljoQoaF1LlqsajAI'", "zJr4i0B3", "npm_token"),
        ("<password>s3cr3t-xml</password>", "s3cr3t-xml", "password"),
        ("Server=db;Uid=sa;Pwd=Str0ng!Pass;", "Str0ng!Pass", "password"),
    ],
)
def test_more_kinds(text: str, secret: str, kind: str) -> None:
    out, counts = redact_counted(text)
    assert secret not in out and counts.get(kind, 0) >= 1, (out, counts)


def test_detect_secrets_plugins_are_used_for_patterns_only(monkeypatch: Any) -> None:
    """The plugins' own formats come through (a Slack token in their lowercase form) and
    nothing reaches the network: verification is never called."""
    import socket

    from detect_secrets.constants import VerifiedResult
    from detect_secrets.plugins.base import BasePlugin

    calls: list[str] = []

    def verify(self: BasePlugin, secret: str) -> VerifiedResult:
        calls.append(secret)
        return VerifiedResult.UNVERIFIED

    def offline(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("redaction must not use the network")

    monkeypatch.setattr(BasePlugin, "verify", verify)
    monkeypatch.setattr(socket.socket, "connect", offline)
    monkeypatch.setattr(socket, "getaddrinfo", offline)
    out = redact("t = 'xoxp-123456789012-abcdefghij1234'\nk = 'AKIAIOSFODNN7EXAMPLE'\n")
    assert "[REDACTED:slack_token]" in out and "[REDACTED:aws_access_key]" in out
    assert calls == []


def test_a_key_header_alone_is_not_a_key() -> None:
    code = 'if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):\n    parse(line)\n'
    assert redact(code) == code


def test_overlapping_hits_merge_into_the_more_specific_kind() -> None:
    out, counts = redact_counted("api_key = 'AKIAIOSFODNN7EXAMPLE'")
    assert out == "api_key = '[REDACTED:aws_access_key]'" and counts == {"aws_access_key": 1}


def test_redaction_does_not_change_matching(tmp_path: Any) -> None:
    """Only excerpts are redacted: a query holding a secret still matches its source
    there (the index holds the file as it was)."""
    import inspect
    import textwrap

    from attribution.core.search import attribute
    from attribution.index.build import build
    from attribution.index.store import Index

    lines = inspect.getsource(textwrap).splitlines()
    at = next(i for i, line in enumerate(lines) if i > 250 and line.startswith("def "))
    lines.insert(at, 'API_TOKEN = "tok-8f7e6d5c4b3a2910"\n')
    (tmp_path / "src" / "r").mkdir(parents=True)
    (tmp_path / "src" / "r" / "mod.py").write_text("\n".join(lines) + "\n")
    build([str(tmp_path / "src")], tmp_path / "idx", jobs=1)
    query = "\n".join(lines[at - 30 : at + 30]) + "\n"  # the secret is on line 31
    with Index(tmp_path / "idx") as index:
        (match,) = attribute(query, index, language="python")["matches"]
        assert match["query_lines"][0] < 31 < match["query_lines"][1]
        assert "tok-8f7e6d5c4b3a2910" in index.content(0).decode()  # stored as it was


def test_importable_without_flask() -> None:
    import subprocess
    import sys

    code = "import sys; sys.modules['flask'] = None; import attribution.core.redact; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_large_files_are_redacted_quickly() -> None:
    import inspect
    import time
    import typing

    text = inspect.getsource(typing) * 4  # about 0.5 MB of ordinary code
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 5.0


@pytest.mark.parametrize(
    "text",
    ["2001:db8::1x@y.org", "x@y.org.x@y.org", "10.0.0.1[REDACTED:email]", "a://u:p4ss@x@y.org"],
)
def test_idempotent_where_a_placeholder_makes_new_neighbours(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
