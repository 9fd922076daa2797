"""From a finished session to a kept record: build it, keep it, tell ingest, certify it, sum it up.

The local history is written first (record_store.py), so the record exists the moment the installer sees
its id; publishing and InfluxDB follow and may fail without losing it. The summary states the result,
the post-check, the uncertainty and where the certificate is, in a table that fits 80 columns.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from firmware_bridge.calibrate import certificate
from firmware_bridge.calibrate.broker import BrokerError
from firmware_bridge.calibrate.record_store import RecordStore
from firmware_bridge.calibrate.session import Measured, UsageError
from firmware_bridge.calibrate.supersede import describe_drift, next_record
from seatwatch.core.calibration_records import CalibrationRecord, Instrument
from seatwatch.core.line_protocol import WriteError
from seatwatch.core.site import Sensor, Site
from seatwatch.core.vocabulary import Quantity
from seatwatch.core.wording import site_time

EXIT_REFUSED = 1


def build(
    args: argparse.Namespace,
    store: RecordStore,
    site: Site,
    sensor: Sensor,
    instrument: Instrument,
    measured: Measured,
) -> CalibrationRecord:
    """The new record, superseding the one in force (drift computed against it)."""
    book, _source = store.book()
    now = datetime.now(UTC)
    record = next_record(
        book,
        sensor=sensor.id,
        quantity=Quantity(args.action),  # the 'noise' or 'light' sub-command
        result=measured.result,
        reference_value=measured.reference_value,
        instrument=instrument,
        operator=args.operator.strip(),
        pre_deviation=measured.pre_deviation,
        post_deviation=measured.post_deviation,
        valid_days=args.valid_days,
        notes=" | ".join(part for part in (args.notes, measured.evidence) if part),
        now=now,
    )
    installed = site.installation_at(sensor.id, now)
    return replace(
        record,
        sensor_model=sensor.model,
        seat=installed.seat if installed else "",
        outside_usual_range=measured.outside_usual_range,
        usual_range=measured.usual.describe(),
        ambient_temperature_c=args.temperature,
        ambient_humidity_pct=args.humidity,
        ambient_pressure_kpa=args.pressure,
        points=measured.points,
        uncertainty=measured.uncertainty,
    )


def keep(
    out: Console,
    err: Console,
    store: RecordStore,
    site: Site,
    record: CalibrationRecord,
    measured: Measured,
    certificates: Path,
) -> int:
    """Append, publish, write to InfluxDB, write the certificate, print the summary; the exit status."""
    store.append(record)
    published, status = distribute(err, store, site, record)
    page = write_certificate(site, record, certificates / f"{record.id}.html")
    table = Table(
        title="Calibration recorded", show_header=False, title_justify="left", box=None, padding=(0, 1)
    )
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    result = f"offset {record.offset_db:+.2f} dB" if record.quantity == "noise" else f"gain {record.gain:.4f}"
    where = f"{record.sensor}, model {record.sensor_model or '—'}, seat {record.seat or '—'}"
    for label, value in (
        ("Sensor", where),
        ("Result", result),
        ("Before", certificate.deviation_words(record)),
        ("Post-check" if record.quantity == "noise" else "Fit", measured.post_check),
        (
            "Usual range",
            ("OUTSIDE, confirmed: " if record.outside_usual_range else "within ") + record.usual_range,
        ),
        ("Uncertainty", certificate.uncertainty_words(record)),
        ("Drift", describe_drift(record)),
        ("Record", f"{record.id}, valid until {site_time(record.valid_until, site.hours.timezone)}"),
        ("History", str(store.path)),
        ("Published", published),
        ("Certificate", str(page)),
    ):
        table.add_row(label, value)
    out.print(table)
    return status


def distribute(err: Console, store: RecordStore, site: Site, record: CalibrationRecord) -> tuple[str, int]:
    """Publish retained for ingest and write to InfluxDB: (what happened, exit status — 1 if ingest could
    not be told, to be retried with ``calibrate show ID --publish``)."""
    try:
        published, status = f"retained on {store.publish(record)}", 0
    except BrokerError as exc:
        published, status = f"NOT YET: {exc}", EXIT_REFUSED
        err.print(f"warning: not published to ingest yet: {exc}\nwhen the broker is back, run:")
        err.print(  # one line, however long, so it can be copied
            f"seatwatch calibrate show {record.id} --site {site.path} --state-dir {store.path.parent} "
            "--publish",
            soft_wrap=True,
        )
    try:
        store.write_influx(record)
        published += f"; written to InfluxDB database {store.services.influx_db!r}"
    except WriteError as exc:
        err.print(f"note: InfluxDB not written now ({exc}); ingest writes the record when it receives it")
    return published, status


def write_certificate(site: Site, record: CalibrationRecord, path: Path, lang: str | None = None) -> Path:
    """The certificate page at ``path``, in ``lang`` (default: the site's locale)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(certificate.render(record, site, lang), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the certificate {path}: {exc.strerror}") from exc
    return path
