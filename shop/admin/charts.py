"""Charts drawn on the server as SVG (no script, no other origin): what the template draws, worked out here."""

from dataclasses import dataclass
from datetime import date

from shop.templating import format_date


@dataclass(frozen=True)
class LineChart:
    """A line over days: the polyline's points, the axis labels, and the numbers for a table beside it."""

    width: int
    height: int
    points: str
    area: str
    y_ticks: list[tuple[float, int]]
    x_ticks: list[tuple[float, str]]
    latest: int
    change: int
    rows: list[tuple[str, int]]


PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 12, 12, 28


def _nice_top(value: int) -> int:
    """The smallest of 1, 2, 5 x 10^n at or above ``value`` (at least 5), so the axis reads well."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= max(5, value):
                return step * factor
        step *= 10


def line_chart(series: list[tuple[date, int]], width: int = 640, height: int = 220) -> LineChart:
    """Lay out ``series`` (day, count), oldest first, for an SVG of ``width`` by ``height``."""
    top = _nice_top(max((n for _, n in series), default=0))
    inner_w, inner_h = width - PAD_LEFT - PAD_RIGHT, height - PAD_TOP - PAD_BOTTOM
    last = max(1, len(series) - 1)

    def x(i: int) -> float:
        return round(PAD_LEFT + inner_w * i / last, 1)

    def y(n: int) -> float:
        return round(PAD_TOP + inner_h * (1 - n / top), 1)

    coords = [f"{x(i)},{y(n)}" for i, (_, n) in enumerate(series)]
    base = round(PAD_TOP + inner_h, 1)
    area = f"{x(0)},{base} " + " ".join(coords) + f" {x(len(series) - 1)},{base}" if series else ""
    marks = sorted({0, len(series) // 2, len(series) - 1}) if series else []
    return LineChart(
        width=width,
        height=height,
        points=" ".join(coords),
        area=area,
        y_ticks=[(y(v), v) for v in (0, top // 2, top)],
        x_ticks=[(x(i), format_date(series[i][0])) for i in marks],
        latest=series[-1][1] if series else 0,
        change=(series[-1][1] - series[0][1]) if series else 0,
        # A row a week, ending with the latest day.
        rows=[(format_date(series[i][0]), series[i][1]) for i in range(len(series) - 1, -1, -7)][::-1],
    )


@dataclass(frozen=True)
class Bar:
    """One bar: where it stands, how tall, its label and value."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True)
class BarChart:
    """Bars over weeks (or any periods): the bars, the y axis, and the numbers for a table beside it."""

    width: int
    height: int
    bars: list[Bar]
    y_ticks: list[tuple[float, int]]
    total: int


def bar_chart(series: list[tuple[date, int]], width: int = 640, height: int = 220) -> BarChart:
    """Lay out ``series`` (period start, count), oldest first, as bars in an SVG of ``width`` by ``height``."""
    top = _nice_top(max((n for _, n in series), default=0))
    inner_w, inner_h = width - PAD_LEFT - PAD_RIGHT, height - PAD_TOP - PAD_BOTTOM
    slot = inner_w / max(1, len(series))
    bars = []
    for i, (day, n) in enumerate(series):
        bar_h = round(inner_h * n / top, 1)
        bars.append(Bar(x=round(PAD_LEFT + slot * i + slot * 0.15, 1), y=round(PAD_TOP + inner_h - bar_h, 1),
                        width=round(slot * 0.7, 1), height=bar_h, label=format_date(day), value=n))  # fmt: skip
    return BarChart(
        width=width,
        height=height,
        bars=bars,
        y_ticks=[(round(PAD_TOP + inner_h * (1 - v / top), 1), v) for v in (0, top // 2, top)],
        total=sum(n for _, n in series),
    )
