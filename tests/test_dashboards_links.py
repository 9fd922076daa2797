"""The generated navigation and floor plan, checked against the site file: floor overview → seat detail
(``var-seat`` and the time range), seat detail → sensor health (``var-sensor``), and a Canvas element for
every seat at its x/y, inside its zone's box."""

from __future__ import annotations

import re
from typing import Any

import pytest

from dashboards import bundle
from seatwatch.core.settings import load_services
from seatwatch.core.site_file import load_site
from seatwatch.core.vocabulary import VERDICT_COLOURS, Verdict
from tests.conftest import EXAMPLE_SITE

TIME_RANGE = "${__url_time_range}"


@pytest.fixture(scope="module")
def built() -> tuple[Any, dict[str, dict[str, Any]]]:
    site = load_site(EXAMPLE_SITE)
    models = bundle.build(site, load_services(site.services, env={})).dashboards
    return site, {m["uid"].rsplit("-", 1)[1]: m for m in models}


def _links(panel: dict[str, Any], field: str) -> list[dict[str, Any]]:
    return [
        p["value"][0]
        for o in panel["fieldConfig"]["overrides"]
        if o["matcher"]["options"] == field
        for p in o["properties"]
        if p["id"] == "links"
    ]


def test_zone_tables_link_each_seat_to_its_detail_with_the_time_range(built) -> None:
    site, models = built
    tables = [p for p in models["floor"]["panels"] if p["type"] == "table" and ": now" in p["title"]]
    assert len(tables) == sum(1 for z in site.zones if site.seats_in_zone(z))
    for table in tables:
        (link,) = _links(table, "seat")
        assert link["url"] == f"/d/{models['seat']['uid']}/?var-seat=${{__data.fields.seat}}&{TIME_RANGE}"


def test_seat_detail_links_its_sensors_to_their_health(built) -> None:
    _, models = built
    (table,) = [p for p in models["seat"]["panels"] if p["title"].startswith("Sensors of this seat")]
    (link,) = _links(table, "sensor")
    assert link["url"] == f"/d/{models['health']['uid']}/?var-sensor=${{__data.fields.sensor}}&{TIME_RANGE}"
    names = {v["name"] for v in models["health"]["templating"]["list"]}
    assert names == {"sensor"}
    header = {link["url"] for link in models["seat"]["links"]}
    assert f"/d/{models['health']['uid']}/" in header and f"/d/{models['floor']['uid']}/" in header


def test_floor_plan_places_every_seat_in_its_zone_and_links_it(built) -> None:
    site, models = built
    (plan,) = [p for p in models["floor"]["panels"] if p["type"] == "canvas"]
    elements = {e["name"]: e for e in plan["options"]["root"]["elements"]}
    boxes = {
        name.split(" ", 1)[1]: e["placement"] for name, e in elements.items() if name.startswith("seat ")
    }
    assert set(boxes) == set(site.seats)
    # Positions are the site file's x/y on one scale: the centre of every box is (x, y) · k + offset.
    centres = {s: (b["left"] + b["width"] / 2, b["top"] + b["height"] / 2) for s, b in boxes.items()}
    a, b = "E-01", "E-05"
    k = (centres[b][0] - centres[a][0]) / (site.seats[b].x - site.seats[a].x)
    for seat_id, (cx, cy) in centres.items():
        seat = site.seats[seat_id]
        assert cx == pytest.approx(centres[a][0] + k * (seat.x - site.seats[a].x), abs=1.5), seat_id
        assert cy == pytest.approx(centres[a][1] + k * (seat.y - site.seats[a].y), abs=1.5), seat_id
    for seat_id, box in boxes.items():
        zone = elements[f"zone {site.seats[seat_id].zone}"]["placement"]
        assert zone["left"] <= box["left"] and box["left"] + box["width"] <= zone["left"] + zone["width"]
        assert zone["top"] <= box["top"] and box["top"] + box["height"] <= zone["top"] + zone["height"]
        element = elements[f"seat {seat_id}"]
        data_seat = site.data_seat(seat_id)
        assert element["background"]["color"]["field"] == data_seat  # coloured by its (proxy's) LAeq
        (link,) = _links(plan, data_seat)
        assert re.fullmatch(
            rf"/d/{models['seat']['uid']}/\?var-seat={data_seat}&\$\{{__url_time_range\}}", link["url"]
        )
    # the colours are the zone kind's noise limits: a seat of an agent zone turns the colour of a failure
    # (the report's, seatwatch.core.vocabulary.VERDICT_COLOURS) just above 55 dB
    overrides = {o["matcher"]["options"]: o["properties"] for o in plan["fieldConfig"]["overrides"]}
    steps = next(p["value"]["steps"] for p in overrides["E-01"] if p["id"] == "thresholds")
    assert steps[-1]["color"] == VERDICT_COLOURS[Verdict.FAIL] and 55.0 < steps[-1]["value"] < 55.0 + 1e-9
    (target,) = plan["targets"]
    assert target["alias"] == "$tag_seat" and '10*log10(sum("exposure")/sum("dur"))' in target["query"]
