"""cost_by_period, breakdowns, unrated and top-N: shapes, rules and bad input."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

import twilio_frames as tf
from billing_fixtures import SUB_A, call, frame, message, recording
from billing_fixtures import rfc2822 as bc_rfc2822

COLUMNS = ["period", "product", "currency", "count", "usage", "usage_unit", "cost",
           "cost_micros", "n_unrated"]


def _calls(*records):
    return frame("calls", list(records))


@pytest.fixture
def mixed():
    calls = _calls(call("2024-01-01T10:00:00Z", duration=61, price="-0.017"),
                   call("2024-01-02T10:00:00Z", duration=32, account=SUB_A,
                        direction="outbound-api", to="+447911123456", frm="+14155550100"),
                   call("2024-01-08T10:00:00Z", status="busy", duration=None, price=None))
    msgs = frame("messages", [message("2024-01-01T11:00:00Z", segments="2", price="-0.0158"),
                              message("2024-01-03T11:00:00Z", media="1", price="-0.02")])
    recs = frame("recordings", [recording("2024-01-01T10:05:00Z", duration="61",
                                          price="-0.005")])
    return calls, msgs, recs


def test_cost_by_period_daily_columns_products_and_units(mixed):
    calls, msgs, recs = mixed
    out = tf.cost_by_period(calls, msgs, recs, freq="D")
    assert list(out.columns) == COLUMNS
    assert str(out["period"].dtype) == "datetime64[us, UTC]"
    day1 = out[out["period"] == pd.Timestamp("2024-01-01", tz="UTC")].set_index("product")
    assert day1.loc["calls", ["count", "usage", "cost_micros"]].tolist() == [1, 2, 17000]
    assert day1.loc["sms", ["usage", "cost_micros"]].tolist() == [2, 15800]
    assert day1.loc["recordings", "usage"] == 2
    units = out.drop_duplicates("product").set_index("product")["usage_unit"].astype(str)
    assert units.to_dict() == {"calls": "minutes", "sms": "segments", "mms": "messages",
                               "recordings": "minutes"}
    assert (out["cost"] >= 0).all()
    assert out["cost_micros"].sum() == 17000 + 8500 + 15800 + 20000 + 5000


def test_cost_by_period_weeks_months_and_by(mixed):
    calls, msgs, _ = mixed
    weekly = tf.cost_by_period(calls=calls, freq="w")
    assert weekly["period"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-01-08"]
    monthly = tf.cost_by_period(calls=calls, messages=msgs, freq="M",
                                by=["account_sid", "country"])
    assert list(monthly.columns[:3]) == ["period", "account_sid", "country"]
    sub = monthly[monthly["account_sid"] == SUB_A]
    assert sub["country"].tolist() == ["GG"] and sub["usage"].tolist() == [1]
    by_dir = tf.cost_by_period(calls=calls, messages=msgs, by="direction")
    assert by_dir["direction"].notna().all()


def test_cost_by_period_local_time_zone_moves_the_day():
    calls = _calls(call("2024-01-02T03:00:00Z"))
    utc = tf.cost_by_period(calls=calls)
    ny = tf.cost_by_period(calls=calls, tz="America/New_York")
    assert utc.loc[0, "period"] == pd.Timestamp("2024-01-02", tz="UTC")
    assert ny.loc[0, "period"] == pd.Timestamp("2024-01-01", tz="America/New_York")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"freq": "H"}, "unknown freq 'H'"), ({"tz": "Mars/Base"}, "unknown time zone"),
    ({"by": "nope"}, "by='nope'")])
def test_cost_by_period_bad_options(mixed, kwargs, match):
    with pytest.raises(tf.ConfigurationError, match=match):
        tf.cost_by_period(calls=mixed[0], **kwargs)


def test_cost_by_period_bad_frames(mixed):
    with pytest.raises(tf.ConfigurationError, match="at least one"):
        tf.cost_by_period()
    with pytest.raises(tf.ConfigurationError, match="missing column"):
        tf.cost_by_period(calls=mixed[0].drop(columns=["duration"]))
    with pytest.raises(tf.ConfigurationError, match="calls= got a messages frame"):
        tf.cost_by_period(calls=mixed[1])


def test_empty_frames_give_empty_summaries():
    empty = _calls(call()).iloc[0:0]
    out = tf.cost_by_period(calls=empty)
    assert out.empty and list(out.columns) == COLUMNS


def test_call_summary_and_duration_statistics(mixed):
    out = tf.call_summary(mixed[0], by="status").set_index(
        tf.call_summary(mixed[0], by="status")["status"].astype(str))
    assert out.loc["completed", ["calls", "completed", "billed_minutes", "duration_s"]
                   ].tolist() == [2, 2, 3, 93]
    assert out.loc["completed", "median_duration_s"] == 46.5
    assert out.loc["busy", "billed_minutes"] == 0


def test_message_summary_failure_rates():
    msgs = frame("messages", [message(), message(status="failed", price=None,
                                                 error_code=30003),
                              message(status="undelivered", error_code=30005),
                              message(body="Привет")])
    out = tf.message_summary(msgs, by=None)
    assert out.loc[0, "messages"] == 4 and out.loc[0, "failure_rate"] == 0.5
    enc = tf.message_summary(msgs, by="encoding").set_index("encoding")
    assert enc.loc["UCS-2", "messages"] == 1 and enc.loc["GSM-7", "messages"] == 3
    codes = tf.message_summary(msgs, by="error_code")
    assert codes["error_code"].dropna().tolist() == [30003, 30005]


def test_unrated_shows_pending_charges():
    calls = _calls(call(price=None), call(status="busy", price=None, duration=None), call(),
                   call())
    out = tf.unrated(calls, now="2024-01-11T12:00:00Z", include_unbilled=True
                     ).set_index("status")
    assert out.loc["completed", "pending"] and not out.loc["busy", "pending"]
    assert out.loc["completed", "rows"] == 1 and out.loc["completed", "share"] == 0.25
    assert out.loc["completed", "max_age"] == pd.Timedelta(hours=24)


@pytest.mark.parametrize("status", ["busy", "no-answer", "canceled", "failed"])
def test_unrated_leaves_out_calls_that_are_never_billed(status):
    """Issue 8.7: a busy, unanswered, canceled or failed call keeps a null price for ever;
    it is not "waiting for a price"."""
    calls = _calls(call(price=None), call(status=status, price=None, duration=None))
    out = tf.unrated(calls, now="2024-01-11T12:00:00Z")
    assert out["status"].tolist() == ["completed"] and out["pending"].all()
    for waiting in ("queued", "ringing", "in-progress"):
        still = tf.unrated(_calls(call(status=waiting, price=None, duration=None)),
                           now="2024-01-11T12:00:00Z")
        assert still["status"].tolist() == [waiting]


def test_top_numbers_and_countries():
    calls = _calls(call(direction="outbound-api", to="+447911123456", frm="+14155550100",
                        price="-0.10"),
                   call(direction="outbound-api", to="+16135550123", frm="+14155550101",
                        price="-0.02"),
                   call(direction="inbound", to="+14155550101", frm="client:alice",
                        price="-0.004"))
    countries = tf.top_countries(calls=calls, n=2)
    assert countries["country"].tolist() == ["GG", "CA"]
    assert countries["rank"].tolist() == [1, 2]
    numbers = tf.top_numbers(calls=calls, n=5)
    assert numbers["number"].tolist() == ["+14155550100", "+14155550101"]
    assert tf.micros_to_decimal(numbers["cost_micros"].iloc[1]) == Decimal("0.024")
    with pytest.raises(tf.ConfigurationError, match="side"):
        tf.top_numbers(calls=calls, side="theirs")


def test_cost_by_period_many_high_cardinality_by_columns():
    """Five by= columns with a distinct value per row: the mixed-radix group key would be
    about 5000**5 * 5 * 2 > 2**63; it must not wrap (each row is its own group)."""
    n = 5000
    records = [message("2024-01-01T00:00:00Z", to=f"+1415555{i:04d}",
                       frm=f"+1650555{i:04d}", body=f"hello {i}", price=f"-0.{i + 1000:05d}")
               for i in range(n)]
    for i, r in enumerate(records):
        r["date_created"] = bc_rfc2822(pd.Timestamp("2020-01-01", tz="UTC")
                                       + pd.Timedelta(seconds=i))
    msgs = frame("messages", records)
    by = ["sid", "to", "from", "body", "date_created"]
    out = tf.cost_by_period(messages=msgs, by=by)
    assert len(out) == n and (out["count"] == 1).all()
    expected = msgs.set_index("sid")
    got = out.set_index("sid")
    for col in ("to", "from", "body", "date_created"):
        assert (got[col] == expected.loc[got.index, col]).all(), col
    assert (got["cost_micros"] == -expected.loc[got.index, "price_micros"]).all()
