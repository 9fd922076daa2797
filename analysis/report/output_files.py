"""The report folder and its files, private as docs/security.md promises: folder 0750, files 0640.

A compliance report names seats and what was measured at them; it is for the facilities team and the
auditors, not for every account on the server. Modes are set explicitly, not left to the umask, so a
report written by a service with umask 022 is as private as one written from a locked-down shell.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

FOLDER_MODE = 0o750
FILE_MODE = 0o640


def prepare_folder(out: Path) -> str | None:
    """Create ``out`` with mode 0750 (its parents as the umask says), or check an existing one. Returns a
    warning when an existing folder can be read or entered by every account; its mode is left alone."""
    if not out.exists():
        out.mkdir(parents=True, mode=FOLDER_MODE)
        os.chmod(out, FOLDER_MODE)
        return None
    mode = stat.S_IMODE(out.stat().st_mode)
    if mode & 0o007:
        return (
            f"{out} has mode {mode:04o}: other accounts can read the report; "
            f"use a folder with mode {FOLDER_MODE:04o} (docs/security.md)"
        )
    return None


def _open(path: Path) -> int:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # an existing file keeps its old mode through O_CREAT; set it
    return fd


@contextmanager
def private_file(path: Path, encoding: str = "utf-8-sig") -> Iterator[IO[str]]:
    """A text file of mode 0640; ``utf-8-sig`` (the default, for CSV) writes the byte-order mark."""
    with open(_open(path), "w", encoding=encoding, newline="") as f:
        yield f


def write_private_bytes(path: Path, data: bytes) -> None:
    with open(_open(path), "wb") as f:
        f.write(data)
