"""Service settings: the site file's ``[services]`` table, overridden by the environment.

The environment wins so that one site file serves a laptop, CI and production. Secrets (MQTT password,
InfluxDB token, Grafana token) come only from the environment or from files named in the site file; the
:class:`Services` object never shows them in ``repr`` or logs.

A URL may carry credentials (``mqtts://user:pass@host:8883``, ``http://user:pass@host:8086``), as many
tools accept. They are taken out of the URL here — into the MQTT user and password, or the InfluxDB
``user:password`` token — so every URL a log line, status message or error shows is already free of them.
A secret given on its own (environment or file) wins over one inside a URL.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seatwatch.core.config_errors import ConfigError, Problem

DEFAULTS = {
    "mqtt_url": "mqtt://127.0.0.1:1883",
    "influx_url": "http://127.0.0.1:8086",
    "influx_db": "seatwatch",
    "influx_api": "auto",
    "influx_org": "seatwatch",
    "grafana_folder": "seatwatch",
    "state_dir": "/var/lib/seatwatch",
}
ENV = {
    "mqtt_url": "SEATWATCH_MQTT_URL",
    "mqtt_username": "SEATWATCH_MQTT_USERNAME",
    "mqtt_ca_file": "SEATWATCH_MQTT_CA_FILE",
    "influx_url": "SEATWATCH_INFLUX_URL",
    "influx_db": "SEATWATCH_INFLUX_DB",
    "influx_api": "SEATWATCH_INFLUX_API",
    "influx_org": "SEATWATCH_INFLUX_ORG",
    "influx_create_database": "SEATWATCH_INFLUX_CREATE_DATABASE",
    "grafana_url": "SEATWATCH_GRAFANA_URL",
    "grafana_folder": "SEATWATCH_GRAFANA_FOLDER",
    "state_dir": "SEATWATCH_STATE_DIR",
}
# One InfluxDB per site: "site-a=http://db-a:8086,site-b=http://db-b:8086" (docs/scale-out.md). For the
# site it names, an entry wins over SEATWATCH_INFLUX_URL and the site file.
SITE_URLS = "SEATWATCH_INFLUX_URLS"
# secret name -> (environment variable, site-file key naming a file that holds it)
SECRETS = {
    "mqtt_password": ("SEATWATCH_MQTT_PASSWORD", "mqtt_password_file"),
    "influx_token": ("SEATWATCH_INFLUX_TOKEN", "influx_token_file"),
    "grafana_token": ("SEATWATCH_GRAFANA_TOKEN", "grafana_token_file"),
}


@dataclass(frozen=True)
class Services:
    mqtt_url: str
    influx_url: str
    influx_db: str
    influx_api: str
    influx_org: str
    state_dir: Path
    grafana_folder: str
    mqtt_username: str | None = None
    mqtt_ca_file: str | None = None
    grafana_url: str | None = None
    influx_create_database: bool = True  # on a 404 "database not found", create it (as Telegraf does)
    mqtt_password: str | None = field(default=None, repr=False)
    influx_token: str | None = field(default=None, repr=False)
    grafana_token: str | None = field(default=None, repr=False)

    @property
    def mqtt_tls(self) -> bool:
        return self.mqtt_url.startswith(("mqtts://", "ssl://"))

    @property
    def mqtt_host_port(self) -> tuple[str, int]:
        rest = self.mqtt_url.split("://", 1)[-1].split("/", 1)[0]
        host, _, port = rest.rpartition(":")
        if not host:
            return rest, 8883 if self.mqtt_tls else 1883
        return host.strip("[]"), int(port)


def load_services(
    table: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    base: Path | None = None,
    site: str | None = None,
) -> Services:
    """Merge defaults, the site's ``[services]`` table and the environment (which wins).

    ``base`` is the site file's folder: relative ``*_file`` paths are taken from there. ``site`` (the
    site id) picks its InfluxDB from :data:`SITE_URLS` when that names it.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = dict(DEFAULTS)
    values.update({k: v for k, v in table.items() if not k.endswith("_file") or k == "mqtt_ca_file"})
    for key, var in ENV.items():
        if env.get(var):
            values[key] = env[var]
    if site is not None and (url := site_influx_url(env.get(SITE_URLS, ""), site)):
        values["influx_url"] = url
    for secret, (var, file_key) in SECRETS.items():
        values[secret] = _secret(env.get(var), table.get(file_key), file_key, base)
    if values.get("mqtt_ca_file") and base and not Path(values["mqtt_ca_file"]).is_absolute():
        values["mqtt_ca_file"] = str(base / values["mqtt_ca_file"])
    values["mqtt_url"], user, password = split_credentials(str(values["mqtt_url"]))
    if user and not values.get("mqtt_username"):
        values["mqtt_username"] = user
        values["mqtt_password"] = values.get("mqtt_password") or password
    values["influx_url"], user, password = split_credentials(str(values["influx_url"]))
    if user and not values.get("influx_token"):
        values["influx_token"] = f"{user}:{password or ''}"
    if values.get("grafana_url"):
        values["grafana_url"], _, _ = split_credentials(str(values["grafana_url"]))
    values["state_dir"] = Path(values["state_dir"])
    create = values.get("influx_create_database", True)
    if isinstance(create, str):
        if create.strip().lower() not in ("true", "false", "1", "0", "yes", "no"):
            problem = Problem(
                "environment", "SEATWATCH_INFLUX_CREATE_DATABASE", f"{create!r} is not true or false"
            )
            raise ConfigError([problem])
        create = create.strip().lower() in ("true", "1", "yes")
    values["influx_create_database"] = bool(create)
    known = {f for f in Services.__dataclass_fields__}
    return Services(**{k: v for k, v in values.items() if k in known})


def site_influx_url(mapping: str, site: str) -> str | None:
    """The URL :data:`SITE_URLS` gives ``site``, or None; any malformed entry is a ConfigError naming it
    (checked whichever site asks, so a typo shows up at once)."""
    urls = {}
    for n, entry in enumerate(e.strip() for e in mapping.split(",")):
        if not entry:
            continue
        name, sep, url = entry.partition("=")
        if not sep or not name.strip() or "://" not in url:
            raise ConfigError(
                [Problem(SITE_URLS, f"entry {n + 1}", f"{entry!r} is not site=http://host:port")]
            )
        urls[name.strip()] = url.strip()
    return urls.get(site)


def _secret(from_env: str | None, file_name: str | None, file_key: str, base: Path | None) -> str | None:
    if from_env:
        return from_env
    if not file_name:
        return None
    path = Path(file_name)
    if base and not path.is_absolute():
        path = base / path
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        # Name the file and the key, never the content.
        raise ConfigError(
            [Problem(str(path), f"services.{file_key}", f"cannot read secret file: {exc.strerror}")]
        ) from exc


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``(url without user:password@, user, password)``; user names and passwords are %-decoded."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, has_password, password = userinfo.partition(":")
    clean = urllib.parse.urlunsplit(parts._replace(netloc=hostport))
    return (
        clean,
        urllib.parse.unquote(user) or None,
        urllib.parse.unquote(password) if has_password else None,
    )


def redact(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` in it replaced by ``***``.

    For messages that quote a URL a person typed (an error echoing a setting): URLs in :class:`Services`
    are already clean."""
    return _URL_PASSWORD.sub(r"\1***@", text)


_URL_PASSWORD = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^/\s@]*@")
