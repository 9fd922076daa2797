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

from seatwatch.site import Site
from seatwatch.site_file import load_site

# Where the example site lives in a source checkout (`pip install -e .`, as scripts/quickstart.sh does).
EXAMPLE_SITE = Path(__file__).resolve().parents[2] / "examples" / "site.toml"

_SERVICES_TABLE = re.compile(r"^\[services\][^\[]*", re.MULTILINE)
_DEV_PORT = re.compile(r'(port\s*=\s*")/dev/')


def write_demo_site(source: Path, target: Path, dev_dir: Path, services: dict[str, str]) -> Site:
    """Write the demo copy of ``source`` to ``target`` and return it loaded (and so validated)."""
    text = source.read_text(encoding="utf-8")
    text = _DEV_PORT.sub(lambda m: f"{m.group(1)}{dev_dir}/", text)
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
