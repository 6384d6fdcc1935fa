"""Every name shared between producers, workers and ops: queues, Redis keys, storage keys.

Nothing else in the code base spells a key prefix; it asks this module.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal, get_args

NAMESPACE: Final = "darkroom"


class Queue(StrEnum):
    """Dramatiq queue names (docs/design.md §3). Ops select pools by the short name (``--queues upload``)."""

    UPLOAD = "darkroom.upload"
    TRANSFORM = "darkroom.transform"
    PUBLISH = "darkroom.publish"
    PURGE = "darkroom.purge"
    WEBHOOKS = "darkroom.webhooks"

    @property
    def short(self) -> str:
        return self.value.removeprefix(f"{NAMESPACE}.")

    @classmethod
    def parse(cls, name: str) -> Queue:
        """Accept ``upload`` as well as ``darkroom.upload``."""
        full = name if name.startswith(f"{NAMESPACE}.") else f"{NAMESPACE}.{name}"
        try:
            return cls(full)
        except ValueError:
            known = ", ".join(q.short for q in cls)
            raise ValueError(f"unknown queue {name!r} (known: {known})") from None


# --- responsive sizes (docs/design.md §2): fit inside, never enlarged ---------------------------------------

SIZES: Final[dict[str, tuple[int, int]]] = {
    "small": (426, 320),
    "medium": (853, 640),
    "large": (1440, 1080),
}

# The one definition of the output formats: a type for models, a tuple for loops and checks.
OutputFormat = Literal["jpeg", "png", "webp", "avif", "gif"]
OUTPUT_FORMATS: Final[tuple[OutputFormat, ...]] = get_args(OutputFormat)
FORMAT_EXTENSIONS: Final[dict[str, str]] = {
    "jpeg": "jpg",
    "png": "png",
    "webp": "webp",
    "avif": "avif",
    "gif": "gif",
}
CONTENT_TYPES: Final[dict[str, str]] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "avif": "image/avif",
    "gif": "image/gif",
}
EXTENSION_FORMATS: Final[dict[str, str]] = {"jpg": "jpeg", "jpeg": "jpeg"} | {
    ext: fmt for fmt, ext in FORMAT_EXTENSIONS.items() if ext != "jpg"
}

# --- Redis keys (docs/design.md §8) -------------------------------------------------------------------------

EVENTS_KEY: Final = f"{NAMESPACE}:events"
EVENTS_MAXLEN: Final = 100_000
WORKERS_KEY: Final = f"{NAMESPACE}:workers"
IMAGE_COUNTS_KEY: Final = f"{NAMESPACE}:stats:images"  # hash status → number of records
DEADLINES_KEY: Final = f"{NAMESPACE}:deadlines"  # zset: processing images by reaper deadline
EXPIRIES_KEY: Final = f"{NAMESPACE}:expiries"  # zset: images by expires_at


def image_key(image_id: str) -> str:
    return f"{NAMESPACE}:image:{image_id}"


def account_images_key(account: str) -> str:
    return f"{NAMESPACE}:account:{account}:images"


def account_names_key(account: str) -> str:
    """Lexical index ``{lower(name)}\x00{id}`` for listing sorted by name."""
    return f"{NAMESPACE}:account:{account}:names"


def name_index_member(name: str, image_id: str) -> str:
    return f"{name.lower()}\x00{image_id}"


def idempotency_key(account: str, key: str) -> str:
    return f"{NAMESPACE}:idem:{account}:{key}"


BLOCKLIST_KEY: Final = f"{NAMESPACE}:blocklist"  # set of sha256 hex of blocked originals


def originals_index_key(checksum: str) -> str:
    """Set of image ids whose original bytes have this sha256 (for the blocklist)."""
    return f"{NAMESPACE}:originals:{checksum}"


def render_lock_key(image_id: str, digest: str) -> str:
    return f"{NAMESPACE}:render:lock:{image_id}:{digest}"


def render_error_key(image_id: str, digest: str) -> str:
    return f"{NAMESPACE}:render:error:{image_id}:{digest}"


def rendered_paths_key(image_id: str) -> str:
    """Hash digest → render path of every cached derivative (so purges can tell the CDN)."""
    return f"{NAMESPACE}:render:paths:{image_id}"


PURGE_TTL_S: Final = 7 * 86400  # how long GET /v1/purge/{id} remembers a purge


def purge_key(purge_id: str) -> str:
    """JSON status of one purge: ``queued`` when accepted, the worker's result once done."""
    return f"{NAMESPACE}:purge:{purge_id}"


def schedule_lock_key(name: str) -> str:
    return f"{NAMESPACE}:schedule:{name}"


def queue_trend_key(queue: str, minute: int) -> str:
    """One queue's jobs done/failed and duration buckets in one minute (Unix minutes)."""
    return f"{NAMESPACE}:stats:{queue}:{minute}"


WEBHOOK_ATTEMPTS_MAX: Final = 100
WEBHOOK_ATTEMPTS_TTL_S: Final = 7 * 24 * 3600


def webhook_attempts_key(image_id: str) -> str:
    """Redis list of webhook delivery attempts for one image, newest first."""
    return f"{NAMESPACE}:webhooks:{image_id}"


def worker_key(worker_id: str) -> str:
    return f"{NAMESPACE}:workers:{worker_id}"


# --- storage keys (docs/design.md §7): identical for the local directory and S3 -----------------------------


def original_key(image_id: str) -> str:
    return f"originals/{image_id}"


def master_key(image_id: str, fmt: str) -> str:
    return f"images/{image_id}/master.{FORMAT_EXTENSIONS[fmt]}"


def size_key(image_id: str, size: str, fmt: str) -> str:
    return f"images/{image_id}/{size}.{FORMAT_EXTENSIONS[fmt]}"


def images_prefix(image_id: str) -> str:
    return f"images/{image_id}/"


def derived_key(image_id: str, digest: str, fmt: str) -> str:
    return f"derived/{image_id}/{digest}.{FORMAT_EXTENSIONS[fmt]}"


def derived_prefix(image_id: str) -> str:
    return f"derived/{image_id}/"


def public_prefix(image_id: str) -> str:
    return f"public/{image_id}/"


def image_prefixes(image_id: str) -> tuple[str, ...]:
    """Every storage prefix that can hold objects of one image (used by delete)."""
    return (images_prefix(image_id), derived_prefix(image_id), public_prefix(image_id))


def record_key(image_id: str) -> str:
    return f"records/{image_id}.json"


RECORDS_PREFIX: Final = "records/"


DEFAULT_RETAIN_MB: Final = 256  # MALLOC_RETAIN_MB's default: freed memory kept for reuse (runtime/malloc.py)
