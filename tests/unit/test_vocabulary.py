"""The shared vocabularies (seatwatch/core/vocabulary.py) are exactly the strings the documents name, a bad
value in a site file or profile is reported at its key with what is allowed, and the report and the
dashboards paint verdicts with the one map, VERDICT_COLOURS.

The expected strings are read from the documents (docs/contracts.md, docs/site-file.md, docs/compliance.md,
seatwatch/core/rules/README.md), not repeated here, so a document and the code cannot drift apart.
"""

from __future__ import annotations

import re
from enum import StrEnum
from itertools import cycle
from pathlib import Path
from typing import Any

import pytest

from analysis.compliance.calibration_check import calibration_result
from analysis.compliance.engine import Assessment, SeatResult, ZoneResult
from analysis.compliance.verdict import counts_text, worst
from analysis.report.document import report_document
from analysis.report.html import report_html
from dashboards import bundle
from seatwatch.core.config_errors import ConfigError
from seatwatch.core.contract import REASONS, parse_payload
from seatwatch.core.rules.profile import METRICS, load_rules_profile, shipped_profiles
from seatwatch.core.settings import load_services
from seatwatch.core.site_file import load_site
from seatwatch.core.vocabulary import (
    VERDICT_COLOURS,
    Metric,
    Quantity,
    RejectReason,
    Verdict,
    ZoneKind,
    member_of,
)
from tests.conftest import EXAMPLE_SITE

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
SITE_FILE_DOC = (ROOT / "docs" / "site-file.md").read_text(encoding="utf-8")
COMPLIANCE_DOC = (ROOT / "docs" / "compliance.md").read_text(encoding="utf-8")
RULES_README = (ROOT / "seatwatch" / "core" / "rules" / "README.md").read_text(encoding="utf-8")


def _values(kind: type[StrEnum]) -> list[str]:
    return [member.value for member in kind]


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start) + len(start) : text.index(end, text.index(start))]


# -- each vocabulary is what the documents name ---------------------------------------------------------


def test_reject_reasons_are_the_contracts_parser_and_ingest_reasons() -> None:
    paragraph = _between(CONTRACTS, "a refusal with one of these reasons:", "The detail names")
    first, *added = re.findall(r"`([^`]+)`", paragraph)  # the parser's list, then what ingest adds
    parser = re.split(r",\s*", first)
    assert len(parser) == 11 and _values(RejectReason) == parser + added
    # The parser's own reasons lead REASONS (ingest's site reasons follow); every one is a member.
    assert list(REASONS[: len(parser)]) == parser
    assert set(REASONS) <= set(RejectReason)


def test_a_refusal_carries_a_reject_reason_that_formats_as_its_string() -> None:
    _, rejected = parse_payload(b"{not json")
    (refusal,) = rejected
    assert refusal.reason is RejectReason.BAD_JSON
    assert str(refusal.reason) == "bad_json" and f"{refusal.reason}" == "bad_json"


def test_verdicts_are_the_compliance_fields_values_in_the_documented_order() -> None:
    row = next(line for line in CONTRACTS.splitlines() if line.startswith("| `compliance` |"))
    assert set(_values(Verdict)) == set(re.findall(r"`(\w+)`", _between(row, "`verdict` (", ")")))
    order = re.search(r"ordered (\w+(?: < \w+)+)", COMPLIANCE_DOC)
    assert order is not None and _values(Verdict) == order.group(1).split(" < ")


def test_zone_kinds_are_the_site_files() -> None:
    comment = next(line for line in SITE_FILE_DOC.splitlines() if line.startswith("kind = "))
    assert _values(ZoneKind) == [word.strip() for word in comment.split("#", 1)[1].split("|")]
    site = load_site(EXAMPLE_SITE)  # and the site model holds members, not the strings it read
    assert all(type(zone.kind) is ZoneKind for zone in site.zones.values())
    assert all(type(q) is Quantity for sensor in site.sensors.values() for q in sensor.measures)


def test_quantities_are_the_readings_objects_and_the_site_files_measures() -> None:
    keys = re.findall(r"^\| `(\w+)\.\w+`", CONTRACTS, flags=re.M)
    assert _values(Quantity) == list(dict.fromkeys(keys))
    example = next(line for line in SITE_FILE_DOC.splitlines() if line.startswith("measures = "))
    assert _values(Quantity) == re.findall(r'"(\w+)"', example)


def test_metrics_are_the_rules_readmes_and_every_shipped_profile_uses_only_them() -> None:
    table = _between(RULES_README, "| metric | aggregation | scope | value |", "\n\n")
    assert _values(Metric) == list(dict.fromkeys(re.findall(r"^\| `(\w+)` \|", table, flags=re.M)))
    assert set(METRICS) == set(Metric)
    for name in shipped_profiles():
        profile = load_rules_profile(name)
        for kind, checks in profile.zones.items():
            assert type(kind) is ZoneKind
            assert all(type(check.metric) is Metric for check in checks), name


def test_member_of_finds_members_and_refuses_anything_else() -> None:
    assert member_of(Verdict, "fail") is Verdict.FAIL
    strangers: list[object] = ["sound", "", "NOISE", 3, None, ["noise"], {}]
    assert [member_of(Quantity, v) for v in strangers] == [None] * len(strangers)


def test_worst_ranks_by_the_declared_order_and_commands_print_counts_in_words() -> None:
    assert worst([Verdict.PASS, Verdict.INSUFFICIENT_DATA, Verdict.MARGINAL]) is Verdict.INSUFFICIENT_DATA
    assert (
        worst([Verdict.INSUFFICIENT_DATA, Verdict.FAIL]) is Verdict.FAIL
        and worst([]) is Verdict.INSUFFICIENT_DATA
    )
    counts = {"seats": 48, "pass": 40, "marginal": 3, "insufficient_data": 4, "fail": 1}
    assert counts_text(counts) == "40 pass, 3 marginal, 1 fail, 4 insufficient data"


# -- a value outside a vocabulary is reported at its key, with what is allowed ---------------------------


def _problems(path: Path, loader: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        loader(str(path))
    return {p.key: p.message for p in caught.value.problems}


def test_an_unknown_zone_kind_or_quantity_in_a_site_file_names_the_key(tmp_path: Path) -> None:
    text = EXAMPLE_SITE.read_text(encoding="utf-8")
    text = text.replace('kind = "agent"', 'kind = "lobby"', 1)
    text = text.replace('measures = ["noise", "light"]', 'measures = ["noise", "sound"]', 1)
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    problems = _problems(path, load_site)
    assert problems["zones[0].kind"] == f"'lobby' is not a zone kind ({', '.join(_values(ZoneKind))})"
    assert problems["sensors[0].measures"] == "must list 'noise' and/or 'light', got ['noise', 'sound']"


def test_an_unknown_zone_kind_or_metric_in_a_profile_names_the_key(tmp_path: Path) -> None:
    text = (ROOT / "seatwatch" / "core" / "rules" / "profiles" / "iac-csc.toml").read_text(encoding="utf-8")
    text = text.replace('metric = "lux"', 'metric = "brightness"', 1).replace(
        "[[zones.rest.", "[[zones.lobby."
    )
    path = tmp_path / "profile.toml"
    path.write_text(text, encoding="utf-8")
    problems = _problems(path, load_rules_profile)
    assert problems["zones.lobby"] == f"'lobby' is not a zone kind ({', '.join(_values(ZoneKind))})"
    (metric_key,) = [k for k in problems if k.endswith(".metric")]
    assert problems[metric_key] == f"'brightness' is not a metric ({', '.join(_values(Metric))})"


# -- one verdict colour map for the report and the dashboards -------------------------------------------


def test_verdict_colours_cover_every_verdict_with_distinct_colours() -> None:
    assert list(VERDICT_COLOURS) == list(Verdict)
    assert len(set(VERDICT_COLOURS.values())) == len(Verdict)
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in VERDICT_COLOURS.values())


def _assessment() -> Assessment:
    """The example site with every verdict among its seats (no database: the report only renders it)."""
    site = load_site(EXAMPLE_SITE)
    profile = load_rules_profile(site.profile, EXAMPLE_SITE.parent)
    verdicts = cycle(Verdict)
    seats = [
        SeatResult(s.id, s.zone, site.data_seat(s.id), s.x, s.y, next(verdicts), [calibration_result([])])
        for s in sorted(site.seats.values(), key=lambda s: s.id)
    ]
    zones = [
        ZoneResult(z.id, z.name, z.kind, z.area_m2, len(site.seats_in_zone(z.id)), None, [])
        for z in site.zones.values()
    ]
    start = site.installations[0].start
    return Assessment(site, profile, start, start, start, 60, 0.75, [], seats, zones, [], "raw", "", {})


def test_the_report_paints_verdicts_with_verdict_colours() -> None:
    a = _assessment()
    html = report_html(report_document(a))
    circles = dict(re.findall(r'<circle class="seat" data-seat="([^"]+)"[^>]* fill="(#\w+)"', html))
    assert circles == {s.seat: VERDICT_COLOURS[s.verdict] for s in a.seats}
    labels = dict(re.findall(r"\.v-(\w+) \{ background: (#\w+); \}", html))
    assert {v: labels[v] for v in Verdict} == dict(VERDICT_COLOURS)
    legend = re.findall(r'<i style="background:(#\w+)"></i>', html)
    assert legend == list(VERDICT_COLOURS.values())


def test_the_dashboards_paint_verdicts_and_limit_bands_with_verdict_colours() -> None:
    site = load_site(EXAMPLE_SITE)
    models = {
        m["uid"].rsplit("-", 1)[1]: m for m in bundle.build(site, load_services(site.services, {})).dashboards
    }
    for board, title in (("floor", "Compliance:"), ("trend", "Verdicts per day")):
        (counts,) = [p for p in models[board]["panels"] if p["title"].startswith(title)]
        fixed = {
            o["matcher"]["options"]: prop["value"]["fixedColor"]
            for o in counts["fieldConfig"]["overrides"]
            for prop in o["properties"]
            if prop["id"] == "color"
        }
        assert fixed == dict(VERDICT_COLOURS), board
    floor = models["floor"]["panels"]
    bands = {
        step["color"]
        for p in floor
        if p["type"] in ("table", "canvas")
        for o in p["fieldConfig"]["overrides"]
        for prop in o["properties"]
        if prop["id"] == "thresholds"
        for step in prop["value"]["steps"]
    }
    assert bands == {VERDICT_COLOURS[v] for v in (Verdict.PASS, Verdict.MARGINAL, Verdict.FAIL)}
    (plan,) = [p for p in floor if p["type"] == "canvas"]
    no_data = {
        e["background"]["color"]["fixed"]
        for e in plan["options"]["root"]["elements"]
        if e["name"].startswith("seat ")
    }
    assert no_data == {VERDICT_COLOURS[Verdict.INSUFFICIENT_DATA]}
