"""A site file's text with its serial ports moved, so the real bridge runs against simulated devices unedited.

An installer's dry run is ``seatwatch simulate`` plus ``seatwatch bridge`` on the same floor. The site file
names ``/dev/serial/by-id/...`` paths that only real adapters create, so the simulator puts its
pseudo-terminals elsewhere; a copy of the file whose ``port`` keys point there is what the bridge needs.
The demo makes its own copy the same way. Only the port strings change: comments, order and every other
key stay as the user wrote them, so the copy reads like the original.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable

# A ``port = "..."`` key, standalone or inside an inline ``connection = { ... }`` table.
_PORT = re.compile(r"""(\bport\s*=\s*)("(?:[^"\\\n]|\\.)*"|'[^'\n]*')""")


def rewrite_ports(text: str, new_port: Callable[[str], str | None]) -> str:
    """``text`` with each port value ``p`` replaced by ``new_port(p)`` (None keeps it as written)."""

    def replace(match: re.Match[str]) -> str:
        old = tomllib.loads(f"v = {match.group(2)}")["v"]
        new = new_port(old)
        # json.dumps writes a valid TOML basic string for any path.
        return match.group(0) if new is None else match.group(1) + json.dumps(new)

    return _PORT.sub(replace, text)
