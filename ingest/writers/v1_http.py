"""The v1 ``/write`` writer: InfluxDB 1.x (and anything else that speaks ``/write?db=``)."""

from __future__ import annotations

from seatwatch.core.line_protocol import create_database, write_v1


class V1HttpWriter:
    """A thin, stateless wrapper so the v1 path has the same shape as the v2 one."""

    def __init__(self, url: str, database: str, token: str | None, timeout_s: float = 30.0) -> None:
        self.url = url
        self.database = database
        self._token = token
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"V1HttpWriter({self.url!r}, {self.database!r})"

    @property
    def user(self) -> str | None:
        """The InfluxDB 1.x user we write as (for messages; never the password)."""
        return self._token.split(":", 1)[0] if self._token and ":" in self._token else None

    def write(self, lines: list[str]) -> None:
        write_v1(self.url, self.database, lines, token=self._token, timeout_s=self.timeout_s)

    def create_database(self) -> None:
        """``CREATE DATABASE`` (a no-op when it exists); raises WriteError when not permitted."""
        create_database(self.url, self.database, token=self._token, timeout_s=self.timeout_s)

    def close(self) -> None:
        """Nothing to release: every write is one HTTP request."""
