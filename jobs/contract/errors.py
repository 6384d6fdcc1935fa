"""Darkroom's error tree: one flat module, like Dramatiq's ``errors.py``.

Every error carries the public ``code`` and HTTP ``status`` of the error model
(docs/design.md §4) and whether it is ``transient`` (worth retrying) or permanent.
Foreign exceptions (redis, botocore, OSError, Pillow) are translated into these
at the edge that caught them; nothing else crosses module boundaries.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DarkroomError(Exception):
    """Base of every error Darkroom raises on purpose."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    transient: ClassVar[bool] = False
    default_message: ClassVar[str] = "Internal error."

    def __init__(self, message: str | None = None, *, field: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.field = field
        self.details = details
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        """The public error body: ``{"status", "error", "message"}`` (+ ``field``)."""
        body: dict[str, Any] = {"status": self.status, "error": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


# --- caller errors (4xx) -------------------------------------------------------------------------


class InvalidRequest(DarkroomError):
    code, status, default_message = "invalid_request", 400, "The request is invalid."


class Unauthorized(DarkroomError):
    code, status, default_message = "unauthorized", 401, "A valid API key is required."


class Forbidden(DarkroomError):
    code, status, default_message = "forbidden", 403, "Not allowed."


class MediaBlocked(DarkroomError):
    code, status, default_message = "media_blocked", 403, "This media is blocked."


class NotFound(DarkroomError):
    code, status, default_message = "not_found", 404, "Not found."


class Conflict(DarkroomError):
    code, status, default_message = "conflict", 409, "The resource is in a conflicting state."


class TooLarge(DarkroomError):
    code, status, default_message = "too_large", 413, "The input is too large."


class UnsupportedMediaType(DarkroomError):
    code, status, default_message = "unsupported_media_type", 415, "This media type is not supported."


class MediaFailed(DarkroomError):
    code, status, default_message = "media_failed", 422, "The media could not be processed."


class SourceUnreachable(DarkroomError):
    """The source URL could not be fetched (refused, 4xx, too slow, forbidden address)."""

    code, status, default_message = "source_unreachable", 422, "The source URL could not be fetched."


class SourceUnresolvable(SourceUnreachable):
    """DNS could not resolve the host: often temporary, so worth retrying."""

    default_message = "The source host could not be resolved."
    transient = True


class RateLimited(DarkroomError):
    code, status, default_message = "rate_limited", 429, "Too many requests."

    def __init__(self, message: str | None = None, *, retry_after: float = 1.0) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


# --- server side ---------------------------------------------------------------------------------


class Internal(DarkroomError):
    code, status, default_message = "internal", 500, "Internal error."


class JobTimeout(DarkroomError):
    """A job ran past ``JOB_TIME_LIMIT``."""

    code, status, default_message = "timeout", 504, "The job ran out of time."


class Unavailable(DarkroomError):
    """A dependency (Redis, storage, network) is down: retry later."""

    code, status, default_message = "unavailable", 503, "A backing service is unavailable; retry later."
    transient = True


class BrokerUnavailable(Unavailable):
    default_message = "Redis is unavailable; retry later."


class StorageUnavailable(Unavailable):
    default_message = "Object storage is unavailable; retry later."


class StorageError(DarkroomError):
    """Storage refused an operation for a reason retrying will not fix (e.g. access denied)."""

    code, status, default_message = "internal", 500, "Object storage refused the operation."


class ObjectNotFound(NotFound):
    """A storage key does not exist."""

    default_message = "Object not found in storage."


class ConfigError(DarkroomError):
    """A setting is missing, malformed or contradicts another: Darkroom cannot run as configured.

    The operator's mistake, not the caller's (so not an HTTP 4xx): entry points exit 2 with
    ``darkroom: {setting}: {message}``; should one ever reach a request it is a 500 ``internal``.
    ``setting`` (also ``field``) is the variable to fix, e.g. ``DARKROOM_STORAGE_URL``.
    """

    code, status, default_message = "internal", 500, "Darkroom is misconfigured."

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}", field=setting)
        self.setting = setting


ERRORS_BY_CODE: dict[str, type[DarkroomError]] = {
    cls.code: cls
    for cls in (
        InvalidRequest,
        Unauthorized,
        Forbidden,
        MediaBlocked,
        NotFound,
        Conflict,
        TooLarge,
        UnsupportedMediaType,
        MediaFailed,
        SourceUnreachable,
        RateLimited,
        Internal,
        JobTimeout,
        Unavailable,
    )
}


# HTTP status → public code; where several classes share a status (403, 422) the first listed
# above is the general one (``forbidden``, ``media_failed``)
CODE_BY_STATUS: dict[int, str] = {}
for _cls in ERRORS_BY_CODE.values():
    CODE_BY_STATUS.setdefault(_cls.status, _cls.code)


def error_from_body(status: int, body: Any) -> DarkroomError:
    """Rebuild the exception from a public error body (used by the HTTP clients)."""
    if isinstance(body, dict):
        code = str(body.get("error", ""))
        message = str(body.get("message", "")) or None
        field = body.get("field")
    else:
        code, message, field = "", None, None
    cls = ERRORS_BY_CODE.get(code) or ERRORS_BY_CODE.get(CODE_BY_STATUS.get(status, ""), Internal)
    if cls is RateLimited:
        return RateLimited(message)
    err = cls(message, field=field if isinstance(field, str) else None)
    if isinstance(body, dict):
        err.details["body"] = body
    return err
