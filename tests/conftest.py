"""Shared fixtures: real backing services on free loopback ports, settings, storage.

* ``redis_server`` — a private ``redis-server`` per xdist worker (never 6379, never fakeredis);
  missing binary → skip with a clear message, or fail under ``CI=true``.
* ``redis_url`` — that server, flushed before each test.
* ``s3_server`` — moto's ThreadedMotoServer over HTTP; ``s3_bucket`` a fresh bucket per test.
* ``settings`` / ``storage_settings`` — Settings objects for local or S3 storage.
* ``anyio_backend`` — ``async def`` tests run through anyio's pytest plugin on asyncio.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from jobs.contract.settings import Settings
from tests.support.servers import RedisServer, S3Server, start_redis_server, start_s3_server


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Every ``async def`` test runs on a fresh asyncio loop, as ``asyncio.run`` did (no trio)."""
    return "asyncio"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = start_redis_server()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = start_s3_server()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    import boto3

    name = f"darkroom-test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_server.endpoint_url, region_name="us-east-1").create_bucket(
        Bucket=name
    )
    return name


@pytest.fixture
def make_settings(redis_url: str, tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a test: private Redis, local storage under tmp_path; override anything."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "redis_url": redis_url,
            "storage_url": f"file://{tmp_path / 'data'}",
            "api_keys": {"k1": "acme", "k2": "globex"},
            "signing_key": "test-signing-key",
            "webhook_secret": "test-webhook-secret",
            "log_format": "console",
            "allow_private_sources": True,
        }
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture(params=["local", "s3"])
def storage_settings(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], tmp_path: Path
) -> Settings:
    """Parametrised over both storage backends: local directory and S3 (moto server over HTTP)."""
    if request.param == "local":
        return make_settings(storage_url=f"file://{tmp_path / 'store'}")
    s3_server: S3Server = request.getfixturevalue("s3_server")
    bucket: str = request.getfixturevalue("s3_bucket")
    return make_settings(
        storage_url=f"s3://{bucket}/darkroom",
        s3_endpoint_url=s3_server.endpoint_url,
        s3_region="us-east-1",
    )
