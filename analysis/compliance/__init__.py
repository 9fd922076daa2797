"""The compliance engine: per-seat verdicts against a rules profile, with coverage and provenance."""
