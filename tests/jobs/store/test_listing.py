"""Listing: sort orders, filters, cursors stable under concurrent inserts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobs.contract.errors import InvalidRequest
from jobs.contract.ids import new_image_id
from jobs.contract.models import Image, ImageError
from jobs.contract.states import Status
from jobs.plumbing.store import ImageStore, ListQuery, Record, list_images

Runner = Callable[..., Any]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def add(store: ImageStore, name: str, offset_ms: int, account: str = "acme", **fields: Any) -> Record:
    image = Image(
        id=new_image_id(),
        name=name,
        filename=name,
        created_at=T0 + timedelta(milliseconds=offset_ms),
        **fields,
    )
    return await store.create(Record(image=image, account=account))


async def walk(store: ImageStore, account: str, **query: Any) -> list[str]:
    names: list[str] = []
    cursor = None
    while True:
        page = await list_images(store, account, ListQuery(cursor=cursor, **query))
        names += [i.name for i in page.data]
        if page.next_cursor is None:
            return names
        cursor = page.next_cursor


async def test_sort_orders_and_paging(store: ImageStore) -> None:
    for i, name in enumerate(["delta", "Alpha", "charlie", "bravo", "echo"]):
        await add(store, name, i)
    await add(store, "other-account", 99, account="globex")
    assert await walk(store, "acme", limit=2) == ["echo", "bravo", "charlie", "Alpha", "delta"]
    assert await walk(store, "acme", limit=2, sort="created_at") == [
        "delta",
        "Alpha",
        "charlie",
        "bravo",
        "echo",
    ]
    assert await walk(store, "acme", limit=3, sort="name") == [
        "Alpha",
        "bravo",
        "charlie",
        "delta",
        "echo",
    ]
    assert await walk(store, "acme", limit=1, sort="-name") == [
        "echo",
        "delta",
        "charlie",
        "bravo",
        "Alpha",
    ]


async def test_ties_on_created_at_are_neither_skipped_nor_repeated(store: ImageStore) -> None:
    for i in range(7):
        await add(store, f"same-{i}", 5)  # identical timestamps
    await add(store, "later", 6)
    desc = await walk(store, "acme", limit=2)
    asc = await walk(store, "acme", limit=3, sort="created_at")
    assert len(desc) == 8 and len(set(desc)) == 8 and desc[0] == "later"
    assert asc == list(reversed(desc))


async def test_failed_only_when_filtered_and_name_substring(store: ImageStore) -> None:
    await add(store, "Sunset beach", 1, status=Status.READY)
    await add(store, "sunrise", 2)
    await add(
        store,
        "broken sunset",
        3,
        status=Status.FAILED,
        error=ImageError(code="media_failed", message="x"),
    )
    assert await walk(store, "acme") == ["sunrise", "Sunset beach"]
    assert await walk(store, "acme", status=Status.FAILED) == ["broken sunset"]
    assert await walk(store, "acme", name="SUNSET") == ["Sunset beach"]
    assert await walk(store, "acme", name="sun", status=Status.PROCESSING) == ["sunrise"]


async def test_concurrent_inserts_do_not_disturb_a_walk(store: ImageStore) -> None:
    originals = [f"img-{i:03d}" for i in range(60)]
    for i, name in enumerate(originals):
        await add(store, name, i)
    seen: list[str] = []
    cursor = None
    n = 1000
    while True:
        page = await list_images(store, "acme", ListQuery(limit=7, cursor=cursor))
        seen += [i.name for i in page.data]
        # new images arrive between pages (newer than everything: land before the cursor)
        await asyncio.gather(*(add(store, f"new-{n + k}", 10_000 + n + k) for k in range(3)))
        n += 3
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen))
    assert [s for s in seen if s.startswith("img-")] == list(reversed(originals))


async def test_bad_cursor_and_limits_are_rejected(store: ImageStore) -> None:
    for bad in ("!!!", "eyJzIjoibmFtZSJ9", "e30"):
        with pytest.raises(InvalidRequest) as info:
            await list_images(store, "acme", ListQuery(cursor=bad))
        assert info.value.field == "cursor"
    with pytest.raises(InvalidRequest):
        await list_images(store, "acme", ListQuery(limit=101))
