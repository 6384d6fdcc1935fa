"""No log line of a failing request carries a secret: not the API key in the request's
headers, not a configured secret, in either log format.

A record whose stored image is corrupt makes ``GET /v1/images/{id}`` fail with an
unexpected exception in the real API process: a traceback is logged (by our handler and by
uvicorn) while the request's headers, with the key, are in every frame's locals.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import redis

from jobs.contract.constants import account_images_key, image_key
from jobs.contract.ids import new_image_id
from jobs.contract.settings import Settings
from tests.support.e2e import Stack

pytestmark = pytest.mark.e2e
API_KEY = "dk_Zq8yV1-never-in-a-log-4J7w"
SECRETS = {
    "signing_key": "sk-never-in-a-log-9b2f",
    "webhook_secret": "wh-never-in-a-log-3c8d",
    "admin_key": "adm-never-in-a-log-5e1a",
}


def corrupt_record(settings: Settings, account: str) -> str:
    """An image of ``account`` whose record cannot be read back (its image is not JSON)."""
    image_id = new_image_id()
    client = redis.Redis.from_url(settings.redis_url)
    try:
        client.hset(image_key(image_id), mapping={"account": account, "image": "{not json"})
        client.zadd(account_images_key(account), {image_id: 1.0})
    finally:
        client.close()
    return image_id


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_a_failing_request_logs_no_key_and_no_secret(
    make_stack: Callable[[Settings], Stack], make_settings: Callable[..., Settings], log_format: str
) -> None:
    settings = make_settings(
        api_keys={"k1": "acme", API_KEY: "acme"}, log_format=log_format, metrics_port=0, **SECRETS
    )
    stack = make_stack(settings)
    image_id = corrupt_record(stack.settings, "acme")
    for headers in ({"x-api-key": API_KEY}, {"authorization": f"Bearer {API_KEY}"}):
        failed = httpx.get(f"{stack.base_url}/v1/images/{image_id}", headers=headers, timeout=30)
        assert (failed.status_code, failed.json()["error"]) == (500, "internal")
    stack.api.stop()  # every line flushed
    log = stack.api.output()
    assert log.count("Traceback") + log.count("traceback") >= 2, log[-3000:]  # the failure was logged
    leaked = {name: log.count(value) for name, value in {"api_key": API_KEY, **SECRETS}.items()}
    assert leaked == dict.fromkeys(leaked, 0), log[-6000:]
