"""analysis part of the seatwatch data flow (see DESIGN.md)."""
