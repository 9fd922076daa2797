"""Every command and action explains itself: a description, an example, each option's default; exit codes.

A new user learns seatwatch from ``--help``. The parsers are walked as argparse built them, so a new
option or action without its default or example fails here rather than confusing someone on site.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from seatwatch.cli import COMMANDS, _command_parser, main
from seatwatch.core.wording import plural, site_period
from tests.conftest import EXAMPLE_SITE, REPO


def _parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    """(name, parser) of every command and of every action of a command with actions."""
    out = []
    for name in COMMANDS:
        parser = _command_parser(name)
        out.append((name, parser))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                out += [(f"{name} {sub}", p) for sub, p in action.choices.items()]
    return out


PARSERS = _parsers()


@pytest.mark.parametrize(("name", "parser"), PARSERS, ids=[name for name, _ in PARSERS])
def test_description_example_and_defaults(name: str, parser: argparse.ArgumentParser) -> None:
    assert parser.description, f"seatwatch {name}: no description"
    assert parser.epilog and "example" in parser.epilog and "seatwatch " in parser.epilog, name
    for action in parser._actions:
        if not action.option_strings or action.required or isinstance(action, argparse._HelpAction):
            continue
        if action.nargs == 0:  # a flag: on or off, nothing to default
            continue
        if any(action in g._group_actions and g.required for g in parser._mutually_exclusive_groups):
            continue  # one of a required pair: no default by design
        rendered = parser._get_formatter()._get_help_string(action)  # what --help shows for it
        assert rendered is not None and "default" in rendered, (
            f"seatwatch {name} {action.option_strings[-1]}: no default in {action.help!r}"
        )


def test_options_say_their_units_and_time_zone() -> None:
    helps = {
        (name, opt): action.help or ""
        for name, parser in PARSERS
        for action in parser._actions
        for opt in action.option_strings
    }
    assert (
        "site's time zone" in helps[("analyze", "--from")]
        and "site's time zone" in helps[("report", "--from")]
    )
    assert "seconds" in helps[("ingest", "--status-every")]
    assert "0..1" in helps[("report", "--min-coverage")]
    assert "dB" in helps[("calibrate noise", "--reference-db")]
    assert "days" in helps[("calibrate due", "--days")]


def test_an_unknown_command_gets_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["valdate", str(EXAMPLE_SITE)]) == 2
    assert "did you mean 'seatwatch validate'?" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'frobnicate'" in err and "did you mean" not in err


@pytest.mark.parametrize("command", ["analyze", "report"])
def test_influxdb_down_is_an_unavailable_prerequisite_exit_2(command: str, tmp_path: Path) -> None:
    out = ["--out", str(tmp_path / "r")] if command == "report" else []
    result = subprocess.run(
        [sys.executable, "-m", "seatwatch", command, "--site", str(EXAMPLE_SITE),
         "--from", "2026-11-02", "--to", "2026-11-03", *out],
        capture_output=True, text=True, cwd=REPO, timeout=120,
        env={"PATH": "/usr/bin:/bin", "SEATWATCH_INFLUX_URL": "http://127.0.0.1:9"},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "cannot reach InfluxDB at http://127.0.0.1:9" in result.stderr and "Traceback" not in result.stderr


def test_messages_count_and_tell_time_in_site_terms() -> None:
    assert [plural(n, "zone") for n in (0, 1, 2, 1200)] == ["0 zones", "1 zone", "2 zones", "1,200 zones"]
    assert plural(1, "entry") == "1 entry" and plural(3, "entry") == "3 entries"
    # 16:00 UTC on 30 November is midnight of 1 December in Shanghai (UTC+8, no daylight saving)
    day = site_period(
        datetime(2026, 11, 30, 16, tzinfo=UTC),
        datetime(2026, 12, 1, 16, tzinfo=UTC),
        ZoneInfo("Asia/Shanghai"),
    )
    assert day == "2026-12-01 00:00:00+08:00 .. 2026-12-02 00:00:00+08:00"
