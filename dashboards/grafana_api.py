"""A thin, typed Grafana HTTP API client on the standard library.

Why not grafana-client: its 5.x releases depend on niquests, which installs urllib3-future *in place of*
urllib3; influxdb-client then still writes but prints "Exception ignored ... ImportError: sys.meta_path is
None" at every interpreter shutdown (measured here with grafana-client 5.1.4, urllib3-future 2.25.904,
influxdb-client 1.50; docs/dependencies.md). seatwatch needs a dozen documented endpoints, so a few lines of
``urllib`` keep one sound environment (README.md). The token is sent as ``Authorization: Bearer`` and never
appears in an error message or a ``repr``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

JSON = dict[str, Any]
UNLOCKED = {"X-Disable-Provenance": "true"}


class GrafanaError(RuntimeError):
    """Grafana refused a request or could not be reached; the message says which and why."""


class GrafanaClient:
    def __init__(self, url: str, token: str, timeout_s: float = 15.0) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"GrafanaClient({self.url!r})"

    # -- endpoints -----------------------------------------------------------------------------------
    def health(self) -> JSON:
        return self._call("GET", "/api/health", auth=False) or {}

    def folder(self, uid: str) -> JSON | None:
        return self._call("GET", f"/api/folders/{_q(uid)}", missing_ok=True)

    def create_folder(self, uid: str, title: str) -> JSON:
        return self._call("POST", "/api/folders", {"uid": uid, "title": title}) or {}

    def update_folder(self, uid: str, title: str) -> JSON:
        return self._call("PUT", f"/api/folders/{_q(uid)}", {"title": title, "overwrite": True}) or {}

    def datasource(self, uid: str) -> JSON | None:
        return self._call("GET", f"/api/datasources/uid/{_q(uid)}", missing_ok=True)

    def create_datasource(self, model: JSON) -> JSON:
        return self._call("POST", "/api/datasources", model) or {}

    def update_datasource(self, uid: str, model: JSON) -> JSON:
        return self._call("PUT", f"/api/datasources/uid/{_q(uid)}", model) or {}

    def dashboard(self, uid: str) -> JSON | None:
        return self._call("GET", f"/api/dashboards/uid/{_q(uid)}", missing_ok=True)

    def save_dashboard(self, model: JSON, folder_uid: str, message: str) -> JSON:
        body = {"dashboard": model, "folderUid": folder_uid, "overwrite": True, "message": message}
        return self._call("POST", "/api/dashboards/db", body) or {}

    # -- alerting provisioning API ---------------------------------------------------------------------
    # Written with X-Disable-Provenance so the rules stay editable in Grafana's UI, as dashboards are;
    # the next push puts back what the site file says.
    def rule_group(self, folder_uid: str, group: str) -> JSON | None:
        return self._call("GET", _group_path(folder_uid, group), missing_ok=True)

    def put_rule_group(self, folder_uid: str, group: str, body: JSON) -> JSON:
        return self._call("PUT", _group_path(folder_uid, group), body, headers=UNLOCKED) or {}

    def time_interval(self, name: str) -> JSON | None:
        return self._call("GET", f"/api/v1/provisioning/mute-timings/{_q(name)}", missing_ok=True)

    def create_time_interval(self, body: JSON) -> JSON:
        return self._call("POST", "/api/v1/provisioning/mute-timings", body, headers=UNLOCKED) or {}

    def update_time_interval(self, name: str, body: JSON) -> JSON:
        path = f"/api/v1/provisioning/mute-timings/{_q(name)}"
        return self._call("PUT", path, body, headers=UNLOCKED) or {}

    # -- transport -------------------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        body: JSON | None = None,
        missing_ok: bool = False,
        auth: bool = True,
        headers: dict[str, str] | None = None,
    ) -> JSON | None:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and missing_ok:
                return None
            raise GrafanaError(self._refusal(method, path, exc)) from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise GrafanaError(f"cannot reach Grafana at {self.url}: {reason}") from exc
        try:
            return json.loads(raw) if raw else None
        except ValueError as exc:
            raise GrafanaError(f"Grafana at {self.url} answered {method} {path} with non-JSON") from exc

    def _refusal(self, method: str, path: str, exc: urllib.error.HTTPError) -> str:
        try:
            detail = str(json.loads(exc.read() or b"{}").get("message", ""))
        except ValueError:
            detail = ""
        if exc.code in (401, 403):
            what = "rejected the token" if exc.code == 401 else "denied the token's permission"
            return (
                f"Grafana at {self.url} {what} ({exc.code}{': ' + detail if detail else ''}) "
                f"on {method} {path}; "
                "check SEATWATCH_GRAFANA_TOKEN (a service account token with the Editor or Admin role)"
            )
        return (
            f"Grafana at {self.url} answered {exc.code} to {method} {path}{': ' + detail if detail else ''}"
        )


def _q(uid: str) -> str:
    return urllib.parse.quote(uid, safe="")


def _group_path(folder_uid: str, group: str) -> str:
    return f"/api/v1/provisioning/folder/{_q(folder_uid)}/rule-groups/{_q(group)}"
