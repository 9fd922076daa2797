"""Illuminance maths: lux sensor gain calibration, GB/T 5700 grid averages and GB 50034 uniformity."""
