"""structlog set-up shared by every process: JSON in production, console for ``make run``.

Standard-library loggers (Dramatiq, uvicorn, botocore) are routed through the same
processors, so every line has one shape.

No line carries a secret (:mod:`jobs.runtime.redaction`): secret-named fields are masked before
rendering, and the rendered text is scrubbed of every configured secret and of whatever
follows a secret-carrying header name. Console tracebacks never show frame locals: the
frames of a request hold its headers, API key included.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from jobs.contract.settings import Settings
from jobs.runtime.redaction import Redactor, settings_secrets

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


def configure_logging(settings: Settings, *, process: str | None = None) -> None:
    renderer: Any
    if settings.log_format == "console":
        colors = sys.stderr.isatty()
        renderer = structlog.dev.ConsoleRenderer(
            colors=colors,
            exception_formatter=structlog.dev.RichTracebackFormatter(
                show_locals=False, color_system="truecolor" if colors else None
            ),
        )
    else:
        renderer = structlog.processors.JSONRenderer()
    redactor = Redactor(settings_secrets(settings))
    pre_chain = [*_SHARED, redactor.redact_fields]
    if settings.log_format == "json":
        pre_chain.append(structlog.processors.format_exc_info)

    structlog.configure(
        # filter_by_level first: a line below the level costs a level check, not the whole chain
        processors=[
            structlog.stdlib.filter_by_level,
            *pre_chain,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer, redactor.scrub],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for noisy in ("botocore", "aiobotocore", "urllib3", "asyncio", "PIL", "werkzeug"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    if process:
        structlog.contextvars.bind_contextvars(process=process)
