"""The demo's own copy of a site file: serial ports in the demo folder, services at the demo's servers.

The demo runs the real commands against a real site file, so it writes one: the example site (or the
user's ``--site``) with every ``/dev/...`` port moved under the demo's folder — where the simulator can put
its pseudo-terminals, since /dev is not ours to write — and a ``[services]`` table naming the demo's
broker, database and state folder. Everything else (seats, sensors, installations, hours) is unchanged, so
the demo's report is the report of that site.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from firmware_bridge.simulate.site_copy import rewrite_ports
from seatwatch.core.site import Site
from seatwatch.core.site_file import load_site

# examples/site.toml, shipped as package data (this is a symlink to it in the source tree, a copy in a
# wheel), so `seatwatch demo` works from any folder after a plain `pip install .`.
EXAMPLE_SITE = Path(__file__).resolve().parent / "example_site.toml"

_SERVICES_TABLE = re.compile(r"^\[services\][^\[]*", re.MULTILINE)


def write_demo_site(source: Path, target: Path, dev_dir: Path, services: dict[str, str]) -> Site:
    """Write the demo copy of ``source`` to ``target`` and return it loaded (and so validated)."""
    text = source.read_text(encoding="utf-8")
    text = rewrite_ports(text, lambda port: f"{dev_dir}/{port[5:]}" if port.startswith("/dev/") else None)
    text = _SERVICES_TABLE.sub("", text)
    # json.dumps writes a valid TOML basic string for any path or URL.
    table = "\n".join(f"{key} = {json.dumps(value)}" for key, value in services.items())
    text = (
        text.rstrip()
        + f"\n\n# Written by seatwatch demo: its own servers and state folder.\n[services]\n{table}\n"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    site = load_site(target)
    for sensor in site.sensors.values():
        port = sensor.connection.get("port")
        if port:
            Path(port).parent.mkdir(parents=True, exist_ok=True)
    return site
