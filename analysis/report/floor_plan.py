"""The floor plan: an inline SVG of the seats at their site-file positions, each coloured by verdict.

A facilities team reads a floor by where things are, not by seat ids: a dark corner or a noisy row shows
up as a cluster of colour. Positions are the seats' x/y in metres (docs/site-file.md); each zone is drawn
as the box around its seats. Seats carry ``data-seat`` so the page script can show that seat's charts.
"""

from __future__ import annotations

from html import escape
from typing import Any

from seatwatch.core.vocabulary import VERDICT_COLOURS

WIDTH_PX = 960
MARGIN_M = 1.5


def floor_plan_svg(doc: dict[str, Any]) -> str:
    seats = doc["seats"]
    if not seats:
        return "<p>No seats.</p>"
    xs, ys = [s["x"] for s in seats], [s["y"] for s in seats]
    x0, y0 = min(xs) - MARGIN_M, min(ys) - MARGIN_M
    span_x, span_y = max(xs) - x0 + MARGIN_M, max(ys) - y0 + MARGIN_M
    scale = WIDTH_PX / max(span_x, span_y * 1.6, 1.0)
    radius = max(2.0, min(9.0, 0.45 * scale))
    height = span_y * scale

    def px(x: float, y: float) -> tuple[float, float]:
        return (x - x0) * scale, (y - y0) * scale

    parts = [
        f'<svg class="floor" viewBox="0 0 {WIDTH_PX:.0f} {height:.0f}" width="{WIDTH_PX:.0f}" '
        f'height="{height:.0f}" role="img" aria-label="Floor plan, seats coloured by verdict">'
    ]
    zone_verdicts = {z["zone"]: z for z in doc["zones"]}
    for zone_id in sorted({s["zone"] for s in seats}):
        members = [s for s in seats if s["zone"] == zone_id]
        ax, ay = px(min(s["x"] for s in members) - 0.9, min(s["y"] for s in members) - 0.9)
        bx, by = px(max(s["x"] for s in members) + 0.9, max(s["y"] for s in members) + 0.9)
        name = zone_verdicts.get(zone_id, {}).get("name", zone_id)
        parts.append(
            f'<rect class="zone" x="{ax:.1f}" y="{ay:.1f}" width="{bx - ax:.1f}" height="{by - ay:.1f}" '
            f'fill="#eef1f5" stroke="#9aa4b2"/><text class="zone-label" x="{ax + 4:.1f}" y="{ay + 12:.1f}" '
            f'font-size="11" fill="#556666">{escape(name)}</text>'
        )
    for s in seats:
        cx, cy = px(s["x"], s["y"])
        colour = VERDICT_COLOURS[s["verdict"]]
        parts.append(
            f'<circle class="seat" data-seat="{escape(s["seat"])}" cx="{cx:.1f}" cy="{cy:.1f}" '
            f'r="{radius:.1f}" fill="{colour}" stroke="#fff" stroke-width="1">'
            f"<title>{escape(s['seat'])}: {escape(s['verdict'])}</title></circle>"
            f'<text x="{cx:.1f}" y="{cy + radius + 9:.1f}" font-size="8" text-anchor="middle" fill="#34495e">'
            f"{escape(s['seat'])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
