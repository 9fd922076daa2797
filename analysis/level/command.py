"""``seatwatch level``: the sound levels of a WAV recording, as a sound level meter would give them.

For installers checking a microphone or a recording on site, and for anyone who wants to check seatwatch's
maths against a reference meter. The recording is streamed in 1 s blocks through the same
:class:`~seatwatch.core.acoustics.meter.SoundLevelMeter` the bridge uses, in 100 ms intervals, so memory stays
a few blocks and the interval table (about 8 MB for 3 h) whatever the length: whole-file Leq values are
the energy mean of those intervals, maxima and minima their extremes.

Percentile levels are the meters' LAFN: the level exceeded for N % of the time by LAF, the A-weighted
F time-weighted level, sampled every 100 ms. ISO 1996-1 defines the N percent exceedance level on a
time-weighted level (LAFN, LASN), and sound level meters take their statistics from LAF sampled every
10–100 ms (Brüel & Kjær 2250, Norsonic Nor150). They are *not* percentiles of short LAeq values: the LAeq
of a 100 ms pause in speech falls far below the LAF of the same moment, which decays at 34.7 dB/s, so an
LAeq,100ms series reads LA90 much lower (on speech 56.3 against 70.9 dB, issue #15). The compliance
engine's ``laeq_p10``/``laeq_p90`` are percentiles of the stored readings' LAeq (1 s from a bridge) and
are a third statistic again.

Levels below what the file's format can carry (more than 100 dB below full scale for 16-bit, 140 dB for
24-bit and float: digital silence) are "below measurable range": printed as such, ``null`` in
``--json`` with their keys listed under ``below_range``, never as a number.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from seatwatch.core.acoustics.conformance import rate_statement
from seatwatch.core.acoustics.decibels import energy_mean, percentile_levels
from seatwatch.core.acoustics.meter import IntervalLevels, SoundLevelMeter
from seatwatch.core.acoustics.sensitivity import CalibrationError, sensitivity_from_calibrator
from seatwatch.core.acoustics.wav import WavStream, read_wav
from seatwatch.core.acoustics.weighting import MAX_FS_HZ, MIN_FS_HZ
from seatwatch.core.command_startup import EXIT_OK, EXIT_USAGE

STEP_S = 0.1
PROGRESS_AFTER_S = 60.0
SENSITIVITY_RANGE_DB = (40.0, 194.0)
"""Plausible levels of a full-scale-RMS signal: 194 dB re 20 µPa is one atmosphere, the largest sound wave
air carries undistorted; below 40 dB a full-scale signal would be quieter than a quiet office."""
CALIBRATOR_RANGE_DB = (70.0, 140.0)
"""Sound calibrators give 94, 104, 114 or 124 dB; this range catches a typo, not a calibrator model."""

# Output keys (the --json contract) and their labels in the text output, in print order.
LABELS = {
    "laeq": "LAeq",
    "lceq": "LCeq",
    "lzeq": "LZeq",
    "lafmax": "LAFmax",
    "lafmin": "LAFmin",
    "lasmax": "LASmax",
    "lcpeak": "LCpeak",
    "laf10": "LAF10",
    "laf50": "LAF50",
    "laf90": "LAF90",
}
_COLUMNS = ("laeq", "lceq", "lzeq", "lafmax", "lafmin", "lasmax", "lcpeak", "laf", "duration_s")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.wav", help="recording: 8/16/24/32-bit integer or float WAV")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--sensitivity-db",
        type=float,
        metavar="S",
        help="level in dB re 20 µPa of a signal whose RMS is 1.0 (integer samples scaled to [-1, 1)); "
        f"{SENSITIVITY_RANGE_DB[0]:g}–{SENSITIVITY_RANGE_DB[1]:g}",
    )
    source.add_argument(
        "--calibrator", metavar="CAL.wav", help="recording of a 1 kHz sound calibrator on the same microphone"
    )
    parser.add_argument(
        "--calibrator-level",
        type=float,
        default=94.0,
        metavar="DB",
        help="the calibrator's level in dB re 20 µPa (default: %(default)s)",
    )
    parser.add_argument(
        "--channel",
        type=int,
        metavar="N",
        help="channel to measure, 1 = first (default: the only one; multi-channel files need it)",
    )
    parser.epilog = (
        "examples:\n  seatwatch level office.wav --sensitivity-db 123.0\n"
        "  seatwatch level office.wav --calibrator cal-94dB.wav --calibrator-level 94 --json"
    )
    parser.add_argument(
        "--allow-truncated",
        action="store_true",
        help="measure the audio a truncated file holds (with a warning) instead of refusing it",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def _check_range(name: str, value: float, bounds: tuple[float, float]) -> None:
    if not (math.isfinite(value) and bounds[0] <= value <= bounds[1]):
        raise ValueError(f"{name} must be a number of dB from {bounds[0]:g} to {bounds[1]:g}, got {value}")


def _progress_printer(total_s: float) -> Callable[[float], None]:
    """Every 10 % of a long file, how far the measurement has got (stderr, so --json stays clean)."""
    if total_s <= PROGRESS_AFTER_S:
        return lambda _done_s: None
    shown = [0]

    def show(done_s: float) -> None:
        tenth = int(10 * done_s / total_s)
        if tenth > shown[0]:
            shown[0] = tenth
            print(f"seatwatch level: {10 * tenth} % ({done_s:.0f} of {total_s:.0f} s)", file=sys.stderr)

    return show


def measure(
    stream: WavStream, sensitivity_db: float, progress: Callable[[float], None] = lambda _s: None
) -> dict[str, Any]:
    """The JSON document ``--json`` prints: every level of the recording (dB re 20 µPa; None where
    undefined or below measurable range), its ``duration_s``, ``below_range``: the keys whose level is
    below measurable range, ``floor_db`` and ``below_range_s``: the seconds of 100 ms intervals whose
    LAeq is below it."""
    meter = SoundLevelMeter(stream.fs, sensitivity_db, interval_s=STEP_S, floor_db=stream.floor_db)
    table = np.empty((stream.frames // meter.interval_samples + 1, len(_COLUMNS)))
    rows = 0

    def keep(intervals: list[IntervalLevels]) -> None:
        nonlocal rows
        for interval in intervals:
            table[rows] = [getattr(interval, name) for name in _COLUMNS]
            rows += 1

    done = 0
    for block in stream.blocks():
        keep(meter.process(block))
        done += block.size
        progress(done / stream.fs)
    last = meter.flush()
    keep([last] if last is not None else [])
    columns = dict(zip(_COLUMNS, table[:rows].T, strict=True))
    durations = columns["duration_s"]
    laf = columns["laf"]
    percentiles = percentile_levels(laf, durations, ns=(10, 50, 90)) if np.any(~np.isnan(laf)) else {}
    lafmin = columns["lafmin"]
    result: dict[str, float | None] = {
        "laeq": energy_mean(columns["laeq"], durations),
        "lceq": energy_mean(columns["lceq"], durations),
        "lzeq": energy_mean(columns["lzeq"], durations),
        "lafmax": float(columns["lafmax"].max()),
        "lafmin": float(np.nanmin(lafmin)) if np.any(~np.isnan(lafmin)) else None,
        "lasmax": float(columns["lasmax"].max()),
        "lcpeak": float(columns["lcpeak"].max()),
        **{f"laf{n}": percentiles.get(n) for n in (10, 50, 90)},
    }
    below = [key for key, value in result.items() if value == -math.inf]
    levels: dict[str, Any] = {
        key: None if value is None or key in below else round(value, 2) for key, value in result.items()
    }
    levels["duration_s"] = round(stream.duration_s, 6)
    levels["below_range"] = below
    levels["floor_db"] = stream.floor_db
    # The silent time adds no energy to the Leq values but counts in their time, as silence does; say how
    # much of it there was, since below the floor "silent" only means "too quiet to measure".
    levels["below_range_s"] = round(float(durations[np.isneginf(columns["laeq"])].sum()), 3)
    return levels


def _sensitivity(args: argparse.Namespace, channel: int | None) -> tuple[float, str]:
    """The sensitivity to measure with, and where it came from (given, or a calibrator recording)."""
    if args.calibrator is None:
        return args.sensitivity_db, "given"
    calibrator = read_wav(args.calibrator, channel)
    try:
        found = sensitivity_from_calibrator(calibrator.samples, calibrator.fs, args.calibrator_level)
    except CalibrationError as error:
        raise CalibrationError(f"{args.calibrator}: {error}") from None
    return found.sensitivity_db, f"from {args.calibrator} at {args.calibrator_level:g} dB"


def run(args: argparse.Namespace) -> int:
    channel = None if args.channel is None else args.channel - 1
    try:
        if channel is not None and channel < 0:
            raise ValueError(f"--channel counts from 1, got {args.channel}")
        if args.calibrator is None:
            _check_range("--sensitivity-db", args.sensitivity_db, SENSITIVITY_RANGE_DB)
        else:
            _check_range("--calibrator-level", args.calibrator_level, CALIBRATOR_RANGE_DB)
        with WavStream(args.file, channel, allow_truncated=args.allow_truncated) as stream:
            if not MIN_FS_HZ <= stream.fs <= MAX_FS_HZ:
                raise ValueError(
                    f"{args.file}: sample rate {stream.fs} Hz is outside the {MIN_FS_HZ:g}–{MAX_FS_HZ:g} Hz "
                    "this meter supports (its A and C weightings are verified only there)"
                )
            if stream.missing_s > 0:
                print(
                    f"seatwatch level: warning: {args.file} is truncated; measuring the "
                    f"{stream.duration_s:.3f} s it holds, {stream.missing_s:.3f} s claimed are missing",
                    file=sys.stderr,
                )
            sensitivity, origin = _sensitivity(args, channel)
            levels = measure(stream, sensitivity, _progress_printer(stream.duration_s))
    except ValueError as error:  # WavError and CalibrationError included: bad input, never a traceback
        print(f"seatwatch level: {error}", file=sys.stderr)
        return EXIT_USAGE
    class_1, statement = rate_statement(stream.fs)
    levels["class_1"] = class_1
    if args.json:
        print(json.dumps(levels))
        return EXIT_OK
    print(f"{args.file}: {stream.fs} Hz {stream.sample_format}, sensitivity {sensitivity:.2f} dB ({origin})")
    print(f"{statement}")
    for key, label in LABELS.items():
        value = levels[key]
        if key in levels["below_range"]:
            shown = f"below measurable range (more than {levels['floor_db']:g} dB below full scale)"
        else:
            shown = "n/a" if value is None else f"{value:6.1f} dB"
        print(f"{label:<8}{shown}")
    print(f"{'duration':<9}{levels['duration_s']:.3f} s")
    if levels["below_range_s"]:
        print(f"{levels['below_range_s']:.1f} s of it below measurable range (adding no energy to Leq)")
    return EXIT_OK
