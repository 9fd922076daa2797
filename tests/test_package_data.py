"""A plain ``pip install .`` ships every file the commands read: the example site, profiles, styles.

``seatwatch demo`` after a non-editable install failed: examples/site.toml was not in the wheel. Here the
wheel is built from the tracked files and compared with the tree: each non-Python file under a package is
in it, and the example site arrives as a real file with the checkout's bytes (in the tree it is a link).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("seatwatch", "firmware_bridge", "ingest", "analysis", "dashboards")

pytestmark = pytest.mark.slow


def test_the_wheel_holds_every_data_file_and_the_example_site(tmp_path: Path) -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    source = tmp_path / "src"
    for name in tracked:  # the tracked tree only: nothing a developer has lying around
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        path = REPO / name
        if path.is_symlink():
            target.symlink_to(path.readlink())
        elif path.is_file():
            shutil.copy2(path, target)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
         str(tmp_path / "dist"), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    [wheel] = (tmp_path / "dist").glob("seatwatch-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
        example = archive.read("seatwatch/demo/example_site.toml")
    data = [n for n in tracked if n.startswith(PACKAGES) and "/" in n and not n.endswith(".py")]
    assert data and not [n for n in data if n not in shipped]
    assert example == (REPO / "examples" / "site.toml").read_bytes()
