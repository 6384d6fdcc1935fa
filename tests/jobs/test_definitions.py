"""Each shared idea is defined once: a second spelling of it would drift from the first."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from jobs.api.schemas import RenderUrlRequest
from jobs.constants import OUTPUT_FORMATS, OutputFormat
from jobs.models import Image
from jobs.operations import Convert
from jobs.payloads import RenderJob

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
    assert places == ["jobs/constants.py:47"], places


def test_every_model_takes_its_formats_from_the_one_literal() -> None:
    assert OUTPUT_FORMATS == get_args(OutputFormat) == ("jpeg", "png", "webp", "avif", "gif")
    annotations = [
        Convert.model_fields["format"].annotation,
        RenderJob.model_fields["format"].annotation,
        RenderUrlRequest.model_fields["format"].annotation,
    ]
    assert all(annotation is OutputFormat for annotation in annotations), annotations
    assert Image.model_fields["format"].annotation == OutputFormat | None
