"""Everything one site puts into Grafana — folder, data source, dashboards, alert rules and the occupied
hours as a time interval — built once from the site file and its rules profile.

``push`` and ``export`` both start here, so a dashboard pushed over the HTTP API and one provisioned from
files are the same JSON model (issue #7: one source of truth).
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboards import alert_rules, compliance_trend, datasource, floor_overview, seat_detail, sensor_health
from dashboards.alert_rules import RuleGroup
from dashboards.datasource import DataSource
from dashboards.limits import limits_by_kind, site_profile
from dashboards.model import JSON, datasource_ref, stable_uid
from seatwatch.core.settings import Services
from seatwatch.core.site import Site


@dataclass(frozen=True)
class Folder:
    uid: str
    title: str


@dataclass(frozen=True)
class Bundle:
    folder: Folder
    datasource: DataSource
    dashboards: tuple[JSON, ...]
    rule_groups: tuple[RuleGroup, ...]
    time_interval: JSON


def build(site: Site, services: Services, language: str = "zh") -> Bundle:
    """Raises :class:`seatwatch.core.config_errors.ConfigError` if the site's rules profile is unusable."""
    limits = limits_by_kind(site, site_profile(site))
    source = datasource.build(site, services)
    ds = datasource_ref(source.uid)
    dashboards = (
        floor_overview.build(site, limits, ds),
        seat_detail.build(site, limits, ds),
        sensor_health.build(site, ds),
        compliance_trend.build(site, ds),
    )
    folder = Folder(stable_uid("seatwatch", services.grafana_folder), services.grafana_folder)
    rules = alert_rules.build(site, limits, source.uid, language)
    return Bundle(folder, source, dashboards, rules, alert_rules.occupied_interval(site))
