"""Calibration logic without servers: stable windows, judges, gain fit, drift, history file, certificate,
and the command's refusals of bad input (run as a subprocess, as the installer types it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from firmware_bridge.calibrate.certificate import render
from firmware_bridge.calibrate.light import fit_gain, lux_judge, parse_point
from firmware_bridge.calibrate.noise import noise_judge, noise_offset, post_check
from firmware_bridge.calibrate.record_store import HistoryError, RecordStore
from firmware_bridge.calibrate.supersede import describe_drift, next_record
from firmware_bridge.calibrate.window import CalibrationRefused, Window, wait_for_stable
from seatwatch.calibration import CalibrationBook, Instrument
from seatwatch.contract import Reading
from seatwatch.settings import load_services
from tests.calibrate_sensor import seatwatch, write_site

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
    verdict = wait_for_stable(
        ListSource(levels), lambda r: r.laeq, duration, 0.3, judge, lambda *a: None, "noise readings of nz-1"
    )
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
    verdict = noise_judge(94.0, 0.2, 30.0)(Window((31.0,) * 4, (1.0,) * 4))
    assert verdict.problem and "self-noise floor" in verdict.problem and "seated" in verdict.problem


def test_post_check_applies_gb3096_drift_rule() -> None:
    assert post_check(94.0, -2.3, 96.6).valid
    assert not post_check(94.0, -2.3, 96.9).valid


def test_light_gain_through_zero_recovers_the_bias() -> None:
    fit = fit_gain([(442.0, 520.0), (170.0, 200.0), (255.0, 300.0)], 0.05)
    assert 1 / fit.gain == pytest.approx(0.85, rel=1e-6)
    with pytest.raises(CalibrationRefused, match="worst residual is"):
        fit_gain([(442.0, 520.0), (200.0, 200.0)], 0.05)
    with pytest.raises(CalibrationRefused, match="cannot fit a gain"):
        fit_gain([(0.0, 520.0)], 0.05)


def test_lux_judge_refuses_darkness_and_flicker() -> None:
    judge = lux_judge(0.02)
    assert judge(Window((0.0, 0.0), (1.0, 1.0))).problem.startswith("the sensor reads 0 lx")
    assert "light unstable" in judge(Window((400.0, 440.0), (1.0, 1.0))).problem
    assert judge(Window((400.0, 401.0), (1.0, 3.0))).value == pytest.approx(400.75)


@pytest.mark.parametrize("text", ["442", "a:b", "442:0", "-1:520", "inf:520"])
def test_bad_points_are_named(text: str) -> None:
    with pytest.raises(ValueError, match=f"--point '{text}'"):
        parse_point(text)


def _record(book: CalibrationBook, quantity: str, result: float, when: datetime):
    return next_record(
        book,
        sensor="nz-1",
        quantity=quantity,
        result=result,
        reference_value=94.0 if quantity == "noise" else 520.0,
        instrument=Instrument("B&K 4231", "2458913", "IEC 60942 class 1", "2026-01-10"),
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


def test_certificate_is_printable_escaped_and_cites_the_standards() -> None:
    record = _record(CalibrationBook(), "noise", -2.3, T0)
    page = render(record, "site-a", "<Floor 12> & co")
    assert "&lt;Floor 12&gt; &amp; co" in page and "<Floor 12>" not in page
    assert "@media print" in page and "IEC 60942" in page and "GB 3096" in page
    assert "offset -2.30 dB" in page and "B&amp;K 4231" in page and "2026-01-10" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["noise", "--sensor", "nope"], "--sensor 'nope' is not a sensor of site"),
        (["noise", "--sensor", "lx-2"], "--sensor 'lx-2' measures light, not noise"),
        (["light", "--sensor", "lx-2", "--point", "12"], "--point '12' must be RAW:REF"),
        (["light", "--sensor", "lx-2"], "give at least one --reference-lux"),
        (["noise", "--sensor", "nz-1", "--valid-days", "0"], "--valid-days: invalid positive int value: '0'"),
        (["noise", "--sensor", "nz-1", "--instrument-cert-date", "10/01/2026"], "invalid ISO date"),
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


def test_a_missing_site_file_is_named(tmp_path: Path) -> None:
    result = seatwatch("calibrate", "due", "--site", tmp_path / "absent.toml")
    assert result.returncode == 2
    assert "absent.toml: cannot read the site file" in result.stderr
    assert "Traceback" not in result.stderr
