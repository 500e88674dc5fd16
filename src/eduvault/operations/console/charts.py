"""Charts drawn as SVG geometry (pure: no Django). The template draws the rectangles; all
text in them is escaped by the template like everything else."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    #: (y, height, css class, count) per stacked segment, bottom first.
    segments: tuple[tuple[float, float, str, int], ...]
    label: str
    title: str


def stacked_bars(
    columns: list[tuple[str, dict[str, int]]],
    *,
    order: tuple[str, ...],
    width: float = 720,
    height: float = 160,
    gap: float = 2,
) -> tuple[list[Bar], int]:
    """Stacked bars for ``columns`` of (label, {series: count}), series stacked in ``order``
    from the bottom; returns the bars and the scale's maximum."""
    top = max([sum(values.get(s, 0) for s in order) for _, values in columns] + [1])
    step = width / max(len(columns), 1)
    bars = []
    for i, (label, values) in enumerate(columns):
        y = height
        segments = []
        for series in order:
            n = values.get(series, 0)
            if n:
                h = max(1.0, height * n / top)
                y -= h
                segments.append((round(y, 1), round(h, 1), series, n))
        title = f"{label}: " + ", ".join(f"{values.get(s, 0)} {s}" for s in order)
        bars.append(Bar(round(i * step, 1), round(step - gap, 1), tuple(segments), label, title))
    return bars, top


@dataclass(frozen=True)
class Row:
    x: float
    y: float
    width: float
    height: float
    label: str
    count: int
    title: str
    #: Where the label (at x 0) and the count (after the bar) sit.
    text_y: float
    count_x: float


def horizontal_bars(
    rows: list[tuple[str, int]],
    *,
    left: float = 100,
    width: float = 280,
    height: float = 18,
    gap: float = 4,
) -> tuple[list[Row], int, float]:
    """One bar per (label, count) from ``left``, the longest ``width`` long for the largest
    count: the bars, the scale's maximum, and the height they take."""
    top = max([n for _, n in rows] + [1])
    out = []
    for i, (label, n) in enumerate(rows):
        y = round(i * (height + gap), 1)
        length = round(max(1.0, width * n / top), 1) if n else 0.0
        out.append(
            Row(
                left,
                y,
                length,
                height,
                label,
                n,
                f"{label}: {n}",
                round(y + height * 0.72, 1),
                left + length + 4,
            )
        )
    return out, top, round(max(len(rows), 1) * (height + gap), 1)


@dataclass(frozen=True)
class Dot:
    cx: float
    cy: float
    label: str
    title: str
    #: A css class naming where it falls (``ok``, or the reason to look at it).
    zone: str

    @property
    def label_x(self) -> float:
        return round(self.cx + 7, 1)

    @property
    def label_y(self) -> float:
        return round(self.cy + 4, 1)


def scatter(
    points: list[tuple[str, float, float, str]],
    *,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    width: float = 520,
    height: float = 260,
    margin: float = 30,
) -> list[Dot]:
    """Dots for (label, x, y, zone) inside ``width`` x ``height`` (``margin`` left and below
    for the axes), x growing right and y up."""
    (x0, x1), (y0, y1) = x_range, y_range
    inner_w, inner_h = width - margin, height - margin
    dots = []
    for label, x, y, zone in points:
        cx = margin + inner_w * (min(max(x, x0), x1) - x0) / (x1 - x0)
        cy = inner_h - inner_h * (min(max(y, y0), y1) - y0) / (y1 - y0)
        dots.append(Dot(round(cx, 1), round(cy, 1), label, f"{label}: facility {x:.2f}, discrimination {y:.2f}", zone))
    return dots
