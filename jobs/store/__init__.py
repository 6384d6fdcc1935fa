"""Image records in Redis: the store, its record type and listing."""

from jobs.store.image_store import ImageStore
from jobs.store.listing import ListQuery, Page, list_images
from jobs.store.records import Record

__all__ = ["ImageStore", "ListQuery", "Page", "Record", "list_images"]
