"""The bridge's on-disk outbox: every reading is stored here before it is published (docs/design.md principle
2).

SQLite in WAL mode survives ``kill -9`` and power loss with a commit per batch of readings, and keeps the
order in which readings were made (an autoincrement key), so a broker outage of hours delays data but
neither loses nor reorders it. A reading leaves the outbox only when ingest has confirmed that it is
durable (the end-to-end acknowledgement, firmware_bridge/publisher.py) — never on a broker's PUBACK. The
outbox is bounded by row count and age; what the bound throws away is counted in a persistent counter that
the bridge reports in its status, so nothing is dropped silently.

Each outbox file has a random :attr:`Outbox.epoch`, made when it is created: batch ids carry it with their
first and last row id, so a confirmation can only ever delete the rows it names, even after the bridge
restarted, and never rows of a newer file that reuses the same ids.

A full disk makes SQLite raise ``sqlite3.OperationalError`` ("database or disk is full"); the bridge
catches it around :meth:`Outbox.add` and counts what it could not keep (firmware_bridge/command.py).
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL,
                                   payload TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_created ON outbox (created);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Outbox:
    """Readings (JSON objects as text) waiting for the broker's acknowledgement, oldest first.

    Thread-safe: drivers' readings are added from the runner thread while the publisher takes and deletes.
    ``max_rows`` (≈ 12 days of 16 sensors at one reading a second by default) and ``max_age_s`` bound it.
    """

    def __init__(self, path: Path, max_rows: int = 16_000_000, max_age_s: float = 30 * 86400) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_rows = max_rows
        self.max_age_s = max_age_s
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
        self._db.executescript(SCHEMA)
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('epoch', ?)", (secrets.token_hex(4),))
        self.epoch: str = self._db.execute("SELECT value FROM meta WHERE name = 'epoch'").fetchone()[0]

    def add(self, payloads: list[str], now: float | None = None) -> int:
        """Store readings in order; enforce the bounds. Returns how many old readings the bounds dropped."""
        now = time.time() if now is None else now
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT INTO outbox (created, payload) VALUES (?, ?)", [(now, p) for p in payloads]
            )
            dropped = self._db.execute(
                "DELETE FROM outbox WHERE created < ?", (now - self.max_age_s,)
            ).rowcount
            low, high = self._db.execute("SELECT min(id), max(id) FROM outbox").fetchone()
            # ids only grow, so the id span bounds the count and the exact count is needed only near the cap
            excess = self._count() - self.max_rows if low is not None and high - low >= self.max_rows else 0
            if excess > 0:
                dropped += self._db.execute(
                    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?)", (excess,)
                ).rowcount
            if dropped:
                self._db.execute(
                    "INSERT INTO counters VALUES ('dropped', ?) "
                    "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                    (dropped,),
                )
        return dropped

    def take(self, after_id: int, limit: int) -> list[tuple[int, str]]:
        """The oldest ``limit`` readings with an id above ``after_id`` (not yet handed to the client)."""
        with self._lock:
            return self._db.execute(
                "SELECT id, payload FROM outbox WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
            ).fetchall()

    def remove_range(self, first: int, last: int) -> int:
        """Forget rows ``first``..``last`` (a confirmed batch: :meth:`take` hands out consecutive rows, and
        ids only grow, so no other row can lie between them). Returns how many rows were removed."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            return int(
                self._db.execute("DELETE FROM outbox WHERE id BETWEEN ? AND ?", (first, last)).rowcount
            )

    def depth(self) -> int:
        with self._lock:
            return self._count()

    def dropped(self) -> int:
        """Readings thrown away by the bounds since the outbox was created."""
        with self._lock:
            row = self._db.execute("SELECT value FROM counters WHERE name = 'dropped'").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])
