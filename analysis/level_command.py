"""``seatwatch level``: the sound levels of a WAV recording, as a class 1 sound level meter would give them.

For installers checking a microphone or a recording on site, and for anyone who wants to check seatwatch's
maths against a reference meter. The recording is streamed through the same
:class:`~analysis.acoustics.meter.SoundLevelMeter` the bridge uses, in 100 ms intervals: whole-file Leq
values are the energy mean of those intervals, maxima and minima their extremes, and LA10/LA50/LA90 the
statistical levels of the 100 ms LAeq series (so they mean the same as the per-second percentiles the
analysis computes from stored readings, at a finer step).
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

from analysis.acoustics.calibration import CalibrationError, sensitivity_from_calibrator
from analysis.acoustics.levels import energy_mean, percentile_levels
from analysis.acoustics.meter import SoundLevelMeter
from analysis.acoustics.wav import WavAudio, read_wav
from analysis.acoustics.weighting import MAX_FS_HZ, MIN_FS_HZ

EXIT_OK = 0
EXIT_BAD_INPUT = 2
STEP_S = 0.1

# Output keys (the --json contract) and their labels in the text output, in print order.
LABELS = {
    "laeq": "LAeq",
    "lceq": "LCeq",
    "lzeq": "LZeq",
    "lafmax": "LAFmax",
    "lafmin": "LAFmin",
    "lasmax": "LASmax",
    "lcpeak": "LCpeak",
    "la10": "LA10",
    "la50": "LA50",
    "la90": "LA90",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.wav", help="recording: 16/24/32-bit integer or float WAV")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--sensitivity-db",
        type=float,
        metavar="S",
        help="level in dB re 20 µPa of a signal whose RMS is 1.0 (integer samples scaled to [-1, 1))",
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
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def measure(audio: WavAudio, sensitivity_db: float) -> dict[str, float | None]:
    """Every level of the recording (dB re 20 µPa, None where undefined) plus ``duration_s``."""
    meter = SoundLevelMeter(audio.fs, sensitivity_db, interval_s=STEP_S)
    intervals = meter.process(audio.samples)
    last = meter.flush()
    intervals += [last] if last is not None else []
    durations = [i.duration_s for i in intervals]

    def column(name: str) -> np.ndarray:
        return np.array([getattr(i, name) for i in intervals], dtype=float)

    laeq = column("laeq")
    percentiles = percentile_levels(laeq, durations)
    lafmin = column("lafmin")
    result = {
        "laeq": energy_mean(laeq, durations),
        "lceq": energy_mean(column("lceq"), durations),
        "lzeq": energy_mean(column("lzeq"), durations),
        "lafmax": float(column("lafmax").max()),
        "lafmin": float(np.nanmin(lafmin)) if np.any(~np.isnan(lafmin)) else None,
        "lasmax": float(column("lasmax").max()),
        "lcpeak": float(column("lcpeak").max()),
        "la10": percentiles[10],
        "la50": percentiles[50],
        "la90": percentiles[90],
    }
    rounded: dict[str, float | None] = {
        k: (round(v, 2) if v is not None and math.isfinite(v) else None) for k, v in result.items()
    }
    rounded["duration_s"] = round(audio.duration_s, 6)
    return rounded


def run(args: argparse.Namespace) -> int:
    channel = None if args.channel is None else args.channel - 1
    try:
        if channel is not None and channel < 0:
            raise ValueError(f"--channel counts from 1, got {args.channel}")
        audio = read_wav(args.file, channel)
        if not MIN_FS_HZ <= audio.fs <= MAX_FS_HZ:
            raise ValueError(
                f"{args.file}: sample rate {audio.fs} Hz is outside the {MIN_FS_HZ:g}–{MAX_FS_HZ:g} Hz this "
                "meter supports (its A and C weightings are verified class 1 only there)"
            )
        if args.calibrator is None:
            sensitivity, origin = args.sensitivity_db, "given"
        else:
            calibrator = read_wav(args.calibrator, channel)
            try:
                found = sensitivity_from_calibrator(calibrator.samples, calibrator.fs, args.calibrator_level)
            except CalibrationError as error:
                raise CalibrationError(f"{args.calibrator}: {error}") from None
            sensitivity = found.sensitivity_db
            origin = f"from {args.calibrator} at {args.calibrator_level:g} dB"
        levels = measure(audio, sensitivity)
    except ValueError as error:  # WavError and CalibrationError included: bad input, never a traceback
        print(f"seatwatch level: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(levels))
        return EXIT_OK
    print(f"{args.file}: {audio.fs} Hz {audio.sample_format}, sensitivity {sensitivity:.2f} dB ({origin})")
    for key, label in LABELS.items():
        value = levels[key]
        print(f"{label:<8}{'n/a' if value is None else f'{value:6.1f} dB'}")
    print(f"{'duration':<8}{levels['duration_s']:7.3f} s")
    return EXIT_OK
