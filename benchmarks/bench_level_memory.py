"""Peak memory of ``seatwatch level`` on long recordings: it must stay bounded whatever the length.

Issue #15's goal: a 3 h, 48 kHz recording measured with a peak resident set under 300 MB (reading the
file whole took 7.19 GB). The script writes 16-bit mono WAV files of the given lengths into a temporary
folder (3 h is 1.04 GB; make sure the disk has room), measures each with the real command in a child
process, prints the child's peak resident set (``os.wait4``'s ``ru_maxrss``, the figure
``/usr/bin/time -v`` reports) and wall time, and deletes the files. Run it as:

    python benchmarks/bench_level_memory.py --minutes 10 180
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FS = 48_000
SENSITIVITY_DB = 123.0


def write_recording(path: Path, minutes: int) -> None:
    """Noise with a 1 kHz tone switched on and off every minute, written a minute at a time."""
    frames = minutes * 60 * FS
    with path.open("wb") as out:
        out.write(b"RIFF" + struct.pack("<I", 36 + 2 * frames) + b"WAVE")
        out.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, FS, 2 * FS, 2, 16))
        out.write(b"data" + struct.pack("<I", 2 * frames))
        rng = np.random.default_rng(0)
        tone = np.sin(2 * np.pi * 1000 * np.arange(60 * FS) / FS)
        for minute in range(minutes):
            x = 0.01 * rng.standard_normal(60 * FS) + 0.05 * (minute % 3) * tone
            out.write(np.round(x * 32767).astype("<i2").tobytes())


def measure(path: Path) -> tuple[float, float, int]:
    """Wall seconds, peak resident set in MB of ``seatwatch level`` on ``path``, and its exit code."""
    start = time.perf_counter()
    command = [sys.executable, "-m", "seatwatch", "level", str(path), "--sensitivity-db", str(SENSITIVITY_DB)]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, child.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, nargs="+", default=[10, 180], help="lengths (default 10 180)")
    args = parser.parse_args()
    print(f"seatwatch level on 48 kHz 16-bit mono WAV; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="seatwatch-level-memory-") as folder:
        for minutes in args.minutes:
            path = Path(folder) / f"{minutes}min.wav"
            write_recording(path, minutes)
            size_gb = path.stat().st_size / 1e9
            wall, peak_mb, code = measure(path)
            path.unlink()
            print(
                f"{minutes:5d} min ({size_gb:.2f} GB): peak resident set {peak_mb:.1f} MB, "
                f"{wall:.0f} s wall ({minutes * 60 / wall:.0f}x real time), exit code {code}"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
