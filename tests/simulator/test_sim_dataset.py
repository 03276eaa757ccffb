"""The simulator's synthetic account: determinism, schemas, and billing rules in the ground truth."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twilio_frames.simulator.dataset import Dataset
from twilio_frames.simulator.generate_messages import FEE_EXEMPT
from twilio_frames.simulator.pricing import NULL_PRICE, format_prices
from twilio_frames.simulator.text import num_segments, rfc2822, rfc2822_array
from twilio_frames.simulator.usage import CATEGORIES

NOW = "2026-11-15T12:00:00Z"
OAI = Path(__file__).resolve().parent.parent / "data" / "twilio-oai" / "twilio_api_v2010.json"
SCHEMAS = {"calls": "api.v2010.account.call", "messages": "api.v2010.account.message",
           "recordings": "api.v2010.account.recording",
           "incoming_phone_numbers": "api.v2010.account.incoming_phone_number",
           "accounts": "api.v2010.account"}


@pytest.fixture(scope="module")
def ds():
    return Dataset(seed=7, now=NOW)


def _all(ds, resource):
    return [r for sid in ds.account_sids for r in ds.records(resource, sid)]


def _dump(ds):
    parts = {res: _all(ds, res) for res in ("calls", "messages", "recordings",
                                             "incoming_phone_numbers")}
    parts["accounts"] = ds.accounts
    parts["usage"] = ds.usage_records(ds.master_sid, "daily")
    return json.dumps(parts, sort_keys=False)


def _d(price):
    return Decimal(price) if price is not None else None


def test_same_seed_same_bytes_and_other_seed_differs(ds):
    assert _dump(Dataset(seed=7, now=NOW)) == _dump(ds)
    other = Dataset(seed=8, now=NOW)
    assert other.master_sid != ds.master_sid
    assert _dump(other) != _dump(ds)


def test_record_fields_are_the_openapi_schema_properties(ds):
    spec = json.loads(OAI.read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]
    for resource, name in SCHEMAS.items():
        expected = list(schemas[name]["properties"])
        rec = ds.records(resource, ds.master_sid)[0]
        assert sorted(rec) == sorted(expected), resource
        assert list(rec) == expected, resource
    usage = ds.usage_records(ds.master_sid)[0]
    assert sorted(usage) == sorted(schemas["api.v2010.account.usage.usage_record"]["properties"])


def test_accounts_tokens_keys_and_parents():
    ds = Dataset(seed=3, now=NOW, subaccounts=4, days=40)   # suspended 30 days in
    assert [a["sid"] for a in ds.accounts][0] == ds.master_sid
    assert len(ds.accounts) == 5
    assert Counter(a["status"] for a in ds.accounts) == {"active": 4, "suspended": 1}
    for acc in ds.accounts:
        assert acc["type"] == "Full" and len(acc["sid"]) == 34
        assert ds.auth_tokens[acc["sid"]] == acc["auth_token"]
        assert acc["owner_account_sid"] == ds.master_sid
    assert ds.parent_of(ds.master_sid) is None
    assert ds.parent_of(ds.account_sids[2]) == ds.master_sid
    assert {owner for _, owner in ds.api_keys.values()} == set(ds.auth_tokens)
    assert len(ds.records("accounts", ds.master_sid)) == 5
    assert len(ds.records("accounts", ds.account_sids[1])) == 1
    with pytest.raises(KeyError):
        ds.table("calls", "AC" + "0" * 32)


def test_phone_numbers_are_valid_in_many_countries(ds):
    numbers = _all(ds, "incoming_phone_numbers")
    regions = set()
    for rec in numbers:
        num = phonenumbers.parse(rec["phone_number"], None)
        assert phonenumbers.is_valid_number(num), rec["phone_number"]
        regions.add(phonenumbers.region_code_for_number(num))
    assert {"US", "CA", "GB"} <= regions and len(regions) >= 6
    assert {r["type"] for r in numbers} == {"local", "mobile", "toll-free"}
    remote = {r["from"] for r in _all(ds, "messages")} | {r["to"] for r in _all(ds, "calls")}
    for e164 in sorted(x for x in remote if x.startswith("+"))[:300]:
        assert phonenumbers.is_valid_number(phonenumbers.parse(e164, None)), e164


def test_served_order_is_newest_first_then_sid_descending(ds):
    for resource in ("calls", "messages", "recordings"):
        tab = ds.table(resource, ds.master_sid)
        created = tab.column("date_created")
        keys = list(zip(created.tolist(), tab.sid.tolist()))
        assert keys == sorted(keys, reverse=True)
        assert [r["sid"] for r in tab.records(np.arange(len(tab)))] == tab.sid.tolist()


def test_table_records_take_rows_like_a_list(ds):
    """Slices and positions (negative too) pick rows as Python would, in a subaccount's
    table too (its rows do not start at 0 in the dataset's columns)."""
    for resource in ("calls", "messages", "recordings", "incoming_phone_numbers"):
        sid = ds.account_sids[2]
        every = ds.records(resource, sid)
        tab = ds.table(resource, sid)
        assert len(every) == len(tab) > 3, resource
        for rows in (slice(1, 4), slice(None, None, -2), slice(-3, None), slice(5, 2),
                     slice(0, 10**9)):
            assert tab.records(rows) == every[rows], (resource, rows)
        assert tab.records(np.array([2, -1, 0])) == [every[2], every[-1], every[0]]
        assert tab.records([]) == []
        with pytest.raises(IndexError):
            tab.records(np.array([len(tab)]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.just(-1), st.integers(0, 4_102_444_799)), max_size=40))
def test_rfc2822_array_formats_each_epoch_like_rfc2822(epochs):
    got = rfc2822_array(np.array(epochs, dtype=np.int64))
    assert got == [None if e < 0 else rfc2822(e) for e in epochs]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.just(NULL_PRICE), st.integers(-10**12, 10**12)), max_size=30),
       st.sampled_from([0, 3, 4, 5]))
def test_format_prices_is_the_decimal_rounded_down_to_places(micros, places):
    def expected(m):
        if m == NULL_PRICE:
            return None
        units = m // 10 ** (6 - places)          # floor, as the price list rounds
        return str(Decimal(units).scaleb(-places).quantize(Decimal(1).scaleb(-places)))
    assert format_prices(np.array(micros, dtype=np.int64), places) == \
        [expected(m) for m in micros]


def test_call_statuses_directions_and_legs(ds):
    calls = _all(ds, "calls")
    by_sid = {c["sid"]: c for c in calls}
    assert {"inbound", "outbound-api", "outbound-dial"} == {c["direction"] for c in calls}
    statuses = Counter(c["status"] for c in calls)
    assert {"completed", "busy", "no-answer", "failed", "canceled"} <= set(statuses)
    assert statuses["completed"] > 0.6 * len(calls)
    now = ds.now.timestamp()
    for c in calls:
        if c["parent_call_sid"]:
            assert c["direction"] == "outbound-dial"
            assert by_sid[c["parent_call_sid"]]["parent_call_sid"] is None
        if c["status"] in ("queued", "ringing", "in-progress"):
            assert c["price"] is None and c["end_time"] is None
    live = ds.calls["status"] <= 2
    assert live.any() and (ds.calls["created"][live] >= now - 3600).all()
    assert any(c["to"].startswith("client:") for c in calls)
    assert any(c["from"].startswith("client:") for c in calls)


def test_call_formatted_numbers_follow_twilio(ds):
    for c in _all(ds, "calls")[:500]:
        if c["to"].startswith("+1"):
            assert c["to_formatted"].startswith("(")
        else:
            assert c["to_formatted"] == c["to"]


def test_call_prices_follow_the_billing_rules(ds):
    rates = ds.prices
    durations_zero = 0
    for c in _all(ds, "calls"):
        if c["status"] in ("busy", "failed", "no-answer", "canceled"):
            assert c["price"] is None and c["duration"] == "0"
        if c["status"] == "completed" and c["price"] is not None:
            minutes = max(1, math.ceil(int(c["duration"]) / 60))
            per_min = -Decimal(c["price"]) / minutes
            assert per_min * minutes == -Decimal(c["price"])
            assert c["price"].startswith("-") and len(c["price"].split(".")[1]) == rates.places
            durations_zero += c["duration"] == "0"
    assert durations_zero > 0
    # ground truth columns: billed minutes are ceil(duration/60), at least 1, when priced
    c = ds.calls
    priced = c["price"] != np.iinfo(np.int64).min
    assert (c["minutes"][priced] == np.maximum(1, -(-c["duration"][priced] // 60))).all()
    for data in (ds, Dataset(seed=7, now=NOW, days=10, unpriced_hours=48)):
        c = data.calls
        unpriced_done = (c["status"] == 3) & (c["price"] == np.iinfo(np.int64).min)
        assert (c["end"][unpriced_done] >= data.now.timestamp() - data.unpriced_hours * 3600).all()
    assert unpriced_done.any()


@pytest.mark.parametrize("body,expected", [
    ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3), ("é" * 70, 1),
    ("ê" * 70, 1), ("ê" * 71, 2), ("ê" * 134, 2), ("ê" * 135, 3), ("\U0001F600" + "a" * 69, 2),
    ("a" * 159 + "€", 2), ("{" * 80, 1), ("{" * 81, 2),
])
def test_segment_rules(body, expected):
    assert num_segments(body) == expected


def test_messages_bodies_statuses_and_prices(ds):
    msgs = _all(ds, "messages")
    assert {"inbound", "outbound-api", "outbound-reply"} == {m["direction"] for m in msgs}
    assert {"delivered", "sent", "received", "undelivered", "failed"} <= {m["status"] for m in msgs}
    bodies = [m["body"] for m in msgs]
    assert any("&" in b for b in bodies) and any("<" in b for b in bodies)
    assert any('"' in b for b in bodies)
    assert {b[:1] for b in bodies} >= {"=", "+", "-", "@"}
    assert any(ord(ch) > 0xFFFF for b in bodies for ch in b)
    fee = ds.prices.failed_fee
    for m in msgs:
        if m["num_media"] == "0":
            assert m["sid"].startswith("SM") and m["num_segments"] == str(num_segments(m["body"]))
        else:
            assert m["sid"].startswith("MM") and m["num_segments"] == "1"
        if m["status"] == "failed":
            assert m["date_sent"] is None and m["error_code"] is not None
            if m["error_code"] in FEE_EXEMPT:
                assert m["price"] is None
            elif m["price"] is not None:
                assert Decimal(m["price"]) == -Decimal(fee) / 10**6
        if m["status"] in ("undelivered", "failed"):
            assert m["error_message"]
        else:
            assert m["error_code"] is None
    assert any(m["messaging_service_sid"] for m in msgs)


def test_recordings_belong_to_completed_parent_calls(ds):
    for sid in ds.account_sids:
        calls = {c["sid"]: c for c in ds.records("calls", sid)}
        for rec in ds.records("recordings", sid):
            call = calls[rec["call_sid"]]
            assert call["status"] == "completed" and call["parent_call_sid"] is None
            assert int(rec["duration"]) <= int(call["duration"])
            assert rec["media_url"].startswith("https://api.twilio.com/2010-04-01/")
            assert rec["channels"] in (1, 2)
            if rec["status"] == "completed" and rec["price"] is not None:
                minutes = math.ceil(int(rec["duration"]) / 60)
                assert Decimal(rec["price"]) == -minutes * Decimal(ds.prices.recording) / 10**6
            if rec["status"] == "absent":
                assert rec["error_code"] and rec["price"] is None


def _day(rfc):
    from email.utils import parsedate_to_datetime
    return parsedate_to_datetime(rfc).date()


def test_daily_calls_usage_equals_priced_legs(ds):
    sid = ds.account_sids[1]
    calls = [c for c in ds.records("calls", sid) if c["price"] is not None
             and not c["to"].startswith("client:") and not c["from"].startswith("client:")]
    expected = defaultdict(lambda: [0, 0, Decimal(0)])
    for c in calls:
        e = expected[_day(c["start_time"])]
        e[0] += 1
        e[1] += max(1, math.ceil(int(c["duration"]) / 60))
        e[2] += -Decimal(c["price"])
    daily = ds.usage_records(sid, "daily", category="calls", include_subaccounts=False)
    assert len(daily) > 80
    for rec in daily:
        want = expected.get(date.fromisoformat(rec["start_date"]), [0, 0, Decimal(0)])
        assert [int(rec["count"]), int(rec["usage"]), Decimal(rec["price"])] == want


def _by_cat(records):
    return {r["category"]: r for r in records}


def test_rollups_and_totalprice(ds):
    for sid in ds.account_sids:
        u = _by_cat(ds.usage_records(sid))
        assert set(u) == set(CATEGORIES)
        for field in ("count", "usage", "price"):
            assert Decimal(u["calls-inbound"][field]) + Decimal(u["calls-outbound"][field]) == \
                Decimal(u["calls"][field])
        leaves = [c for c in CATEGORIES if c not in
                  ("calls", "calls-inbound", "sms", "mms", "phonenumbers", "totalprice")]
        assert sum(Decimal(u[c]["price"]) for c in leaves) == Decimal(u["totalprice"]["price"])
        tp = u["totalprice"]
        assert tp["count"] is None and tp["count_unit"] == "" and tp["usage"] == tp["price"]
        assert tp["usage_unit"] == tp["price_unit"] == "usd"


def test_daily_sums_to_monthly_and_yearly(ds):
    start, end = date(2026, 9, 1), date(2026, 10, 31)
    daily = ds.usage_records(ds.master_sid, "daily", start_date=start, end_date=end)
    monthly = ds.usage_records(ds.master_sid, "monthly", start_date=start, end_date=end)
    assert {(r["start_date"], r["end_date"]) for r in monthly} == {
        ("2026-09-01", "2026-09-30"), ("2026-10-01", "2026-10-31")}
    for m in monthly:
        days = [d for d in daily if d["category"] == m["category"]
                and m["start_date"] <= d["start_date"] <= m["end_date"]]
        assert len(days) == (30 if m["start_date"] == "2026-09-01" else 31)
        assert sum(Decimal(d["price"]) for d in days) == Decimal(m["price"])
        assert sum(Decimal(d["usage"]) for d in days) == Decimal(m["usage"])
    yearly = _by_cat(ds.usage_records(ds.master_sid, "yearly", start_date=start, end_date=end))
    for cat, y in yearly.items():
        assert Decimal(y["price"]) == sum(Decimal(m["price"]) for m in monthly
                                          if m["category"] == cat)


def test_master_with_subaccounts_is_the_sum(ds):
    total = _by_cat(ds.usage_records(ds.master_sid, "this_month"))
    alone = _by_cat(ds.usage_records(ds.master_sid, "this_month", include_subaccounts=False))
    subs = [_by_cat(ds.usage_records(s, "this_month")) for s in ds.account_sids[1:]]
    for cat in CATEGORIES:
        want = Decimal(alone[cat]["price"]) + sum(Decimal(s[cat]["price"]) for s in subs)
        assert Decimal(total[cat]["price"]) == want, cat
    assert Decimal(total["totalprice"]["price"]) > Decimal(alone["totalprice"]["price"])


def test_relative_subresources_and_zero_categories(ds):
    today = ds.usage_records(ds.master_sid, "today")
    assert {r["start_date"] for r in today} == {"2026-11-15"} and len(today) == len(CATEGORIES)
    last = ds.usage_records(ds.master_sid, "last_month", category="CALLS")
    assert [(r["start_date"], r["end_date"], r["category"]) for r in last] == [
        ("2026-10-01", "2026-10-31", "calls")]
    assert ds.usage_records(ds.master_sid, category="no-such-category") == []
    zero = _by_cat(ds.usage_records(ds.master_sid, "yesterday"))["recordingstorage"]
    assert (zero["count"], zero["usage"], zero["price"]) == ("0", "0", "0")
    rec = ds.usage_records(ds.master_sid, "daily", category="sms")[0]
    assert rec["uri"].endswith(f"Daily.json?Category=sms&StartDate={rec['start_date']}"
                               f"&EndDate={rec['end_date']}")
    assert len(rec["subresource_uris"]) == 8


def test_unpriced_events_are_not_in_usage(ds):
    sid = ds.master_sid
    today = [c for c in ds.records("calls", sid) if _day(c["start_time"] or rfc2822(0))
             == date(2026, 11, 15) and not c["to"].startswith("client:")
             and not c["from"].startswith("client:")]
    priced = [c for c in today if c["price"] is not None]
    u = _by_cat(ds.usage_records(sid, "today", include_subaccounts=False))["calls"]
    assert int(u["count"]) == len(priced)
    assert Decimal(u["price"]) == sum((-Decimal(c["price"]) for c in priced), Decimal(0))


@pytest.mark.parametrize("currency,places", [("EUR", 5), ("JPY", 3)])
def test_currency_option(currency, places):
    ds = Dataset(seed=7, now=NOW, currency=currency, days=30)
    calls = ds.records("calls", ds.master_sid)
    assert {c["price_unit"] for c in calls} == {currency}
    prices = [c["price"] for c in calls if c["price"] is not None]
    assert prices and all(len(p.split(".")[1]) == places for p in prices)
    u = _by_cat(ds.usage_records(ds.master_sid))
    assert u["totalprice"]["price_unit"] == currency.lower() == u["totalprice"]["usage_unit"]
    leaves_sum = sum(Decimal(u[c]["price"]) for c in CATEGORIES if c not in
                     ("calls", "calls-inbound", "sms", "mms", "phonenumbers", "totalprice"))
    assert leaves_sum == Decimal(u["totalprice"]["price"])
    all_calls = [c for s in ds.account_sids for c in ds.records("calls", s)
                 if c["price"] is not None and not c["to"].startswith("client:")
                 and not c["from"].startswith("client:")]
    assert sum(-Decimal(c["price"]) for c in all_calls) == Decimal(u["calls"]["price"])
    if currency == "JPY":
        assert Decimal(ds.prices.recording) / 10**6 == Decimal("0.375")
