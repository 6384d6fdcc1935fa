"""The imaging core's edge: Pillow's size errors are ``too_large``; a failure lets go of its pixels."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
from PIL import Image as PILImage

from jobs.contract.errors import TooLarge
from jobs.contract.operations import validate_operations
from tests.support.imaging import encode
from worker.imaging import Limits, process_transform, process_upload, render

FLIP = validate_operations([{"op": "flip"}])


def failing_transpose(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> list[Any]:
    """Make every ``Image.transpose`` (the flip op, upload orientation) raise ``error``; the
    images it was called on are recorded (weakly)."""
    seen: list[Any] = []

    def transpose(self: PILImage.Image, method: Any) -> PILImage.Image:
        seen.append(weakref.ref(self))
        raise error

    monkeypatch.setattr(PILImage.Image, "transpose", transpose)
    return seen


@pytest.mark.parametrize(
    "error",
    [
        PILImage.DecompressionBombError("Image size (525504000 pixels) exceeds limit of 178956970 pixels"),
        PILImage.DecompressionBombWarning("Image size (100000000 pixels) exceeds limit of 89478485 pixels"),
        MemoryError(),
        ValueError("Width too large"),
        OverflowError("Python int too large to convert to C int"),
    ],
    ids=["bomb", "bomb-warning-as-error", "memory", "width", "overflow"],
)
def test_pillow_size_errors_are_too_large_and_permanent(
    error: BaseException, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing_transpose(monkeypatch, error)
    data = encode(PILImage.new("RGB", (32, 32)), "PNG")
    for call in (
        lambda: process_transform(data, FLIP, Limits(), threads=1),
        lambda: render(data, FLIP, Limits()),
    ):
        with pytest.raises(TooLarge) as caught:
            call()
        assert caught.value.code == "too_large" and not caught.value.transient
        assert caught.value.to_dict()["status"] == 413
    failing_transpose(monkeypatch, ValueError("box can't exceed original image size"))
    with pytest.raises(ValueError, match="box can't exceed"):  # not every ValueError is about size
        render(data, FLIP, Limits())


def test_the_upload_entry_point_is_translated_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PILImage.Image, "resize", lambda *a, **k: (_ for _ in ()).throw(MemoryError()))
    with pytest.raises(TooLarge):
        process_upload(encode(PILImage.new("RGB", (3000, 2000)), "PNG"), Limits(), threads=1)


def test_a_failure_does_not_keep_its_images_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoever keeps the exception (a retry's bookkeeping, a future) must not keep the pixels:
    the frames its traceback unwound through are cleared at the edge."""
    seen = failing_transpose(monkeypatch, RuntimeError("unexpected"))
    data = encode(PILImage.new("RGB", (64, 64)), "PNG")
    with pytest.raises(RuntimeError) as caught:
        render(data, FLIP, Limits())
    gc.collect()
    assert caught.value.__traceback__ is not None  # the exception (and its traceback) is still held...
    assert seen and all(ref() is None for ref in seen)  # ...but not the images
