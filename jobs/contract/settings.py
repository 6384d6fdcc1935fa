"""The one ``Settings`` object (docs/design.md §6). Built once at start-up, passed explicitly.

No other module reads the environment: entry points (CLI, ``worker.app``, tests)
call :func:`load_settings` and hand the result down.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jobs.contract.constants import DEFAULT_RETAIN_MB
from jobs.contract.errors import ConfigError

MiB = 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DARKROOM_", extra="ignore", frozen=True)

    # --- connections -------------------------------------------------------------------------
    redis_url: str = "redis://127.0.0.1:6379/0"
    storage_url: str = "file://./data"
    storage_fsync: bool = True  # local storage: flush every write to disk (off: atomic, not durable)
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    public_base_url: str | None = None

    # --- security -----------------------------------------------------------------------------
    api_keys: dict[str, str] = Field(default_factory=dict)  # {key: account}
    signing_key: SecretStr = SecretStr("")
    webhook_secret: SecretStr = SecretStr("")
    # account: each account signs with its own secret derived from webhook_secret
    # (jobs/services/webhook_secrets.py);
    # shared: every delivery is signed with webhook_secret itself (one-account deployments only)
    webhook_signing: Literal["account", "shared"] = "account"
    webhook_secret_overlap_hours: float = Field(
        24.0, ge=0, description="old secret keeps signing after a rotation"
    )

    # --- input limits ---------------------------------------------------------------------------
    max_input_bytes: int = Field(20 * MiB, gt=0)
    max_pixels: int = Field(50_000_000, gt=0)
    max_frames: int = Field(100, gt=0)
    fetch_timeout: float = Field(15.0, gt=0)
    allow_private_sources: bool = False

    # --- delivery ------------------------------------------------------------------------------------
    webhook_timeout: float = Field(10.0, gt=0)
    webhook_retry_hours: float = Field(24.0, gt=0, description="how long failed deliveries are retried")
    cdn_purger: Literal["none", "log", "http"] = "none"
    cdn_purge_url: str | None = None  # http purger: POST {"urls": [...]} here

    # --- schedules -----------------------------------------------------------------------------------
    expire_sweep_interval: float = Field(30.0, gt=0, description="seconds between expiry sweeps")
    # seconds a processing image may wait for its job before the reaper re-sends it
    stuck_after: float = Field(900.0, gt=0)
    reaper_interval: float = Field(15.0, gt=0, description="seconds between reaper runs")
    render_wait: float = Field(30.0, gt=0, description="how long a render URL request waits for its job")
    # the scheduler's storage check (jobs.services.admin.fsck): report everything, remove staged originals
    # no record owns; 0 turns it off
    fsck_interval: float = Field(86400.0, ge=0, description="seconds between scheduled fsck runs")
    # objects younger (and records changed more recently) than this are never judged: a job may
    # be between its write and its record right now
    fsck_grace: float = Field(3600.0, ge=0, description="seconds before an unowned object is an orphan")

    # --- jobs -----------------------------------------------------------------------------------
    imaging_threads: int = Field(1, ge=1, le=16)  # threads one job may use (1: each job on one core)
    # jobs of one worker process that decode/resize/encode at once; its other threads meanwhile
    # do their jobs' I/O (reads, writes, Redis), like imgproxy's CONCURRENCY under its queue
    imaging_concurrency: int = Field(1, ge=1, le=64)
    # freed memory a worker or API process keeps for reuse instead of faulting it in again
    # (jobs/runtime/malloc.py); 0: the C library's defaults
    malloc_retain_mb: int = Field(DEFAULT_RETAIN_MB, ge=0, le=65536)
    # pixel memory one imaging job may hold at once: all its frames, each step's output and
    # intermediate layers, checked before the step allocates (worker/imaging/budget.py); a
    # job that would need more fails with too_large. Peak per worker process ≈ its start-up
    # memory + IMAGING_CONCURRENCY x this (+ the encoded bytes in hand).
    imaging_memory_mb: int = Field(1024, ge=16, le=1_048_576)
    # resident memory a worker process is back under after every job, failed or not: above it,
    # the process hands its freed memory back to the kernel at once (jobs/runtime/malloc.py)
    worker_memory_mb: int = Field(512, ge=64, le=1_048_576)
    job_time_limit: float = Field(120.0, gt=0, description="seconds")
    max_retries: int = Field(5, ge=0)
    retry_min_backoff_ms: int = Field(500, gt=0)
    retry_max_backoff_ms: int = Field(30_000, gt=0)
    heartbeat_timeout_ms: int = Field(60_000, gt=0)  # a silent worker's jobs are requeued after this

    # --- HTTP and logs --------------------------------------------------------------------------
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=0, le=65535)
    rate_limit_per_second: float = Field(50.0, ge=0, description="per API key; 0 disables")
    rate_limit_burst: int = Field(100, ge=1)
    # failed authentications (wrong API key, dashboard login) per client address; 0 disables.
    # Once spent, every attempt from the address is refused until a token is back.
    auth_failure_per_second: float = Field(0.2, ge=0, description="per client address; 0 disables")
    auth_failure_burst: int = Field(20, ge=1)
    # proxies whose X-Forwarded-For names the client (comma-separated addresses/networks, "*" any):
    # the per-address limits above must see the caller, not the proxy in front of the API
    forwarded_allow_ips: str = "127.0.0.1,::1"
    max_json_bytes: int = Field(1024 * 1024, gt=0, description="largest JSON request body")
    log_format: Literal["json", "console"] = "json"
    log_level: str = "INFO"

    # --- CLI / client side ----------------------------------------------------------------------
    api_url: str | None = None  # default: http://{http_host}:{http_port}
    api_key: SecretStr = SecretStr("")  # default: the only key of api_keys, if there is one

    # --- ops ------------------------------------------------------------------------------------
    metrics_port: int = Field(9191, ge=0, le=65535, description="worker pool Prometheus exporter; 0 = off")
    metrics_host: str = "127.0.0.1"
    worker_heartbeat_interval: float = Field(5.0, gt=0, description="seconds between worker heartbeats")
    admin_key: SecretStr = SecretStr("")  # operators: /dashboard across accounts, requeue dead letters

    @field_validator("storage_url")
    @classmethod
    def _check_storage_url(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in {"file", "s3"}:
            raise ValueError("must be file://PATH or s3://BUCKET[/PREFIX]")
        if scheme == "s3" and not urlsplit(value).netloc:
            raise ValueError("s3:// URL needs a bucket name")
        return value

    @model_validator(mode="after")
    def _shared_webhook_secret_is_for_one_account(self) -> Settings:
        if self.webhook_signing == "shared" and len(self.accounts()) > 1:
            raise ValueError(
                "DARKROOM_WEBHOOK_SIGNING=shared with more than one account lets each forge the others' "
                "webhooks: use the default (account)"
            )
        return self

    @model_validator(mode="after")
    def _retain_within_budget(self) -> Settings:
        if self.malloc_retain_mb >= self.worker_memory_mb:
            raise ValueError(
                "MALLOC_RETAIN_MB must be below WORKER_MEMORY_MB (the freed memory kept is resident)"
            )
        return self

    @field_validator("log_level")
    @classmethod
    def _upper_level(cls, value: str) -> str:
        return value.upper()

    # --- derived views ------------------------------------------------------------------------------

    @property
    def storage_scheme(self) -> str:
        return urlsplit(self.storage_url).scheme

    @property
    def local_storage_root(self) -> Path:
        """Directory of a ``file://`` storage URL (relative paths resolve against the cwd)."""
        parts = urlsplit(self.storage_url)
        raw = parts.netloc + parts.path  # file://./data → "." + "/data"
        return Path(raw).expanduser().resolve()

    @property
    def s3_bucket_and_prefix(self) -> tuple[str, str]:
        parts = urlsplit(self.storage_url)
        return parts.netloc, parts.path.strip("/")

    @property
    def client_base_url(self) -> str:
        host = "127.0.0.1" if self.http_host in {"0.0.0.0", "::", ""} else self.http_host
        return self.api_url or f"http://{host}:{self.http_port}"

    @property
    def client_api_key(self) -> str:
        key = self.api_key.get_secret_value()
        if not key and len(self.api_keys) == 1:
            key = next(iter(self.api_keys))
        return key

    def to_env(self) -> dict[str, str]:
        """These settings as ``DARKROOM_*`` variables, for child processes (worker pools, tests)."""
        env: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, dict):
                value = json.dumps(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            env[f"DARKROOM_{name.upper()}"] = str(value)
        return env

    def accounts(self) -> set[str]:
        return set(self.api_keys.values())


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from ``DARKROOM_*`` env vars (+ explicit overrides); bad values → ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "DARKROOM_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise ConfigError(name, first["msg"]) from exc
