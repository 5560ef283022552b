"""License types, obligations and compatibility answers."""

from __future__ import annotations

import pytest

from attribution.core.licenses import license_type
from attribution.core.obligations import compatible, obligations


@pytest.mark.parametrize(
    ("expression", "kind"),
    [
        ("MIT", "permissive"),
        ("BSD-3-Clause", "permissive"),
        ("Apache-2.0", "permissive"),
        ("ISC", "permissive"),
        ("Zlib", "permissive"),
        ("PSF-2.0", "permissive"),
        ("BSL-1.0", "permissive"),
        ("Unlicense", "permissive"),
        ("CC0-1.0", "permissive"),
        ("0BSD", "permissive"),
        ("MIT-0", "permissive"),
        ("BlueOak-1.0.0", "permissive"),
        ("X11", "permissive"),
        ("CC-BY-4.0", "permissive"),
        ("LicenseRef-public-domain", "permissive"),
        ("LGPL-2.1-or-later", "weak-copyleft"),
        ("MPL-2.0", "weak-copyleft"),
        ("EPL-2.0", "weak-copyleft"),
        ("CDDL-1.0", "weak-copyleft"),
        ("GPL-2.0-only", "copyleft"),
        ("GPL-3.0-or-later", "copyleft"),
        ("AGPL-3.0-only", "copyleft"),
        ("LicenseRef-proprietary", "proprietary"),
        ("LicenseRef-commercial", "proprietary"),
        ("NOASSERTION", "unknown"),
        ("LicenseRef-acme-1", "unknown"),
        ("", "unknown"),
        ("MIT OR GPL-3.0-only", "permissive"),
        ("MIT AND GPL-3.0-only", "copyleft"),
        ("MIT AND LicenseRef-acme-1", "unknown"),
        ("GPL-2.0-only WITH Classpath-exception-2.0", "weak-copyleft"),
        ("GPL-3.0-or-later WITH Bison-exception-2.2", "copyleft"),
    ],
)
def test_license_type(expression: str, kind: str) -> None:
    assert license_type(expression) == kind


def test_obligations_of_a_few_ids() -> None:
    assert obligations("MIT") == [
        "Keep the copyright notice and the MIT license text with the code."
    ]
    apache = " ".join(obligations("Apache-2.0"))
    assert "NOTICE" in apache and "changed" in apache and "patent" in apache
    assert "network" in " ".join(obligations("AGPL-3.0-or-later"))
    assert "file-level" in " ".join(obligations("MPL-2.0"))
    assert "library-level" in " ".join(obligations("LGPL-2.1-only"))
    assert "whole work" in " ".join(obligations("GPL-2.0-only"))
    assert "patent" in " ".join(obligations("GPL-3.0-only"))
    assert "patent" not in " ".join(obligations("GPL-2.0-only"))
    for free in ("CC0-1.0", "Unlicense", "0BSD", "MIT-0"):
        assert obligations(free)[0].startswith("No conditions")


def test_or_takes_the_least_demanding_choice_with_a_note() -> None:
    got = obligations("GPL-2.0-or-later OR MIT")
    assert got[0] == "Keep the copyright notice and the MIT license text with the code."
    assert "least demanding" in got[-1] and "GPL-2.0-or-later OR MIT" in got[-1]


def test_and_adds_up() -> None:
    got = obligations("MIT AND BSD-3-Clause")
    assert any("MIT" in s for s in got) and any("promote" in s for s in got)


def test_unknown_and_missing_licenses_say_so() -> None:
    assert "Unknown license 'LicenseRef-acme-1'" in obligations("LicenseRef-acme-1")[0]
    assert "No license was found" in obligations("NOASSERTION")[0]


@pytest.mark.parametrize(
    ("match", "project", "ok"),
    [
        ("GPL-3.0-only", "MIT", False),
        ("MIT", "GPL-3.0-only", True),
        ("Apache-2.0", "GPL-2.0-only", False),
        ("Apache-2.0", "GPL-2.0-or-later", True),
        ("Apache-2.0", "GPL-3.0-only", True),
        ("Apache-2.0", "LicenseRef-proprietary", True),
        ("LGPL-2.1-only", "MIT", False),
        ("LGPL-2.1-or-later", "GPL-2.0-only", True),
        ("LGPL-3.0-only", "GPL-2.0-only", False),
        ("LGPL-3.0-only", "GPL-3.0-or-later", True),
        ("GPL-2.0-only", "LGPL-2.1-only", False),
        ("GPL-2.0-only", "GPL-3.0-only", False),
        ("GPL-2.0-or-later", "GPL-3.0-only", True),
        ("GPL-3.0-only", "AGPL-3.0-only", True),
        ("AGPL-3.0-only", "MIT", False),
        ("MPL-2.0", "GPL-2.0-or-later", True),
        ("EPL-2.0", "GPL-2.0-only", False),
        ("MIT OR GPL-3.0-only", "Apache-2.0", True),
        ("MIT AND GPL-3.0-only", "Apache-2.0", False),
        ("MIT", "Apache-2.0 OR GPL-2.0-only", True),
        ("LicenseRef-proprietary", "MIT", False),
        ("CC0-1.0", "NOASSERTION", True),
        ("NOASSERTION", "MIT", None),
        ("LicenseRef-acme-1", "MIT", None),
        ("MIT", "NOASSERTION", None),
    ],
)
def test_compatible(match: str, project: str, ok: bool | None) -> None:
    answer, reason = compatible(match, project)
    assert answer is ok and reason
