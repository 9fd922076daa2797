"""The floor plan: a core Canvas panel (Grafana 10+, no plugin) with every seat at its x/y from the site
file, each zone drawn as the box around its seats, and each seat coloured by its live LAeq against the
profile limits of its zone kind.

Each seat's box shows the energy-mean LAeq of the last five minutes of the seat whose data stands for it
(itself, or its proxy seat) and links to that seat's detail with the time range kept. The colours are
the same required/target bands as the zone tables (:func:`dashboards.model.limit_thresholds`).
"""

from __future__ import annotations

from dashboards import panel_queries
from dashboards.limits import KindLimits
from dashboards.model import (
    JSON,
    NO_DATA,
    dashboard_link,
    field_config,
    influx_target,
    limit_thresholds,
    override,
    panel,
)
from seatwatch.core.site import Site
from seatwatch.core.vocabulary import ZoneKind

SEAT_W_M, SEAT_H_M = 2.0, 1.4  # a seat's box on the plan, in metres
MARGIN_M = 0.6  # zone box around its seats
MAX_WIDTH_PX = 1150
MAX_SCALE = 48.0  # pixels per metre on a small floor


def build(site: Site, limits: dict[ZoneKind, KindLimits], ds: JSON, seat_uid: str) -> JSON:
    scale = _scale(site)
    elements = [
        *(_zone_box(site, zone_id, scale) for zone_id in sorted(site.zones) if site.seats_in_zone(zone_id))
    ]
    for seat_id in sorted(site.seats):
        elements.extend(_seat(site, seat_id, scale))
    overrides = []
    for data_seat in sorted({site.data_seat(s) for s in site.seats}):
        noise = limits[site.zones[site.seats[data_seat].zone].kind].noise
        props: dict = {
            "links": [dashboard_link(f"Seat {data_seat} detail", seat_uid, f"var-seat={data_seat}")]
        }
        if noise:
            props["thresholds"] = limit_thresholds(noise)
        overrides.append(override(data_seat, **props))
    config = field_config("dB", decimals=1, overrides=overrides)
    config["defaults"]["color"] = {"mode": "thresholds"}
    config["defaults"]["noValue"] = "no data"
    height_px = max(s.y for s in site.seats.values()) * scale + (SEAT_H_M + 2 * MARGIN_M) * scale
    query = influx_target(
        ds, "A", panel_queries.seat_levels(site.id, panel_queries.CURRENT), alias="$tag_seat"
    )
    return panel(
        "canvas",
        "Floor plan: LAeq of the last 5 min against each zone's limits",
        ds,
        [query],
        (24, max(10, int(height_px / 30) + 2)),
        description="Seats at their site-file x/y; click a seat for its detail. Grey = no data.",
        config=config,
        options={
            "inlineEditing": False,
            "showAdvancedTypes": True,
            "panZoom": False,
            "infinitePan": False,
            "root": {
                "type": "frame",
                "name": "Floor",
                "elements": elements,
                "background": {"color": {"fixed": "transparent"}},
                "border": {"color": {"fixed": "dark-green"}},
                "constraint": {"horizontal": "left", "vertical": "top"},
            },
        },
    )


def _scale(site: Site) -> float:
    width_m = max(s.x for s in site.seats.values()) + SEAT_W_M + 2 * MARGIN_M
    return min(MAX_SCALE, MAX_WIDTH_PX / width_m)


def _placement(x_m: float, y_m: float, w_m: float, h_m: float, scale: float) -> JSON:
    return {
        "left": round(x_m * scale),
        "top": round(y_m * scale),
        "width": round(w_m * scale),
        "height": round(h_m * scale),
    }


def _element(kind: str, name: str, placement: JSON, text: JSON, background: JSON, **more: object) -> JSON:
    return {
        "type": kind,
        "name": name,
        "config": {
            "text": text,
            "align": "center",
            "valign": "middle",
            "color": {"fixed": "#000000"},
            "size": 12,
        },
        "background": background,
        "border": {"color": {"fixed": "#444444"}, "width": 1},
        "constraint": {"horizontal": "left", "vertical": "top"},
        "placement": placement,
        **more,
    }


def seat_box(site: Site, seat_id: str) -> tuple[float, float]:
    """Top-left corner (m) of a seat's box: the seat's x/y is the box's centre."""
    seat = site.seats[seat_id]
    return seat.x - SEAT_W_M / 2 + MARGIN_M, seat.y - SEAT_H_M / 2 + MARGIN_M


def _zone_box(site: Site, zone_id: str, scale: float) -> JSON:
    corners = [seat_box(site, s.id) for s in site.seats_in_zone(zone_id)]
    left = min(x for x, _ in corners) - MARGIN_M / 2
    top = min(y for _, y in corners) - MARGIN_M / 2
    right = max(x for x, _ in corners) + SEAT_W_M + MARGIN_M / 2
    bottom = max(y for _, y in corners) + SEAT_H_M + MARGIN_M / 2
    element = _element(
        "rectangle",
        f"zone {zone_id}",
        _placement(left, top, right - left, bottom - top, scale),
        {"mode": "fixed", "fixed": site.zones[zone_id].name},
        {"color": {"fixed": "rgba(120, 160, 255, 0.10)"}},
    )
    element["config"].update(align="left", valign="top")
    return element


def _seat(site: Site, seat_id: str, scale: float) -> list[JSON]:
    """The seat's coloured box (its data seat's LAeq) and its label just above it."""
    x, y = seat_box(site, seat_id)
    data_seat = site.data_seat(seat_id)
    box = _element(
        "rectangle",
        f"seat {seat_id}",
        _placement(x, y, SEAT_W_M, SEAT_H_M, scale),
        {"mode": "field", "field": data_seat, "fixed": ""},
        {"color": {"field": data_seat, "fixed": NO_DATA}},
    )
    label = _element(
        "text",
        f"label {seat_id}",
        _placement(x, y - 0.45, SEAT_W_M, 0.45, scale),
        {"mode": "fixed", "fixed": seat_id if data_seat == seat_id else f"{seat_id} (→{data_seat})"},
        {"color": {"fixed": "transparent"}},
    )
    label["border"] = {"color": {"fixed": "transparent"}, "width": 0}
    return [box, label]
