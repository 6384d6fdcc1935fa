"""The dashboard's HTML, rendered without a server: every caller-chosen string arrives escaped."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from jobs.api.dashboard_auth import Viewer
from jobs.api.dashboard_view import DashboardData, render_dashboard, render_login
from jobs.contract.constants import Queue
from jobs.contract.models import Image, ImageError
from jobs.contract.states import Status
from jobs.plumbing.store import Record
from jobs.services.admin.dead_letters import DeadLetter
from jobs.services.admin.images import ImageCounts, OldestProcessing
from jobs.services.admin.queues import QueueStats
from jobs.services.admin.stats import Snapshot
from jobs.services.admin.workers import WorkerBeat

EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
READY_ID = "image_" + "a" * 24
FAILED_ID = "image_" + "b" * 24
PROCESSING_ID = "image_" + "c" * 24
NOW_MS = 1_800_000_000_000


def record(image_id: str, status: Status, account: str = "acme") -> Record:
    created = datetime.now(UTC) - timedelta(minutes=5)
    image = Image(id=image_id, name=f"cat{EVIL}", filename="cat.jpg", created_at=created, status=status)
    if status == Status.READY:
        image = image.evolve(format="jpeg")
    if status == Status.FAILED:
        image = image.evolve(error=ImageError(code="media_failed", message=f"not an image {EVIL}"))
    return Record(image=image, account=account)


def data(viewer: Viewer, flash: str | None = None) -> DashboardData:
    """One of everything, with script tags wherever a caller or a worker chooses the text."""
    snapshot = Snapshot(
        at_ms=NOW_MS,
        queues=[
            QueueStats(Queue.PUBLISH.value, ready=3, delayed=1, in_flight=2, dead=4, workers=0),
            QueueStats(Queue.UPLOAD.value, ready=0, delayed=0, in_flight=0, dead=0, workers=1),
        ],
        workers=[
            WorkerBeat(
                id="w" * 32,
                host=f"host{EVIL}",
                pid=42,
                pool=0,
                queues=(Queue.UPLOAD.value,),
                threads=2,
                version="1",
                started_at="2027-01-15T08:00:00Z",
                last_beat=NOW_MS - 3000,
            )
        ],
        images=ImageCounts({"processing": 1, "ready": 7, "failed": 2}),
        oldest_processing=OldestProcessing(PROCESSING_ID, f"acme{EVIL}", "t0", "t1", age_s=125.0),
    )
    dead = DeadLetter(
        queue=Queue.PUBLISH.value,
        redis_id="1-0",
        actor="publish",
        dead_at_ms=NOW_MS - 60_000,
        payload={"image_id": f"image{EVIL}"},
        retries=5,
        reason=f"StorageUnavailable: {EVIL}",
    )
    return DashboardData(
        viewer=viewer,
        snapshot=snapshot,
        recent=[record(READY_ID, Status.READY), record(FAILED_ID, Status.FAILED)],
        failures=[record(FAILED_ID, Status.FAILED)],
        dead=[dead] if viewer.operator else [],
        csrf='tok"en',
        flash=flash,
    )


OPERATOR = Viewer("operator", None)


@pytest.mark.parametrize("viewer", [OPERATOR, Viewer("account", "acme")], ids=["operator", "account"])
def test_caller_chosen_text_is_escaped_everywhere(viewer: Viewer) -> None:
    page = render_dashboard(data(viewer, flash=f"Requeued {EVIL}"))
    # the page's one script is its own, from this origin (CSP script-src 'self'); nothing injected
    assert page.count("<script") == 1
    assert '<script src="/dashboard/charts.js" defer></script>' in page
    # names (card captions, the thumbnail's alt, the failure), the error message, the worker's host, the
    # flash; for operators also the oldest image's account, the dead letter's image and its reason
    assert page.count(ESCAPED) == 7 + 3 * viewer.operator
    assert re.search(r'name="csrf" value="tok&(#34|quot);en"', page)  # an attribute cannot be closed early


def test_the_page_carries_its_numbers_in_data_attributes() -> None:
    page = render_dashboard(data(OPERATOR))
    row = re.search(rf'<tr data-queue="{Queue.PUBLISH.value}">(.*?)</tr>', page, re.S)
    assert row is not None
    cells = dict(re.findall(r'data-field="(\w+)">(\d+)<', row.group(1)))
    assert cells == {"ready": "3", "in_flight": "2", "delayed": "1", "dead": "4", "workers": "0"}
    assert '<td class="num hot" data-field="ready">3</td>' in row.group(1)  # ready with no one to run it
    assert f'data-requeue="{Queue.PUBLISH.value}"' in row.group(1) and "requeue 4</button>" in row.group(1)
    assert re.findall(r'data-status="(\w+)">(\d+)<', page)[:3] == [
        ("processing", "1"),
        ("ready", "7"),
        ("failed", "2"),
    ]
    assert f'<figure data-image-id="{READY_ID}" data-status="ready">' in page
    assert f'<img src="/dashboard/thumbs/{READY_ID}"' in page
    assert f'<li data-image-id="{FAILED_ID}" data-error-code="media_failed">' in page
    assert 'data-dead-id="1-0"' in page and "Workers (1 live)" in page
    assert 'data-generated-at="2027-01-15T08:00:00+00:00"' in page
    assert f'<code data-image-id="{PROCESSING_ID}">{PROCESSING_ID}</code> (acme' in page
    assert "created 2 min ago." in page


def test_an_account_never_sees_another_accounts_oldest_image_or_dead_letter_details() -> None:
    page = render_dashboard(data(Viewer("account", "globex")))
    assert PROCESSING_ID not in page and "Nothing is processing." in page
    assert "data-requeue" not in page and "data-dead-id" not in page
    assert "4 dead letters. Operators can inspect and requeue them." in page
    assert 'data-role="account"' in page and "signed in as account globex" in page


def test_the_login_page_escapes_its_message() -> None:
    page = render_login(f"Unknown queue {EVIL}")
    assert "<script" not in page and f'<p class="error">Unknown queue {ESCAPED}</p>' in page
    assert '<p class="error"></p>' in render_login()
    assert "--accent" in page  # the stylesheet is inlined (the CSP allows no stylesheet URL)
