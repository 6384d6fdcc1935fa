"""HTML of ``/dashboard``: plain templates (``string.Template``) filled with escaped fragments.

No template engine and no JavaScript: the page is rendered on the server and refreshes
itself every 15 s. Numbers carry ``data-*`` attributes so tests (and scrapers) can read
them without parsing prose.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from html import escape
from importlib import resources
from string import Template

from jobs.api.dashboard_auth import Viewer
from jobs.ops.dead_letters import DeadLetter
from jobs.ops.stats import Snapshot
from jobs.states import Status
from jobs.store import Record


@cache
def _asset(name: str) -> str:
    return resources.files("jobs.api").joinpath("templates", name).read_text()


@dataclass(frozen=True, slots=True)
class DashboardData:
    viewer: Viewer
    snapshot: Snapshot
    recent: list[Record]
    failures: list[Record]
    dead: list[DeadLetter]  # operators only
    csrf: str
    flash: str | None = None


def _age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _num(field: str, value: int, css: str = "") -> str:
    klass = f"num {css}".strip()
    return f'<td class="{klass}" data-field="{field}">{value}</td>'


def queue_rows(data: DashboardData) -> str:
    rows = []
    for q in data.snapshot.queues:
        button = ""
        if data.viewer.operator and q.dead:
            button = (
                '<form method="post" action="/dashboard/requeue">'
                f'<input type="hidden" name="csrf" value="{escape(data.csrf)}">'
                f'<input type="hidden" name="queue" value="{escape(q.short)}">'
                f'<button class="requeue" type="submit" data-requeue="{escape(q.queue)}">'
                f"requeue {q.dead}</button>"
                "</form>"
            )
        rows.append(
            f'<tr data-queue="{escape(q.queue)}"><td>{escape(q.short)}</td>'
            + _num("ready", q.ready, "hot" if q.ready and not q.workers else "")
            + _num("in_flight", q.in_flight)
            + _num("delayed", q.delayed)
            + _num("dead", q.dead, "bad" if q.dead else "")
            + _num("workers", q.workers)
            + f"<td>{button}</td></tr>"
        )
    return "\n".join(rows)


def image_totals(data: DashboardData) -> str:
    counts = data.snapshot.images
    if counts is None:
        return '<p class="muted">not available</p>'
    cells = []
    for status in Status:
        value = counts.by_status.get(status.value, 0)
        cells.append(
            f'<div class="total"><b class="status-{status.value}" data-status="{status.value}">{value}</b>'
            f"<span>{status.value}</span></div>"
        )
    return "\n".join(cells)


def oldest_line(data: DashboardData) -> str:
    oldest = data.snapshot.oldest_processing
    if oldest is not None and not data.viewer.operator and oldest.account != data.viewer.account:
        oldest = None  # another account's image: never named in an account's view
    if oldest is None:
        return "Nothing is processing."
    who = f" ({escape(oldest.account)})" if data.viewer.operator else ""
    return (
        f'Oldest processing: <code data-image-id="{escape(oldest.image_id)}">{escape(oldest.image_id)}</code>'
        f"{who}, created {_age(oldest.age_s)} ago."
    )


def worker_rows(data: DashboardData) -> str:
    if not data.snapshot.workers:
        return '<tr><td colspan="7" class="muted">No live workers.</td></tr>'
    rows = []
    for w in data.snapshot.workers:
        queues = ", ".join(q.removeprefix("darkroom.") for q in w.queues)
        rows.append(
            f'<tr data-worker-id="{escape(w.id)}"><td>{escape(w.host)}</td><td class="num">{w.pid}</td>'
            f"<td>{escape(queues)}</td><td class='num'>{w.threads}</td><td>{escape(w.started_at)}</td>"
            f'<td class="num">{_age(w.age_s(data.snapshot.at_ms))} ago</td>'
            f"<td><code>{escape(w.id[:8])}</code></td></tr>"
        )
    return "\n".join(rows)


def recent_cards(data: DashboardData) -> str:
    if not data.recent:
        return '<p class="muted">No images yet.</p>'
    cards = []
    for record in data.recent:
        image, status = record.image, record.status.value
        if record.status == Status.READY and image.format is not None:
            src = f"/dashboard/thumbs/{escape(image.id)}"
            thumb = f'<img src="{src}" alt="{escape(image.name)}" loading="lazy">'
        else:
            thumb = f'<span class="placeholder">{escape(status)}</span>'
        owner = f" · {escape(record.account)}" if data.viewer.operator else ""
        cards.append(
            f'<figure data-image-id="{escape(image.id)}" data-status="{status}">'
            f'<div class="thumb">{thumb}</div><figcaption><span class="badge {status}">{status}</span> '
            f'{escape(image.name)}<br><span class="muted">{_age(_since(image.created_at))} ago{owner}</span>'
            "</figcaption></figure>"
        )
    return "\n".join(cards)


def _since(moment: datetime) -> float:
    return time.time() - moment.timestamp()


def failure_items(data: DashboardData) -> str:
    if not data.failures:
        return '<li class="muted">No recent failures.</li>'
    items = []
    for record in data.failures:
        error = record.image.error
        code = escape(error.code) if error else "unknown"
        message = escape(error.message) if error else ""
        owner = f" · {escape(record.account)}" if data.viewer.operator else ""
        items.append(
            f'<li data-image-id="{escape(record.id)}" data-error-code="{code}"><code>{code}</code> '
            f"{escape(record.image.name)} <span class='muted'>{escape(record.id)}{owner}</span>"
            f"<br>{message}</li>"
        )
    return "\n".join(items)


def dead_letters(data: DashboardData) -> str:
    total = sum(q.dead for q in data.snapshot.queues)
    if not data.viewer.operator:
        return f'<p class="muted">{total} dead letters. Operators can inspect and requeue them.</p>'
    if not data.dead:
        return '<p class="muted">No dead letters.</p>'
    rows = []
    now_ms = data.snapshot.at_ms
    for d in data.dead:
        when = datetime.fromtimestamp(d.dead_at_ms / 1000, UTC).isoformat(timespec="seconds")
        rows.append(
            f'<tr data-dead-id="{escape(d.redis_id)}"><td>{escape(d.queue.removeprefix("darkroom."))}</td>'
            f"<td>{escape(d.actor)}</td><td><code>{escape(d.image_id or '-')}</code></td>"
            f'<td title="{escape(when)}">{_age((now_ms - d.dead_at_ms) / 1000)} ago</td>'
            f'<td class="wrap">{escape(d.reason or "gave up")}</td></tr>'
        )
    return (
        "<table><thead><tr><th>queue</th><th>job</th><th>image</th><th>dead</th><th>last error</th>"
        "</tr></thead><tbody>" + "\n".join(rows) + "</tbody></table>"
    )


def render_dashboard(data: DashboardData) -> str:
    flash = f'<section class="flash" id="flash">{escape(data.flash)}</section>' if data.flash else ""
    generated = datetime.fromtimestamp(data.snapshot.at_ms / 1000, UTC).isoformat(timespec="seconds")
    return Template(_asset("dashboard.html")).substitute(
        css=_asset("dashboard.css"),
        role=data.viewer.role,
        generated_at=generated,
        who=escape(data.viewer.label),
        csrf=escape(data.csrf),
        flash=flash,
        queue_rows=queue_rows(data),
        image_totals=image_totals(data),
        oldest=oldest_line(data),
        worker_count=len(data.snapshot.workers),
        worker_rows=worker_rows(data),
        recent_cards=recent_cards(data),
        failure_items=failure_items(data),
        dead_letters=dead_letters(data),
    )


def render_login(error: str | None = None) -> str:
    return Template(_asset("login.html")).substitute(css=_asset("dashboard.css"), error=escape(error or ""))
