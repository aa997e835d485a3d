"""Sizes, speeds, bandwidths and durations as CORDS documents write them, in one place.

CORDS writes quantities as strings with a unit suffix: ``memory="1G"``, ``size="160GB"``,
``speed="3GHz"``, ``vlan="100M"``, a metric ``period="60"``, an SLA objective ``"500M"``.
Everything that compares or adds such values (the rules, the manifest compiler, placement
against quotas, SLA controls) converts them here, so one spelling means one number
everywhere. The choices, and why:

* **sizes** (memory, storage, volumes) are bytes, and K, M, G, T, P are powers of **1024**:
  they size RAM and disks, which providers count in binary units (an OpenStack flavor's
  RAM is MiB, its disk GiB), so ``1G`` must equal a provider's 1 GiB. A trailing ``B`` or
  ``iB`` changes nothing (``8GB`` = ``8GiB`` = ``8G``): the corpus writes both ``8GB`` and
  ``8G`` for the same thing. Decimals are allowed (the manual's ``0.5G``, ``0.1T``).
  A bare number is bytes here; the rules decide per attribute whether a unit is required
  (for memory and disk sizes it is: the manual says they "are to be expressed" with K, M,
  G or T, and a guess between bytes, MB and GB would be silently wrong by 10^3 or more).
* **speeds** (compute ``speed``) are Hz with **decimal** multiples (``3GHz`` = 3e9 Hz), as
  clock rates always are; ``Hz`` is optional (the manual writes ``1G``).
* **bandwidths** (a network's ``vlan="100M"``) are bits per second, **decimal** multiples,
  as link speeds are; ``b``, ``bit``, ``bps``, ``b/s`` and ``bit/s`` are optional suffixes.
* **durations** (a metric's ``period``, timers) are seconds; a bare number is seconds
  (``metrics.xml`` writes ``period="60"``); ``ms``, ``s``, ``m``/``min``, ``h``, ``d``, ``w``.

Each parser raises :class:`UnitError` with a message saying what was wrong and what to write.
"""
from __future__ import annotations

import re

__all__ = ["UnitError", "SIZE_UNITS", "SPEED_UNITS", "BANDWIDTH_UNITS", "DURATION_UNITS",
           "parse_size", "parse_speed", "parse_bandwidth", "parse_duration", "has_unit", "size_in"]


class UnitError(ValueError):
    """A quantity that is not one: the message says what was wrong and shows a valid value."""


#: Size multipliers (bytes): binary, see the module docstring.
SIZE_UNITS = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4, "P": 1024 ** 5}
#: Speed and bandwidth multipliers: decimal.
SPEED_UNITS = {"": 1, "K": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12}
BANDWIDTH_UNITS = SPEED_UNITS
#: Duration multipliers (seconds), by every accepted spelling.
DURATION_UNITS = {"": 1.0, "ms": 0.001, "s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0,
                  "minute": 60.0, "h": 3600.0, "hour": 3600.0, "d": 86400.0, "day": 86400.0,
                  "w": 604800.0, "week": 604800.0}

# A non-negative decimal number, then (after optional spaces) whatever the unit is.
_QUANTITY = re.compile(r"^\s*(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[A-Za-z/]*)\s*$")
_SIZE_UNIT = re.compile(r"^(?P<prefix>[KMGTP]?)(?:I?B)?$", re.IGNORECASE)
_SPEED_UNIT = re.compile(r"^(?P<prefix>[KMGT]?)(?:HZ)?$", re.IGNORECASE)
# The prefix in either case, but the suffix only as lowercase bits: "MB/s" (bytes) is refused.
_BANDWIDTH_UNIT = re.compile(r"^(?P<prefix>[KMGTkmgt]?)(?:b|bit|bps|b/s|bit/s)?$")


def _split(text, what: str, example: str) -> tuple[float, str]:
    if not isinstance(text, str):
        raise UnitError(f"{text!r} is not a {what}: write it as text, e.g. {example}")
    match = _QUANTITY.match(text)
    if match is None:
        raise UnitError(f"{text!r} is not a {what}: use a number with a unit, e.g. {example}")
    return float(match["number"]), match["unit"]


def has_unit(text: str) -> bool:
    """Whether a quantity carries a unit suffix (``"1G"`` yes, ``"1024"`` no)."""
    match = _QUANTITY.match(text) if isinstance(text, str) else None
    return bool(match and match["unit"])


def parse_size(text: str, *, require_unit: bool = False) -> int:
    """Bytes of ``"1G"``, ``"512M"``, ``"8GB"``, ``"1TB"``, ``"0.5G"`` (binary multiples);
    ``"1024"`` is 1024 bytes unless ``require_unit``."""
    number, unit = _split(text, "size", "512M")
    match = _SIZE_UNIT.match(unit)
    if match is None:
        raise UnitError(f"{text!r} is not a size: use a number with K, M, G or T (e.g. 512M)")
    if require_unit and not match["prefix"]:
        raise UnitError(f"{text!r} has no unit: write it with K, M, G or T (e.g. {text.strip()}M or 1G)")
    return int(round(number * SIZE_UNITS[match["prefix"].upper()]))


def parse_speed(text: str, *, require_unit: bool = False) -> float:
    """Hz of ``"3GHz"``, ``"1G"``, ``"1.6G"``, ``"800MHz"`` (decimal multiples)."""
    number, unit = _split(text, "speed", "2G or 2.4GHz")
    match = _SPEED_UNIT.match(unit)
    if match is None:
        raise UnitError(f"{text!r} is not a speed: use a number with K, M or G, optionally followed by Hz "
                        "(e.g. 2G or 2.4GHz)")
    if require_unit and not unit:
        raise UnitError(f"{text!r} has no unit: the manual gives speeds in GHz, write e.g. {text.strip()}G")
    return number * SPEED_UNITS[match["prefix"].upper()]


def parse_bandwidth(text: str, *, require_unit: bool = False) -> int:
    """Bits per second of ``"100M"``, ``"1G"``, ``"10Mbps"``, ``"512Kbit/s"`` (decimal multiples)."""
    number, unit = _split(text, "bandwidth", "100M")
    match = _BANDWIDTH_UNIT.match(unit)
    if match is None:
        raise UnitError(f"{text!r} is not a bandwidth: use a number with K, M or G bits per second "
                        "(e.g. 100M or 1Gbps)")
    if require_unit and not unit:
        raise UnitError(f"{text!r} has no unit: write a bandwidth such as {text.strip()}M (bits per second)")
    return int(round(number * BANDWIDTH_UNITS[match["prefix"].upper()]))


def parse_duration(text: str) -> float:
    """Seconds of ``"100ms"``, ``"2s"``, ``"1m"``, ``"1h"``, ``"60"`` (a bare number is seconds)."""
    number, unit = _split(text, "duration", "60s or 5m")
    key = unit.lower()
    if key not in DURATION_UNITS and key.endswith("s") and key[:-1] in DURATION_UNITS:
        key = key[:-1]                  # plurals: "2hours", "30secs"
    if key not in DURATION_UNITS:
        raise UnitError(f"{text!r} is not a duration: use seconds, or a number with ms, s, m, h, d or w "
                        "(e.g. 60 or 5m)")
    return number * DURATION_UNITS[key]


def size_in(size_bytes: int, unit: str) -> float:
    """A size in bytes expressed in a quota's units (``"G"``: GiB; ``"U"`` or ``""``: as is),
    for comparing a node's needs with a provider's quota (CORDS.md §6)."""
    key = unit.strip().upper()
    if key in ("U", ""):
        return float(size_bytes)
    if key not in SIZE_UNITS:
        raise UnitError(f"{unit!r} is not a size unit: use U, K, M, G or T")
    return size_bytes / SIZE_UNITS[key]
