"""Rules profiles: the limits seatwatch checks, as data with their sources (docs/design.md principle 4)."""
