"""Sensor health: is every sensor alive, how much is it sending, can it measure this room, what does
ingest refuse, and when is each calibration due.

The site file is the list of sensors (issue #18): the roster and calibration tables start from a static
frame of the site's sensors and join the query results onto it, so a sensor that went quiet — or never
reported, or was never calibrated — stays in the table, marked, instead of silently dropping out.

``below_floor`` marks readings within ~3 dB of a microphone's self-noise floor (docs/standards.md §7): a
sensor that spends most of its time there cannot tell a quiet room from a compliant one, so its share of
seconds below the floor is shown per sensor, weighted by duration like every level.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dashboards import panel_queries
from dashboards.model import (
    FAIL,
    JSON,
    MIXED,
    PASS,
    custom_variable,
    field_config,
    hide_fields,
    influx_target,
    join_by,
    merge,
    null_as,
    override,
    panel,
    site_dashboard,
    static_target,
    table_options,
    targets,
    thresholds,
)
from seatwatch.core.site import Site
from seatwatch.core.vocabulary import Quantity

SHARE_FIELD = "share below floor"
STALE, NEVER = "STALE", "never calibrated"


def recent_column(quantity: Quantity) -> str:
    return f"{quantity} readings (last {panel_queries.SILENT_MINUTES} min)"


def build(site: Site, ds: JSON) -> JSON:
    panels = [
        *(roster_table(site, q, ds) for q in Quantity),
        *(last_reading_table(site, q, ds) for q in Quantity),
        panel(
            "timeseries",
            "Readings per second",
            ds,
            targets(ds, [panel_queries.readings_per_second(site.id, q) for q in Quantity]),
            (12, 8),
            config=field_config("reqps", decimals=2),
        ),
        _below_floor(site, ds),
        panel(
            "timeseries",
            "Rejected readings by reason",
            ds,
            [influx_target(ds, "A", panel_queries.rejects_by_reason(site.id), alias="$tag_reason")],
            (12, 8),
            description="Readings ingest refused (kept in the rejects measurement with the reason).",
            config=field_config(decimals=0),
            options={"legend": {"displayMode": "table", "placement": "right", "calcs": ["sum"]}},
        ),
        panel(
            "timeseries",
            "Bridge clock skew (bridge − ingest)",
            ds,
            [influx_target(ds, "A", panel_queries.bridge_clock_skew(site.id), alias="$tag_bridge")],
            (12, 8),
            description="Readings carry each bridge's own time and are never moved: a bridge whose clock is "
            "seconds off puts its readings in the wrong second (check its NTP). From the bridges' status.",
            config=field_config("s", decimals=2),
        ),
        *(calibration_table(site, q, ds) for q in Quantity),
    ]
    sensors = sorted(site.sensors)
    variable = custom_variable("sensor", "Sensor", [(s, s) for s in sensors], include_all=True)
    return site_dashboard(
        site,
        "health",
        "sensor health",
        panels,
        description="Every sensor of the site file: silent ones, readings/s, below-floor share, rejects, "
        "bridge clock skew, calibration due dates.",
        variables=[variable],
    )


def installed_at(site: Site, sensor: str) -> tuple[str, str]:
    """(seat, zone) of the sensor's current installation, or ("", "") when it is not installed now."""
    now = datetime.now(UTC)
    installation = site.installation_at(sensor, now)
    if installation is None:
        return "", ""
    return installation.seat, site.seats[installation.seat].zone


def sensor_frame(site: Site, quantity: Quantity) -> JSON:
    """A static frame (target A) of every sensor of the site file that measures ``quantity``."""
    sensors = sorted(s for s, sensor in site.sensors.items() if quantity in sensor.measures)
    places = [installed_at(site, s) for s in sensors]
    columns = {
        "sensor": sensors,
        "seat": [seat for seat, _ in places],
        "zone": [zone for _, zone in places],
        "bridge": [site.sensors[s].bridge for s in sensors],
    }
    return static_target("A", f"{quantity} sensors of the site file", columns)


def _site_list_panel(title: str, frame: JSON, query: JSON, column: str, config: JSON, ds: JSON) -> JSON:
    """A table of the site file's sensors (frame A) with one query's column joined on by sensor."""
    return panel(
        "table",
        title,
        MIXED,
        [frame, query],
        (12, 8),
        description="Rows come from the site file, so a sensor missing from the database still shows.",
        config=config,
        options=table_options(column),
        transformations=[hide_fields("Time"), join_by("sensor")],
    )


def roster_table(site: Site, quantity: Quantity, ds: JSON) -> JSON:
    """Every sensor of the site file measuring ``quantity``; no reading in the last minutes reads STALE."""
    column = recent_column(quantity)
    query = influx_target(ds, "B", panel_queries.recent_readings(site.id, quantity, column), table=True)
    cell = {"type": "color-background"}
    config = field_config(
        overrides=[
            override(
                column,
                mappings=[null_as(STALE, FAIL)],
                thresholds=thresholds(PASS),
                color={"mode": "thresholds"},
                custom_cellOptions=cell,
            )
        ]
    )
    title = (
        f"{quantity.capitalize()} sensors of the site file: STALE = silent {panel_queries.SILENT_MINUTES} min"
    )
    return _site_list_panel(title, sensor_frame(site, quantity), query, column, config, ds)


def calibration_table(site: Site, quantity: Quantity, ds: JSON) -> JSON:
    """Every sensor measuring ``quantity`` with its latest calibration's due date; none = never calibrated."""
    query = influx_target(ds, "B", panel_queries.calibration_due(site.id, quantity), table=True)
    config = field_config(
        overrides=[
            override(
                "valid until",
                unit="dateTimeAsIso",
                mappings=[null_as(NEVER, FAIL)],
                custom_cellOptions={"type": "color-text"},
            )
        ]
    )
    title = f"{quantity.capitalize()} calibrations: due date of every sensor (soonest first)"
    return _site_list_panel(title, sensor_frame(site, quantity), query, "valid until", config, ds)


def last_reading_table(site: Site, quantity: Quantity, ds: JSON) -> JSON:
    """Each sensor's last reading, oldest first: a sensor at the top that reported long ago is stale."""
    return panel(
        "table",
        f"{quantity.capitalize()} sensors, stalest first: last reading (time range)",
        ds,
        targets(ds, [panel_queries.last_reading(site.id, quantity)], table=True),
        (12, 8),
        config=field_config(overrides=[override("Time", unit="dateTimeFromNow", displayName="last reading")]),
        options=table_options("last reading"),
    )


def _below_floor(site: Site, ds: JSON) -> JSON:
    share = {
        "id": "calculateField",
        "options": {
            "mode": "binary",
            "binary": {"left": "below floor s", "operator": "/", "right": "measured s"},
            "alias": SHARE_FIELD,
            "replaceFields": False,
        },
    }
    return panel(
        "table",
        "Noise sensors: share of time below their self-noise floor",
        ds,
        targets(
            ds,
            [panel_queries.seconds_below_floor(site.id), panel_queries.seconds_measured(site.id)],
            table=True,
        ),
        (12, 8),
        config=field_config(overrides=[override(SHARE_FIELD, unit="percentunit", decimals=1)]),
        options=table_options(SHARE_FIELD, descending=True),
        transformations=[merge(), share],
    )
