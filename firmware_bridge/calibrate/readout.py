"""The installer's live readout: how full the stable window is, whether it is usable, and the time left.

On a terminal it redraws a few lines in place (with ``rich``): the window's bar, the seconds left before
the timeout, the latest and summary values — corrected ones during the post-check — and, in words, why
the window is not yet usable. Into a file or a pipe (a CI log, a test) it writes one plain line per
reading, so the session can be read afterwards. Everything fits 80 columns.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from firmware_bridge.calibrate.window import StableWindow, Verdict

WIDTH = 80
"""The widest line the calibrate command prints: an installer's laptop terminal, a serial console."""
BAR_WIDTH = 40


def console(stderr: bool = False) -> Console:
    """A console no wider than :data:`WIDTH`, without rich's automatic number highlighting."""
    width = min(WIDTH, Console(stderr=stderr).width)
    return Console(stderr=stderr, width=width, highlight=False, soft_wrap=False)


def short_status(verdict: Verdict, filled: float) -> str:
    """``stable``, ``collecting``, or the first words of the judge's reason (``level too low``)."""
    if verdict.problem is not None:
        return verdict.problem.split(":")[0].split(" — ")[0]
    return "stable" if filled >= 1.0 - 1e-9 else "collecting"


class Readout:
    """A :data:`~firmware_bridge.calibrate.window.Progress` callback and context manager.

    ``values`` formats the latest reading and the window's verdict (value, spread) for one line.
    """

    def __init__(
        self, out: Console, title: str, values: Callable[[float, Verdict], str], duration_s: float
    ) -> None:
        self.out = out
        self.title = title
        self.values = values
        self.duration_s = duration_s
        self._live: Live | None = None
        self._waiting_said = False

    def __enter__(self) -> Readout:
        if self.out.is_terminal:
            self._live = Live(console=self.out, auto_refresh=False, transient=False)
            self._live.start()
            self._live.update(self._screen(None, None, 0.0, None), refresh=True)
        else:
            self.out.print(self.title)
        return self

    def __exit__(
        self, _kind: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def __call__(
        self, window: StableWindow | None, verdict: Verdict | None, filled: float, left_s: float
    ) -> None:
        if self._live is not None:
            self._live.update(self._screen(window, verdict, filled, left_s), refresh=True)
            return
        if window is None or verdict is None:
            if not self._waiting_said:
                self.out.print("waiting for readings from the sensor…")
                self._waiting_said = True
            return
        self.out.print(
            f"{100 * filled:3.0f}% {left_s:3.0f} s left  {self.values(window.values[-1], verdict)}  "
            f"{short_status(verdict, filled)}",
            overflow="ellipsis",
            no_wrap=True,
        )

    def _screen(
        self, window: StableWindow | None, verdict: Verdict | None, filled: float, left_s: float | None
    ) -> Group:
        bar = Table.grid(padding=(0, 2))
        seconds = window.seconds if window else 0.0
        style = "green" if verdict and verdict.problem is None else "yellow"
        if verdict and verdict.problem and filled >= 1.0 - 1e-9:
            style = "red"
        left = "" if left_s is None else f"{left_s:3.0f} s left"
        bar.add_row(
            ProgressBar(total=1.0, completed=filled, width=BAR_WIDTH, complete_style=style),
            f"window {min(seconds, self.duration_s):4.1f}/{self.duration_s:g} s",
            left,
        )
        if window is None or verdict is None:
            return Group(Text(self.title, style="bold"), bar, Text("waiting for readings from the sensor…"))
        if verdict.problem is None:
            status = Text("stable: accepted" if filled >= 1.0 - 1e-9 else "stable so far: collecting")
            status.stylize("green")
        else:
            words = "not usable yet" if filled >= 1.0 - 1e-9 else "collecting, but"
            status = Text(f"{words}: {verdict.problem}", style=style)
        return Group(
            Text(self.title, style="bold"), bar, Text(self.values(window.values[-1], verdict)), status
        )
