"""A small InfluxQL client for the v1 ``/query`` endpoint.

InfluxQL over ``/query`` is the read path every InfluxDB speaks — 1.x natively, 2.x through its v1
compatibility API (DBRP mappings, token auth) and 3.x Core (docs/dependencies.md) — so the compliance engine,
dashboards tests and tools read through this one client. Standard library only: it must not pull in a
second HTTP stack beside influxdb-client's urllib3.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from seatwatch.core.line_protocol import authorization

CHUNK_ROWS = 20_000
READ_BYTES = 1 << 20


class InfluxQLError(RuntimeError):
    """The server refused a query or could not be reached; the message names the server and the cause."""


@dataclass(frozen=True)
class Series:
    name: str
    tags: dict[str, str]
    columns: list[str]
    values: list[list[Any]]

    def rows(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.values]


class InfluxQLClient:
    def __init__(self, url: str, database: str, token: str | None = None, timeout_s: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self._token = token
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"InfluxQLClient({self.url!r}, {self.database!r})"

    def query(self, q: str, epoch: str = "ms") -> list[Series]:
        """Run one or more ';'-separated statements; returns every series of every statement, in order."""
        return list(self._series(q, epoch, chunked=False))

    def stream(self, q: str, epoch: str = "ms") -> Iterator[Series]:
        """The series of a large answer in chunks of at most :data:`CHUNK_ROWS` rows (``chunked=true``).

        One series may come as several consecutive chunks. Measured on influxd 1.6.7 (docs/compliance.md):
        2 million rows took 6.9 s to produce and 1.5 s to parse as one document, 3.2 s and 1.0 s in
        20,000-row chunks — and memory stays at one chunk whatever the size of the answer.
        """
        return self._series(q, epoch, chunked=True)

    def command(self, q: str) -> None:
        """A statement without results (CREATE DATABASE, DROP ...)."""
        self.query(q)

    def _series(self, q: str, epoch: str, chunked: bool) -> Iterator[Series]:
        for doc in self._documents(q, epoch, chunked):
            if "error" in doc:
                raise InfluxQLError(f"InfluxDB at {self.url}: {doc['error']}")
            for result in doc.get("results", []):
                if "error" in result:
                    raise InfluxQLError(
                        f"InfluxDB at {self.url} refused the query: {result['error']} — {q[:300]}"
                    )
                for s in result.get("series", []):
                    # A series without rows (SHOW DATABASES on an empty server) has no "values" key.
                    yield Series(s.get("name", ""), s.get("tags", {}), s["columns"], s.get("values", []))

    def _documents(self, q: str, epoch: str, chunked: bool) -> Iterator[dict[str, Any]]:
        params: dict[str, str | int] = {"db": self.database, "q": q, "epoch": epoch}
        if chunked:
            params.update(chunked="true", chunk_size=CHUNK_ROWS)
        request = urllib.request.Request(
            f"{self.url}/query", data=urllib.parse.urlencode(params).encode(), method="POST"
        )
        header = authorization(self._token)
        if header:
            request.add_header("Authorization", header)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                if not chunked:
                    yield json.load(response)
                    return
                # influxd writes one JSON document per chunk, one per line. Reading large blocks is a third
                # faster than iterating lines (many small reads through the chunked transfer decoding).
                rest = b""
                while block := response.read(READ_BYTES):
                    *lines, rest = (rest + block).split(b"\n")
                    yield from (json.loads(raw) for raw in lines if raw.strip())
                if rest.strip():
                    yield json.loads(rest)
        except urllib.error.HTTPError as exc:
            body = exc.read()[:500].decode("utf-8", "replace")
            if exc.code == 400:  # a statement influxd cannot parse: say which, like a refused statement
                with contextlib.suppress(ValueError):
                    body = json.loads(body).get("error", body)
                raise InfluxQLError(f"InfluxDB at {self.url} refused the query: {body} — {q[:300]}") from exc
            raise InfluxQLError(f"InfluxDB at {self.url} answered {exc.code}: {body}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise InfluxQLError(f"cannot reach InfluxDB at {self.url}: {exc}") from exc


def quote_ident(name: str) -> str:
    """An InfluxQL identifier in double quotes."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_string(value: str) -> str:
    """An InfluxQL string literal in single quotes."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
