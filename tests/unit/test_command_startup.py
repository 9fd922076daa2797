"""Every command that reads a site file refuses a broken one the same way: exit 2, file:line: key on stderr.

The commands start through seatwatch/core/command_startup.py, and seatwatch.cli turns an uncaught
ConfigError into exit 2 with every problem printed. Each command of the table is run as the user runs it,
``python -m seatwatch <command> ...`` with the flags its parser requires, on a copy of examples/site.toml
with one bad value; the line expected is found in that copy's text. No server is needed: a broken site
file must be refused before anything connects.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from seatwatch.cli import COMMANDS
from tests.conftest import EXAMPLE_SITE, REPO

PERIOD = ["--from", "2026-11-02", "--to", "2026-11-03"]
# The flags besides --site each command requires; ``level`` reads a WAV file, not a site file.
INVOCATIONS: dict[str, list[str]] = {
    "validate": ["{site}"],
    "bridge": ["--site", "{site}", "--bridge", "gw-east"],
    "ingest": ["--site", "{site}"],
    "analyze": ["--site", "{site}", *PERIOD],
    "report": ["--site", "{site}", *PERIOD, "--out", "{tmp}/report"],
    "dashboards": ["export", "--site", "{site}", "--out", "{tmp}/dashboards"],
    "calibrate": ["due", "--site", "{site}"],
    "simulate": ["--site", "{site}"],
    "setup-db": ["--site", "{site}"],
    "demo": ["--site", "{site}", "--out", "{tmp}/demo"],
}


def test_every_command_that_reads_a_site_file_is_covered() -> None:
    assert set(INVOCATIONS) == set(COMMANDS) - {"level"}


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """examples/site.toml with the first zone's area negative, and the line of that value."""
    lines = EXAMPLE_SITE.read_text(encoding="utf-8").splitlines()
    number = next(n for n, line in enumerate(lines, start=1) if line.startswith("area_m2 ="))
    lines[number - 1] = "area_m2 = -3.0"
    site = tmp_path_factory.mktemp("broken") / "broken.toml"
    site.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return site, number


@pytest.mark.parametrize("command", sorted(INVOCATIONS))
def test_a_broken_site_file_exits_2_naming_file_line_and_key(
    command: str, broken: tuple[Path, int], tmp_path: Path
) -> None:
    site, line = broken
    args = [a.format(site=site, tmp=tmp_path) for a in INVOCATIONS[command]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEATWATCH_")}
    result = subprocess.run(
        [sys.executable, "-m", "seatwatch", command, *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{site}:{line}: zones[0].area_m2: must be an area" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
