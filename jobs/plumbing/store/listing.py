"""Per-account listing with opaque cursors, stable under concurrent inserts.

Two indexes per account: ``…:images`` (score = created_at ms) and ``…:names``
(lexical ``{lower(name)}\\x00{id}``). A cursor is the exact position of the last item
returned, and every page is fetched strictly after it, never by offset, so items
inserted meanwhile can neither repeat nor push others out of the walk.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from jobs.contract.constants import account_images_key, account_names_key
from jobs.contract.errors import InvalidRequest
from jobs.contract.models import Image
from jobs.contract.states import Status
from jobs.plumbing.store.errors import redis_errors
from jobs.plumbing.store.image_store import ImageStore, is_expired

Sort = Literal["created_at", "-created_at", "name", "-name"]
SORTS: tuple[str, ...] = ("created_at", "-created_at", "name", "-name")
MAX_LIMIT = 100
ScoredRows = list[tuple[bytes, float]]


@dataclass(frozen=True, slots=True)
class ListQuery:
    limit: int = 20
    cursor: str | None = None
    sort: Sort = "-created_at"
    name: str | None = None  # case-insensitive substring
    status: Status | None = None  # failed images only appear when asked for


@dataclass(frozen=True, slots=True)
class Page:
    data: list[Image]
    next_cursor: str | None


def encode_cursor(sort: str, position: Any) -> str:
    raw = json.dumps({"s": sort, "p": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# Scores are created_at in epoch milliseconds (exact in a double); ids and names are short.
Score = Annotated[int, Field(strict=True, ge=0, le=2**53)]
ScorePosition = tuple[Score, Annotated[str, Field(max_length=128)]]
NamePosition = Annotated[str, Field(max_length=1024)]


class _Cursor(BaseModel):
    """What a cursor decodes to: the sort it belongs to and the last position returned."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    s: Sort
    p: ScorePosition | NamePosition


CURSOR: TypeAdapter[_Cursor] = TypeAdapter(_Cursor)


def decode_cursor(cursor: str, sort: str) -> Any:
    """The position a cursor of ``sort`` names; InvalidRequest for anything it could not have
    been (another sort's, edited, random): only the listing's own shapes reach Redis."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        body = CURSOR.validate_json(raw)
        by_name = sort.lstrip("-") == "name"
        if body.s != sort or isinstance(body.p, str) != by_name:
            raise ValueError("cursor belongs to another sort order")
    except (ValueError, binascii.Error) as exc:  # pydantic's ValidationError is a ValueError
        raise InvalidRequest("cursor is invalid for this listing.", field="cursor") from exc
    return body.p if by_name else list(body.p)


async def _after_score(store: ImageStore, key: str, position: Any, desc: bool, n: int) -> list[Any]:
    """Up to n (id, score) strictly after position in (score, id) order."""
    redis = store.redis
    out: list[Any] = []
    with redis_errors():
        if position is not None:
            score, last_id = position
            same = cast(ScoredRows, await redis.zrange(key, score, score, byscore=True, withscores=True))
            ties = [(m.decode(), s) for m, s in same]
            ties.sort(key=lambda t: t[0], reverse=desc)
            out = [t for t in ties if (t[0] < last_id if desc else t[0] > last_id)][:n]
            bound: Any = f"({score}"
        else:
            bound = "+inf" if desc else "-inf"
        if len(out) < n:
            end = "-inf" if desc else "+inf"
            rest = cast(
                ScoredRows,
                await redis.zrange(
                    key, bound, end, desc=desc, byscore=True, offset=0, num=n - len(out), withscores=True
                ),
            )
            # REV orders ties reverse-lexically, matching the tie order above.
            out.extend((m.decode(), s) for m, s in rest)
    return out


async def _walk(
    store: ImageStore, account: str, query: ListQuery, batch: int
) -> AsyncIterator[tuple[str, Any]]:
    """Yield (image_id, position) in the requested order, starting after the cursor."""
    desc = query.sort.startswith("-")
    by_name = query.sort.lstrip("-") == "name"
    position = decode_cursor(query.cursor, query.sort) if query.cursor else None
    while True:
        if by_name:
            key = account_names_key(account)
            start = f"({position}" if position is not None else ("+" if desc else "-")
            with redis_errors():
                members = cast(
                    list[bytes],
                    await store.redis.zrange(
                        key, start, "-" if desc else "+", desc=desc, bylex=True, offset=0, num=batch
                    ),
                )
            rows: list[tuple[str, Any]] = [(m.decode().rsplit("\x00", 1)[1], m.decode()) for m in members]
        else:
            got = await _after_score(store, account_images_key(account), position, desc, batch)
            rows = [(image_id, [int(score), image_id]) for image_id, score in got]
        if not rows:
            return
        for image_id, pos in rows:
            yield image_id, pos
        position = rows[-1][1]
        if len(rows) < batch:
            return


def _matches(image: Image, query: ListQuery) -> bool:
    if is_expired(image):
        return False
    if query.status is None:
        if image.status == Status.FAILED:
            return False
    elif image.status != query.status:
        return False
    return not (query.name and query.name.lower() not in image.name.lower())


async def list_images(store: ImageStore, account: str, query: ListQuery) -> Page:
    if not 1 <= query.limit <= MAX_LIMIT:
        raise InvalidRequest(f"limit must be between 1 and {MAX_LIMIT}.", field="limit")
    if query.sort not in SORTS:
        raise InvalidRequest(f"sort must be one of {', '.join(SORTS)}.", field="sort")
    batch = max(50, query.limit * 2)
    found: list[tuple[Image, Any]] = []
    pending: list[tuple[str, Any]] = []

    async def flush() -> None:
        records = await store.load_many([image_id for image_id, _ in pending])
        for (_, pos), record in zip(pending, records, strict=True):
            if record is not None and record.account == account and _matches(record.image, query):
                found.append((record.image, pos))
        pending.clear()

    async for item in _walk(store, account, query, batch):
        pending.append(item)
        if len(pending) >= batch:
            await flush()
            if len(found) > query.limit:
                break
    if pending and len(found) <= query.limit:
        await flush()
    page = found[: query.limit]
    more = len(found) > query.limit
    next_cursor = encode_cursor(query.sort, page[-1][1]) if more and page else None
    return Page(data=[image for image, _ in page], next_cursor=next_cursor)
