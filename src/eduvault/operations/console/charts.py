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
