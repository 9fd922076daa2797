"""The InfluxDB data source Grafana's panels query: InfluxQL, for InfluxDB 1.x and for 2.x (v1 DBRP).

InfluxQL is the one query language every InfluxDB we support answers (docs/design.md, docs/dependencies.md),
and the only one in which ``10*log10(sum("exposure")/sum("dur"))`` reads the same on 1.x and 2.x.

- **1.x with a user** (``SEATWATCH_INFLUX_TOKEN`` = ``user:password``, API not ``v2``): Grafana's own
  ``user`` field and ``secureJsonData.password``, which Grafana sends as HTTP basic auth. influxd 1.6/1.7
  refuse an ``Authorization: Token user:password`` header (it needs 1.8+), basic auth works on every 1.x.
- **2.x** (``influx_api = "v2"``, or a token without a user part): the v1 compatibility API, the bucket
  reached through its DBRP mapping (database name = ``influx_db``) and the token in an
  ``Authorization: Token ...`` header, as Grafana documents for "InfluxQL with InfluxDB 2.x".

Provisioning files never hold the secret: Grafana expands ``$__env{NAME}`` from its own environment.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboards.model import JSON, stable_uid
from seatwatch.core.settings import Services
from seatwatch.core.site import Site

# What a provisioning file writes instead of a secret; Grafana reads these variables from its environment.
TOKEN_ENV = "SEATWATCH_INFLUX_TOKEN"
PASSWORD_ENV = "SEATWATCH_INFLUX_PASSWORD"


@dataclass(frozen=True)
class DataSource:
    """The data source model (what Grafana stores and shows) and its secret part (sent, never shown)."""

    model: JSON
    secure: dict[str, str]

    @property
    def uid(self) -> str:
        return str(self.model["uid"])


def uses_token(services: Services) -> bool:
    """2.x-style auth: the site says 'v2', or a token is configured that is not ``user:password``."""
    return services.influx_api == "v2" or bool(services.influx_token and not _user_password(services))


def _user_password(services: Services) -> tuple[str, str] | None:
    """``user:password`` credentials of InfluxDB 1.x, when that is what the token setting holds."""
    token = services.influx_token
    if services.influx_api == "v2" or not token or ":" not in token:
        return None
    user, _, password = token.partition(":")
    return user, password


def build(site: Site, services: Services) -> DataSource:
    json_data: JSON = {"dbName": services.influx_db, "httpMode": "POST", "version": "InfluxQL"}
    secure: dict[str, str] = {}
    credentials = _user_password(services)
    if uses_token(services):
        json_data["httpHeaderName1"] = "Authorization"
        if services.influx_token:
            secure["httpHeaderValue1"] = f"Token {services.influx_token}"
    elif credentials:
        secure["password"] = credentials[1]
    model: JSON = {
        "uid": stable_uid("sw", site.id, "influx"),
        "name": f"seatwatch {site.id}",
        "type": "influxdb",
        "access": "proxy",
        "url": services.influx_url,
        "database": services.influx_db,
        "basicAuth": False,
        "isDefault": False,
        "jsonData": json_data,
    }
    if credentials:
        model["user"] = credentials[0]
    return DataSource(model, secure)


def provisioned_secure(source: DataSource) -> dict[str, str]:
    """The secure fields as a provisioning file writes them: an environment reference, never the value."""
    if "httpHeaderName1" in source.model["jsonData"]:
        return {"httpHeaderValue1": f"Token $__env{{{TOKEN_ENV}}}"}
    if "password" in source.secure:
        return {"password": f"$__env{{{PASSWORD_ENV}}}"}
    return {}
