"""Read a WAV recording block by block as float32 samples in full-scale units, refusing what would give
wrong levels.

Full scale follows the sensitivity convention of ``seatwatch level``: integer samples are divided by
2^(bits−1), so they lie in [−1, 1) and a full-scale-RMS signal is 1.0; float files are taken as they are.
Supported: 8/16/24/32-bit PCM and 32/64-bit IEEE float, plain or WAVE_FORMAT_EXTENSIBLE, in RIFF or —
for recordings over 4 GB, such as 12 h at 48 kHz in 16 bit — RF64/BW64 (EBU Tech 3306: a ``ds64`` chunk
holds the 64-bit data size, and the data chunk's 32-bit size reads 0xFFFFFFFF).

Why a RIFF parser of its own rather than ``scipy.io.wavfile``: scipy reads the whole file into memory
(a 3 h 48 kHz recording took 7 GB through the meter), crashes with a traceback on a truncated header
(``struct.error``) or a zero channel count (``ZeroDivisionError``), and only warns — a warning easily lost
— when the data chunk claims more than the file holds. Python's ``wave`` module reads no float files.
Every check this module makes is on the header, so reading it here costs little and names each fault.

A truncated data chunk (the file ends before the size its header claims, as when a recorder lost power
or a copy was cut short) is refused by default, with the seconds that are present: levels of a part are
easily taken for levels of the whole, and the period a report covers would be wrong.
``allow_truncated=True`` measures the samples present instead, and :attr:`WavStream.missing_s` says how
much is missing so the caller can warn.

Clipping is refused too, because a clipped recording understates every level it contains. It is found by
counting, in each 100 ms of the recording, the samples at the rails (the largest or smallest code; |x| ≥
1.0 for float) that have a neighbour there too. An unclipped full-scale sine spends (2/π)·arccos(1 − 1/code)
of its time at a rail — 0.5 % at 16 bit, 0.03 % at 24 bit, whatever its frequency, so a slow one sits there
for several samples in a row — while a sine clipped by only 0.05 dB spends 7 % there. More than
``CLIP_FRACTION`` (1 %, or twice the unclipped sine's share for 8-bit files) in any 100 ms is clipping.
Lone samples at a rail are not counted: a tone at a simple fraction of the sample rate can land a
sample on every peak (a full-scale 1 kHz tone at 48 kHz: 2 % of its samples) without clipping. The price:
a tone above a few kHz clipped by less than 3–6 dB holds the rail for under two samples per peak, and
is told from an unclipped one only where its clipped peaks do span two samples.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

CLIP_FRACTION = 0.01
CLIP_WINDOW_S = 0.1

_PCM, _FLOAT, _EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
_RF64_SIZE = 0xFFFFFFFF
_PCM_BITS = (8, 16, 24, 32)
_FLOAT_BITS = (32, 64)


class WavError(ValueError):
    """The file cannot be measured; the message names the file and what is wrong with it."""


@dataclass(frozen=True)
class WavAudio:
    """One channel of a whole recording in full-scale units (float32)."""

    samples: np.ndarray
    fs: int
    channels: int
    sample_format: str

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.fs


@dataclass(frozen=True)
class _Format:
    tag: int
    channels: int
    fs: int
    bits: int

    @property
    def name(self) -> str:
        return f"float{self.bits}" if self.tag == _FLOAT else f"int{self.bits}" if self.bits > 8 else "uint8"

    @property
    def frame_bytes(self) -> int:
        return self.channels * self.bits // 8

    @property
    def floor_db(self) -> float:
        """How far below full scale a level can still be measured: the quantisation noise of the format,
        −(bits−1)·6.02 − 10.8 dB (8 bit −52.9, 16 bit −101.1), rounded to 50/100 dB; 24-bit, 32-bit and
        float files are held to 140 dB, where the meter's float32 arithmetic ends."""
        return {8: 50.0, 16: 100.0}.get(self.bits if self.tag == _PCM else 0, 140.0)


def _chunk_header(f: BinaryIO, path: Path, offset: int, size: int) -> tuple[bytes, int] | None:
    """The (id, size) of the chunk at ``offset``, None at the end of the file."""
    if offset + 8 > size:
        if offset < size:
            raise WavError(f"{path}: truncated chunk header at byte {offset} (the file ends at {size})")
        return None
    f.seek(offset)
    chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
    return chunk_id, chunk_size


def _parse_format(path: Path, body: bytes) -> _Format:
    if len(body) < 16:
        raise WavError(f"{path}: truncated fmt chunk ({len(body)} bytes, a fmt chunk has at least 16)")
    tag, channels, fs, _byte_rate, block_align, bits = struct.unpack("<HHIIHH", body[:16])
    if tag == _EXTENSIBLE:
        if len(body) < 26:
            raise WavError(f"{path}: WAVE_FORMAT_EXTENSIBLE fmt chunk too short ({len(body)} bytes)")
        tag = struct.unpack("<H", body[24:26])[0]  # the first two bytes of the sub-format GUID
    if tag not in (_PCM, _FLOAT) or bits not in (_PCM_BITS if tag == _PCM else _FLOAT_BITS):
        kind = {_PCM: "PCM", _FLOAT: "float"}.get(tag, f"format tag 0x{tag:04X}")
        raise WavError(
            f"{path}: unsupported sample format ({kind}, {bits} bits); "
            "8/16/24/32-bit PCM or 32/64-bit float is needed"
        )
    if channels == 0:
        raise WavError(f"{path}: fmt chunk says the file has zero channels")
    if fs == 0:
        raise WavError(f"{path}: fmt chunk says the sample rate is 0 Hz")
    found = _Format(tag, channels, fs, bits)
    if block_align != found.frame_bytes:
        raise WavError(
            f"{path}: fmt chunk is inconsistent: block align {block_align} bytes, but {channels} channel(s) "
            f"of {bits} bits need {found.frame_bytes}"
        )
    return found


class WavStream:
    """An open WAV file: header checked on opening, one channel read in blocks by :meth:`blocks`.

    Use as a context manager. ``channel`` (0-based) is required for a multi-channel file.
    """

    def __init__(self, path: str | Path, channel: int | None = None, allow_truncated: bool = False) -> None:
        self.path = Path(path)
        try:
            self._file: BinaryIO = self.path.open("rb")
        except FileNotFoundError:
            raise WavError(f"{path}: no such file") from None
        except OSError as error:
            raise WavError(f"{path}: cannot be read ({error.strerror})") from None
        try:
            self._open(channel, allow_truncated)
        except BaseException:
            self._file.close()
            raise

    def _open(self, channel: int | None, allow_truncated: bool) -> None:
        f, path = self._file, self.path
        size = f.seek(0, 2)
        f.seek(0)
        head = f.read(12)
        if len(head) < 12:
            raise WavError(f"{path}: not a readable WAV file (truncated header: {size} bytes)")
        if head[:4] not in (b"RIFF", b"RF64", b"BW64") or head[8:12] != b"WAVE":
            raise WavError(f"{path}: not a readable WAV file (it does not start with RIFF…WAVE)")
        offset, fmt, data_size_64 = 12, None, None
        while (header := _chunk_header(f, path, offset, size)) is not None:
            chunk_id, chunk_size = header
            if chunk_id == b"data":
                if chunk_size == _RF64_SIZE and data_size_64 is not None:
                    chunk_size = data_size_64
                break
            if offset + 8 + chunk_size > size:
                name = chunk_id.decode("latin-1")
                raise WavError(f"{path}: truncated {name!r} chunk at byte {offset}")
            if chunk_id == b"fmt ":
                fmt = _parse_format(path, f.read(chunk_size))
            elif chunk_id == b"ds64" and head[:4] != b"RIFF":
                if chunk_size < 16:
                    raise WavError(f"{path}: ds64 chunk too short ({chunk_size} bytes, needs 16)")
                data_size_64 = struct.unpack("<QQ", f.read(16))[1]  # after the 64-bit RIFF size
            offset += 8 + chunk_size + (chunk_size & 1)  # chunks are padded to an even size
        else:
            raise WavError(f"{path}: no data chunk (the file holds no audio)")
        if fmt is None:
            raise WavError(f"{path}: no fmt chunk before the data chunk")
        self.fs, self.channels, self.sample_format = fmt.fs, fmt.channels, fmt.name
        self._format = fmt
        if channel is None and fmt.channels > 1:
            raise WavError(f"{path}: has {fmt.channels} channels; choose one")
        self._channel = channel or 0
        if not 0 <= self._channel < fmt.channels:
            raise WavError(f"{path}: has {fmt.channels} channel(s), there is no channel {self._channel + 1}")
        self._data_offset = offset + 8
        claimed = chunk_size // fmt.frame_bytes
        self.frames = min(claimed, (size - self._data_offset) // fmt.frame_bytes)
        self.missing_s = (claimed - self.frames) / fmt.fs
        if self.frames == 0:
            raise WavError(f"{path}: contains no samples")
        if self.missing_s > 0 and not allow_truncated:
            raise WavError(
                f"{path}: truncated — its header claims {claimed / fmt.fs:.3f} s of audio but the file holds "
                f"{self.duration_s:.3f} s; measure the part present with --allow-truncated"
            )

    @property
    def duration_s(self) -> float:
        return self.frames / self.fs

    @property
    def floor_db(self) -> float:
        """Levels more than this far below full scale are below this file's measurable range."""
        return self._format.floor_db

    def __enter__(self) -> WavStream:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._file.close()

    def blocks(self, seconds: float = 1.0) -> Iterator[np.ndarray]:
        """The chosen channel in consecutive blocks of ``seconds`` (a whole number of 100 ms windows), in
        full-scale units; raises :class:`WavError` at the first NaN/infinite or clipped 100 ms."""
        window = max(round(CLIP_WINDOW_S * self.fs), 1)
        step = max(round(seconds / CLIP_WINDOW_S), 1) * window
        self._file.seek(self._data_offset)
        for start in range(0, self.frames, step):
            count = min(step, self.frames - start)
            raw = self._file.read(count * self._format.frame_bytes)
            samples = self._decode(raw, count)
            if not np.all(np.isfinite(samples)):
                at = (start + int(np.argmax(~np.isfinite(samples)))) / self.fs
                raise WavError(f"{self.path}: contains NaN or infinite samples (the first at {at:.3f} s)")
            self._refuse_clipping(samples, start, window)
            yield samples

    def _decode(self, raw: bytes, count: int) -> np.ndarray:
        fmt = self._format
        if fmt.bits == 24:  # three little-endian bytes, left-justified into int32
            triples = np.frombuffer(raw, np.uint8).reshape(count, fmt.channels, 3)[:, self._channel]
            codes = np.zeros((count, 4), np.uint8)
            codes[:, 1:] = triples
            return (codes.view("<i4")[:, 0] / 2.0**31).astype(np.float32)
        dtype = {8: "u1", 16: "<i2", 32: "<i4" if fmt.tag == _PCM else "<f4", 64: "<f8"}[fmt.bits]
        column = np.frombuffer(raw, dtype).reshape(count, fmt.channels)[:, self._channel]
        if fmt.tag == _FLOAT:
            with np.errstate(over="ignore"):  # a float64 beyond float32's range is caught as infinite
                return column.astype(np.float32)
        if fmt.bits == 8:
            return ((column.astype(np.float32) - 128.0) / 128.0).astype(np.float32)
        return (column / 2.0 ** (fmt.bits - 1)).astype(np.float32)

    def _refuse_clipping(self, samples: np.ndarray, start: int, window: int) -> None:
        if self._format.tag == _FLOAT:
            at_rails = np.abs(samples) >= 1.0
        else:  # the largest and the smallest code, exactly representable in float32 after scaling
            top = 1.0 - 2.0 ** (1 - self._format.bits)
            at_rails = (samples >= np.float32(top)) | (samples <= -1.0)
        if not at_rails.any():
            return
        neighbour = np.zeros_like(at_rails)
        neighbour[1:] |= at_rails[:-1]
        neighbour[:-1] |= at_rails[1:]
        at_rails &= neighbour
        windows = -(-samples.size // window)
        padded = np.zeros(windows * window, bool)
        padded[: samples.size] = at_rails
        counts = padded.reshape(windows, window).sum(axis=1)
        worst = int(np.argmax(counts))
        limit = _clip_limit(self._format.bits)
        if counts[worst] > limit * window:
            at = (start + worst * window) / self.fs
            raise WavError(
                f"{self.path}: clipped — {int(counts[worst])} of the {window} samples from {at:.3f} s are at "
                f"full scale (more than {100 * limit:.1f} %); record again with less gain"
            )


def _clip_limit(bits: int) -> float:
    """Largest share of a 100 ms window that may sit at the rails: twice what an unclipped full-scale sine
    puts there, and at least ``CLIP_FRACTION``."""
    top_code = 2.0 ** (bits - 1) - 1.0
    return max(CLIP_FRACTION, 2.0 * (2.0 / math.pi) * math.acos(1.0 - 1.0 / top_code))


def read_wav(path: str | Path, channel: int | None = None) -> WavAudio:
    """The whole of one channel (for short recordings such as a calibrator's); refuses what the stream
    refuses, including truncation."""
    with WavStream(path, channel) as stream:
        samples = np.concatenate(list(stream.blocks()))
        return WavAudio(samples, stream.fs, stream.channels, stream.sample_format)
