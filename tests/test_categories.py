"""The Usage Records category tree and bill lines (issue 8.1, issue 12 item 1)."""

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

import twilio_frames as tf
from twilio_frames.bill_lines import usage_lines
from twilio_frames.categories import ancestors, parent_of

from billing_fixtures import ACCOUNT, SUB_A, frame, usage

MONTH = ("2024-01-01", "2024-01-31")


def _month(*rows, account=ACCOUNT):
    return frame("usage_records", [usage(c, *MONTH, price=p, account=account,
                                         count=None if c == "totalprice" else "1")
                                   for c, p in rows])


def test_tree_follows_the_usage_records_docs():
    assert parent_of("calls-inbound-local") == "calls-inbound"
    assert ancestors("calls-inbound-tollfree-mobile") == (
        "calls-inbound-tollfree", "calls-inbound", "calls", "totalprice")
    assert parent_of("calls-client") == "totalprice"        # "calls" excludes client, SIP
    assert parent_of("calls-sip") == "totalprice"
    assert parent_of("authy-sms-outbound") == "sms-outbound"
    assert parent_of("Phonenumbers-Porting") == "phonenumbers"
    assert parent_of("recordingstorage") == "totalprice"    # not inside "recordings"
    assert parent_of("sms-messages-carrierfees") == "totalprice"
    assert parent_of("totalprice") is None


def test_lines_are_leaves_with_a_rest_and_a_remainder_adding_up_to_totalprice():
    usage_frame = _month(("calls", "1.00"), ("calls-inbound", "0.30"),
                         ("calls-inbound-local", "0.10"), ("calls-outbound", "0.60"),
                         ("sms", "0.50"), ("brand-new-thing", "0.05"), ("totalprice", "1.70"))
    lines = usage_lines(usage_frame)
    got = dict(zip(lines["category"], lines["cost_micros"]))
    assert got == {"brand-new-thing": 50_000, "calls (other)": 100_000,
                   "calls-inbound (other)": 200_000, "calls-inbound-local": 100_000,
                   "calls-outbound": 600_000, "sms": 500_000, "no-category": 150_000}
    assert lines["cost_micros"].sum() == 1_700_000
    assert not {"totalprice", "calls", "calls-inbound"} & set(lines["category"])
    assert lines.set_index("category").loc["brand-new-thing", "known"] == False  # noqa: E712
    assert lines["category"].iloc[-1] == "no-category"
    assert lines.set_index("category")["line"].to_dict()["no-category"] == "remainder"


def test_complete_children_leave_no_rest_line():
    lines = usage_lines(_month(("calls", "1.00"), ("calls-inbound", "0.40"),
                               ("calls-outbound", "0.60"), ("totalprice", "1.00")))
    assert lines["category"].tolist() == ["calls-inbound", "calls-outbound"]


def test_a_nesting_unknown_category_warns_and_still_adds_up():
    """An unknown category that is really inside a known one: lines exceed totalprice."""
    usage_frame = _month(("sms", "0.50"), ("sms-outbound-satellite", "0.20"),
                         ("totalprice", "0.50"))
    with pytest.warns(tf.OverlappingCategoriesWarning, match="sms-outbound-satellite"):
        lines = usage_lines(usage_frame)
    assert lines["cost_micros"].sum() == 500_000


def test_twice_fetched_records_are_refused():
    twice = pd.concat([_month(("sms", "0.50")), _month(("sms", "0.50"))], ignore_index=True)
    with pytest.raises(tf.ConfigurationError, match="'sms' twice"):
        usage_lines(twice)


def test_simulated_lines_add_up_to_totalprice_per_account_and_day(sim):
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url)
    daily = client.usage_records("daily", accounts="all")
    lines = usage_lines(daily)
    assert {"phonenumbers-local", "calls-client", "recordings"} <= set(lines["category"])
    assert not {"calls", "sms", "phonenumbers", "totalprice"} & set(lines["category"])
    per_day = lines.groupby(["account_sid", "start_date"])["cost_micros"].sum()
    total = daily[daily["category"] == "totalprice"].set_index(
        ["account_sid", "start_date"])["price_micros"]
    assert per_day.reindex(total.index, fill_value=0).astype("int64").tolist() == \
        total.astype("int64").tolist()


# ------------------------------------------------------------- 8.1 totals of usage frames

def test_cost_total_of_a_simulated_daily_usage_frame_is_its_totalprice(sim):
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url)
    daily = client.usage_records("daily", accounts="all")
    total = daily.loc[daily["category"] == "totalprice", "price_micros"].sum()
    assert tf.cost_total(daily) == tf.micros_to_decimal(int(total))
    everything = tf.micros_to_decimal(int(daily["price_micros"].sum()))
    assert everything > 2 * tf.cost_total(daily)       # what adding every row gave


def test_cost_total_without_totalprice_refuses_the_overlap_by_name():
    usage_frame = _month(("calls", "1.00"), ("calls-inbound", "0.40"))
    with pytest.raises(tf.ConfigurationError, match="calls includes calls-inbound"):
        tf.cost_total(usage_frame)
    assert tf.cost_total(_month(("calls", "1.00"), ("sms", "0.25"), ("calls-client", "0.01"))
                         ) == Decimal("1.26")


def test_cost_total_refuses_overlapping_periods():
    monthly = _month(("totalprice", "3.00"))
    daily = frame("usage_records", [usage("totalprice", "2024-01-05", price="0.10",
                                          count=None)])
    with pytest.raises(tf.ConfigurationError, match="overlapping periods"):
        tf.cost_total(pd.concat([monthly, daily], ignore_index=True))


def test_cost_totals_keep_accounts_apart_and_exact():
    both = pd.concat([_month(("totalprice", "1.10")),
                      _month(("totalprice", "2.205"), ("sms", "2.205"), account=SUB_A)],
                     ignore_index=True)
    assert tf.cost_totals(both) == {"USD": Decimal("3.305")}
    assert np.dtype(usage_lines(both)["cost_micros"].dtype.numpy_dtype) == np.int64


def test_children_above_their_parent_warn_and_still_add_up():
    usage_frame = _month(("calls", "1.00"), ("calls-inbound", "1.30"), ("totalprice", "1.30"))
    with pytest.warns(tf.OverlappingCategoriesWarning, match=r"more than their parent.*calls"):
        lines = usage_lines(usage_frame)
    assert lines.set_index("category").loc["calls (other)", "cost_micros"] == -300_000
    assert lines["cost_micros"].sum() == 1_300_000


def test_the_same_records_twice_are_refused_by_every_total():
    """statements and cost_total summed a frame concatenated with itself (2x the bill)."""
    once = _month(("sms", "1.00"), ("totalprice", "1.00"))
    twice = pd.concat([once, once], ignore_index=True)
    for total in (tf.cost_total, tf.statements):
        with pytest.raises(tf.ConfigurationError, match="'sms' twice"):
            total(twice)
    assert tf.cost_total(once) == Decimal("1.000000")
