"""The wire's status → code table is derived from the error tree, not written out again."""

from __future__ import annotations

from jobs.api.errors import HTTP_CODES
from jobs.contract.errors import CODE_BY_STATUS, ERRORS_BY_CODE, Forbidden, MediaBlocked, error_from_body


def test_every_status_of_the_error_tree_maps_to_a_code_of_that_status() -> None:
    for cls in ERRORS_BY_CODE.values():
        assert ERRORS_BY_CODE[HTTP_CODES[cls.status]].status == cls.status, cls.__name__
    assert HTTP_CODES[405] == "invalid_request"  # the router's "method not allowed"
    assert HTTP_CODES[403] == "forbidden" and HTTP_CODES[422] == "media_failed"  # the general ones


def test_the_clients_rebuild_errors_from_the_same_table() -> None:
    assert type(error_from_body(403, {"error": "media_blocked"})) is MediaBlocked
    assert type(error_from_body(403, "not json")) is Forbidden
    for status, code in CODE_BY_STATUS.items():
        assert error_from_body(status, {}).code == code
