"""What each figure is and how it was computed, in words an auditor can check without any other file.

A report is filed and read years later by someone who has neither the source tree nor its notes, so the
rules behind every verdict — energy mean, percentiles, coverage, occupied hours, the lowest hourly mean for
light, uniformity, calibration, the verdict order and what the confidence grades mean — are written out
here, in the report's language, and every value carries a label saying exactly what it is.
"""

from __future__ import annotations

from analysis.report.language import Gettext
from seatwatch.core.rules.profile import Check
from seatwatch.core.vocabulary import Metric


def hours_words(_: Gettext, hours: str) -> str:
    words = {
        "occupied": _("occupied hours"),
        "unoccupied": _("unoccupied hours"),
        "all": _("the whole period"),
    }
    return words.get(hours) or _("the clock hours '{name}'").format(name=hours)


def value_label(_: Gettext, check: Check, bucket_minutes: int) -> str:
    """What a check's value is, e.g. 'lowest hourly mean illuminance over occupied hours'."""
    hours = hours_words(_, check.hours)
    if check.metric == Metric.LAEQ:
        return _("LAeq over {hours} (energy mean)").format(hours=hours)
    if check.metric == Metric.LAFMAX:
        return _("highest LAFmax over {hours}").format(hours=hours)
    if check.metric == Metric.LUX and check.aggregation == "hourly_min":
        if bucket_minutes == 60:
            return _("lowest hourly mean illuminance over {hours}").format(hours=hours)
        return _("lowest {minutes}-minute mean illuminance over {hours}").format(
            minutes=bucket_minutes, hours=hours
        )
    if check.metric == Metric.LUX:
        return _("time-mean illuminance over {hours}").format(hours=hours)
    if check.metric == Metric.UNIFORMITY:
        return _("illuminance uniformity U0 = Emin / Eav of the seats' mean illuminance over {hours}").format(
            hours=hours
        )
    return _("usable area per seat (zone area ÷ seats in the zone)")


def method_notes(_: Gettext, bucket_minutes: int, min_coverage: float) -> list[dict[str, str]]:
    """The method section: one heading and paragraph per rule the verdicts use."""
    notes = [
        (
            "hours",
            _("Occupied hours"),
            _(
                "Occupied hours are the site's shifts on its working days, in the site's time zone (daylight "
                "saving and shifts crossing midnight included); closed days have none. Unoccupied hours are "
                "the rest of the period. All times in this report are the site's local time with its offset "
                "from UTC."
            ),
        ),
        (
            "buckets",
            _("Time buckets"),
            _(
                "Readings are aggregated in buckets of {minutes} minutes, aligned so that every bucket lies "
                "wholly inside or wholly outside the hours of each check: no bucket is split and none is "
                "estimated."
            ).format(minutes=bucket_minutes),
        ),
        (
            "noise",
            _("Noise level (energy mean)"),
            _(
                "LAeq over a check's hours is the energy mean of the readings: LAeq = 10·lg(Σ tᵢ·10^(Lᵢ/10) "
                "/ Σ tᵢ), where Lᵢ is a reading's A-weighted equivalent level and tᵢ its duration in "
                "seconds (IEC 61672-1:2013 电声学 声级计 第1部分：规范 / Electroacoustics — "
                "Sound level meters — Part 1: Specifications). Decibels are never averaged arithmetically: "
                "40 dB and 64 dB "
                "alternating minute by minute are 61.0 dB, not 52 dB."
            ),
        ),
        (
            "percentiles",
            _("Percentile levels"),
            _(
                "L10 and L90 are the levels exceeded during 10 % and 90 % of the covered time, read from the "
                "covered seconds of the readings' LAeq in 1 dB bins (exact to within ±0.5 dB). They are "
                "shown for information; no verdict depends on them. LAFmax is the highest fast-weighted "
                "maximum level of any reading in the hours."
            ),
        ),
        (
            "floor",
            _("Sensor floor"),
            _(
                "A reading within 3 dB of its sensor's self-noise floor is below the sensor's measurable "
                "range. When more than half of a noise check's covered time is below the floor, its value is "
                "an upper bound (the true level is at most this): a pass still holds, but a fail becomes "
                "insufficient data, because a sensor reading its own floor cannot show a failure."
            ),
        ),
        (
            "light",
            _("Illuminance (lowest hourly mean)"),
            _(
                "The limits are maintained average illuminance on the work plane (desk height, 0.75 m). "
                "For a check of the lowest hourly mean, the time-mean illuminance of each bucket in the "
                "check's hours is computed and the lowest of them is the value, because a requirement missed "
                "in any occupied hour is what matters to the person at the desk; continuous sensors include "
                "daylight. The details give the time mean over all the hours, the lowest single reading and "
                "the share of covered time in buckets below the requirement."
            ),
        ),
        (
            "uniformity",
            _("Illuminance uniformity"),
            _(
                "U0 = Emin / Eav of the time-mean illuminance of the zone's measured seats over occupied "
                "hours, counting only seats whose coverage meets the minimum; at least two seats are needed. "
                "Its coverage is the share of the zone's measured seats that qualified."
            ),
        ),
        (
            "area",
            _("Area per seat"),
            _("The zone's usable floor area divided by the number of seats in the zone."),
        ),
        (
            "coverage",
            _("Coverage"),
            _(
                "Coverage is the seconds covered by readings within a check's hours divided by the length "
                "of those hours, so it does not depend on how often a sensor reports. Light readings carry "
                "no duration: each counts for the sensor's median reporting interval, at most the bucket. "
                "A check whose coverage is under {share} is insufficient data, never a pass."
            ).format(share=f"{min_coverage:.0%}"),
        ),
        (
            "calibration",
            _("Calibration"),
            _(
                "A seat's calibration check passes when every sensor whose readings stood for the seat had a "
                "valid calibration record (performed on or before, valid until after) over the whole time it "
                "was installed within the period; otherwise it is insufficient data and names the sensors "
                "and the uncovered times. Noise sensors are calibrated with a sound calibrator, light "
                "sensors against a reference illuminance meter at the work plane (a gain: a dark room reads "
                "0 lx)."
            ),
        ),
        (
            "verdict",
            _("Verdicts"),
            _(
                "pass: meets the target value. marginal: meets the required value but not the target. "
                "fail: misses the required value. insufficient data: coverage under the minimum, no "
                "readings, or no valid calibration. A seat's verdict is the worst of its checks in the order "
                "pass < marginal < insufficient data < fail. A zone's verdict is that of its own checks "
                "(uniformity); the number of its seats with each verdict is shown beside it, separately."
            ),
        ),
        (
            "confidence",
            _("Confidence of a limit"),
            _(
                "H: read in the full text of the standard, or two sources agree. M: taken from one "
                "secondary source, to be confirmed against the full text. L: provisional — a value to be "
                "confirmed, never to be read as the standard's word; limits of confidence L are marked "
                "provisional wherever they appear."
            ),
        ),
    ]
    return [{"topic": topic, "heading": heading, "text": text} for topic, heading, text in notes]
