"""Property-based tests of the API against its own /openapi.json (schemathesis): no 5xx,
every answer in the documented shape, for valid and for invalid requests alike.

Two of schemathesis' default checks are left out on purpose: `positive_data_acceptance`
(a schema-valid request may still be unprocessable: blank code, an unknown language, a
lookup with neither ?repo= nor ?author=, all a documented 4xx) and its mirror
`negative_data_rejection` (the service is lenient where the schema is strict: language
names in any case, extra fields ignored).

(schemathesis' pytest plugin `from_fixture` does not run under pytest 9 in 4.32, so each
operation's hypothesis strategy is driven here directly.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance
from test_web_corpus import built_index

from attribution.web import create_app

__all__ = ["built_index"]

OPERATIONS = [
    ("POST", "/v1/attribute"),
    ("POST", "/v1/batch"),
    ("GET", "/v1/sources/{source_id}"),
    ("GET", "/v1/lookup"),
    ("POST", "/v1/optout"),
    ("GET", "/v1/stats"),
    ("GET", "/v1/languages"),
    ("GET", "/healthz"),
    ("GET", "/"),
]
NO_INPUT = {"/v1/stats", "/v1/languages", "/healthz", "/"}  # nothing to make invalid
EXAMPLES = 50


@pytest.fixture(scope="module")
def api_schema(built_index: Path) -> Any:
    app = create_app(built_index, admin_token="admin-token", env={}, max_batch=5)
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


def test_every_operation_is_covered(api_schema: Any) -> None:
    found = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


CASES = [(method, path, GenerationMode.POSITIVE) for method, path in OPERATIONS] + [
    (method, path, GenerationMode.NEGATIVE) for method, path in OPERATIONS if path not in NO_INPUT
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_api_conforms_to_its_schema(api_schema: Any, method: str, path: str, mode: Any) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(excluded_checks=[positive_data_acceptance, negative_data_rejection])

    run()
