"""The test fixtures themselves: a real private redis-server and a moto S3 endpoint."""

from __future__ import annotations

import socket

import boto3
import pytest
import redis

from tests.support.servers import RedisServer, S3Server, start_redis_server, start_s3_server


def test_private_redis_is_not_the_shared_one(redis_server: RedisServer, redis_url: str) -> None:
    assert redis_server.port != 6379
    client = redis.Redis.from_url(redis_url)
    client.set("probe", "1")
    assert client.get("probe") == b"1"
    assert int(client.info("server")["tcp_port"]) == redis_server.port


def test_moto_server_speaks_s3_over_http(s3_server: S3Server, s3_bucket: str) -> None:
    assert s3_server.endpoint_url.startswith("http://127.0.0.1:")
    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint_url, region_name="us-east-1")
    s3.put_object(Bucket=s3_bucket, Key="a/b", Body=b"xyz")
    assert s3.get_object(Bucket=s3_bucket, Key="a/b")["Body"].read() == b"xyz"


def test_a_persistent_redis_keeps_every_acknowledged_write_across_a_crash() -> None:
    server = start_redis_server(persistent=True)
    try:
        client = redis.Redis.from_url(server.url)
        client.set("probe", "1")
        client.close()
        server.restart(hard=True)  # SIGKILL: only what was fsynced survives
        client = redis.Redis.from_url(server.url)
        assert client.get("probe") == b"1"
        client.close()
    finally:
        server.stop()


def test_a_stopped_s3_server_refuses_connections_then_serves_its_objects_again() -> None:
    server = start_s3_server()
    try:
        s3 = boto3.client("s3", endpoint_url=server.endpoint_url, region_name="us-east-1")
        s3.create_bucket(Bucket="restart")
        s3.put_object(Bucket="restart", Key="k", Body=b"kept")
        server.stop()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", int(server.endpoint_url.rsplit(":", 1)[1])), timeout=1)
        server.start()
        assert s3.get_object(Bucket="restart", Key="k")["Body"].read() == b"kept"
    finally:
        server.stop()
