"""The options of a new image, defined once; every surface that takes them derives from here.

The JSON bodies of ``POST /v1/images`` and ``POST /v1/images/{id}/transform`` extend
:class:`ImageOptions`; the raw upload's query parameters and the multipart form fields are the
text spelling of these models (:mod:`jobs.api.upload_text`); the Python client sends these names
(:func:`as_text`); :class:`jobs.services.intake.Intake` receives an :class:`UploadOptions`. The OpenAPI
document is generated from them, and a test compares the two.

The models hold what a type can say (names, types, lengths). The rules it cannot (metadata
limits, an http(s) callback, an expiry in the future) are checked by the intake, once, whichever
way the options arrived.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from jobs.contract.models import MAX_CAPTION_CHARS, MAX_NAME_CHARS

MAX_URL_CHARS = 4096
MAX_FILENAME_CHARS = 4096  # what a caller may send; the intake keeps a base name of MAX_NAME_CHARS


class ImageOptions(BaseModel):
    """What a caller may say about any new image (uploaded, fetched or transformed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_NAME_CHARS,
        description="Display name (default: the file name without extension).",
        examples=["hero"],
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="JSON object of your own fields.", examples=[{"campaign": "spring"}]
    )
    publish: bool = Field(default=False, description="Publish when ready.")
    callback_url: str | None = Field(
        default=None,
        max_length=MAX_URL_CHARS,
        description="http(s) URL that receives the Image on ready or failed.",
    )
    expires_at: datetime | None = Field(
        default=None, description="ISO-8601 date-time with a timezone, in the future."
    )
    caption: str | None = Field(default=None, max_length=MAX_CAPTION_CHARS, description="Caption (alt text).")


class UploadOptions(ImageOptions):
    """The options of an upload: those of any image, and the name of the file it came as."""

    filename: str | None = Field(
        default=None,
        max_length=MAX_FILENAME_CHARS,
        description="The original file name (its base name is kept, cut to 255 characters).",
    )


def as_text(options: Mapping[str, Any]) -> dict[str, str]:
    """Options as query parameters or form fields: the spelling the text surfaces parse back.

    Unset (``None``) options are left out; the server's defaults apply.
    """
    unknown = sorted(set(options) - set(UploadOptions.model_fields))
    if unknown:
        raise TypeError(f"unknown upload options: {', '.join(unknown)}")
    text: dict[str, str] = {}
    for name, value in options.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text[name] = "true" if value else "false"
        elif isinstance(value, datetime):
            text[name] = value.isoformat()
        elif isinstance(value, dict | list):
            text[name] = json.dumps(value)
        else:
            text[name] = str(value)
    return text
