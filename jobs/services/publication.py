"""Where published files live and the URLs they get (docs/design.md §7: ``public/{id}/...``).

``PUBLIC_BASE_URL`` defaults to ``{api}/files``: the API serves ``public/`` from either
storage (``jobs.api.routes.files``). In production with S3, point it at the bucket's
``public/`` path (or a CDN in front of it); ``{PUBLIC_BASE_URL}/{id}/master.jpg`` is then
the object ``[prefix/]public/{id}/master.jpg`` (docs/operations.md has the bucket policy).
"""

from __future__ import annotations

from datetime import datetime

from jobs.contract.constants import FORMAT_EXTENSIONS, SIZES, master_key, public_prefix, size_key
from jobs.contract.models import Image
from jobs.contract.settings import Settings

PUBLIC_ROOT = "public/"


def public_base_url(settings: Settings) -> str:
    return (settings.public_base_url or f"{settings.client_base_url}/files").rstrip("/")


def public_master_key(image_id: str, fmt: str) -> str:
    return f"{public_prefix(image_id)}master.{FORMAT_EXTENSIONS[fmt]}"


def public_size_key(image_id: str, size: str, fmt: str) -> str:
    return f"{public_prefix(image_id)}{size}.{FORMAT_EXTENSIONS[fmt]}"


def copies(image: Image) -> list[tuple[str, str]]:
    """(private key, public key) for the master and each stored size of a ready image."""
    fmt = image.format
    if fmt is None:
        return []
    pairs = [(master_key(image.id, fmt), public_master_key(image.id, fmt))]
    pairs += [
        (size_key(image.id, s, fmt), public_size_key(image.id, s, fmt)) for s in SIZES if s in image.sizes
    ]
    return pairs


def url_for(settings: Settings, public_key: str) -> str:
    return f"{public_base_url(settings)}/{public_key.removeprefix(PUBLIC_ROOT)}"


def public_urls(image: Image) -> list[str]:
    """Every URL an image is (or was) published under: master and sizes."""
    urls = [image.url] if image.url else []
    return urls + [v.url for v in image.sizes.values() if v.url]


def published(settings: Settings, image: Image, now: datetime) -> dict[str, object]:
    """The Image fields of a published image (feed to ``Image.evolve``)."""
    assert image.format is not None
    sizes = {
        name: v.model_copy(update={"url": url_for(settings, public_size_key(image.id, name, image.format))})
        for name, v in image.sizes.items()
    }
    return {
        "public": True,
        "url": url_for(settings, public_master_key(image.id, image.format)),
        "published_at": image.published_at or now,
        "sizes": sizes,
    }


def unpublished(image: Image) -> dict[str, object]:
    sizes = {name: v.model_copy(update={"url": None}) for name, v in image.sizes.items()}
    return {"public": False, "url": None, "published_at": None, "sizes": sizes}
