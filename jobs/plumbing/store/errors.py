"""Translate redis-py exceptions into the project's error tree, at the edge.

One translation for every Redis caller (the store, the job queue, the API's middleware):

* the connection is gone or slow (connection errors, timeouts), or the server cannot take
  the command *now* — loading its dataset (``LOADING``), a replica during a failover
  (``READONLY``, ``MASTERDOWN``), a script hogging it (``BUSY``), a cluster or replication
  step under way (``TRYAGAIN``, ``CLUSTERDOWN``, ``NOREPLICAS``), out of memory (``OOM``) —
  → :class:`BrokerUnavailable` (503, transient: worth retrying);
* any other Redis error (a wrong type, a script error, a bad reply) → :class:`Internal`
  (500, permanent: retrying will not fix a bug).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import redis

from jobs.contract.errors import BrokerUnavailable, DarkroomError, Internal

# error codes of a reply (its first word) that mean "not now", not "never"
TRANSIENT_REPLIES: Final = frozenset(
    {"LOADING", "READONLY", "MASTERDOWN", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS", "OOM"}
)
_WRAPPED_REPLIES: Final = ("LOADING", "READONLY", "MASTERDOWN")
# redis-py strips the code of the replies it knows from the message; the class still says it
_TRANSIENT_CLASSES: Final = (
    redis.ConnectionError,  # includes BusyLoadingError (LOADING), MaxConnectionsError
    redis.TimeoutError,
    redis.exceptions.ReadOnlyError,
    redis.exceptions.TryAgainError,
    redis.exceptions.ClusterDownError,  # includes MasterDownError
    redis.exceptions.OutOfMemoryError,
)


def reply_code(exc: redis.RedisError) -> str:
    """The error code of a Redis reply (``READONLY``, ``WRONGTYPE``…), or ``""``."""
    code = getattr(exc, "status_code", None)  # redis-py ≥ 8 keeps it; older ones leave it in the text
    if code:
        return str(code)
    first = str(exc).split(" ", 1)[0]
    return first if first.isupper() else ""


def is_transient(exc: redis.RedisError) -> bool:
    if isinstance(exc, _TRANSIENT_CLASSES) or reply_code(exc) in TRANSIENT_REPLIES:
        return True
    # a script's call that failed this way: older servers wrap the reply in "ERR Error running script"
    return isinstance(exc, redis.ResponseError) and any(code in str(exc) for code in _WRAPPED_REPLIES)


def translate_redis_error(exc: redis.RedisError) -> DarkroomError:
    if is_transient(exc):
        return BrokerUnavailable()
    return Internal(f"Redis refused a command ({reply_code(exc) or type(exc).__name__}).")


@contextmanager
def redis_errors() -> Iterator[None]:
    """Any ``redis.RedisError`` raised inside becomes :func:`translate_redis_error`'s answer."""
    try:
        yield
    except redis.RedisError as exc:
        raise translate_redis_error(exc) from exc
