"""The dashboard's charts: per queue, jobs done/failed per minute (stacked bars) and p50/p95
job duration (lines) over the last hour, drawn as inline SVG on the server.

No charting library: none is published on PyPI as a plain package of its files (Chart.js and
uPlot only ship inside framework integrations that would pull in Pyramid, Datasette or
Metaflow), and two small charts need no more than this geometry and a template. The page
stays script-free for its first render; ``charts.js`` (served from this package, CSP
``script-src 'self'``) only fetches ``/dashboard/charts`` every 10 s and swaps the fragment in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from jobs.services.admin.trends import WINDOW_MINUTES, QueueTrend, Trends

WIDTH: Final = 264
HEIGHT: Final = 90
PAD_TOP: Final = 6
WINDOW: Final = WINDOW_MINUTES


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    done_y: float
    done_h: float
    failed_y: float
    failed_h: float
    title: str


@dataclass(frozen=True, slots=True)
class QueueChart:
    trend: QueueTrend
    bars: list[Bar]
    max_jobs: int
    p50: list[tuple[float, float]]  # (x, y) of each minute that finished a job
    p95: list[tuple[float, float]]
    max_s: float


def _scale(value: float, top: float) -> float:
    return (HEIGHT - PAD_TOP) * value / top if top > 0 else 0.0


def _line(trend: QueueTrend, q: float, top: float, slot: float) -> list[tuple[float, float]]:
    points = []
    for i, m in enumerate(trend.minutes):
        value = m.quantile(q)
        if value is not None:
            points.append((round(i * slot + slot / 2, 1), round(HEIGHT - _scale(value, top), 1)))
    return points


def queue_chart(trend: QueueTrend) -> QueueChart:
    slot = WIDTH / max(1, len(trend.minutes))
    max_jobs = max((m.done + m.failed for m in trend.minutes), default=0)
    bars = []
    for i, m in enumerate(trend.minutes):
        if not m.done and not m.failed:
            continue
        done_h, failed_h = _scale(m.done, max_jobs), _scale(m.failed, max_jobs)
        bars.append(
            Bar(
                x=i * slot + 0.5,
                done_y=HEIGHT - done_h,
                done_h=done_h,
                failed_y=HEIGHT - done_h - failed_h,
                failed_h=failed_h,
                title=f"{m.done} done, {m.failed} failed",
            )
        )
    slowest = [m.quantile(0.95) for m in trend.minutes]
    max_s = max((v for v in slowest if v is not None), default=0.0)
    return QueueChart(
        trend, bars, max_jobs, _line(trend, 0.5, max_s, slot), _line(trend, 0.95, max_s, slot), max_s
    )


def charts(trends: Trends) -> list[QueueChart]:
    return [queue_chart(t) for t in trends.queues]
