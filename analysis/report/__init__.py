"""Compliance snapshot reports: report.json, seats.csv and a self-contained report.html."""
