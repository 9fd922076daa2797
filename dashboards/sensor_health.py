"""Sensor health: is every sensor alive, how much is it sending, can it measure this room, what does
ingest refuse, and when is each calibration due.

``below_floor`` marks readings within ~3 dB of a microphone's self-noise floor (STANDARDS.md §7): a sensor
that spends most of its time there cannot tell a quiet room from a compliant one, so its share of seconds
below the floor is shown per sensor, weighted by duration like every level.
"""

from __future__ import annotations

from dashboards import queries
from dashboards.model import (
    JSON,
    field_config,
    influx_target,
    merge,
    override,
    panel,
    site_dashboard,
    table_options,
    targets,
)
from seatwatch.site import Site

SHARE_FIELD = "share below floor"


def build(site: Site, ds: JSON) -> JSON:
    panels = [
        *(last_reading_table(site, q, ds, queries.RANGE, "time range") for q in ("noise", "light")),
        panel(
            "timeseries",
            "Readings per second",
            ds,
            targets(ds, [queries.readings_per_second(site.id, q) for q in ("noise", "light")]),
            (12, 8),
            config=field_config("reqps", decimals=2),
        ),
        _below_floor(site, ds),
        panel(
            "timeseries",
            "Rejected readings by reason",
            ds,
            [influx_target(ds, "A", queries.rejects_by_reason(site.id), alias="$tag_reason")],
            (12, 8),
            description="Readings ingest refused (kept in the rejects measurement with the reason).",
            config=field_config(decimals=0),
            options={"legend": {"displayMode": "table", "placement": "right", "calcs": ["sum"]}},
        ),
        _calibrations(site, ds),
    ]
    return site_dashboard(
        site,
        "health",
        "sensor health",
        panels,
        description="Last reading per sensor, readings/s, below-floor share, rejects, calibration due dates.",
    )


def last_reading_table(site: Site, quantity: str, ds: JSON, when: str, span: str) -> JSON:
    """Each sensor's last reading, oldest first: a sensor at the top that reported long ago is stale."""
    return panel(
        "table",
        f"{quantity.capitalize()} sensors, stalest first: last reading ({span})",
        ds,
        targets(ds, [queries.last_reading(site.id, quantity, when)], table=True),
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
        targets(ds, [queries.seconds_below_floor(site.id), queries.seconds_measured(site.id)], table=True),
        (12, 8),
        config=field_config(overrides=[override(SHARE_FIELD, unit="percentunit", decimals=1)]),
        options=table_options(SHARE_FIELD, descending=True),
        transformations=[merge(), share],
    )


def _calibrations(site: Site, ds: JSON) -> JSON:
    return panel(
        "table",
        "Calibrations: when done, when due (soonest first)",
        ds,
        targets(ds, [queries.calibration_due(site.id)], table=True),
        (12, 8),
        config=field_config(
            overrides=[
                override("Time", unit="dateTimeFromNow", displayName="calibrated"),
                override("valid until", unit="dateTimeAsIso"),
            ]
        ),
        options=table_options("valid until"),
    )
