"""``seatwatch dashboards push|export --site SITE.toml``: put the site's dashboards into Grafana.

Exit codes (docs/contracts.md): 0 done; 2 bad input or an unavailable prerequisite — site file, profile,
missing Grafana settings, a token Grafana refuses, a Grafana that cannot be reached — each named. Never a
traceback, never a secret in the output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashboards import bundle as bundle_module
from dashboards.alert_rules import LANGUAGES
from dashboards.datasource import uses_token
from dashboards.export import DEFAULT_DASHBOARDS_PATH, export
from dashboards.grafana_api import GrafanaClient, GrafanaError
from dashboards.push import apply, plan
from seatwatch.core.command_startup import EXIT_OK, EXIT_USAGE, load_site_and_services
from seatwatch.core.settings import Services
from seatwatch.core.site import Site
from seatwatch.core.wording import plural


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    parser.epilog = (
        "examples:\n  seatwatch dashboards push --site site.toml --dry-run\n"
        "  seatwatch dashboards export --site site.toml --out dashboards/"
    )
    push = sub.add_parser(
        "push",
        help="create or update the folder, data source, dashboards and alert rules in Grafana",
        description="Create or update the seatwatch folder, the InfluxDB data source, every dashboard and "
        "the alert rules in "
        "the Grafana at SEATWATCH_GRAFANA_URL, with SEATWATCH_GRAFANA_TOKEN (an Editor service account). "
        "Idempotent: unchanged objects are left alone.",
        epilog="example:\n"
        "  SEATWATCH_GRAFANA_URL=https://grafana.example.internal SEATWATCH_GRAFANA_TOKEN=... \\\n"
        "    seatwatch dashboards push --site /etc/seatwatch/site.toml --dry-run",
    )
    push.add_argument("--site", required=True, metavar="SITE.toml", help="the site file")
    push.add_argument("--dry-run", action="store_true", help="print what would change; change nothing")
    out = sub.add_parser(
        "export",
        help="write Grafana provisioning YAML and dashboard JSON files",
        description="Write the dashboards as JSON files to import, and provisioning YAML for a Grafana that "
        "reads them from disk (DIR/dashboards, DIR/provisioning). Needs no Grafana.",
        epilog="example:\n  seatwatch dashboards export --site site.toml --out /var/lib/grafana/seatwatch",
    )
    out.add_argument("--site", required=True, metavar="SITE.toml", help="the site file")
    for command in (push, out):
        command.add_argument(
            "--language",
            choices=LANGUAGES,
            default="zh",
            help="language of the alert summaries (default %(default)s)",
        )
    out.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder to write into")
    out.add_argument(
        "--dashboards-path",
        default=DEFAULT_DASHBOARDS_PATH,
        metavar="PATH",
        help="where Grafana will read the dashboard JSON files, written into the provisioning YAML "
        "(default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    # a ConfigError (the site file, its services or its rules profile): seatwatch.cli prints it, exit 2
    site, services = load_site_and_services(args.site)
    bundle = bundle_module.build(site, services, args.language)
    if args.action == "export":
        return _export(site, bundle, args)
    return _push(site, services, bundle, args.dry_run)


def _export(site: Site, bundle: bundle_module.Bundle, args: argparse.Namespace) -> int:
    try:
        written = export(bundle, site.id, args.out, args.dashboards_path)
    except OSError as exc:
        print(
            f"seatwatch dashboards export: cannot write {exc.filename or args.out}: {exc.strerror}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    for path in written:
        print(path)
    return EXIT_OK


def _push(site: Site, services: Services, bundle: bundle_module.Bundle, dry_run: bool) -> int:
    missing = _missing_settings(site, services)
    if missing:
        for line in missing:
            print(f"seatwatch dashboards push: {line}", file=sys.stderr)
        return EXIT_USAGE
    assert services.grafana_url and services.grafana_token  # checked above
    client = GrafanaClient(services.grafana_url, services.grafana_token)
    try:
        changes = plan(client, bundle)
        if not dry_run:
            apply(client, bundle, changes)
    except GrafanaError as exc:
        print(f"seatwatch dashboards push: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for change in changes:
        print(("would " if dry_run and change.action != "unchanged" else "") + str(change))
    touched = sum(change.action != "unchanged" for change in changes)
    verb = "would change" if dry_run else "changed"
    print(f"{services.grafana_url}: {verb} {touched} of {plural(len(changes), 'object')}")
    return EXIT_OK


def _missing_settings(site: Site, services: Services) -> list[str]:
    where = site.path or "the site file"
    out = []
    if not services.grafana_url:
        out.append(f"no Grafana URL: set SEATWATCH_GRAFANA_URL or services.grafana_url in {where}")
    if not services.grafana_token:
        out.append(f"no Grafana token: set SEATWATCH_GRAFANA_TOKEN or services.grafana_token_file in {where}")
    if uses_token(services) and not services.influx_token:
        out.append(
            f"services.influx_api is 'v2' in {where} but no InfluxDB token for the data source: "
            "set SEATWATCH_INFLUX_TOKEN or services.influx_token_file"
        )
    return out
