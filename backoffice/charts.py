"""Server-side SVG charts for the overview: plain SVG elements with presentation attributes, no
script, no inline CSS, nothing fetched (the admin's CSP allows neither)."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BAR_COLOR = "#417690"  # the admin's own blue


def hbar_chart(rows: Sequence[tuple[str, int, str]], *, width: int = 420, bar_height: int = 22) -> SafeString:
    """Horizontal bars: (label, value, value shown) per row, scaled to the largest value."""
    if not rows:
        return mark_safe('<p class="help">Nothing to show.</p>')
    label_width, value_width = 130, 110
    plot = width - label_width - value_width
    largest = max(value for _, value, _ in rows) or 1
    height = bar_height * len(rows) + 4
    parts = [
        f'<svg class="overview-chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'role="img" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, value, shown) in enumerate(rows):
        y = i * bar_height + 2
        length = max(int(plot * value / largest), 1 if value else 0)
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar_height * 0.68:.1f}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{length}" height="{bar_height - 6}" fill="{BAR_COLOR}">'
            f"<title>{escape(label)}: {escape(shown)}</title></rect>"
            f'<text x="{label_width + length + 6}" y="{y + bar_height * 0.68:.1f}">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every text was escaped above


def column_chart(
    points: Sequence[tuple[str, int]], *, width: int = 420, height: int = 140, caption: str = ""
) -> SafeString:
    """Vertical columns over days: (day label, value); the first and last day labelled below."""
    if not points:
        return mark_safe('<p class="help">Nothing to show.</p>')
    top, bottom = 16, 20
    plot_height = height - top - bottom
    step = width / len(points)
    largest = max(value for _, value in points) or 1
    parts = [
        f'<svg class="overview-chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'role="img" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="11">{escape(caption)}</text>',
        f'<line x1="0" y1="{top + plot_height}" x2="{width}" y2="{top + plot_height}" stroke="#999" />',
    ]
    for i, (label, value) in enumerate(points):
        column = int(plot_height * value / largest)
        parts.append(
            f'<rect x="{i * step + 1:.1f}" y="{top + plot_height - column}" width="{max(step - 2, 1):.1f}" '
            f'height="{column}" fill="{BAR_COLOR}"><title>{escape(label)}: {value}</title></rect>'
        )
    parts.append(f'<text x="0" y="{height - 4}">{escape(points[0][0])}</text>')
    parts.append(f'<text x="{width}" y="{height - 4}" text-anchor="end">{escape(points[-1][0])}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every text was escaped above
