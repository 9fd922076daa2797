"""The InfluxQL client against the real influxd: plain and chunked answers agree, errors are named."""

from __future__ import annotations

import pytest

from seatwatch.core.influxql import CHUNK_ROWS, InfluxQLClient, InfluxQLError
from seatwatch.core.line_protocol import line, write_v1

pytestmark = pytest.mark.integration
T0_NS = 1_764_230_400_000_000_000


def test_stream_spans_chunks_and_matches_query(
    influx_url: str, influx_db: str, influx: InfluxQLClient
) -> None:
    rows = CHUNK_ROWS * 2 + 123
    write_v1(
        influx_url,
        influx_db,
        (line("noise", {"seat": "A"}, {"laeq": 40.0 + i % 30}, T0_NS + i * 10**9) for i in range(rows)),
    )
    q = 'SELECT "laeq" FROM "noise"'
    chunks = list(influx.stream(q))
    assert len(chunks) >= 3  # the answer really came in several chunks
    streamed = [row for series in chunks for row in series.values]
    assert streamed == influx.query(q)[0].values
    assert len(streamed) == rows


def test_series_without_rows_and_refusals(influx: InfluxQLClient) -> None:
    # SHOW CONTINUOUS QUERIES answers one series per database, with columns but no "values"
    assert all(s.values == [] for s in influx.query("SHOW CONTINUOUS QUERIES"))
    with pytest.raises(InfluxQLError, match="refused the query"):
        influx.query('SELECT mean(pow("laeq", 2)) FROM "noise"')
    with pytest.raises(InfluxQLError, match="refused the query"):
        list(influx.stream("SELEC nonsense"))


def test_unreachable_server_is_named() -> None:
    client = InfluxQLClient("http://127.0.0.1:9", "x", timeout_s=2)
    with pytest.raises(InfluxQLError, match=r"cannot reach InfluxDB at http://127.0.0.1:9"):
        client.query("SHOW DATABASES")
