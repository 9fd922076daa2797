"""Supervised workers: a thread that fails is logged, reported and restarted — never silently dead.

A long-running service (ingest, a bridge) is a handful of threads. Python lets one of them die of an
unexpected exception while the process stays up and keeps saying ``online``: that is how a bad retained
record once stopped every write. So every thread of a service runs under a :class:`Supervisor`:

- an unexpected exception is logged with the worker's name and its traceback;
- the worker counts as failed (:meth:`Supervisor.problems`, which the service's status turns into
  ``degraded`` with the reason) until it has run again for ``healthy_after_s``;
- it is restarted after a backoff (``first_s`` doubling to ``max_s``), reset once it ran long enough;
- ``on_failure(name, exc)`` lets the service repair what the worker left behind (mark a sensor offline,
  make the broker resend what the worker had in hand).

Callbacks run by a library's thread (paho's ``on_message``) cannot be restarted by us; :meth:`guard`
wraps them so an exception is logged and reported the same way and the library's thread lives on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

Work = Callable[[threading.Event], None]
P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class _Failure:
    reason: str
    at: float  # monotonic
    restarts: int
    running_again_since: float | None = None


class Supervisor:
    def __init__(
        self,
        log: logging.Logger,
        first_s: float = 0.5,
        max_s: float = 30.0,
        healthy_after_s: float = 30.0,
        on_failure: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        self.log = log
        self.first_s = first_s
        self.max_s = max_s
        self.healthy_after_s = healthy_after_s
        self.on_failure = on_failure
        self._lock = threading.Lock()
        self._failures: dict[str, _Failure] = {}
        self.threads: list[threading.Thread] = []

    def start(self, name: str, work: Work, stop: threading.Event, daemon: bool = True) -> threading.Thread:
        """Run ``work(stop)`` in a thread called ``name``, restarting it whenever it raises."""
        thread = threading.Thread(target=self._loop, args=(name, work, stop), name=name, daemon=daemon)
        self.threads.append(thread)
        thread.start()
        return thread

    def guard(self, name: str, callback: Callable[P, R]) -> Callable[P, R | None]:
        """``callback`` that never raises: a failure is logged and reported as worker ``name``'s (and the
        call returns None)."""

        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | None:
            try:
                return callback(*args, **kwargs)
            except Exception as exc:
                self._failed(name, exc, "the callback goes on with the next event")
                return None

        return guarded

    def problems(self) -> list[str]:
        """``"worker: reason"`` for every worker that failed and has not run healthily since."""
        now = time.monotonic()
        with self._lock:
            for name, failure in list(self._failures.items()):
                since = failure.running_again_since
                if since is None and now - failure.at >= self.healthy_after_s:
                    since = failure.at  # a guarded callback: healthy once nothing failed for a while
                if since is not None and now - since >= self.healthy_after_s:
                    del self._failures[name]
            return [f"{name}: {f.reason} (restarts: {f.restarts})" for name, f in self._failures.items()]

    def restarts(self, name: str) -> int:
        with self._lock:
            failure = self._failures.get(name)
            return failure.restarts if failure else 0

    def _loop(self, name: str, work: Work, stop: threading.Event) -> None:
        delay = self.first_s
        while not stop.is_set():
            started = time.monotonic()
            try:
                work(stop)
                return
            except Exception as exc:
                if time.monotonic() - started >= self.healthy_after_s:
                    delay = self.first_s
                self._failed(name, exc, f"restarting it in {delay:.1f} s")
            if stop.wait(delay):
                return
            delay = min(delay * 2, self.max_s)
            with self._lock:
                if name in self._failures:
                    self._failures[name].running_again_since = time.monotonic()

    def _failed(self, name: str, exc: BaseException, then: str) -> None:
        self.log.error("worker %s failed: %s: %s; %s", name, type(exc).__name__, exc, then, exc_info=exc)
        reason = f"{type(exc).__name__}: {exc}"[:300]
        with self._lock:
            previous = self._failures.get(name)
            restarts = previous.restarts + 1 if previous else 1
            self._failures[name] = _Failure(reason, time.monotonic(), restarts)
        if self.on_failure is not None:
            try:
                self.on_failure(name, exc)
            except Exception:  # the repair must not take the supervisor down with it
                self.log.exception("repairing after worker %s failed", name)
