"""dashboards part of the seatwatch data flow (see docs/design.md)."""
