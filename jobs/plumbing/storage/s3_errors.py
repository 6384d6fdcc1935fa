"""Translate botocore / aiohttp / timeout exceptions into Darkroom's error tree (S3 backend).

=========================================================  ======================================
raised by botocore / aiohttp                               raised by ``S3Storage``
=========================================================  ======================================
``ClientError`` NoSuchKey, 404, NotFound                   ``ObjectNotFound`` (``head`` → ``None``)
``ClientError`` NoSuchBucket                               ``StorageError`` naming the bucket
``ClientError`` SlowDown, throttling, RequestTimeout,      ``StorageUnavailable``
InternalError, ServiceUnavailable, any 5xx or 429
``ClientError`` AccessDenied, InvalidAccessKeyId,          ``StorageError`` naming bucket and key
SignatureDoesNotMatch, any other 4xx
per-key ``Errors`` of a ``DeleteObjects`` response         the same, by the first error's code
``EndpointConnectionError``, ``ConnectTimeoutError``,      ``StorageUnavailable``
``ConnectionClosedError``, ``ReadTimeoutError``,
``ResponseStreamingError``, ``IncompleteReadError``,
``ProxyConnectionError``, ``aiohttp.ClientError``,
``asyncio.TimeoutError`` (incl. ``operation_timeout``),
``OSError``
``SSLError``, ``NoCredentialsError``, any other            ``StorageError``
``BotoCoreError``; ``ValueError`` while opening
=========================================================  ======================================
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import aiohttp
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, IncompleteReadError, SSLError
from botocore.exceptions import ConnectionError as BotoConnectionError

from jobs.contract.errors import DarkroomError, ObjectNotFound, StorageError, StorageUnavailable

NOT_FOUND_CODES: Final = frozenset({"NoSuchKey", "404", "NotFound"})
TRANSIENT_CODES: Final = frozenset(
    {
        "SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
        "RequestLimitExceeded", "TooManyRequestsException", "RequestTimeout", "RequestTimeoutException",
        "InternalError", "ServiceUnavailable", "503", "500", "OperationAborted",
    }
)  # fmt: skip


def translate_s3_error(exc: BaseException, *, bucket: str, key: str, root: str = "") -> DarkroomError | None:
    """The Darkroom error for a botocore/aiohttp/timeout exception (see the table), else ``None``.

    ``key`` is the storage key, ``root`` the bucket prefix it lives under (``"prefix/"``).
    """
    where = f"s3://{bucket}/{root}{key}"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = str(error.get("Message", "")) or code
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code == "NoSuchBucket":
            return StorageError(f"S3 bucket {bucket!r} does not exist", bucket=bucket, code=code)
        if code in NOT_FOUND_CODES:
            return ObjectNotFound(f"no object at {key!r}", key=key)
        if code in TRANSIENT_CODES or status >= 500 or status == 429:
            return StorageUnavailable(f"S3 unavailable ({code}) for {where}", bucket=bucket, code=code)
        return StorageError(f"S3 refused {where} (bucket {bucket!r}): {code}: {message}", code=code)
    if isinstance(exc, SSLError):
        return StorageError(f"TLS error talking to S3 for bucket {bucket!r}: {exc}", bucket=bucket)
    if isinstance(exc, HTTPClientError | BotoConnectionError | IncompleteReadError):
        return StorageUnavailable(f"S3 unreachable for {where}: {exc}", bucket=bucket)
    if isinstance(exc, BotoCoreError):
        return StorageError(f"S3 client error for bucket {bucket!r}: {exc}", bucket=bucket)
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        reason = str(exc) or type(exc).__name__
        return StorageUnavailable(f"S3 unreachable for {where}: {reason}", bucket=bucket)
    return None


def delete_objects_error(errors: list[dict[str, Any]], *, bucket: str) -> DarkroomError:
    """The error for the per-key ``Errors`` of a ``DeleteObjects`` answer (judged by the first one)."""
    first = errors[0]
    error = {"Code": str(first.get("Code", "")), "Message": str(first.get("Message", ""))}
    translated = translate_s3_error(
        ClientError({"Error": error}, "DeleteObjects"), bucket=bucket, key=str(first.get("Key", ""))
    )
    if translated is None or isinstance(translated, ObjectNotFound):  # cannot happen; be safe
        return StorageError(f"S3 could not delete {len(errors)} objects in bucket {bucket!r}", bucket=bucket)
    return translated
