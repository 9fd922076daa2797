"""Rules profiles: the shipped ones load, and a broken one is refused with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.compliance.windows import bucket_minutes
from seatwatch.core.config_errors import ConfigError
from seatwatch.core.rules.profile import load_rules_profile, shipped_profiles
from seatwatch.core.vocabulary import ZoneKind


def test_every_shipped_profile_loads_with_sources() -> None:
    assert {"iac-csc", "gb50034-office", "en12464-1-office", "gb3096-class1"} <= set(shipped_profiles())
    for name in shipped_profiles():
        profile = load_rules_profile(name)
        for check in profile.all_checks():
            assert check.source and check.confidence in "HML", (name, check.id)


def test_iac_csc_agent_limits_follow_standards_md() -> None:
    checks = {c.id: c for c in load_rules_profile("iac-csc").checks_for(ZoneKind.AGENT)}
    assert (checks["light"].required, checks["light"].target, checks["light"].direction) == (200, 300, "min")
    assert (checks["noise"].required, checks["noise"].target, checks["noise"].hours) == (55, 52, "occupied")
    assert (checks["background"].required, checks["background"].target) == (45, 40)
    assert checks["background"].hours == "unoccupied"
    assert checks["uniformity"].required == 0.60 and checks["uniformity"].scope == "zone"
    assert checks["area"].required == 6


def test_gb3096_uses_clock_hours() -> None:
    profile = load_rules_profile("gb3096-class1")
    assert profile.clock_hours["night"].start == "22:00"
    assert {c.hours for c in profile.checks_for(ZoneKind.AGENT)} == {"day", "night"}


def test_profile_path_is_relative_to_the_site_folder(tmp_path: Path) -> None:
    shipped = load_rules_profile("iac-csc").path
    assert shipped is not None
    text = shipped.read_text(encoding="utf-8")
    (tmp_path / "mine.toml").write_text(text.replace("required = 200", "required = 250", 1), encoding="utf-8")
    assert load_rules_profile("mine.toml", base_dir=tmp_path).checks_for(ZoneKind.AGENT)[0].required == 250


def test_unknown_profile_names_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match="unknown rules profile 'nope'.*iac-csc"):
        load_rules_profile("nope")


def test_broken_profile_lists_every_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(
        '[profile]\nid = "broken"\n\n[[zones.agent.checks]]\nid = "light"\nmetric = "lux"\n'
        'aggregation = "energy_mean"\nhours = "evening"\nrequired = 200\ntarget = 100\nunit = "lx"\n'
        'direction = "min"\nconfidence = "X"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_rules_profile(str(path))
    text = str(err.value)
    assert f"{path}:4: zones.agent.checks[0].source: missing" in text
    assert f"{path}:7: zones.agent.checks[0].aggregation" in text
    assert f"{path}:8: zones.agent.checks[0].hours: 'evening'" in text
    assert f"{path}:10: zones.agent.checks[0].target" in text
    assert f"{path}:13: zones.agent.checks[0].confidence" in text


def test_bucket_size_follows_the_time_zone() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    def at(hour: int, minute: int, tz: str) -> datetime:
        return datetime(2026, 3, 2, hour, minute, tzinfo=ZoneInfo(tz)).astimezone(ZoneInfo("UTC"))

    assert bucket_minutes([at(8, 0, "Asia/Shanghai"), at(22, 0, "Asia/Shanghai")]) == 60
    assert bucket_minutes([at(8, 0, "Asia/Kolkata")]) == 30
    assert bucket_minutes([at(8, 0, "Asia/Kathmandu")]) == 15
