"""Each shared idea is defined once: a second spelling of it would drift from the first."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import pytest

from jobs.api.schemas import RenderUrlRequest
from jobs.contract.constants import OUTPUT_FORMATS, OutputFormat
from jobs.contract.errors import Conflict, DarkroomError, MediaFailed, UnsupportedMediaType
from jobs.contract.models import Image, ImageError, require_usable
from jobs.contract.operations import Convert
from jobs.contract.payloads import RenderJob
from jobs.contract.states import Status

ROOT = Path(__file__).resolve().parents[2]
# quoted words in a row, comma-separated: a list; spelling out all five formats redefines them
QUOTED_LIST = re.compile(r"""["'][a-z]+["'](?:\s*,\s*["'][a-z]+["'])+""")


def test_the_output_formats_are_spelled_out_once() -> None:
    places = [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}"
        for package in ("jobs", "worker")
        for path in sorted((ROOT / package).rglob("*.py"))
        for text in [path.read_text()]
        for match in QUOTED_LIST.finditer(text)
        if set(re.findall("[a-z]+", match.group())) == set(OUTPUT_FORMATS)
    ]
    assert places == ["jobs/contract/constants.py:47"], places


def test_every_model_takes_its_formats_from_the_one_literal() -> None:
    assert OUTPUT_FORMATS == get_args(OutputFormat) == ("jpeg", "png", "webp", "avif", "gif")
    annotations = [
        Convert.model_fields["format"].annotation,
        RenderJob.model_fields["format"].annotation,
        RenderUrlRequest.model_fields["format"].annotation,
    ]
    assert all(annotation is OutputFormat for annotation in annotations), annotations
    assert Image.model_fields["format"].annotation == OutputFormat | None


def image(status: Status, **fields: Any) -> Image:
    ready = {"format": "jpeg"} if status == Status.READY else {}
    return Image(id="image_" + "a" * 24, name="n", filename="n.jpg", status=status, **(ready | fields))


@pytest.mark.parametrize(
    ("source", "error", "message"),
    [
        (image(Status.PROCESSING), Conflict, "The parent image is still processing."),
        (image(Status.FAILED), MediaFailed, "The parent image failed: it cannot be used"),
        (
            image(Status.FAILED, error=ImageError(code="media_failed", message="not an image")),
            MediaFailed,
            "The parent image failed: not an image",
        ),
        (image(Status.READY, format=None), MediaFailed, "The parent image failed: it cannot be used"),
        (
            image(Status.READY, transformable=False),
            UnsupportedMediaType,
            "The parent image cannot be transformed.",
        ),
    ],
)
def test_one_check_says_why_an_image_cannot_be_a_source(
    source: Image, error: type[DarkroomError], message: str
) -> None:
    with pytest.raises(error) as raised:
        require_usable(source, "parent")
    assert type(raised.value) is error and raised.value.message == message


def test_a_ready_image_is_usable_and_its_master_format_is_returned() -> None:
    assert require_usable(image(Status.READY, format="webp")) == "webp"
