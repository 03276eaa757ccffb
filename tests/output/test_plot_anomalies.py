"""tf.plot_anomalies: an Axes with the flagged spans, also with nothing flagged."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd

import twilio_frames as tf
from anomaly_fixtures import burst, honest_messages, numbers

matplotlib.use("Agg")
ACCT = "AC" + "1" * 32


def test_flagged_country_and_span_are_drawn():
    rng = np.random.default_rng(9)
    pump = burst(rng, ACCT, numbers(rng, "KE", 300, consecutive=True), "2026-03-10T02:00",
                 1, delivered=0.1, price=200_000)
    messages = pd.concat([honest_messages(rng), pump], ignore_index=True)
    found = tf.traffic_anomalies(messages)
    ax = tf.plot_anomalies(found, messages)
    labels = ax.get_legend_handles_labels()[1]
    assert "KE" in labels and "sms pumping" in labels and "US" in labels
    assert ax.get_title().endswith("1 flagged episode(s)") and ax.get_ylabel()
    spans = [p for p in ax.patches]
    assert len(spans) == 1


def test_nothing_flagged_and_no_traffic():
    rng = np.random.default_rng(1)
    messages = honest_messages(rng, days=20)
    found = tf.traffic_anomalies(messages)
    assert tf.plot_anomalies(found, messages).get_title().endswith("0 flagged episode(s)")
    empty = messages.iloc[:0]
    assert tf.plot_anomalies(tf.traffic_anomalies(empty), empty) is not None
