"""The command lines of the shipped systemd units, as systemd would run them, for tests to run or parse.

Several tests need what a unit really executes: tests/test_deploy_files.py parses every seatwatch command a
unit runs, tests/test_deploy_doc.py runs them. systemd joins continuation lines, replaces the specifiers
(%i instance, %H host name, %% a literal %) and ``$$`` (a literal $), then runs the words; a
``/bin/sh -c`` script then computes the rest (dates), which only a shell can tell, so it is run with the
seatwatch command replaced by a stub that prints the arguments it was given.
"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SYSTEMD = REPO / "deploy" / "systemd"
INSTALLED = "/opt/seatwatch/venv/bin/seatwatch"


def exec_lines(unit: Path, keys: tuple[str, ...] = ("ExecStartPre=", "ExecStart=")) -> list[str]:
    """The unit's command lines in order, continuation lines joined."""
    text = unit.read_text().replace("\\\n", " ")
    return [line.split("=", 1)[1] for line in text.splitlines() if line.startswith(keys)]


def words(line: str, instance: str = "", host: str = "host") -> list[str]:
    """One command line as the argument vector systemd executes."""
    expanded = line.replace("%%", "\0").replace("%i", instance).replace("%H", host).replace("\0", "%")
    return shlex.split(expanded.replace("$$", "$"))


def env_file(path: Path) -> dict[str, str]:
    """An EnvironmentFile's assignments (comments and blank lines skipped)."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and line[0] != "#")
    return {key.strip(): value.strip() for key, value in pairs}


def seatwatch_arguments(argv: list[str], folder: Path, env: dict[str, str] | None = None) -> list[str]:
    """The arguments the seatwatch command receives from ``argv`` (after its shell, if any, ran)."""
    if argv[0] != "/bin/sh":
        assert argv[0] == INSTALLED, argv
        return argv[1:]
    stub = folder / "seatwatch-stub"
    stub.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    script = argv[2].replace(INSTALLED, str(stub))
    result = subprocess.run(
        ["/bin/sh", "-c", script], capture_output=True, text=True, check=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    return result.stdout.splitlines()
