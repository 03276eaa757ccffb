"""tf.bill_by_account on hand-built Usage Records: the bill without list frames, no rows."""

import pandas as pd

import twilio_frames as tf

from billing_fixtures import ACCOUNT, frame, usage

MONTH = ("2024-01-01", "2024-01-31")


def _month(*rows):
    return frame("usage_records", [usage(c, *MONTH, price=p, count=None if c == "totalprice"
                                         else "1") for c, p in rows])


def test_usage_alone_is_a_whole_bill_of_usage_records_rows():
    """Without list frames there is no list cost: every line is a Usage Records row and
    no 'difference' row claims the lists missed it (this raised KeyError 'count')."""
    bill = tf.bill_by_account(_month(("sms", "1.00"), ("phonenumbers-local", "1.15"),
                                     ("totalprice", "2.15")))
    assert bill["item"].tolist() == ["phonenumbers-local", "sms"]
    assert set(bill["source"]) == {"usage_records"}
    assert bill["cost_micros"].sum() == 2_150_000
    assert bill["usage_unit"].tolist() == ["minutes", "minutes"]


def test_only_list_priced_categories_without_lists():
    bill = tf.bill_by_account(_month(("sms", "1.00"), ("totalprice", "1.00")), freq="M")
    assert bill[["item", "source", "cost_micros"]].values.tolist() == [
        ["sms", "usage_records", 1_000_000]]


def test_no_usage_rows_give_the_columns_and_no_rows():
    bill = tf.bill_by_account(frame("usage_records", []))
    assert len(bill) == 0 and list(bill.columns) == [
        "period", "account_sid", "currency", "source", "item", "description", "count",
        "usage", "usage_unit", "cost_micros", "cost", "n_unrated"]


def test_difference_row_has_no_unit_text():
    calls = frame("calls", [])
    bill = tf.bill_by_account(_month(("sms", "1.00"), ("totalprice", "1.00")), calls=calls)
    diff = bill[bill["source"] == "difference"]
    assert diff["usage_unit"].tolist() == [""] and diff["cost_micros"].tolist() == [1_000_000]
    assert isinstance(bill, pd.DataFrame) and bill["account_sid"].tolist() == [ACCOUNT]
