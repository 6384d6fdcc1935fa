"""A render URL with a bad signature tells nothing about its id: the same 403 for any id.

The signature is checked from the URL alone, before the record is read; only a valid
signature (which the API hands out for owned images only) gets as far as a 404.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from jobs.contract.ids import new_image_id
from jobs.contract.settings import Settings
from jobs.services.render_urls import build_path, parse
from tests.jobs.api.test_images import upload
from tests.support.api import K1


def tampered(path: str) -> str:
    """The same URL with one signature character changed."""
    head, _, tail = path.partition("/render/")
    flipped = ("B" if tail[0] == "A" else "A") + tail[1:]
    return f"{head}/render/{flipped}"


def with_id(path: str, image_id: str) -> str:
    ref = parse(path)
    return path.replace(ref.image_id, image_id)


@pytest.mark.parametrize("legacy", [False, True], ids=["tagged", "legacy"])
def test_a_bad_signature_answers_alike_for_existing_and_unknown_ids(
    api: TestClient, settings: Settings, legacy: bool
) -> None:
    existing = str(upload(api)["id"])
    minted = api.post(f"/v1/images/{existing}/render-url", headers=K1, json={"format": "png"})
    path = "/render/" + minted.json()["url"].partition("/render/")[2]
    if legacy:  # an untagged 43-character signature, as URLs minted before tags carry
        ref = parse(path)
        path = path.replace(ref.signature, ref.signature[:43])
    bad = tampered(path)
    answers = {
        name: api.get(url) for name, url in (("existing", bad), ("unknown", with_id(bad, new_image_id())))
    }
    assert {name: (r.status_code, r.json()) for name, r in answers.items()} == {
        name: (403, {"status": 403, "error": "forbidden", "message": "Invalid render URL signature."})
        for name in answers
    }


def test_a_valid_signature_for_a_missing_image_is_404(api: TestClient, settings: Settings) -> None:
    signing_key = settings.signing_key.get_secret_value()
    gone = build_path(signing_key, "acme", new_image_id(), [], "png")  # signed, never stored
    answer = api.get(gone)
    assert (answer.status_code, answer.json()["error"]) == (404, "not_found")
