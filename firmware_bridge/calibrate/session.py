"""The guided sessions at the seat: what the installer is asked, in the order the work is done on site.

Noise: the broker is checked (the live subscription opens) before anyone is asked to seat a calibrator;
then one stable window gives the offset, and with ``--post-check`` a second window is read *corrected*
with it. Light: for each point the installer sets the lighting, the sensor's live value is shown until it
is stable, and only then is the reference meter's reading asked for; the fit follows. A correction
outside the sensor model's usual range (plausibility.py) is refused unless confirmed. Nothing here writes
a record: the command does that once a session returns, so leaving at any prompt records nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.console import Console
from rich.text import Text

from firmware_bridge.calibrate import light, noise
from firmware_bridge.calibrate.live_source import LiveReadings
from firmware_bridge.calibrate.plausibility import UsualRange, usual_range
from firmware_bridge.calibrate.prompts import ask_lux, wait_enter
from firmware_bridge.calibrate.readout import Readout
from firmware_bridge.calibrate.uncertainty import ReferenceClass, light_budget, noise_budget
from firmware_bridge.calibrate.window import CalibrationRefused, StableWindow, Verdict, wait_for_stable
from seatwatch.core.contract import Reading
from seatwatch.core.site import Sensor


class UsageError(ValueError):
    """Bad input on the command line; the message names the option and the value."""


@dataclass(frozen=True)
class Session:
    """What a guided session talks to: the installer (``err`` for prompts and readouts) and the sensor."""

    err: Console
    live: Callable[[Sensor], LiveReadings]
    interactive: bool
    """stdin is a terminal: wait for Enter before each step (a script's runs go straight on)."""

    def instruct(self, text: str) -> None:
        if self.interactive:
            wait_enter(self.err, text)
        else:
            self.err.print(text)


@dataclass(frozen=True)
class Measured:
    """A session's outcome, ready to become a record."""

    result: float  # the noise offset (dB) or the light gain
    reference_value: float
    pre_deviation: float
    post_deviation: float | None
    post_check: str  # the post-check (noise) or the fit's check (light), in words
    evidence: str
    usual: UsualRange
    outside_usual_range: bool
    uncertainty: dict[str, float]
    points: list[list[float]] = field(default_factory=list)


def _plausible(sensor: Sensor, quantity: str, result: float, confirmed: bool) -> tuple[UsualRange, bool]:
    """The model's usual range and whether ``result`` lies outside it; refused unless ``confirmed``."""
    usual = usual_range(sensor.model, quantity)
    if usual.contains(result):
        return usual, False
    what = f"offset {result:+.2f} dB" if quantity == "noise" else f"gain {result:.4f}"
    model = sensor.model or "(no model in the site file)"
    if not confirmed:
        hint = (
            "is the calibrator seated and set to the level you gave?"
            if quantity == "noise"
            else "is the sensor covered, or was the meter read somewhere else?"
        )
        raise CalibrationRefused(
            f"{what} is outside the usual range of sensor model {model} ({usual.describe()}, "
            f"plausibility.toml entry '{usual.model_key}') — {hint} If the sensor really needs it, run "
            "again with --confirm-unusual; the record and the certificate will say so"
        )
    return usual, True


def _laeq(reading: Reading) -> float | None:
    return reading.laeq


def _lux(reading: Reading) -> float | None:
    return reading.lux


def _noise_values(last: float, v: Verdict) -> str:
    return f"latest {last:6.2f} dB   Leq {v.value:6.2f} dB   spread {v.spread:.2f} dB"


def measure_noise(
    args: argparse.Namespace, session: Session, sensor: Sensor, ref: ReferenceClass
) -> Measured:
    judge = noise.noise_judge(args.reference_db, args.max_spread, sensor.noise_floor_db)
    what = f"noise readings of {sensor.id}"
    with session.live(sensor) as source:
        session.err.print(f"broker reached; listening to {sensor.id}'s readings")
        session.instruct(
            f"Seat the calibrator ({args.reference_db:g} dB, 1 kHz) on {sensor.id}'s microphone "
            "and switch it on"
        )
        source.restart()
        title = f"{sensor.id}: calibrator {args.reference_db:g} dB, spread limit {args.max_spread:g} dB"
        with Readout(session.err, title, _noise_values, args.duration) as readout:
            found, window = wait_for_stable(source, _laeq, args.duration, args.timeout, judge, readout, what)
        offset = noise.noise_offset(args.reference_db, found.value)
        session.err.print(
            f"measured {found.value:.2f} dB (energy mean, spread {found.spread:.2f} dB): "
            f"offset {offset:+.2f} dB"
        )
        usual, outside = _plausible(sensor, "noise", offset, args.confirm_unusual)
        post_deviation = None
        post_words = "not run (pass --post-check to read a second window with the new offset)"
        if args.post_check:
            session.instruct("Post-check: keep the calibrator seated (or seat it again)")
            source.restart()

            def corrected(reading: Reading) -> float | None:
                return None if reading.laeq is None else reading.laeq + offset

            title = f"post-check: levels corrected by {offset:+.2f} dB, against {args.reference_db:g} dB"
            with Readout(session.err, title, _noise_values, args.duration) as readout:
                again, _ = wait_for_stable(
                    source, corrected, args.duration, args.timeout, judge, readout, what
                )
            check = noise.post_check(args.reference_db, again.value)
            if not check.valid:
                raise CalibrationRefused(
                    f"post-check read {again.value:.2f} dB with the new offset, {check.drift_db:+.2f} dB "
                    f"from {args.reference_db:g} dB (limit {check.limit_db:g} dB, GB 3096): calibrate again"
                )
            post_deviation = check.drift_db
            post_words = (
                f"passed: {again.value:.2f} dB corrected, {check.drift_db:+.2f} dB from "
                f"{args.reference_db:g} dB (limit {check.limit_db:g} dB)"
            )
    return Measured(
        result=offset,
        reference_value=args.reference_db,
        pre_deviation=found.value - args.reference_db,
        post_deviation=post_deviation,
        post_check=post_words,
        evidence=f"window {args.duration:g} s: {found.value:.2f} dB, spread {found.spread:.2f} dB",
        usual=usual,
        outside_usual_range=outside,
        uncertainty=noise_budget(ref, window.values),
    )


def _lux_values(last: float, v: Verdict) -> str:
    return f"latest {last:8.1f} lx   mean {v.value:8.1f} lx   spread {100 * v.spread:.1f} %"


def light_plan(args: argparse.Namespace) -> tuple[list[tuple[float, float]], int]:
    """The ``--point`` pairs given, and how many points to measure live (``--points``, at least one per
    ``--reference-lux``, default 1 — or none when only ``--point`` pairs are given); UsageError if bad."""
    try:
        points = [light.parse_point(text) for text in args.point]
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if args.points is not None and args.points < len(args.reference_lux):
        raise UsageError(
            f"--points {args.points} is fewer than the {len(args.reference_lux)} --reference-lux values"
        )
    count = args.points if args.points is not None else (0 if points and not args.reference_lux else 1)
    return points, max(count, len(args.reference_lux))


def measure_light(
    args: argparse.Namespace, session: Session, sensor: Sensor, ref: ReferenceClass
) -> Measured:
    points, count = light_plan(args)
    judge = light.lux_judge(args.max_spread_pct / 100)
    windows: list[StableWindow] = []
    if count:
        with session.live(sensor) as source:
            session.err.print(f"broker reached; listening to {sensor.id}'s readings")
            for k in range(count):
                session.instruct(
                    f"Point {k + 1} of {count}: set the lighting, hold the meter at the work plane "
                    f"beside {sensor.id}"
                )
                source.restart()
                title = f"{sensor.id}: point {k + 1} of {count}, spread limit {args.max_spread_pct:g} %"
                with Readout(session.err, title, _lux_values, args.duration) as readout:
                    found, window = wait_for_stable(
                        source,
                        _lux,
                        args.duration,
                        args.timeout,
                        judge,
                        readout,
                        f"light readings of {sensor.id}",
                    )
                session.err.print(f"point {k + 1}: sensor stable at {found.value:.1f} lx")
                if k < len(args.reference_lux):
                    reference = args.reference_lux[k]
                    session.err.print(f"point {k + 1}: reference meter {reference:g} lx (--reference-lux)")
                else:
                    reference = ask_lux(
                        session.err, f"Point {k + 1}: what does the reference meter read (lx)? "
                    )
                points.append((found.value, reference))
                windows.append(window)
    fit = light.fit_gain(points, args.tolerance_pct / 100)
    relative = light.relative_residuals(fit, points)
    for n, ((raw, reference), r) in enumerate(zip(points, relative, strict=True), start=1):
        session.err.print(
            f"  point {n}: sensor {raw:.1f} lx, meter {reference:g} lx, residual {100 * r:+.2f} %"
        )
    usual, outside = _plausible(sensor, "light", fit.gain, args.confirm_unusual)
    if len(points) == 1:
        check = "one point: its residual is 0 by construction and cannot be checked (measure two or more)"
        session.err.print(Text(check, style="yellow"))
    else:
        check = (
            f"{len(points)} points fitted, worst residual {100 * fit.max_relative_residual:.2f} % "
            f"(tolerance {args.tolerance_pct:g} %)"
        )
    return Measured(
        result=fit.gain,
        reference_value=max(e for _, e in points),
        pre_deviation=light.uncalibrated_deviation(points),
        post_deviation=fit.max_relative_residual if len(points) > 1 else None,
        post_check=check,
        evidence="points (sensor lx → reference lx): " + ", ".join(f"{r:.1f}→{e:g}" for r, e in points),
        usual=usual,
        outside_usual_range=outside,
        uncertainty=light_budget(ref, [r for r, _ in points], [w.values for w in windows], relative),
        points=[[r, e] for r, e in points],
    )


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()
