"""seatwatch — per-seat noise and light compliance for customer service centres.

This small package holds what every part of the data flow shares (docs/design.md): the site model, the
MQTT reading contract, service settings, calibration records and the one ``seatwatch`` command line.
"""

__version__ = "0.1.0"
