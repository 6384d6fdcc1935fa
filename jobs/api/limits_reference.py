"""The "Limits" and "Files" sections of ``docs/api.md``, built from the constants that enforce them.

Every number here is the constant (or the setting's default) the code checks, formatted the
way the error messages print it, so the reference cannot drift from the behaviour: change a
constant and ``docs/api.md`` is stale until regenerated (a test compares).
"""

from __future__ import annotations

from jobs.api.idempotency import MAX_KEY_CHARS
from jobs.api.json_depth import MAX_JSON_DEPTH
from jobs.api.routes.images import MAX_WAIT_S
from jobs.contract.local_secrets import LOCAL_SECRETS
from jobs.contract.models import (
    MAX_CAPTION_CHARS,
    MAX_METADATA_KEY_CHARS,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_CHARS,
    MAX_NAME_CHARS,
)
from jobs.contract.operations import MAX_DIMENSION, MAX_OPERATIONS
from jobs.contract.settings import Settings
from jobs.contract.sizes import human_size
from jobs.contract.upload_options import MAX_FILENAME_CHARS, MAX_URL_CHARS
from jobs.plumbing.store.listing import MAX_LIMIT
from jobs.services.rendering import MAX_WARMUP_URLS


def _default(setting: str) -> int:
    """A setting's default, never the environment's value: the reference is the same everywhere."""
    value = Settings.model_fields[setting].default
    if not isinstance(value, int):
        raise TypeError(f"{setting} has no integer default")
    return value


def limits() -> list[tuple[str, str, str]]:
    """(what, limit, how it is set or answered) for every limit a caller can meet."""
    max_input = _default("max_input_bytes")
    max_json = _default("max_json_bytes")
    return [
        (
            "upload (file or raw body)",
            human_size(max_input),
            "`DARKROOM_MAX_INPUT_BYTES`; over it: 413 `too_large`",
        ),
        (
            "source URL download",
            human_size(max_input),
            "`DARKROOM_MAX_INPUT_BYTES`; the image fails `too_large`",
        ),
        ("input pixels", f"{_default('max_pixels'):_}".replace("_", " "), "`DARKROOM_MAX_PIXELS`"),
        ("animation frames", str(_default("max_frames")), "`DARKROOM_MAX_FRAMES`"),
        ("JSON request body", human_size(max_json), "`DARKROOM_MAX_JSON_BYTES`; over it: 413"),
        ("JSON nesting", f"{MAX_JSON_DEPTH} levels", "deeper: 400"),
        ("`metadata`", f"{MAX_METADATA_KEYS} keys", "values: JSON scalars (string, number, boolean, null)"),
        (
            "`metadata` key",
            f"1..{MAX_METADATA_KEY_CHARS} characters",
            "400 `invalid_request`, `field: metadata`",
        ),
        ("`metadata` value", f"{MAX_METADATA_VALUE_CHARS} characters (as printed)", "400, `field: metadata`"),
        ("`name`", f"1..{MAX_NAME_CHARS} characters", "400, `field: name`"),
        ("`caption`", f"{MAX_CAPTION_CHARS} characters", "400, `field: caption`"),
        (
            "`filename`",
            f"{MAX_FILENAME_CHARS} characters sent",
            f"its base name is kept, at most {MAX_NAME_CHARS} characters",
        ),
        ("`url`, `callback_url`", f"{MAX_URL_CHARS} characters", "http(s) only; 400"),
        ("`wait` (GET an image)", f"{MAX_WAIT_S:g} s", f"0..{MAX_WAIT_S:g}; longer: 400"),
        ("`limit` (list images)", f"1..{MAX_LIMIT}", "outside: 400"),
        ("operations per transform", str(MAX_OPERATIONS), "400, `field: operations`"),
        ("output width / height", f"{MAX_DIMENSION} px", "400 naming the operation's field"),
        ("render URLs per warm-up", str(MAX_WARMUP_URLS), "400, `field: urls`"),
        ("`Idempotency-Key`", f"{MAX_KEY_CHARS} characters", "400"),
    ]


def section() -> list[str]:
    lines = [
        "## Limits",
        "",
        "Every limit a request can meet; the defaults of the `DARKROOM_*` settings are shown",
        "(README: Settings). Past a limit the answer is the error named, never a truncation.",
        "",
        "| what | limit | set by / answer |",
        "|---|---|---|",
    ]
    lines += [f"| {what} | {limit} | {how} |" for what, limit, how in limits()]
    lines += [
        "",
        "## Files `darkroom run` generates",
        "",
        "When a secret is not configured, `darkroom run` generates it once into the local storage",
        "directory (`./data` by default, mode 0600) and reuses it on every start. Setting the",
        "variable instead means the file is never written.",
        "",
        "| file | replaced by | what it is |",
        "|---|---|---|",
    ]
    lines += [f"| `data/{s.file}` | `{s.setting}` | {s.purpose} |" for s in LOCAL_SECRETS]
    return [*lines, ""]
