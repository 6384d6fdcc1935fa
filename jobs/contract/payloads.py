"""Job payloads: what travels in a Dramatiq message. Ids and parameters only, never bytes.

Each payload class names its actor (``kind``) and queue. ``job_id`` is the attempt
token: a job that owns an image's ``processing`` state only completes the image if the
record still points at it, so a late or redelivered message can never overwrite newer state.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from jobs.contract.constants import OutputFormat, Queue
from jobs.contract.errors import InvalidRequest
from jobs.contract.ids import ID_PATTERN


def _http_url(value: str) -> str:
    if not value.lower().startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL")
    return value


HttpUrlText = Annotated[str, Field(max_length=4096), AfterValidator(_http_url)]
ImageId = Annotated[str, Field(pattern=ID_PATTERN.pattern)]
Account = Annotated[str, Field(min_length=1, max_length=128)]
Checksum = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Digest = Annotated[str, Field(pattern=r"^[0-9a-f]{16,64}$")]
RENDER_PATH = r"^/render/[A-Za-z0-9_-]+/[A-Za-z0-9_-]*/image_[a-z2-7]{24}\.[a-z]+$"


class JobPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ClassVar[str]
    queue: ClassVar[Queue]

    job_id: str = Field(min_length=1, max_length=64)

    def to_message_args(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.model_dump(mode="json")}

    @property
    def log_context(self) -> dict[str, Any]:
        return {"job": self.kind, "queue": self.queue.value}


class ImageJob(JobPayload):
    """A job about one image of one account."""

    owns_image: ClassVar[bool] = False  # True: it owns the image's processing state (and may fail it)

    image_id: ImageId
    account: Account

    @property
    def log_context(self) -> dict[str, Any]:
        return super().log_context | {"image_id": self.image_id, "account": self.account}


class UploadJob(ImageJob):
    """Staged bytes (``originals/{id}``) or a source URL → master + sizes → ``ready``."""

    kind = "upload"
    queue = Queue.UPLOAD
    owns_image = True

    source_url: HttpUrlText | None = None
    publish: bool = False
    callback_url: HttpUrlText | None = None


class RefreshJob(ImageJob):
    """Re-fetch a URL-sourced image; reprocess it only if its bytes changed (imgix refresh)."""

    kind = "refresh"
    queue = Queue.UPLOAD


class TransformJob(ImageJob):
    """A ready parent's master + an operation pipeline → a new image (this one)."""

    kind = "transform"
    queue = Queue.TRANSFORM
    owns_image = True

    parent_id: ImageId
    operations: list[dict[str, Any]] = Field(min_length=1, max_length=10)
    publish: bool = False
    callback_url: HttpUrlText | None = None


class RenderJob(ImageJob):
    """Render an on-demand derivative into the cache ``derived/{id}/{digest}.{ext}`` (also warmup)."""

    kind = "render"
    queue = Queue.TRANSFORM

    operations: list[dict[str, Any]] = Field(max_length=10)
    format: OutputFormat
    digest: Digest
    path: str = Field(pattern=RENDER_PATH, max_length=4200)


class PublishJob(ImageJob):
    """Copy master + sizes to the public location and set ``url``/``sizes[*].url``."""

    kind = "publish"
    queue = Queue.PUBLISH


class UnpublishJob(ImageJob):
    """Remove the public copies, clear the URLs, purge them from the CDN."""

    kind = "unpublish"
    queue = Queue.PUBLISH


class PurgeJob(JobPayload):
    """Invalidate cached derivatives: one image, listed render URLs, or a whole account."""

    kind = "purge"
    queue = Queue.PURGE

    account: Account
    scope: Literal["image", "urls", "all"]
    image_id: ImageId | None = None
    urls: list[Annotated[str, Field(max_length=4096)]] = Field(default_factory=list, max_length=1000)

    @property
    def log_context(self) -> dict[str, Any]:
        return super().log_context | {"account": self.account, "scope": self.scope, "image_id": self.image_id}


class DeleteJob(ImageJob):
    """Remove every stored object of an image whose record is already gone."""

    kind = "delete"
    queue = Queue.PURGE

    public_urls: list[Annotated[str, Field(max_length=4096)]] = Field(default_factory=list, max_length=10)
    original_checksum: Checksum | None = None
    sweep_again: bool = True  # a second, delayed sweep catches objects written by in-flight jobs


class ExpireJob(JobPayload):
    """Delete every image whose ``expires_at`` has passed (enqueued on a schedule)."""

    kind = "expire"
    queue = Queue.PURGE


class BlockJob(JobPayload):
    """Fail and unpublish every existing image whose original has this SHA-256."""

    kind = "block"
    queue = Queue.PURGE

    checksum: Checksum


class WebhookJob(ImageJob):
    """POST the Image (as it was at its terminal transition) to the caller's callback URL."""

    kind = "webhook"
    queue = Queue.WEBHOOKS

    url: HttpUrlText
    event: Literal["image.ready", "image.failed"]
    image: dict[str, Any]


PAYLOADS: dict[str, type[JobPayload]] = {
    cls.kind: cls
    for cls in (
        UploadJob,
        RefreshJob,
        TransformJob,
        RenderJob,
        PublishJob,
        UnpublishJob,
        PurgeJob,
        DeleteJob,
        ExpireJob,
        BlockJob,
        WebhookJob,
    )
}


def parse_payload(raw: Any) -> JobPayload:
    """Validate a message body on the worker side (a job payload is a public entry point too)."""
    if not isinstance(raw, dict):
        raise InvalidRequest("A job payload must be a JSON object.", field="payload")
    body = dict(raw)
    kind = body.pop("kind", None)
    cls = PAYLOADS.get(str(kind))
    if cls is None:
        raise InvalidRequest(f"Unknown job kind {kind!r}.", field="kind")
    try:
        return cls.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "payload"
        raise InvalidRequest(f"{loc}: {first['msg']}", field=loc) from exc
