"""The reference sensor's serial line protocol (hardware/PROTOCOL.md): frame encoder, CRC and stream decoder.

This is the one implementation of the frame format: the bridge decodes with :class:`FrameDecoder`, the
simulator and the firmware documentation's examples are produced by :func:`encode_levels` and
:func:`encode_hello`. Frames are ASCII lines so an installer can read them in any terminal, and each carries
a CRC-16 so that a loose USB cable or a noisy RS-232 adapter turns into a counted error, not a wrong level.

    $SW1,L,<seq>,<interval_ms>,<laeq>,<lafmax>,<lafmin>,<lux>*<crc16 hex>\\r\\n
    $SW1,H,<device id>,<firmware>,<mode>*<crc16 hex>\\r\\n

The decoder never raises on line content: every byte either ends up in a frame or in a :class:`FrameError`
whose ``reason`` is one of :data:`ERROR_REASONS`, so a driver can count garbage per sensor and carry on.
"""

from __future__ import annotations

import binascii
import math
from dataclasses import dataclass

from seatwatch.core.contract import LUX_RANGE, NOISE_RANGE_DB

VERSION = 1
MAGIC = b"SW%d" % VERSION
MAX_FRAME_BYTES = 160  # a levels frame is under 70 bytes; anything longer lost its end
SEQ_MODULO = 2**32
INTERVAL_RANGE_MS = (100, 60_000)
MODES = ("levels", "raw")
ERROR_REASONS = ("garbage", "truncated", "checksum", "malformed", "version")


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): in C in binascii, and a dozen lines on a device."""
    return binascii.crc_hqx(data, 0xFFFF)


@dataclass(frozen=True, slots=True)
class LevelsFrame:
    """One device interval: A-weighted levels in dB re 20 µPa and illuminance in lx (None: not measured)."""

    seq: int
    interval_ms: int
    laeq: float | None
    lafmax: float | None
    lafmin: float | None
    lux: float | None


@dataclass(frozen=True, slots=True)
class HelloFrame:
    """Sent by a device after reset: who it is and which mode it streams in."""

    device: str
    firmware: str
    mode: str


@dataclass(frozen=True, slots=True)
class FrameError:
    """Bytes that were not a valid frame; ``detail`` says what was wrong for logs and status."""

    reason: str
    detail: str


Frame = LevelsFrame | HelloFrame


def _frame(body: bytes) -> bytes:
    return b"$%s*%04X\r\n" % (body, crc16(body))


def _number(value: float | None) -> bytes:
    return b"" if value is None else b"%.1f" % value


def encode_levels(
    seq: int,
    interval_ms: int,
    laeq: float | None,
    lafmax: float | None,
    lafmin: float | None,
    lux: float | None,
) -> bytes:
    """The bytes a device sends for one interval (levels rounded to 0.1 dB, lux to 0.1 lx)."""
    fields = [MAGIC, b"L", b"%d" % (seq % SEQ_MODULO), b"%d" % interval_ms]
    fields += [_number(v) for v in (laeq, lafmax, lafmin, lux)]
    return _frame(b",".join(fields))


def encode_hello(device: str, firmware: str, mode: str = "levels") -> bytes:
    """The bytes a device sends after reset."""
    return _frame(b",".join([MAGIC, b"H", device.encode("ascii"), firmware.encode("ascii"), mode.encode()]))


class _Malformed(Exception):
    pass


def _optional(field: bytes, bounds: tuple[float, float], name: str) -> float | None:
    if not field:
        return None
    try:
        value = float(field)
    except ValueError:
        raise _Malformed(f"{name} {field[:16]!r} is not a number") from None
    if not (math.isfinite(value) and bounds[0] <= value <= bounds[1]):
        raise _Malformed(f"{name} {value} is outside {bounds[0]:g}..{bounds[1]:g}")
    return value


def _integer(field: bytes, low: int, high: int, name: str) -> int:
    if not field.isdigit():
        raise _Malformed(f"{name} {field[:16]!r} is not a whole number")
    value = int(field)
    if not low <= value <= high:
        raise _Malformed(f"{name} {value} is outside {low}..{high}")
    return value


def parse_body(body: bytes) -> Frame:
    """Parse a frame body (between ``$`` and ``*``, CRC already checked). Raises ``_Malformed``."""
    fields = body.split(b",")
    kind = fields[1] if len(fields) > 1 else b""
    if kind == b"L" and len(fields) == 8:
        frame = LevelsFrame(
            _integer(fields[2], 0, SEQ_MODULO - 1, "seq"),
            _integer(fields[3], *INTERVAL_RANGE_MS, "interval_ms"),
            _optional(fields[4], NOISE_RANGE_DB, "laeq"),
            _optional(fields[5], NOISE_RANGE_DB, "lafmax"),
            _optional(fields[6], NOISE_RANGE_DB, "lafmin"),
            _optional(fields[7], LUX_RANGE, "lux"),
        )
        if frame.lafmax is not None and frame.lafmin is not None and frame.lafmin > frame.lafmax:
            raise _Malformed(f"lafmin {frame.lafmin} is above lafmax {frame.lafmax}")
        return frame
    if kind == b"H" and len(fields) == 5:
        mode = fields[4].decode("ascii", "replace")
        if mode not in MODES:
            raise _Malformed(f"mode {mode!r} is not one of {', '.join(MODES)}")
        return HelloFrame(fields[2].decode("ascii", "replace"), fields[3].decode("ascii", "replace"), mode)
    raise _Malformed(f"frame type {kind[:8]!r} with {len(fields)} fields is not known")


class FrameDecoder:
    """Turns a byte stream, in chunks of any size, into frames and errors; keeps partial frames."""

    def __init__(self) -> None:
        self._buffer = b""
        self._in_garbage = False  # a run of garbage split over several reads counts once

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        buffer = self._buffer + data
        out: list[Frame | FrameError] = []
        pos = 0
        size = len(buffer)
        while pos < size:
            start = buffer.find(b"$", pos)
            if start < 0:
                self._garbage(buffer[pos:], out)
                pos = size
                break
            if start > pos:
                self._garbage(buffer[pos:start], out)
            self._in_garbage = False
            end = buffer.find(b"\n", start)
            restart = buffer.find(b"$", start + 1, end if end >= 0 else size)
            if restart >= 0:
                out.append(FrameError("truncated", f"frame cut off after {restart - start} bytes"))
                pos = restart
                continue
            if end < 0:
                if size - start > MAX_FRAME_BYTES:
                    out.append(FrameError("truncated", f"no end of frame within {MAX_FRAME_BYTES} bytes"))
                    pos = size
                else:
                    pos = start
                break
            out.append(self._line(buffer[start + 1 : end].rstrip(b"\r")))
            pos = end + 1
        self._buffer = buffer[pos:]
        return out

    def _garbage(self, chunk: bytes, out: list[Frame | FrameError]) -> None:
        if chunk.strip(b"\r\n") and not self._in_garbage:
            out.append(FrameError("garbage", f"{len(chunk)} bytes outside any frame"))
            self._in_garbage = True

    @staticmethod
    def _line(line: bytes) -> Frame | FrameError:
        body, star, check = line.rpartition(b"*")
        if not star or len(check) != 4:
            return FrameError("truncated", "frame has no '*' and 4-digit checksum")
        try:
            expected = int(check, 16)
        except ValueError:
            return FrameError("checksum", f"checksum {check!r} is not hexadecimal")
        if crc16(body) != expected:
            return FrameError("checksum", f"CRC {crc16(body):04X} computed, {expected:04X} sent")
        if not body.startswith(b"SW"):
            return FrameError("malformed", "frame does not start with 'SW'")
        if not body.startswith(MAGIC + b","):
            return FrameError("version", f"protocol {body.split(b',')[0][:8]!r}; this bridge reads {MAGIC!r}")
        try:
            return parse_body(body)
        except _Malformed as exc:
            return FrameError("malformed", str(exc))
