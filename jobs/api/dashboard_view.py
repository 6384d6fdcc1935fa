"""HTML of ``/dashboard``: Jinja2 templates shipped in ``jobs/api/templates``, autoescaped.

The page is rendered on the server; its only script, ``charts.js`` (served from this
package), swaps in a fresh ``<main>`` every 10 s without reloading the page (without
scripts, a ``<noscript>`` refresh reloads it every 15 s). Every
value a template prints is HTML-escaped by Jinja2 (image names, error messages, worker
hosts and dead-letter reasons are chosen by callers or by failures, never trusted).
Numbers carry ``data-*`` attributes so tests (and scrapers) can read them without parsing
prose.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from jobs.api import dashboard_charts
from jobs.api.dashboard_auth import Viewer
from jobs.contract.states import Status
from jobs.plumbing.store import Record
from jobs.services.admin.dead_letters import DeadLetter
from jobs.services.admin.images import OldestProcessing
from jobs.services.admin.stats import Snapshot
from jobs.services.admin.trends import Trends


@dataclass(frozen=True, slots=True)
class DashboardData:
    viewer: Viewer
    snapshot: Snapshot
    recent: list[Record]
    failures: list[Record]
    dead: list[DeadLetter]  # operators only
    csrf: str
    flash: str | None = None
    trends: Trends | None = None  # None: the charts section says they are unavailable


def age(seconds: float) -> str:
    """A duration the way a person reads it at a glance: ``42 s``, ``7 min``, ``3.5 h``, ``2.0 d``."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def since(moment: datetime) -> float:
    return time.time() - moment.timestamp()


def utc(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="seconds")


def seconds(value: float | None) -> str:
    """A job duration: ``85 ms``, ``1.4 s``, ``-`` when no job finished."""
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def short_queue(queue: str) -> str:
    return queue.removeprefix("darkroom.")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("jobs.api", "templates"),
        # the .html pages are escaped; the stylesheet they inline is ours and is not
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,  # a misspelt name is an error in the tests, not a blank on the page
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(age=age, since=since, utc=utc, short_queue=short_queue, seconds=seconds)
    return env


TEMPLATES: Final = _environment()


def visible_oldest(data: DashboardData) -> OldestProcessing | None:
    """The oldest processing image, unless it is another account's (never named to an account)."""
    oldest = data.snapshot.oldest_processing
    if oldest is not None and not data.viewer.operator and oldest.account != data.viewer.account:
        return None
    return oldest


def render_dashboard(data: DashboardData) -> str:
    return TEMPLATES.get_template("dashboard.html").render(
        viewer=data.viewer,
        snapshot=data.snapshot,
        generated_at=utc(data.snapshot.at_ms),
        csrf=data.csrf,
        flash=data.flash,
        statuses=[status.value for status in Status],
        oldest=visible_oldest(data),
        recent=data.recent,
        failures=data.failures,
        dead=data.dead,
        **_chart_context(data.trends),
    )


def _chart_context(trends: Trends | None) -> dict[str, object]:
    return {
        "charts": None if trends is None else dashboard_charts.charts(trends),
        "width": dashboard_charts.WIDTH,
        "height": dashboard_charts.HEIGHT,
        "slot": dashboard_charts.WIDTH / dashboard_charts.WINDOW - 1,
    }


def render_charts(trends: Trends) -> str:
    """The charts fragment alone (``/dashboard/charts``, fetched by ``charts.js``)."""
    return TEMPLATES.get_template("charts.html").render(
        generated_at=datetime.fromtimestamp(trends.at_s, UTC).isoformat(timespec="seconds"),
        **_chart_context(trends),
    )


def render_login(error: str | None = None) -> str:
    return TEMPLATES.get_template("login.html").render(error=error)
