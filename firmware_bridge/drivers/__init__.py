"""Drivers: one module per kind of device; each has a sample configuration next to it."""
