"""Malformed input is a 400 in the error model, never a 500: deep JSON, edited cursors.

* JSON nested past ``MAX_JSON_DEPTH`` is refused once, for every body (with or without an
  ``Idempotency-Key``, whose fingerprint parses the body first) and for JSON in a field
  (the upload's ``metadata``), before any parser can hit ``RecursionError``.
* A cursor is only ever what the listing made: anything else (wrong types, NaN, edited,
  random bytes) is ``invalid_request`` on ``cursor`` and never reaches Redis.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobs.api.json_depth import MAX_JSON_DEPTH, JsonDepthLimit, loads, nests_deeper
from jobs.contract.errors import InvalidRequest
from jobs.plumbing.store.listing import decode_cursor, encode_cursor
from tests.jobs.api.test_images import jpeg_bytes, upload
from tests.support.api import K1

DEEP = "[" * 100_000 + "]" * 100_000  # 200 kB: inside MAX_JSON_BYTES, far past any recursion limit


def assert_invalid(response: httpx.Response, field: str | None = None) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status"] == 400 and body["error"] == "invalid_request" and body["message"]
    if field is not None:
        assert body["field"] == field


@pytest.mark.parametrize("idempotency", [{}, {"Idempotency-Key": "deep"}])
@pytest.mark.parametrize("content_type", [{"Content-Type": "application/json"}, {}])
def test_a_deeply_nested_body_is_a_400(
    api: TestClient, idempotency: dict[str, str], content_type: dict[str, str]
) -> None:
    image_id = upload(api)["id"]
    for path in ("/v1/images", f"/v1/images/{image_id}/transform", "/v1/purge"):
        response = api.post(path, headers=K1 | idempotency | content_type, content=DEEP.encode())
        assert_invalid(response, "body")


def test_nesting_at_the_limit_passes_and_one_more_level_is_refused(api: TestClient) -> None:
    def nested(levels: int) -> str:  # {"url": ..., "metadata": {"a": [[...]]}} with `levels` levels in all
        inner = "[" * (levels - 2) + "]" * (levels - 2)
        return json.dumps({"url": "https://example.com/a.jpg", "metadata": {"a": "x"}}).replace('"x"', inner)

    assert not nests_deeper(nested(MAX_JSON_DEPTH).encode())
    assert nests_deeper(nested(MAX_JSON_DEPTH + 1).encode())
    headers = K1 | {"Content-Type": "application/json"}
    at_limit = api.post("/v1/images", headers=headers, content=nested(MAX_JSON_DEPTH))
    assert_invalid(at_limit, "metadata")  # parsed and validated: metadata values must be scalars
    assert_invalid(api.post("/v1/images", headers=headers, content=nested(MAX_JSON_DEPTH + 1)), "body")


def test_deep_metadata_in_a_form_field_or_query_is_a_400(api: TestClient) -> None:
    form = api.post(
        "/v1/images/upload",
        headers=K1,
        files={"file": ("a.jpg", jpeg_bytes())},
        data={"metadata": "[" * 200_000},
    )
    assert_invalid(form, "metadata")
    raw = api.post(
        "/v1/images/upload",
        headers=K1 | {"Content-Type": "image/jpeg"},
        params={"metadata": "{" * 2000},
        content=jpeg_bytes(),
    )
    assert_invalid(raw, "metadata")


def test_depth_counts_containers_not_brackets_in_strings() -> None:
    assert not nests_deeper(b'{"a": "' + b"[{" * 100 + b'", "b": [["\\"]]]}')  # depth 3
    assert not nests_deeper(b"[" + b"[1]," * 1000 + b"[]]")  # wide, not deep
    assert not nests_deeper(b"") and not nests_deeper(b"12") and not nests_deeper(b"[" * 32)
    assert nests_deeper(b"[" * 33 + b"]" * 33)
    assert nests_deeper(b'{"a": ' * 33 + b"1" + b"}" * 33)
    assert not nests_deeper(b"[" * 33)  # not JSON, and too shallow to recurse: the app's parser says so
    assert nests_deeper(b"[" * 100_000)  # not JSON either, but a parser would recurse past its limit
    assert nests_deeper(DEEP.encode())  # past the parser's own recursion limit
    assert not nests_deeper(b"[" * 40, limit=40) and nests_deeper(b"[" * 41 + b"]" * 41, limit=40)
    with pytest.raises(InvalidRequest):
        loads("[" * 100_000, "metadata")
    with pytest.raises(InvalidRequest):
        loads("{nope", "metadata")
    assert loads('{"a": [1]}', "metadata") == {"a": [1]}


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


MALFORMED_CURSORS = [
    cursor_of({"s": "-created_at", "p": ["abc", "x"]}),
    cursor_of({"s": "-created_at", "p": [float("nan"), "x"]}),
    cursor_of({"s": "-created_at", "p": [float("inf"), "x"]}),
    cursor_of({"s": "-created_at", "p": [True, "x"]}),
    cursor_of({"s": "-created_at", "p": [1.5, "x"]}),
    cursor_of({"s": "-created_at", "p": [-1, "x"]}),
    cursor_of({"s": "-created_at", "p": [10**20, "x"]}),
    cursor_of({"s": "-created_at", "p": [[1], "x"]}),
    cursor_of({"s": "-created_at", "p": [1, "x", 3]}),
    cursor_of({"s": "-created_at", "p": "a\x00image_x"}),  # a name position on a time sort
    cursor_of({"s": "name", "p": [1, "x"]}),  # another sort's cursor
    cursor_of({"s": "-created_at", "p": [1, "x"], "extra": 1}),
    cursor_of({}),
    cursor_of([]),
    cursor_of("x"),
    cursor_of({"s": "-created_at", "p": [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}),
    "e30",  # {}
    "AAAA",
    "////",
    "not base64!",
    "ZZZZZZZZZZZZ",
]


@pytest.mark.parametrize("cursor", MALFORMED_CURSORS)
def test_a_malformed_cursor_is_a_400(api: TestClient, cursor: str) -> None:
    upload(api)
    assert_invalid(api.get("/v1/images", headers=K1, params={"cursor": cursor}), "cursor")


def test_a_real_cursor_still_pages(api: TestClient) -> None:
    ids = {str(upload(api, name=f"n{i}")["id"]) for i in range(3)}
    for sort in ("-created_at", "name"):
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 1, "sort": sort}
        while True:
            page = api.get("/v1/images", headers=K1, params=params).json()
            seen += [image["id"] for image in page["data"]]
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]
        assert sorted(seen) == sorted(ids)
    assert decode_cursor(encode_cursor("-created_at", [17, "image_a"]), "-created_at") == [17, "image_a"]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["s", "p", "x"]), inner),
    max_leaves=8,
)


@given(
    st.one_of(
        st.text(max_size=64),
        st.binary(max_size=48).map(lambda b: base64.urlsafe_b64encode(b).decode()),
        st.fixed_dictionaries({"s": st.sampled_from(["name", "-created_at", "x"]), "p": JSON_VALUES}).map(
            cursor_of
        ),
        # the shape of a time position, with any score: where NaN, text or floats reached Redis
        st.tuples(JSON_VALUES, st.text(max_size=8)).map(lambda p: cursor_of({"s": "-created_at", "p": p})),
    )
)
@settings(max_examples=300, deadline=None)
def test_any_cursor_decodes_to_a_listing_position_or_invalid_request(cursor: str) -> None:
    fields: list[str | None] = []
    for sort in ("-created_at", "name"):
        try:
            position = decode_cursor(cursor, sort)
        except InvalidRequest as exc:
            fields.append(exc.field)
            continue
        if sort == "name":
            assert isinstance(position, str)
        else:
            score, last_id = position
            assert type(score) is int and 0 <= score <= 2**53 and isinstance(last_id, str)
    assert set(fields) <= {"cursor"}


def run_checked(app: ASGIApp, body: bytes, reads: list[int]) -> list[Message]:
    """``app`` behind JsonDepthLimit, for one JSON POST of ``body``; the messages sent."""
    sent: list[Message] = []
    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/x",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
    }

    async def receive() -> Message:
        reads[0] += 1
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    anyio.run(JsonDepthLimit(app), scope, receive, send)
    return sent


def test_the_body_is_only_read_when_the_app_reads_it() -> None:
    async def answers_without_reading(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 405, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    reads = [0]
    sent = run_checked(answers_without_reading, DEEP.encode(), reads)
    assert reads == [0] and sent[0]["status"] == 405


def test_a_deep_body_is_refused_on_the_first_read_and_the_app_s_answer_dropped() -> None:
    async def reads_then_answers(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await receive()
        except InvalidRequest:
            await send({"type": "http.response.start", "status": 500, "headers": []})  # dropped
            await send({"type": "http.response.body", "body": b"app says no"})
            raise
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    reads = [0]
    sent = run_checked(reads_then_answers, DEEP.encode(), reads)
    assert reads == [1] and [m.get("status") for m in sent] == [400, None]
    assert json.loads(sent[1]["body"])["error"] == "invalid_request"
    assert [m.get("status") for m in run_checked(reads_then_answers, b'{"a": [1]}', [0])] == [200, None]
