"""Rules profiles: the limits seatwatch checks, as data with their sources (DESIGN.md principle 4)."""
