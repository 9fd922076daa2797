"""Virtual devices on pseudo-terminals and the office model they report (see simulator.py)."""
