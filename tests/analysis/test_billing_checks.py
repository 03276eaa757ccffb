"""The 15 checks of ``reference/billing-rules.md`` §10, with the fixture values given there.

Where a check is partly about fetching (6: the list window, 7: the usage window, 10: the
IncludeSubaccounts flag, 15: pagination), this file asserts what the analysis layer owns
and the date-filter helper of ``paging.py``; the HTTP side is covered by the client's
tests (``tests/fetch/test_client.py`` / ``tests/fetch/test_paging.py``).
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

import twilio_frames as tf
from billing_fixtures import ACCOUNT, SUB_A, SUB_B, call, frame, message, recording, usage
from twilio_frames.analysis.billing import derive
from twilio_frames.fetch.paging import date_filters


def _calls(*records):
    return frame("calls", list(records))


# 1. Exact decimal parsing
def test_check01_exact_decimal_totals():
    one = frame("messages", [message(price="-0.01300")])
    assert tf.cost_total(one) == Decimal("0.01300")
    many = frame("messages", [message(price="-0.00790") for _ in range(1000)])
    total = tf.cost_total(many)
    assert total == Decimal("7.90000")
    assert str(total.quantize(Decimal("0.00001"))) == "7.90000"


def test_check01_null_empty_absent_prices_are_missing_not_zero():
    records = [message(price=None), message(price=""), message(), message(price="-0.0079")]
    del records[2]["price"]
    msgs = frame("messages", records)
    assert msgs["price_micros"].isna().tolist() == [True, True, True, False]
    assert derive(msgs, "messages")["cost_micros"].isna().tolist() == [True] * 3 + [False]
    assert tf.cost_totals(msgs) == {"USD": Decimal("0.0079")}
    summary = tf.cost_by_period(messages=msgs)
    assert summary["n_unrated"].sum() == 3 and summary["count"].sum() == 4


# 2. Sign normalisation
def test_check02_signs_per_resource():
    calls = _calls(call(duration=32, price="-0.0085"), call(duration=61, price="-0.017"),
                   call(duration=96, price="-0.017"))
    assert tf.cost_totals(calls) == {"USD": Decimal("0.0425")}
    recs = frame("recordings", [recording(price="-0.00250"), recording(price="0.04")])
    assert tf.cost_total(recs) == Decimal("0.04250")
    rows = frame("usage_records", [usage("calls", "2024-01-01", price="0.38")])
    assert tf.cost_total(rows, resource="usage_records") == Decimal("0.38")


# 3. Billed minutes rule
@pytest.mark.parametrize(("seconds", "minutes"), [(32, 1), (61, 2), (96, 2), (124, 3),
                                                  (0, 1), (None, 1), (60, 1)])
def test_check03_completed_minutes(seconds, minutes):
    items = tf.line_items(_calls(call(duration=seconds)))
    assert items["usage"].tolist() == [minutes]


@pytest.mark.parametrize("status", ["busy", "failed", "no-answer", "canceled"])
def test_check03_unbilled_statuses_are_zero_whatever_duration(status):
    items = tf.line_items(_calls(call(duration=95, status=status, price=None), call()))
    assert items["usage"].tolist() == [0, 1]
    assert not items["unrated"].any()


# 4. Legs are never deduplicated
def test_check04_forwarded_call_costs_both_legs():
    parent = call(duration=600, price="-0.085", direction="inbound")
    child = call(duration=600, price="-0.13", direction="outbound-dial",
                 parent=parent["sid"], to="+14155550111")
    calls = _calls(parent, child)
    conv = tf.conversations(calls)
    assert len(conv) == 1
    assert conv.loc[0, "conversation_sid"] == parent["sid"]
    assert conv.loc[0, "legs"] == 2
    assert conv.loc[0, "billed_minutes"] == 20
    assert tf.micros_to_decimal(conv.loc[0, "cost_micros"]) == Decimal("0.215")
    assert conv["cost_micros"].sum() == tf.line_items(calls)["cost_micros"].sum()


# 5. Category scoping of calls
def test_check05_client_sip_and_trunking_legs_leave_the_calls_bucket():
    parent = call(direction="inbound")
    legs = [parent,
            call(direction="outbound-dial", parent=parent["sid"], to="client:alice"),
            call(direction="outbound-api", to="sip:bob@example.com"),
            call(direction="trunking-terminating"),
            call(direction="outbound-api", to="+447911123456")]
    items = tf.line_items(_calls(*legs))
    assert items["category"].astype(str).tolist() == [
        "calls-inbound", "calls-client", "calls-sip", "trunking-termination",
        "calls-outbound"]
    days = ["2024-01-10"]
    rec = frame("usage_records", [usage(c, days[0]) for c in
                                  ("calls", "calls-inbound", "calls-outbound")])
    out = tf.reconcile(rec, calls=_calls(*legs)).set_index("category")
    assert out.loc["calls", "list_count"] == 2
    assert (out.loc["calls-inbound", "list_count"] + out.loc["calls-outbound", "list_count"]
            == out.loc["calls", "list_count"])


# 6. UTC start-date attribution
def test_check06_calls_belong_to_their_utc_start_month():
    late = call("2024-01-31T23:59:30Z", duration=100)
    midnight = call("2024-02-01T00:00:00Z")
    offset = call("2024-02-01T04:30:00Z")
    offset["start_time"] = "Wed, 31 Jan 2024 23:30:00 -0500"
    calls = _calls(late, midnight, offset)
    out = tf.cost_by_period(calls=calls, freq="M")
    assert out["period"].dt.strftime("%Y-%m").tolist() == ["2024-01", "2024-02"]
    assert out["count"].tolist() == [1, 2]


def test_check06_fetch_window_is_half_open():
    start, end = pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-02-01", tz="UTC")
    assert date_filters("calls", start, end) == {"StartTime>": "2024-01-01",
                                                       "StartTime<": "2024-02-01"}


# 7. Inclusive usage date ranges
def test_check07_daily_and_monthly_grains_agree():
    calls = _calls(*(call(f"2024-01-{d:02d}T10:00:00Z", duration=61, price="-0.017")
                     for d in range(1, 32)))
    daily = frame("usage_records", [usage("calls", f"2024-01-{d:02d}", count="1",
                                          usage_="2", price="0.017")
                                    for d in range(1, 32)])
    monthly = frame("usage_records", [usage("calls", "2024-01-01", "2024-01-31",
                                            count="31", usage_="62", price="0.527")])
    assert daily["price_micros"].sum() == monthly["price_micros"].sum()
    assert daily["usage"].sum() == monthly["usage"].sum()
    by_day = tf.reconcile(daily, calls=calls)
    by_month = tf.reconcile(monthly, calls=calls)
    assert (by_day["status"] == "match").all() and len(by_day) == 31
    assert by_month["status"].tolist() == ["match"]
    assert by_month.loc[0, "list_count"] == 31       # Jan 31 is inside end_date


def test_check07_usage_window_is_inclusive():
    start, end = pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-02-01", tz="UTC")
    assert date_filters("usage_records", start, end) == {
        "StartDate": "2024-01-01", "EndDate": "2024-01-31"}


# 8. Resource-to-usage reconciliation
def _month_fixture(price_of_last="-0.017"):
    calls = _calls(call("2024-01-05T10:00:00Z", duration=32, price="-0.0085"),
                   call("2024-01-06T10:00:00Z", duration=61, price="-0.017"),
                   call("2024-01-31T23:59:30Z", duration=96, price=price_of_last),
                   call("2024-01-07T10:00:00Z", duration=None, status="busy", price=None))
    rec = frame("usage_records", [usage("calls", "2024-01-01", "2024-01-31", count="3",
                                        usage_="5", price="0.04",
                                        as_of="2024-02-02T06:00:00+00:00")])
    return calls, rec


def test_check08_closed_fully_rated_month_matches():
    calls, rec = _month_fixture()
    row = tf.reconcile(rec, calls=calls).iloc[0]
    assert row["status"] == "match"
    assert abs(row["price_diff"]) < 0.01
    assert row["list_usage"] == int(row["record_usage"]) == 5


def test_check08_unrated_completed_call_is_pending_not_mismatch():
    calls, rec = _month_fixture(price_of_last=None)
    row = tf.reconcile(rec, calls=calls).iloc[0]
    assert row["status"] == "pending"
    assert row["n_unrated"] == 1


def test_check08_open_period_is_pending_and_a_wrong_record_mismatches():
    calls, rec = _month_fixture()
    rec.loc[0, "as_of"] = pd.Timestamp("2024-01-31T12:00:00Z")
    assert tf.reconcile(rec, calls=calls).loc[0, "status"] == "pending"
    calls, rec = _month_fixture()
    rec.loc[0, "price_micros"] = 52_500          # one cent off: 0.0425 vs 0.0525
    row = tf.reconcile(rec, calls=calls).iloc[0]
    assert (row["status"], row["reason"]) == ("mismatch", "price")


# 9. No rollup double counting
def _rollup_fixture():
    return frame("usage_records", [
        usage("calls", "2024-01-01", "2024-01-31", price="1.00"),
        usage("calls-inbound", "2024-01-01", "2024-01-31", price="0.40"),
        usage("calls-outbound", "2024-01-01", "2024-01-31", price="0.60"),
        usage("sms", "2024-01-01", "2024-01-31", price="0.50"),
        usage("totalprice", "2024-01-01", "2024-01-31", count=None, price="1.50")])


def test_check09_account_total_is_totalprice():
    totals = tf.usage_totals(_rollup_fixture())
    assert tf.micros_to_decimal(totals.loc[0, "price_micros"]) == Decimal("1.50")


def test_check09_summing_overlapping_categories_is_refused():
    with pytest.raises(tf.ConfigurationError, match="calls includes calls-inbound"):
        tf.usage_totals(_rollup_fixture(), categories=["calls", "calls-inbound", "sms"])


def test_check09_cost_total_of_usage_is_totalprice_not_every_category():
    """Issue 8.1: the sum over every row was 1.00 + 0.40 + 0.60 + 0.50 + 1.50 = 4.00."""
    assert tf.cost_total(_rollup_fixture()) == Decimal("1.50")
    assert tf.cost_totals(_rollup_fixture()) == {"USD": Decimal("1.50")}


# 10. Subaccount handling
def test_check10_master_true_is_master_false_plus_subaccounts():
    month = ("2024-01-01", "2024-01-31")
    own = frame("usage_records", [
        usage("totalprice", *month, price="1.00", account=ACCOUNT),
        usage("totalprice", *month, price="0.75", account=SUB_A),
        usage("totalprice", *month, price="1.25", account=SUB_B)])
    master_true = frame("usage_records", [usage("totalprice", *month, price="3.00")])
    per_account = tf.usage_totals(own).set_index("account_sid")["price_micros"]
    assert (tf.usage_totals(master_true).loc[0, "price_micros"]
            == per_account[ACCOUNT] + per_account[SUB_A] + per_account[SUB_B])


def test_check10_each_account_is_reconciled_against_its_own_lists():
    calls = _calls(call(account=ACCOUNT), call(account=SUB_A), call(account=SUB_A))
    rec = frame("usage_records", [
        usage("calls", "2024-01-10", count="1", usage_="1", price="0.0085", account=ACCOUNT),
        usage("calls", "2024-01-10", count="2", usage_="2", price="0.017", account=SUB_A)])
    out = tf.reconcile(rec, calls=calls)
    assert out["status"].tolist() == ["match", "match"]


# 11. Currency safety
def test_check11_currencies_are_never_summed():
    calls = _calls(call(price="-0.200", unit="USD"), call(price="-0.100", unit="jpy"))
    assert tf.cost_totals(calls) == {"USD": Decimal("0.200"), "JPY": Decimal("0.100")}
    with pytest.raises(tf.ConfigurationError, match="mixes currencies"):
        tf.cost_total(calls)
    by_cur = tf.cost_by_period(calls=calls).set_index("currency")["cost_micros"]
    assert by_cur.to_dict() == {"JPY": 100_000, "USD": 200_000}


def test_check11_tolerance_follows_minor_unit():
    assert tf.minor_unit("usd") == 2 and tf.minor_unit("JPY") == 0
    calls = _calls(call(price="-100.4", unit="JPY"))
    rec = frame("usage_records", [usage("calls", "2024-01-10", count="1", usage_="1",
                                        price="100")])
    rec["price_unit"] = pd.Categorical(["JPY"])
    assert tf.reconcile(rec, calls=calls).loc[0, "status"] == "match"  # 0.4 JPY < 1 JPY


# 12. Messages cost and segments
def test_check12_message_cost_is_price_not_price_times_segments():
    msgs = frame("messages", [message(price="-0.0237", segments="3"),
                              message(price="-0.00100", status="failed", error_code=30003)])
    assert str(msgs["num_segments"].dtype) == "Int64"
    assert tf.cost_total(msgs) == Decimal("0.02470")
    items = tf.line_items(msgs)
    assert items["usage"].tolist() == [3, 0]            # a failed message bills no segment
    assert items["category"].astype(str).tolist()[1] == "failed-message-processing-fee"


@pytest.mark.parametrize(("body", "segments"), [
    ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3),
    ("é" * 0 + "Ж" * 70, 1), ("Ж" * 71, 2), ("Ж" * 134, 2), ("Ж" * 135, 3),
    ("😀" + "a" * 69, 2), ("a" * 159 + "€", 2)])
def test_check12_segment_estimator(body, segments):
    assert tf.estimate_segments(body) == segments


def test_check12_messaging_service_messages_not_yet_sent():
    msgs = frame("messages", [message(status="accepted", segments="0", price=None),
                              message(status="scheduled", segments="0", price=None),
                              message()])
    items = tf.line_items(msgs)
    assert items["usage"].tolist() == [0, 0, 1]
    assert items["billable"].tolist() == [False, False, True]
    summary = tf.message_summary(msgs).set_index(
        tf.message_summary(msgs)["status"].astype(str))
    assert summary.loc[["accepted", "scheduled"], "segments"].tolist() == [0, 0]


# 13. Recordings: minutes vs storage
def test_check13_recording_minutes_and_deleted_rows():
    recs = frame("recordings", [recording(duration="1", price="-0.0025"),
                                recording(duration="61", price="-0.005"),
                                recording(duration="30", status="deleted", price="-0.0025"),
                                recording(duration="5", status="absent", price=None)])
    out = tf.recording_summary(recs)
    assert out["minutes"].tolist() == [3]
    assert tf.micros_to_decimal(out.loc[0, "cost_micros"]) == Decimal("0.01")
    assert not any("storage" in c for c in out.columns)


# 14. Country derivation
@pytest.mark.parametrize(("number", "country", "approx"), [
    ("+16135550123", "CA", False), ("+18762345678", "JM", False),
    ("+447911123456", "GG", False), ("+15555555555", "US", True),
    ("client:alice", None, None), ("sip:bob@example.com", None, None),
    ("12345", None, None), ("MyBrand", None, None)])
def test_check14_country_of_remote_party(number, country, approx):
    out = tf.country_of(pd.Series([number], dtype="str"))
    assert (out.loc[0, "country"] if pd.notna(out.loc[0, "country"]) else None) == country
    got = out.loc[0, "country_approx"]
    assert (None if pd.isna(got) else bool(got)) == approx


def test_check14_from_formatted_is_never_used():
    rec = call(direction="inbound", frm="+447911123456")
    rec["from_formatted"] = "(613) 555-0123"
    assert tf.line_items(_calls(rec))["country"].tolist() == ["GG"]


# 15. Robustness to schema drift
def test_check15_unknown_statuses_and_categories_pass_through():
    calls = _calls(call(status="some-new-status", price=None), call())
    items = tf.line_items(calls)
    assert items["status"].astype(str).tolist()[0] == "some-new-status"
    assert items["usage"].tolist() == [0, 1]
    rec = frame("usage_records", [usage("some-new-category", "2024-01-10", price="2"),
                                  usage("Usage-RCS-Messages", "2024-01-10", price="3")])
    assert tf.reconcile(rec, calls=calls).empty     # nothing to compare, no error
    totals = tf.usage_totals(rec, categories="usage-rcs-messages")
    assert totals.loc[0, "price_micros"] == 3_000_000


def test_check15_pages_concatenated_give_the_same_summary():
    rows = [call(f"2024-01-{d:02d}T10:00:00Z", duration=30 * d) for d in range(1, 10)]
    whole = tf.cost_by_period(calls=_calls(*rows))
    pages = pd.concat([_calls(*rows[i:i + 3]) for i in range(0, 9, 3)], ignore_index=True)
    pd.testing.assert_frame_equal(tf.cost_by_period(calls=pages), whole)
