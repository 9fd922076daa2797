"""The installer's live readout: a progress bar, the latest value, and why the window is not yet usable.

On a terminal it redraws one line; into a file or a pipe (a CI log, a test) it writes a line per reading
so the record of the session is readable afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from firmware_bridge.calibrate.window import Verdict, Window

BAR_WIDTH = 24


class Readout:
    """A :data:`~firmware_bridge.calibrate.window.Progress` callback; ``show`` formats value and spread."""

    def __init__(self, stream: TextIO, show: Callable[[float, Verdict], str]) -> None:
        self.stream = stream
        self.show = show
        self.tty = stream.isatty()
        self._waiting_said = False

    def __call__(self, window: Window | None, verdict: Verdict | None, filled: float) -> None:
        if window is None or verdict is None:
            if not self._waiting_said:
                self._write("waiting for readings from the sensor…")
                self._waiting_said = True
            return
        bar = "#" * round(filled * BAR_WIDTH)
        status = "stable" if verdict.problem is None else verdict.problem.split(" — ")[0]
        if filled < 1.0 and verdict.problem is None:
            status = "collecting"
        self._write(
            f"[{bar:<{BAR_WIDTH}}] {100 * filled:3.0f}%  {self.show(window.values[-1], verdict)}  {status}"
        )

    def finish(self) -> None:
        """End the redrawn line so the results start on their own line."""
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def _write(self, text: str) -> None:
        if self.tty:
            self.stream.write(f"\r{text}\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
