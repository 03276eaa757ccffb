"""Dates and durations a person types (issue 8.6): strict, clear errors, no warnings.

Warnings are errors in this test suite, so a pandas deprecation warning escaping the
library fails the tests that pass ``window="1H"``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import twilio_frames as tf
from twilio_frames.cli.main import main
from twilio_frames.fetch.dates import parse_duration, to_utc
from twilio_frames.fetch.paging import split_windows


def client(sim, **kw):
    return tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False, **kw)


UTC = "UTC"


@pytest.mark.parametrize("value,expected", [
    ("2026-11-01", pd.Timestamp("2026-11-01", tz=UTC)),
    (" 2026-11-01 ", pd.Timestamp("2026-11-01", tz=UTC)),
    ("2026-11-01T12:00", pd.Timestamp("2026-11-01 12:00", tz=UTC)),
    ("2026-11-01 12:00:30", pd.Timestamp("2026-11-01 12:00:30", tz=UTC)),
    ("2026-11-01T12:00:00Z", pd.Timestamp("2026-11-01 12:00", tz=UTC)),
    ("2026-11-01T12:00+01:00", pd.Timestamp("2026-11-01 11:00", tz=UTC)),
    ("2026-11-01T12:00:00.250-05:00", pd.Timestamp("2026-11-01 17:00:00.250", tz=UTC)),
    (dt.date(2026, 11, 1), pd.Timestamp("2026-11-01", tz=UTC)),
    (dt.datetime(2026, 11, 1, 6), pd.Timestamp("2026-11-01 06:00", tz=UTC)),
    (dt.datetime(2026, 11, 1, 6, tzinfo=dt.timezone(dt.timedelta(hours=2))),
     pd.Timestamp("2026-11-01 04:00", tz=UTC)),
    (pd.Timestamp("2026-11-01 06:00", tz="Europe/Paris"), pd.Timestamp("2026-11-01 05:00", tz=UTC)),
    (np.datetime64("2026-11-01T06:00"), pd.Timestamp("2026-11-01 06:00", tz=UTC)),
    (None, None),
])
def test_accepted_dates(value, expected):
    assert to_utc(value) == expected if expected is not None else to_utc(value) is None


@pytest.mark.parametrize("value", ["Nov 1", "1/11/2026", "11/1/2026", "2026-11", "today", "now",
                                   "", "2026-13-01", "2026-11-01T25:00", 1_700_000_000, 1.5,
                                   True, ["2026-11-01"], pd.NaT])
def test_ambiguous_or_bad_dates_are_refused_naming_the_value_and_the_forms(value):
    with pytest.raises(tf.ConfigurationError) as err:
        to_utc(value, name="start")
    text = str(err.value)
    assert f"start={value!r}" in text and "ISO 8601" in text and "\n" not in text


def test_a_year_pandas_cannot_hold_is_refused_not_out_of_bounds():
    with pytest.raises(tf.ConfigurationError, match=r"end='0001-11-01' is outside the dates"):
        to_utc("0001-11-01", name="end")


def test_client_refuses_nov_1_before_any_request(faulty_sim):
    for call in (lambda c: c.calls(start="Nov 1"), lambda c: c.messages(end="1/11/2026"),
                 lambda c: c.usage_records("daily", start="Nov 1"),
                 lambda c: list(c.iter_records("recordings", start="Nov 1"))):
        with pytest.raises(tf.ConfigurationError, match=r"is not an unambiguous date"):
            call(client(faulty_sim))
    assert faulty_sim.stats.requests == 0


def test_write_billing_csv_refuses_nov_1(tmp_path):
    calls = tf.to_frame("calls", [])
    with pytest.raises(tf.ConfigurationError, match=r"start='Nov 1'"):
        tf.write_billing_csv(tmp_path / "b.csv", calls=calls, start="Nov 1", end="2026-12-01")
    assert not (tmp_path / "b.csv").exists()


def test_cli_refuses_a_typed_date(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fetch", "calls", "--start", "Nov 1", "--end", "2026-11-15", "--out", "x.csv"])
    assert exit_.value.code == 2 and "'Nov 1'" in capsys.readouterr().err


@pytest.mark.parametrize("text,expected", [
    ("1h", pd.Timedelta(hours=1)), ("1H", pd.Timedelta(hours=1)), ("7D", pd.Timedelta(days=7)),
    ("1d", pd.Timedelta(days=1)), ("36h", pd.Timedelta(hours=36)),
    ("10S", pd.Timedelta(seconds=10)), ("90min", pd.Timedelta(minutes=90)),
    ("1h30m", pd.Timedelta(minutes=90)), ("2 days", pd.Timedelta(days=2)),
    ("1.5h", pd.Timedelta(minutes=90)), ("2W", pd.Timedelta(days=14)),
    ("P1D", pd.Timedelta(days=1)), ("PT6H", pd.Timedelta(hours=6)),
    (dt.timedelta(hours=3), pd.Timedelta(hours=3)), (pd.Timedelta("2D"), pd.Timedelta(days=2)),
])
def test_durations_parse_without_warnings(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text,words", [
    ("1M", "ambiguous unit 'M'"), ("1Y", "unknown or ambiguous unit 'Y'"),
    ("abc", "is not a duration"), ("0h", "must be positive"), ("-1D", "is not a duration"),
    ("", "is not a duration"), (3600, "is not a duration"), ("1h 2x", "unit 'x'"),
])
def test_bad_durations_are_refused(text, words):
    with pytest.raises(tf.ConfigurationError, match=words) as err:
        parse_duration(text)
    assert "window=" in str(err.value)


def test_split_windows_takes_an_uppercase_unit():
    edges = split_windows(pd.Timestamp("2026-11-01", tz=UTC), pd.Timestamp("2026-11-01 03:00", tz=UTC),
                          "1H")
    assert len(edges) == 3 and edges[-1][1] == pd.Timestamp("2026-11-01 03:00", tz=UTC)


def test_client_window_1H_gives_the_1h_frame_and_no_warning(sim):
    start, end = "2026-11-10", "2026-11-10T06:00"
    upper = client(sim).calls(start=start, end=end, window="1H")
    lower = client(sim).calls(start=start, end=end, window="1h")
    pd.testing.assert_frame_equal(upper, lower)
    pd.testing.assert_frame_equal(upper, client(sim).calls(start=start, end=end))
