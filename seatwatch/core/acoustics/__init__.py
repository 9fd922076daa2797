"""Sound level meter maths per IEC 61672-1:2013: frequency and time weightings, levels, calibration."""
