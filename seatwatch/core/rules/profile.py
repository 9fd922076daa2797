"""Loading and validating a rules profile: per zone kind, the checks a seat or zone must pass.

Standards are data (docs/design.md principle 4): every limit lives in a TOML profile with the clause it comes
from and how sure we are of it (docs/standards.md confidence H/M/L), so a site can copy a shipped profile and
edit it, and every report can cite the source of each limit. Profiles are validated like site files: every
problem at once, each with file, line and key (:mod:`seatwatch.core.config_errors`). The format is documented
in ``seatwatch/core/rules/README.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seatwatch.core.config_errors import ConfigError, Problem
from seatwatch.core.hours import parse_clock
from seatwatch.core.toml_config import TomlFile, read_toml
from seatwatch.core.vocabulary import Metric, ZoneKind, member_of

SHIPPED_DIR = Path(__file__).resolve().parent / "profiles"

# metric -> (aggregations it supports, scope): the engine computes exactly these (docs/compliance.md).
METRICS: dict[Metric, tuple[tuple[str, ...], str]] = {
    Metric.LAEQ: (("energy_mean",), "seat"),
    Metric.LAFMAX: (("max",), "seat"),
    Metric.LUX: (("hourly_min", "mean"), "seat"),
    Metric.UNIFORMITY: (("min_over_mean",), "zone"),
    Metric.AREA_PER_SEAT: (("zone_area_over_seats",), "seat"),
}
FIXED_HOURS = ("occupied", "unoccupied", "all")
DIRECTIONS = ("max", "min")
CONFIDENCES = ("H", "M", "L")
PROFILE_KEYS = {"id", "name", "description", "description_zh", "min_coverage"}
STANDARD_KEYS = {"id", "title_zh", "title_en", "note_en", "note_zh"}
BASIS_KEYS = {"limit", "standard", "clause", "confidence"}
BASIS_LIMITS = ("required", "target", "both")
CHECK_KEYS = {
    "id",
    "title",
    "metric",
    "aggregation",
    "hours",
    "required",
    "target",
    "unit",
    "direction",
    "source",
    "confidence",
    "title_zh",
    "basis",
}
CHECK_OPTIONAL = {"title", "title_zh", "basis"}


@dataclass(frozen=True)
class Standard:
    """A document limits come from, cited by its official Chinese title with the English beside it;
    ``note_en``/``note_zh`` carry what a report must quote about it (e.g. an explanatory note)."""

    id: str
    title_zh: str
    title_en: str
    note_en: str = ""
    note_zh: str = ""


@dataclass(frozen=True)
class Basis:
    """Where one limit of a check comes from: the requirement, the target or both, a standard (an id of
    the profile's [[standards]]), its clause, and how sure we are of the value (H/M/L)."""

    limit: str
    standard: str
    clause: str
    confidence: str


@dataclass(frozen=True)
class Check:
    """One limit: ``metric`` aggregated by ``aggregation`` over ``hours`` must be ≤ (``direction`` 'max')
    or ≥ ('min') ``required``; meeting ``target`` as well makes it a pass rather than marginal."""

    id: str
    metric: Metric
    aggregation: str
    hours: str
    required: float
    target: float
    unit: str
    direction: str
    source: str
    confidence: str
    title: str = ""
    title_zh: str = ""
    basis: tuple[Basis, ...] = ()

    @property
    def scope(self) -> str:
        """'seat' (a value per seat) or 'zone' (one value per zone, e.g. uniformity)."""
        return METRICS[self.metric][1]

    def meets(self, value: float, limit: float) -> bool:
        return value <= limit if self.direction == "max" else value >= limit


@dataclass(frozen=True)
class ClockHours:
    """A daily clock window in the site's time zone (GB 3096 day 06:00–22:00); ``end <= start`` wraps."""

    name: str
    start: str
    end: str


@dataclass(frozen=True)
class RulesProfile:
    id: str
    name: str
    description: str
    min_coverage: float
    zones: dict[ZoneKind, tuple[Check, ...]]
    clock_hours: dict[str, ClockHours] = field(default_factory=dict)
    path: Path | None = None
    description_zh: str = ""
    standards: dict[str, Standard] = field(default_factory=dict)

    def checks_for(self, kind: ZoneKind) -> tuple[Check, ...]:
        """The checks of a zone kind; a kind the profile leaves out has none."""
        return self.zones.get(kind, ())

    def all_checks(self) -> list[Check]:
        seen: dict[str, Check] = {}
        for checks in self.zones.values():
            for check in checks:
                seen.setdefault(check.id, check)
        return list(seen.values())


def shipped_profiles() -> list[str]:
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.toml"))


def resolve_profile_path(name_or_path: str, base_dir: Path | str | None = None) -> Path:
    """A shipped name ('iac-csc') or a path (relative to ``base_dir``, the site file's folder)."""
    if "/" in name_or_path or "\\" in name_or_path or name_or_path.endswith(".toml"):
        path = Path(name_or_path)
        return path if path.is_absolute() or base_dir is None else Path(base_dir) / path
    path = SHIPPED_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise ConfigError(
            [
                Problem(
                    name_or_path,
                    "",
                    f"unknown rules profile {name_or_path!r} (shipped: {', '.join(shipped_profiles())}; "
                    "or give a path to a profile TOML)",
                )
            ]
        )
    return path


def load_rules_profile(name_or_path: str, base_dir: Path | str | None = None) -> RulesProfile:
    """Read and validate a profile. Raises :class:`ConfigError` listing every problem with its line."""
    return _ProfileReader(read_toml(resolve_profile_path(name_or_path, base_dir), "rules profile")).read()


class _ProfileReader:
    def __init__(self, toml: TomlFile) -> None:
        self.path = toml.path
        self.doc = toml.data
        self.p = toml.problems()
        self.standards: dict[str, Standard] = {}

    def read(self) -> RulesProfile:
        for key in self.doc:
            if key not in ("profile", "clock_hours", "zones", "standards"):
                self.p.add(key, "unknown key (expected profile, clock_hours, standards, zones)")
        head = self.table(self.doc, "profile", required=True)
        for key in head:
            if key not in PROFILE_KEYS:
                self.p.add(
                    f"profile.{key}", f"unknown key (expected one of: {', '.join(sorted(PROFILE_KEYS))})"
                )
        ident = self.typed(head, "id", str, "profile")
        coverage = head.get("min_coverage", 0.75)
        if isinstance(coverage, bool) or not isinstance(coverage, int | float) or not 0 < coverage <= 1:
            self.p.add("profile.min_coverage", f"must be a number in (0, 1], not {coverage!r}")
            coverage = 0.75
        clock = self.read_clock_hours()
        self.standards = self.read_standards()
        zones: dict[ZoneKind, tuple[Check, ...]] = {}
        raw_zones = self.table(self.doc, "zones", required=True)
        for name, raw in raw_zones.items():
            kind = member_of(ZoneKind, name)
            if kind is None:
                self.p.add(f"zones.{name}", f"{name!r} is not a zone kind ({', '.join(ZoneKind)})")
                continue
            zones[kind] = tuple(self.read_checks(kind, raw, clock))
        if not zones:
            self.p.add("zones", "the profile has no checks for any zone kind ([[zones.agent.checks]])")
        self.p.raise_if_any()
        return RulesProfile(
            id=ident or self.path.stem,
            name=head.get("name", "") if isinstance(head.get("name"), str) else "",
            description=head.get("description", "") if isinstance(head.get("description"), str) else "",
            min_coverage=float(coverage),
            zones=zones,
            clock_hours=clock,
            path=self.path,
            description_zh=self.text(head, "description_zh", "profile"),
            standards=self.standards,
        )

    def text(self, table: dict[str, Any], key: str, where: str) -> str:
        """An optional string key ("" when absent); another type is a problem."""
        value = table.get(key, "")
        if not isinstance(value, str):
            self.p.add(f"{where}.{key}", f"must be a string, not {type(value).__name__}")
            return ""
        return value

    def tables(self, raw: list[Any], where: str, keys: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        """The tables of an array with their key paths; non-tables and unknown keys are problems."""
        for n, item in enumerate(raw):
            at = f"{where}[{n}]"
            if not isinstance(item, dict):
                self.p.add(at, f"must be a table with keys {', '.join(sorted(keys))}")
                continue
            for key in item:
                if key not in keys:
                    self.p.add(f"{at}.{key}", f"unknown key (expected one of: {', '.join(sorted(keys))})")
            yield at, item

    def read_standards(self) -> dict[str, Standard]:
        raw = self.doc.get("standards", [])
        if not isinstance(raw, list):
            self.p.add("standards", "must be an array of tables ([[standards]])")
            return {}
        out: dict[str, Standard] = {}
        for where, item in self.tables(raw, "standards", STANDARD_KEYS):
            ident, title_zh, title_en = (
                self.typed(item, key, str, where) for key in ("id", "title_zh", "title_en")
            )
            if ident is None or title_zh is None or title_en is None:
                continue
            if ident in out:
                self.p.add(f"{where}.id", f"duplicate standard id {ident!r}")
            out[ident] = Standard(
                ident, title_zh, title_en,
                self.text(item, "note_en", where), self.text(item, "note_zh", where)
            )
        return out

    def read_basis(self, item: dict[str, Any], where: str, confidence: Any) -> tuple[Basis, ...]:
        """The optional ``basis`` array; the check's confidence must be the lowest of its entries', so a
        provisional limit can never hide behind a confident one."""
        raw = item.get("basis", [])
        if not isinstance(raw, list):
            self.p.add(f"{where}.basis", "must be an array of { limit, standard, clause, confidence } tables")
            return ()
        out = []
        for at, entry in self.tables(raw, f"{where}.basis", BASIS_KEYS):
            values = {
                key: self.typed(entry, key, str, at) for key in ("limit", "standard", "clause", "confidence")
            }
            if values["limit"] is not None and values["limit"] not in BASIS_LIMITS:
                self.p.add(
                    f"{at}.limit", f"must be one of {', '.join(BASIS_LIMITS)}, not {values['limit']!r}"
                )
            if values["standard"] is not None and values["standard"] not in self.standards:
                self.p.add(f"{at}.standard", f"{values['standard']!r} is not the id of a [[standards]] entry")
            if values["confidence"] is not None and values["confidence"] not in CONFIDENCES:
                self.p.add(f"{at}.confidence", f"must be 'H', 'M' or 'L', not {values['confidence']!r}")
            if None not in values.values():
                out.append(Basis(**values))
        covered = {b.limit for b in out}
        if out and "both" not in covered and not {"required", "target"} <= covered:
            self.p.add(f"{where}.basis", "must give the basis of both the requirement and the target")
        ranks = [CONFIDENCES.index(b.confidence) for b in out if b.confidence in CONFIDENCES]
        if ranks and confidence in CONFIDENCES and CONFIDENCES.index(confidence) != max(ranks):
            self.p.add(
                f"{where}.confidence",
                f"is {confidence!r} but the lowest confidence of its basis is {CONFIDENCES[max(ranks)]!r}",
            )
        return tuple(out)

    def table(self, doc: dict[str, Any], key: str, required: bool = False) -> dict[str, Any]:
        value = doc.get(key)
        if value is None:
            if required:
                self.p.add(key, f"missing [{key}] table")
            return {}
        if not isinstance(value, dict):
            self.p.add(key, "must be a table")
            return {}
        return value

    def typed(self, table: dict[str, Any], key: str, kind: type, where: str) -> Any:
        if key not in table:
            self.p.add(f"{where}.{key}", "missing")
            return None
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool):
            self.p.add(f"{where}.{key}", f"must be a {kind.__name__}, not {type(value).__name__}")
            return None
        return value

    def read_clock_hours(self) -> dict[str, ClockHours]:
        out: dict[str, ClockHours] = {}
        for name, raw in self.table(self.doc, "clock_hours").items():
            where = f"clock_hours.{name}"
            if name in FIXED_HOURS:
                self.p.add(where, f"{name!r} is a built-in hours name; choose another")
                continue
            if not isinstance(raw, dict):
                self.p.add(where, 'must be a table { start = "06:00", end = "22:00" }')
                continue
            times = [self.typed(raw, key, str, where) for key in ("start", "end")]
            try:
                minutes = [parse_clock(t) for t in times if t is not None]
            except ValueError as exc:
                self.p.add(where, str(exc))
                continue
            if len(minutes) == 2 and minutes[0] != minutes[1]:
                out[name] = ClockHours(name, times[0], times[1])
            elif len(minutes) == 2:
                self.p.add(f"{where}.end", "a window from a time to the same time has no length")
        return out

    def read_checks(self, kind: ZoneKind, raw: Any, clock: dict[str, ClockHours]) -> list[Check]:
        where_zone = f"zones.{kind}"
        if not isinstance(raw, dict) or not isinstance(raw.get("checks"), list):
            self.p.add(where_zone, f"must hold an array of checks ([[zones.{kind}.checks]])")
            return []
        out: list[Check] = []
        ids: set[str] = set()
        for n, item in enumerate(raw["checks"]):
            where = f"{where_zone}.checks[{n}]"
            if not isinstance(item, dict):
                self.p.add(where, "must be a table")
                continue
            before = len(self.p.problems)
            for key in item:
                if key not in CHECK_KEYS:
                    self.p.add(
                        f"{where}.{key}", f"unknown key (expected one of: {', '.join(sorted(CHECK_KEYS))})"
                    )
            values = {
                key: self.typed(item, key, float if key in ("required", "target") else str, where)
                for key in sorted(CHECK_KEYS - CHECK_OPTIONAL)
            }
            self.validate_check(values, where, clock)
            basis = self.read_basis(item, where, values["confidence"])
            title_zh = self.text(item, "title_zh", where)
            if values["id"] in ids:
                self.p.add(f"{where}.id", f"duplicate check id {values['id']!r} in zone kind '{kind}'")
            ids.add(values["id"])
            if len(self.p.problems) == before:
                values["metric"] = Metric(values["metric"])  # validate_check found it among METRICS
                out.append(
                    Check(
                        title=str(item.get("title", values["id"])), title_zh=title_zh, basis=basis, **values
                    )
                )
        return out

    def validate_check(self, v: dict[str, Any], where: str, clock: dict[str, ClockHours]) -> None:
        metric, aggregation = v["metric"], v["aggregation"]
        if metric is not None and metric not in METRICS:
            self.p.add(f"{where}.metric", f"{metric!r} is not a metric ({', '.join(METRICS)})")
        elif metric is not None and aggregation is not None and aggregation not in METRICS[metric][0]:
            self.p.add(
                f"{where}.aggregation",
                f"{aggregation!r} does not apply to {metric!r} (use {', '.join(METRICS[metric][0])})",
            )
        hours = v["hours"]
        if hours is not None and hours not in FIXED_HOURS and hours not in clock:
            known = [*FIXED_HOURS, *clock]
            self.p.add(f"{where}.hours", f"{hours!r} is not an hours name ({', '.join(known)})")
        if v["direction"] is not None and v["direction"] not in DIRECTIONS:
            self.p.add(f"{where}.direction", f"must be 'max' or 'min', not {v['direction']!r}")
        if v["confidence"] is not None and v["confidence"] not in CONFIDENCES:
            self.p.add(f"{where}.confidence", f"must be 'H', 'M' or 'L', not {v['confidence']!r}")
        required, target, direction = v["required"], v["target"], v["direction"]
        if None not in (required, target) and direction in DIRECTIONS:
            stricter_or_equal = target <= required if direction == "max" else target >= required
            if not stricter_or_equal:
                self.p.add(
                    f"{where}.target",
                    f"a target of {target} is looser than the requirement {required} "
                    f"for a '{direction}' limit",
                )
