"""The three hand-edited TOML formats, read by seatwatch/core/toml_config.py, point at file:line:key.

Each case copies a shipped file (examples/site.toml, a shipped rules profile, a shipped Modbus profile),
puts one bad value in it and expects the error to name the copy, the line of that value (found in the
copied text, never written down here) and the key. A syntax error names the file and line of any format.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware_bridge.driver_config import DriverConfigError
from firmware_bridge.modbus_profile import SHIPPED as MODBUS_PROFILES
from firmware_bridge.modbus_profile import load_register_profile
from seatwatch.core.config_errors import ConfigError
from seatwatch.core.rules.profile import SHIPPED_DIR as RULES_PROFILES
from seatwatch.core.rules.profile import load_rules_profile
from seatwatch.core.site_file import load_site
from seatwatch.core.toml_config import read_toml

REPO = Path(__file__).resolve().parents[2]


def spoil(source: Path, target: Path, old: str, new: str) -> int:
    """Copy ``source`` to ``target`` with the first line starting with ``old`` replaced by ``new``; the
    (1-based) number of that line."""
    lines = source.read_text(encoding="utf-8").splitlines()
    number = next(n for n, line in enumerate(lines, start=1) if line.startswith(old))
    lines[number - 1] = new
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return number


def test_a_site_files_bad_value_names_file_line_and_key(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    line = spoil(REPO / "examples" / "site.toml", site, "area_m2 =", "area_m2 = -3.0")
    with pytest.raises(ConfigError) as error:
        load_site(site)
    assert f"{site}:{line}: zones[0].area_m2: must be an area" in str(error.value)


def test_a_rules_profiles_bad_value_names_file_line_and_key(tmp_path: Path) -> None:
    profile = tmp_path / "profile.toml"
    line = spoil(RULES_PROFILES / "gb3096-class1.toml", profile, "min_coverage =", "min_coverage = 2")
    with pytest.raises(ConfigError) as error:
        load_rules_profile(str(profile))
    assert f"{profile}:{line}: profile.min_coverage: must be a number in (0, 1]" in str(error.value)


def test_a_modbus_profiles_bad_value_names_file_line_and_key(tmp_path: Path) -> None:
    profile = tmp_path / "transmitter.toml"
    line = spoil(MODBUS_PROFILES / "renke-noise.toml", profile, "function =", "function = 6")
    with pytest.raises(DriverConfigError) as error:
        load_register_profile(str(profile))
    assert str(error.value) == f"{profile}:{line}: function: must be 3 or 4"


@pytest.mark.parametrize(
    ("source", "what"),
    [
        (REPO / "examples" / "site.toml", "site file"),
        (RULES_PROFILES / "gb3096-class1.toml", "rules profile"),
        (MODBUS_PROFILES / "renke-noise.toml", "Modbus profile"),
    ],
)
def test_a_syntax_error_names_file_and_line(tmp_path: Path, source: Path, what: str) -> None:
    broken = tmp_path / source.name
    text = source.read_text(encoding="utf-8").splitlines()
    text.insert(len(text) // 2, "this is = = not toml")
    broken.write_text("\n".join(text) + "\n", encoding="utf-8")
    line = text.index("this is = = not toml") + 1
    with pytest.raises(ConfigError) as error:
        read_toml(broken, what)
    [problem] = error.value.problems
    assert (problem.file, problem.line) == (str(broken), line)
    assert str(problem).startswith(f"{broken}:{line}: not valid TOML")


def test_the_line_of_a_key_path_in_an_array_of_tables(tmp_path: Path) -> None:
    site = REPO / "examples" / "site.toml"
    lines = site.read_text(encoding="utf-8").splitlines()
    zone_areas = [n for n, line in enumerate(lines, start=1) if line.startswith("area_m2 =")]
    toml = read_toml(site, "site file")
    assert [toml.line(f"zones[{i}].area_m2") for i in range(len(zone_areas))] == zone_areas
    assert toml.line("zones[0]") == lines.index("[[zones]]") + 1
    assert toml.line("no_such_table.key") is None


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing.toml: cannot read the rules profile"):
        read_toml(tmp_path / "missing.toml", "rules profile")
