"""Calibration logic without servers: stable windows, judges, gain fit, drift, history file, certificate,
and the command's refusals of bad input (run as a subprocess, as the installer types it)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_python
from babel.messages.pofile import read_po
from rich.console import Console

from analysis.compliance.calibration_check import calibration_result, sensor_calibration
from firmware_bridge.calibrate import certificate
from firmware_bridge.calibrate.certificate import render
from firmware_bridge.calibrate.light import fit_gain, lux_judge, parse_point
from firmware_bridge.calibrate.noise import noise_judge, noise_offset, post_check
from firmware_bridge.calibrate.plausibility import usual_range
from firmware_bridge.calibrate.readout import Readout
from firmware_bridge.calibrate.record_store import HistoryError, RecordStore
from firmware_bridge.calibrate.supersede import describe_drift, next_record
from firmware_bridge.calibrate.uncertainty import light_budget, noise_budget, reference_class
from firmware_bridge.calibrate.window import CalibrationRefused, StableWindow, Verdict, wait_for_stable
from firmware_bridge.simulate.rehearsal import Calibrator, Rehearsal
from firmware_bridge.simulate.simulator import Simulator
from seatwatch.core.calibration_records import (
    CalibrationBook,
    CalibrationRecord,
    Instrument,
    certificate_problem,
)
from seatwatch.core.contract import Reading
from seatwatch.core.settings import load_services
from seatwatch.core.site import Site
from seatwatch.core.site_file import load_site
from seatwatch.core.vocabulary import Quantity
from tests.calibrate_sensor import provenance, seatwatch, words, write_site

PROVENANCE_NOISE = provenance("noise")

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class ListSource:
    """Readings handed out in order; then nothing, as a sensor that went quiet."""

    def __init__(self, levels: list[float]) -> None:
        self.readings = [
            Reading("nz-1", n, 1_800_000_000_000 + n * 1000, 1.0, laeq=v) for n, v in enumerate(levels)
        ]

    def next(self, timeout_s: float) -> Reading | None:
        return self.readings.pop(0) if self.readings else None


def _wait(levels: list[float], duration: float = 5.0) -> float:
    judge = noise_judge(94.0, 0.2, 30.0)
    verdict, window = wait_for_stable(
        ListSource(levels), lambda r: r.laeq, duration, 0.3, judge, lambda *a: None, "noise readings of nz-1"
    )
    assert window.seconds == pytest.approx(duration)
    return verdict.value


def test_stable_window_found_after_the_calibrator_settles() -> None:
    level = _wait([45.0, 70.0, 95.0, 96.3, 96.31, 96.29, 96.3, 96.32, 96.3])
    assert level == pytest.approx(96.3, abs=0.02)
    assert noise_offset(94.0, level) == pytest.approx(-2.3, abs=0.02)


@pytest.mark.parametrize(
    ("levels", "reason"),
    [
        ([45.0] * 8, "level too low: 45.0 dB"),
        ([94.0, 95.0] * 4, "level unstable: readings span 1.00 dB"),
        ([114.2] * 8, "pass --reference-db 114"),
        ([], "no noise readings of nz-1 arrived"),
        ([94.0, 94.0], "only 2 noise readings of nz-1 arrived"),
    ],
)
def test_unusable_windows_are_refused_with_the_reason(levels: list[float], reason: str) -> None:
    with pytest.raises(CalibrationRefused, match=reason):
        _wait(levels)


def test_too_low_names_the_noise_floor() -> None:
    verdict = noise_judge(94.0, 0.2, 30.0)(StableWindow((31.0,) * 4, (1.0,) * 4))
    assert verdict.problem and "self-noise floor" in verdict.problem and "seated" in verdict.problem


def test_post_check_applies_gb3096_drift_rule() -> None:
    assert post_check(94.0, 94.3).valid
    assert not post_check(94.0, 94.6).valid


def test_light_gain_through_zero_recovers_the_bias() -> None:
    fit = fit_gain([(442.0, 520.0), (170.0, 200.0), (255.0, 300.0)], 0.05)
    assert 1 / fit.gain == pytest.approx(0.85, rel=1e-6)
    with pytest.raises(CalibrationRefused, match="do not fit one gain: the worst is point 2"):
        fit_gain([(442.0, 520.0), (200.0, 200.0)], 0.05)
    with pytest.raises(CalibrationRefused, match="cannot fit a gain"):
        fit_gain([(0.0, 520.0)], 0.05)


def test_lux_judge_refuses_darkness_and_flicker() -> None:
    judge = lux_judge(0.02)
    dark = judge(StableWindow((0.0, 0.0), (1.0, 1.0))).problem
    assert dark is not None and dark.startswith("the sensor reads 0 lx")
    flicker = judge(StableWindow((400.0, 440.0), (1.0, 1.0))).problem
    assert flicker is not None and "light unstable" in flicker
    assert judge(StableWindow((400.0, 401.0), (1.0, 3.0))).value == pytest.approx(400.75)


@pytest.mark.parametrize("text", ["442", "a:b", "442:0", "-1:520", "inf:520"])
def test_bad_points_are_named(text: str) -> None:
    with pytest.raises(ValueError, match=f"--point '{text}'"):
        parse_point(text)


def _record(
    book: CalibrationBook, quantity: str, result: float, when: datetime, instrument: Instrument | None = None
) -> CalibrationRecord:
    return next_record(
        book,
        sensor="nz-1",
        quantity=Quantity(quantity),
        result=result,
        reference_value=94.0 if quantity == "noise" else 520.0,
        instrument=instrument or Instrument("B&K 4231", "2458913", "IEC 60942 class 1", "2026-01-10"),
        operator="Li Wei",
        pre_deviation=None,
        post_deviation=None,
        valid_days=365,
        notes="",
        now=when,
    )


def test_new_records_supersede_and_report_drift() -> None:
    book = CalibrationBook()
    first = _record(book, "noise", -2.3, T0)
    assert first.previous_id is None and "first calibration" in describe_drift(first)
    book.add(first)
    small = _record(book, "noise", -2.0, T0 + timedelta(days=30))
    assert small.previous_id == first.id and small.drift == pytest.approx(0.3) and not small.drift_flagged
    large = _record(book, "noise", -1.5, T0 + timedelta(days=30))
    assert large.drift == pytest.approx(0.8) and large.drift_flagged
    assert "FLAGGED: drift over 0.5 dB" in describe_drift(large)
    book.add(_record(book, "light", 1.0 / 0.85, T0))
    moved = _record(book, "light", 1.0 / 0.85 * 1.12, T0 + timedelta(days=1))
    assert moved.drift == pytest.approx(0.12) and moved.drift_flagged
    assert moved.valid_until - moved.performed_at == timedelta(days=365)


def test_history_is_appended_and_read_per_site(tmp_path: Path) -> None:
    services = load_services({"state_dir": str(tmp_path)}, env={})
    mine, other = RecordStore("site-a", services), RecordStore("site-b", services)
    first = _record(CalibrationBook(), "noise", -2.3, T0)
    second = _record(CalibrationBook([first]), "noise", -2.2, T0 + timedelta(days=1))
    mine.append(first)
    other.append(_record(CalibrationBook(), "light", 1.2, T0))
    mine.append(second)
    assert [r.id for r in mine.local_records()] == [first.id, second.id]
    assert mine.local_records()[1] == second
    lines = mine.path.read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["site"] == "site-a"
    mine.path.write_text(mine.path.read_text() + "{not json\n")
    with pytest.raises(HistoryError, match=r"calibrations.jsonl:4: not a calibration record"):
        mine.local_records()


def _site(tmp_path: Path, name: str = "Calibration test floor") -> Site:
    path = write_site(tmp_path, "site-a", "mqtt://127.0.0.1:9", "http://127.0.0.1:9", "none")
    path.write_text(path.read_text().replace("Calibration test floor", name))
    return load_site(path)


def test_certificate_in_site_time_with_provenance_uncertainty_and_dated_signatures(tmp_path: Path) -> None:
    site = _site(tmp_path, "<Floor 12> & co")
    instrument = Instrument(
        "B&K 4231", "2458913", "IEC 60942 class 1", "2026-01-10", "JL-2026-0117", "2027-01-09"
    )
    record = replace(
        _record(CalibrationBook(), "noise", -2.3, T0, instrument),
        sensor_model="seatwatch-ref-1",
        seat="A-01",
        pre_deviation=2.3,
        post_deviation=0.02,
        ambient_temperature_c=22.5,
        ambient_humidity_pct=45.0,
        ambient_pressure_kpa=101.3,
        usual_range="offset -3 to +3 dB",
        uncertainty=noise_budget(reference_class("IEC 60942 class 1", "noise"), [96.3] * 10),
    )
    page = render(record, site, "en")
    assert "&lt;Floor 12&gt; &amp; co" in page and "<Floor 12>" not in page
    assert "@media print" in page and "IEC 60942" in page and "GB 3096" in page
    assert "offset -2.30 dB" in page and "B&amp;K 4231" in page
    # T0 is 09:00 UTC; Shanghai is UTC+8 all year.
    assert "2026-03-02 17:00:00+08:00 (Asia/Shanghai)" in page and "UTC)" not in page
    assert "seatwatch-ref-1" in page and "<td>A-01</td>" in page
    assert "22.5 °C, 45 % relative humidity, 101.3 kPa" in page
    assert "no. JL-2026-0117, valid 2026-01-10 to 2027-01-09" in page
    # class 1 (0.25 dB rectangular), a steady window, 0.1 dB resolution: U = 2·√(0.25²/3 + 0.05²/3) = 0.29
    assert "U = 0.29 dB (k = 2); budget below" in page and "<td class=num>0.144 dB</td>" in page
    assert "<td class=num>0.029 dB</td>" in page and "<b>0.29 dB</b>" in page
    assert "+2.30 dB (the sensor read 96.30 dB against 94 dB)" in page
    assert "94.02 dB corrected, +0.02 dB from 94 dB (limit 0.5 dB): passed" in page
    assert page.count("<div class=line>Date</div>") == 2
    assert "Not evidence" not in page and "OUTSIDE" not in page


def test_a_site_in_china_gets_a_bilingual_certificate(tmp_path: Path) -> None:
    site = _site(tmp_path)  # Asia/Shanghai: the site's locale defaults to zh-CN
    assert site.locale == "zh-CN"
    record = replace(
        _record(CalibrationBook(), "light", 104.0, T0),
        outside_usual_range=True,
        usual_range="gain 0.5 to 2",
        points=[[5.0, 520.0]],
    )
    page = render(record, site)
    assert '<html lang="zh-CN">' in page
    assert "传感器校准证书<span class=en>Sensor calibration certificate</span>" in page
    assert "<th>传感器型号<span class=en>Sensor model</span></th>" in page
    assert "增益 104.0000（校准后照度 = 原始照度 × 增益，过零点）" in page
    assert "超出该型号的常规范围（gain 0.5 to 2）：操作人员已确认" in page
    assert "单点校准：无法检验其残差" in page and "—（单点）" in page
    assert page.count("<div class=line>日期<span class=en>Date</span></div>") == 2
    assert "2026-03-02 17:00:00+08:00 (Asia/Shanghai)" in page
    english = render(record, site, "en")
    assert "<span class=en>" not in english and "OUTSIDE the model" in english


def test_every_certificate_message_has_a_chinese_translation_with_the_same_placeholders() -> None:
    code = Path(certificate.__file__)
    with code.open("rb") as f:
        # babel annotates this as yielding (lineno, message, comments, context); it yields (lineno,
        # funcname, message, comments)
        found: Iterator[tuple[int, str, str | tuple[str, ...], list[str]]] = extract_python(  # type: ignore[assignment]
            f, {"_": None, "N_": None}, [], {}
        )
        used = {m for _, _, m, _ in found if isinstance(m, str)}
    assert len(used) > 90  # the extractor found them (none hidden inside f-strings)
    with (code.parent / "locale" / "zh_CN" / "LC_MESSAGES" / "certificate.po").open("rb") as f:
        translated = {m.id: m.string for m in read_po(f) if m.id and m.string and not m.fuzzy}
    assert sorted(used - set(translated)) == [] and sorted(set(translated) - used) == []
    for msg in used:
        text = translated[msg]
        assert isinstance(text, str), msg  # the certificate has no plural messages
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", msg)), msg


def test_a_record_without_provenance_parses_but_is_not_evidence(tmp_path: Path) -> None:
    old = json.dumps(
        {
            "id": "nz-1-noise-20250301T010000Z-ab12",
            "sensor": "nz-1",
            "quantity": "noise",
            "method": "sound-calibrator",
            "performed_at": "2025-03-01T01:00:00+00:00",
            "valid_until": "2026-03-01T01:00:00+00:00",
            "offset_db": -1.5,
            "instrument": {"model": "B&K 4231", "certificate_date": "2024-06-01"},
        }
    )
    record = CalibrationRecord.from_json(old)
    assert record.apply(60.0) == 58.5  # it still corrects readings
    assert record.provenance_problems() == [
        "lacks operator",
        "lacks instrument.serial",
        "lacks instrument.accuracy_class",
        "lacks instrument.certificate_number",
        "lacks instrument.certificate_valid_until",
    ]
    site = _site(tmp_path)
    start, end = datetime(2025, 3, 2, tzinfo=UTC), datetime(2025, 3, 3, tzinfo=UTC)
    [noise, _light] = sensor_calibration(site, CalibrationBook([record]), site.installations[0], start, end)
    assert not noise.valid and noise.records == () and noise.gaps == ((start, end),)
    assert "lacks operator" in calibration_result([noise]).reasons[-1]
    proven = replace(
        record,
        operator="Li Wei",
        instrument=Instrument("B&K 4231", "2458913", "IEC 60942 class 1", "2024-06-01", "JL-1", "2025-05-31"),
    )
    assert CalibrationRecord.from_json(proven.to_json()) == proven
    [noise, _light] = sensor_calibration(site, CalibrationBook([proven]), site.installations[0], start, end)
    assert noise.valid and noise.records == (proven.id,)
    expired = replace(proven, instrument=replace(proven.instrument, certificate_valid_until="2025-02-28"))
    assert expired.provenance_problems() == ["reference instrument certificate JL-1 expired on 2025-02-28"]


def test_certificate_problem_covers_expired_and_not_yet_valid() -> None:
    inst = Instrument("T-10A", "11223", "JJG 245 grade 1", "2026-01-10", "C-9", "2027-01-09")
    assert certificate_problem(inst, date(2026, 1, 10)) is None
    assert certificate_problem(inst, date(2027, 1, 9)) is None
    assert certificate_problem(inst, date(2027, 1, 10)) == "certificate C-9 expired on 2027-01-09"
    assert certificate_problem(inst, date(2026, 1, 9)) == "certificate C-9 is not valid before 2026-01-10"
    assert "not ISO dates" in (
        certificate_problem(replace(inst, certificate_date=""), date(2026, 5, 1)) or ""
    )


def test_usual_ranges_come_from_the_data_file(tmp_path: Path) -> None:
    assert (usual_range("", "light").low, usual_range("", "light").high) == (0.5, 2.0)
    assert usual_range("", "noise").describe() == "offset -6 to +6 dB"
    ref = usual_range("seatwatch-ref-1 (ESP32-S3 + ICS-43434 + OPT3001)", "light")
    assert ref.model_key == "seatwatch-ref-1" and (ref.low, ref.high) == (0.6, 1.6)
    assert usual_range("renke-lux", "noise").model_key == "default"  # no noise limits for a lux transmitter
    assert not usual_range("", "light").contains(104.0) and usual_range("", "light").contains(1.18)
    limits = tmp_path / "limits.toml"
    limits.write_text("[default]\nnoise_offset_db = [-1, 1]\nlight_gain = [0.9, 1.1]\n")
    assert usual_range("anything", "light", limits).describe() == "gain 0.9 to 1.1"


def test_reference_classes_and_budgets() -> None:
    assert reference_class("  iec 60942   CLASS 1 ", "noise").tolerance == 0.25
    assert reference_class("一级", "light").key == "jjg245-grade1"
    with pytest.raises(ValueError, match="not a light reference class"):
        reference_class("IEC 60942 class 1", "light")
    grade1 = reference_class("JJG 245 grade 1", "light")
    # one point at 500 lx with a steady window: 4 %/√3 and 0.05 lx/√3 of 500 lx, no fit term
    budget = light_budget(grade1, [500.0], [[500.0] * 3], [0.0])
    assert budget["reference"] == pytest.approx(2.3094, abs=1e-4)
    assert budget["resolution"] == pytest.approx(0.0057735, rel=1e-4) and "fit" not in budget
    # three points with residuals +1 %, −1 %, 0: rms over n − 1 = 1 %
    budget = light_budget(grade1, [200.0, 400.0, 600.0], [], [0.01, -0.01, 0.0])
    assert budget["fit"] == pytest.approx(1.0) and budget["repeatability"] == 0.0
    noisy = noise_budget(reference_class("IEC 60942 class 1", "noise"), [94.0, 94.2, 94.0, 94.2])
    assert noisy["repeatability"] == pytest.approx(0.11547 / 2, rel=1e-4)  # s = 0.11547, n = 4


def test_calibrator_is_heard_through_a_weighting_and_control_messages_are_checked(tmp_path: Path) -> None:
    assert Calibrator(94.0).heard_db() == pytest.approx(94.0, abs=0.001)  # A(1 kHz) = 0
    assert Calibrator(94.0, 250.0).heard_db() == pytest.approx(94.0 - 8.6, abs=0.1)  # IEC 61672-1 table
    site = _site(tmp_path)  # its sensors use the mqtt driver: simulate one reference sensor instead
    sim = Simulator(
        replace(site, sensors={"ref-1": replace(site.sensors["nz-1"], id="ref-1", driver="reference")}),
        port_dir=tmp_path,
    )
    stage = Rehearsal(sim)
    stage.control("ref-1", b'{"calibrator": {"level_db": 94, "frequency_hz": 250}}')
    stage.control("ref-1", b'{"lamp": {"lux": 520}}')
    assert stage.describe("ref-1") == "calibrator 94 dB at 250 Hz, lamp 520 lx"
    noise_db, lux, steady = sim.true_levels("ref-1", T0.timestamp())
    assert noise_db == pytest.approx(85.4, abs=0.1) and lux == 520.0 and steady
    stage.control("ref-1", b'{"calibrator": null}')
    assert stage.describe("ref-1") == "no calibrator, lamp 520 lx"
    for bad, message in (
        (b"[1]", "must be a JSON object"),
        (b'{"lamp": {"lux": -5}}', "lamp lux '-5' is not a number"),
        (b'{"sun": 1}', "unknown keys"),
    ):
        with pytest.raises(ValueError, match=message):
            stage.control("ref-1", bad)
    with pytest.raises(ValueError, match="no simulated sensor 'nz-9'"):
        stage.control("nz-9", b"{}")


def test_plain_readout_lines_fit_80_columns() -> None:
    out = io.StringIO()
    readout = Readout(Console(file=out, width=80), "nz-1", lambda last, v: f"latest {last:9.2f} dB", 10.0)
    problem = "level too low: 35.0 dB is more than 10 dB below the calibrator's 94 dB — is it seated?"
    readout(StableWindow((35.0,) * 12, (1.0,) * 12), Verdict(35.0, 0.0, problem), 1.0, 41.6)
    readout(StableWindow((94.0,), (1.0,)), Verdict(94.0, 0.0, None), 0.1, 12.0)
    lines = out.getvalue().splitlines()
    assert lines == [
        "100%  42 s left  latest     35.00 dB  level too low",
        " 10%  12 s left  latest     94.00 dB  collecting",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["noise", "--sensor", "nope"], "--sensor 'nope' is not a sensor of site"),
        (["noise", "--sensor", "lx-2"], "--sensor 'lx-2' measures light, not noise"),
        (["light", "--sensor", "lx-2", "--point", "12"], "--point '12' must be RAW:REF"),
        (
            ["light", "--sensor", "lx-2", "--points", "1", "--reference-lux", "5", "--reference-lux", "6"],
            "--points 1 is fewer",
        ),
        (["noise", "--sensor", "nz-1", "--valid-days", "0"], "--valid-days: invalid positive int value: '0'"),
        (["noise", "--sensor", "nz-1", "--instrument-cert-date", "10/01/2026"], "invalid ISO date"),
        (["noise", "--sensor", "nz-1", "--humidity", "120"], "--humidity: invalid number from 0 to 100"),
        (
            ["noise", "--sensor", "nz-1", "--operator", "Li Wei"],
            "missing: --instrument-model, --instrument-serial, --instrument-class, --instrument-cert-number, "
            "--instrument-cert-valid-from, --instrument-cert-valid-until",
        ),
        (["light", "--sensor", "lx-2", *PROVENANCE_NOISE], "is not a light reference class seatwatch knows"),
        (["show", "no-such-record"], "no calibration record 'no-such-record'"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(tmp_path: Path, args: list[str], message: str) -> None:
    # Services point at closed ports: bad input must be caught before anything is contacted.
    site = write_site(tmp_path, "site-a", "mqtt://127.0.0.1:9", "http://127.0.0.1:9", "none")
    result = seatwatch("calibrate", args[0], "--site", site, *args[1:])
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("start", "end", "message"), [(-400, -1, "expired on"), (1, 300, "is not valid before")]
)
def test_a_reference_certificate_that_does_not_cover_today_refuses_before_anything(
    tmp_path: Path, start: int, end: int, message: str
) -> None:
    site = write_site(tmp_path, "site-a", "mqtt://127.0.0.1:9", "http://127.0.0.1:9", "none")
    today = datetime.now(UTC).date()
    dates = (today + timedelta(days=start), today + timedelta(days=end))
    result = seatwatch("calibrate", "noise", "--site", site, "--sensor", "nz-1", *provenance("noise", *dates))
    assert result.returncode == 1, result.stderr
    assert message in words(result.stderr) and "nothing was recorded" in result.stderr
    assert "broker" not in result.stderr  # refused before the broker was tried
    assert not (tmp_path / "state" / "calibrations.jsonl").exists()


def test_a_missing_site_file_is_named(tmp_path: Path) -> None:
    result = seatwatch("calibrate", "due", "--site", tmp_path / "absent.toml")
    assert result.returncode == 2
    assert "absent.toml: cannot read the site file" in result.stderr
    assert "Traceback" not in result.stderr
