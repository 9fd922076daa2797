"""The seatwatch processes the demo starts (ingest, bridges), each logging to a file, all stopped at the end.

The demo promises that Ctrl-C stops everything it started. Children run in their own session so the
terminal's Ctrl-C reaches only the demo, which then stops them in order — politely first (SIGTERM lets
ingest flush and acknowledge what is durable), forcibly if they do not go.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

STOP_TIMEOUT_S = 20.0


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 15) -> str:
        """The end of the child's log, to show why it stopped."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Children:
    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.env = env
        self.running: list[Child] = []

    def start(self, name: str, *args: str) -> Child:
        """Run ``seatwatch ARGS...`` with this interpreter, its output in ``LOG_DIR/NAME.log``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "seatwatch", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                start_new_session=True,
            )
        child = Child(name, process, log)
        self.running.append(child)
        return child

    def run(self, name: str, *args: str) -> tuple[int, str]:
        """Run ``seatwatch ARGS...`` to the end; returns its exit code and output (also kept in the log)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [sys.executable, "-m", "seatwatch", *args],
            capture_output=True,
            text=True,
            env=self.env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        output = result.stdout + result.stderr
        (self.log_dir / f"{name}.log").write_text(output, encoding="utf-8")
        return result.returncode, output

    def dead(self) -> list[Child]:
        """Children that have exited although nobody asked them to."""
        return [c for c in self.running if c.process.poll() is not None]

    def stop_all(self) -> None:
        """SIGTERM every child (newest first: bridges before ingest), then wait; SIGKILL stragglers."""
        for child in reversed(self.running):
            if child.process.poll() is None:
                os.killpg(child.process.pid, signal.SIGTERM)
        for child in reversed(self.running):
            try:
                child.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
        self.running.clear()
