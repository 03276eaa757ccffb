"""tf.usage_triggers: daily and monthly totalprice values from an account's history."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

import twilio_frames as tf

A, B = "AC" + "a" * 32, "AC" + "b" * 32


def _usage(sid, prices, start="2026-01-01", category="totalprice"):
    days = pd.date_range(start, periods=len(prices), freq="D", tz="UTC")
    micros = [int(Decimal(p) * 10**6) for p in prices]
    return pd.DataFrame({"account_sid": sid, "category": category, "start_date": days,
                         "end_date": days, "price_micros": pd.array(micros, dtype="Int64"),
                         "price_unit": "USD", "price": [m / 1e6 for m in micros]})


def test_values_come_from_the_history_and_say_how_often_they_fire():
    prices = ["0"] * 5 + ["1.00"] * 55 + ["250.00"] + ["1.00"] * 29     # 85 charged days
    usage = pd.concat([_usage(A, prices), _usage(A, ["9"] * 90, category="sms")])
    out = tf.usage_triggers(usage)
    daily = out[out["recurring"] == "daily"].iloc[0]
    assert daily["periods"] == 85            # leading days without charges left out
    assert daily["trigger_value"] == Decimal("2.00")     # p95 of days (1.00) x 2
    assert daily["would_fire"] == 1 and daily["last_fired"] == pd.Timestamp("2026-03-02", tz="UTC")
    monthly = out[out["recurring"] == "monthly"].iloc[0]
    # months capped at the daily value: Jan 26 x 1.00, Feb 28 x 1.00, Mar 1 + 250 + 29
    assert monthly["periods"] == 3
    assert monthly["trigger_value"] > Decimal("60") and monthly["would_fire"] == 1
    assert monthly["highest"] == Decimal("280.000000")


def test_accounts_apart_and_short_histories_get_no_value():
    out = tf.usage_triggers(pd.concat([_usage(A, ["1"] * 40), _usage(B, ["1"] * 10)]))
    short = out[out["account_sid"] == B]
    assert short["trigger_value"].isna().all() and len(short) == 2
    assert out[out["account_sid"] == A]["trigger_value"].notna().all()


def test_bad_input():
    with pytest.raises(tf.ConfigurationError, match="totalprice"):
        tf.usage_triggers(_usage(A, ["1"] * 40, category="sms"))
    monthly = _usage(A, ["1"] * 3)
    monthly["end_date"] = monthly["start_date"] + pd.Timedelta("30D")
    with pytest.raises(tf.ConfigurationError, match="daily Usage Records"):
        tf.usage_triggers(monthly)
    with pytest.raises(tf.ConfigurationError, match="missing column"):
        tf.usage_triggers(_usage(A, ["1"]).drop(columns="price_unit"))


def test_a_dask_frame_gives_the_same_values():
    dd = pytest.importorskip("dask.dataframe")
    usage = _usage(A, ["1.00"] * 40 + ["9.00"])
    pd.testing.assert_frame_equal(tf.usage_triggers(dd.from_pandas(usage, npartitions=3)),
                                  tf.usage_triggers(usage))
