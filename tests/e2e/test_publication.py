"""publish / unpublish: public URLs serve the bytes, and stop serving them."""

from __future__ import annotations

import json
from collections.abc import Callable

import boto3
import httpx
import pytest

from jobs.contract.errors import Conflict, MediaFailed, NotFound
from jobs.contract.settings import Settings
from jobs.contract.states import Status
from tests.support.e2e import Stack
from tests.support.images import oriented_jpeg
from tests.support.servers import S3Server

pytestmark = pytest.mark.e2e


def publish_then_unpublish(stack: Stack, public_base: str, gone: tuple[int, ...] = (404,)) -> str:
    client = stack.client
    image = client.wait(client.upload(oriented_jpeg(1600, 1200, 1), filename="p.jpg").id, timeout=60)
    assert image.url is None and image.public is False

    published = client.publish(image.id)
    assert published.public is True and published.published_at is not None
    assert published.url == f"{public_base}/{image.id}/master.jpg"
    master = httpx.get(published.url)
    assert master.status_code == 200 and master.content == client.download(image.id)
    for name, variant in published.sizes.items():
        assert variant.url is not None
        served = httpx.get(variant.url)
        assert served.status_code == 200 and served.content == client.download(image.id, size=name)
    assert client.publish(image.id) == published  # idempotent: nothing changes

    old_urls = [published.url, *(v.url for v in published.sizes.values())]
    unpublished = client.unpublish(image.id)
    assert unpublished.public is False and unpublished.url is None and unpublished.published_at is None
    assert all(v.url is None for v in unpublished.sizes.values())
    for url in old_urls:
        assert httpx.get(str(url)).status_code in gone
    assert len(client.download(image.id)) == image.nbytes  # still downloadable
    return image.id


def test_publish_then_unpublish(any_storage_stack: Stack) -> None:
    """Both storages, default ``PUBLIC_BASE_URL``: the API serves the public copies at ``/files``."""
    publish_then_unpublish(any_storage_stack, f"{any_storage_stack.base_url}/files")


def test_s3_public_base_url_serves_straight_from_the_bucket(
    make_stack: Callable[[Settings], Stack], make_settings: Callable[..., Settings], s3_server: S3Server,
    s3_bucket: str,
) -> None:  # fmt: skip
    """``PUBLIC_BASE_URL`` at the bucket's ``public/`` path: URLs are the S3 objects themselves."""
    bucket_public = f"{s3_server.endpoint_url}/{s3_bucket}/darkroom/public"
    public_read = {  # what ops configure (docs/operations.md): anyone may read public/, nothing else
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{s3_bucket}/darkroom/public/*"}],
    }  # fmt: skip
    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint_url, region_name="us-east-1")
    s3.put_bucket_policy(Bucket=s3_bucket, Policy=json.dumps(public_read))
    settings = make_settings(
        storage_url=f"s3://{s3_bucket}/darkroom",
        s3_endpoint_url=s3_server.endpoint_url,
        s3_region="us-east-1",
        public_base_url=bucket_public,
    )
    stack = make_stack(settings)
    # S3 answers 403 rather than 404 for a missing key to a reader who may not list the bucket
    image_id = publish_then_unpublish(stack, bucket_public, gone=(403, 404))
    private = f"{s3_server.endpoint_url}/{s3_bucket}/darkroom/images/{image_id}/master.jpg"
    assert httpx.get(private).status_code == 403  # the private copy is not readable anonymously


def test_upload_with_publish_is_ready_and_public_at_once(stack: Stack) -> None:
    stack.worker.stop()  # the image must still be processing when publish is asked again
    image = stack.client.upload(oriented_jpeg(500, 400, 1), publish=True)
    assert stack.client.publish(image.id).status == Status.PROCESSING  # requested with the job: accepted
    stack.worker.start()
    done = stack.client.wait(image.id, timeout=60)
    assert done.status == Status.READY and done.public is True and done.url
    assert httpx.get(done.url).status_code == 200


def test_publish_refuses_processing_and_failed_images(stack: Stack) -> None:
    bad = stack.client.wait(stack.client.upload(b"not an image", filename="x.jpg").id, timeout=60)
    with pytest.raises(MediaFailed):
        stack.client.publish(bad.id)
    stack.worker.stop()
    pending = stack.client.upload(oriented_jpeg(64, 64, 1))
    with pytest.raises(Conflict):
        stack.client.publish(pending.id)
    with stack.other_client() as other, pytest.raises(NotFound):
        other.publish(bad.id)
