"""scripts/quickstart.sh installs exactly what the demo needs, from the one list of prerequisites.

A fresh machine has nothing but Debian and python3: the quickstart must install every outside program
the demo then needs (once it needed socat and did not install it). The list lives in
seatwatch/demo/prerequisites.py; here the quickstart and .ci/run are checked to read it, each package on
it is checked to be the Debian package that ships its server, and the simulator is run with no PATH at
all, so it cannot be using any program the list lacks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from seatwatch.demo import prerequisites
from tests.bridge_support import write_site
from tests.conftest import REPO, unavailable

LIST_COMMAND = "python3 -m seatwatch.demo.prerequisites --missing"


def test_quickstart_and_ci_install_the_demo_list() -> None:
    quickstart = (REPO / "scripts" / "quickstart.sh").read_text()
    assert f"mapfile -t need < <({LIST_COMMAND})" in quickstart
    assert 'apt-get install -y -q --no-install-recommends "${need[@]}"' in quickstart
    assert f"mapfile -t need < <({LIST_COMMAND})" in (REPO / ".ci" / "run").read_text()
    # the list prints from a plain python3 in the checkout, before any virtual environment exists
    result = subprocess.run(
        ["python3", "-m", "seatwatch.demo.prerequisites", "--all"], capture_output=True, text=True,
        cwd=REPO, env={"PATH": os.environ["PATH"]}, check=True,
    )  # fmt: skip
    servers = [s.apt_package for s in prerequisites.SERVERS]
    assert result.stdout.split() == servers + [p.apt_package for p in prerequisites.PDF_PACKAGES]
    # with nothing missing it prints nothing, not an empty line (which bash would read as a package "")
    if not prerequisites.missing({}):
        nothing = subprocess.run(
            ["python3", "-m", "seatwatch.demo.prerequisites", "--missing"], capture_output=True, text=True,
            cwd=REPO, env={"PATH": os.environ["PATH"]}, check=True,
        )  # fmt: skip
        assert nothing.stdout == ""


def test_each_listed_package_ships_its_server() -> None:
    if shutil.which("dpkg") is None:
        unavailable("dpkg is not installed (a Debian system is needed to check package contents)")
    for server in prerequisites.SERVERS:
        path = server.binary_path()
        if path is None:
            unavailable(f"{server.binary} is not installed (apt-get install {server.apt_package})")
        owner = subprocess.run(
            ["dpkg", "-S", os.path.realpath(path)], capture_output=True, text=True, check=True
        ).stdout
        assert owner.split(":", 1)[0] == server.apt_package, owner


def test_each_pdf_package_is_seen_as_installed_exactly_when_dpkg_says_so() -> None:
    if shutil.which("dpkg-query") is None:
        unavailable("dpkg-query is not installed (a Debian system is needed to check packages)")
    for package in prerequisites.PDF_PACKAGES:
        status = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package.apt_package], capture_output=True, text=True
        ).stdout
        assert package.present() == (status == "install ok installed"), package.apt_package


def test_the_simulator_needs_no_program_outside_python(tmp_path: Path) -> None:
    site = write_site(tmp_path, "t-nopath", "mqtt://127.0.0.1:1", refs=1, modbus_per_bus=1)
    simulate = subprocess.Popen(
        [sys.executable, "-m", "seatwatch", "simulate", "--site", str(site)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env={"PATH": str(tmp_path / "empty"), "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert simulate.stdout is not None and simulate.stderr is not None
    try:
        ports = [simulate.stdout.readline().strip() for _ in range(5)]
        assert all("\t" in line for line in ports), simulate.stderr.read()
        assert {line.split("\t")[0] for line in ports} == {"ref-0", "nz-0-0", "lx-0-0", "nz-1-0", "lx-1-0"}
    finally:
        simulate.terminate()
        simulate.wait(timeout=20)
