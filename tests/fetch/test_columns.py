"""The Arrow fast paths agree with the general pandas conversions wherever they accept."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import twilio_frames as tf
from twilio_frames.fetch import columns
from twilio_frames.fetch.columns import BadValue, general_datetimes, general_numbers
from twilio_frames.money import price_to_micros

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
WEEKDAYS = "Mon Tue Wed Thu Fri Sat Sun".split()


def rfc(when: dt.datetime, minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    h, m = divmod(abs(minutes), 60)
    return (f"{WEEKDAYS[when.weekday()]}, {when.day:02d} {MONTHS[when.month - 1]} {when.year:04d} "
            f"{when:%H:%M:%S} {sign}{h:02d}{m:02d}")


def general_times(values):
    return general_datetimes(pd.Series(pd.array(values, dtype="str")))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.tuples(
    st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2999, 12, 30)),
    st.integers(-23 * 60 - 59, 23 * 60 + 59))), max_size=30))
def test_rfc2822_fast_path_equals_arrow_strptime(items):
    values = [None if i is None else rfc(i[0].replace(microsecond=0), i[1]) for i in items]
    fast = columns.rfc2822(columns.string_array(values))
    if not values:
        assert fast is None
        return
    pd.testing.assert_series_equal(fast, general_times(values))


@pytest.mark.parametrize("value", [
    "Tue, 31 Feb 2010 20:36:28 +0000",     # no such day: the general path decides (raises)
    "Tue, 1 Aug 2010 20:36:28 +0000",      # one-digit day
    "Tue, 31 Aug 2010 24:00:00 +0000",
    "Tue, 31 aug 2010 20:36:28 +0000",
    "Tue, 31 Aug 2010 20:36:28 Z0000",
    "Tue, 31 Aug 2010 20:36:28 +0000 ",
    "2010-08-31T20:36:28+00:00",
])
def test_rfc2822_fast_path_declines_anything_unusual(value):
    assert columns.rfc2822(columns.string_array([value, None])) is None


def test_rfc2822_offsets_and_nulls():
    out = columns.rfc2822(columns.string_array(
        ["Tue, 31 Aug 2010 20:36:28 +0100", None, "", "Mon, 01 Mar 2100 00:00:00 -0530"]))
    assert out.tolist()[0] == pd.Timestamp("2010-08-31 19:36:28", tz="UTC")
    assert out.isna().tolist() == [False, True, True, False]
    assert out[3] == pd.Timestamp("2100-03-01 05:30", tz="UTC") and str(out.dtype) == "datetime64[us, UTC]"


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text("0123456789+-. x", max_size=20),
                          st.integers(-10 ** 19, 10 ** 19).map(str)), max_size=12))
def test_integer_fast_path_equals_to_numeric(values):
    arr = columns.string_array(values)
    fast = columns.integers(arr)
    if fast is None:
        return
    general = general_numbers(columns.as_strings(arr), "Int64")
    pd.testing.assert_series_equal(fast, general)


def test_integer_fast_path_declines_hex_that_arrow_would_read():
    assert columns.integers(columns.string_array(["0x10"])) is None


decimals = st.decimals(min_value=-10 ** 9 + 1, max_value=10 ** 9 - 1, places=6,
                       allow_nan=False, allow_infinity=False)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), decimals.map(str), decimals.map(lambda d: f"{d:f}"),
                          st.text("0123456789+-.e ", max_size=14)), max_size=12))
def test_price_fast_path_is_exact_and_equals_the_general_path(values):
    arr = columns.string_array(values)
    fast = columns.prices(arr)
    if fast is None:
        return
    price, micros = fast
    strings = columns.as_strings(arr)
    pd.testing.assert_series_equal(micros, price_to_micros(strings))
    pd.testing.assert_series_equal(price, general_numbers(strings, "float64").rename(None)
                                   .where(strings.isna(), micros.astype("float64") / 1e6))
    for raw, got in zip(values, micros):
        if raw:
            assert Decimal(raw) * 10 ** 6 == int(got)


@pytest.mark.parametrize("price, micros", [("-0.00001", -10), ("0.0000010", 1), ("-0.00750", -7500),
                                           ("1e3", 1_000_000_000)])
def test_prices_micros_come_from_the_strings_sent(price, micros):
    df = tf.to_frame("calls", [{"sid": "CA1", "price": price, "price_unit": "usd"}])
    assert df.price_micros[0] == micros and df.price[0] == micros / 1e6


def test_string_array_nulls_empty_strings_and_declines_non_strings():
    arr = columns.string_array(["a", "", None])
    assert arr.to_pylist() == ["a", None, None] and arr.type == pa.large_string()
    assert columns.string_array(["a", 5]) is None and columns.string_array([True]) is None
    s = columns.as_strings(arr)
    pd.testing.assert_series_equal(s, pd.Series(pd.array(["a", None, None], dtype="str")))


def test_strip_format_only_drops_a_trailing_extension():
    arr = pa.array(["/a/CA1.json", "/a/CA1.json?Page=2", "/a.jsonx", "/b.xml", None],
                   type=pa.large_string())
    assert columns.strip_format(arr).to_pylist() == ["/a/CA1", "/a/CA1?Page=2", "/a.jsonx", "/b", None]


@pytest.mark.parametrize("values,expected", [
    (["9007199254740993", None], [9007199254740993, pd.NA]),          # 2**53 + 1
    ([" +9223372036854775807", None, "1e3"], [2 ** 63 - 1, pd.NA, 1000]),
    (["-9223372036854775808", None], [-2 ** 63, pd.NA]),
])
def test_general_integers_are_exact_past_2_to_the_53_with_a_null_in_the_batch(values, expected):
    out = general_numbers(pd.Series(pd.array(values, dtype="str")), "Int64")
    assert str(out.dtype) == "Int64" and out.tolist() == expected
    assert tf.to_frame("calls", [{"sid": "CA1", "duration": values[0]},
                                 {"sid": "CA2"}]).duration[0] == expected[0]


@pytest.mark.parametrize("value", ["9223372036854775808", "99999999999999999999", "1e19"])
def test_an_integer_past_int64_is_a_clear_error(value):
    with pytest.raises(tf.ParseError, match=f"'{value}' is not an integer that fits in int64"):
        tf.to_frame("calls", [{"sid": "CA2"}, {"sid": "CA1", "duration": value}])


@pytest.mark.parametrize("value", [
    "Mon, 31 Apr 2011 08:10:37 +0000",     # no 31 April: strptime would roll to 1 May
    "Mon, 04 Apr 2011 08:10:60 +0000",     # second 60: would roll to the next minute
    "Mon, 04 Apr 11 08:10:37 +0000",       # two-digit year: would read as year 11
])
def test_impossible_rfc2822_dates_are_refused_not_rolled_over(value):
    with pytest.raises(BadValue) as info:
        general_datetimes(pd.Series(["Tue, 31 Aug 2010 20:36:28 +0000", value], dtype="str"))
    assert value in str(info.value)


def test_rfc2822_general_path_equals_pandas_with_spaces_offsets_and_nulls():
    values = ["Mon, 04 Apr 2011 08:10:37 +0000", "Mon, 4 Apr 2011 08:10:37 +0100",
              " Tue, 31 Aug 2010 20:36:28 -0700 ", None]
    got = general_datetimes(pd.Series(values, dtype="str"))
    want = pd.to_datetime(pd.Series(values, dtype="str").str.strip(),
                          format="%a, %d %b %Y %H:%M:%S %z", utc=True).astype("datetime64[us, UTC]")
    pd.testing.assert_series_equal(got, want, check_names=False)
