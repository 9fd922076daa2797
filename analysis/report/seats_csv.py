"""seats.csv: one row per seat and check, for the spreadsheet a facilities team filters and sorts."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

COLUMNS = (
    "seat",
    "zone",
    "seat_verdict",
    "check",
    "value",
    "required",
    "target",
    "unit",
    "verdict",
    "coverage",
    "confidence",
    "source",
    "reasons",
)


def write_seats_csv(doc: dict[str, Any], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for seat in doc["seats"]:
            for c in seat["checks"]:
                writer.writerow(
                    [
                        seat["seat"],
                        seat["zone"],
                        seat["verdict"],
                        c["check"],
                        c["value"],
                        c["required"],
                        c["target"],
                        c["unit"],
                        c["verdict"],
                        c["coverage"],
                        c["confidence"],
                        c["source"],
                        " | ".join(c["reasons"]),
                    ]
                )
