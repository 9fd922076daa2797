"""A local HTTP server that answers as Grafana's HTTP API does, and checks every request against the API's
documentation: path, method, ``Authorization: Bearer`` header and body shape.

It keeps folders, data sources and dashboards in memory with Grafana's version numbers, so a test can
see whether a second push changed anything. Requests that break the documented API are recorded in
``violations`` (and answered 400), so a test asserts there are none.

The alerting provisioning API (Grafana 11 "Alerting provisioning HTTP API"): rule groups
(``GET``/``PUT /api/v1/provisioning/folder/{folderUid}/rule-groups/{group}``, the body an AlertRuleGroup
of ProvisionedAlertRules) and time intervals (``/api/v1/provisioning/mute-timings``), with the
``X-Disable-Provenance`` header deciding whether the stored objects are locked (provenance "api") or
editable in the UI (provenance "").
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

UID = r"([A-Za-z0-9_-]{1,40})"
SEGMENT = r"([^/]+)"
NO_DATA_STATES = ("Alerting", "NoData", "OK", "KeepLast")
ERROR_STATES = ("Alerting", "Error", "OK", "KeepLast")
EXPRESSION_TYPES = ("math", "reduce", "resample", "classic_conditions", "threshold")
DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w))+$|^0$")
CLOCK = re.compile(r"^([01]\d|2[0-4]):[0-5]\d$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class FakeGrafana:
    def __init__(self, token: str) -> None:
        self.token = token
        self.folders: dict[str, dict[str, Any]] = {}
        self.datasources: dict[str, dict[str, Any]] = {}
        self.secrets: dict[str, dict[str, str]] = {}
        self.dashboards: dict[str, dict[str, Any]] = {}
        self.rule_groups: dict[tuple[str, str], dict[str, Any]] = {}
        self.time_intervals: dict[str, dict[str, Any]] = {}
        self.provenance_headers: list[str | None] = []
        self.requests: list[tuple[str, str]] = []
        self.violations: list[str] = []
        self._next_id = 1
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> FakeGrafana:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] != "GET"]

    # -- the API -----------------------------------------------------------------------------------
    def route(
        self, method: str, path: str, auth: str | None, body: Any, provenance: str | None = None
    ) -> tuple[int, Any]:
        self.requests.append((method, path))
        if path == "/api/health" and method == "GET":
            return 200, {"database": "ok", "version": "11.6.0"}
        if auth != f"Bearer {self.token}":
            return 401, {"message": "Invalid API key"}
        self._provenance = "" if provenance == "true" else "api"
        if "/provisioning/" in path and method != "GET":
            self.provenance_headers.append(provenance)
        for pattern, handler in self._routes():
            if pattern[0] == method and (m := re.fullmatch(pattern[1], path)):
                return handler(body, *(urllib.parse.unquote(g) for g in m.groups()))
        self.violations.append(f"{method} {path}: not a documented endpoint")
        return 404, {"message": "Not found"}

    def _routes(self) -> list[tuple[tuple[str, str], Any]]:
        return [
            (("GET", f"/api/folders/{UID}"), self._get_folder),
            (("POST", "/api/folders"), self._create_folder),
            (("PUT", f"/api/folders/{UID}"), self._update_folder),
            (("GET", f"/api/datasources/uid/{UID}"), self._get_datasource),
            (("POST", "/api/datasources"), self._create_datasource),
            (("PUT", f"/api/datasources/uid/{UID}"), self._update_datasource),
            (("GET", f"/api/dashboards/uid/{UID}"), self._get_dashboard),
            (("POST", "/api/dashboards/db"), self._save_dashboard),
            (("GET", f"/api/v1/provisioning/folder/{UID}/rule-groups/{SEGMENT}"), self._get_rule_group),
            (("PUT", f"/api/v1/provisioning/folder/{UID}/rule-groups/{SEGMENT}"), self._put_rule_group),
            (("GET", f"/api/v1/provisioning/mute-timings/{SEGMENT}"), self._get_interval),
            (("POST", "/api/v1/provisioning/mute-timings"), self._create_interval),
            (("PUT", f"/api/v1/provisioning/mute-timings/{SEGMENT}"), self._update_interval),
        ]

    def _require(self, body: Any, shape: Mapping[str, type | tuple[type, ...]], where: str) -> bool:
        if not isinstance(body, dict):
            self.violations.append(f"{where}: body is not a JSON object")
            return False
        ok = True
        for key, kind in shape.items():
            if not isinstance(body.get(key), kind):
                self.violations.append(f"{where}: {key!r} missing or not {kind}")
                ok = False
        return ok

    def _get_folder(self, _: Any, uid: str) -> tuple[int, Any]:
        return (200, self.folders[uid]) if uid in self.folders else (404, {"message": "folder not found"})

    def _create_folder(self, body: Any) -> tuple[int, Any]:
        if not self._require(body, {"uid": str, "title": str}, "POST /api/folders"):
            return 400, {"message": "bad request"}
        if body["uid"] in self.folders:
            return 409, {"message": "a folder with the same uid already exists"}
        self.folders[body["uid"]] = {
            "uid": body["uid"],
            "title": body["title"],
            "id": self._id(),
            "version": 1,
        }
        return 200, self.folders[body["uid"]]

    def _update_folder(self, body: Any, uid: str) -> tuple[int, Any]:
        if not self._require(body, {"title": str}, "PUT /api/folders") or not (
            body.get("overwrite") is True or isinstance(body.get("version"), int)
        ):
            self.violations.append("PUT /api/folders: needs version or overwrite")
            return 400, {"message": "bad request"}
        if uid not in self.folders:
            return 404, {"message": "folder not found"}
        folder = self.folders[uid]
        if not body.get("overwrite") and body["version"] != folder["version"]:
            return 412, {"message": "version-mismatch"}
        folder.update(title=body["title"], version=folder["version"] + 1)
        return 200, folder

    def _get_datasource(self, _: Any, uid: str) -> tuple[int, Any]:
        if uid not in self.datasources:
            return 404, {"message": "Data source not found"}
        held = {key: True for key in self.secrets.get(uid, {})}
        return 200, {**self.datasources[uid], "secureJsonFields": held}

    def _check_datasource(self, body: Any, where: str) -> bool:
        shape = {"name": str, "type": str, "url": str, "access": str, "jsonData": dict}
        if not self._require(body, shape, where):
            return False
        if "secureJsonData" in body and not isinstance(body["secureJsonData"], dict):
            self.violations.append(f"{where}: secureJsonData must be an object")
            return False
        return True

    def _store_datasource(self, uid: str, body: dict[str, Any], version: int, ident: int) -> dict[str, Any]:
        secure = body.pop("secureJsonData", None)
        if secure:
            self.secrets[uid] = secure
        self.datasources[uid] = {
            **body,
            "uid": uid,
            "id": ident,
            "orgId": 1,
            "version": version,
            "readOnly": False,
        }
        return self.datasources[uid]

    def _create_datasource(self, body: Any) -> tuple[int, Any]:
        if not self._check_datasource(body, "POST /api/datasources") or not isinstance(body.get("uid"), str):
            return 400, {"message": "bad request"}
        if body["uid"] in self.datasources:
            return 409, {"message": "data source with the same uid already exists"}
        stored = self._store_datasource(body["uid"], dict(body), 1, self._id())
        return 200, {
            "datasource": stored,
            "id": stored["id"],
            "message": "Datasource added",
            "name": stored["name"],
        }

    def _update_datasource(self, body: Any, uid: str) -> tuple[int, Any]:
        if not self._check_datasource(body, "PUT /api/datasources/uid"):
            return 400, {"message": "bad request"}
        if uid not in self.datasources:
            return 404, {"message": "Data source not found"}
        old = self.datasources[uid]
        stored = self._store_datasource(uid, dict(body), old["version"] + 1, old["id"])
        return 200, {"datasource": stored, "id": stored["id"], "message": "Datasource updated"}

    def _get_dashboard(self, _: Any, uid: str) -> tuple[int, Any]:
        if uid not in self.dashboards:
            return 404, {"message": "Dashboard not found"}
        entry = self.dashboards[uid]
        return 200, {
            "dashboard": entry["dashboard"],
            "meta": {"folderUid": entry["folderUid"], "version": entry["dashboard"]["version"]},
        }

    def _save_dashboard(self, body: Any) -> tuple[int, Any]:
        where = "POST /api/dashboards/db"
        if not self._require(body, {"dashboard": dict}, where):
            return 400, {"message": "bad request"}
        model = body["dashboard"]
        if not isinstance(model.get("title"), str) or not isinstance(model.get("uid"), str):
            self.violations.append(f"{where}: dashboard needs title and uid")
            return 400, {"message": "bad request"}
        folder = body.get("folderUid")
        if folder is not None and folder not in self.folders:
            return 400, {"message": "folder not found"}
        old = self.dashboards.get(model["uid"])
        if old and not body.get("overwrite") and model.get("version") != old["dashboard"]["version"]:
            return 412, {"message": "version-mismatch", "status": "version-mismatch"}
        version = old["dashboard"]["version"] + 1 if old else 1
        ident = old["dashboard"]["id"] if old else self._id()
        self.dashboards[model["uid"]] = {
            "dashboard": {**model, "id": ident, "version": version},
            "folderUid": folder,
        }
        return 200, {
            "id": ident,
            "uid": model["uid"],
            "status": "success",
            "version": version,
            "url": f"/d/{model['uid']}",
        }

    # -- alerting provisioning ---------------------------------------------------------------------------
    def _get_rule_group(self, _: Any, folder: str, group: str) -> tuple[int, Any]:
        if (folder, group) not in self.rule_groups:
            return 404, {"message": "rule group not found"}
        return 200, self.rule_groups[(folder, group)]

    def _put_rule_group(self, body: Any, folder: str, group: str) -> tuple[int, Any]:
        where = f"PUT rule-groups/{group}"
        if not self._require(body, {"title": str, "interval": int, "rules": list}, where):
            return 400, {"message": "bad request"}
        if folder not in self.folders:
            return 404, {"message": "folder does not exist"}
        if body["title"] != group:
            self.violations.append(f"{where}: title {body['title']!r} is not the group in the path")
        if body["interval"] <= 0 or body["interval"] % 10:
            self.violations.append(f"{where}: interval must be a positive multiple of 10 s")
        others = {
            r["title"]
            for key, g in self.rule_groups.items()
            if key[0] == folder and key[1] != group
            for r in g["rules"]
        }
        titles: set[str] = set()
        for rule in body["rules"]:
            self._check_rule(rule, folder, group, where)
            if rule.get("title") in titles | others:
                self.violations.append(f"{where}: rule title {rule.get('title')!r} not unique in the folder")
            titles.add(rule.get("title"))
        old = {r["uid"]: r for r in (self.rule_groups.get((folder, group)) or {"rules": []})["rules"]}
        stored = []
        for rule in body["rules"]:
            previous = old.get(rule.get("uid"))
            stored.append(
                {
                    **rule,
                    "id": previous["id"] if previous else self._id(),
                    "updated": f"update-{self._id()}",
                    "provenance": self._provenance,
                }
            )
        self.rule_groups[(folder, group)] = {**body, "folderUid": folder, "rules": stored}
        return 200, self.rule_groups[(folder, group)]

    def _check_rule(self, rule: Any, folder: str, group: str, where: str) -> None:
        shape: dict[str, type] = {"title": str, "condition": str, "data": list, "noDataState": str}
        shape |= {"execErrState": str, "for": str, "folderUID": str, "ruleGroup": str}
        shape |= {"orgID": int, "uid": str}
        if not self._require(rule, shape, where):
            return
        name = f"{where}: rule {rule['title']!r}"
        if not re.fullmatch(UID, rule["uid"]):
            self.violations.append(f"{name}: uid {rule['uid']!r} is not 1-40 of [A-Za-z0-9_-]")
        if rule["folderUID"] != folder or rule["ruleGroup"] != group:
            self.violations.append(f"{name}: folderUID/ruleGroup differ from the path")
        if rule["noDataState"] not in NO_DATA_STATES or rule["execErrState"] not in ERROR_STATES:
            self.violations.append(f"{name}: noDataState/execErrState not one of the documented values")
        if not DURATION.match(rule["for"]):
            self.violations.append(f"{name}: 'for' {rule['for']!r} is not a duration")
        for key in ("labels", "annotations"):
            values = rule.get(key, {})
            if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
                self.violations.append(f"{name}: {key} must map strings to strings")
        refs = [q.get("refId") for q in rule["data"] if isinstance(q, dict)]
        if rule["condition"] not in refs:
            self.violations.append(f"{name}: condition {rule['condition']!r} is not a refId of data")
        for query in rule["data"]:
            self._check_query(query, refs, name)

    def _check_query(self, query: Any, refs: list[Any], name: str) -> None:
        if not self._require(query, {"refId": str, "datasourceUid": str, "model": dict}, name):
            return
        span = query.get("relativeTimeRange") or {}
        if (
            not (isinstance(span.get("from"), int) and isinstance(span.get("to"), int))
            or span["from"] < span["to"]
        ):
            self.violations.append(f"{name}: {query['refId']}: relativeTimeRange needs from >= to (seconds)")
        model = query["model"]
        if model.get("refId") != query["refId"]:
            self.violations.append(f"{name}: {query['refId']}: model.refId differs")
        if query["datasourceUid"] == "__expr__":
            if model.get("type") not in EXPRESSION_TYPES or model.get("expression") not in refs:
                self.violations.append(f"{name}: {query['refId']}: not a valid expression")
        elif query["datasourceUid"] not in self.datasources:
            self.violations.append(
                f"{name}: {query['refId']}: data source {query['datasourceUid']!r} unknown"
            )

    def _get_interval(self, _: Any, name: str) -> tuple[int, Any]:
        if name not in self.time_intervals:
            return 404, {"message": "mute timing not found"}
        return 200, self.time_intervals[name]

    def _check_interval(self, body: Any, where: str) -> bool:
        if not self._require(body, {"name": str, "time_intervals": list}, where):
            return False
        for interval in body["time_intervals"]:
            for span in interval.get("times", []):
                if not (CLOCK.match(span.get("start_time", "")) and CLOCK.match(span.get("end_time", ""))):
                    self.violations.append(f"{where}: times need HH:MM start_time/end_time")
            for day in interval.get("weekdays", []):
                if not all(part in WEEKDAYS for part in day.split(":")):
                    self.violations.append(f"{where}: weekday {day!r} is not a day name or range")
        return True

    def _create_interval(self, body: Any) -> tuple[int, Any]:
        if not self._check_interval(body, "POST mute-timings"):
            return 400, {"message": "bad request"}
        if body["name"] in self.time_intervals:
            return 409, {"message": "a mute timing with this name already exists"}
        self.time_intervals[body["name"]] = {**body, "version": "1", "provenance": self._provenance}
        return 201, self.time_intervals[body["name"]]

    def _update_interval(self, body: Any, name: str) -> tuple[int, Any]:
        if not self._check_interval(body, "PUT mute-timings") or body["name"] != name:
            return 400, {"message": "bad request"}
        if name not in self.time_intervals:
            return 404, {"message": "mute timing not found"}
        version = str(int(self.time_intervals[name]["version"]) + 1)
        self.time_intervals[name] = {**body, "version": version, "provenance": self._provenance}
        return 202, self.time_intervals[name]

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    # -- HTTP plumbing -----------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body: Any = None
                if raw:
                    if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                        fake.violations.append(f"{self.command} {self.path}: body without JSON content type")
                    body = json.loads(raw)
                status, answer = fake.route(
                    self.command,
                    self.path,
                    self.headers.get("Authorization"),
                    body,
                    self.headers.get("X-Disable-Provenance"),
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
