"""Modbus register profiles as data: which registers hold a transmitter's value and how to decode them.

Register maps differ by vendor and even by model (docs/standards.md §7), so a new transmitter is a TOML file,
not code. Shipped profiles live in ``modbus_profiles/``; a site names one (``profile = "renke-noise"``) or
gives the path to its own. The simulator encodes with the same profile, so both ends agree by construction.
A profile is read like a site file (seatwatch/core/toml_config.py): each mistake names file:line:key.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware_bridge.driver_config import DriverConfigError
from seatwatch.core.config_errors import ConfigError
from seatwatch.core.toml_config import TomlFile, read_toml
from seatwatch.core.vocabulary import Quantity, member_of

SHIPPED = Path(__file__).parent / "modbus_profiles"
FUNCTIONS = {3: "read holding registers", 4: "read input registers"}
TYPES = {"u16": ">H", "s16": ">h", "u32": ">I", "s32": ">i", "f32": ">f"}
KEYS = {
    "name",
    "description",
    "quantity",
    "function",
    "register",
    "type",
    "word_order",
    "scale",
    "default_baud",
    "default_address",
}


@dataclass(frozen=True)
class RegisterProfile:
    name: str
    quantity: Quantity  # noise: instantaneous dB(A), integrated on the host; light: lx
    function: int
    register: int
    type: str
    word_order: str
    scale: float
    default_baud: int
    default_address: int
    description: str = ""

    @property
    def count(self) -> int:
        """Registers (16-bit words) to read."""
        return 1 if self.type.endswith("16") else 2

    def decode(self, registers: Sequence[int]) -> float:
        """The value in physical units from the registers read (in address order)."""
        words = list(registers[: self.count])
        if self.word_order == "little":
            words.reverse()
        raw = struct.unpack(TYPES[self.type], b"".join(w.to_bytes(2, "big") for w in words))[0]
        return round(raw * self.scale, 6)  # 0.1-dB registers must not come out as 51.300000000000004

    def encode(self, value: float) -> list[int]:
        """Registers (in address order) a device shows for ``value``: the simulator's side of ``decode``."""
        raw = value / self.scale
        number = raw if self.type == "f32" else round(raw)
        data = struct.pack(TYPES[self.type], number)
        words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
        return words[::-1] if self.word_order == "little" else words


def load_register_profile(name_or_path: str, base: Path | None = None) -> RegisterProfile:
    """A shipped profile by name, or a profile file by path (relative to ``base``, the site file's folder)."""
    path = SHIPPED / f"{name_or_path}.toml"
    if not path.exists():
        path = Path(name_or_path)
        if base is not None and not path.is_absolute():
            path = base / path
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in SHIPPED.glob("*.toml")))
        raise DriverConfigError(
            f"Modbus profile {name_or_path!r}: no such shipped profile ({shipped}) or readable file"
        )
    try:
        toml = read_toml(path, "Modbus profile")
        return _validate(toml)
    except ConfigError as exc:
        # the driver's error type, which the site reader files under the sensor's connection.profile
        raise DriverConfigError("; ".join(str(problem) for problem in exc.problems)) from None


def _validate(toml: TomlFile) -> RegisterProfile:
    """The profile in ``toml``; raises :class:`ConfigError` with every problem, each at its key's line."""
    doc: dict[str, Any] = toml.data
    p = toml.problems()
    for key in doc:
        if key not in KEYS:
            p.add(key, "unknown key")
    checks = {
        "quantity": (member_of(Quantity, doc.get("quantity")) is not None, "must be 'noise' or 'light'"),
        "function": (doc.get("function") in FUNCTIONS, "must be 3 or 4"),
        "register": (_int_in(doc.get("register"), 0, 65535), "must be a register address 0..65535"),
        "type": (doc.get("type") in TYPES, f"must be one of {', '.join(TYPES)}"),
        "word_order": (doc.get("word_order", "big") in ("big", "little"), "must be 'big' or 'little'"),
        "scale": (_number(doc.get("scale", 1.0)) and doc.get("scale", 1.0) != 0, "must be a non-zero number"),
        "default_baud": (_int_in(doc.get("default_baud", 9600), 300, 1_000_000), "must be a baud rate"),
        "default_address": (_int_in(doc.get("default_address", 1), 1, 247), "must be 1..247"),
    }
    for key, (ok, message) in checks.items():
        if not ok:
            p.add(key, message)
    p.raise_if_any()
    path = toml.path
    return RegisterProfile(
        name=str(doc.get("name", path.stem)),
        quantity=Quantity(doc["quantity"]),
        function=doc["function"],
        register=doc["register"],
        type=doc["type"],
        word_order=doc.get("word_order", "big"),
        scale=float(doc.get("scale", 1.0)),
        default_baud=doc.get("default_baud", 9600),
        default_address=doc.get("default_address", 1),
        description=str(doc.get("description", "")),
    )


def _int_in(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
