"""Idempotent push: compare what Grafana holds with the bundle, then create or update only what differs.

Stable uids make every push address the same folder, data source and dashboards; comparing before
writing means a second push changes nothing (no new dashboard version, no "updated" noise in Grafana's
history), and ``--dry-run`` is the same comparison without the writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dashboards.bundle import Bundle
from dashboards.grafana_api import JSON, GrafanaClient

# Keys Grafana adds to what it stores; they are not ours to compare.
DASHBOARD_SERVER_KEYS = ("id", "version")


@dataclass(frozen=True)
class Change:
    kind: str  # "folder" | "datasource" | "dashboard" | "interval" | "rules"
    uid: str
    title: str
    action: str  # "create" | "update" | "unchanged"
    fields: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        what = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{self.action:9} {self.kind:10} {self.uid}  {self.title!r}{what}"


def plan(client: GrafanaClient, bundle: Bundle) -> list[Change]:
    """What a push would do, read from Grafana; no writes."""
    folder = client.folder(bundle.folder.uid)
    renamed = ["title"] if folder and folder.get("title") != bundle.folder.title else []
    changes = [_change("folder", bundle.folder.uid, bundle.folder.title, folder, renamed)]
    source = bundle.datasource
    stored = client.datasource(source.uid)
    changes.append(
        _change(
            "datasource",
            source.uid,
            source.model["name"],
            stored,
            _datasource_diff(source.model, source.secure, stored),
        )
    )
    for model in bundle.dashboards:
        found = client.dashboard(model["uid"])
        changes.append(
            _change(
                "dashboard",
                model["uid"],
                model["title"],
                found,
                _dashboard_diff(model, bundle.folder.uid, found),
            )
        )
    interval = bundle.time_interval
    stored_interval = client.time_interval(interval["name"])
    changes.append(
        _change(
            "interval",
            interval["name"],
            "occupied hours",
            stored_interval,
            _missing(interval, stored_interval),
        )
    )
    for group in bundle.rule_groups:
        body = group.body(bundle.folder.uid)
        stored_group = client.rule_group(bundle.folder.uid, group.title)
        title = f"{len(group.rules)} alert rules"
        changes.append(_change("rules", group.title, title, stored_group, _missing(body, stored_group)))
    return changes


def apply(client: GrafanaClient, bundle: Bundle, changes: list[Change]) -> None:
    """Carry out a :func:`plan`: only its create and update entries touch Grafana."""
    by_uid = {model["uid"]: model for model in bundle.dashboards}
    groups = {group.title: group for group in bundle.rule_groups}
    source = bundle.datasource
    for change in changes:
        if change.action == "unchanged":
            continue
        if change.kind == "folder":
            if change.action == "create":
                client.create_folder(change.uid, change.title)
            else:
                client.update_folder(change.uid, change.title)
        elif change.kind == "datasource":
            body = {**source.model, **({"secureJsonData": source.secure} if source.secure else {})}
            if change.action == "create":
                client.create_datasource(body)
            else:
                client.update_datasource(change.uid, body)
        elif change.kind == "interval":
            if change.action == "create":
                client.create_time_interval(bundle.time_interval)
            else:
                client.update_time_interval(change.uid, bundle.time_interval)
        elif change.kind == "rules":
            client.put_rule_group(bundle.folder.uid, change.uid, groups[change.uid].body(bundle.folder.uid))
        else:
            client.save_dashboard(by_uid[change.uid], bundle.folder.uid, "seatwatch dashboards push")


def _change(kind: str, uid: str, title: str, stored: JSON | None, diff: list[str]) -> Change:
    if stored is None:
        return Change(kind, uid, title, "create")
    return Change(kind, uid, title, "update" if diff else "unchanged", tuple(diff))


def _datasource_diff(model: JSON, secure: dict[str, str], stored: JSON | None) -> list[str]:
    """Changed keys; a secret counts as changed only when Grafana holds none (it never shows its value)."""
    if stored is None:
        return []
    diff = [key for key, value in model.items() if stored.get(key) != value]
    held = stored.get("secureJsonFields") or {}
    diff += [f"secureJsonData.{key}" for key in secure if not held.get(key)]
    return diff


def _dashboard_diff(model: JSON, folder_uid: str, stored: JSON | None) -> list[str]:
    if stored is None:
        return []
    current = {k: v for k, v in (stored.get("dashboard") or {}).items() if k not in DASHBOARD_SERVER_KEYS}
    diff = sorted(key for key in model.keys() | current.keys() if model.get(key) != current.get(key))
    if (stored.get("meta") or {}).get("folderUid") != folder_uid:
        diff.append("folder")
    return diff


def _missing(ours: Any, stored: JSON | None) -> list[str]:
    """Top-level keys of ``ours`` whose value Grafana does not hold (as a subset: Grafana adds its own keys,
    such as a rule's id, updated time and provenance, that we never send)."""
    if stored is None:
        return []
    return [key for key, value in ours.items() if not _holds(stored.get(key), value)]


def _holds(stored: Any, ours: Any) -> bool:
    if isinstance(ours, dict):
        return isinstance(stored, dict) and all(_holds(stored.get(k), v) for k, v in ours.items())
    if isinstance(ours, list):
        return isinstance(stored, list) and len(stored) == len(ours) and all(map(_holds, stored, ours))
    return stored == ours
