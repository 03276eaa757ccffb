"""Exact money: micro-units, Decimal totals per currency, minor units, formatting."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import twilio_frames as tf
from billing_fixtures import frame, message
from twilio_frames.money import cost_micros, format_micros, infer_resource, tolerance_micros

# Price strings as Twilio sends them: a sign, up to 4 integer digits, 0-6 decimals.
prices = st.builds(
    lambda neg, whole, frac: f"{'-' if neg else ''}{whole}{'.' + frac if frac else ''}",
    st.booleans(), st.integers(0, 9999), st.text("0123456789", min_size=0, max_size=6))


@settings(max_examples=60, deadline=None)
@given(st.lists(prices, min_size=1, max_size=40))
def test_totals_equal_the_decimal_sum_of_the_raw_strings(raw):
    msgs = frame("messages", [message(price=p) for p in raw])
    expected = -sum(Decimal(p) for p in raw)
    assert tf.cost_total(msgs) == expected
    assert tf.cost_totals(msgs) == {"USD": expected}


@settings(max_examples=60, deadline=None)
@given(st.integers(-10**12, 10**12), st.integers(0, 6))
def test_format_micros_is_exact_and_fixed_width(micros, places):
    text = format_micros(micros, places=places)
    assert Decimal(text) == Decimal(micros).scaleb(-6).quantize(Decimal(1).scaleb(-places))
    assert len(text.partition(".")[2]) == places


def test_format_micros_missing_and_bad_places():
    assert format_micros(pd.NA) == "" and format_micros(None) == ""
    with pytest.raises(tf.ConfigurationError, match="places"):
        format_micros(1, places=7)


def test_minor_units_and_tolerance():
    assert [tf.minor_unit(c) for c in ("USD", "eur", "JPY", "KWD", "XYZ")] == [2, 2, 0, 3, 2]
    assert tolerance_micros("usd") == 10_000 and tolerance_micros("JPY") == 1_000_000


def test_cost_sign_per_resource():
    frame_ = pd.DataFrame({"price_micros": pd.array([-2500, 40000, None], "Int64")})
    assert cost_micros(frame_, resource="calls").tolist() == [2500, -40000, pd.NA]
    assert cost_micros(frame_, resource="recordings").tolist() == [2500, 40000, pd.NA]
    assert cost_micros(frame_, resource="usage_records").tolist() == [-2500, 40000, pd.NA]


def test_cost_total_in_one_named_currency():
    calls = pd.DataFrame({"price_micros": pd.array([-1, -2], "Int64"),
                          "price_unit": ["USD", "EUR"]})
    assert tf.cost_total(calls, resource="calls", currency="eur") == Decimal("0.000002")
    assert tf.cost_total(calls, resource="calls", currency="GBP") == 0


def test_resource_inference_and_errors():
    assert infer_resource(frame("messages", [message()])) == "messages"
    with pytest.raises(tf.ConfigurationError, match="pass resource="):
        infer_resource(pd.DataFrame({"x": [1]}))
    with pytest.raises(tf.ConfigurationError, match="missing column.*price_micros"):
        tf.cost_totals(pd.DataFrame({"price": [1.0]}), resource="calls")
