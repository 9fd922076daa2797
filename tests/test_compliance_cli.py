"""``seatwatch analyze`` writes compliance points; bad input gets a clear message and exit 2."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analysis.compliance.command import parse_every, windows_due
from analysis.compliance.inputs import InputError
from seatwatch.cli import main
from seatwatch.core.influxql import InfluxQLClient
from tests import compliance_floor
from tests.compliance_floor import END, SPEC, START

pytestmark = pytest.mark.integration
floor_db = compliance_floor.floor_db  # the module-scoped fixture that writes the test floor


def _period(site: Path, *extra: str) -> list[str]:
    return ["--site", str(site), "--from", START.isoformat(), "--to", END.isoformat(), *extra]


def test_analyze_writes_compliance_points(influx_url: str, floor_db: str, tmp_path: Path) -> None:
    site = SPEC.write(tmp_path, influx_url, floor_db)
    assert main(["analyze", *_period(site)]) == 0
    client = InfluxQLClient(influx_url, floor_db)
    (series,) = client.query(
        'SELECT "value", "verdict", "coverage", "required", "target" FROM "compliance" '
        "WHERE \"seat\" = 'ENERGY' AND \"check\" = 'noise'",
        epoch="s",
    )
    (row,) = series.rows()
    assert row["time"] == int(START.timestamp())
    assert row["verdict"] == "fail" and row["value"] == pytest.approx(61.03, abs=0.05)
    assert (row["required"], row["target"], row["coverage"]) == (55.0, 52.0, 1.0)
    tags = client.query('SHOW TAG VALUES FROM "compliance" WITH KEY = "profile"')
    assert tags[0].values == [["profile", "iac-csc"]]
    # Running the same period again overwrites rather than duplicates.
    assert main(["analyze", *_period(site)]) == 0
    count = client.query('SELECT count("verdict") FROM "compliance"')[0].values[0][1]
    assert count == 9 * 5 + 1  # seats × (4 profile checks + calibration) + zone uniformity


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--profile", "nope"], "unknown rules profile 'nope'"),
        (["--min-coverage", "1.5"], "--min-coverage 1.5"),
        (["--every", "soon"], "--every 'soon'"),
    ],
)
def test_bad_options_exit_2(
    extra: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = SPEC.write(tmp_path, "http://127.0.0.1:9", "none")
    assert main(["analyze", *_period(site, *extra)]) == 2
    assert message in capsys.readouterr().err


def test_profile_with_a_missing_field_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.toml").write_text(
        '[profile]\nid = "p"\n[[zones.agent.checks]]\nid = "light"\nmetric = "lux"\naggregation = "mean"\n'
        'hours = "occupied"\nrequired = 200\ntarget = 300\nunit = "lx"\ndirection = "min"\n'
        'confidence = "H"\n',
        encoding="utf-8",
    )
    site = SPEC.write(tmp_path, "http://127.0.0.1:9", "none")
    assert main(["report", *_period(site, "--profile", "p.toml", "--out", str(tmp_path / "o"))]) == 2
    assert "p.toml:3: zones.agent.checks[0].source: missing" in capsys.readouterr().err


def test_from_after_to_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = SPEC.write(tmp_path, "http://127.0.0.1:9", "none")
    argv = [
        "report",
        "--site",
        str(site),
        "--from",
        "2026-03-05",
        "--to",
        "2026-03-01",
        "--out",
        str(tmp_path),
    ]
    assert main(argv) == 2
    assert "--from 2026-03-05 is not before --to 2026-03-01" in capsys.readouterr().err


def test_unparseable_time_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = SPEC.write(tmp_path, "http://127.0.0.1:9", "none")
    assert main(["analyze", "--site", str(site), "--from", "March", "--to", "2026-03-01"]) == 2
    assert "--from 'March' is not an ISO date" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("start", "shown"),
    [
        ("2026-03-02T08:00:00+05:30:30", "2026-03-02T02:29:30+00:00"),  # an offset with seconds
    ],
)
def test_from_not_on_a_utc_minute_exits_2(
    start: str, shown: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = SPEC.write(tmp_path, "http://127.0.0.1:9", "none")
    argv = ["--site", str(site), "--from", start, "--to", END.isoformat()]
    assert main(["analyze", *argv]) == 2
    assert f"--from {start!r} is {shown} in UTC, not on a whole minute" in capsys.readouterr().err
    assert main(["report", *argv, "--out", str(tmp_path / "out")]) == 2


def test_from_before_2000_exits_2_before_any_offset_is_applied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Shanghai's local mean time (+08:05:43) once made 1900-01-02 land off the UTC minute; dates outside
    2000–2100 are now refused first (year 1 with +14:00 would overflow the conversion)."""
    site = SPEC.write(tmp_path, "http://127.0.0.1:9", "none")
    assert main(["analyze", "--site", str(site), "--from", "1900-01-02", "--to", END.isoformat()]) == 2
    assert "--from '1900-01-02' is outside 2000–2100" in capsys.readouterr().err


def test_site_with_no_data_exits_2(
    influx_url: str, influx_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = SPEC.write(tmp_path, influx_url, influx_db)
    assert main(["report", *_period(site, "--out", str(tmp_path / "out"))]) == 2
    err = capsys.readouterr().err
    assert "site 'floor' has no noise or light readings" in err and influx_db in err
    assert not (tmp_path / "out").exists()


def test_bad_site_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.toml").write_text("[site]\nid = 'x'\n", encoding="utf-8")
    assert (
        main(["analyze", "--site", str(tmp_path / "bad.toml"), "--from", "2026-03-01", "--to", "2026-03-02"])
        == 2
    )
    assert "bad.toml" in capsys.readouterr().err


def test_every_slides_the_window_and_catches_up() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    every = parse_every("1h")
    assert every == timedelta(hours=1)
    due = list(windows_due(start, start + timedelta(days=1), every, 0, start + timedelta(days=1, hours=2)))
    assert [n for n, _, _ in due] == [0, 1, 2]
    assert due[2][1:] == (start + timedelta(hours=2), start + timedelta(days=1, hours=2))
    assert (
        list(windows_due(start, start + timedelta(days=1), every, 3, start + timedelta(days=1, hours=2)))
        == []
    )
    with pytest.raises(InputError):
        parse_every("0m")
