"""The stored form of an image: the public Image plus what only Darkroom needs to know.

In Redis it is the hash ``darkroom:image:{id}`` (``version``, ``status``, ``account``,
``image`` JSON, ``state`` JSON); in storage the sidecar ``records/{id}.json`` with the same
content, so ``darkroom reindex`` can rebuild Redis from storage alone.

``state`` holds the internal fields: the job that owns a ``processing`` image (and the
reaper deadline for it), and ``extra`` — small facts later jobs need (source URL for
refresh, checksum of the original for the blocklist, the pending publication job).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from jobs.contract.models import Image
from jobs.contract.states import Status


@dataclass(frozen=True, slots=True)
class Record:
    image: Image
    account: str
    job: dict[str, Any] | None = None  # payload of the job that owns a processing image
    deadline: float | None = None  # epoch seconds after which the reaper may step in
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.image.id

    @property
    def version(self) -> int:
        return self.image.version

    @property
    def status(self) -> Status:
        return self.image.status

    @property
    def job_id(self) -> str | None:
        return None if self.job is None else str(self.job.get("job_id"))

    def evolve(self, **image_changes: Any) -> Record:
        """Same record with image fields changed (the store bumps version/updated_at on write)."""
        return replace(self, image=self.image.evolve(**image_changes))

    def with_job(self, job: dict[str, Any] | None, deadline: float | None) -> Record:
        return replace(self, job=job, deadline=deadline)

    def with_extra(self, **changes: Any) -> Record:
        """Set (or, with None, remove) internal facts."""
        extra = {k: v for k, v in (self.extra | changes).items() if v is not None}
        return replace(self, extra=extra)

    # --- (de)serialisation ---------------------------------------------------------------

    def state_json(self) -> str:
        return json.dumps({"job": self.job, "deadline": self.deadline, "extra": self.extra}, sort_keys=True)

    def to_sidecar(self) -> bytes:
        body = {
            "account": self.account,
            "state": json.loads(self.state_json()),
            "image": json.loads(self.image.to_json()),
        }
        return json.dumps(body, sort_keys=True).encode()

    @classmethod
    def _build(cls, image: Image, account: str, state: dict[str, Any]) -> Record:
        deadline = state.get("deadline")
        return cls(
            image=image,
            account=account,
            job=state.get("job"),
            deadline=float(deadline) if deadline is not None else None,
            extra=dict(state.get("extra") or {}),
        )

    @classmethod
    def from_sidecar(cls, raw: bytes) -> Record:
        body = json.loads(raw)
        return cls._build(Image.model_validate(body["image"]), str(body["account"]), body.get("state") or {})

    @classmethod
    def from_hash(cls, raw: dict[bytes, bytes]) -> Record:
        state = raw.get(b"state")
        return cls._build(
            Image.from_json(raw[b"image"]), raw[b"account"].decode(), json.loads(state) if state else {}
        )
