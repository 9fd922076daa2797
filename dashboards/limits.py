"""The limits a dashboard draws, read from the site's rules profile — the one place that asks it.

Standards are data (docs/design.md principle 4): a colour band or a threshold line on a panel must be the very
number the compliance engine judges against, so dashboards never carry a limit of their own. Panels need
only two limits per zone kind — the seat's noise level over occupied hours and its illuminance — so this
module reduces a :class:`seatwatch.core.rules.profile.RulesProfile` to exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass

from seatwatch.core.rules.profile import Check, RulesProfile, load_rules_profile
from seatwatch.core.site import Site
from seatwatch.core.vocabulary import Metric, ZoneKind


@dataclass(frozen=True)
class Limit:
    """One profile check as a dashboard shows it: a required line, a stricter target line."""

    check: str
    required: float
    target: float
    direction: str  # "max": lower is better (noise); "min": higher is better (light)
    unit: str
    source: str


@dataclass(frozen=True)
class KindLimits:
    """The limits of one zone kind; None where the profile has no such check for that kind."""

    noise: Limit | None
    light: Limit | None


def site_profile(site: Site) -> RulesProfile:
    """The site's profile, a shipped name or a path relative to the site file (as the engine reads it)."""
    return load_rules_profile(site.profile, site.path.parent if site.path else None)


def limits_by_kind(site: Site, profile: RulesProfile) -> dict[ZoneKind, KindLimits]:
    """Limits for every zone kind the site uses.

    Noise: the seat LAeq check over occupied hours (the level agents work in), not the background one —
    a live level is compared with what people hear while they work. Light: the seat illuminance check.
    """
    kinds = sorted({zone.kind for zone in site.zones.values()})
    out: dict[ZoneKind, KindLimits] = {}
    for kind in kinds:
        checks = profile.checks_for(kind)
        noise = _first(checks, Metric.LAEQ, prefer_hours="occupied", avoid_hours="unoccupied")
        light = _first(checks, Metric.LUX, prefer_hours="occupied", avoid_hours="unoccupied")
        out[kind] = KindLimits(_limit(noise), _limit(light))
    return out


def _first(checks: tuple[Check, ...], metric: Metric, prefer_hours: str, avoid_hours: str) -> Check | None:
    candidates = [c for c in checks if c.metric == metric and c.hours != avoid_hours]
    preferred = [c for c in candidates if c.hours == prefer_hours]
    return (preferred or candidates)[0] if candidates else None


def _limit(check: Check | None) -> Limit | None:
    if check is None:
        return None
    return Limit(check.id, check.required, check.target, check.direction, check.unit, check.source)
