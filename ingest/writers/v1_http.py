"""The v1 ``/write`` writer: InfluxDB 1.x (and anything else that speaks ``/write?db=``)."""

from __future__ import annotations

from seatwatch.line_protocol import write_v1


class V1HttpWriter:
    """A thin, stateless wrapper so the v1 path has the same shape as the v2 one."""

    def __init__(self, url: str, database: str, token: str | None, timeout_s: float = 30.0) -> None:
        self.url = url
        self.database = database
        self._token = token
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"V1HttpWriter({self.url!r}, {self.database!r})"

    def write(self, lines: list[str]) -> None:
        write_v1(self.url, self.database, lines, token=self._token, timeout_s=self.timeout_s)

    def close(self) -> None:
        """Nothing to release: every write is one HTTP request."""
