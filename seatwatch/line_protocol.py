"""InfluxDB line protocol, and the plain v1 ``/write`` call every InfluxDB accepts.

Line protocol is the one write format of InfluxDB 1.x, 2.x and 3.x, and ``/write?db=`` the one endpoint
they share (DEPENDENCIES.md). Ingest batches, retries and spools on top of :func:`write_v1`; the compliance
engine and the calibration command write their few points with it directly.
"""

from __future__ import annotations

import functools
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping


class WriteError(RuntimeError):
    """A write was refused or the server was unreachable. ``retryable`` is False for a 4xx answer."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


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
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:500].decode("utf-8", "replace")
        # 4xx: the data or the credentials are wrong; retrying the same body cannot help.
        raise WriteError(
            f"InfluxDB at {url} refused the write ({exc.code}): {detail}", exc.code >= 500
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise WriteError(f"cannot reach InfluxDB at {url}: {exc}", True) from exc
