"""On-site calibration for installers: guided measurement against a reference, and an auditable record.

It lives in firmware_bridge because it runs where the sensors are (docs/calibration.md): the installer at
the seat with a sound calibrator or a reference lux meter reads the sensor through the same MQTT path the
bridge feeds, so the calibration covers everything between microphone or photodiode and the database.
"""
