"""A small InfluxQL client for the v1 ``/query`` endpoint.

InfluxQL over ``/query`` is the read path every InfluxDB speaks — 1.x natively, 2.x through its v1
compatibility API (DBRP mappings, token auth) and 3.x Core (DEPENDENCIES.md) — so the compliance engine,
dashboards tests and tools read through this one client. Standard library only: it must not pull in a
second HTTP stack beside influxdb-client's urllib3.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any


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
        results = self._post(q, epoch)
        out: list[Series] = []
        for result in results:
            if "error" in result:
                raise InfluxQLError(
                    f"InfluxDB at {self.url} refused the query: {result['error']} — {q[:300]}"
                )
            for s in result.get("series", []):
                out.append(Series(s.get("name", ""), s.get("tags", {}), s["columns"], s["values"]))
        return out

    def command(self, q: str) -> None:
        """A statement without results (CREATE DATABASE, DROP ...)."""
        self.query(q)

    def _post(self, q: str, epoch: str) -> list[dict[str, Any]]:
        data = urllib.parse.urlencode({"db": self.database, "q": q, "epoch": epoch}).encode()
        request = urllib.request.Request(f"{self.url}/query", data=data, method="POST")
        if self._token:
            request.add_header("Authorization", f"Token {self._token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                doc = json.load(response)
        except urllib.error.HTTPError as exc:
            body = exc.read()[:500].decode("utf-8", "replace")
            raise InfluxQLError(f"InfluxDB at {self.url} answered {exc.code}: {body}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise InfluxQLError(f"cannot reach InfluxDB at {self.url}: {exc}") from exc
        if "error" in doc:
            raise InfluxQLError(f"InfluxDB at {self.url}: {doc['error']}")
        return doc.get("results", [])


def quote_ident(name: str) -> str:
    """An InfluxQL identifier in double quotes."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_string(value: str) -> str:
    """An InfluxQL string literal in single quotes."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
