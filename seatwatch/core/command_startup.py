"""How every ``seatwatch`` command starts: the site file, then the service settings; a mistake exits 2.

Eight commands used to repeat the same lines — load the site, load its services, print a ConfigError's
problems, return 2 — and had drifted (some passed the site id for its InfluxDB URL, some did not; some
prefixed the problems, some not). Now a command calls :func:`load_site_and_services` and lets a
:class:`ConfigError` rise: ``seatwatch.cli.main`` prints it with :func:`report_problems` and exits
:data:`EXIT_USAGE`. A command that reports other input errors beside the file's (ingest's option checks,
validate's summary) calls :func:`report_problems` itself. Problems are printed as they are,
``file:line: key: message``, one per line, the form editors and the validate command use.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from seatwatch.core.config_errors import ConfigError
from seatwatch.core.settings import Services, load_services
from seatwatch.core.site import Site
from seatwatch.core.site_file import load_site

EXIT_OK = 0
EXIT_USAGE = 2  # the command line or a configuration file is wrong: nothing was done


def load_site_and_services(
    site_path: Path | str, env: Mapping[str, str] | None = None
) -> tuple[Site, Services]:
    """The site file at ``site_path`` and its service settings (``env``: the environment, default os's).

    Relative ``*_file`` paths in ``[services]`` are taken from the site file's folder, and the site id
    picks its InfluxDB from SEATWATCH_SITE_INFLUX_URLS. Raises :class:`ConfigError` with every problem.
    """
    site = load_site(site_path)
    base = Path(site_path).resolve().parent
    return site, load_services(site.services, env=env, base=base, site=site.id)


def report_problems(exc: ConfigError) -> int:
    """Print each problem of ``exc`` on its own line to stderr; returns :data:`EXIT_USAGE`."""
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    return EXIT_USAGE
