"""A realistic, deterministic office: the true noise level and illuminance at a seat at any moment.

Pure functions of (site, seat, time, seed), so the simulator's live devices and a demo that backfills a past
day draw from the same model and agree second by second. Occupied hours come from ``site.hours``:
- noise: speech at 50–58 dB(A) per seat while occupied, a few noisy seats (about one in eight) 5 dB louder,
  slow drifts over minutes and second-to-second fluctuation; 35–42 dB(A) background otherwise;
- light: daylight through the windows (falling off with the seat's distance from the window wall, x = 0)
  plus ceiling lighting of 320–480 lx while occupied; about one seat in five sits under a dimmed or failed
  fitting in the evening (below the 200 lx requirement), and only a few lux of night lighting when closed.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime

from seatwatch.core.site import Site

NIGHT_LUX = 5.0


def _unit(seed: int, *key: object) -> float:
    """A uniform number in [0, 1) fixed by ``seed`` and ``key`` (stable across runs and machines)."""
    digest = hashlib.blake2b(repr((seed, *key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def _smooth(seed: int, key: str, t: float, period_s: float) -> float:
    """A slow random walk in [-1, 1]: cosine interpolation between random values every ``period_s``."""
    step = math.floor(t / period_s)
    frac = (t / period_s) - step
    a, b = (_unit(seed, key, step) * 2 - 1), (_unit(seed, key, step + 1) * 2 - 1)
    weight = (1 - math.cos(math.pi * frac)) / 2
    return a + (b - a) * weight


def _seat_of(site: Site, seat_id: str) -> tuple[float, float]:
    seat = site.seats.get(seat_id)
    return (seat.x, seat.y) if seat else (_unit(0, seat_id, "x") * 12, _unit(0, seat_id, "y") * 12)


def office_noise_db(site: Site, seat_id: str, t: datetime, seed: int = 0) -> float:
    """True LAeq over the second starting at ``t`` at ``seat_id`` (dB(A)); ``t`` must be aware."""
    epoch = t.timestamp()
    second = math.floor(epoch)
    jitter = (_unit(seed, seat_id, "s", second) * 2 - 1) * 2.0
    if site.hours.is_occupied(t):
        base = 50.0 + 8.0 * _unit(seed, seat_id, "speech")
        if _unit(seed, seat_id, "noisy") < 0.125:
            base += 5.0
        return base + 2.5 * _smooth(seed, seat_id + "/n", epoch, 300.0) + jitter
    base = 35.0 + 7.0 * _unit(seed, seat_id, "background")
    return base + 1.0 * _smooth(seed, seat_id + "/b", epoch, 600.0) + jitter / 4


def office_lux(site: Site, seat_id: str, t: datetime, seed: int = 0) -> float:
    """True illuminance on the work plane at ``seat_id`` at ``t`` (lx)."""
    local = t.astimezone(site.hours.timezone)
    hour = local.hour + local.minute / 60 + local.second / 3600
    x, _ = _seat_of(site, seat_id)
    sun = max(0.0, math.sin(math.pi * (hour - 6.0) / 13.0))  # 06:00–19:00
    cloud = 0.6 + 0.4 * (_smooth(seed, "sky", t.timestamp(), 1800.0) + 1) / 2
    daylight = 900.0 * sun * cloud * math.exp(-x / 4.0)
    if not site.hours.is_occupied(t):
        return NIGHT_LUX + daylight
    lighting = 320.0 + 160.0 * _unit(seed, seat_id, "fitting")
    if hour >= 18.0 and _unit(seed, seat_id, "dim") < 0.2:
        lighting = 90.0 + 60.0 * _unit(seed, seat_id, "dimmed")
    flicker = 1.0 + 0.01 * (_unit(seed, seat_id, "l", math.floor(t.timestamp())) * 2 - 1)
    return (lighting + daylight) * flicker
