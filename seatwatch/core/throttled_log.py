"""Log a persisting problem once, then at most once a minute, instead of on every retry.

A full disk or a database that refuses our credentials makes a service retry every few seconds; logging
each retry buries the journal (one run logged "spool full" 423,725 times in 36 s) while logging only the
first leaves an operator unsure whether it still holds. So a problem is logged when it first appears or
changes, then again each ``every_s`` with how often it recurred meanwhile, and its end is logged once.
"""

from __future__ import annotations

import logging
import threading
import time


class ThrottledLog:
    """One problem at a time per instance (e.g. one per kind of failure), thread-safe."""

    def __init__(self, log: logging.Logger, every_s: float = 60.0) -> None:
        self._log = log
        self.every_s = every_s
        self._lock = threading.Lock()
        self._problem = ""
        self._logged_at = 0.0
        self._repeats = 0

    @property
    def active(self) -> str:
        """The problem being reported now ("" when none)."""
        return self._problem

    def problem(self, message: str, level: int = logging.ERROR, key: str | None = None) -> None:
        """Report ``message``; ``key`` (default: the message) decides whether it is the same problem."""
        key = message if key is None else key
        with self._lock:
            now = time.monotonic()
            same = key == self._problem
            if same and now - self._logged_at < self.every_s:
                self._repeats += 1
                return
            repeats, self._repeats = self._repeats, 0
            self._problem, self._logged_at = key, now
        suffix = f" (again {repeats} times in the last {self.every_s:.0f} s)" if same and repeats else ""
        self._log.log(level, "%s%s", message, suffix)

    def resolved(self, message: str) -> None:
        """The problem ended: say so once (nothing is logged when there was none)."""
        with self._lock:
            had, self._problem, self._repeats = self._problem, "", 0
        if had:
            self._log.info("%s", message)
