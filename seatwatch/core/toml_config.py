"""Reading a hand-edited TOML file: its data, and the line of any key, for errors that say file:line:key.

Site files, rules profiles and Modbus register profiles are all edited by hand, and a mistake in any of
them must point at the line to change (seatwatch/core/config_errors.py). They used to be read three ways,
one of which (Modbus profiles) gave no line at all. :func:`read_toml` is the one way: whatever keeps a file
from being read as TOML — unreadable, not UTF-8, a syntax error, nesting or an integer Python's parser
cannot take — is a :class:`ConfigError` naming the file and, where it can be found, the line; a file that
parses is a :class:`TomlFile` whose :meth:`TomlFile.problems` locates each problem's key as it is added.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seatwatch.core.config_errors import ConfigError, Problem, ProblemList, TomlLocator


@dataclass(frozen=True)
class TomlFile:
    """A parsed TOML file: ``data`` as tomllib gives it, ``text`` as written (to locate keys in)."""

    path: Path
    text: str
    data: dict[str, Any]
    _locator: TomlLocator = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_locator", TomlLocator(self.text))

    def line(self, key: str) -> int | None:
        """The 1-based line of a key path such as ``seats[3].zone`` (or of its nearest written parent)."""
        return self._locator.line(key)

    def problems(self) -> ProblemList:
        """An empty list of this file's problems; each added problem gets its key's line."""
        return ProblemList(self.path, self.text)


def read_toml(path: Path | str, what: str) -> TomlFile:
    """Read ``path`` as TOML; ``what`` names the kind of file in messages ("site file", "rules profile").

    Raises :class:`ConfigError` with one problem (file and, when known, line) if it cannot be read as TOML.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(str(path), "", f"cannot read the {what}: {exc.strerror}")]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(str(path), "", f"the {what} is not UTF-8 text")]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _syntax_error_line(exc)
        raise ConfigError([Problem(str(path), "", f"not valid TOML: {exc}", line)]) from exc
    except RecursionError as exc:
        line = _line_of(text, r"[\[{](\s*[\[{]){63}")
        raise ConfigError([Problem(str(path), "", "arrays or tables are nested too deeply", line)]) from exc
    except ValueError as exc:  # an integer of more than 4,300 digits: Python's conversion limit
        line = _line_of(text, r"\d{4300}")
        message = "an integer with thousands of digits (TOML integers are 64-bit)"
        raise ConfigError([Problem(str(path), "", message, line)]) from exc
    return TomlFile(path, text, data)


def _syntax_error_line(exc: tomllib.TOMLDecodeError) -> int | None:
    """The line tomllib reports: ``lineno`` from Python 3.14 on, before that only inside the message."""
    line = getattr(exc, "lineno", None)
    if isinstance(line, int):
        return line
    match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
    return int(match.group(1)) if match else None


def _line_of(text: str, pattern: str) -> int | None:
    """The 1-based line where ``pattern`` first matches, to point at what the parser could not take."""
    match = re.search(pattern, text)
    return text.count("\n", 0, match.start()) + 1 if match else None
