"""The meter's compiled loops work where numba cannot cache them (seatwatch.core.acoustics.compiled)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pytest

from seatwatch.core.acoustics.compiled import compiled
from seatwatch.core.acoustics.meter import SoundLevelMeter

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "def twice(x):\n    return 2.0 * x\n"

# Measures one second of noise with the meter and prints where the package came from and LAeq.
MEASURE = """
import numpy as np, seatwatch
from seatwatch.core.acoustics.meter import SoundLevelMeter
x = (0.05 * np.random.default_rng(1).standard_normal(48000)).astype(np.float32)
print(seatwatch.__file__)
print(repr(SoundLevelMeter(48000, 120.0).process(x)[0].laeq))
"""


def test_a_function_with_no_cache_location_still_compiles() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(SOURCE, "<no file>", "exec"), namespace)  # no source file: numba has nowhere to cache
    with pytest.raises(RuntimeError, match="no locator available"):
        numba.njit(cache=True)(namespace["twice"])(1.0)
    assert compiled(namespace["twice"])(1.5) == 3.0


def test_meter_runs_from_an_install_where_no_cache_can_be_written(tmp_path: Path) -> None:
    # A read-only install, as root (who may write anywhere) can still meet it: every place numba looks
    # for a cache is made impossible — NUMBA_CACHE_DIR and the user's cache dir under /dev/null, and a
    # plain file where the in-tree __pycache__ folder would go.
    shutil.copytree(ROOT / "seatwatch", tmp_path / "seatwatch", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "seatwatch" / "core" / "acoustics" / "__pycache__").write_text("not a folder")
    blocked = "/dev/null/numba-cache"
    env = os.environ | {
        "PYTHONPATH": str(tmp_path),
        "PYTHONDONTWRITEBYTECODE": "1",
        "NUMBA_CACHE_DIR": blocked,
        "HOME": "/dev/null",
        "XDG_CACHE_HOME": blocked,
    }
    done = subprocess.run(
        [sys.executable, "-c", MEASURE], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    where, laeq = done.stdout.split()
    assert Path(where).is_relative_to(tmp_path)  # the copy ran, not the checkout
    x = (0.05 * np.random.default_rng(1).standard_normal(48000)).astype(np.float32)
    assert float(laeq) == SoundLevelMeter(48000, 120.0).process(x)[0].laeq
    assert not list(tmp_path.rglob("*.nbi"))  # and nothing was cached
