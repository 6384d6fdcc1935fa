"""Account isolation on every endpoint: another account's image is a plain 404, everywhere."""

from __future__ import annotations

from fastapi.testclient import TestClient

from jobs.contract.constants import Queue
from jobs.contract.payloads import PurgeJob
from jobs.contract.settings import Settings
from tests.jobs.api.test_images import upload
from tests.support.api import K1, K2, in_worker, queued_jobs
from worker.pipeline.purge import run_purge

# A valid body for each image route, so validation can never answer before ownership does.
BODIES: dict[tuple[str, str], object] = {
    ("POST", "/v1/images/{image_id}/transform"): {"operations": [{"op": "grayscale"}]},
    ("POST", "/v1/images/{image_id}/render-url"): {"operations": [], "format": "webp"},
    ("POST", "/v1/images/{image_id}/publish"): None,
    ("POST", "/v1/images/{image_id}/unpublish"): None,
    ("POST", "/v1/images/{image_id}/refresh"): None,
    ("GET", "/v1/images/{image_id}"): None,
    ("GET", "/v1/images/{image_id}/download"): None,
    ("GET", "/v1/images/{image_id}/webhooks"): None,
    ("DELETE", "/v1/images/{image_id}"): None,
}


def image_routes(api: TestClient) -> list[tuple[str, str]]:
    """Every published operation on one image (from the app's own OpenAPI document)."""
    paths = api.app.openapi()["paths"]  # type: ignore[attr-defined]
    return sorted((m.upper(), p) for p, ops in paths.items() if "{image_id}" in p for m in ops)


def test_every_image_endpoint_hides_other_accounts_images(api: TestClient, settings: Settings) -> None:
    routes = image_routes(api)
    assert set(routes) == set(BODIES), "a new image endpoint needs an isolation case here"
    image_id = str(upload(api, name="mine")["id"])
    for method, path in routes:
        url = path.replace("{image_id}", image_id)
        body = BODIES[(method, path)]
        foreign = api.request(method, url, headers=K2, json=body)
        assert foreign.status_code == 404, (method, path, foreign.text)
        assert foreign.json()["error"] == "not_found"
    # the owner still sees it (checked last: DELETE above was refused, so it must still exist)
    assert api.get(f"/v1/images/{image_id}", headers=K1).status_code == 200


def test_collections_and_purges_are_scoped(api: TestClient) -> None:
    mine = str(upload(api)["id"])
    assert [i["id"] for i in api.get("/v1/images", headers=K2).json()["data"]] == []
    assert api.post("/v1/purge", headers=K2, json={"scope": "image", "image_id": mine}).status_code == 404
    url = api.post(f"/v1/images/{mine}/render-url", headers=K1, json={"format": "png"})
    assert url.status_code == 200
    assert api.post("/v1/warmup", headers=K2, json={"urls": [url.json()["url"]]}).status_code == 404
    assert (
        api.post("/v1/purge", headers=K2, json={"scope": "urls", "urls": [url.json()["url"]]}).status_code
        == 404
    )
    purge = api.post("/v1/purge", headers=K1, json={"scope": "all"}).json()["purge_id"]
    queued = api.get(f"/v1/purge/{purge}", headers=K1)
    assert queued.status_code == 200 and queued.json()["state"] == "queued" and "account" not in queued.json()
    assert api.get(f"/v1/purge/{purge}", headers=K2).status_code == 404  # not theirs, even while queued
    assert api.get("/v1/purge/never-was-a-purge", headers=K1).status_code == 404


def run_queued_purge(settings: Settings, purge_id: str) -> None:
    """Run the queued purge job through the real worker pipeline, in-process."""
    jobs = [j for j in queued_jobs(settings, Queue.PURGE) if isinstance(j, PurgeJob)]
    job = next(j for j in jobs if j.job_id == purge_id)
    in_worker(settings, lambda ctx: run_purge(ctx, job))


def test_another_accounts_purge_status_is_404(api: TestClient, settings: Settings) -> None:
    image_id = str(upload(api)["id"])
    accepted = api.post("/v1/purge", headers=K1, json={"scope": "image", "image_id": image_id})
    assert accepted.status_code == 202
    purge_id = accepted.json()["purge_id"]
    run_queued_purge(settings, purge_id)  # what a purge worker does: it records the outcome
    mine = api.get(f"/v1/purge/{purge_id}", headers=K1)
    assert mine.status_code == 200 and mine.json()["state"] == "done" and mine.json()["scope"] == "image"
    foreign = api.get(f"/v1/purge/{purge_id}", headers=K2)
    assert foreign.status_code == 404 and foreign.json()["error"] == "not_found", foreign.text
    assert "account" not in mine.json()  # the owner is never echoed back
