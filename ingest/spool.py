"""The on-disk spool: batches InfluxDB did not take, kept in order until it does.

influxdb-client drops a batch after its last retry (docs/dependencies.md); ingest instead writes the batch
here, fsyncs it, and only then acknowledges its MQTT messages, so a database outage plus a ``kill -9``
loses nothing. One file per batch, named by a growing sequence number, written to a temporary name and
renamed (a crash never leaves half a batch under a real name). The spool is bounded: when it is full the
caller stops acknowledging and the broker holds the rest (its queue limit is raised for that).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

SUFFIX = ".lp"
NOTE_SUFFIX = ".why"  # beside a batch in refused/: InfluxDB's reason, as JSON


class Spool:
    """A FIFO of line-protocol batches in one folder (one folder per ingest client id)."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        folder.mkdir(parents=True, exist_ok=True)
        for leftover in folder.glob("*.tmp"):
            leftover.unlink()
        self._files = sorted(folder.glob(f"*{SUFFIX}"))
        self._sizes = {f: f.stat().st_size for f in self._files}
        self._bytes = sum(self._sizes.values())
        self._next = int(self._files[-1].stem) + 1 if self._files else 0

    def __len__(self) -> int:
        return len(self._files)

    @property
    def stored_bytes(self) -> int:
        """The size of the batches held (not named ``bytes``: in the class body that would shadow the
        builtin the annotations use)."""
        return self._bytes

    def oldest_age_s(self) -> float:
        """Seconds since the oldest spooled batch was written (0 when empty)."""
        if not self._files:
            return 0.0
        try:
            return max(0.0, time.time() - self._files[0].stat().st_mtime)
        except OSError:
            return 0.0

    def has_room(self, size: int) -> bool:
        return self.stored_bytes + size <= self.max_bytes

    def push(self, lines: list[str], note: str | None = None) -> None:
        """Append a batch durably (fsync of the file and of the folder entry).

        Raises OSError (a full disk: ENOSPC) with nothing left behind but what a restart cleans up;
        ``note`` is kept beside the batch (refused/ keeps InfluxDB's reason there) and written first, so
        a batch never lacks its note."""
        body = "\n".join(lines).encode()
        final = self.folder / f"{self._next:016d}{SUFFIX}"
        if note is not None:
            self._write_durably(final.with_suffix(NOTE_SUFFIX), note.encode())
        self._write_durably(final, body)
        directory = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        self._next += 1
        self._files.append(final)
        self._sizes[final] = len(body)
        self._bytes += len(body)

    @staticmethod
    def _write_durably(final: Path, body: bytes) -> None:
        temp = final.with_suffix(".tmp")
        try:
            with open(temp, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, final)
        except OSError:
            temp.unlink(missing_ok=True)
            raise

    def peek(self) -> list[str]:
        """The oldest batch (call only when the spool is not empty)."""
        return self._files[0].read_text(encoding="utf-8").split("\n")

    def pop(self) -> None:
        """Forget the oldest batch once it is in the database."""
        oldest = self._files.pop(0)
        self._bytes -= self._sizes.pop(oldest, 0)
        oldest.unlink(missing_ok=True)
        oldest.with_suffix(NOTE_SUFFIX).unlink(missing_ok=True)

    def note(self) -> str | None:
        """The note kept beside the oldest batch, if any."""
        try:
            return self._files[0].with_suffix(NOTE_SUFFIX).read_text(encoding="utf-8")
        except OSError:
            return None
