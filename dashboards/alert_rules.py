"""Grafana-managed alert rules generated from the site file and its rules profile.

What a facilities team wants to hear about, each as a rule whose query runs against the same InfluxDB
data source as the dashboards (every statement is in :mod:`dashboards.panel_queries` or built here from it):

- **noise** — per zone: each seat's LAeq over the last ``NOISE_WINDOW_MIN`` minutes, an energy mean
  (``10*log10(sum(exposure)/sum(dur))``), above the profile's *required* limit of that zone kind. One
  alert instance per seat (the query groups by ``seat``, so ``seat`` is a label of the instance).
- **light** — per zone: each seat's mean illuminance over the window below the required limit.
- **silent** — per sensor of the site file: nothing received for ``SILENT_MINUTES``. A silent sensor
  returns no rows at all, so the rule alerts on *no data*; a rule per sensor is what makes a sensor that
  never reported alert too (a query over all sensors cannot return a row for one that sent nothing).
- **calibration** — per sensor and quantity: no calibration performed within the last
  ``valid_days − due_days`` days, i.e. due within ``due_days`` for records of the usual validity (InfluxQL
  cannot compare a field with now(), see dashboards/README.md); never calibrated alerts as well.
- **ingest** — per site: no reading stored for ``INGEST_LAG_MIN`` minutes (ingest down or lagging), and
  more than ``REJECTS_PER_WINDOW`` readings refused in a window (ingest degraded).

Occupied hours: the noise and light rules hold the limits that apply while people work. They are meant to
notify only during the site's shifts, so the bundle also carries the site's occupied hours as a Grafana
time interval (``seatwatch-<site>-occupied``) to set as the *active time interval* of the notification
policy that routes them (contact points and policies stay the user's).

Every rule carries the labels ``site``, ``check`` and, where they apply, ``zone``, ``seat`` and ``sensor``,
and a summary in the site's language (``zh`` or ``en``).
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboards import panel_queries
from dashboards.limits import KindLimits
from dashboards.model import JSON, stable_uid
from dashboards.sensor_health import installed_at
from seatwatch.core.hours import DAY_NAMES
from seatwatch.core.site import Site
from seatwatch.core.vocabulary import Quantity, ZoneKind

NOISE_WINDOW_MIN = 15
LIGHT_WINDOW_MIN = 15
INGEST_LAG_MIN = 5
REJECTS_WINDOW_MIN = 15
REJECTS_PER_WINDOW = 10
CALIBRATION_DUE_DAYS = 30
CALIBRATION_VALID_DAYS = 365  # the validity `seatwatch calibrate` gives a record unless told otherwise
INTERVAL_S = 60
EXPR = "__expr__"
LANGUAGES = ("zh", "en")

SUMMARIES = {
    "noise": {
        "zh": "{zone}座位 {{{{ $labels.seat }}}} 最近 {window} 分钟 LAeq（能量平均）为 "
        '{{{{ printf "%.1f" $values.B.Value }}}} dB(A)，超过要求限值 {limit:g} dB(A)（{check}，{source}）',
        "en": "{zone} seat {{{{ $labels.seat }}}}: LAeq over the last {window} min (energy mean) is "
        '{{{{ printf "%.1f" $values.B.Value }}}} dB(A), above the required {limit:g} dB(A) '
        "({check}, {source})",
    },
    "light": {
        "zh": "{zone}座位 {{{{ $labels.seat }}}} 最近 {window} 分钟平均照度 "
        '{{{{ printf "%.0f" $values.B.Value }}}} lx，低于要求 {limit:g} lx（{check}，{source}）',
        "en": "{zone} seat {{{{ $labels.seat }}}}: mean illuminance over the last {window} min is "
        '{{{{ printf "%.0f" $values.B.Value }}}} lx, below the required {limit:g} lx ({check}, {source})',
    },
    "silent": {
        "zh": "传感器 {sensor}（座位 {seat}）已 {minutes} 分钟没有{quantity}读数",
        "en": "Sensor {sensor} (seat {seat}) has sent no {quantity} reading for {minutes} min",
    },
    "calibration": {
        "zh": "传感器 {sensor} 的{quantity}校准将在 {days} 天内到期（或从未校准）",
        "en": "Sensor {sensor}: {quantity} calibration falls due within {days} days (or was never done)",
    },
    "ingest-lag": {
        "zh": "站点 {site} 已 {minutes} 分钟没有写入任何读数：ingest 停止或滞后",
        "en": "Site {site}: no reading stored for {minutes} min — ingest is down or lagging",
    },
    "ingest-rejects": {
        "zh": '站点 {site} 最近 {minutes} 分钟有 {{{{ printf "%.0f" $values.B.Value }}}} '
        "条读数被 ingest 拒绝",
        "en": 'Site {site}: ingest refused {{{{ printf "%.0f" $values.B.Value }}}} readings in {minutes} min',
    },
}
QUANTITY_WORDS = {
    "zh": {Quantity.NOISE: "噪声", Quantity.LIGHT: "照度"},
    "en": {Quantity.NOISE: "noise", Quantity.LIGHT: "light"},
}


@dataclass(frozen=True)
class RuleGroup:
    """One Grafana rule group: rules evaluated together every ``interval_s`` seconds, in one folder."""

    title: str
    interval_s: int
    rules: tuple[JSON, ...]

    def body(self, folder_uid: str) -> JSON:
        """The group as the provisioning HTTP API takes it (``PUT .../rule-groups/{group}``)."""
        return {
            "title": self.title,
            "folderUid": folder_uid,
            "interval": self.interval_s,
            "rules": [{**rule, "folderUID": folder_uid, "ruleGroup": self.title} for rule in self.rules],
        }


def build(
    site: Site, limits: dict[ZoneKind, KindLimits], ds_uid: str, language: str
) -> tuple[RuleGroup, ...]:
    ds = _Rules(site, ds_uid, language)
    seats: list[JSON] = []
    for zone in sorted(site.zones.values(), key=lambda z: z.id):
        if not site.seats_in_zone(zone.id):
            continue
        kind = limits[zone.kind]
        if kind.noise:
            seats.append(
                ds.zone_rule(
                    Quantity.NOISE, zone.id, kind.noise.check, kind.noise.required, kind.noise.source
                )
            )
        if kind.light:
            seats.append(
                ds.zone_rule(
                    Quantity.LIGHT, zone.id, kind.light.check, kind.light.required, kind.light.source
                )
            )
    sensors: list[JSON] = []
    for sensor_id in sorted(site.sensors):
        measures = site.sensors[sensor_id].measures
        sensors.append(
            ds.silent_rule(sensor_id, Quantity.NOISE if Quantity.NOISE in measures else measures[0])
        )
        sensors.extend(ds.calibration_rule(sensor_id, quantity) for quantity in measures)
    ingest = ds.ingest_rules()
    return tuple(
        RuleGroup(f"seatwatch {site.id} {name}", INTERVAL_S, tuple(rules))
        for name, rules in (("seats", seats), ("sensors", sensors), ("ingest", ingest))
        if rules
    )


def occupied_interval(site: Site) -> JSON:
    """The site's shifts as a Grafana time interval (the mute-timings API's format), in its time zone."""
    intervals = []
    for shift in site.hours.shifts:
        end = shift.end_min if shift.end_min > shift.start_min else 24 * 60
        days = [DAY_NAMES[d].lower() for d in sorted(shift.days)]
        intervals.append(
            {
                "times": [{"start_time": _clock(shift.start_min), "end_time": _clock(end)}],
                "weekdays": [_full_day(d) for d in days],
                "location": site.timezone,
            }
        )
        if shift.end_min <= shift.start_min and shift.end_min:
            # A night shift's part after midnight belongs to the next weekday.
            after = [DAY_NAMES[(d + 1) % 7].lower() for d in sorted(shift.days)]
            intervals.append(
                {
                    "times": [{"start_time": "00:00", "end_time": _clock(shift.end_min)}],
                    "weekdays": [_full_day(d) for d in after],
                    "location": site.timezone,
                }
            )
    return {"name": occupied_interval_name(site), "time_intervals": intervals}


def occupied_interval_name(site: Site) -> str:
    return f"seatwatch-{site.id}-occupied"


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _full_day(short: str) -> str:
    return next(day for day in WEEKDAYS if day.startswith(short[:3]))


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _expression(ref_id: str, kind: str, source: str, **model: object) -> JSON:
    """A server-side expression step (``__expr__``) reading the result of step ``source``."""
    return {
        "refId": ref_id,
        "relativeTimeRange": {"from": 0, "to": 0},
        "datasourceUid": EXPR,
        "model": {
            "refId": ref_id,
            "datasource": {"type": EXPR, "uid": EXPR},
            "type": kind,
            "expression": source,
            **model,
        },
    }


class _Rules:
    """Builds the rules of one site; holds what every rule shares (site, data source, language)."""

    def __init__(self, site: Site, ds_uid: str, language: str) -> None:
        self.site = site
        self.ds_uid = ds_uid
        self.language = language

    def _text(self, kind: str, **values: object) -> str:
        return SUMMARIES[kind][self.language].format(**values)

    def _quantity(self, quantity: Quantity) -> str:
        return QUANTITY_WORDS[self.language][quantity]

    def _query(self, query: str, window_s: int) -> JSON:
        return {
            "refId": "A",
            "relativeTimeRange": {"from": window_s, "to": 0},
            "datasourceUid": self.ds_uid,
            "model": {
                "refId": "A",
                "datasource": {"type": "influxdb", "uid": self.ds_uid},
                "query": query,
                "rawQuery": True,
                "resultFormat": "time_series",
                "intervalMs": 1000,
                "maxDataPoints": 43200,
            },
        }

    def _rule(
        self,
        name: str,
        title: str,
        query: str,
        window_s: int,
        comparison: tuple[str, float],
        no_data: str,
        labels: dict[str, str],
        summary: str,
        pending: str = "0s",
    ) -> JSON:
        """A → reduce (last value of each series) → threshold C, the shape Grafana's rule editor builds."""
        operator, value = comparison
        reduce = _expression("B", "reduce", "A", reducer="last", settings={"mode": "dropNN"})
        condition = {"evaluator": {"type": operator, "params": [value]}}
        threshold = _expression("C", "threshold", "B", conditions=[condition])
        return {
            "uid": stable_uid("sw", self.site.id, name),
            "title": title,
            "condition": "C",
            "data": [self._query(query, window_s), reduce, threshold],
            "noDataState": no_data,
            "execErrState": "Error",
            "for": pending,
            "isPaused": False,
            "orgID": 1,
            "labels": {"site": self.site.id, **labels},
            "annotations": {"summary": summary},
        }

    def zone_rule(self, quantity: Quantity, zone: str, check: str, required: float, source: str) -> JSON:
        name = self.site.zones[zone].name
        if quantity == Quantity.NOISE:
            query = panel_queries.seat_levels(self.site.id, panel_queries.RANGE, [zone])
            window, comparison, side = NOISE_WINDOW_MIN, ("gt", required), "above"
        else:
            query = panel_queries.seat_lux(self.site.id, panel_queries.RANGE, [zone])
            window, comparison, side = LIGHT_WINDOW_MIN, ("lt", required), "below"
        summary = self._text(quantity, zone=name, window=window, limit=required, check=check, source=source)
        return self._rule(
            f"{quantity}-{zone}",
            f"{name}: seat {quantity} {side} {required:g} ({check})",
            query,
            window * 60,
            comparison,
            "OK",  # no readings is the silent rule's business, not a limit breach
            {"zone": zone, "check": check, "hours": "occupied"},
            summary,
            pending="5m",
        )

    def silent_rule(self, sensor: str, quantity: Quantity) -> JSON:
        seat, zone = installed_at(self.site, sensor)
        query = panel_queries.sensor_readings(self.site.id, quantity, sensor)
        summary = self._text(
            "silent",
            sensor=sensor,
            seat=seat or "-",
            minutes=panel_queries.SILENT_MINUTES,
            quantity=self._quantity(quantity),
        )
        labels = {"check": "sensor-silent", "sensor": sensor, "zone": zone, "seat": seat}
        return self._rule(
            f"silent-{sensor}",
            f"Sensor {sensor} silent {panel_queries.SILENT_MINUTES} min",
            query,
            panel_queries.SILENT_MINUTES * 60,
            ("lt", 1),
            "Alerting",  # a silent sensor returns no rows at all
            {k: v for k, v in labels.items() if v},
            summary,
        )

    def calibration_rule(self, sensor: str, quantity: Quantity) -> JSON:
        seat, zone = installed_at(self.site, sensor)
        recent_days = CALIBRATION_VALID_DAYS - CALIBRATION_DUE_DAYS
        query = panel_queries.calibrations_since(self.site.id, sensor, quantity, recent_days)
        summary = self._text(
            "calibration", sensor=sensor, quantity=self._quantity(quantity), days=CALIBRATION_DUE_DAYS
        )
        labels = {
            "check": "calibration-due",
            "sensor": sensor,
            "quantity": quantity,
            "zone": zone,
            "seat": seat,
        }
        return self._rule(
            f"cal-{sensor}-{quantity}",
            f"Sensor {sensor}: {quantity} calibration due within {CALIBRATION_DUE_DAYS} days",
            query,
            3600,
            ("lt", 1),
            "Alerting",  # no recent calibration record at all
            {k: v for k, v in labels.items() if v},
            summary,
        )

    def ingest_rules(self) -> list[JSON]:
        """No reading stored for a while (ingest down or lagging); many readings refused (degraded)."""
        site = self.site.id
        specs = (
            ("ingest-lag", panel_queries.site_readings(site), INGEST_LAG_MIN, ("lt", 1), "Alerting"),
            (
                "ingest-rejects",
                panel_queries.site_rejects(site),
                REJECTS_WINDOW_MIN,
                ("gt", REJECTS_PER_WINDOW),
                "OK",
            ),
        )
        titles = {
            "ingest-lag": f"Site {site}: no reading stored for {INGEST_LAG_MIN} min",
            "ingest-rejects": f"Site {site}: over {REJECTS_PER_WINDOW} readings refused in "
            f"{REJECTS_WINDOW_MIN} min",
        }
        return [
            self._rule(
                check,
                titles[check],
                query,
                minutes * 60,
                comparison,
                no_data,
                {"check": check},
                self._text(check, site=site, minutes=minutes),
            )
            for check, query, minutes, comparison, no_data in specs
        ]
