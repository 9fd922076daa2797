"""Installations and other site changes reach a running ingest: the site file is reloaded when it changes.

A facilities engineer moves a sensor to another seat by adding an ``[[installations]]`` entry and saving
the file; ingest notices the new modification time within ``every_s`` seconds, validates the file and
switches to it. An invalid file is not adopted: ingest logs every problem and keeps the last good site, so
a typo never stops the service or mis-tags readings; the next valid save is picked up as usual.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from seatwatch.core.config_errors import ConfigError
from seatwatch.core.site import Site
from seatwatch.core.site_file import load_site

log = logging.getLogger("seatwatch.ingest")


class SiteReloader:
    def __init__(self, path: Path, site: Site, adopt: Callable[[Site], None], every_s: float = 2.0) -> None:
        self.path = path
        self.site = site
        self.adopt = adopt
        self.every_s = every_s
        self._mtime = self._stat()

    def _stat(self) -> float | None:
        try:
            return self.path.stat().st_mtime_ns
        except OSError:
            return None

    def check(self) -> bool:
        """Reload if the file changed; True when a new site was adopted."""
        mtime = self._stat()
        if mtime is None or mtime == self._mtime:
            return False
        self._mtime = mtime
        try:
            site = load_site(self.path)
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("site file changed but is invalid, keeping the previous one: %s", problem)
            return False
        except Exception as exc:  # the validator must be total; should it not be, the service still is
            log.error(
                "site file %s changed but could not be read (%s: %s), keeping the previous one",
                self.path,
                type(exc).__name__,
                exc,
                exc_info=exc,
            )
            return False
        if site.id != self.site.id:
            log.error(
                "site file now names site %r, not %r: restart ingest to switch sites", site.id, self.site.id
            )
            return False
        self.site = site
        self.adopt(site)
        log.info(
            "site file reloaded: %d sensors, %d installations", len(site.sensors), len(site.installations)
        )
        return True

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.every_s):
            self.check()
