"""attribution/core/policy.py: validation names every bad field; decisions follow the rules;
attribution/scan/policyfile.py finds and reads attribution.toml and [tool.attribution]."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from attribution.core.policy import ALLOWED, IGNORED, REVIEW, VIOLATION, Policy, PolicyError
from attribution.scan import policyfile


def match(license_: str, kind: str = "permissive", tokens: int = 120, **extra: Any) -> dict:
    source = {
        "repo_name": extra.pop("repo", "pypi/six"),
        "path": "six.py",
        "license": license_,
        "license_type": kind,
    }
    return {"source": source, "tokens": tokens, "origins": extra.pop("origins", []), **extra}


def test_every_bad_field_is_listed_in_one_error() -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_dict(
            {
                "project_license": "Apache-2.O",
                "allow": ["MIT", "permisive"],
                "deny": "GPL-3.0-only",
                "min_tokens": -3,
                "ignore": [1],
                "fail_on_unknown": "yes",
                "colour": "red",
            },
            origin="attribution.toml",
        )
    text = str(info.value)
    assert text.startswith("invalid attribution.toml: ")
    for needle in (
        "unknown field(s) 'colour'",
        "project_license: unknown SPDX license id 'Apache-2.O' (did you mean Apache-2.0",
        "allow[1]: unknown SPDX license id 'permisive'",
        "deny must be a list",
        "min_tokens must be an integer >= 0, got -3",
        "ignore must be a list of strings",
        "fail_on_unknown must be true or false",
    ):
        assert needle in text, needle


def test_unknown_spdx_id_is_named() -> None:
    with pytest.raises(PolicyError, match="unknown SPDX license id 'MIT-Foo'"):
        Policy.from_dict({"deny": ["MIT-Foo"]})


def test_expressions_are_refused_in_lists_and_ids_normalized() -> None:
    with pytest.raises(PolicyError, match="is an expression"):
        Policy.from_dict({"allow": ["MIT OR Apache-2.0"]})
    policy = Policy.from_dict(
        {"allow": ["mit", "Permissive", "LicenseRef-acme"], "deny": ["GPL-2.0"]}
    )
    assert policy.allow == ("MIT", "permissive", "LicenseRef-acme")
    assert policy.deny == ("GPL-2.0-only",)


def test_deny_needs_every_choice_denied_and_any_part() -> None:
    policy = Policy.from_dict({"deny": ["copyleft"]})
    assert policy.decide(match("GPL-3.0-only", "copyleft")).status == VIOLATION
    assert policy.decide(match("MIT OR GPL-3.0-only")).status == ALLOWED  # MIT can be chosen
    assert policy.decide(match("MIT AND GPL-3.0-only", "copyleft")).status == VIOLATION
    assert policy.decide(match("MIT")).rule == "not-denied"


def test_allow_list_without_project_license_is_a_whitelist() -> None:
    policy = Policy.from_dict({"allow": ["permissive", "MPL-2.0"]})
    assert policy.decide(match("BSD-3-Clause")).status == ALLOWED
    assert policy.decide(match("MPL-2.0", "weak-copyleft")).status == ALLOWED
    denied = policy.decide(match("LGPL-2.1-only", "weak-copyleft"))
    assert (denied.status, denied.rule) == (VIOLATION, "not-allowed-license")
    assert policy.decide(match("NOASSERTION", "unknown")).status == VIOLATION


def test_project_license_decides_by_compatibility() -> None:
    policy = Policy.from_dict({"project_license": "MIT"})
    assert policy.decide(match("BSD-2-Clause")).status == ALLOWED
    gpl = policy.decide(match("GPL-2.0-only", "copyleft"))
    assert (gpl.status, gpl.rule) == (VIOLATION, "incompatible-license")
    unknown = policy.decide(match("NOASSERTION", "unknown"))
    assert (unknown.status, unknown.rule) == (REVIEW, "unknown-license")
    strict = Policy.from_dict({"project_license": "MIT", "fail_on_unknown": True})
    assert strict.decide(match("NOASSERTION", "unknown")).status == VIOLATION
    gpl_project = Policy.from_dict({"project_license": "GPL-3.0-or-later"})
    assert gpl_project.decide(match("LGPL-2.1-or-later", "weak-copyleft")).status == ALLOWED


def test_deny_beats_allow_and_allow_beats_compatibility() -> None:
    policy = Policy.from_dict(
        {"project_license": "MIT", "allow": ["GPL-2.0-only"], "deny": ["AGPL-3.0-only"]}
    )
    assert policy.decide(match("GPL-2.0-only", "copyleft")).status == ALLOWED
    assert policy.decide(match("AGPL-3.0-only", "copyleft")).rule == "denied-license"


def test_own_repositories_and_small_matches_are_ignored() -> None:
    policy = Policy.from_dict(
        {
            "own_repositories": ["github.com/me/*", "pypi/mine"],
            "min_tokens": 50,
            "deny": ["permissive"],
        }
    )
    assert policy.decide(match("MIT", repo="pypi/mine")).status == IGNORED
    vendored = match("MIT", repo="npm/other", origins=[{"repo_name": "github.com/me/tool"}])
    assert policy.decide(vendored).rule == "own-repository"
    assert policy.decide(match("MIT", tokens=49)).rule == "below-min-tokens"
    assert policy.decide(match("MIT", tokens=50)).status == VIOLATION


@pytest.mark.parametrize(
    ("pattern", "path", "ignored"),
    [
        ("tests/**", "tests/a/b.py", True),
        ("tests/**", "src/tests/a.py", False),
        ("tests/", "tests/x.py", True),
        ("*.min.js", "web/static/app.min.js", True),
        ("fixtures", "a/fixtures/b/c.py", True),
        ("**/gen_*.py", "gen_x.py", True),
        ("**/gen_*.py", "a/b/gen_x.py", True),
        ("src/*.py", "src/a/b.py", False),
        ("./docs/**", "docs/conf.py", True),
        ("vendor/", "x/vendor/a.py", True),  # gitignore: a directory name at any depth
        ("tests/[ab]*.py", "tests/a1.py", True),
        ("tests/[ab]*.py", "tests/c1.py", False),
        ("/build", "build/x.c", True),
        ("/build", "src/build/x.c", False),
        ("*.py\n!keep.py", "keep.py", False),  # a negation, as in .gitignore
    ],
)
def test_ignore_globs(pattern: str, path: str, ignored: bool) -> None:
    assert Policy.from_dict({"ignore": pattern.split("\n")}).ignores(path) is ignored


def test_a_named_license_decides_before_its_type() -> None:
    policy = Policy.from_dict({"deny": ["copyleft"], "allow": ["GPL-2.0-only", "permissive"]})
    assert policy.decide(match("GPL-2.0-only", "copyleft")).status == ALLOWED
    assert policy.decide(match("GPL-3.0-only", "copyleft")).status == VIOLATION
    assert policy.decide(match("MIT OR GPL-3.0-only", "permissive")).status == ALLOWED
    assert policy.decide(match("MIT AND GPL-3.0-only", "copyleft")).status == VIOLATION
    strict = Policy.from_dict({"deny": ["MIT"], "allow": ["permissive"]})
    assert strict.decide(match("MIT")).status == VIOLATION


def test_flags_are_the_same_policy() -> None:
    """--fail-on and --allow-license build the one Policy; every match blocks by default."""
    assert Policy.from_flags(None).blocks(match("MIT"))
    assert Policy.from_flags(None).describe() == "any match"
    copyleft = Policy.from_flags("copyleft", ["GPL-3.0-or-later"])
    assert copyleft.deny == ("copyleft", "proprietary")
    assert not copyleft.blocks(match("MIT"))
    assert copyleft.blocks(match("AGPL-3.0-only", "copyleft"))
    assert not copyleft.blocks(match("GPL-3.0-or-later", "copyleft"))
    assert not Policy.from_flags("any", ["mit"]).blocks(match("MIT"))
    with pytest.raises(PolicyError, match="unknown --fail-on 'everything'"):
        Policy.from_flags("everything")
    with pytest.raises(PolicyError, match="unknown SPDX license id 'Apache-2'"):
        Policy.from_flags("any", ["Apache-2"])


def test_min_tokens_counts_the_spans_of_a_check_match() -> None:
    policy = Policy.from_dict({"min_tokens": 50})
    spans = [{"tokens": 30}, {"tokens": 25}]
    small = {"source": match("MIT")["source"], "spans": spans[:1]}
    assert policy.decide(small).rule == "below-min-tokens"
    assert policy.decide({**small, "spans": spans}).status == ALLOWED


def test_policy_file_found_in_the_scanned_root_then_cwd(tmp_path: Path) -> None:
    root, cwd = tmp_path / "root", tmp_path / "cwd"
    root.mkdir()
    cwd.mkdir()
    assert policyfile.discover([str(root)], cwd) is None
    (cwd / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert policyfile.discover([str(root)], cwd) is None  # no [tool.attribution]
    (cwd / "pyproject.toml").write_text('[tool.attribution]\nproject_license = "MIT"\n')
    assert policyfile.discover([str(root)], cwd) == cwd / "pyproject.toml"
    assert policyfile.load(cwd / "pyproject.toml").project_license == "MIT"
    (root / "attribution.toml").write_text('deny = ["copyleft"]\nmin_tokens = 40\n')
    found = policyfile.discover([str(root)], cwd)
    assert found == root / "attribution.toml"
    assert policyfile.load(found) == Policy(deny=("copyleft",), min_tokens=40)


def test_policy_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "attribution.toml"
    bad.write_text("deny = [\n")
    with pytest.raises(PolicyError, match="is not valid TOML"):
        policyfile.load(bad)
    bad.write_text('allow = ["Apache-2"]\n')
    with pytest.raises(PolicyError, match=r"attribution\.toml.*unknown SPDX license id 'Apache-2'"):
        policyfile.load(bad)
    with pytest.raises(PolicyError, match="cannot read policy"):
        policyfile.load(tmp_path / "missing.toml")
