"""The reference serial protocol: encoder and decoder agree, and no byte sequence breaks the decoder."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.protocol import (
    ERROR_REASONS,
    FrameDecoder,
    FrameError,
    HelloFrame,
    LevelsFrame,
    crc16,
    encode_hello,
    encode_levels,
)


def test_crc16_is_ccitt_false() -> None:
    assert crc16(b"123456789") == 0x29B1  # the catalogue check value of CRC-16/CCITT-FALSE


def test_levels_frame_round_trip_in_any_chunking() -> None:
    frame = encode_levels(41, 1000, 52.34, 60.2, 45.0, 412.0)
    assert frame.startswith(b"$SW1,L,41,1000,52.3,60.2,45.0,412.0*") and frame.endswith(b"\r\n")
    expected = LevelsFrame(41, 1000, 52.3, 60.2, 45.0, 412.0)
    for size in (1, 3, len(frame)):
        decoder = FrameDecoder()
        out = [item for i in range(0, len(frame), size) for item in decoder.feed(frame[i : i + size])]
        assert out == [expected]


def test_missing_quantities_and_hello() -> None:
    decoder = FrameDecoder()
    out = decoder.feed(encode_hello("ref-7", "1.2.0") + encode_levels(0, 1000, None, None, None, 300.5))
    assert out == [HelloFrame("ref-7", "1.2.0", "levels"), LevelsFrame(0, 1000, None, None, None, 300.5)]


def test_each_kind_of_damage_is_named_and_the_next_frame_still_decodes() -> None:
    good = encode_levels(1, 1000, 50.0, 55.0, 45.0, 400.0)
    bad_crc = good.replace(b"50.0", b"51.0")
    cases = {
        b"\x00\xffnoise": "garbage",
        good[:20]: "truncated",  # cut off by the next frame's '$'
        bad_crc: "checksum",
        encode_levels(1, 1000, 50.0, 45.0, 55.0, 1.0): "malformed",  # lafmin above lafmax
        b"$SW2,L,1*" + b"%04X" % crc16(b"SW2,L,1") + b"\r\n": "version",
        encode_levels(1, 1000, 200.0, 200.0, 200.0, 1.0): "malformed",  # beyond any microphone
    }
    for damage, reason in cases.items():
        out = FrameDecoder().feed(damage + good)
        assert [e.reason for e in out if isinstance(e, FrameError)] == [reason], damage
        assert out[-1] == LevelsFrame(1, 1000, 50.0, 55.0, 45.0, 400.0)


def test_an_endless_line_is_dropped_not_buffered() -> None:
    decoder = FrameDecoder()
    out = decoder.feed(b"$" + b"9" * 1000)
    assert len(out) == 1 and isinstance(out[0], FrameError) and out[0].reason == "truncated"
    assert decoder.feed(encode_levels(2, 1000, 40.0, None, None, None)) == [
        LevelsFrame(2, 1000, 40.0, None, None, None)
    ]


levels = st.one_of(st.none(), st.floats(0, 160, allow_nan=False).map(lambda v: round(v, 1)))
frames = st.builds(
    lambda seq, interval, laeq, lux: encode_levels(seq, interval, laeq, laeq, laeq, lux),
    st.integers(0, 2**32 - 1),
    st.integers(100, 60_000),
    levels,
    st.one_of(st.none(), st.floats(0, 200_000, allow_nan=False).map(lambda v: round(v, 1))),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(frames, st.binary(max_size=80)), max_size=20), st.integers(1, 64))
def test_fuzz_decoder_never_raises_and_keeps_every_frame_after_clean_garbage(chunks, size) -> None:
    stream = b"".join(chunks)
    decoder = FrameDecoder()
    out = [item for i in range(0, len(stream), size) for item in decoder.feed(stream[i : i + size])]
    assert all(isinstance(x, LevelsFrame | HelloFrame | FrameError) for x in out)
    assert all(x.reason in ERROR_REASONS for x in out if isinstance(x, FrameError))
    # A frame preceded by garbage without '$' or an unfinished line is always recovered.
    clean = [c for c in chunks if c.startswith(b"$SW1,L")]
    if all(c.startswith(b"$SW1,L") or (b"$" not in c and c.endswith(b"\n")) for c in chunks):
        assert sum(isinstance(x, LevelsFrame) for x in out) == len(clean)


@settings(max_examples=200, deadline=None)
@given(frames, st.integers(0, 200), st.integers(0, 255))
def test_fuzz_a_flipped_byte_is_never_a_wrong_reading(frame, position, value) -> None:
    damaged = bytearray(frame)
    position %= len(frame) - 2  # leave the line end, so the damage stays inside the frame
    damaged[position] = value
    out = FrameDecoder().feed(bytes(damaged))
    if bytes(damaged) != frame:
        assert not any(isinstance(x, LevelsFrame) for x in out) or out == FrameDecoder().feed(frame)


def test_the_examples_in_hardware_protocol_md() -> None:
    text = (Path(__file__).resolve().parent.parent / "hardware" / "PROTOCOL.md").read_text()
    assert encode_hello("ref-001", "1.0.0").decode().strip() in text
    assert encode_levels(41, 1000, 52.3, 60.2, 45.0, 412.0).decode().strip() in text
