"""Floor overview: is every seat within its limits right now, what does the site's compliance say, and
which sensors of the site file have gone quiet.

The facilities team's first screen. A table per zone (limits differ by zone kind: an agent seat and a
meeting room are held to different profile checks) shows each seat's LAeq of the last five minutes — an
energy mean — and its illuminance, coloured by the same required/target bands the compliance engine uses.
"""

from __future__ import annotations

from dashboards import floor_plan_panel, panel_queries
from dashboards.limits import KindLimits
from dashboards.model import (
    FAIL,
    JSON,
    PASS,
    dashboard_link,
    field_config,
    fixed_colour,
    hide_fields,
    limit_thresholds,
    merge,
    nav_link,
    override,
    panel,
    site_dashboard,
    site_uid,
    stat_options,
    table_options,
    targets,
    thresholds,
)
from dashboards.sensor_health import roster_table
from seatwatch.core.site import Site
from seatwatch.core.vocabulary import VERDICT_COLOURS, Quantity, ZoneKind

ROW_HEIGHT_PER_SEAT = 0.8


def build(site: Site, limits: dict[ZoneKind, KindLimits], ds: JSON) -> JSON:
    seat_uid = site_uid(site, "seat")
    panels = [
        _compliance_summary(site, ds),
        *_reporting(site, ds),
        floor_plan_panel.build(site, limits, ds, seat_uid),
    ]
    for zone in sorted(site.zones.values(), key=lambda z: z.id):
        seats = len(site.seats_in_zone(zone.id))
        if seats:
            panels.append(_zone_table(site, zone.id, zone.name, limits[zone.kind], seats, ds, seat_uid))
    panels.extend(roster_table(site, q, ds) for q in Quantity)
    return site_dashboard(
        site,
        "floor",
        "floor overview",
        panels,
        description="Every seat's noise and light now against its profile limits; compliance; stale sensors.",
        links=[nav_link("Seat detail", seat_uid), nav_link("Sensor health", site_uid(site, "health"))],
    )


def _compliance_summary(site: Site, ds: JSON) -> JSON:
    queries_ = [panel_queries.latest_verdict_count(site.id, v) for v in panel_queries.VERDICTS]
    colours = [override(v, color=fixed_colour(c)) for v, c in VERDICT_COLOURS.items()]
    config = field_config(decimals=0, overrides=colours)
    config["defaults"]["noValue"] = "0"
    return panel(
        "stat",
        "Compliance: latest verdict of every seat and check",
        ds,
        targets(ds, queries_),
        (12, 5),
        description="From the compliance measurement written by 'seatwatch analyze', within the time range.",
        config=config,
        options=stat_options(),
    )


def _reporting(site: Site, ds: JSON) -> list[JSON]:
    """One stat per quantity: red while fewer sensors report than the site file installs."""
    out = []
    for quantity in Quantity:
        expected = sum(quantity in s.measures for s in site.sensors.values())
        config = field_config(decimals=0, steps=thresholds(FAIL, [(float(expected), PASS)]))
        config["defaults"]["noValue"] = "0"
        out.append(
            panel(
                "stat",
                f"{quantity.capitalize()} sensors reporting (last 5 min) of {expected}",
                ds,
                targets(ds, [panel_queries.sensors_reporting(site.id, quantity)]),
                (6, 5),
                config=config,
                options=stat_options(),
            )
        )
    return out


def _zone_table(
    site: Site, zone: str, name: str, limits: KindLimits, seats: int, ds: JSON, seat_uid: str
) -> JSON:
    """Each seat's levels now; the seat cell links to that seat's detail over the same time range."""
    cell = {"type": "color-background"}
    columns = (("LAeq", "dB", 1, limits.noise), ("lux", "lux", 0, limits.light))
    link = dashboard_link("Seat ${__data.fields.seat} detail", seat_uid, "var-seat=${__data.fields.seat}")
    overrides = [override("seat", links=[link])] + [
        override(
            name, unit=unit, decimals=decimals, thresholds=limit_thresholds(lim), custom_cellOptions=cell
        )
        for name, unit, decimals, lim in columns
        if lim
    ]
    return panel(
        "table",
        f"{name}: now (LAeq 5 min, lux)",
        ds,
        targets(
            ds,
            [
                panel_queries.seat_levels(site.id, panel_queries.CURRENT, [zone]),
                panel_queries.seat_lux(site.id, panel_queries.CURRENT, [zone]),
            ],
            table=True,
        ),
        (12, max(6, int(seats * ROW_HEIGHT_PER_SEAT) + 3)),
        description=_limits_text(limits),
        config=field_config(overrides=overrides),
        options=table_options("seat"),
        transformations=[merge(), hide_fields("Time")],
    )


def _limits_text(limits: KindLimits) -> str:
    parts = [
        f"{q}: required {lim.required:g}, target {lim.target:g} {lim.unit} ({lim.check}; {lim.source})"
        for q, lim in ((Quantity.NOISE, limits.noise), (Quantity.LIGHT, limits.light))
        if lim
    ]
    return "Colours follow the rules profile. " + "; ".join(parts)
