"""No caller reaches what is not theirs: a key on every endpoint, render URLs bound to their image.

Complements ``tests/jobs/api/test_isolation.py`` (another account's image is a 404 on every
image route) and ``tests/e2e/test_render_urls.py`` (tampered signature → 403) against the live
API: every ``/v1`` operation it publishes refuses a missing or wrong key; a render URL stops
working the moment its image is deleted, even with the derivative still cached; and a
signature made for another account's image is refused.
"""

from __future__ import annotations

import httpx
import pytest

from jobs.contract.errors import NotFound
from jobs.contract.states import Status
from jobs.services.render_urls import build_path, parse
from tests.support.e2e import Stack
from tests.support.images import oriented_jpeg

pytestmark = pytest.mark.e2e
PUBLIC_PREFIXES = ("/render/", "/files/", "/health", "/metrics")  # signature, publication, probes
SOME_ID = "image_" + "a" * 24


def test_every_v1_operation_refuses_a_missing_or_wrong_key(stack: Stack) -> None:
    paths = httpx.get(f"{stack.base_url}/openapi.json", timeout=10).json()["paths"]
    operations = [
        (m.upper(), p) for p, ops in paths.items() for m in ops if not p.startswith(PUBLIC_PREFIXES)
    ]
    assert len(operations) >= 15 and all(p.startswith("/v1/") for _, p in operations)
    answers: dict[tuple[str, str, str], tuple[int, str]] = {}
    for method, path in operations:
        url = stack.base_url + path.replace("{image_id}", SOME_ID).replace("{purge_id}", "p1")
        for name, headers in (
            ("none", {}),
            ("wrong", {"x-api-key": "k3"}),
            ("wrong bearer", {"authorization": "Bearer k3"}),
        ):
            response = httpx.request(method, url, headers=headers, json={}, timeout=10)
            answers[(method, path, name)] = (response.status_code, response.json().get("error"))
    assert answers == dict.fromkeys(answers, (401, "unauthorized"))


def test_render_urls_of_a_deleted_image_are_404(stack: Stack) -> None:
    client = stack.client
    image = client.wait(client.upload(oriented_jpeg(320, 240, 1)).id, timeout=30)
    url = client.render_url(image.id, [{"op": "resize", "width": 100}], "png")
    assert httpx.get(url, timeout=30).status_code == 200  # rendered and cached

    client.delete(image.id)
    gone = httpx.get(url, timeout=30)
    assert (gone.status_code, gone.json()["error"]) == (404, "not_found")
    with pytest.raises(NotFound):
        client.warmup([url])
    with pytest.raises(NotFound):
        client.purge("urls", urls=[url])
    with pytest.raises(NotFound):
        client.render_url(image.id, [], "png")


def test_a_signature_made_for_another_accounts_image_is_403(stack: Stack) -> None:
    mine = stack.client.wait(stack.client.upload(oriented_jpeg(64, 48, 1)).id, timeout=30)
    with stack.other_client() as globex:
        theirs = globex.wait(globex.upload(oriented_jpeg(64, 48, 1)).id, timeout=30)
        their_url = globex.render_url(theirs.id, [{"op": "grayscale"}], "png")
    assert httpx.get(their_url, timeout=30).status_code == 200  # valid for their own image

    swapped = their_url.replace(theirs.id, mine.id)  # their signature, on my image
    assert parse(swapped).image_id == mine.id
    signing_key = stack.settings.signing_key.get_secret_value()
    their_key_on_mine = stack.base_url + build_path(signing_key, "globex", mine.id, [], "png")
    for url in (swapped, their_key_on_mine):
        refused = httpx.get(url, timeout=30)
        assert (refused.status_code, refused.json()["error"]) == (403, "forbidden"), url
    mine_ok = httpx.get(stack.client.render_url(mine.id, [{"op": "grayscale"}], "png"), timeout=30)
    assert mine_ok.status_code == 200 and stack.client.get(mine.id).status == Status.READY
