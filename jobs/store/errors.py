"""Translate redis-py exceptions into the project's error tree, at the edge."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis

from jobs.errors import BrokerUnavailable


@contextmanager
def redis_errors() -> Iterator[None]:
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as exc:
        raise BrokerUnavailable() from exc
    except redis.ResponseError as exc:
        if "LOADING" in str(exc) or "MASTERDOWN" in str(exc) or "READONLY" in str(exc):
            raise BrokerUnavailable() from exc
        raise
