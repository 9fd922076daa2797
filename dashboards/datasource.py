"""The InfluxDB data source Grafana's panels query: InfluxQL, for InfluxDB 1.x and for 2.x (v1 DBRP).

InfluxQL is the one query language every InfluxDB we support answers (DESIGN.md, DEPENDENCIES.md), and
the only one in which ``10*log10(sum("exposure")/sum("dur"))`` reads the same on 1.x and 2.x. For 2.x
Grafana talks to the v1 compatibility API: the bucket is reached through its DBRP mapping (database name
= ``influx_db``) and the token goes in an ``Authorization: Token ...`` header, as Grafana documents for
"InfluxQL with InfluxDB 2.x".
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboards.model import JSON, stable_uid
from seatwatch.settings import Services
from seatwatch.site import Site

# Grafana expands $VAR in provisioning files; exported files name the variable, never the token.
TOKEN_ENV = "SEATWATCH_INFLUX_TOKEN"


@dataclass(frozen=True)
class DataSource:
    """The data source model (what Grafana stores and shows) and its secret part (sent, never shown)."""

    model: JSON
    secure: dict[str, str]

    @property
    def uid(self) -> str:
        return str(self.model["uid"])


def uses_token(services: Services) -> bool:
    """2.x (or 1.x with auth via token): a token is configured, or the site says 'v2'."""
    return services.influx_api == "v2" or bool(services.influx_token)


def build(site: Site, services: Services) -> DataSource:
    json_data: JSON = {"dbName": services.influx_db, "httpMode": "POST", "version": "InfluxQL"}
    secure: dict[str, str] = {}
    if uses_token(services):
        json_data["httpHeaderName1"] = "Authorization"
        if services.influx_token:
            secure["httpHeaderValue1"] = f"Token {services.influx_token}"
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
    return DataSource(model, secure)


def provisioned_secure(source: DataSource) -> dict[str, str]:
    """The secure fields as a provisioning file writes them: the environment variable, not its value."""
    if "httpHeaderName1" not in source.model["jsonData"]:
        return {}
    return {"httpHeaderValue1": f"Token ${{{TOKEN_ENV}}}"}
