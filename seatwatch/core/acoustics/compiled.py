"""Compiled per-sample loops for the meter (numba), cached on disk where the install allows it.

Why compiled loops: a recursive filter and an exponential time weighting are loops in which every sample
depends on the one before. numpy can only run them as one call per filter (scipy's ``sosfilt``) with the
intermediate signal written to memory and read back by the next step; the meter's A path — DC blocker,
A weighting, square, F and S time weighting, interval sums and extremes — then costs five passes over
memory. One compiled loop does all of it with the filter state in registers (docs/acoustics.md gives the
measured speed).

Why the fallback: ``cache=True`` writes the machine code next to the module or under
``NUMBA_CACHE_DIR``. An install that is read-only for the user running it (a system package, a
container's site-packages, a bridge running as its own user) has no such place, and numba then refuses
to compile at all ("no locator available", docs/dependencies.md). Such an install compiles on first use
in each process instead (about 4 s) — slower to start, never broken. The shipped bridge unit sets
``NUMBA_CACHE_DIR`` to a cache directory systemd creates for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numba

F = TypeVar("F", bound=Callable[..., Any])


def compiled(function: F) -> F:
    """Compile ``function`` in nopython mode, cached on disk when a cache location is writable."""
    try:
        return numba.njit(cache=True)(function)  # type: ignore[return-value]  # a Dispatcher[F] is called as F
    except RuntimeError as error:  # "cannot cache function …: no locator available for file …"
        if "no locator available" not in str(error):
            raise
        return numba.njit(function)  # type: ignore[return-value]  # a Dispatcher[F] is called as F


def inline(function: F) -> F:
    """A helper inlined into the compiled loops that call it (so it costs no call per sample)."""
    return numba.njit(inline="always")(function)  # type: ignore[return-value]  # a Dispatcher[F] is called as F
