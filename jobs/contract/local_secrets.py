"""The secrets ``darkroom run`` generates when none is configured, and where it keeps them.

Each is created once (mode 0600) in the local storage directory (``./data`` by default) and
reused on every later start; setting its variable instead means the file is never written.
One table, so the code that writes them and the reference that documents them agree.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class LocalSecret(NamedTuple):
    file: str  # inside the local storage directory
    setting: str  # the DARKROOM_* variable that replaces it
    purpose: str


API_KEY: Final = LocalSecret(".api-key", "DARKROOM_API_KEYS", "the API key of account `local`")
SIGNING_KEY: Final = LocalSecret(
    ".signing-key", "DARKROOM_SIGNING_KEY", "signs render URLs and dashboard sessions"
)
WEBHOOK_SECRET: Final = LocalSecret(
    ".webhook-secret",
    "DARKROOM_WEBHOOK_SECRET",
    "the root every account's webhook signing secret is derived from",
)
ADMIN_KEY: Final = LocalSecret(
    ".admin-key", "DARKROOM_ADMIN_KEY", "the operator key: the dashboard's operator view, dead-letter requeue"
)
REDIS_PASSWORD: Final = LocalSecret(
    ".redis-password",
    "DARKROOM_REDIS_URL",
    "the private redis-server's password (started when no Redis answers)",
)
LOCAL_SECRETS: Final = (API_KEY, SIGNING_KEY, WEBHOOK_SECRET, ADMIN_KEY, REDIS_PASSWORD)
