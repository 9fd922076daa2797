"""The installer's prompts: wait for Enter, ask for a number — and leave cleanly on Ctrl-D or Ctrl-C.

Ctrl-D (end of input) raises :class:`Ended`; Ctrl-C raises KeyboardInterrupt as usual. The command turns
both into an exit code (1 and 130) with nothing recorded, never a traceback: prompts come before the
record is written.
"""

from __future__ import annotations

import math

from rich.console import Console
from rich.text import Text


class Ended(Exception):
    """The input ended (Ctrl-D, or a script's input ran out) at a prompt; the message says which."""


def _line(out: Console, prompt: str) -> str:
    try:
        return out.input(prompt)
    except EOFError:
        out.print()
        raise Ended(f"input ended at the prompt {prompt.strip()!r}") from None


def wait_enter(out: Console, text: str) -> None:
    """Show ``text`` and wait for Enter."""
    _line(out, f"{text} — press Enter ")


def ask_lux(out: Console, prompt: str) -> float:
    """A positive, finite lux value typed by the installer; asks again until it gets one."""
    while True:
        text = _line(out, prompt).strip().replace(",", ".")
        try:
            value = float(text.removesuffix("lx").strip())
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value > 0:
            return value
        out.print(Text(f"{text!r} is not a lux value above 0; type what the meter shows, e.g. 520", "yellow"))
