"""Rehearsal: a virtual sound calibrator or lamp on a simulated sensor, so calibration can be practised.

An installer (or a test) puts a calibrator (level, frequency) or a lamp (lux) on a chosen sensor from the
command line — ``--calibrator ref-1:94``, ``--calibrator ref-1:94@250``, ``--lamp lx-2:520`` — or while
the simulator runs, by publishing JSON on the control topic ``seatwatch/v1/{site}/_simulate/{sensor}/source``:
``{"calibrator": {"level_db": 94, "frequency_hz": 1000}}``, ``{"lamp": {"lux": 300}}``; a key set to null
takes that source away, ``{}`` changes nothing. ``--noise-bias`` and ``--light-bias`` make a sensor misread
(+2.3 dB, × 0.85) so a calibration has something to correct.

The sensor hears a calibrator through its A-weighting: a 94 dB tone at 250 Hz reads 94 + A(250 Hz) ≈
85.4 dB(A) (IEC 61672-1), as a real one would — the mistake a rehearsal should let people make.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from firmware_bridge.simulate.simulator import SensorBias, Simulator
from seatwatch.core.acoustics.weighting import weighting_db
from seatwatch.core.mqtt_connection import broker_name, make_client
from seatwatch.core.settings import load_services
from seatwatch.core.topics import simulate_topic


@dataclass(frozen=True)
class Calibrator:
    level_db: float
    frequency_hz: float = 1000.0

    def heard_db(self) -> float:
        """The A-weighted level a sensor reports for this tone."""
        return self.level_db + float(weighting_db("A", self.frequency_hz))


@dataclass(frozen=True)
class Lamp:
    lux: float


Sources = tuple[Calibrator | None, Lamp | None]
Change = Callable[[Calibrator | None, Lamp | None], Sources]
"""What :meth:`Rehearsal.put` applies: (calibrator, lamp) on a sensor now -> what comes next."""


def _putting_calibrator(new: Calibrator) -> Change:
    """Put ``new`` on the sensor, its lamp left as it is (a function, so each option binds its own)."""
    return lambda _calibrator, lamp: (new, lamp)


def _putting_lamp(new: Lamp) -> Change:
    """Put ``new`` on the sensor, its calibrator left as it is."""
    return lambda calibrator, _lamp: (calibrator, new)


class BadValue(argparse.ArgumentTypeError, ValueError):
    """A bad option value or control message field: argparse shows the message; callers catch ValueError."""


def _number(text: str, what: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # also false for nan
        raise BadValue(f"{what} {text!r} is not a number from {low:g} to {high:g}")
    return value


def _split(text: str, example: str) -> tuple[str, str]:
    sensor, sep, value = text.partition(":")
    if not sep or not sensor or not value:
        raise BadValue(f"{text!r} must be SENSOR:VALUE, e.g. {example}")
    return sensor, value


def calibrator_option(text: str) -> tuple[str, Calibrator]:
    sensor, value = _split(text, "ref-1:94 or ref-1:94@1000")
    level, _, frequency = value.partition("@")
    return sensor, Calibrator(
        _number(level, "calibrator level (dB)", 20, 140),
        _number(frequency, "calibrator frequency (Hz)", 10, 20000) if frequency else 1000.0,
    )


def lamp_option(text: str) -> tuple[str, Lamp]:
    sensor, value = _split(text, "lx-2:520")
    return sensor, Lamp(_number(value, "lamp illuminance (lx)", 0, 200000))


def noise_bias_option(text: str) -> tuple[str, float]:
    sensor, value = _split(text, "ref-1:2.3")
    return sensor, _number(value, "noise bias (dB)", -40, 40)


def light_bias_option(text: str) -> tuple[str, float]:
    sensor, value = _split(text, "ref-1:0.85")
    return sensor, _number(value, "light bias (gain)", 0.001, 1000)


_OPTIONS = (
    (
        "--calibrator",
        calibrator_option,
        "SENSOR:DB[@HZ]",
        "a sound calibrator on the sensor (repeatable; frequency default: 1000 Hz; default: none)",
    ),
    (
        "--lamp",
        lamp_option,
        "SENSOR:LX",
        "a lamp on the sensor (repeatable; default: none, the office's light)",
    ),
    (
        "--noise-bias",
        noise_bias_option,
        "SENSOR:DB",
        "the sensor reads this many dB high (repeatable; default: 0)",
    ),
    (
        "--light-bias",
        light_bias_option,
        "SENSOR:GAIN",
        "the sensor reads lux × GAIN (repeatable; default: 1)",
    ),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("rehearsal (practise calibration without hardware)")
    for option, parse, metavar, words in _OPTIONS:
        group.add_argument(option, type=parse, action="append", default=[], metavar=metavar, help=words)


def biases(args: argparse.Namespace) -> dict[str, SensorBias]:
    noise = dict(args.noise_bias)
    light = dict(args.light_bias)
    return {s: SensorBias(noise.get(s, 0.0), light.get(s, 1.0)) for s in {*noise, *light}}


class Rehearsal:
    """The calibrators and lamps currently on the simulator's sensors."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self._lock = threading.Lock()
        self._on: dict[str, tuple[Calibrator | None, Lamp | None]] = {}
        self._client: mqtt.Client | None = None

    def put(self, sensor: str, change: Change) -> None:
        """Change what is on ``sensor``: ``change`` maps (calibrator, lamp) now to what comes next."""
        if sensor not in self.simulator.sensors:
            raise ValueError(
                f"no simulated sensor {sensor!r} (simulated: {', '.join(self.simulator.sensors)})"
            )
        with self._lock:
            calibrator, lamp = change(*self._on.get(sensor, (None, None)))
            self._on[sensor] = (calibrator, lamp)
        if calibrator is None and lamp is None:
            self.simulator.clear_source(sensor)
        else:
            self.simulator.set_source(
                sensor,
                noise_db=calibrator.heard_db() if calibrator else None,
                lux=lamp.lux if lamp else None,
            )

    def apply(self, args: argparse.Namespace) -> None:
        """The ``--calibrator`` and ``--lamp`` options; ValueError names an unknown sensor."""
        for sensor, calibrator in args.calibrator:
            self.put(sensor, _putting_calibrator(calibrator))
        for sensor, lamp in args.lamp:
            self.put(sensor, _putting_lamp(lamp))

    def control(self, sensor: str, payload: bytes | bytearray) -> str:
        """Apply one control message; returns what changed, for the log. ValueError names what is wrong."""
        try:
            doc = json.loads(payload or b"{}")
        except ValueError as exc:
            raise ValueError(f"control message for {sensor} is not JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise ValueError(f"control message for {sensor} must be a JSON object")
        unknown = set(doc) - {"calibrator", "lamp"}
        if unknown:
            raise ValueError(f"control message for {sensor}: unknown keys {sorted(unknown)}")
        calibrator = lamp = None
        if doc.get("calibrator") is not None:
            c = doc["calibrator"]
            if not isinstance(c, dict):
                raise ValueError(f"control message for {sensor}: calibrator must be an object")
            calibrator = Calibrator(
                _number(str(c.get("level_db")), "calibrator level_db", 20, 140),
                _number(str(c.get("frequency_hz", 1000)), "calibrator frequency_hz", 10, 20000),
            )
        if doc.get("lamp") is not None:
            entry = doc["lamp"]
            if not isinstance(entry, dict):
                raise ValueError(f"control message for {sensor}: lamp must be an object")
            lamp = Lamp(_number(str(entry.get("lux")), "lamp lux", 0, 200000))

        def change(old_c: Calibrator | None, old_l: Lamp | None) -> Sources:
            return (
                calibrator if "calibrator" in doc else old_c,
                lamp if "lamp" in doc else old_l,
            )

        self.put(sensor, change)
        return f"{sensor}: now {self.describe(sensor)}"

    def describe(self, sensor: str) -> str:
        """``calibrator 94 dB at 1000 Hz, no lamp`` — what is on the sensor now."""
        with self._lock:
            calibrator, lamp = self._on.get(sensor, (None, None))
        words = [
            f"calibrator {calibrator.level_db:g} dB at {calibrator.frequency_hz:g} Hz"
            if calibrator
            else "no calibrator",
            f"lamp {lamp.lux:g} lx" if lamp else "no lamp",
        ]
        return ", ".join(words)

    def listen(self) -> None:
        """Follow the control topic on the site's broker; one that cannot be reached only costs the
        control topic (the command line's sources stay)."""
        model = self.simulator.site
        services = load_services(model.services, base=model.path.parent if model.path else None)
        site = model.id
        host, port = services.mqtt_host_port
        client = make_client(services, f"seatwatch-simulate-{site}")

        def on_connect(c: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
            c.subscribe(simulate_topic(site), qos=1)

        def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
            sensor = message.topic.split("/")[-2]
            try:
                print(f"rehearsal: {self.control(sensor, message.payload)}", file=sys.stderr, flush=True)
            except ValueError as exc:
                print(f"rehearsal: refused: {exc}", file=sys.stderr, flush=True)

        def on_subscribe(_c: mqtt.Client, _u: object, _mid: int, _codes: object, _p: object) -> None:
            print(f"rehearsal: following {simulate_topic(site)}", file=sys.stderr, flush=True)

        client.on_connect = on_connect
        client.on_message = on_message
        client.on_subscribe = on_subscribe
        try:
            client.connect(host, port, keepalive=30)
        except OSError as exc:
            print(
                f"rehearsal: control topic not followed: {broker_name(services)}: {exc}",
                file=sys.stderr,
                flush=True,
            )
            return
        client.loop_start()
        self._client = client

    def stop(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None


def start(args: argparse.Namespace, simulator: Simulator) -> Rehearsal | None:
    """Put the command line's calibrators and lamps on (saying so) and follow the control topic; None,
    after saying why, if an option names a sensor that is not simulated."""
    stage = Rehearsal(simulator)
    named = {s for s, _ in args.calibrator + args.lamp + args.noise_bias + args.light_bias}
    try:
        if unknown := named - set(simulator.sensors):
            raise ValueError(
                f"no simulated sensor {', '.join(sorted(unknown))} "
                f"(simulated: {', '.join(simulator.sensors)})"
            )
        stage.apply(args)
    except ValueError as exc:
        print(f"seatwatch simulate: {exc}", file=sys.stderr)
        return None
    for sensor in sorted(named & set(simulator.sensors)):
        bias = simulator.biases.get(sensor, SensorBias())
        print(
            f"rehearsal: {sensor}: {stage.describe(sensor)}; reads {bias.noise_offset_db:+g} dB, "
            f"lux × {bias.lux_gain:g}",
            file=sys.stderr,
            flush=True,
        )
    stage.listen()
    return stage
