"""Loading the site file for a firmware_bridge command: every problem printed, no traceback, exit 2."""

from __future__ import annotations

import sys

from seatwatch.core.config_errors import ConfigError
from seatwatch.core.site import Site
from seatwatch.core.site_file import load_site


def load_site_or_report(path: str) -> Site | None:
    """The site, or None after printing each problem with file, line and key to stderr."""
    try:
        return load_site(path)
    except ConfigError as exc:
        print("\n".join(str(problem) for problem in exc.problems), file=sys.stderr)
        return None
