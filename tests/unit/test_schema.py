"""The InfluxDB schema in code (seatwatch/core/schema.py) against what the writers emit and what
docs/contracts.md says, and the one energy-level function against the acoustics' energy mean."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.reading_points import PointMaker
from seatwatch.core.acoustics.decibels import energy_mean
from seatwatch.core.calibration_records import CalibrationBook, CalibrationRecord
from seatwatch.core.change_journal import change_lines
from seatwatch.core.contract import Reading, Rejected, encode
from seatwatch.core.influxql import quote_ident
from seatwatch.core.schema import (
    LEVEL_QL,
    BridgeStatus,
    Calibration,
    Compliance,
    Light,
    Noise,
    Rejects,
    SeatChanges,
    SeatRollup,
    SeatRollupState,
    SeatRollupWatermark,
    Tag,
    level_from_exposure,
)
from seatwatch.core.site_file import load_site
from seatwatch.core.topics import batch_topic
from seatwatch.core.vocabulary import Quantity, RejectReason
from tests.compliance_data import calibration_line
from tests.publish_helpers import write_site

CONTRACTS = Path(__file__).resolve().parents[2] / "docs" / "contracts.md"
TS = 1_764_230_400_000  # 2025-11-27T08:00:00Z


def parse_line(text: str) -> tuple[str, dict[str, str], dict[str, str], int]:
    """One line of line protocol read back: measurement, tags, fields (values as written), time.

    Written for the test and nothing else: it splits on unescaped separators and keeps quoted strings
    whole, which is all line protocol has."""
    parts = re.findall(r'(?:[^ "\\]|\\.|"(?:[^"\\]|\\.)*")+', text)
    assert len(parts) == 3, text
    head, body, ts = parts
    measurement, *tag_parts = re.split(r"(?<!\\),", head)
    tags = dict(re.split(r"(?<!\\)=", t, maxsplit=1) for t in tag_parts)
    pairs = re.findall(r'((?:[^,=\\]|\\.)+)=((?:"(?:[^"\\]|\\.)*")|[^,]*)', body)
    return measurement, tags, dict(pairs), int(ts)


def _maker(tmp_path: Path, records: list[CalibrationRecord]) -> PointMaker:
    return PointMaker(load_site(write_site(tmp_path / "site.toml", "s", sensors=2)), CalibrationBook(records))


def test_a_reading_is_written_with_exactly_the_schemas_names(tmp_path: Path) -> None:
    at = datetime.fromtimestamp(TS / 1000, UTC)
    record = CalibrationRecord(
        "n1", "nz-0001", Quantity.NOISE, "m", at - timedelta(days=1), at.replace(year=2030), offset_db=1.5
    )
    reading = Reading("nz-0001", 7, TS, 2.0, laeq=50.0, lafmax=58.0, lafmin=44.0, lux=320.0)
    out = _maker(tmp_path, [record]).convert(encode([reading]), batch_topic("s", "gw-1"))
    assert out.readings == 1 and not out.rejects
    points = {m: (tags, fields, ts) for m, tags, fields, ts in map(parse_line, out.lines)}
    assert set(points) == {Noise.NAME, Light.NAME}
    tags, fields, ts = points[Noise.NAME]
    assert set(tags) == set(Noise.TAGS) and set(fields) == set(Noise.FIELDS)
    assert ts == TS * 1_000_000
    assert tags[Tag.SENSOR] == "nz-0001" and fields[Noise.CAL] == '"n1"'
    assert float(fields[Noise.LAEQ]) == 51.5 and float(fields[Noise.RAW_LAEQ]) == 50.0
    # exposure = dur·10^(laeq/10) of the calibrated level, so the energy level reads it back.
    assert float(fields[Noise.EXPOSURE]) == pytest.approx(2.0 * 10**5.15, rel=1e-12)
    energy, dur = float(fields[Noise.EXPOSURE]), float(fields[Noise.DUR])
    assert level_from_exposure(energy, dur) == pytest.approx(51.5, abs=1e-9)
    tags, fields, _ = points[Light.NAME]
    assert set(tags) == set(Light.TAGS) and set(fields) == set(Light.FIELDS)
    assert fields[Light.LUX] == fields[Light.RAW_LUX] == "320.0" and fields[Light.CAL] == '"none"'


def test_a_reject_is_written_with_exactly_the_schemas_names(tmp_path: Path) -> None:
    maker = _maker(tmp_path, [])
    measurement, tags, fields, _ = parse_line(
        maker.reject_line(
            Rejected(RejectReason.OUT_OF_RANGE, "noise.laeq is 170", "nz-0002", "{}"), "t/x", count=3
        )
    )
    assert measurement == Rejects.NAME
    assert set(tags) == set(Rejects.TAGS) and set(fields) == set(Rejects.FIELDS)
    assert (tags[Rejects.REASON], fields[Rejects.COUNT]) == ("out_of_range", "3i")


def test_calibration_and_journal_points_use_the_schemas_names() -> None:
    performed = datetime(2026, 3, 1, 9, tzinfo=UTC)
    measurement, tags, fields, _ = parse_line(
        calibration_line("s", "nz-0001", "noise", performed, performed + timedelta(days=365))
    )
    assert measurement == Calibration.NAME and set(tags) == set(Calibration.TAGS)
    # A noise record has an offset and no gain, and a first record no drift: those fields are left out.
    assert set(fields) == set(Calibration.FIELDS) - {Calibration.GAIN, Calibration.DRIFT}
    (journal,) = change_lines([f"{Noise.NAME},{Tag.SITE}=s {Noise.DUR}=1.0 {TS * 1_000_000}"], 42)
    measurement, tags, fields, _ = parse_line(journal)
    assert (measurement, set(tags), set(fields)) == (
        SeatChanges.NAME,
        set(SeatChanges.TAGS),
        {SeatChanges.WRITTEN},
    )


def test_every_measurement_of_the_contract_is_in_the_schema() -> None:
    """docs/contracts.md's table of measurements names the same tags and fields as the schema (values
    quoted in the table, such as ``none`` and the verdicts, aside)."""
    table = CONTRACTS.read_text(encoding="utf-8").split("## InfluxDB schema", 1)[1].split("```", 1)[0]
    rows = dict(re.findall(r"^\| `(\w+)`[^|]*\| (.*) \|$", table, re.M))
    values = {"none", "pass", "marginal", "fail", "insufficient_data"}
    for cls in (Noise, Light):  # their tags are given once, above the table
        assert set(re.findall(r"`(\w+)`", rows[cls.NAME])) - values == set(cls.FIELDS), cls.NAME
    for other in (Rejects, BridgeStatus, Calibration, Compliance, SeatChanges):
        named = set(re.findall(r"`(\w+)`", rows[other.NAME])) - values
        assert named == {*other.TAGS, *other.FIELDS}, other.NAME
    rollups = re.search(r"^\| (`seat_rollup`.*) \| the analysis", table, re.M)
    assert rollups is not None
    assert set(re.findall(r"`(\w+)`", rollups.group(1))) == {
        SeatRollup.NAME,
        SeatRollupState.NAME,
        SeatRollupWatermark.NAME,
    }


def test_the_influxql_level_is_the_one_the_contract_shows() -> None:
    assert LEVEL_QL == '10*log10(sum("exposure")/sum("dur"))'
    assert f"SELECT {LEVEL_QL} AS laeq FROM {quote_ident(Noise.NAME)}" in CONTRACTS.read_text(
        encoding="utf-8"
    )


@given(
    st.lists(
        st.tuples(st.floats(20.0, 120.0), st.floats(0.01, 3600.0)),
        min_size=1,
        max_size=40,
    )
)
def test_level_from_exposure_is_the_energy_mean(readings: list[tuple[float, float]]) -> None:
    levels, durations = zip(*readings, strict=True)
    exposure_sum = sum(d * 10 ** (level / 10) for level, d in readings)  # not schema.exposure: independent
    level = level_from_exposure(exposure_sum, sum(durations))
    assert level is not None
    assert level == pytest.approx(energy_mean(levels, durations), abs=1e-9)
    assert min(levels) - 1e-9 <= level <= max(levels) + 1e-9


def test_level_from_exposure_is_not_the_arithmetic_mean() -> None:
    """docs/contracts.md's example: 60 dB for 1 s and 40 dB for 9 s is 50.4 dB, not 42 dB."""
    level = level_from_exposure(1 * 10**6 + 9 * 10**4, 10)
    assert level is not None and round(level, 1) == 50.4


def test_level_from_exposure_without_covered_time_or_energy() -> None:
    assert level_from_exposure(100.0, 0.0) is None
    assert level_from_exposure(0.0, 0.0) is None
    assert level_from_exposure(0.0, 5.0) == -math.inf
