"""Reading a large InfluxQL answer as a stream of chunks (``chunked=true``), without holding it whole.

Why not :meth:`seatwatch.influxql.InfluxQLClient.query`: the level histogram needs every 1-min LAeq value
(:mod:`analysis.compliance.levels`), 86 million of them for a month of 2,000 seats. Measured on influxd
1.6.7 (docs/compliance.md): a plain answer of 2 million rows took 6.9 s to produce and 1.5 s to parse as
one document; the same rows in 20,000-row chunks took 3.2 s and 1.0 s, and memory stays at one chunk
whatever the size of the period or the reporting rate. Standard library only, like the client.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import BinaryIO

from seatwatch.influxql import InfluxQLClient, InfluxQLError, Series

CHUNK_ROWS = 20_000
READ_BYTES = 1 << 20


def stream_series(client: InfluxQLClient, q: str, epoch: str = "m") -> Iterator[Series]:
    """The series of a one-statement query, in chunks of at most CHUNK_ROWS rows each (one series may
    come as several consecutive chunks)."""
    params = {"db": client.database, "q": q, "epoch": epoch, "chunked": "true", "chunk_size": CHUNK_ROWS}
    request = urllib.request.Request(
        f"{client.url}/query", data=urllib.parse.urlencode(params).encode(), method="POST"
    )
    token = client._token  # the client's own credential; never printed
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=client.timeout_s) as response:
            for doc in _documents(response):
                if "error" in doc:
                    raise InfluxQLError(f"InfluxDB at {client.url}: {doc['error']}")
                for result in doc.get("results", []):
                    if "error" in result:
                        raise InfluxQLError(
                            f"InfluxDB at {client.url} refused the query: {result['error']} — {q[:300]}"
                        )
                    for s in result.get("series", []):
                        yield Series(s.get("name", ""), s.get("tags", {}), s["columns"], s["values"])
    except urllib.error.HTTPError as exc:
        body = exc.read()[:500].decode("utf-8", "replace")
        raise InfluxQLError(f"InfluxDB at {client.url} answered {exc.code}: {body}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise InfluxQLError(f"cannot reach InfluxDB at {client.url}: {exc}") from exc


def _documents(response: BinaryIO) -> Iterator[dict]:
    """influxd writes one JSON document per chunk, one per line. Read in large blocks: iterating the
    response line by line was a third slower (many small reads through the chunked transfer decoding)."""
    rest = b""
    while block := response.read(READ_BYTES):
        *lines, rest = (rest + block).split(b"\n")
        for raw in lines:
            if raw.strip():
                yield json.loads(raw)
    if rest.strip():
        yield json.loads(rest)
