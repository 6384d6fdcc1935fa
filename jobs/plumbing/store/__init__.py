"""Image records in Redis: the store, its record type and listing."""

from jobs.plumbing.store.image_store import ImageStore
from jobs.plumbing.store.listing import ListQuery, Page, list_images
from jobs.plumbing.store.records import Record

__all__ = ["ImageStore", "ListQuery", "Page", "Record", "list_images"]
