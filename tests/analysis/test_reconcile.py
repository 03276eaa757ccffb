"""reconcile() on fixtures and on a simulator account (3 subaccounts, 90 days)."""

from __future__ import annotations

import pandas as pd
import pytest

import twilio_frames as tf
from billing_fixtures import call, frame, message, recording, usage
from twilio_frames import simulator
from twilio_frames.analysis.reconciliation import COLUMNS

NOW = "2026-11-15T12:00:00Z"


@pytest.fixture(scope="module")
def account():
    """Every account's own lists and daily + monthly usage, fetched over HTTP."""
    with simulator.running(seed=4, subaccounts=3, days=90, now=NOW) as sim:
        client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url)
        lists = {name: getattr(client, name)(accounts="all")
                 for name in ("calls", "messages", "recordings")}
        daily = client.usage_records("daily", accounts="all")
        monthly = client.usage_records("monthly", accounts="all")
    for usage_frame in (daily, monthly):     # accounts="all" asks IncludeSubaccounts=false
        assert usage_frame.attrs.get("include_subaccounts") in (False, None)
        usage_frame.attrs["include_subaccounts"] = False
    return lists, daily, monthly


def test_simulator_closed_periods_all_match(account):
    lists, daily, monthly = account
    assert daily["account_sid"].nunique() == 4
    for usage_frame in (daily, monthly):
        out = tf.reconcile(usage_frame, **lists)
        assert list(out.columns) == COLUMNS
        assert set(out["category"]) == {"calls", "calls-client", "calls-inbound", "calls-outbound",
                                        "sms",
                                        "sms-inbound", "sms-outbound", "mms", "mms-inbound",
                                        "mms-outbound", "recordings"}
        assert (out["status"] != "mismatch").all(), out[out["status"] == "mismatch"]
        waiting = out[out["status"] == "pending"]
        assert waiting["reason"].str.contains("not closed|unrated").all()
        closed = out["as_of"] >= out["end_date"] + pd.Timedelta(days=1)
        assert (out.loc[closed & (out["n_unrated"] == 0), "status"] == "match").all()
        assert out["list_count"].sum() > 0 and out["record_price_micros"].sum() > 0


def _busiest_closed_call_day(out):
    rows = out[(out["category"] == "calls") & (out["status"] == "match")]
    return rows.sort_values("list_count").iloc[-1]


def test_simulator_unpriced_call_turns_its_period_pending(account):
    lists, daily, _ = account
    day = _busiest_closed_call_day(tf.reconcile(daily, calls=lists["calls"]))
    calls = lists["calls"].copy()
    hit = ((calls["account_sid"] == day["account_sid"]) & (calls["status"] == "completed")
           & (calls["start_time"].dt.floor("D") == day["start_date"])
           & (calls["direction"] == "inbound"))
    calls.loc[hit[hit].index[0], ["price", "price_micros"]] = [float("nan"), pd.NA]
    out = tf.reconcile(daily, calls=calls)
    same = ((out["account_sid"] == day["account_sid"]) & (out["start_date"] == day["start_date"]))
    assert out.loc[same & out["category"].isin(["calls", "calls-inbound"]), "status"].tolist() \
        == ["pending", "pending"]
    assert out.loc[same & (out["category"] == "calls-outbound"), "status"].tolist() == ["match"]
    assert (out.loc[~same, "status"] != "mismatch").all()


def test_simulator_altered_usage_record_turns_it_mismatch(account):
    lists, daily, _ = account
    day = _busiest_closed_call_day(tf.reconcile(daily, calls=lists["calls"]))
    altered = daily.copy()
    target = ((altered["account_sid"] == day["account_sid"])
              & (altered["start_date"] == day["start_date"])
              & (altered["category"].astype(str) == "calls"))
    altered.loc[target, "price_micros"] += 20_000
    out = tf.reconcile(altered, calls=lists["calls"])
    assert out["status"].eq("mismatch").sum() == 1
    row = out[out["status"] == "mismatch"].iloc[0]
    assert (row["category"], row["reason"], row["price_diff"]) == ("calls", "price", -0.02)


def test_counts_and_usage_are_compared_too():
    calls = frame("calls", [call(duration=61, price="-0.017")])
    rec = frame("usage_records", [usage("calls", "2024-01-10", count="1", usage_="1",
                                        price="0.017"),
                                  usage("calls", "2024-01-11", count="1", usage_="2",
                                        price="0.017")])
    out = tf.reconcile(rec, calls=calls)
    assert out["reason"].tolist() == ["usage", "count; usage; price"]


def test_recordings_and_messages_reconcile():
    msgs = frame("messages", [message(segments="2", price="-0.0158"),
                              message(direction="inbound", status="received",
                                      price="-0.0079"),
                              message(media="2", price="-0.02")])
    recs = frame("recordings", [recording(duration="61", price="-0.005")])
    rec = frame("usage_records", [
        usage("sms", "2024-01-10", count="2", usage_="3", price="0.0237", unit="messages"),
        usage("sms-outbound", "2024-01-10", count="1", usage_="2", price="0.0158"),
        usage("mms", "2024-01-10", count="1", usage_="1", price="0.02"),
        usage("recordings", "2024-01-10", count="1", usage_="2", price="0.005")])
    out = tf.reconcile(rec, messages=msgs, recordings=recs)
    assert out["status"].tolist() == ["match"] * 4


def test_bad_usage_frame_names_the_missing_columns():
    calls = frame("calls", [call()])
    with pytest.raises(tf.ConfigurationError, match="usage_records frame is missing.*as_of"):
        tf.reconcile(frame("usage_records", [usage("calls", "2024-01-10")]).drop(
            columns="as_of"), calls=calls)


@pytest.mark.parametrize("categories", [
    ["sms", "sms-messages-carrierfees"],          # separate records (billing-rules §2.2)
    ["mms", "mms-messages-carrierfees"],
    ["calls", "calls-transfers", "calls-text-to-speech", "calls-recordings"],
    ["calls", "calls-client", "calls-sip"],
    ["sms-inbound", "sms-outbound", "calls-inbound", "calls-outbound"],
])
def test_usage_totals_separate_categories_do_not_warn(categories):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tf.usage_totals(frame("usage_records", [usage(c, "2024-01-01") for c in categories]),
                        categories=categories)


@pytest.mark.parametrize("categories", [
    ["calls", "calls-inbound-local"], ["calls-inbound", "calls-inbound-tollfree-mobile"],
    ["sms", "sms-outbound-shortcode"], ["sms", "authy-sms-outbound"],
    ["mms-outbound-longcode-canada", "mms"], ["totalprice", "recordings"],
])
def test_usage_totals_rollup_and_member_are_refused(categories):
    with pytest.raises(tf.ConfigurationError, match="includes"):
        tf.usage_totals(frame("usage_records", [usage(c, "2024-01-01") for c in categories]),
                        categories=categories)


def _master_usage_with_subaccounts():
    """A master's calls and its usage fetched with IncludeSubaccounts left at true: the
    record holds the subaccount's call too."""
    calls = frame("calls", [call("2024-01-10T10:00:00Z", duration=60, price="-0.0085")])
    usage_frame = frame("usage_records", [usage("calls", "2024-01-10", count="2",
                                                usage_="2", price="0.5")])
    return calls, usage_frame


@pytest.mark.parametrize("flag", [True, None])
def test_mismatch_on_usage_that_may_include_subaccounts_gets_a_hint(flag):
    calls, usage_frame = _master_usage_with_subaccounts()
    usage_frame.attrs["include_subaccounts"] = flag
    with pytest.warns(tf.SubaccountUsageWarning, match="IncludeSubaccounts") as caught:
        out = tf.reconcile(usage_frame, calls=calls)
    assert len(caught) == 1 and issubclass(tf.SubaccountUsageWarning, UserWarning)
    assert out.loc[0, "status"] == "mismatch"
    assert out.loc[0, "reason"] == ("count; usage; price; usage may include subaccounts: "
                                    "fetch with accounts='all' (IncludeSubaccounts=false)")


def test_no_hint_when_usage_was_fetched_per_account_or_everything_matches():
    import warnings
    calls, usage_frame = _master_usage_with_subaccounts()
    usage_frame.attrs["include_subaccounts"] = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = tf.reconcile(usage_frame, calls=calls)
    assert out.loc[0, "reason"] == "count; usage; price"
    matching = frame("usage_records", [usage("calls", "2024-01-10", count="1", usage_="1",
                                             price="0.0085")])
    matching.attrs["include_subaccounts"] = True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tf.reconcile(matching, calls=calls).loc[0, "status"] == "match"


def test_every_category_the_lists_price_is_reconciled_calls_client_included(sim):
    """Issue 8.3: the calls list's cost (client legs included) is calls + calls-client;
    before, calls-client was not reconciled and the gap between the two went unexplained."""
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url)
    start, end = "2026-10-26", "2026-11-14"
    calls = client.calls(start, end, accounts="all")
    usage_frame = client.usage_records("daily", start=start, end=end, accounts="all")
    rec = tf.reconcile(usage_frame, calls=calls)
    client_rows = rec[rec["category"] == "calls-client"]
    assert len(client_rows) and client_rows["list_price_micros"].sum() > 0
    assert set(client_rows["status"].astype("str")) == {"match"}
    per_cat = rec.groupby("category")["list_price_micros"].sum()
    listed = tf.cost_by_period(calls=calls, freq="M")["cost_micros"].sum()
    assert per_cat["calls"] + per_cat["calls-client"] == listed
    assert per_cat["calls"] < listed


def test_the_same_usage_records_twice_are_refused():
    """Each record was compared twice, doubling the report's match/mismatch counts."""
    once = frame("usage_records", [usage("calls-client", "2024-01-05", price="0.50")])
    twice = pd.concat([once, once], ignore_index=True)
    with pytest.raises(tf.ConfigurationError, match="'calls-client' twice"):
        tf.reconcile(twice, calls=frame("calls", []))
    assert len(tf.reconcile(once, calls=frame("calls", []))) == 1
