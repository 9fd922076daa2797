"""Compliance trend: how the site's verdicts move day by day, and which seats fail most or are loudest.

Days are the site's local calendar days (``tz()`` in the query), as the compliance engine's periods are.
"Loudest" is each seat's LAeq over the whole range, an energy mean like every level.
"""

from __future__ import annotations

from dashboards import panel_queries
from dashboards.model import (
    JSON,
    field_config,
    fixed_colour,
    hide_fields,
    merge,
    override,
    panel,
    site_dashboard,
    table_options,
    targets,
)
from seatwatch.core.site import Site
from seatwatch.core.vocabulary import VERDICT_COLOURS

WORST = 10


def build(site: Site, ds: JSON) -> JSON:
    verdict_queries = [
        panel_queries.verdicts_per_day(site.id, v, site.timezone) for v in panel_queries.VERDICTS
    ]
    panels = [
        panel(
            "barchart",
            "Verdicts per day",
            ds,
            targets(ds, verdict_queries, table=True),
            (24, 9),
            config=field_config(
                decimals=0, overrides=[override(v, color=fixed_colour(c)) for v, c in VERDICT_COLOURS.items()]
            ),
            options={"stacking": "normal", "xTickLabelRotation": -45, "legend": {"displayMode": "list"}},
            transformations=[merge()],
        ),
        _worst("Seats with the most failed checks", panel_queries.failures_per_seat(site.id), "fail", 0, ds),
        _worst(
            "Loudest seats (LAeq over the range)",
            panel_queries.seat_levels(site.id, panel_queries.RANGE),
            "LAeq",
            1,
            ds,
        ),
    ]
    return site_dashboard(
        site,
        "trend",
        "compliance trend",
        panels,
        description="Verdict counts per day and the worst seats, from the compliance and noise measurements.",
        time_from="now-30d",
    )


def _worst(title: str, query: str, field: str, decimals: int, ds: JSON) -> JSON:
    return panel(
        "table",
        title,
        ds,
        targets(ds, [query], table=True),
        (12, 10),
        config=field_config("dB" if field == "LAeq" else "none", decimals=decimals),
        options=table_options(field, descending=True),
        transformations=[hide_fields("Time"), {"id": "limit", "options": {"limitField": WORST}}],
    )
