"""Billing and line-item CSVs: exact decimals, UTC dates, injection guard, atomic."""

from __future__ import annotations

import csv
from decimal import Decimal

import pandas as pd
import pytest

import twilio_frames as tf
from billing_fixtures import SUB_A, call, frame, message
from twilio_frames.output.export import BILLING_COLUMNS, micros_text, neutralise


@pytest.fixture
def calls():
    return frame("calls", [call("2024-01-31T23:59:30Z", duration=32, price="-0.0085"),
                           call("2024-02-01T00:00:00Z", duration=61, price="-0.017",
                                account=SUB_A),
                           call("2024-02-02T00:00:00Z", duration=96, price="-0.01701",
                                account=SUB_A)])


def test_billing_csv_columns_and_exact_totals(tmp_path, calls):
    msgs = frame("messages", [message(price="-0.00790") for _ in range(1000)])
    path = tf.write_billing_csv(tmp_path / "bill.csv", calls=calls, messages=msgs)
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["period_start", "period_end", "account_sid", *BILLING_COLUMNS]
    assert [(r["period_start"], r["period_end"]) for r in rows][:2] == [
        ("2024-01-01", "2024-01-31"), ("2024-01-01", "2024-01-31")]
    sms = [r for r in rows if r["product"] == "sms"][0]
    assert (sms["count"], sms["usage"], sms["cost"]) == ("1000", "1000", "7.900000")
    assert sum(Decimal(r["cost"]) for r in rows) == tf.cost_total(calls) + Decimal("7.9")
    back = pd.read_csv(path)
    assert back["cost"].sum() == pytest.approx(float(tf.cost_total(calls)) + 7.9, abs=1e-9)
    assert back["count"].dtype.kind == "i"


def test_per_number_variant(tmp_path, calls):
    path = tf.write_billing_csv(tmp_path / "n.csv", calls=calls, by="our_number", freq="D")
    back = pd.read_csv(path, dtype={"our_number": str})
    assert back["our_number"].unique().tolist() == ["+14155550100"]   # E.164 not prefixed
    assert back["period_start"].tolist() == ["2024-01-31", "2024-02-01", "2024-02-02"]


def test_line_items_csv_exact_prices_iso_dates(tmp_path, calls):
    path = tf.write_line_items_csv(calls, tmp_path / "items.csv")
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert back["start_time"].tolist()[0] == "2024-01-31T23:59:30Z"
    assert back["price"].tolist() == ["-0.008500", "-0.017000", "-0.017010"]
    assert back["cost"].tolist() == ["0.008500", "0.017000", "0.017010"]
    assert sum(Decimal(c) for c in back["cost"]) == tf.cost_total(calls)
    assert back["usage"].tolist() == ["1", "2", "2"]


def test_formula_injection_is_neutralised_numbers_stay_numbers(tmp_path):
    bodies = ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
              "\tx", "\rx", "plain", "héllo, \"quoted\"\nnext line"]
    msgs = frame("messages", [message(body=b, price="-0.0079") for b in bodies])
    path = tf.write_line_items_csv(msgs, tmp_path / "m.csv", columns=["body", "from",
                                                                      "price", "cost"])
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert back["body"].tolist()[:6] == ["'" + b for b in bodies[:6]]
    assert back["body"].tolist()[6:] == bodies[6:]
    assert back["price"].tolist() == ["-0.007900"] * len(bodies)      # numeric: no quote
    assert back["from"].tolist()[0] == "+14155550199"
    assert path.read_bytes().decode("utf-8").count("héllo") == 1


def test_neutralise_and_micros_text_units():
    assert neutralise(pd.Series(["+14155550100", "+1 =cmd", "-", None], dtype="str")
                      ).tolist()[:3] == ["+14155550100", "'+1 =cmd", "'-"]
    assert micros_text(pd.Series(pd.array([-1, 0, 1_234_567_890, None], "Int64"))
                       ).tolist() == ["-0.000001", "0.000000", "1234.567890", ""]


def test_existing_path_is_never_overwritten_unless_asked(tmp_path, calls):
    path = tmp_path / "bill.csv"
    path.write_text("keep me")
    with pytest.raises(FileExistsError):
        tf.write_billing_csv(path, calls=calls)
    assert path.read_text() == "keep me"
    tf.write_billing_csv(path, calls=calls, overwrite=True)
    assert path.read_text().startswith("period_start,")
    assert [p.name for p in tmp_path.iterdir()] == ["bill.csv"]      # no temp file left


def test_failed_write_leaves_nothing_half_written(tmp_path, calls):
    with pytest.raises(tf.ConfigurationError, match="unknown column"):
        tf.write_line_items_csv(calls, tmp_path / "x.csv", columns=["sid", "nope"])
    with pytest.raises(tf.ConfigurationError, match="float"):
        tf.write_line_items_csv(calls.assign(extra=1.5), tmp_path / "x.csv",
                                columns=["extra"])
    assert list(tmp_path.iterdir()) == []


def test_write_cells_csv_money_from_micros_dates_and_hours(tmp_path):
    from twilio_frames.output.export import write_cells_csv
    frame = pd.DataFrame({
        "day": pd.to_datetime(["2026-08-31", None]).tz_localize("UTC"),
        "price": [0.1 + 0.2, None], "price_m": pd.array([300_000, None], dtype="Int64"),
        "age": pd.to_timedelta(["87 days 21:16:58", None]),
        "share": [0.25, None], "note": ["=cmd|' /C calc'!A0", "ok"]})
    path = write_cells_csv(frame, tmp_path / "t.csv", columns=["day", "price", "age",
                                                              "share", "note"],
                           micros={"price": "price_m"}, dates=("day",))
    assert path.read_bytes().decode("utf-8").split("\r\n") == [
        "day,price,age,share,note",
        "2026-08-31,0.300000,2109.282778,0.25,'=cmd|' /C calc'!A0",
        ",,,,ok", ""]


def test_billing_periods_are_calendar_periods_or_clipped_to_the_range(tmp_path, calls):
    """calls run 2024-01-31 .. 2024-02-02: a fetch of [01-31, 02-03) must not be labelled
    as if it covered all of January and February."""
    def labels(path):
        with open(path, encoding="utf-8", newline="") as f:
            return sorted({(r["period_start"], r["period_end"]) for r in csv.DictReader(f)})
    calendar = tf.write_billing_csv(tmp_path / "m.csv", calls=calls, freq="M")
    assert labels(calendar) == [("2024-01-01", "2024-01-31"), ("2024-02-01", "2024-02-29")]
    clipped = tf.write_billing_csv(tmp_path / "c.csv", calls=calls, freq="M",
                                   start="2024-01-31", end="2024-02-03")
    assert labels(clipped) == [("2024-01-31", "2024-01-31"), ("2024-02-01", "2024-02-02")]
    weekly = tf.write_billing_csv(tmp_path / "w.csv", calls=calls, freq="W",
                                  start=pd.Timestamp("2024-01-31", tz="UTC"),
                                  end=pd.Timestamp("2024-02-03", tz="UTC"))
    assert labels(weekly) == [("2024-01-31", "2024-02-02")]
    with pytest.raises(tf.ConfigurationError, match="outside"):
        tf.write_billing_csv(tmp_path / "x.csv", calls=calls, start="2024-02-01",
                             end="2024-03-01")
    assert not (tmp_path / "x.csv").exists()


def test_billing_csv_with_usage_is_the_whole_bill(tmp_path):
    """Issue 8.2: with usage=, rows from Usage Records join the list products and each
    account's rows add up to its totalprice."""
    from billing_fixtures import call, frame, usage
    calls = frame("calls", [call("2024-01-10T10:00:00Z", duration=60, price="-0.0085")])
    records = frame("usage_records", [
        usage("calls", "2024-01-10", count="1", usage_="1", price="0.0085"),
        usage("calls-inbound", "2024-01-10", count="1", usage_="1", price="0.0085"),
        usage("phonenumbers-local", "2024-01-10", count="1", usage_="1", price="1.15"),
        usage("totalprice", "2024-01-10", count=None, price="1.2585")])
    path = tf.write_billing_csv(tmp_path / "b.csv", calls=calls, usage=records, freq="D")
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["source"], r["product"], r["cost"]) for r in rows] == [
        ("lists", "calls", "0.008500"), ("usage_records", "phonenumbers-local", "1.150000"),
        ("usage_records", "no-category", "0.100000")]
    assert sum(Decimal(r["cost"]) for r in rows) == Decimal("1.2585")
    with pytest.raises(tf.ConfigurationError, match="by must be 'account_sid'"):
        tf.write_billing_csv(tmp_path / "c.csv", calls=calls, usage=records, by="our_number")
