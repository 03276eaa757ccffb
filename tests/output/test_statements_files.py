"""tf.write_statements: the files, their money and their safety (issue 12 item 5)."""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as hs

import twilio_frames as tf
from twilio_frames.analysis.statements import round_half_up

from billing_fixtures import ACCOUNT, frame, usage

MONTH = ("2024-01-01", "2024-01-31")


def _statements(name="=HYPERLINK(\"http://x\")<script>alert(1)</script>"):
    records = frame("usage_records", [usage(c, *MONTH, price=p, count=n) for c, p, n in (
        ("sms", "1.005", "10"), ("phonenumbers-local", "1.15", "1"),
        ("totalprice", "2.50", None))])
    records["as_of"] = pd.Timestamp("2024-02-02T00:00:00Z")
    accounts = pd.DataFrame({"sid": [ACCOUNT], "friendly_name": [name]})
    return tf.statements(records, accounts=accounts, rules={"default": {"percent": 10}})


def test_files_per_customer_and_all_customers(tmp_path):
    st = _statements()
    paths = tf.write_statements(tmp_path / "out", st, issuer="Us & Co")
    names = sorted(p.name for p in paths)
    assert names == sorted(["statements.csv", f"{ACCOUNT}-2024-01.csv",
                            f"{ACCOUNT}-2024-01.html"])
    with open(tmp_path / "out" / f"{ACCOUNT}-2024-01.csv", newline="", encoding="utf-8") as f:
        mine = list(csv.DictReader(f))
    assert "cost" not in mine[0]                       # customers see what they pay
    assert sum(Decimal(r["charge"]) for r in mine) == tf.micros_to_decimal(
        int(st["charge_micros"].sum()))
    assert mine[0]["friendly_name"].startswith("'=")  # neutralised for spreadsheets
    with open(tmp_path / "out" / "statements.csv", newline="", encoding="utf-8") as f:
        every = list(csv.DictReader(f))
    assert sum(Decimal(r["cost"]) for r in every) == Decimal("2.50")
    page = (tmp_path / "out" / f"{ACCOUNT}-2024-01.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page and "Us &amp; Co" in page
    assert "PROVISIONAL" not in page and "Total due (USD)" in page


def test_bad_input_is_refused_and_nothing_is_replaced(tmp_path):
    st = _statements("Acme")
    out = tmp_path / "out"
    tf.write_statements(out, st)
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(FileExistsError):
        tf.write_statements(out, st)
    assert sorted(p.name for p in out.iterdir()) == before
    with pytest.raises(tf.ConfigurationError, match="not a statements frame"):
        tf.write_statements(tmp_path / "x", st.drop(columns="charge_micros"))
    with pytest.raises(tf.ConfigurationError, match="empty"):
        tf.write_statements(tmp_path / "y", st.iloc[:0])
    with pytest.raises(tf.ConfigurationError, match="rounding must be"):
        tf.statements(frame("usage_records", []), rounding="bankers")


# no deadline, as every other property test here: a loaded machine that stalls one
# example past Hypothesis's default 200 ms fails it as 'Unreliable test timings'
@settings(deadline=None)
@given(hs.integers(-10**15, 10**15), hs.integers(1, 10**6), hs.sampled_from([1, 100, 10**4,
                                                                              10**6]))
def test_round_half_up_matches_decimal(numerator, denominator, step):
    got = round_half_up(np.array([numerator], object), np.array([denominator], object),
                        np.array([step], object))[0]
    exact = Decimal(numerator) / Decimal(denominator) / Decimal(step)
    expected = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)) * step
    assert got == expected
