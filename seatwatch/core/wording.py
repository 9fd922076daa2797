"""How messages say counts and moments: "1 zone, 2 zones"; times in the site's clock with its offset.

People at a site think in its local time: "2026-11-30T16:00:00+00:00" for the morning of 1 December in
Shanghai reads as the wrong day. Every command that prints a moment of a site prints it in the site's
time zone, with the offset so it is still unambiguous.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

IRREGULAR = {"entry": "entries", "sensor quantity": "sensor quantities"}


def plural(count: int, noun: str) -> str:
    """``"1 zone"``, ``"3 zones"``, ``"0 entries"`` (thousands separated)."""
    word = noun if count == 1 else IRREGULAR.get(noun, noun + "s")
    return f"{count:,} {word}"


def site_time(moment: datetime, zone: tzinfo) -> str:
    """``moment`` in the site's clock, to the second, with its UTC offset: 2026-12-01 00:00:00+08:00."""
    return moment.astimezone(zone).isoformat(sep=" ", timespec="seconds")


def site_period(start: datetime, end: datetime, zone: tzinfo) -> str:
    """A half-open period in site time: '2026-12-01 00:00:00+08:00 .. 2026-12-02 00:00:00+08:00'."""
    return f"{site_time(start, zone)} .. {site_time(end, zone)}"
