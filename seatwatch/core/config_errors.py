"""Problems found in a configuration file, reported all at once with file, line and key.

Site files and rules profiles are edited by hand; a facilities engineer fixing one should see every mistake
in one run, each pointing at the line to change (Home Assistant's config validation is the model). TOML
parsers give line numbers only for syntax errors, so :class:`TomlLocator` finds the line of a key path by
scanning the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file. ``key`` is a dotted path such as ``seats[3].zone``."""

    file: str
    key: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(Exception):
    """Raised with every problem of a file; ``str()`` lists them one per line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"]+)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"]+)\s*=")
_PATH_PART = re.compile(r"([A-Za-z0-9_\-]+)(?:\[(\d+)\])?")


class TomlLocator:
    """Maps a key path like ``seats[3].zone`` to the 1-based line where it is written.

    It understands the layouts people write by hand: ``[table]``, ``[[array.of.tables]]`` and
    ``key = value`` lines. Keys inside inline tables or arrays resolve to the line of their enclosing key,
    which is still the right line to look at. Unknown paths give ``None``.
    """

    def __init__(self, text: str) -> None:
        # (table path with array indices, key) -> line
        self._lines: dict[tuple[str, str], int] = {}
        self._tables: dict[str, int] = {}
        counters: dict[str, int] = {}
        current = ""
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header:
                name = header.group(2).replace('"', "")
                if header.group(1) == "[[":
                    index = counters.get(name, 0)
                    counters[name] = index + 1
                    current = f"{name}[{index}]"
                else:
                    current = name
                self._tables.setdefault(current, number)
                continue
            key = _KEY.match(line)
            if key:
                self._lines.setdefault((current, key.group(1).replace('"', "")), number)

    def line(self, path: str) -> int | None:
        """The line of ``path``, or of the nearest enclosing key or table that is written in the file."""
        parts = [m.group(0) for m in _PATH_PART.finditer(path)]
        for cut in range(len(parts), 0, -1):
            table, key = ".".join(parts[: cut - 1]), parts[cut - 1].split("[", 1)[0]
            if (table, key) in self._lines:
                return self._lines[(table, key)]
            whole = ".".join(parts[:cut])
            if whole in self._tables:
                return self._tables[whole]
        return None


class ProblemList:
    """Collects problems for one file, locating each key as it is added."""

    def __init__(self, path: Path | str, text: str) -> None:
        self.file = str(path)
        self._locator = TomlLocator(text)
        self.problems: list[Problem] = []

    def add(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, key, message, self._locator.line(key)))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)
