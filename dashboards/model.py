"""Builders for Grafana's dashboard JSON model: dashboards, panels, InfluxQL targets, thresholds.

We build the JSON model with plain Python rather than grafana-foundation-sdk (README.md): the SDK has no
InfluxDB/InfluxQL query type, its default build emits JSON its own Grafana 10.1 parser rejects
(docs/dependencies.md), and the JSON model is what both ``push`` (HTTP API) and ``export`` (file provisioning)
hand to Grafana — keeping it as dicts makes "one source of truth" literal. Each builder produces exactly
the keys Grafana 10/11 stores, so a dashboard read back from Grafana compares equal to the one we built.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dashboards.limits import Limit
from seatwatch.core.site import Site
from seatwatch.core.vocabulary import VERDICT_COLOURS, Verdict

JSON = dict[str, Any]
GRID_WIDTH = 24
SCHEMA_VERSION = 39
# Grafana limits uids to 40 characters of [A-Za-z0-9_-].
UID_MAX = 40
_UID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

# Limit bands, verdict counts and status cells in the verdicts' colours, as the report paints them; a seat
# with no data takes insufficient data's grey.
PASS, MARGINAL, FAIL = (VERDICT_COLOURS[v] for v in (Verdict.PASS, Verdict.MARGINAL, Verdict.FAIL))
NO_DATA = VERDICT_COLOURS[Verdict.INSUFFICIENT_DATA]


def stable_uid(*parts: str) -> str:
    """A uid derived only from names (site id, dashboard kind), so every push addresses the same object.

    Long site ids are cut and suffixed with a hash of the full name so two sites never collide.
    """
    text = _UID_UNSAFE.sub("-", "-".join(parts))
    if len(text) <= UID_MAX:
        return text
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    return f"{text[: UID_MAX - 9]}-{digest}"


# Grafana's built-in data sources: "-- Grafana --" (time regions, snapshot frames) and "-- Mixed --" (a panel
# whose targets each name their own data source).
BUILTIN = {"type": "datasource", "uid": "grafana"}
MIXED = {"type": "datasource", "uid": "-- Mixed --"}


def datasource_ref(uid: str) -> JSON:
    return {"type": "influxdb", "uid": uid}


def static_target(ref_id: str, name: str, columns: Mapping[str, Sequence[Any]]) -> JSON:
    """Rows carried in the dashboard itself: a "-- Grafana --" snapshot query of one data frame.

    This is how a table lists every sensor of the site file even when InfluxDB knows nothing of it (a
    sensor that never reported or was never calibrated): the site file is the list, queries fill it in.
    """
    fields = [{"name": column, "type": "string"} for column in columns]
    frame = {
        "schema": {"name": name, "refId": ref_id, "fields": fields},
        "data": {"values": [list(v) for v in columns.values()]},
    }
    return {"datasource": BUILTIN, "refId": ref_id, "queryType": "snapshot", "snapshot": [frame]}


def join_by(field: str) -> JSON:
    """Outer join of every frame on one column: rows of the static frame stay even with no data.

    ``outerTabular`` is Grafana's outer join for tables; its ``outer`` mode is meant for time series. An
    older Grafana 10 without ``outerTabular`` takes its default branch, the ``outer`` join."""
    return {"id": "joinByField", "options": {"byField": field, "mode": "outerTabular"}}


def null_as(text: str, colour: str) -> JSON:
    """A value mapping that shows a missing value (no row from the query) as ``text`` in ``colour``."""
    return {
        "type": "special",
        "options": {"match": "null", "result": {"text": text, "color": colour, "index": 0}},
    }


def data_link(title: str, url: str) -> JSON:
    return {"title": title, "url": url, "targetBlank": False}


def dashboard_link(title: str, uid: str, variables: str = "") -> JSON:
    """A data link to another dashboard keeping the time range (``${__url_time_range}``)."""
    query = f"?{variables}&${{__url_time_range}}" if variables else "?${__url_time_range}"
    return data_link(title, f"/d/{uid}/{query}")


def influx_target(ds: JSON, ref_id: str, query: str, table: bool = False, alias: str = "") -> JSON:
    """A raw InfluxQL target. ``rawQuery`` keeps Grafana from rebuilding the query from its editor model,
    which would turn our energy average back into an arithmetic one."""
    target: JSON = {
        "datasource": ds,
        "refId": ref_id,
        "query": query,
        "rawQuery": True,
        "resultFormat": "table" if table else "time_series",
    }
    if alias:
        target["alias"] = alias
    return target


def targets(ds: JSON, queries: Sequence[str], table: bool = False) -> list[JSON]:
    """Targets A, B, C... for several queries of one panel."""
    return [influx_target(ds, chr(ord("A") + n), q, table) for n, q in enumerate(queries)]


def thresholds(base: str, steps: Iterable[tuple[float, str]] = ()) -> JSON:
    return {
        "mode": "absolute",
        "steps": [{"color": base, "value": None}, *({"color": c, "value": v} for v, c in steps)],
    }


def limit_thresholds(limit: Limit) -> JSON:
    """Colour bands that agree with the compliance engine's verdicts at the boundary itself.

    Grafana switches colour when a value is ≥ a step; the engine passes a 'max' limit when value ≤ target.
    Steps just above the limit (``math.nextafter``) make a value equal to the limit the engine's colour.
    """
    if limit.direction == "max":
        up = math.inf
        return thresholds(
            PASS, [(math.nextafter(limit.target, up), MARGINAL), (math.nextafter(limit.required, up), FAIL)]
        )
    return thresholds(FAIL, [(limit.required, MARGINAL), (limit.target, PASS)])


def field_config(
    unit: str = "none", decimals: int | None = None, steps: JSON | None = None, overrides: Sequence[JSON] = ()
) -> JSON:
    defaults: JSON = {"unit": unit, "color": {"mode": "thresholds" if steps else "palette-classic"}}
    if decimals is not None:
        defaults["decimals"] = decimals
    if steps:
        defaults["thresholds"] = steps
    return {"defaults": defaults, "overrides": list(overrides)}


def override(field_name: str, **properties: Any) -> JSON:
    """Per-field settings, e.g. ``override("LAeq", unit="dB", thresholds=...)``; ``custom_x`` sets
    ``custom.x`` (Grafana's namespace for visualisation-specific properties)."""
    props = [{"id": re.sub(r"^custom_", "custom.", k), "value": v} for k, v in properties.items()]
    return {"matcher": {"id": "byName", "options": field_name}, "properties": props}


def fixed_colour(name: str) -> JSON:
    return {"mode": "fixed", "fixedColor": name}


def panel(
    kind: str,
    title: str,
    ds: JSON,
    panel_targets: list[JSON],
    size: tuple[int, int],
    description: str = "",
    config: JSON | None = None,
    options: JSON | None = None,
    transformations: Sequence[JSON] = (),
) -> JSON:
    """A panel without id or position: :func:`dashboard` lays panels out and numbers them."""
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": ds,
        "targets": panel_targets,
        "fieldConfig": config or field_config(),
        "options": options or {},
        "transformations": list(transformations),
        "gridPos": {"w": size[0], "h": size[1]},
    }


def table_options(sort_by: str | None = None, descending: bool = False) -> JSON:
    options: JSON = {"showHeader": True, "cellHeight": "sm"}
    if sort_by:
        options["sortBy"] = [{"displayName": sort_by, "desc": descending}]
    return options


def stat_options() -> JSON:
    """A stat showing each query's latest value, its background in the value's colour."""
    return {"reduceOptions": {"calcs": ["lastNotNull"], "values": False}, "colorMode": "background"}


def hide_fields(*names: str) -> JSON:
    """The 'organize' transformation hiding columns (InfluxQL tables always carry a Time column)."""
    return {"id": "organize", "options": {"excludeByName": dict.fromkeys(names, True)}}


def merge() -> JSON:
    """Join the frames of several table queries on their common columns (e.g. the seat tag)."""
    return {"id": "merge", "options": {}}


def custom_variable(
    name: str, label: str, choices: Sequence[tuple[str, str]], include_all: bool = False
) -> JSON:
    """A variable whose choices come from the site file (``text : value`` lets a seat without its own
    sensor select its proxy seat's data under its own name). With ``include_all`` the first choice is
    "All", which Grafana writes into a regex as ``allValue`` (``.*``)."""
    options = [{"text": text, "value": value} for text, value in choices]
    if include_all:
        options.insert(0, {"text": "All", "value": "$__all"})
    variable: JSON = {
        "type": "custom",
        "name": name,
        "label": label,
        "query": ",".join(text if text == value else f"{text} : {value}" for text, value in choices),
        "current": {**options[0], "selected": True},
        "options": [{**option, "selected": n == 0} for n, option in enumerate(options)],
        "multi": False,
        "includeAll": include_all,
        "hide": 0,
        "skipUrlSync": False,
    }
    if include_all:
        variable["allValue"] = ".*"
    return variable


def time_region(name: str, colour: str, day: int, start: str, end_day: int, end: str, tz: str) -> JSON:
    """A Grafana built-in 'time regions' annotation: one weekly window, drawn on every time series panel.

    Days are ISO (Monday = 1). One region per weekday is unambiguous: a Monday–Friday region with clock
    times would be read as one span from Monday's start to Friday's end.
    """
    return {
        "datasource": {"type": "datasource", "uid": "grafana"},
        "enable": True,
        "hide": True,
        "iconColor": colour,
        "name": name,
        "target": {
            "refId": "Anno",
            "queryType": "timeRegions",
            "timeRegion": {
                "fromDayOfWeek": day,
                "from": start,
                "toDayOfWeek": end_day,
                "to": end,
                "timezone": tz,
            },
        },
    }


def site_uid(site: Site, kind: str) -> str:
    """The fixed uid of one of a site's dashboards (``floor``, ``seat``, ``health``, ``trend``)."""
    return stable_uid("sw", site.id, kind)


def site_dashboard(site: Site, kind: str, title: str, panels: Sequence[JSON], **more: Any) -> JSON:
    """A dashboard of ``site``: uid from the site id and ``kind``, titled and tagged by site, in its time
    zone (so days, shading and axes are the floor's local time)."""
    return dashboard(
        site_uid(site, kind),
        f"{site.name or site.id} — {title}",
        panels,
        tags=["seatwatch", site.id],
        timezone=site.timezone,
        **more,
    )


def dashboard(
    uid: str,
    title: str,
    panels: Sequence[JSON],
    tags: Sequence[str],
    timezone: str,
    description: str = "",
    variables: Sequence[JSON] = (),
    annotations: Sequence[JSON] = (),
    time_from: str = "now-24h",
    links: Sequence[JSON] = (),
) -> JSON:
    """The dashboard model; panels flow left to right on Grafana's 24-column grid and are numbered."""
    placed: list[JSON] = []
    x = y = row_height = 0
    for number, item in enumerate(panels, start=1):
        w, h = item["gridPos"]["w"], item["gridPos"]["h"]
        if x + w > GRID_WIDTH:
            x, y, row_height = 0, y + row_height, 0
        placed.append({**item, "id": number, "gridPos": {"x": x, "y": y, "w": w, "h": h}})
        x += w
        row_height = max(row_height, h)
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": list(tags),
        "timezone": timezone,
        "editable": False,
        "schemaVersion": SCHEMA_VERSION,
        "time": {"from": time_from, "to": "now"},
        "refresh": "1m",
        "templating": {"list": list(variables)},
        "annotations": {"list": list(annotations)},
        "panels": placed,
        "links": list(links),
    }


def nav_link(title: str, uid: str) -> JSON:
    """A link in the dashboard's header to another dashboard, keeping the time range and variables."""
    return {
        "title": title,
        "type": "link",
        "url": f"/d/{uid}/",
        "keepTime": True,
        "includeVars": True,
        "asDropdown": False,
        "icon": "dashboard",
        "tags": [],
        "targetBlank": False,
        "tooltip": "",
    }
