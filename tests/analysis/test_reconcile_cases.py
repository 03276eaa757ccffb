"""reconcile() on hand-built frames whose every figure is worked out by hand: records
spanning several days and a month, a day without messages, a day without a record,
mixed currencies, unrated rows and an open period; pandas and Dask alike."""

from __future__ import annotations

import pandas as pd
import pytest

import twilio_frames as tf
from billing_fixtures import ACCOUNT, frame, message, usage
from twilio_frames.analysis import reconciliation

OTHER = "AC" + "f" * 32
FIELDS = ["account_sid", "category", "start_date", "end_date", "currency", "list_count",
          "list_usage", "list_price_micros", "record_count", "n_unrated", "status", "reason"]


def cases():
    msgs = frame("messages", [
        message("2024-01-10T08:00:00Z", segments="2", price="-0.0158"),
        message("2024-01-10T23:59:59Z", direction="inbound", status="received",
                price="-0.0079"),
        message("2024-01-11T00:00:00Z", price="-0.0079"),
        # 2024-01-12: no messages; 2024-01-13: sent, not priced yet
        message("2024-01-13T10:00:00Z", status="sent", price=None),
        message("2024-01-14T10:00:00Z", price="-0.0070", unit="EUR"),
        message("2024-01-20T10:00:00Z", price="-0.0079"),          # no record that day
        message("2024-02-03T10:00:00Z", price="-0.0079"),
        message("2024-01-10T09:00:00Z", price="-0.0079", account=OTHER),
    ])
    rec = frame("usage_records", [
        usage("sms", "2024-01-10", count="2", usage_="3", price="0.0237"),
        usage("sms-outbound", "2024-01-10", "2024-01-11", count="2", usage_="3",
              price="0.0237"),
        usage("sms-outbound", "2024-01-12", count="0"),
        usage("sms-outbound", "2024-01-13", count="1", usage_="1"),
        usage("sms-outbound", "2024-01-14", count="1", usage_="1", price="0.0079"),
        usage("sms-outbound", "2024-02-01", "2024-02-29", count="1", usage_="1",
              price="0.0079", as_of="2024-02-15T00:00:00+00:00"),
        usage("SMS-Outbound", "2024-01-10", count="1", usage_="1", price="0.0079",
              account=OTHER),
        usage("calls", "2024-01-10", count="5", usage_="9", price="0.1"),   # no calls list
        usage("totalprice", "2024-01-10", price="1"),                      # not reconciled
    ])
    return msgs, rec


EXPECTED = [
    (ACCOUNT, "sms", "2024-01-10", "2024-01-10", "USD", 2, 3.0, 23700, 2, 0, "match", ""),
    (ACCOUNT, "sms-outbound", "2024-01-10", "2024-01-11", "USD", 2, 3.0, 23700, 2, 0,
     "match", ""),
    (ACCOUNT, "sms-outbound", "2024-01-12", "2024-01-12", "USD", 0, 0.0, 0, 0, 0, "match", ""),
    (ACCOUNT, "sms-outbound", "2024-01-13", "2024-01-13", "USD", 1, 1.0, 0, 1, 1, "pending",
     "unrated rows"),
    # the EUR row counts, its price is not added to a USD record's
    (ACCOUNT, "sms-outbound", "2024-01-14", "2024-01-14", "USD", 1, 1.0, 0, 1, 0, "mismatch",
     "rows in another currency"),
    (ACCOUNT, "sms-outbound", "2024-01-20", "2024-01-20", "USD", 1, 1.0, 7900, None, 0,
     "mismatch", "no usage record for this day"),
    (ACCOUNT, "sms-outbound", "2024-02-01", "2024-02-29", "USD", 1, 1.0, 7900, 1, 0, "pending",
     "period not closed (as_of)"),
    (OTHER, "sms-outbound", "2024-01-10", "2024-01-10", "USD", 1, 1.0, 7900, 1, 0, "match", ""),
]


def rows(out: pd.DataFrame) -> list[tuple]:
    got = out[FIELDS].copy()
    for col in ("start_date", "end_date"):
        got[col] = got[col].dt.strftime("%Y-%m-%d")
    got["status"] = got["status"].astype(str)
    return [tuple(None if pd.isna(v) else v for v in r)
            for r in got.itertuples(index=False, name=None)]


def test_every_figure_as_worked_out_by_hand():
    msgs, rec = cases()
    out = tf.reconcile(rec, messages=msgs)
    assert list(out.columns) == reconciliation.COLUMNS
    assert rows(out) == EXPECTED
    assert out["record_price_micros"].tolist()[:2] == [23700, 23700]
    assert out["price_diff"].tolist()[4] == -0.0079


@pytest.mark.parametrize("npartitions", [1, 3, 8])
def test_dask_gives_the_same_frame(npartitions):
    dd = pytest.importorskip("dask.dataframe")
    import dask
    msgs, rec = cases()
    want = tf.reconcile(rec, messages=msgs)
    with dask.config.set(scheduler="sync"):
        got = tf.reconcile(rec, messages=dd.from_pandas(msgs, npartitions=npartitions))
    pd.testing.assert_frame_equal(got, want, check_exact=True)


@pytest.mark.parametrize("values", [
    ["SMS", "sms-Outbound", None, "MMS", "sms"],
    [],
    [None, None],
])
@pytest.mark.parametrize("dtype", ["category", "str", object])
def test_per_value_is_the_per_row_string_method(values, dtype):
    column = pd.Series(values, dtype=dtype, name="category", index=range(7, 7 + len(values)))
    for method in ("lower", "upper"):
        pd.testing.assert_series_equal(reconciliation._per_value(column, method),
                                       getattr(column.astype("str").str, method)())


def test_tolerances_per_currency():
    got = reconciliation._tolerances(pd.Series(["USD", "JPY", None, "KWD", "USD"], dtype="str"))
    assert got.tolist() == [10_000, 1_000_000, 0, 1_000, 10_000]
