"""Seat detail: one seat (the ``$seat`` variable) over time — LAeq, LAFmax, illuminance, its limits, and
the occupied hours shaded.

LAeq per ``$__interval`` bucket is ``10*log10(sum("exposure")/sum("dur"))``, so zooming out from a minute to
a month changes the bucket but never the meaning: each point is the energy level of its bucket. Limit
lines come from the rules profile of the seat's zone kind (see :func:`panel_queries.limit_line`); shading
comes from the site's shifts, so what is drawn is what the compliance engine calls "occupied".
"""

from __future__ import annotations

from dashboards import panel_queries
from dashboards.limits import KindLimits, Limit
from dashboards.model import (
    JSON,
    custom_variable,
    dashboard_link,
    field_config,
    hide_fields,
    influx_target,
    nav_link,
    override,
    panel,
    site_dashboard,
    site_uid,
    table_options,
    time_region,
)
from seatwatch.core.hours import DAY_NAMES
from seatwatch.core.site import Site
from seatwatch.core.vocabulary import Quantity, ZoneKind

SHADE = "rgba(120, 160, 255, 0.12)"
LIMIT_STYLE = {"custom.lineStyle": {"fill": "dash", "dash": [10, 10]}, "custom.fillOpacity": 0}


def build(site: Site, limits: dict[ZoneKind, KindLimits], ds: JSON) -> JSON:
    zones_by_kind: dict[ZoneKind, list[str]] = {}
    for zone in site.zones.values():
        zones_by_kind.setdefault(zone.kind, []).append(zone.id)
    noise_lines = _limit_lines(
        site, Quantity.NOISE, zones_by_kind, {k: v.noise for k, v in limits.items()}, ds
    )
    light_lines = _limit_lines(
        site, Quantity.LIGHT, zones_by_kind, {k: v.light for k, v in limits.items()}, ds
    )
    panels = [
        _series_panel(
            "LAeq (energy mean per interval) and limits",
            panel_queries.seat_laeq_series(site.id),
            noise_lines,
            "dB",
            ds,
        ),
        _series_panel("LAFmax per interval", panel_queries.seat_lafmax_series(site.id), [], "dB", ds),
        _series_panel(
            "Illuminance and limits", panel_queries.seat_lux_series(site.id), light_lines, "lux", ds
        ),
        _sensors_here(site, ds),
    ]
    seats = sorted(site.seats)
    return site_dashboard(
        site,
        "seat",
        "seat detail",
        panels,
        description="One seat over time; a seat without a sensor shows its proxy seat's data.",
        variables=[custom_variable("seat", "Seat", [(seat, site.data_seat(seat)) for seat in seats])],
        annotations=occupied_regions(site),
        links=[
            nav_link("Floor overview", site_uid(site, "floor")),
            nav_link("Sensor health", site_uid(site, "health")),
        ],
    )


def _sensors_here(site: Site, ds: JSON) -> JSON:
    """The sensors whose readings stood for this seat in the range, each linking to its health."""
    link = dashboard_link(
        "Health of sensor ${__data.fields.sensor}",
        site_uid(site, "health"),
        "var-sensor=${__data.fields.sensor}",
    )
    return panel(
        "table",
        "Sensors of this seat in the time range (click: sensor health)",
        ds,
        [influx_target(ds, "A", panel_queries.sensors_at_seat(site.id), table=True)],
        (24, 4),
        config=field_config(overrides=[override("sensor", links=[link])]),
        options=table_options("sensor"),
        transformations=[hide_fields("Time", "last dur")],
    )


def _series_panel(title: str, query: str, lines: list[tuple[str, JSON]], unit: str, ds: JSON) -> JSON:
    """The seat's series (target A) and its limit lines, drawn dashed."""
    overrides = [override(label, **LIMIT_STYLE) for label, _ in lines]
    return panel(
        "timeseries",
        title,
        ds,
        [influx_target(ds, "A", query), *(target for _, target in lines)],
        (24, 8),
        config=field_config(unit, decimals=1, overrides=overrides),
        options={"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
    )


def _limit_lines(
    site: Site,
    quantity: Quantity,
    zones_by_kind: dict[ZoneKind, list[str]],
    by_kind: dict[ZoneKind, Limit | None],
    ds: JSON,
) -> list[tuple[str, JSON]]:
    """(label, target B, C, ...) for the required and target lines of every zone kind that has a limit;
    only the selected seat's own kind returns data."""
    out: list[tuple[str, JSON]] = []
    for kind in sorted(by_kind):
        limit = by_kind[kind]
        if limit is None:
            continue
        for name, value in (("required", limit.required), ("target", limit.target)):
            label = f"{name} {value:g} ({kind}, {limit.check})"
            query = panel_queries.limit_line(site.id, quantity, zones_by_kind[kind], value, label)
            out.append((label, influx_target(ds, chr(ord("B") + len(out)), query)))
    return out


def occupied_regions(site: Site) -> list[JSON]:
    """One weekly time region per shift and weekday (closed dates are not drawn: Grafana regions repeat)."""
    out = []
    for shift in site.hours.shifts:
        crosses_midnight = shift.end_min <= shift.start_min or shift.end_min == 24 * 60
        for day in sorted(shift.days):
            end_day = (day + 1) % 7 if crosses_midnight else day
            out.append(
                time_region(
                    f"Occupied: {shift.name}, {DAY_NAMES[day]}",
                    SHADE,
                    day + 1,
                    _clock(shift.start_min),
                    end_day + 1,
                    _clock(shift.end_min % (24 * 60)),
                    site.timezone,
                )
            )
    return out


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
