"""Property-based conformance: schemathesis drives the live API from the document it serves.

The API runs as its own process (``darkroom api``), with a worker for the publish queue, and
the schema is the one fetched from its ``/openapi.json``. Before the run, real resources are
seeded for account acme: a ready uploaded image and a ready image created from a URL (so it
can be refreshed), both made by the real upload pipeline, and a purge. Every generated
request is sent as generated (its random ids mostly answer 404) and, when its ids were
generated valid, once more naming the seeded resources, so the success answers (Image
bodies, downloads, purge status) are checked against the schema too. The server must never
answer 5xx, and every answer must match the documented status codes, content types,
headers and schemas. Input no schema describes is sent too: JSON nested far past any
parser's recursion limit to every operation with a JSON body (with and without an
``Idempotency-Key``), and fuzzed list cursors (edited, NaN, wrong types, random bytes).
Transform pipelines are generated from the published operation schemas (the union
discriminated on ``op``) and answered exactly as the operation models decide.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks
from schemathesis.core.parameters import ParameterLocation

from jobs.client import Client
from jobs.contract.errors import InvalidRequest
from jobs.contract.operations import OPERATION_NAMES, Watermark, validate_operations
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from tests.support.api import process_upload
from tests.support.images import oriented_jpeg
from tests.support.sources import static_source
from tests.support.stack import start_api, start_worker, with_free_http_port

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
AUTH = {"x-api-key": "k1"}  # account acme
SEEDED_PARAMETERS = {"image_id", "purge_id"}
Case = schemathesis.Case[Any]
SOURCE_JPEG = oriented_jpeg(48, 32, 1)


@dataclass(frozen=True)
class Seeded:
    """Real resources of account acme on the live server."""

    image_id: str  # ready, uploaded as a file
    url_image_id: str  # ready, created from a URL: the one refresh can work on
    purge_id: str
    source_url: str  # a loopback origin serving SOURCE_JPEG


@dataclass(frozen=True)
class Live:
    base_url: str
    schema: schemathesis.BaseSchema  # as fetched from the live /openapi.json
    seeded: Seeded
    client: Client  # account acme

    def call(self, case: Case) -> schemathesis.Response:
        """Send the case to the live server and run every check on the answer."""
        return case.call_and_validate(base_url=self.base_url, headers=AUTH, checks=CHECKS, timeout=30)

    def ids_for(self, method: str, path: str) -> dict[str, str]:
        """Seeded values for the ids of one operation; DELETE gets a fresh image each time."""
        if method.upper() == "DELETE":
            image_id = self.client.upload(SOURCE_JPEG, name="doomed").id
        elif path.endswith("/refresh"):
            image_id = self.seeded.url_image_id
        else:
            image_id = self.seeded.image_id
        return {"image_id": image_id, "purge_id": self.seeded.purge_id}


def seed(settings: Settings, client: Client, source_url: str) -> Seeded:
    """Ready images made by the real upload pipeline (run here), and a purge of one of them."""
    uploaded = client.upload(SOURCE_JPEG, name="seeded", metadata={"album": "fuzz"})
    from_url = client.upload_url(source_url, name="seeded-url")
    for image in (uploaded, from_url):
        process_upload(settings, image.id)
    images = [client.get(image.id) for image in (uploaded, from_url)]
    assert [i.status for i in images] == [Status.READY, Status.READY], images
    return Seeded(uploaded.id, from_url.id, client.purge("image", image_id=uploaded.id), source_url)


@pytest.fixture
def live(make_settings: Callable[..., Settings], tmp_path: Path) -> Iterator[Live]:
    """The API and a publish worker as subprocesses, seeded, and the schema the API serves.

    No worker consumes the upload queue: what the fuzzer uploads (or asks to fetch) is never
    processed, so no generated URL is ever fetched.
    """
    # ignored_auth probes every operation with wrong keys from one address: the failure
    # throttle runs but never limits here (tests/jobs/api/test_auth_gate.py covers it)
    stack_settings = with_free_http_port(make_settings(rate_limit_per_second=0, auth_failure_burst=10**6))
    with ExitStack() as stack:
        source_url = stack.enter_context(static_source(SOURCE_JPEG, "/origin.jpg")).url
        stack.callback(start_worker(stack_settings, tmp_path, "--queues", "publish").stop)
        api, base_url = start_api(stack_settings, tmp_path)
        stack.callback(api.stop)
        client = Client(base_url, "k1", timeout=60)
        stack.callback(client.close)
        seeded = seed(stack_settings, client, source_url)
        schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", timeout=30)
        yield Live(base_url, schema, seeded, client)


@pytest.fixture
def live_schema(live: Live) -> schemathesis.BaseSchema:
    return live.schema


def generated_valid(case: Case, location: ParameterLocation) -> bool:
    """Whether this part of the case was generated to fit the schema (not a negative mutation)."""
    return case.meta is None or not case.meta.is_negative_at(location)


def point_at_seeded(case: Case, live: Live) -> bool:
    """Swap the case's generated ids for seeded ones; False if it names none or they were invalid."""
    in_path = bool(set(case.path_parameters) & SEEDED_PARAMETERS) and generated_valid(
        case, ParameterLocation.PATH
    )
    body = case.body
    in_body = (
        case.path == "/v1/purge"
        and isinstance(body, dict)
        and "image_id" in body
        and generated_valid(case, ParameterLocation.BODY)
    )
    if not (in_path or in_body):
        return False
    ids = live.ids_for(case.method, case.path)
    if in_path:
        case.path_parameters = {k: ids.get(k, v) for k, v in case.path_parameters.items()}
    if in_body and isinstance(body, dict):
        case.body = {**body, "image_id": ids["image_id"]}
    return True


@pytest.fixture(autouse=True)
def _nodeid_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """Compatibility: schemathesis 4.32's lazy schemas read ``node._nodeid``, gone in pytest 9.2.

    It only uses it to name each operation's subtest; with the real node id it reports as usual.
    """
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("live_schema")


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_openapi(case: Case, live: Live) -> None:
    live.call(case)
    if point_at_seeded(case, live):
        live.call(case)


JSON = "application/json"


def success_requests(live: Live) -> dict[tuple[str, str], dict[str, Any]]:
    """One request per /v1 operation that must succeed, as ``APIOperation.Case`` arguments."""
    image_id, url_image_id = live.seeded.image_id, live.seeded.url_image_id
    render_url = live.client.render_url(image_id, [{"op": "grayscale"}], "png")
    jpeg = {"file": SOURCE_JPEG, "name": "explicit"}
    one = {"image_id": image_id}
    return {
        ("POST", "/v1/images/upload"): {"body": jpeg, "media_type": "multipart/form-data"},
        ("POST", "/v1/images"): {"body": {"url": live.seeded.source_url}, "media_type": JSON},
        ("GET", "/v1/images"): {"query": {"limit": 5, "sort": "name"}},
        ("GET", "/v1/images/{image_id}"): {"path_parameters": one, "query": {"wait": 1}},
        ("GET", "/v1/images/{image_id}/download"): {"path_parameters": one},
        ("GET", "/v1/images/{image_id}/webhooks"): {"path_parameters": one},
        ("POST", "/v1/images/{image_id}/transform"): {
            "path_parameters": one,
            "body": {"operations": [{"op": "resize", "width": 16}], "metadata": {"k": "v"}},
            "media_type": JSON,
        },
        ("POST", "/v1/images/{image_id}/render-url"): {
            "path_parameters": one,
            "body": {"operations": [{"op": "grayscale"}], "format": "webp"},
            "media_type": JSON,
        },
        ("POST", "/v1/images/{image_id}/publish"): {"path_parameters": one},
        ("POST", "/v1/images/{image_id}/unpublish"): {"path_parameters": one},
        ("POST", "/v1/images/{image_id}/refresh"): {"path_parameters": {"image_id": url_image_id}},
        ("DELETE", "/v1/images/{image_id}"): {"path_parameters": live.ids_for("DELETE", "")},
        ("POST", "/v1/warmup"): {"body": {"urls": [render_url]}, "media_type": JSON},
        ("POST", "/v1/purge"): {"body": {"scope": "image", "image_id": image_id}, "media_type": JSON},
        ("GET", "/v1/purge/{purge_id}"): {"path_parameters": {"purge_id": live.seeded.purge_id}},
        ("GET", "/v1/webhook-secret"): {},
        ("POST", "/v1/webhook-secret/rotate"): {},
    }


def test_every_v1_operation_answers_success_as_documented(live: Live) -> None:
    """Deterministic companion of the fuzz run: each /v1 operation, on seeded data, answers 2xx."""
    paths = live.schema.raw_schema["paths"]
    operations = {(m.upper(), p) for p, ops in paths.items() if p.startswith("/v1/") for m in ops}
    requests = success_requests(live)
    assert set(requests) == operations, "a new /v1 operation needs a success case here"
    for (method, path), parts in requests.items():
        response = live.call(live.schema[path][method].Case(**parts))
        assert 200 <= response.status_code < 300, (method, path, response.status_code, response.text)
        if path.endswith("/download"):
            assert response.headers["content-type"] == ["image/jpeg"]
            assert response.content[:2] == b"\xff\xd8"


RESPONSE_CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000  # 200 kB, far past Python's recursion limit


def json_operations(live: Live) -> list[tuple[str, str]]:
    paths = live.schema.raw_schema["paths"]
    return [
        (method.upper(), path)
        for path, operations in paths.items()
        for method, op in operations.items()
        if JSON in op.get("requestBody", {}).get("content", {})
    ]


def test_deeply_nested_json_is_a_400_on_every_json_operation(live: Live) -> None:
    operations = json_operations(live)
    assert len(operations) >= 5, operations
    ids = live.ids_for("POST", "")
    for (method, path), extra in itertools.product(operations, ({}, {"Idempotency-Key": "deep"})):
        in_path = {k: v for k, v in ids.items() if "{" + k + "}" in path}
        case = live.schema[path][method].Case(path_parameters=in_path)
        response = httpx.request(
            method,
            live.base_url + case.formatted_path,
            content=DEEP_JSON,
            headers=AUTH | extra | {"Content-Type": JSON},
            timeout=30,
        )
        case.validate_response(response, checks=RESPONSE_CHECKS)
        assert response.status_code == 400, (method, path, response.text)
        assert response.json()["error"] == "invalid_request"


def cursors() -> st.SearchStrategy[str]:
    """Cursors a client could send: edited ones, wrong types, NaN, random bytes and text."""
    scalars = st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8)
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
    position = values | st.tuples(values, st.text(max_size=8))
    body = st.fixed_dictionaries({"s": st.sampled_from(["-created_at", "name", "x"]), "p": position})

    def encode(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return st.one_of(
        body.map(lambda b: encode(json.dumps(b).encode())),
        st.binary(max_size=64).map(encode),
        st.text(max_size=64),
    )


def test_fuzzed_cursors_never_answer_5xx(live: Live) -> None:
    operation = live.schema["/v1/images"]["GET"]

    @given(cursor=cursors(), sort=st.sampled_from(["-created_at", "name", "created_at", "-name"]))
    @settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def one(cursor: str, sort: str) -> None:
        response = live.call(operation.Case(query={"cursor": cursor, "sort": sort, "limit": 1}))
        assert response.status_code in (200, 400), (cursor, response.text)

    one()


TRANSFORM = "/v1/images/{image_id}/transform"


def expected_transform_error(operations: list[Any]) -> str | None:
    """The field a transform of these operations is refused for (None: it is accepted).

    The models decide (as the server does); a watermark naming an image that does not exist
    is refused for its ``image_id``.
    """
    try:
        models = validate_operations(operations)
    except InvalidRequest as exc:
        return exc.field
    for index, model in enumerate(models):
        if isinstance(model, Watermark) and model.image_id is not None:
            return f"operations[{index}].image_id"
    return None


def test_operations_generated_from_the_schema_are_answered_as_the_models_decide(live: Live) -> None:
    """Schemathesis builds pipelines from the published schemas: the valid ones are accepted
    (202), the others refused 400 naming the operation's field, never a 5xx; and the schemas
    are precise enough that valid pipelines of (almost) every op come out of them."""
    operation = live.schema[TRANSFORM]["POST"]
    image = {"image_id": live.seeded.image_id}
    valid_ops: set[str] = set()  # ops generated valid on their own
    answers: list[int] = []

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def one(case: Case) -> None:
        operations = case.body["operations"]
        sent = operation.Case(path_parameters=image, body={"operations": operations}, media_type=JSON)
        response = sent.call_and_validate(
            base_url=live.base_url, headers=AUTH, checks=RESPONSE_CHECKS, timeout=30
        )
        expected = expected_transform_error(operations)
        answers.append(response.status_code)
        valid_ops.update(op["op"] for op in operations if expected_transform_error([op]) is None)
        if expected is None:
            assert response.status_code == 202, (operations, response.text)
        else:
            assert response.status_code == 400, (operations, response.text)
            assert response.json()["field"] == expected, (operations, response.text)

    one()
    assert 202 in answers and 400 in answers, answers
    missing = set(OPERATION_NAMES) - valid_ops
    assert len(missing) <= 2, f"the schema rarely yields valid {sorted(missing)}: tighten its schema"


def test_every_published_operation_example_is_accepted(live: Live) -> None:
    schemas = live.schema.raw_schema["components"]["schemas"]
    mapping = schemas["TransformRequest"]["properties"]["operations"]["items"]["discriminator"]["mapping"]
    assert set(mapping) == set(OPERATION_NAMES)
    operation = live.schema[TRANSFORM]["POST"]
    for name, ref in mapping.items():
        examples = schemas[ref.rsplit("/", 1)[1]]["examples"]
        assert examples, name
        for example in examples:
            case = operation.Case(
                path_parameters={"image_id": live.seeded.image_id},
                body={"operations": [example]},
                media_type=JSON,
            )
            response = case.call_and_validate(
                base_url=live.base_url, headers=AUTH, checks=RESPONSE_CHECKS, timeout=30
            )
            assert response.status_code == 202, (example, response.text)
