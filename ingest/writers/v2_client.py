"""The v2 API writer through influxdb-client: InfluxDB 2.x, 3.x, 1.8+ (and VictoriaMetrics).

The client is used in SYNCHRONOUS mode on purpose: its batching mode drops a batch after the last retry
and its ``flush()`` does nothing (docs/dependencies.md). Batching, retries and the spool are ingest's own;
this class only turns the client's exceptions into :class:`WriteError` with the retryable flag ingest needs.
"""

from __future__ import annotations

from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError as Urllib3Error

from seatwatch.core.line_protocol import WriteError, http_error


class V2ClientWriter:
    def __init__(self, url: str, bucket: str, org: str, token: str | None, timeout_s: float = 30.0) -> None:
        self.url = url
        self.bucket = bucket
        self.org = org
        # An empty token is what InfluxDB 1.8 without auth and VictoriaMetrics accept.
        self._client = InfluxDBClient(url=url, token=token or "", org=org, timeout=int(timeout_s * 1000))
        self._api = self._client.write_api(write_options=SYNCHRONOUS)

    def __repr__(self) -> str:
        return f"V2ClientWriter({self.url!r}, bucket={self.bucket!r}, org={self.org!r})"

    def write(self, lines: list[str]) -> None:
        try:
            # influxdb-client annotates write_precision as WritePrecision, whose members are plain str
            self._api.write(
                self.bucket, self.org, "\n".join(lines), write_precision=WritePrecision.NS  # type: ignore[arg-type]
            )
        except ApiException as exc:
            if not exc.status:
                raise WriteError(f"cannot reach InfluxDB at {self.url}: {exc.reason}", True) from exc
            body = exc.body if isinstance(exc.body, bytes) else str(exc.body or exc.reason or "").encode()
            raise http_error(self.url, exc.status, body) from exc
        except (Urllib3Error, OSError) as exc:
            raise WriteError(f"cannot reach InfluxDB at {self.url}: {exc}", True) from exc

    @property
    def user(self) -> str | None:
        """Token authentication has no user name to show."""
        return None

    def create_database(self) -> None:
        """A v2 bucket needs an organisation's rights and a retention choice: never created behind the
        operator's back. Raises, so ingest holds the readings and says what to create."""
        raise WriteError(
            f"bucket {self.bucket!r} does not exist at {self.url}: create it (and on 2.x a DBRP mapping)",
            True,
            403,
            "bucket not found",
        )

    def close(self) -> None:
        self._client.close()
