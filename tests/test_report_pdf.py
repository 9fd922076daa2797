"""``seatwatch report`` for the example site (48 seats, one day in a real influxd): report.pdf in zh-CN and
en read back with poppler (pdfinfo, pdftotext, pdffonts), the CSVs with their BOM, the folder's modes.

Expected texts come from the site file and the profile (read here with tomllib, not through the report
code), so a seat or a standard the report left out fails the test.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest

from seatwatch.cli import main
from tests import example_site_floor
from tests.conftest import unavailable
from tests.example_site_floor import EXAMPLE, site_copy

pytestmark = pytest.mark.integration
example_db = example_site_floor.example_db
PROFILE = (
    Path(__file__).resolve().parent.parent / "seatwatch" / "core" / "rules" / "profiles" / "iac-csc.toml"
)
PERIOD = ("2026-03-02", "2026-03-03")


def _poppler(tool: str, *args: str) -> str:
    if shutil.which(tool) is None:
        unavailable(f"{tool} is not installed (apt-get install poppler-utils)")
    return subprocess.run([tool, *args], capture_output=True, text=True, check=True, timeout=120).stdout


@pytest.fixture(scope="module")
def reports(influx_url: str, example_db: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """report folders by language: zh-CN from the site's default locale, en from --lang."""
    folder = tmp_path_factory.mktemp("example")
    site = site_copy(folder, influx_url, example_db)
    out = {}
    for lang, extra in (("zh-CN", []), ("en", ["--lang", "en"])):
        out[lang] = folder / f"out-{lang}"
        args = [
            "report",
            "--site",
            str(site),
            "--from",
            PERIOD[0],
            "--to",
            PERIOD[1],
            "--out",
            str(out[lang]),
        ]
        assert main([*args, *extra]) == 0
    return out


def _site() -> dict:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def _profile() -> dict:
    return tomllib.loads(PROFILE.read_text(encoding="utf-8"))


def _text(pdf: Path) -> str:
    """pdftotext's text with line breaks folded, so a table cell wrapped over two lines still matches."""
    return re.sub(r"\s*\n\s*", " ", _poppler("pdftotext", "-layout", str(pdf), "-"))


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_pdf_is_a4_with_every_seat_the_period_and_the_standards(reports: dict[str, Path], lang: str) -> None:
    pdf = reports[lang] / "report.pdf"
    info = _poppler("pdfinfo", "-f", "1", "-l", "999", str(pdf))
    sizes = re.findall(r"Page\s+\d+ size:\s+(.*)", info)
    assert sizes and all("(A4)" in s for s in sizes), sizes
    counted = re.search(r"Pages:\s+(\d+)", info)
    assert counted, info
    pages = int(counted.group(1))
    text = _poppler("pdftotext", "-layout", str(pdf), "-")
    site = _site()
    assert site["site"]["name"] in text
    assert "2026-03-02 00:00:00+08:00" in text and "2026-03-03 00:00:00+08:00" in text
    for seat in site["seats"]:
        assert re.search(rf"(?<![\w-]){re.escape(seat['id'])}(?![\w-])", text), seat["id"]
    for standard in _profile()["standards"]:
        assert standard["title_zh"].split("（")[0] in _text(pdf), standard["id"]
    if lang == "zh-CN":
        assert "第 1 页" in text and f"第 {pages} 页 共 {pages} 页" in text
        for line in ("编制", "审核", "批准", "签名", "日期"):
            assert line in text
    else:
        assert "Page 1 of" in text and f"Page {pages} of {pages}" in text
        for line in ("Prepared by", "Reviewed by", "Approved by", "Signature", "Date"):
            assert line in text


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_pdf_embeds_a_cjk_font(reports: dict[str, Path], lang: str) -> None:
    fonts = _poppler("pdffonts", str(reports[lang] / "report.pdf")).splitlines()[2:]
    cjk = [f for f in fonts if "CJK" in f]
    assert cjk, fonts
    for row in cjk:  # name type encoding emb sub uni: emb must be "yes"
        assert re.search(r"\s(yes)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", row), row


def test_every_limit_appears_with_clause_and_confidence(reports: dict[str, Path]) -> None:
    """Each basis entry of each iac-csc check (21 limits in 16 checks) is a row of the standards basis."""
    text = _text(reports["en"] / "report.pdf")
    limits = [
        (kind, c, b) for kind, z in _profile()["zones"].items() for c in z["checks"] for b in c["basis"]
    ]
    assert len(limits) == 21
    doc = json.loads((reports["en"] / "report.json").read_text(encoding="utf-8"))
    assert len(doc["limits"]) == len(limits)
    for kind, check, basis in limits:
        value = check["target"] if basis["limit"] == "target" else check["required"]
        row = next(
            r
            for r in doc["limits"]
            if (r["zone_kind"], r["check"], r["limit"]) == (kind, check["id"], basis["limit"])
        )
        assert (row["value"], row["clause"], row["confidence"]) == (
            value,
            basis["clause"],
            basis["confidence"],
        )
        assert row["provisional"] == (basis["confidence"] == "L")
        clause_start = basis["clause"].split("（")[0][:12]
        assert clause_start in text, (kind, check["id"], basis["clause"])
    assert "with reference to the national standards for acoustic environment and building lighting" in text


def test_csv_files_have_bom_site_period_and_zone_uniformity(reports: dict[str, Path]) -> None:
    raw = (reports["zh-CN"] / "seats.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["场所", "场所名称", "时段起", "时段止"]
    name = _site()["site"]["name"]
    assert {tuple(r[:4]) for r in body} == {
        ("sh-pudong-csc", name, "2026-03-02 00:00:00+08:00", "2026-03-03 00:00:00+08:00")
    }
    assert {r[4] for r in body} == {s["id"] for s in _site()["seats"]}
    zones = list(csv.DictReader(io.StringIO((reports["en"] / "zones.csv").read_bytes().decode("utf-8-sig"))))
    uniformity = {z["zone"]: z for z in zones if z["check"] == "uniformity"}
    assert set(uniformity) == {z["id"] for z in _site()["zones"]}
    east = uniformity["agents-east"]
    assert 0 < float(east["value"]) <= 1 and east["zone verdict"] == east["verdict"]
    seat_counts = sum(int(east[f"seats {v}"]) for v in ("pass", "marginal", "insufficient_data", "fail"))
    assert seat_counts == sum(s["zone"] == "agents-east" for s in _site()["seats"]) == int(east["seats"])


def test_zone_verdict_is_its_own_checks_and_seats_are_counted_apart(reports: dict[str, Path]) -> None:
    doc = json.loads((reports["en"] / "report.json").read_text(encoding="utf-8"))
    east = next(z for z in doc["zones"] if z["zone"] == "agents-east")
    seats = [s for s in doc["seats"] if s["zone"] == "agents-east"]
    assert east["verdict"] == east["checks"][0]["verdict"] == "pass"  # uniformity passes …
    assert (
        east["seat_verdicts"]["fail"] == sum(s["verdict"] == "fail" for s in seats) >= 2
    )  # … loud, dark seats
    light = next(c for c in seats[0]["checks"] if c["check"] == "light")
    assert light["value_label"] == "lowest hourly mean illuminance over occupied hours"
    noise = next(c for c in seats[0]["checks"] if c["check"] == "noise")
    assert noise["value_label"] == "LAeq over occupied hours (energy mean)"
    zh = json.loads((reports["zh-CN"] / "report.json").read_text(encoding="utf-8"))
    assert zh["lang"] == "zh-CN" and zh["document_number"] == doc["document_number"]
    assert zh["generated_at"].endswith("+08:00") and re.fullmatch(
        r"[\d-]+ [\d:]{8}\+08:00", zh["generated_at"]
    )
    record = zh["calibration"][0]["record_details"][0]
    assert record["performed_at"] == "2026-02-20 10:30:00+08:00" and record["instrument"]["serial"]


def test_report_folder_and_files_are_private(reports: dict[str, Path]) -> None:
    for out in reports.values():
        assert stat.S_IMODE(out.stat().st_mode) == 0o750
        names = sorted(p.name for p in out.iterdir())
        assert names == ["report.html", "report.json", "report.pdf", "seats.csv", "zones.csv"]
        for p in out.iterdir():
            assert stat.S_IMODE(p.stat().st_mode) == 0o640, p
