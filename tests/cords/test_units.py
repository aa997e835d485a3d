"""Quantities as CORDS writes them: one spelling, one number (cords/units.py)."""
from __future__ import annotations

import pytest

from cords.units import (UnitError, has_unit, parse_bandwidth, parse_duration, parse_size, parse_speed, size_in)

G = 1024 ** 3


@pytest.mark.parametrize("text, expected", [
    ("1G", G), ("512M", 512 * 1024 ** 2), ("8GB", 8 * G), ("1TB", 1024 * G), ("10G", 10 * G),
    ("100M", 100 * 1024 ** 2), ("1024", 1024), ("0.5G", G // 2), (".5G", G // 2), ("1GiB", G), ("2g", 2 * G),
    ("64K", 65536), ("1024B", 1024), (" 2 G ", 2 * G), ("0.64G", round(0.64 * G)), ("0.1T", round(0.1 * 1024 * G)),
])
def test_sizes_are_binary_bytes(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["12X", "", "G", "-1G", "1G G", "1,5G", "ten", "1Gb/s", "1e3"])
def test_not_sizes(text):
    with pytest.raises(UnitError, match=r"is not a size"):
        parse_size(text)


def test_size_error_says_what_to_write():
    with pytest.raises(UnitError) as caught:
        parse_size("12X")
    assert str(caught.value) == "'12X' is not a size: use a number with K, M, G or T (e.g. 512M)"


def test_a_size_may_be_required_to_carry_its_unit():
    assert parse_size("2G", require_unit=True) == 2 * G
    with pytest.raises(UnitError, match=r"'2048' has no unit: write it with K, M, G or T \(e.g. 2048M or 1G\)"):
        parse_size("2048", require_unit=True)
    with pytest.raises(UnitError, match="has no unit"):
        parse_size("2048B", require_unit=True)          # a byte count is no memory size either


@pytest.mark.parametrize("text, expected", [
    ("3GHz", 3e9), ("1G", 1e9), ("1.6G", 1.6e9), ("800MHz", 8e8), ("2400", 2400.0), ("2.4ghz", 2.4e9), ("5Hz", 5.0),
])
def test_speeds_are_decimal_hertz(text, expected):
    assert parse_speed(text) == pytest.approx(expected)


def test_not_speeds():
    with pytest.raises(UnitError, match=r"'fast' is not a speed"):
        parse_speed("fast")
    with pytest.raises(UnitError, match="is not a speed"):
        parse_speed("3GB")
    with pytest.raises(UnitError, match="no unit"):
        parse_speed("3", require_unit=True)


@pytest.mark.parametrize("text, expected", [
    ("100M", 100_000_000), ("1G", 10 ** 9), ("10Mbps", 10_000_000), ("512kbit/s", 512_000), ("1Gb/s", 10 ** 9),
    ("100b", 100), ("100", 100), ("0.5M", 500_000),
])
def test_bandwidths_are_decimal_bits_per_second(text, expected):
    assert parse_bandwidth(text) == expected


def test_not_bandwidths():
    with pytest.raises(UnitError, match="is not a bandwidth"):
        parse_bandwidth("100MB/s")                      # bytes per second: say it in bits
    with pytest.raises(UnitError, match="is not a bandwidth"):
        parse_bandwidth("true")
    with pytest.raises(UnitError, match="no unit"):
        parse_bandwidth("100", require_unit=True)


@pytest.mark.parametrize("text, expected", [
    ("100ms", 0.1), ("2s", 2.0), ("1m", 60.0), ("60", 60.0), ("5min", 300.0), ("1h", 3600.0), ("2hours", 7200.0),
    ("1d", 86400.0), ("1w", 604800.0), ("0.5s", 0.5), ("30 secs", 30.0),
])
def test_durations_are_seconds(text, expected):
    assert parse_duration(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["soon", "1y", "", "-5s", "1h30m"])
def test_not_durations(text):
    with pytest.raises(UnitError, match="is not a duration"):
        parse_duration(text)


def test_non_text_is_refused_with_a_unit_error():
    with pytest.raises(UnitError, match="write it as text"):
        parse_size(1024)


def test_has_unit():
    assert has_unit("1G") and has_unit("3GHz") and not has_unit("1024") and not has_unit("nonsense")


def test_sizes_in_quota_units():
    assert size_in(parse_size("1G"), "G") == 1.0
    assert size_in(parse_size("512M"), "G") == 0.5
    assert size_in(3, "U") == 3.0
    with pytest.raises(UnitError, match="is not a size unit"):
        size_in(1, "X")


def test_unit_error_is_a_value_error():
    assert issubclass(UnitError, ValueError)
