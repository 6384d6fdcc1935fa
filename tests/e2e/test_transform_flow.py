"""transform: a ready image + operations → a new ready image with the parent's name."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image as PILImage

from jobs.contract.errors import Conflict, InvalidRequest, NotFound
from jobs.contract.states import Status
from tests.support.e2e import Stack
from tests.support.images import oriented_jpeg, pixel

pytestmark = pytest.mark.e2e


def test_transform_creates_a_new_image_and_leaves_the_parent_alone(stack: Stack) -> None:
    client = stack.client
    parent = client.wait(client.upload(oriented_jpeg(1200, 800, 1), filename="beach.jpg").id, timeout=60)
    assert parent.status == Status.READY

    ops = [{"op": "resize", "width": 300}, {"op": "flip", "direction": "horizontal"},
           {"op": "convert", "format": "webp", "quality": 80}]  # fmt: skip
    child = client.transform(parent.id, ops)
    assert child.status == Status.PROCESSING and child.id != parent.id
    assert child.parent_id == parent.id and child.name == parent.name == "beach"
    done = client.wait(child.id, timeout=60)
    assert done.status == Status.READY, done.error
    assert (done.format, done.width, done.height) == ("webp", 300, 200)
    assert done.filename == "beach.webp"
    assert [op["op"] for op in done.operations] == ["resize", "flip", "convert"]

    pixels = PILImage.open(io.BytesIO(client.download(done.id)))
    assert pixels.format == "WEBP" and pixels.size == (300, 200)
    # red top-left quadrant, flipped horizontally → red is now top-right
    rgb = pixels.convert("RGB")
    assert pixel(rgb, (280, 20))[0] > 200
    assert pixel(rgb, (20, 20))[2] > 200

    after = client.get(parent.id)
    assert after == parent  # same version, same everything
    names = [i.name for i in client.list().data]
    assert names.count("beach") == 2


def test_transform_is_validated_before_enqueueing(stack: Stack) -> None:
    client = stack.client
    parent = client.wait(client.upload(oriented_jpeg(64, 48, 1)).id, timeout=60)
    with pytest.raises(InvalidRequest) as bad_width:
        client.transform(parent.id, [{"op": "resize", "width": 0}])
    assert bad_width.value.field == "operations[0].width"
    with pytest.raises(InvalidRequest) as unknown:
        client.transform(parent.id, [{"op": "grayscale"}, {"op": "explode"}])
    assert unknown.value.field == "operations[1].op"
    with pytest.raises(InvalidRequest) as too_many:
        client.transform(parent.id, [{"op": "grayscale"}] * 11)
    assert too_many.value.field == "operations"
    with pytest.raises(NotFound), stack.other_client() as other:
        other.transform(parent.id, [{"op": "grayscale"}])
    queued = httpx.get(f"{stack.base_url}/v1/images", headers={"x-api-key": "k1"}).json()["data"]
    assert [i["id"] for i in queued] == [parent.id]  # nothing was created by the rejected calls


def test_transform_of_a_processing_parent_is_409(stack: Stack) -> None:
    stack.worker.stop()  # nobody will process the parent
    parent = stack.client.upload(oriented_jpeg(64, 48, 1))
    with pytest.raises(Conflict):
        stack.client.transform(parent.id, [{"op": "grayscale"}])


def test_every_output_format_round_trips_with_its_declared_fields(stack: Stack) -> None:
    client = stack.client
    parent = client.wait(client.upload(oriented_jpeg(320, 240, 1)).id, timeout=60)
    children = {
        fmt: client.transform(parent.id, [{"op": "resize", "width": 160}, {"op": "convert", "format": fmt}])
        for fmt in ("jpeg", "png", "webp", "avif", "gif")
    }
    for fmt, child in children.items():
        done = client.wait(child.id, timeout=60)
        assert done.status == Status.READY, (fmt, done.error)
        data = client.download(done.id)
        decoded = PILImage.open(io.BytesIO(data))
        assert (done.format, done.width, done.height, done.nbytes) == (fmt, 160, 120, len(data))
        assert decoded.format == fmt.upper() and decoded.size == (160, 120)


def solid_png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_watermark_by_image_id_published_on_ready(stack: Stack) -> None:
    """Another stored image as the watermark, and ``publish: true`` on the transform."""
    client = stack.client
    base = client.wait(client.upload(solid_png(400, 300, (255, 255, 255)), filename="w.png").id, timeout=60)
    logo = client.wait(client.upload(solid_png(50, 50, (0, 0, 255)), filename="logo.png").id, timeout=60)
    ops = [{"op": "watermark", "image_id": logo.id, "gravity": "southeast", "opacity": 1.0, "scale": 0.25}]
    child = client.transform(base.id, ops, publish=True)
    done = client.wait(child.id, timeout=60)
    assert done.status == Status.READY, done.error
    assert done.public is True and done.url is not None
    served = httpx.get(done.url)
    assert served.status_code == 200 and served.content == client.download(done.id)

    rgb = PILImage.open(io.BytesIO(served.content)).convert("RGB")
    assert rgb.size == (400, 300)
    # a 100 px square (0.25 x 400) in the south-east corner, 6 px margin (2 % of 300)
    assert rgb.getpixel((340, 240)) == (0, 0, 255)
    assert rgb.getpixel((200, 150)) == (255, 255, 255)  # the rest is untouched
    assert rgb.getpixel((397, 297)) == (255, 255, 255)  # the margin
    assert rgb.getpixel((290, 190)) == (255, 255, 255)  # just outside its top-left corner
    assert rgb.getpixel((295, 195)) == (0, 0, 255)  # just inside it

    with stack.other_client() as other:
        theirs = other.wait(other.upload(solid_png(64, 64, (255, 255, 255))).id, timeout=60)
        with pytest.raises(InvalidRequest) as foreign:  # not their logo to use
            other.transform(theirs.id, ops)
    assert foreign.value.field == "operations[0].image_id"
