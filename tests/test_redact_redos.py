"""No redaction rule takes super-linear time on any input (a ReDoS test over every rule).

Each pattern runs over adversarial texts of 20,000 characters: long runs of each class of
character a pattern may repeat (letters, digits, spaces, quotes, separators, escapes) after
the prefixes that make rules start (`password=`, `token: '`, `--apikey `, `curl -u `, a
key header). A pattern that backtracks over the run takes (20,000)^2 steps there, tens of
seconds; a linear one takes a millisecond. The bound, a second, leaves a margin of a hundred
either way, so a busy machine does not make the test fail and a quadratic rule always does.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from attribution.core import personal_data, redact, secrets_assigned, secrets_rules

N = 20_000
LIMIT = 1.0  # seconds for one pattern over one text
UNITS = ["a", "0", "x1", " ", "\t", "\n", "-", ".", "/", "+", "=", ":", "@", "'", "\\", "\\n",
         "a-", "a=", "a.", "1.", "${", "<a"]  # fmt: skip
PREFIXES = [
    "",
    "password=",
    "token: '",
    "--apikey ",
    "curl -u a",
    "-----BEGIN RSA PRIVATE KEY-----\n",
]
TEXTS = [p + u * (N // len(u)) for p in PREFIXES for u in UNITS]


def python_patterns() -> dict[str, re.Pattern[str]]:
    """Every Python `re` pattern redaction runs over text."""
    found = {
        f"{module.__name__.rsplit('.', 1)[-1]}.{name}": value
        for module in (redact, secrets_assigned, personal_data)
        for name, value in vars(module).items()
        if isinstance(value, re.Pattern)
    }
    for i, (kind, pattern) in enumerate(redact._FORMATS + redact.FORMATS_GITLEAKS_LACKS):
        found[f"format {i} {kind}"] = re.compile(pattern)
    for cls, kind, _ in redact._PLUGINS:
        for i, pattern in enumerate(cls().denylist):
            found[f"detect-secrets {kind} {i}"] = pattern
    return found


def _slowest(pattern: Any, texts: list[str]) -> tuple[float, str]:
    worst = (0.0, "")
    for text in texts:
        started = time.perf_counter()
        for _ in pattern.finditer(text):
            pass
        worst = max(worst, (time.perf_counter() - started, text[:40]))
    return worst


PYTHON = python_patterns()


def test_the_patterns_are_all_there() -> None:
    assert len(PYTHON) >= 40
    assert {"redact._KEY_TAIL", "secrets_assigned._ASSIGNMENT", "personal_data._EMAIL"} <= set(
        PYTHON
    )


@pytest.mark.parametrize("name", sorted(PYTHON))
def test_python_pattern_is_linear(name: str) -> None:
    seconds, text = _slowest(PYTHON[name], TEXTS)
    assert seconds < LIMIT, f"{name} took {seconds:.2f}s on {text!r}..."


def test_gitleaks_rules_run_under_re2_and_are_linear() -> None:
    """RE2 has no backtracking; still, every rule and allowlist is timed on a few texts."""
    rules, allowlists = secrets_rules.rules()
    assert len(rules) >= 200
    texts = [p + u * 50_000 for p in ("", "token = '", "key: ") for u in ("a", "0", " ")]
    for rule in rules:
        assert "re2" in type(rule.regex).__module__
        seconds, text = _slowest(rule.regex, texts)
        assert seconds < LIMIT, f"{rule.id} took {seconds:.2f}s on {text!r}..."
    for allow in (*allowlists, *(a for r in rules for a in r.allowlists)):
        for regex in allow.regexes:
            assert _slowest(regex, texts[:3])[0] < LIMIT


@pytest.mark.parametrize("unit", ["a", " ", "=", "a-", "\\n"])
def test_whole_redaction_is_linear_on_long_lines(unit: str) -> None:
    """The finders as they run, not only their patterns: a 200 KB line after a secret name."""
    text = "api_key = '" + unit * 200_000 + "\n"
    started = time.process_time()
    redact.redact(text)
    assert time.process_time() - started < 10 * LIMIT
