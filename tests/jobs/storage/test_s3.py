"""S3Storage specifics, against moto's HTTP server: prefix layout, batching, error translation."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import aiohttp
import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
    SSLError,
)

from jobs.contract.errors import InvalidRequest, ObjectNotFound, StorageError, StorageUnavailable
from jobs.plumbing.storage import Storage, open_storage
from jobs.plumbing.storage.s3 import S3Storage, s3_config
from jobs.plumbing.storage.s3_errors import delete_objects_error, translate_s3_error
from tests.jobs.storage.support import run_scenario, s3_settings
from tests.support.servers import S3Server, free_port, start_s3_server

FAST_FAIL = s3_config(connect_timeout=1, read_timeout=1, max_attempts=1)


def boto(endpoint_url: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint_url, region_name="us-east-1")


def bucket_keys(endpoint_url: str, bucket: str) -> list[str]:
    response = boto(endpoint_url).list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in response.get("Contents", []))


def opener(endpoint_url: str, bucket: str, prefix: str = "darkroom", **options: Any) -> Any:
    async def open_() -> Storage:
        return await S3Storage.open(
            bucket, prefix, endpoint_url=endpoint_url, region_name="us-east-1", **options
        )

    return open_


def count_calls(storage: Storage) -> Counter[str]:
    """Count the API calls the storage's client makes (``{"PutObject": 1, ...}``)."""
    assert isinstance(storage, S3Storage)
    calls: Counter[str] = Counter()

    def before_call(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    storage.client.meta.events.register("before-call.s3", before_call)
    return calls


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, so no test ever depends on (or reaches) a real AWS account or IMDS."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def private_s3() -> Iterator[S3Server]:
    """A moto server of this test's own, free to be stopped."""
    server = start_s3_server()
    try:
        yield server
    finally:
        server.stop()


# --- layout -------------------------------------------------------------------------------------


def test_keys_live_under_the_url_prefix(s3_server: S3Server, s3_bucket: str) -> None:
    url = s3_server.endpoint_url
    settings = s3_settings(url, s3_bucket, prefix="darkroom")
    boto(url).put_object(Bucket=s3_bucket, Key="elsewhere/originals/image_9", Body=b"not ours")
    boto(url).put_object(Bucket=s3_bucket, Key="darkroom/originals/image_2", Body=b"put by hand")

    async def write_and_list(storage: Storage) -> list[str]:
        await storage.put("originals/image_1", b"raw", content_type="image/png")
        assert await storage.get("originals/image_2") == b"put by hand"
        return [o.key for o in await storage.list("")]

    async def delete_all(storage: Storage) -> int:
        return await storage.delete_prefix("originals/")

    assert run_scenario(lambda: open_storage(settings), write_and_list) == [
        "originals/image_1",
        "originals/image_2",
    ]
    assert bucket_keys(url, s3_bucket) == [
        "darkroom/originals/image_1",
        "darkroom/originals/image_2",
        "elsewhere/originals/image_9",
    ]
    head = boto(url).head_object(Bucket=s3_bucket, Key="darkroom/originals/image_1")
    assert head["ContentType"] == "image/png"

    assert run_scenario(lambda: open_storage(settings), delete_all) == 2
    assert bucket_keys(url, s3_bucket) == ["elsewhere/originals/image_9"]


def test_copy_keeps_or_replaces_the_content_type(s3_server: S3Server, s3_bucket: str) -> None:
    url = s3_server.endpoint_url
    settings = s3_settings(url, s3_bucket, prefix="")

    async def copies(storage: Storage) -> None:
        await storage.put("originals/image_1", b"raw", content_type="application/octet-stream")
        await storage.copy("originals/image_1", "images/image_1/master.jpg", content_type="image/jpeg")
        await storage.copy("images/image_1/master.jpg", "public/image_1/master.jpg")

    run_scenario(lambda: open_storage(settings), copies)
    types = {
        key: boto(url).head_object(Bucket=s3_bucket, Key=key)["ContentType"]
        for key in ("originals/image_1", "images/image_1/master.jpg", "public/image_1/master.jpg")
    }
    assert types == {
        "originals/image_1": "application/octet-stream",
        "images/image_1/master.jpg": "image/jpeg",  # replaced
        "public/image_1/master.jpg": "image/jpeg",  # kept from its source
    }
    body = boto(url).get_object(Bucket=s3_bucket, Key="images/image_1/master.jpg")["Body"].read()
    assert body == b"raw"


def test_a_bucket_without_prefix_uses_bare_keys(s3_server: S3Server, s3_bucket: str) -> None:
    settings = s3_settings(s3_server.endpoint_url, s3_bucket, prefix="")

    async def scenario(storage: Storage) -> None:
        await storage.put("records/image_1.json", b"{}")

    run_scenario(lambda: open_storage(settings), scenario)
    assert bucket_keys(s3_server.endpoint_url, s3_bucket) == ["records/image_1.json"]


def test_etag_is_the_md5_of_a_single_put(s3_server: S3Server, s3_bucket: str, payload: bytes) -> None:
    async def scenario(storage: Storage) -> Any:
        await storage.put("originals/image_1", payload)
        return await storage.head("originals/image_1")

    info = run_scenario(opener(s3_server.endpoint_url, s3_bucket), scenario)
    assert info.etag == hashlib.md5(payload, usedforsecurity=False).hexdigest()  # quotes stripped


def test_too_long_with_prefix_is_rejected_without_a_request(s3_server: S3Server, s3_bucket: str) -> None:
    key = "/".join(["k" * 255] * 4)  # 1023 characters: valid, but not with "darkroom/" in front

    async def scenario(storage: Storage) -> Counter[str]:
        calls = count_calls(storage)
        with pytest.raises(InvalidRequest):
            await storage.put(key, b"x")
        return calls

    assert run_scenario(opener(s3_server.endpoint_url, s3_bucket), scenario) == Counter()


def test_invalid_keys_never_reach_the_server(s3_server: S3Server, s3_bucket: str) -> None:
    async def scenario(storage: Storage) -> Counter[str]:
        calls = count_calls(storage)
        for call in [
            storage.put("../x", b"x"),
            storage.get("/etc/passwd"),
            storage.head("a//b"),
            storage.delete("a/./b"),
            storage.list("a\\b/"),
            storage.delete_prefix("../"),
            storage.copy("ok", "../x"),
        ]:
            with pytest.raises(InvalidRequest):
                await call
        return calls

    assert run_scenario(opener(s3_server.endpoint_url, s3_bucket), scenario) == Counter()


# --- pagination and batching ----------------------------------------------------------------------


def test_list_paginates_and_delete_prefix_batches(s3_server: S3Server, s3_bucket: str) -> None:
    async def scenario(storage: Storage) -> tuple[Counter[str], Counter[str]]:
        await asyncio.gather(*(storage.put(f"derived/img/{n:02d}.jpg", b"d") for n in range(25)))
        await storage.put("derived/keep.jpg", b"k")
        calls = count_calls(storage)
        assert [o.key for o in await storage.list("derived/img/")] == [
            f"derived/img/{n:02d}.jpg" for n in range(25)
        ]
        listing = Counter(calls)
        calls.clear()
        assert await storage.delete_prefix("derived/img/") == 25
        assert [o.key for o in await storage.list("derived/")] == ["derived/keep.jpg"]
        return listing, calls

    listing, deleting = run_scenario(
        opener(s3_server.endpoint_url, s3_bucket, list_page_size=10, delete_batch_size=7), scenario
    )
    assert listing == Counter({"ListObjectsV2": 3})  # 10 + 10 + 5
    assert deleting["DeleteObjects"] == 4  # 7 + 7 + 7 + 4


# --- error translation against a real server -------------------------------------------------------


def test_missing_bucket_is_a_permanent_storage_error(s3_server: S3Server) -> None:
    async def scenario(storage: Storage) -> None:
        for call in [
            storage.put("originals/image_1", b"x"),
            storage.get("originals/image_1"),
            storage.list(""),
            storage.delete_prefix("originals/"),
            storage.copy("originals/image_1", "public/image_1"),
        ]:
            with pytest.raises(StorageError, match="darkroom-no-such-bucket") as caught:
                await call
            assert not caught.value.transient

    run_scenario(opener(s3_server.endpoint_url, "darkroom-no-such-bucket"), scenario)


def test_stopped_server_is_storage_unavailable_quickly(private_s3: S3Server) -> None:
    bucket = "darkroom-stopped"
    boto(private_s3.endpoint_url).create_bucket(Bucket=bucket)

    async def scenario(storage: Storage) -> float:
        await storage.put("originals/image_1", b"x")  # the server works, a connection is pooled
        private_s3.stop()
        started = time.monotonic()
        for call in [
            storage.get("originals/image_1"),
            storage.put("originals/image_2", b"x"),
            storage.head("originals/image_1"),
            storage.list(""),
            storage.delete_prefix("originals/"),
        ]:
            with pytest.raises(StorageUnavailable) as caught:
                await call
            assert caught.value.transient
        return time.monotonic() - started

    elapsed = run_scenario(opener(private_s3.endpoint_url, bucket, config=FAST_FAIL), scenario)
    assert elapsed < 8


def test_nothing_listening_is_storage_unavailable_after_the_configured_retries() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    config = s3_config(connect_timeout=1, read_timeout=1, max_attempts=2)

    async def scenario(storage: Storage) -> Counter[str]:
        assert isinstance(storage, S3Storage)
        sends: Counter[str] = Counter()
        storage.client.meta.events.register("before-send.s3", lambda **_: sends.update(["send"]))
        with pytest.raises(StorageUnavailable) as caught:
            await storage.get("originals/image_1")
        assert isinstance(caught.value.__cause__, EndpointConnectionError)
        return sends

    assert run_scenario(opener(endpoint, "darkroom-nowhere", config=config), scenario) == {"send": 2}


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A TCP port that accepts connections (kernel backlog) but never says a word."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        yield f"http://127.0.0.1:{silent.getsockname()[1]}"


@pytest.mark.timeout(30)
def test_a_server_that_never_answers_times_out(silent_endpoint: str) -> None:
    """Also for PUT: aiohttp would wait forever for ``100 Continue``, so the header must be gone."""
    config = s3_config(connect_timeout=0.5, read_timeout=0.5, max_attempts=1)

    async def scenario(storage: Storage) -> list[float]:
        timings = []
        for call in [storage.put("originals/image_1", b"x" * 2048), storage.get("originals/image_1")]:
            started = time.monotonic()
            with pytest.raises(StorageUnavailable) as caught:
                await call
            assert isinstance(caught.value.__cause__, ReadTimeoutError)
            timings.append(time.monotonic() - started)
        return timings

    timings = run_scenario(opener(silent_endpoint, "darkroom-silent", config=config), scenario)
    assert max(timings) < 5  # the 30 s operation_timeout was not what stopped them


@pytest.fixture
def trickling_endpoint() -> Iterator[str]:
    """An HTTP server that answers 200 and then dribbles one body byte every 50 ms (slowloris)."""

    class Trickle(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.settimeout(5)
            received = b""
            while b"\r\n\r\n" not in received:
                received += self.request.recv(65536)
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            with contextlib.suppress(OSError):
                for _ in range(100):  # at most 5 s
                    self.request.sendall(b"x")
                    time.sleep(0.05)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.timeout(30)
def test_operation_timeout_bounds_a_trickling_response(trickling_endpoint: str) -> None:
    config = s3_config(connect_timeout=1, read_timeout=1, max_attempts=1)  # each byte beats read_timeout

    async def scenario(storage: Storage) -> float:
        started = time.monotonic()
        with pytest.raises(StorageUnavailable):
            await storage.get("originals/image_1")
        return time.monotonic() - started

    elapsed = run_scenario(
        opener(trickling_endpoint, "darkroom-slow", config=config, operation_timeout=1), scenario
    )
    assert 0.9 < elapsed < 4


# --- the translation table ------------------------------------------------------------------------


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "msg"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "GetObject",
    )


def case_id(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return f"ClientError-{exc.response['Error']['Code']}"
    return type(exc).__name__


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (client_error("NoSuchKey", 404), ObjectNotFound),
        (client_error("404", 404), ObjectNotFound),
        (client_error("NoSuchBucket", 404), StorageError),
        (client_error("AccessDenied", 403), StorageError),
        (client_error("InvalidAccessKeyId", 403), StorageError),
        (client_error("SignatureDoesNotMatch", 403), StorageError),
        (client_error("SlowDown", 503), StorageUnavailable),
        (client_error("InternalError", 500), StorageUnavailable),
        (client_error("ServiceUnavailable", 503), StorageUnavailable),
        (client_error("Whatever", 502), StorageUnavailable),
        (client_error("TooManyRequests", 429), StorageUnavailable),
        (client_error("RequestTimeout", 400), StorageUnavailable),
        (EndpointConnectionError(endpoint_url="http://s3"), StorageUnavailable),
        (ConnectTimeoutError(endpoint_url="http://s3"), StorageUnavailable),
        (ConnectionClosedError(endpoint_url="http://s3"), StorageUnavailable),
        (ReadTimeoutError(endpoint_url="http://s3"), StorageUnavailable),
        (aiohttp.ServerDisconnectedError(), StorageUnavailable),
        (aiohttp.ClientPayloadError("truncated"), StorageUnavailable),
        (TimeoutError(), StorageUnavailable),
        (ConnectionResetError(), StorageUnavailable),
        (SSLError(endpoint_url="https://s3", error="bad certificate"), StorageError),
        (NoCredentialsError(), StorageError),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else case_id(v),
)
def test_translation_table(exc: BaseException, expected: type[Exception]) -> None:
    error = translate_s3_error(exc, bucket="photos", key="originals/image_1", root="darkroom/")
    assert type(error) is expected
    if expected is StorageError:
        assert "photos" in error.message  # permanent errors name the bucket


def test_unrelated_exceptions_are_not_translated() -> None:
    assert translate_s3_error(ValueError("bug"), bucket="b", key="k") is None
    assert translate_s3_error(KeyError("bug"), bucket="b", key="k") is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [("AccessDenied", StorageError), ("InternalError", StorageUnavailable), ("SlowDown", StorageUnavailable)],
)
def test_per_key_delete_errors_are_translated(code: str, expected: type[Exception]) -> None:
    errors = [{"Key": "darkroom/derived/x", "Code": code, "Message": "no"}, {"Key": "y", "Code": "Other"}]
    error = delete_objects_error(errors, bucket="photos")
    assert type(error) is expected
    assert "photos" in error.message
