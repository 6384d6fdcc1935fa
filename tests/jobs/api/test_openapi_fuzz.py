"""Property-based conformance: schemathesis drives the live API from its own OpenAPI document.

Every operation gets generated (valid and invalid) requests, authenticated as a real
account; the server must never answer 5xx, and every answer must match the documented
status codes, content types and schemas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from jobs.api import create_app
from jobs.settings import Settings
from tests.support.stack import Proc, start_api, with_free_http_port

# positive_data_acceptance is left out on purpose: some rules are not schema-expressible
# (an image id must exist and be yours, expires_at must be in the future, the multipart
# `metadata` field must hold a JSON object); those are covered by the API tests instead.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
    checks.ignored_auth,
    checks.unsupported_method,
]
SPEC = create_app(Settings()).openapi()  # the document the server publishes (no connections needed)
schema = schemathesis.openapi.from_dict(SPEC)


@pytest.fixture
def live_api(make_settings: Callable[..., Settings], tmp_path: object) -> Iterator[str]:
    live = with_free_http_port(make_settings(rate_limit_per_second=0))
    proc: Proc
    proc, base_url = start_api(live, tmp_path)  # type: ignore[arg-type]
    yield base_url
    proc.stop()


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_openapi(case: schemathesis.Case, live_api: str) -> None:
    case.call_and_validate(base_url=live_api, headers={"x-api-key": "k1"}, checks=CHECKS, timeout=30)
