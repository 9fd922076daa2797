"""``seatwatch ingest`` start-up: a site or services problem ends in a usage error that says what, never a
crash (ingest/command.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

import ingest.command as command
from seatwatch.core.config_errors import ConfigError


def _args(site: Path) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return parser.parse_args(["--site", str(site)])


def test_a_config_error_without_problems_is_a_usage_error_naming_the_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """ConfigError's problem list may be empty; the command once went on without a site or services and
    crashed (UnboundLocalError on ``site``, else ``None.influx_create_database``: mypy's union-attr)."""
    site = tmp_path / "site.toml"

    def refuse(path: str | Path) -> None:
        raise ConfigError([])

    monkeypatch.setattr(command, "load_site_and_services", refuse)
    assert command.run(_args(site)) == command.EXIT_USAGE
    assert f"seatwatch ingest: --site {site}: not usable" in capsys.readouterr().err
