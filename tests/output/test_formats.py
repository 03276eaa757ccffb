"""A file is what its name says (issue 8.4) and every CSV text column is neutralised by rule
(issue 8.9): the writers pick CSV, JSON Lines or Parquet from the extension, refuse any
other before writing, keep money exact and keep the frames' dtypes in Parquet."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

import pandas as pd
import pytest

import twilio_frames as tf
from billing_fixtures import SUB_A, call, frame, message
from twilio_frames.output.export import BILLING_COLUMNS

HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
           "\tx", "\rx"]


@pytest.fixture
def calls():
    return frame("calls", [call("2024-01-31T23:59:30Z", duration=32, price="-0.0085"),
                           call("2024-02-01T00:00:00Z", duration=61, price="-0.017",
                                account=SUB_A),
                           call("2024-02-02T00:00:00Z", duration=96, price="-0.01701",
                                account=SUB_A)])


def test_billing_parquet_is_parquet_with_exact_money_and_typed_columns(tmp_path, calls):
    path = tf.write_billing_csv(tmp_path / "b.parquet", calls=calls)
    assert path.read_bytes()[:4] == b"PAR1"
    back = pd.read_parquet(path)
    assert list(back.columns) == ["period_start", "period_end", "account_sid",
                                  *BILLING_COLUMNS]
    assert sum(Decimal(str(c)) for c in back["cost"]) == tf.cost_total(calls)
    assert [str(c) for c in back["cost"]] == ["0.008500", "0.034010"]
    assert back["count"].dtype.kind == "i" and back["unrated"].dtype.kind == "i"
    assert str(back["period_start"].iloc[0]) == "2024-01-01"
    assert str(back["period_end"].iloc[1]) == "2024-02-29"


def test_billing_jsonl_is_json_lines_with_decimal_text(tmp_path, calls):
    path = tf.write_billing_csv(tmp_path / "b.jsonl", calls=calls)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["cost"] for r in rows] == ["0.008500", "0.034010"]
    assert rows[0]["period_start"] == "2024-01-01" and rows[0]["count"] == 1
    assert sum(Decimal(r["cost"]) for r in rows) == tf.cost_total(calls)


@pytest.mark.parametrize("name", ["b.xlsx", "b.txt", "b", "b.csv.gz"])
def test_unknown_extension_is_refused_before_anything_is_written(tmp_path, calls, name):
    for write in (lambda p: tf.write_billing_csv(p, calls=calls),
                  lambda p: tf.write_line_items_csv(calls, p),
                  lambda p: tf.write_frame_csv(calls, p)):
        with pytest.raises(tf.ConfigurationError, match=r"\.csv, \.jsonl, \.parquet"):
            write(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_xlsx_refusal_says_what_to_do_instead(tmp_path, calls):
    with pytest.raises(tf.ConfigurationError, match="for Excel, write .csv"):
        tf.write_billing_csv(tmp_path / "b.xlsx", calls=calls)


def test_frame_parquet_keeps_the_frames_dtypes(tmp_path, calls):
    path = tf.write_frame_csv(calls, tmp_path / "calls.parquet")
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, calls)


def test_line_items_parquet_money_exact_and_signed(tmp_path, calls):
    path = tf.write_line_items_csv(calls, tmp_path / "items.parquet")
    back = pd.read_parquet(path)
    assert [str(p) for p in back["price"]] == ["-0.008500", "-0.017000", "-0.017010"]
    assert sum(Decimal(str(c)) for c in back["cost"]) == tf.cost_total(calls)
    assert back["start_time"].dt.tz is not None


def test_extension_is_case_insensitive_and_the_write_atomic(tmp_path, calls):
    path = tf.write_line_items_csv(calls, tmp_path / "ITEMS.JSONL")
    assert json.loads(path.read_text().splitlines()[0])["price"] == "-0.008500"
    path.write_text("keep me")
    with pytest.raises(FileExistsError):
        tf.write_line_items_csv(calls, path)
    assert path.read_text() == "keep me" and [p.name for p in tmp_path.iterdir()] == [
        "ITEMS.JSONL"]


def _cells(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_billing_csv_neutralises_every_text_column(tmp_path):
    """A hostile price_unit (the billing CSV's currency) and hostile categories once went
    out unprefixed: every text column is neutralised by dtype, not by a column list."""
    msgs = frame("messages", [message(price="-0.0079", unit=unit) for unit in HOSTILE])
    path = tf.write_billing_csv(tmp_path / "b.csv", messages=msgs)
    rows = _cells(path)
    header, body = rows[0], rows[1:]
    currency = [r[header.index("currency")] for r in body]
    assert sorted(currency) == sorted("'" + u.upper() for u in HOSTILE)
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row


def test_every_csv_writer_neutralises_unknown_text_columns_and_headers(tmp_path, calls):
    """A column the client does not know (kept under the server's name) is text too, and
    its name is a header cell."""
    hostile = calls.assign(**{"=cmd()": pd.array(HOSTILE[:3], dtype="str"),
                              "label": pd.Categorical(HOSTILE[3:]),
                              "note": pd.Series(HOSTILE[:3], dtype="object")})
    for path in (tf.write_frame_csv(hostile, tmp_path / "f.csv"),
                 tf.write_line_items_csv(hostile, tmp_path / "l.csv",
                                         columns=["sid", "=cmd()", "label", "note"])):
        rows = _cells(path)
        assert "'=cmd()" in rows[0] and "=cmd()" not in rows[0]
        for name, values in (("'=cmd()", HOSTILE[:3]), ("label", HOSTILE[3:]),
                             ("note", HOSTILE[:3])):
            at = rows[0].index(name)
            assert [r[at] for r in rows[1:]] == ["'" + v for v in values], (path.name, name)


def test_numbers_and_e164_stay_unprefixed(tmp_path, calls):
    path = tf.write_line_items_csv(calls, tmp_path / "l.csv",
                                   columns=["from", "price", "duration"])
    assert _cells(path)[1] == ["+16135550123", "-0.008500", "32"]
