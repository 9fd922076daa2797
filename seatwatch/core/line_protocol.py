"""InfluxDB line protocol, and the plain v1 ``/write`` call every InfluxDB accepts.

Line protocol is the one write format of InfluxDB 1.x, 2.x and 3.x, and ``/write?db=`` the one endpoint
they share (docs/dependencies.md). Ingest batches, retries and spools on top of :func:`write_v1`; the
compliance engine and the calibration command write their few points with it directly.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping


class WriteError(RuntimeError):
    """A write that did not store the batch, with what InfluxDB's answer means for it (:attr:`kind`).

    ``status`` is the HTTP status (None: no answer at all) and ``detail`` InfluxDB's own words. Kinds:

    - ``unreachable`` — no answer, a timeout, 5xx or 429: the server is down or busy; retry later;
    - ``missing_database`` — 404 "database not found": create it (Telegraf does) or wait until someone does;
    - ``unauthorized`` — 401/403: wrong or missing credentials; nothing stored until they are fixed;
    - ``bad_data`` — 400: InfluxDB refused points of the batch as invalid (parse error, field type
      conflict, partial write); split the batch to find them;
    - ``too_large`` — 413: the body exceeds the server's limit; split the batch;
    - ``refused`` — any other answer: unexpected, so kept and retried rather than thrown away.
    """

    def __init__(self, message: str, retryable: bool, status: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.detail = detail

    @property
    def kind(self) -> str:
        status, detail = self.status, self.detail.lower()
        if status is None or status >= 500 or status == 429:
            return "unreachable"
        if status == 404 and "database not found" in detail:
            return "missing_database"
        if status in (401, 403):
            return "unauthorized"
        if status == 400:
            return "bad_data"
        if status == 413:
            return "too_large"
        return "refused"


def http_error(url: str, status: int, body: bytes, what: str = "the write") -> WriteError:
    """The :class:`WriteError` for an HTTP error answer of InfluxDB (1.x answers ``{"error": "..."}``)."""
    detail = body[:500].decode("utf-8", "replace")
    with contextlib.suppress(ValueError, AttributeError):
        detail = str(json.loads(detail).get("error", detail))
    # Only a refusal of the data itself (400, 413) can never succeed with the same body.
    return WriteError(
        f"InfluxDB at {url} refused {what} ({status}): {detail}", status not in (400, 413), status, detail
    )


def authorization(token: str | None) -> str | None:
    """The ``Authorization`` header for an InfluxDB credential, or None without one.

    ``user:password`` (InfluxDB 1.x users) goes as HTTP basic auth, which every 1.x accepts — influxd 1.6.7
    answers the ``Token user:password`` form with 401 "unable to parse authentication credentials" (that
    form arrived in 1.8). Anything else is an API token (2.x, 3.x), which goes as ``Token``: those
    tokens never contain a colon.
    """
    if not token:
        return None
    if ":" in token:
        return "Basic " + base64.b64encode(token.encode()).decode()
    return f"Token {token}"


@functools.lru_cache(maxsize=4096)  # tag values and field keys repeat on every point: ingest's hot path
def _escape_key(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _escape_measurement(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(" ", "\\ ")


def field_value(value: float | int | bool | str) -> str:
    """A field value as line protocol writes it (``1.5``, ``3i``, ``true``, ``"text"`` escaped)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"field value {value} is not finite")
        return repr(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def series_key(measurement: str, tags: Mapping[str, str]) -> str:
    """``measurement,tag=value,...`` escaped, tags sorted (InfluxDB prefers it), empty tags left out.

    Ingest writes every point of a sensor's series with the same key, so it builds it once (:func:`point`).
    """
    tag_part = "".join(
        f",{_escape_key(k)}={_escape_key(v)}" for k, v in sorted(tags.items()) if v is not None and v != ""
    )
    return f"{_escape_measurement(measurement)}{tag_part}"


def point(series: str, fields: Mapping[str, float | int | bool | str | None], ts_ns: int) -> str:
    """One point of a series made by :func:`series_key`. ``None`` fields are left out."""
    field_part = ",".join(f"{_escape_key(k)}={field_value(v)}" for k, v in fields.items() if v is not None)
    if not field_part:
        raise ValueError(f"point in {series.split(',', 1)[0]!r} has no fields")
    return f"{series} {field_part} {ts_ns}"


def line(
    measurement: str,
    tags: Mapping[str, str],
    fields: Mapping[str, float | int | bool | str | None],
    ts_ns: int,
) -> str:
    """One point. Tags are sorted (InfluxDB prefers it); ``None`` fields and empty tags are left out."""
    return point(series_key(measurement, tags), fields, ts_ns)


def write_v1(
    url: str,
    database: str,
    lines: Iterable[str],
    token: str | None = None,
    timeout_s: float = 30.0,
    retention_policy: str | None = None,
) -> None:
    """POST lines to ``/write?db=...&precision=ns``; raises :class:`WriteError` on any failure."""
    body = "\n".join(lines).encode()
    if not body:
        return
    params = {"db": database, "precision": "ns"}
    if retention_policy:
        params["rp"] = retention_policy
    request = urllib.request.Request(
        f"{url.rstrip('/')}/write?{urllib.parse.urlencode(params)}", data=body, method="POST"
    )
    header = authorization(token)
    if header:
        request.add_header("Authorization", header)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise http_error(url, exc.code, exc.read()) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise WriteError(f"cannot reach InfluxDB at {url}: {exc}", True) from exc


def create_database(url: str, database: str, token: str | None = None, timeout_s: float = 30.0) -> None:
    """``CREATE DATABASE`` over v1 ``/query`` (idempotent in InfluxDB 1.x); raises :class:`WriteError`."""
    name = database.replace("\\", "\\\\").replace('"', '\\"')
    body = urllib.parse.urlencode({"q": f'CREATE DATABASE "{name}"'}).encode()
    request = urllib.request.Request(f"{url.rstrip('/')}/query", data=body, method="POST")
    header = authorization(token)
    if header:
        request.add_header("Authorization", header)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as exc:
        raise http_error(url, exc.code, exc.read(), f"to create database {database!r}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise WriteError(f"cannot reach InfluxDB at {url}: {exc}", True) from exc
    for result in answer.get("results", []):
        if "error" in result:  # e.g. "requires admin privilege" answered with 200
            raise WriteError(
                f"InfluxDB at {url} refused to create database {database!r}: {result['error']}",
                True,
                403,
                str(result["error"]),
            )
