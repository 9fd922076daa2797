"""No site file crashes ``seatwatch validate``: it is valid, or it gets a list of located problems (exit 2).

The contract's payloads are fuzzed the same way (tests/test_contract.py). Here hypothesis takes the example
site and replaces a few of its values — anywhere, by anything TOML can say: NaN, infinities, 64-bit
overflows, dates from year 1 to 9999 with any offset, deep arrays, tables where strings belong — and the
validator (site file checks and wiring checks) must answer with problems, never a traceback. Text the
parser itself chokes on (5,000-digit integers, arrays nested 5,000 deep) is covered by explicit cases.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import tomllib
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seatwatch.validate.command import run as validate
from tests.conftest import EXAMPLE_SITE

EXAMPLE = tomllib.loads(EXAMPLE_SITE.read_text(encoding="utf-8"))


def toml_value(value: Any) -> str:
    """``value`` written as a TOML inline value (tables inline, so any nesting is one line)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            ("-inf" if value < 0 else "inf")
            if math.isinf(value)
            else "nan"
            if math.isnan(value)
            else repr(value)
        )
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(doc: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(key)} = {toml_value(value)}\n" for key, value in doc.items())


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in the document a value sits (tables and arrays included)."""
    out = [prefix] if prefix else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        out += paths(item, (*prefix, key))
    return out


PATHS = paths(EXAMPLE)
offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20),
    st.sampled_from(["noise", "light", "modbus", "reference", "audio", "renke-noise", "renke-lux", "E-01"]),
    st.dates(),
    st.datetimes(timezones=st.none() | offsets),
    st.times(),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["id", "port", "x"]), inner),
    max_leaves=8,
)


def mutate(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value


def validate_text(tmp_path: Path, text: str) -> tuple[int, str]:
    site = tmp_path / "site.toml"
    site.write_text(text, encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = validate(argparse.Namespace(site=str(site)))
    return code, err.getvalue()


# FUZZ_EXAMPLES=4000 for a longer hunt (about 4 minutes here).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(PATHS), st.none() | values), min_size=1, max_size=3))
def test_no_mutation_of_the_example_crashes_validate(
    tmp_path: Path, changes: list[tuple[tuple[Any, ...], Any]]
) -> None:
    doc = tomllib.loads(toml_document(EXAMPLE))  # a deep copy, through the writer under test here
    for path, value in changes:
        with contextlib.suppress(KeyError, IndexError, TypeError):  # an earlier change removed the place
            mutate(doc, path, value)
    code, err = validate_text(tmp_path, toml_document(doc))
    assert code in (0, 2)
    if code == 2:
        *problems, summary = err.splitlines()
        assert problems and all(p.startswith(str(tmp_path / "site.toml")) for p in problems)
        assert summary.endswith("problem" if len(problems) == 1 else "problems")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\na = " + "9" * 5000, "site.toml:2: an integer with thousands of digits"),
        ("\n\na = " + "[" * 5000 + "]" * 5000, "site.toml:3: arrays or tables are nested too deeply"),
        ("[site]\nx = " + "[" * 40 + "]" * 40, "nested more than 32 levels deep"),
        ("a = " + "9" * 4000, "integer out of range"),
        (
            '[site]\nid = "s"\nname = "n"\ntimezone = "Asia/Shanghai"\n[hours]\nclosed = [0001-01-01]',
            "year 1",
        ),
        ("a = 9999-12-31T23:59:59-23:59", "year 9999"),
        ("[[installations]]\nsensor = 'x'\nseat = 'y'\nfrom = 0001-01-01T00:00:00+14:00", "year 1"),
    ],
)
def test_text_the_parser_or_the_clock_cannot_take_is_a_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    code, err = validate_text(tmp_path, text)
    assert code == 2
    assert message in err and "Traceback" not in err
