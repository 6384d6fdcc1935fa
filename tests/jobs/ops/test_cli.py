"""The operator commands end to end in-process: status, probe, requeue-dead, reindex, dashboard-link.

Also: the CLI has a command for every /v1 endpoint the API publishes, and client commands
refuse bad input (exit 2) before they talk to the API.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dramatiq
import pytest
import redis
from redis.asyncio import Redis

from jobs.api import create_app
from jobs.api.dashboard_auth import verify
from jobs.cli.main import build_parser, main
from jobs.contract.constants import Queue
from jobs.contract.payloads import PublishJob
from jobs.contract.settings import Settings
from jobs.plumbing.queue import redis_broker
from jobs.plumbing.store.trends import record_job
from jobs.services.admin.keys import dead_key, queue_key
from jobs.services.admin.workers import WorkerBeat, beat, heartbeat_ttl_ms
from tests.support.dead_letters import kill
from tests.support.servers import free_port

Cli = Callable[..., tuple[int, str]]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[[Settings], Cli]:
    def bind(settings: Settings) -> Cli:
        for name in list(__import__("os").environ):
            if name.startswith("DARKROOM_"):
                monkeypatch.delenv(name)
        for name, value in settings.to_env().items():
            monkeypatch.setenv(name, value)

        def run(*argv: str) -> tuple[int, str]:
            capsys.readouterr()
            code = main(list(argv))
            return code, capsys.readouterr().out

        return run

    return bind


def heartbeat(settings: Settings, host: str, *queues: Queue) -> None:
    async def go() -> None:
        client = Redis.from_url(settings.redis_url)
        me = WorkerBeat(
            "w-" + host, host, 7, 1, tuple(q.value for q in queues), 2, "0", "2024-01-01T00:00:00"
        )
        await beat(client, me, heartbeat_ttl_ms(settings))
        await client.aclose()

    asyncio.run(go())


def enqueue(settings: Settings, queue: Queue, n: int) -> None:
    broker = redis_broker(settings)
    for i in range(n):
        broker.enqueue(dramatiq.Message(queue_name=queue.value, actor_name=queue.short,
                                        args=({"i": i},), kwargs={}, options={}))  # fmt: skip
    broker.close()


def test_status_json_matches_redis(cli: Any, settings: Settings) -> None:
    run = cli(settings)
    enqueue(settings, Queue.UPLOAD, 4)
    heartbeat(settings, "pod-up", Queue.UPLOAD)
    code, out = run("status", "--json")
    body = json.loads(out)
    assert code == 0
    by_queue = {q["queue"]: q for q in body["queues"]}
    assert set(by_queue) == {q.value for q in Queue}
    assert by_queue[Queue.UPLOAD.value]["ready"] == redis.Redis.from_url(settings.redis_url).llen(
        queue_key(Queue.UPLOAD)
    ) == 4  # fmt: skip
    assert by_queue[Queue.UPLOAD.value]["workers"] == 1 and by_queue[Queue.TRANSFORM.value]["workers"] == 0
    assert [(w["host"], w["queues"]) for w in body["workers"]] == [("pod-up", [Queue.UPLOAD.value])]
    assert body["images"] == {"by_status": {"processing": 0, "ready": 0, "failed": 0}, "total": 0}
    code, text = run("status")
    assert code == 0 and "Queues" in text and "pod-up" in text


def test_status_fails_cleanly_when_redis_is_down(cli: Any, make_settings: Callable[..., Settings]) -> None:
    run = cli(make_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    code, out = run("status", "--json")
    assert code == 1 and out == ""


def test_probe_worker_needs_a_fresh_beat_from_this_host(cli: Any, settings: Settings) -> None:
    run = cli(settings)
    assert run("probe", "worker")[0] == 1
    heartbeat(settings, socket.gethostname(), Queue.UPLOAD)
    heartbeat(settings, "another-pod", Queue.TRANSFORM)
    code, out = run("probe", "worker")
    assert code == 0 and json.loads(out) == {"healthy": True, "host": socket.gethostname(), "workers": 1,
                                             "missing_queues": []}  # fmt: skip
    code, out = run("probe", "worker", "--queues", "upload", "transform")
    assert code == 1 and json.loads(out)["missing_queues"] == [Queue.TRANSFORM.value]
    assert run("probe", "worker", "--host", "another-pod", "--queues", "transform")[0] == 0
    assert run("probe", "api", "--url", f"http://127.0.0.1:{free_port()}")[0] == 1


def test_requeue_dead_lists_then_replays(cli: Any, settings: Settings) -> None:
    run = cli(settings)
    kill(redis_broker(settings), PublishJob(image_id="image_" + "e" * 24, account="acme", job_id="p1"))
    code, out = run("requeue-dead", "--list")
    assert code == 0 and [(d["queue"], d["actor"], d["image_id"]) for d in json.loads(out)] == [
        (Queue.PUBLISH.value, "publish", "image_" + "e" * 24)
    ]
    code, out = run("requeue-dead", "--queues", "publish")
    assert code == 0 and json.loads(out) == {"requeued": {"publish": 1}, "dropped": {}, "errors": []}
    client = redis.Redis.from_url(settings.redis_url)
    assert client.zcard(dead_key(Queue.PUBLISH)) == 0 and client.llen(queue_key(Queue.PUBLISH)) == 1
    assert run("requeue-dead", "--queues", "nope")[0] == 2


def test_reindex_command_reports_counts(cli: Any, settings: Settings) -> None:
    settings.local_storage_root.mkdir(parents=True, exist_ok=True)
    run = cli(settings)
    code, out = run("reindex", "--dry-run")
    assert json.loads(out) == {"scanned": 0, "restored": 0, "unchanged": 0, "invalid": []}
    assert code == 2  # an empty storage is the wrong storage (issue 18): never a silent success


def test_dashboard_link_is_a_verifiable_login_token(cli: Any, make_settings: Callable[..., Settings]) -> None:
    assert cli(make_settings())("dashboard-link")[0] == 2  # no DARKROOM_ADMIN_KEY
    settings = make_settings(admin_key="adm")
    run = cli(settings)
    code, out = run("dashboard-link")
    url = urlsplit(out.strip())
    assert code == 0 and url.path == "/dashboard/login"
    viewer = verify(settings, parse_qs(url.query)["token"][0], use="login")
    assert viewer is not None and viewer.operator
    code, out = run("dashboard-link", "--account", "globex")
    viewer = verify(settings, parse_qs(urlsplit(out.strip()).query)["token"][0], use="login")
    assert code == 0 and viewer is not None and viewer.account == "globex"
    assert run("dashboard-link", "--account", "nobody")[0] == 2


# Each /v1 operation of the OpenAPI document → the darkroom command that calls it.
CLI_FOR_OPERATION = {
    ("POST", "/v1/images/upload"): "upload",
    ("POST", "/v1/images"): "upload",  # an http(s) URL instead of a file
    ("GET", "/v1/images"): "list",
    ("GET", "/v1/images/{image_id}"): "get",
    ("DELETE", "/v1/images/{image_id}"): "delete",
    ("POST", "/v1/images/{image_id}/transform"): "transform",
    ("GET", "/v1/images/{image_id}/download"): "download",
    ("POST", "/v1/images/{image_id}/publish"): "publish",
    ("POST", "/v1/images/{image_id}/unpublish"): "unpublish",
    ("POST", "/v1/images/{image_id}/refresh"): "refresh",
    ("POST", "/v1/images/{image_id}/render-url"): "sign",
    ("GET", "/v1/images/{image_id}/webhooks"): "webhooks",
    ("POST", "/v1/warmup"): "warmup",
    ("POST", "/v1/purge"): "purge",
    ("GET", "/v1/purge/{purge_id}"): "purge-status",
    ("GET", "/v1/webhook-secret"): "webhook-secret",
    ("POST", "/v1/webhook-secret/rotate"): "webhook-secret",  # --rotate
}


def cli_commands() -> set[str]:
    parser = build_parser()
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_every_v1_endpoint_has_a_cli_command(settings: Settings) -> None:
    paths = create_app(settings).openapi()["paths"]
    operations = {(m.upper(), p) for p, ops in paths.items() if p.startswith("/v1/") for m in ops}
    assert operations == set(CLI_FOR_OPERATION), "a new /v1 endpoint needs a CLI command (and a row here)"
    missing = set(CLI_FOR_OPERATION.values()) - cli_commands()
    assert not missing, f"no such darkroom command: {sorted(missing)}"


def test_purge_status_refuses_bad_input_with_2(
    cli: Any, make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    # a key and an API URL nothing listens on: these must fail on their input, before any request
    cli(make_settings(api_key="k1", api_url=f"http://127.0.0.1:{free_port()}"))
    cases = [(("../images",), "PURGE_ID"), (("a?b",), "PURGE_ID"), (("x" * 65,), "PURGE_ID"),
             (("0" * 24, "--wait", "-1"), "--wait")]  # fmt: skip
    for argv, field in cases:
        capsys.readouterr()
        assert main(["purge-status", *argv]) == 2, argv
        captured = capsys.readouterr()
        assert captured.out == "" and "invalid_request" in captured.err and field in captured.err, captured


def test_status_watch_reprints_the_trends_and_stops(cli: Any, settings: Settings) -> None:
    client = redis.Redis.from_url(settings.redis_url)
    for i in range(1, 8):
        record_job(client, Queue.TRANSFORM.value, time.time(), "done", i / 10)
    record_job(client, Queue.TRANSFORM.value, time.time(), "failed", 0.2)
    client.close()
    run = cli(settings)
    code, out = run("status", "--watch", "--interval", "0", "--iterations", "2")
    assert code == 0
    assert out.count("Last hour") == 2  # printed twice, then it stopped by itself
    row = next(line for line in out.splitlines() if "transform" in line and "│" in line and " s" in line)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    assert cells[3:5] == ["7", "1"]  # done and failed over the hour
    code, out = run("status", "--json")
    trends = json.loads(out)["trends"]
    transform = next(q for q in trends["queues"] if q["queue"] == Queue.TRANSFORM.value)
    assert (transform["done"], transform["failed"]) == (7, 1)


def test_status_watch_exits_0_on_ctrl_c(
    cli: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobs.cli import ops_status

    async def interrupted(*_: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(ops_status, "read_status", interrupted)
    code, _ = cli(settings)("status", "--watch")
    assert code == 0
