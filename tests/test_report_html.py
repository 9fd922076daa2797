"""``seatwatch report`` on the test floor: the three files, the JSON schema, and report.html in Chromium."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from seatwatch.cli import main
from tests import compliance_floor
from tests.compliance_floor import END, SPEC, START
from tests.conftest import unavailable

pytestmark = pytest.mark.integration
floor_db = compliance_floor.floor_db  # the module-scoped fixture that writes the test floor

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def report_dir(influx_url: str, floor_db: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    site = SPEC.write(folder, influx_url, floor_db)
    out = folder / "out"
    status = main(
        [
            "report",
            "--site",
            str(site),
            "--from",
            START.isoformat(),
            "--to",
            END.isoformat(),
            "--out",
            str(out),
            "--no-pdf",
        ]
    )
    assert status == 0
    return out


def test_report_json_follows_the_documented_schema(report_dir: Path) -> None:
    doc = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    for key in ("site", "profile", "from", "to", "generated_at", "summary", "seats", "zones", "calibration"):
        assert key in doc
    assert doc["schema"] == "seatwatch.report/2" and doc["lang"] == "zh-CN"  # Shanghai site, no locale key
    assert doc["period"] == {
        "from": "2026-03-02 00:00:00+08:00",
        "to": "2026-03-04 00:00:00+08:00",
        "days": 2,
    }
    assert doc["site"] == "floor" and doc["profile"] == "iac-csc"
    assert doc["from"] == "2026-03-01T16:00:00Z" and doc["to"] == "2026-03-03T16:00:00Z"
    assert doc["summary"] == {"seats": 9, "pass": 4, "marginal": 0, "fail": 2, "insufficient_data": 3}
    energy = next(s for s in doc["seats"] if s["seat"] == "ENERGY")
    noise = next(c for c in energy["checks"] if c["check"] == "noise")
    keys = "check value required target unit verdict coverage reasons source"
    assert set(noise) >= set(keys.split())
    assert noise["verdict"] == "fail" and noise["value"] == pytest.approx(61.03, abs=0.05)
    assert len(energy["daily"]["laeq_occupied"]) == len(doc["method"]["days"]) == 2
    zone = doc["zones"][0]
    assert zone["checks"][0]["check"] == "uniformity" and zone["verdict"] == zone["checks"][0]["verdict"]
    assert zone["seat_verdicts"] == {"pass": 4, "marginal": 0, "insufficient_data": 3, "fail": 2}


def test_seats_csv_has_a_row_per_seat_and_check(report_dir: Path) -> None:
    with (report_dir / "seats.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 9 * 5  # light, noise, background, area, calibration
    expired = [r for r in rows if r["坐席"] == "EXPIRED" and r["检查项"] == "calibration"]
    assert expired[0]["结论"] == "insufficient_data" and "s-EXPIRED" in expired[0]["说明"]


def _chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        unavailable("chromium is not installed (apt-get install chromium)")
    profile = tmp_path / f"chromium-{len(list(tmp_path.iterdir()))}"
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)


def test_report_html_opens_in_chromium_without_errors_and_shows_plan_and_table(
    report_dir: Path, tmp_path: Path
) -> None:
    html = report_dir / "report.html"
    text = html.read_text(encoding="utf-8")
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")  # self-contained: no CDN
    dom = _chromium(["--dump-dom", html.as_uri()], tmp_path)
    assert 'id="seat-charts"><svg' in dom.stdout, dom.stderr[-2000:]  # the script ran and drew charts
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == [], console
    assert '<html lang="zh-CN">' in dom.stdout and "职场噪声与照明合规报告" in dom.stdout

    shot = tmp_path / "report.png"
    result = _chromium(
        ["--window-size=1300,1400", "--hide-scrollbars", f"--screenshot={shot}", html.as_uri()], tmp_path
    )
    assert shot.exists(), result.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    colours = _colours(image)
    for rgb in (
        (0x2E, 0x7D, 0x32),
        (0xC6, 0x28, 0x28),
        (0x8A, 0x8F, 0x98),
    ):  # seats: pass, fail, insufficient
        assert rgb in colours, f"floor plan colour {rgb} not in the screenshot"
    assert (0xEE, 0xF1, 0xF5) in colours  # the table header (and the zone boxes)
    # The zone table's header row lies in the lower part of the first screen, below the plan.
    lower = image.crop((0, image.height // 2, image.width, image.height))
    assert (0xEE, 0xF1, 0xF5) in _colours(lower)


def _colours(image: Image.Image) -> set[tuple[int, ...] | float]:
    """Every colour in ``image``."""
    counted = image.getcolors(maxcolors=1 << 24)
    assert counted is not None  # None only beyond maxcolors, more than an RGB image can hold
    return {rgb for _, rgb in counted}


def test_report_html_renders_chinese_glyphs_not_boxes(report_dir: Path, tmp_path: Path) -> None:
    """Two Chinese strings of equal length in the report's font stack: missing glyphs would draw the same
    boxes for both, real glyphs draw different shapes (and ink)."""
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    font = re.search(r"body \{ font: [^ ]+ ([^;]+);", html)
    assert font, "no font stack in the report's CSS"
    stack = font.group(1)
    shots = {}
    for name, text in (("title", "职场噪声与照明合规报告"), ("other", "建筑照明设计标准第一页")):
        page = tmp_path / f"{name}.html"
        page.write_text(
            f'<html lang="zh-CN"><body style="margin:0;font:48px {stack}">{text}</body></html>',
            encoding="utf-8",
        )
        shot = tmp_path / f"{name}.png"
        _chromium(
            ["--window-size=700,120", "--hide-scrollbars", f"--screenshot={shot}", page.as_uri()], tmp_path
        )
        shots[name] = Image.open(shot).convert("L")
    ink = {k: sum(v for p, v in enumerate(im.histogram()) if p < 128) for k, im in shots.items()}
    assert min(ink.values()) > 300, ink  # measured ~800 dark pixels each
    assert shots["title"].tobytes() != shots["other"].tobytes()
