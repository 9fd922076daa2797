"""Every MQTT client is built by seatwatch/core/mqtt_connection.py's factory, and built the same way.

The clients had drifted apart (calibrate and the demo on MQTT 3.1.1 with paho's default TLS, the bridge
and ingest on v5 with ``PROTOCOL_TLS_CLIENT``). Reading every module with ``ast`` keeps it from happening
again: outside the factory nobody calls paho's ``Client(...)``. Connections over TLS to the broker we
ship are in tests/test_bridge_tls.py, tests/test_ingest_tls.py and tests/integration/test_calibrate_tls.py.
"""

from __future__ import annotations

import ast
import ssl
from pathlib import Path

import paho.mqtt.client as mqtt

from seatwatch.core.mqtt_connection import make_client
from seatwatch.core.settings import load_services
from tests.mosquitto_secure import make_test_ca

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("seatwatch", "firmware_bridge", "ingest", "analysis", "dashboards")
FACTORY = Path("seatwatch/core/mqtt_connection.py")


def paho_client_calls(path: Path) -> list[int]:
    """Lines of ``path`` that construct a paho client: ``mqtt.Client(...)`` or an imported ``Client``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "paho.mqtt.client"
        for alias in node.names
        if alias.name == "Client"
    }
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr == "Client") or (
            isinstance(func, ast.Name) and func.id in imported
        ):
            lines.append(node.lineno)
    return lines


def test_only_the_factory_constructs_a_paho_client() -> None:
    found = {
        path.relative_to(REPO): lines
        for package in PACKAGES
        for path in sorted((REPO / package).rglob("*.py"))
        if (lines := paho_client_calls(path))
    }
    assert set(found) == {FACTORY}, f"build MQTT clients with make_client: {found}"


def test_the_factory_speaks_v5_over_verified_tls_with_the_settings_user(tmp_path: Path) -> None:
    make_test_ca(tmp_path / "certs")
    services = load_services(
        {"mqtt_url": "mqtts://broker.example:8883"},
        env={
            "SEATWATCH_MQTT_CA_FILE": str(tmp_path / "certs" / "ca.crt"),
            "SEATWATCH_MQTT_USERNAME": "calibrate",
            "SEATWATCH_MQTT_PASSWORD": "calibrate-secret",
        },
    )
    client = make_client(services, "t-factory")
    assert client.protocol == mqtt.MQTTv5
    assert client.username == "calibrate" and client.password == "calibrate-secret"
    context = client._ssl_context  # paho has no public accessor for the context it will use
    assert context is not None and context.protocol == ssl.PROTOCOL_TLS_CLIENT
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED


def test_plain_mqtt_without_a_user_sends_no_credentials() -> None:
    client = make_client(load_services({"mqtt_url": "mqtt://127.0.0.1:1883"}, env={}), "t-plain")
    assert client.protocol == mqtt.MQTTv5
    assert client.username is None and client._ssl_context is None
