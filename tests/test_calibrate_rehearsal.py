"""Calibration rehearsed as an installer would: ``seatwatch simulate`` with a virtual calibrator and lamps
(command line and control topic) on a reference sensor that misreads (+2.3 dB, lux × 0.85), the real
``seatwatch bridge`` reading its pseudo-terminal, Mosquitto, the real ``seatwatch ingest`` into influxd,
and ``seatwatch calibrate`` — as a subprocess, or on a real 80 × 24 pseudo-terminal driven by pexpect
and rendered by pyte as the installer's screen shows it."""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pexpect
import pyte
import pytest

from seatwatch.core.calibration_records import CalibrationRecord, load_records
from seatwatch.core.influxql import InfluxQLClient
from seatwatch.core.vocabulary import Quantity
from tests.calibrate_sensor import (
    REFERENCE_SENSOR,
    REPO,
    SimulateProcess,
    history,
    provenance,
    seatwatch,
    split_at_record,
    start_seatwatch,
    stop,
    wait_for,
    words,
    write_site,
)

pytestmark = pytest.mark.integration

NOISE_BIAS_DB = 2.3
LIGHT_BIAS = 0.85
CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")


@dataclass
class Rehearsal:
    site: Path
    sim: SimulateProcess


@pytest.fixture
def rehearsal(
    tmp_path: Path, mqtt_url: str, influx_url: str, influx_db: str, site_id: str
) -> Iterator[Rehearsal]:
    site = write_site(
        tmp_path,
        site_id,
        mqtt_url,
        influx_url,
        influx_db,
        REFERENCE_SENSOR.format(port=tmp_path / "ports" / "ref-1"),
    )
    sim = SimulateProcess(
        mqtt_url, site_id, "--site", site, "--port-dir", tmp_path / "ports",
        "--calibrator", "ref-1:94", "--noise-bias", f"ref-1:{NOISE_BIAS_DB}",
        "--light-bias", f"ref-1:{LIGHT_BIAS}",
    )  # fmt: skip
    bridge = ingest = None
    try:
        sim.wait_line("ref-1\t")  # the device exists
        sim.wait_line("rehearsal: following")  # the control topic is subscribed
        bridge = start_seatwatch(tmp_path / "bridge.log", "bridge", "--site", site, "--bridge", "gw-1")
        ingest = start_seatwatch(tmp_path / "ingest.log", "ingest", "--site", site, "--linger-ms", "50")
        yield Rehearsal(site, sim)
    finally:
        for process in (bridge, ingest):
            if process is not None:
                stop(process)
        sim.stop()


def _terminal(*args: str | Path) -> tuple[pexpect.spawn, io.StringIO]:
    """``seatwatch ARGS`` on a real 80 × 24 pseudo-terminal; everything it draws is kept."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEATWATCH_")}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    env["TERM"] = "xterm-256color"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "seatwatch", *map(str, args)],
        cwd=str(REPO),
        env=env,
        dimensions=(24, 80),
        encoding="utf-8",
        timeout=60,
    )
    drawn = io.StringIO()
    child.logfile_read = drawn
    return child, drawn


def _finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    if child.exitstatus is not None:
        return child.exitstatus
    assert child.signalstatus is not None  # closed: it exited or a signal ended it
    return 128 + child.signalstatus


def _screen(drawn: str) -> list[str]:
    """Every line the terminal showed, scrolled-off ones included, as pyte renders an 80 × 24 screen."""
    screen = pyte.HistoryScreen(80, 24, history=5000)
    pyte.Stream(screen).feed(drawn.replace("\n", "\r\n"))
    scrolled = ["".join(line[x].data for x in range(80)).rstrip() for line in screen.history.top]
    return scrolled + [line.rstrip() for line in screen.display]


def _widest_drawn_line(drawn: str) -> int:
    """The most columns any one line took before a line feed or a carriage return: over 80 would have
    wrapped on the installer's terminal."""
    return max(len(part) for part in re.split(r"[\r\n]", CSI.sub("", drawn)))


def test_noise_post_check_session_on_an_80_column_terminal(
    rehearsal: Rehearsal, influx: InfluxQLClient
) -> None:
    child, drawn = _terminal(
        "calibrate", "noise", "--site", rehearsal.site, "--sensor", "ref-1", "--post-check",
        "--duration", "3", "--timeout", "30", "--temperature", "22.5", "--humidity", "45",
        "--pressure", "101.3", *provenance("noise"),
    )  # fmt: skip
    child.expect("broker reached")  # the broker is checked before anyone is asked to seat a calibrator
    child.expect(r"Seat the calibrator \(94 dB, 1 kHz\) on ref-1's microphone")
    child.expect("press Enter")
    child.sendline("")
    child.expect(r"measured 96\.30 dB")
    child.expect("Post-check: keep the calibrator seated")
    child.expect("press Enter")
    child.sendline("")
    child.expect("Calibration recorded")
    assert _finish(child) == 0, drawn.getvalue()

    [record] = history(rehearsal.site)
    assert record.offset_db == pytest.approx(-NOISE_BIAS_DB, abs=0.05)
    assert record.post_deviation == pytest.approx(0.0, abs=0.05)
    assert (record.seat, record.ambient_temperature_c, record.ambient_pressure_kpa) == ("A-01", 22.5, 101.3)
    shown = drawn.getvalue()
    assert _widest_drawn_line(shown) <= 80
    screen = _screen(shown)
    assert all(len(line) <= 80 for line in screen)
    text = "\n".join(screen)
    # the post-check readout shows corrected levels, not the raw 96.3 dB
    assert "post-check: levels corrected by -2.30 dB, against 94 dB" in text
    assert re.search(r"Leq\s+94\.00 dB", text[text.index("post-check: levels corrected") :])
    summary = words(text[text.index("Calibration recorded") :])
    assert "Result offset -2.30 dB" in summary
    assert "Post-check passed: 94.00 dB corrected, +0.00 dB from 94 dB (limit 0.5 dB)" in summary
    assert f"Record {record.id}" in summary and "Certificate " in summary and ".html" in summary
    (rehearsal.site.parent / "noise-session.txt").write_text(text + "\n")

    # ingest corrects the readings from the record on
    wait_for(lambda: len(split_at_record(influx, "noise", "ref-1", record)[1]) >= 2)
    _before, after = split_at_record(influx, "noise", "ref-1", record)
    assert all(r["cal"] == record.id and r["laeq"] == pytest.approx(94.0, abs=0.06) for r in after)


@pytest.mark.parametrize(("key", "code"), [("d", 1), ("c", 130)])
def test_ctrl_d_and_ctrl_c_at_the_prompts_leave_nothing_recorded(
    rehearsal: Rehearsal, key: str, code: int
) -> None:
    child, drawn = _terminal(
        "calibrate", "noise", "--site", rehearsal.site, "--sensor", "ref-1", *provenance("noise")
    )
    child.expect("press Enter")
    child.sendcontrol(key)
    assert _finish(child) == code
    assert "nothing was recorded" in drawn.getvalue() and "Traceback" not in drawn.getvalue()

    rehearsal.sim.control("ref-1", {"lamp": {"lux": 400.0}})
    child, drawn = _terminal(
        "calibrate", "light", "--site", rehearsal.site, "--sensor", "ref-1", "--duration", "2",
        *provenance("light"),
    )  # fmt: skip
    child.expect("press Enter")
    child.sendline("")
    child.expect(r"what does the reference meter read \(lx\)\?")  # only once the sensor is stable
    assert re.search(r"sensor stable at 340\.0 lx", drawn.getvalue())
    child.sendcontrol(key)
    assert _finish(child) == code
    assert "nothing was recorded" in drawn.getvalue() and "Traceback" not in drawn.getvalue()
    assert history(rehearsal.site) == []


def test_five_lux_against_520_is_refused_unless_confirmed(
    rehearsal: Rehearsal, influx: InfluxQLClient, site_id: str
) -> None:
    # The sensor sees 5 lx (covered, or in a shadow) while the meter elsewhere reads 520 lx.
    rehearsal.sim.control("ref-1", {"lamp": {"lux": 5.0 / LIGHT_BIAS}})
    args: list[str | Path] = [
        "calibrate", "light", "--site", rehearsal.site, "--sensor", "ref-1", "--reference-lux", "520",
        "--duration", "2", "--timeout", "20", "--certificate", rehearsal.site.parent / "certs",
        *provenance("light"),
    ]  # fmt: skip
    refused = seatwatch(*args)
    assert refused.returncode == 1, refused.stderr
    said = words(refused.stderr)
    assert (
        "calibration refused: gain 104.0000 is outside the usual range of sensor model seatwatch-ref-1"
        in said
    )
    assert "(gain 0.6 to 1.6," in said and "--confirm-unusual" in said and "nothing was recorded" in said
    assert history(rehearsal.site) == [] and len(load_records(influx, site_id)) == 0

    confirmed = seatwatch(*args, "--confirm-unusual")
    assert confirmed.returncode == 0, confirmed.stderr
    [record] = history(rehearsal.site)
    assert record.gain == pytest.approx(520.0 / 5.0, rel=0.002)
    assert record.outside_usual_range and record.usual_range == "gain 0.6 to 1.6"
    assert "Usual range OUTSIDE, confirmed: gain 0.6 to 1.6" in words(confirmed.stdout)
    page = (rehearsal.site.parent / "certs" / f"{record.id}.html").read_text()
    # the site is in Shanghai: its certificate is in Chinese with English labels beside
    assert "超出该型号的常规范围（gain 0.6 to 1.6）：操作人员已确认" in page
    assert "<span class=en>Model&#x27;s usual range</span>" in page
    assert load_records(influx, site_id).history("ref-1", Quantity.LIGHT) == [record]
    wait_for(lambda: len(split_at_record(influx, "light", "ref-1", record)[1]) >= 2)
    _before, after = split_at_record(influx, "light", "ref-1", record)
    assert all(r["cal"] == record.id and r["lux"] == pytest.approx(520.0, rel=0.002) for r in after)


def test_an_expired_reference_certificate_is_refused(rehearsal: Rehearsal, site_id: str) -> None:
    today = datetime.now(UTC).date()
    result = seatwatch(
        "calibrate", "light", "--site", rehearsal.site, "--sensor", "ref-1", "--reference-lux", "400",
        *provenance("light", today - timedelta(days=400), today - timedelta(days=35)),
    )  # fmt: skip
    assert result.returncode == 1
    expired = (today - timedelta(days=35)).isoformat()
    assert f"certificate JL-11223-26 expired on {expired}" in words(result.stderr)
    assert "nothing was recorded" in result.stderr and history(rehearsal.site) == []


def _three_points(rehearsal: Rehearsal, meter: tuple[float, float, float]) -> tuple[int, str]:
    """Three points at 200, 400 and 600 lx true, the installer typing ``meter`` for them, in order."""
    child, drawn = _terminal(
        "calibrate", "light", "--site", rehearsal.site, "--sensor", "ref-1", "--points", "3",
        "--duration", "2", "--timeout", "30", *provenance("light"),
    )  # fmt: skip
    for n, (true_lux, typed) in enumerate(zip((200.0, 400.0, 600.0), meter, strict=True), start=1):
        child.expect(f"Point {n} of 3: set the lighting")
        child.expect("press Enter")
        rehearsal.sim.control("ref-1", {"lamp": {"lux": true_lux}})
        child.sendline("")
        child.expect(f"sensor stable at {LIGHT_BIAS * true_lux:.1f} lx")
        child.expect(r"what does the reference meter read \(lx\)\?")
        child.sendline(f"{typed:g}")
    code = _finish(child)
    assert _widest_drawn_line(drawn.getvalue()) <= 80
    return code, words("\n".join(_screen(drawn.getvalue())))


def test_three_points_with_one_misread_are_refused_naming_it(rehearsal: Rehearsal) -> None:
    code, said = _three_points(rehearsal, (200.0, 480.0, 600.0))  # point 2 read 20 % high
    assert code == 1, said
    assert "point 2 (sensor 340.0 lx, meter 480 lx, +11.9 %) does not fit the others" in said
    assert "nothing was recorded" in said and history(rehearsal.site) == []

    code, said = _three_points(rehearsal, (200.0, 400.0, 600.0))
    assert code == 0, said
    [record] = history(rehearsal.site)
    assert record.points == [[170.0, 200.0], [340.0, 400.0], [510.0, 600.0]]
    assert record.gain is not None and 1 / record.gain == pytest.approx(LIGHT_BIAS, rel=1e-4)
    assert "Fit 3 points fitted, worst residual 0.00 %" in said
    assert "U = " in said and "fit 0.000 %" in said
    assert isinstance(CalibrationRecord.from_json(record.to_json()), CalibrationRecord)
