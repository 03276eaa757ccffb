"""Plots return Axes with titles, labels, units and currency; never show; no pile-ups."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import twilio_frames as tf  # noqa: E402
from billing_fixtures import SUB_A, call, frame, message, usage  # noqa: E402


def _calls(days):
    start = pd.Timestamp("2024-01-01T09:00:00Z")
    return frame("calls", [call((start + pd.Timedelta(days=d, hours=d % 9)).isoformat(),
                                duration=30 + d, account=SUB_A if d % 2 else
                                "AC" + "a" * 32, to="+447911123456")
                           for d in range(days)])


def _messages(days):
    start = pd.Timestamp("2024-01-01T09:00:00Z")
    return frame("messages", [message((start + pd.Timedelta(days=d)).isoformat(),
                                      status=("delivered", "failed")[d % 2],
                                      price=("-0.0079", None)[d % 2]) for d in range(days)])


def _ax():
    return Figure(figsize=(10, 4)).add_subplot()


def _labels_do_not_overlap(ax):
    ax.figure.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.get_xticklabels() if t.get_text()]
    return all(not a.overlaps(b) for a, b in zip(boxes, boxes[1:]))


@pytest.mark.parametrize("days", [3, 300])
def test_daily_cost_is_labelled_and_readable(days):
    daily = tf.cost_by_period(calls=_calls(days), messages=_messages(days))
    ax = tf.plot_daily_cost(daily, ax=_ax())
    assert "USD" in ax.get_title() and ax.get_ylabel() == "Cost (USD)"
    assert ax.get_xlabel() and ax.get_legend() is not None
    assert len(ax.patches) == len(daily)
    assert _labels_do_not_overlap(ax)


@pytest.mark.parametrize("days", [3, 300])
def test_message_status_over_time(days):
    ax = tf.plot_message_status(_messages(days), ax=_ax(), freq="W" if days > 100 else "D")
    assert ax.get_ylabel() == "Messages" and "UTC" in ax.get_title()
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["delivered",
                                                                         "failed"]
    assert _labels_do_not_overlap(ax)


def test_figure_only_when_no_ax_is_given():
    before = plt.get_fignums()
    ax = tf.plot_call_durations(_calls(10))
    try:
        assert len(plt.get_fignums()) == len(before) + 1
        assert ax.get_xlabel() == "Duration (minutes)"
        given = _ax()
        assert tf.plot_call_durations(_calls(10), ax=given) is given
        assert len(plt.get_fignums()) == len(before) + 1
    finally:
        plt.close(ax.figure)


def test_heatmap_in_a_time_zone():
    ax = tf.plot_call_heatmap(_calls(7), ax=_ax(), tz="Asia/Tokyo")
    image = ax.get_images()[0].get_array()
    assert image.shape == (7, 24) and image.sum() == 7
    assert "Asia/Tokyo" in ax.get_xlabel()
    with pytest.raises(tf.ConfigurationError, match="time zone"):
        tf.plot_call_heatmap(_calls(1), ax=_ax(), tz="Nowhere/Else")


def test_subaccounts_countries_and_reconciliation():
    calls = _calls(6)
    by_acct = tf.cost_by_period(calls=calls, by="account_sid", freq="M")
    ax = tf.plot_cost_by_subaccount(by_acct, ax=_ax(), labels={SUB_A: "Customer A"})
    assert "Customer A" in [t.get_text() for t in ax.get_yticklabels()]
    assert ax.get_xlabel() == "Cost (USD)"
    ax = tf.plot_top_countries(tf.top_countries(calls=calls), ax=_ax())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["CA"]     # inbound: caller
    rec = frame("usage_records", [usage("calls", "2024-01-01", "2024-01-31", count="3",
                                        usage_="3", price="0.0255")])   # the master's 3
    ax = tf.plot_reconciliation(tf.reconcile(rec, calls=calls), ax=_ax())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["calls"]
    assert "USD" in ax.get_title()


def _right_labels(ax):
    right = [c for c in ax.child_axes if c.get_label() != ""] or ax.child_axes
    return [t.get_text() for t in right[0].get_yticklabels()]


def test_reconciliation_shows_what_differs_not_identical_bars():
    """Issue 8.11: equal totals drew identical pairs of bars; the picture now shows each
    period's status and the labels count what is not a match and the exact difference."""
    days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"] * 2 + ["2024-01-01"],
                          utc=True)
    rec = pd.DataFrame({
        "category": ["calls"] * 3 + ["sms"] * 3 + ["recordings"],
        "currency": "USD", "start_date": days,
        "list_price_micros": pd.array([100, 250, 20_000] + [5, 5, 5] + [7], "Int64"),
        "record_price_micros": pd.array([100, 200, 0] + [5, 5, 5] + [7], "Int64"),
        "status": ["match", "mismatch", "pending"] + ["match"] * 2 + ["pending"] + ["match"]})
    ax = tf.plot_reconciliation(rec, ax=_ax())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["calls", "sms", "recordings"]
    assert _right_labels(ax) == ["1 of 3 mismatch, 1 of 3 pending, +0.02005 USD",
                                 "1 of 3 pending", "all 1 match"]
    cells = ax.collections[0].get_array()
    assert cells.reshape(3, 3).tolist()[0] == [0, 2, 1]     # match, mismatch, pending
    assert cells.mask.reshape(3, 3).tolist()[2] == [False, True, True]   # no data
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["match", "pending",
                                                                  "mismatch"]


def test_mixed_currencies_need_a_choice():
    calls = frame("calls", [call(price="-0.2"), call(price="-10", unit="JPY")])
    daily = tf.cost_by_period(calls=calls)
    with pytest.raises(tf.ConfigurationError, match="pass currency="):
        tf.plot_daily_cost(daily, ax=_ax())
    ax = tf.plot_daily_cost(daily, ax=_ax(), currency="jpy")
    assert ax.get_ylabel() == "Cost (JPY)" and ax.patches[0].get_height() == 10.0


def test_empty_input_says_so():
    empty = tf.cost_by_period(calls=_calls(1).iloc[0:0])
    ax = tf.plot_daily_cost(empty, ax=_ax())
    assert [t.get_text() for t in ax.texts] == ["no cost in this range"]
