"""`seatwatch demo` end to end, reduced (5-minute backfill readings, 3 s of live data), as a user runs it.

The demo starts its own Mosquitto and influxd, so this test runs it as a separate process with no
SEATWATCH_* settings, waits for the report with --keep-running, then presses Ctrl-C (SIGINT) and checks
that everything it started is gone: servers, ingest, bridges and the temporary folder.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from seatwatch.demo import prerequisites
from tests.conftest import unavailable

pytestmark = pytest.mark.integration

DEMO_TIMEOUT_S = 90.0


def _demo_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEATWATCH_")}
    env.update(extra)
    return env


def _demo(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "seatwatch", "demo", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def _listening(url: str) -> bool:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    with socket.socket() as s:
        return s.connect_ex((host, int(port))) == 0


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if text in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def test_demo_runs_to_a_report_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    missing = prerequisites.missing(_demo_env())
    if missing:
        unavailable(prerequisites.how_to_get(missing))
    out = tmp_path / "demo"
    demo = _demo("--out", str(out), "--step", "300", "--live", "3", "--keep-running", env=_demo_env())
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert demo.stdout is not None
        for line in demo.stdout:
            lines.append(line.rstrip("\n"))
            if "Press Ctrl-C" in line:
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(DEMO_TIMEOUT_S), "the demo did not finish its report:\n" + "\n".join(lines)
        output = "\n".join(lines)

        report = out / "report"
        assert (report / "report.html").is_file() and (report / "seats.csv").is_file()
        doc = json.loads((report / "report.json").read_text())
        verdicts = {seat["seat"]: seat["verdict"] for seat in doc["seats"]}
        assert len(verdicts) == 48
        assert {"pass", "fail", "insufficient_data"} <= set(verdicts.values()), verdicts
        assert re.search(r"seats\s+48 seats: .*pass", output), output

        # everything listens on loopback only, and is running now
        urls = re.findall(r"started on ((?:mqtt|http)://[\d.]+:\d+)", output)
        assert len(urls) == 2 and all("://127.0.0.1:" in u for u in urls), output
        assert all(_listening(u) for u in urls)
        started_in = re.search(r"data in (\S+)/mosquitto\)", output)
        assert started_in, output
        workdir = Path(started_in.group(1))
        assert _processes_mentioning(str(out / "site.toml")), "ingest and bridges should be running"

        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 130
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    reader.join(5)
    time.sleep(0.5)
    assert "Stopping" in "\n".join(lines)
    assert not any(_listening(u) for u in urls), "a server is still listening after Ctrl-C"
    assert _processes_mentioning(str(out / "site.toml")) == [], "a seatwatch child outlived the demo"
    assert _processes_mentioning(str(workdir)) == [], "a server outlived the demo"
    assert not workdir.exists(), "the temporary folder was left behind"
    assert "Traceback" not in "\n".join(lines)


def test_demo_without_a_server_says_how_to_get_it(tmp_path: Path) -> None:
    """No influxd on the PATH and none configured: exit 2 with the install command, nothing started."""
    env = _demo_env(PATH=str(tmp_path))  # /usr/bin (influxd) is not searched; python is run by full path
    result = subprocess.run(
        [sys.executable, "-m", "seatwatch", "demo", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert "apt-get install" in result.stderr and "influxdb" in result.stderr
    assert "SEATWATCH_INFLUX_URL" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--step", "7"], "--step 7"),
        (["--live", "-1"], "--live"),
        (["--site", "/nonexistent.toml"], "no such file"),
    ],
)
def test_demo_bad_arguments(args: list[str], message: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "seatwatch", "demo", "--out", str(tmp_path), *args],
        capture_output=True,
        text=True,
        env=_demo_env(),
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_demo_in_any_folder_says_what_to_try_only_while_it_runs(tmp_path: Path) -> None:
    """No --site, no --out, started outside the checkout: the shipped example, ./seatwatch-demo here."""
    missing = prerequisites.missing(_demo_env())
    if missing:
        unavailable(prerequisites.how_to_get(missing))
    result = subprocess.run(
        [sys.executable, "-m", "seatwatch", "demo", "--step", "600", "--live", "2"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, env=_demo_env(), cwd=tmp_path,
        timeout=DEMO_TIMEOUT_S * 2,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "seatwatch-demo" / "report" / "report.json").is_file()
    assert "48 seats:" in result.stdout
    # the servers it started are gone when it ends: no address or curl command for them
    assert "curl" not in result.stdout and "127.0.0.1" not in result.stdout.split("Done.")[1]
    assert "seatwatch demo --keep-running" in result.stdout
