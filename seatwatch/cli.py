"""The one ``seatwatch`` command line.

Each subcommand lives in the part of the data flow it belongs to and is imported only when it runs, so
``seatwatch validate`` does not pay for scipy and ``--help`` stays instant. A command module exposes
``add_arguments(parser)`` and ``run(args) -> int``; the table below is the single place that names them.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

from seatwatch import __version__
from seatwatch.core.command_startup import EXIT_USAGE, report_problems
from seatwatch.core.config_errors import ConfigError


class Command(NamedTuple):
    """One subcommand: its help line and the module that implements it (None: not built yet)."""

    help: str
    module: str | None


COMMANDS: dict[str, Command] = {
    "validate": Command("check a site file and report every problem in it", "seatwatch.validate.command"),
    "bridge": Command("read a bridge's sensors and publish readings over MQTT", "firmware_bridge.command"),
    "ingest": Command("store MQTT readings in InfluxDB, calibrated and tagged by seat", "ingest.command"),
    "analyze": Command("compute per-seat compliance and write it to InfluxDB", "analysis.compliance.command"),
    "report": Command("write a compliance snapshot report (PDF, HTML, JSON, CSV)", "analysis.report.command"),
    "dashboards": Command("push or export the Grafana dashboards", "dashboards.command"),
    "calibrate": Command(
        "calibrate a sensor on site and keep the record", "firmware_bridge.calibrate.command"
    ),
    "level": Command("measure sound levels (LAeq, LAFmax, ...) of a WAV file", "analysis.level.command"),
    "simulate": Command("run simulated sensors on pseudo-terminals", "firmware_bridge.simulate.command"),
    "setup-db": Command(
        "create or update the InfluxDB database and retention policy of a site", "seatwatch.setup_db.command"
    ),
    "demo": Command(
        "run the whole pipeline on this machine with simulated sensors", "seatwatch.demo.command"
    ),
}


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as their modules write them; every option with a default shows it.

    A module's help text says the unit and, where it matters, the time zone; the default is added here
    when the text does not already give it, so no option can forget it.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "default" in text
            or not action.option_strings
            or action.required
            or action.default in (None, False, argparse.SUPPRESS, [])
        ):
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """Every seatwatch parser and sub-parser (argparse builds sub-parsers with the parent's class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # argparse's own, passed on
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def _command_parser(name: str) -> argparse.ArgumentParser:
    """Build only the parser for ``name`` so one command's imports never slow down another's."""
    parser = Parser(prog=f"seatwatch {name}", description=COMMANDS[name].help)
    module = COMMANDS[name].module
    if module is not None:
        importlib.import_module(module).add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        close = difflib.get_close_matches(argv[0], COMMANDS, n=1)
        hint = f" — did you mean 'seatwatch {close[0]}'?" if close else ""
        print(
            f"seatwatch: unknown command {argv[0]!r}{hint} (commands: {', '.join(COMMANDS)})", file=sys.stderr
        )
        return EXIT_USAGE
    if not argv or argv[0] not in COMMANDS:
        # Top-level help, --version, or an unknown command: argparse prints and exits.
        parser = _top_parser()
        parser.parse_args(argv)
        parser.print_help()
        return EXIT_USAGE
    name = argv[0]
    command = COMMANDS[name]
    args = _command_parser(name).parse_args(argv[1:])
    if command.module is None:
        print(f"seatwatch {name}: not built yet in this version ({__version__}).", file=sys.stderr)
        return EXIT_USAGE
    try:
        return int(importlib.import_module(command.module).run(args))
    except ConfigError as exc:  # a site file, its services, a profile: every problem, file:line: key
        return report_problems(exc)


def _top_parser() -> argparse.ArgumentParser:
    """The top-level parser lists the commands without importing any of them."""
    parser = Parser(
        prog="seatwatch",
        description="Per-seat noise and light compliance for customer service centres.",
        epilog="Run 'seatwatch COMMAND --help' for a command's options and examples.\n"
        "First time here? 'seatwatch demo' runs the whole pipeline on this machine.",
    )
    parser.add_argument("--version", action="version", version=f"seatwatch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub.add_parser(name, help=command.help)
    return parser
