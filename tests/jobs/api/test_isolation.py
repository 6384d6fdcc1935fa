"""Account isolation on every endpoint: another account's image is a plain 404, everywhere."""

from __future__ import annotations

from fastapi.testclient import TestClient

from jobs.settings import Settings
from tests.jobs.api.conftest import K1, K2
from tests.jobs.api.test_images import upload

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
    assert api.post("/v1/warmup", headers=K2, json={"urls": [url.json()["url"]]}).status_code in (404, 409)
    assert (
        api.post("/v1/purge", headers=K2, json={"scope": "urls", "urls": [url.json()["url"]]}).status_code
        == 404
    )
    purge = api.post("/v1/purge", headers=K1, json={"scope": "all"}).json()["purge_id"]
    assert api.get(f"/v1/purge/{purge}", headers=K1).json()["state"] == "queued"
