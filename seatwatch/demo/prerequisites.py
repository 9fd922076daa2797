"""Which servers the demo must start, and exactly how to get the ones that are missing.

The demo uses a real Mosquitto and a real InfluxDB (no stand-ins: the pure-Python broker amqtt lacks
MQTT v5 and shared subscriptions, which ingest relies on). A server the user configured
(SEATWATCH_MQTT_URL / SEATWATCH_INFLUX_URL) is used as it is; one that is neither configured nor installed
stops the demo before anything starts, with the command that installs it. The report's PDF needs Pango
and a font with Chinese glyphs (WeasyPrint, analysis/report/pdf.py); without them the demo still runs and
skips report.pdf, saying what to install. Nothing else outside Python is needed (the simulator's RS-485
buses are pseudo-terminal pairs joined in Python, not socat).

This is the one list of what the demo needs: scripts/quickstart.sh installs exactly the packages
``python3 -m seatwatch.demo.prerequisites --missing`` prints, and .ci/run installs them plus the tests'
own tools. So this module uses the standard library only: it runs before any virtual environment exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from ctypes.util import find_library
from dataclasses import dataclass

# Debian puts mosquitto in /usr/sbin, which an ordinary user's PATH often lacks.
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


@dataclass(frozen=True)
class Server:
    what: str  # "Mosquitto (MQTT broker)"
    binary: str
    env_var: str
    apt_package: str
    elsewhere: str  # how to get it without apt

    def configured_url(self, env: Mapping[str, str]) -> str | None:
        return env.get(self.env_var) or None

    def binary_path(self) -> str | None:
        return shutil.which(self.binary, path=SEARCH_PATH)


MOSQUITTO = Server(
    "Mosquitto (MQTT broker)",
    "mosquitto",
    "SEATWATCH_MQTT_URL",
    "mosquitto",
    "https://mosquitto.org/download/ (brew install mosquitto on macOS)",
)
INFLUXD = Server(
    "InfluxDB 1.x (influxd)",
    "influxd",
    "SEATWATCH_INFLUX_URL",
    "influxdb",
    "InfluxDB 1.8 from https://portal.influxdata.com/downloads/ (brew install influxdb@1 on macOS)",
)


SERVERS = (MOSQUITTO, INFLUXD)


def missing(env: Mapping[str, str]) -> list[Server]:
    """Servers that are neither configured by URL nor installed."""
    return [s for s in SERVERS if not s.configured_url(env) and not s.binary_path()]


def _has_chinese_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True, check=False)
    return bool(listed.stdout.strip())


@dataclass(frozen=True)
class Package:
    """A Debian package report.pdf needs, and how to tell it is installed."""

    apt_package: str
    what: str
    present: Callable[[], bool]


PDF_PACKAGES = (
    Package("libpango-1.0-0", "Pango, which WeasyPrint draws with", lambda: bool(find_library("pango-1.0"))),
    Package("libpangoft2-1.0-0", "Pango's FreeType backend", lambda: bool(find_library("pangoft2-1.0"))),
    Package("fontconfig", "fc-list, to find a Chinese font", lambda: shutil.which("fc-list") is not None),
    Package("fonts-noto-cjk", "a font with Chinese glyphs for the zh-CN report", _has_chinese_font),
)


def missing_for_pdf() -> list[Package]:
    """What report.pdf needs and this machine lacks (empty: the demo writes the PDF)."""
    return [p for p in PDF_PACKAGES if not p.present()]


def how_to_get(servers: list[Server]) -> str:
    """The message that tells the user exactly what to do."""
    names = " and ".join(s.what for s in servers)
    packages = " ".join(s.apt_package for s in servers)
    lines = [
        f"seatwatch demo needs {names}, which {'is' if len(servers) == 1 else 'are'} not installed.",
        f"  Debian/Ubuntu:  sudo apt-get install {packages}",
        "  or simply:      bash scripts/quickstart.sh   (installs them, then runs the demo)",
    ]
    lines += [f"  {s.binary} elsewhere: {s.elsewhere}" for s in servers]
    lines.append(
        "  Or point the demo at servers you already run: "
        + ", ".join(f"{s.env_var}=..." for s in servers)
        + " (it then starts none)."
    )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """``--missing``: the Debian packages to install (one a line); ``--all``: every package of the list."""
    if argv not in (["--missing"], ["--all"]):
        print("usage: python3 -m seatwatch.demo.prerequisites --missing | --all", file=sys.stderr)
        return 2
    wanted: list[Server | Package] = [*SERVERS, *PDF_PACKAGES]
    if argv == ["--missing"]:
        wanted = [*missing(os.environ), *missing_for_pdf()]
    for item in wanted:  # nothing at all when nothing is missing: the shell reads one package a line
        print(item.apt_package)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
