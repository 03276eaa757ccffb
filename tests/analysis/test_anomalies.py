"""tf.traffic_anomalies on frames built by hand from the documented signatures
(anomaly_fixtures: other sizes, countries, speeds and delivery rates than the
simulator's attacks), on honest traffic and on organic campaigns."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import twilio_frames as tf
from anomaly_fixtures import (burst, call_burst, honest_calls, honest_messages,
                              numbers)

ACCT = "AC" + "1" * 32


def _run(messages=None, calls=None, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return tf.traffic_anomalies(messages, calls, **kw)


@pytest.mark.parametrize("country,n,hours,delivered,step", [
    ("KE", 400, 0.5, 0.14, 1), ("NG", 90, 3, 0.3, 1), ("ID", 2500, 20, 0.05, 2),
    ("VN", 60, 0.2, 0.5, 3), ("LK", 700, 6, 0.02, 1)])
def test_pumping_found_with_its_evidence(country, n, hours, delivered, step):
    rng = np.random.default_rng(n)
    pump = burst(rng, ACCT, numbers(rng, country, n, consecutive=True, gap=step),
                 "2026-03-10T02:00", hours, delivered=delivered, price=200_000)
    out = _run(pd.concat([honest_messages(rng), pump], ignore_index=True))
    found = out[out["kind"] == "sms_pumping"]
    assert len(found) == 1, out
    row = found.iloc[0]
    assert row["country"] == country and row["new_country"]
    assert row["count"] >= 0.95 * n and row["start"] >= pump["date_sent"].min()
    assert pump["to"].str.startswith(row["prefix"]).all()
    assert f"first messages ever to {country}" in row["evidence"]
    assert "undelivered" in row["evidence"]
    # numbers 3 apart are beyond the default adjacent_gap of 2: found on the other signals
    assert ("consecutive" in row["evidence"]) == (step <= 2)
    # the cost is exact: the sum of the episode's prices, in micros
    assert row["cost_micros"] <= -pump["price_micros"].sum()
    assert row["currency"] == "USD"


def test_pumping_inside_a_usual_country_is_not_diluted():
    """A block of adjacent US numbers pumped while the account sends 600 US SMS a day."""
    rng = np.random.default_rng(7)
    honest = honest_messages(rng, per_day=600, days=60)
    pump = burst(rng, ACCT, numbers(rng, "US", 300, consecutive=True), "2026-02-20T09:00",
                 1, delivered=0.3, price=7900)
    out = _run(pd.concat([honest, pump], ignore_index=True))
    found = out[out["kind"] == "sms_pumping"]
    assert len(found) == 1 and found.iloc[0]["country"] == "US"
    assert not found.iloc[0]["new_country"]
    assert found.iloc[0]["adjacent_share"] > 0.9
    assert found.iloc[0]["count"] == pytest.approx(300, abs=20)


@pytest.mark.parametrize("seed", range(4))
def test_honest_traffic_and_organic_campaigns_raise_no_fraud(seed):
    rng = np.random.default_rng(100 + seed)
    honest = honest_messages(rng, per_day=[5, 60, 400, 900][seed], days=90)
    campaigns = [burst(rng, ACCT, numbers(rng, c, k), at, h, delivered=0.95, price=7900)
                 for c, k, at, h in (("US", 5000, "2026-02-03T14:00", 4),
                                     ("CA", 800, "2026-03-01T15:00", 1),
                                     ("US", 20000, "2026-03-15T13:00", 8))]
    out = _run(pd.concat([honest, *campaigns], ignore_index=True))
    assert not (out["kind"] == "sms_pumping").any(), out
    # a campaign is a spend spike: reported as such, with the numbers
    spikes = out[out["kind"] == "spend_spike"]
    assert len(spikes) <= 3
    assert spikes["evidence"].str.contains("trailing daily median").all()


@pytest.mark.parametrize("prefix,n,rate,seconds,hours", [
    ("SAT", 60, 4_000_000, (20, 59), 3), ("SAT", 25, 2_500_000, (5, 40), 0.5),
    ("LK", 150, 900_000, (30, 90), 8)])
def test_toll_fraud_found(prefix, n, rate, seconds, hours):
    rng = np.random.default_rng(n)
    fraud = call_burst(rng, ACCT, numbers(rng, prefix, n, consecutive=True),
                       "2026-02-11T01:00", hours, rate=rate, seconds=seconds)
    out = _run(calls=pd.concat([honest_calls(rng), fraud], ignore_index=True))
    found = out[out["kind"] == "toll_fraud"]
    assert len(found) == 1, out
    assert found.iloc[0]["count"] == n
    assert found.iloc[0]["cost_micros"] == -fraud["price_micros"].sum()
    assert "cost per minute" in found.iloc[0]["evidence"]


def test_honest_calls_raise_nothing():
    rng = np.random.default_rng(5)
    out = _run(calls=honest_calls(rng, per_day=200, days=120))
    assert out.empty and list(out.columns) == list(tf.traffic_anomalies.__globals__["COLUMNS"])


def test_short_history_warns_instead_of_flagging():
    rng = np.random.default_rng(3)
    young = honest_messages(rng, days=4)
    pump = burst(rng, ACCT, numbers(rng, "KE", 300, consecutive=True), "2026-01-03T02:00",
                 1, delivered=0.1, price=200_000)
    with pytest.warns(tf.InsufficientHistoryWarning, match="min_history=7D"):
        out = tf.traffic_anomalies(pd.concat([young, pump], ignore_index=True))
    assert out.empty


def test_missing_columns_are_named():
    rng = np.random.default_rng(1)
    frame = honest_messages(rng, days=10).drop(columns=["error_code", "to"])
    with pytest.raises(tf.ConfigurationError, match=r"\['to', 'error_code'\]"):
        tf.traffic_anomalies(frame)
    with pytest.raises(tf.ConfigurationError, match="messages= and/or calls="):
        tf.traffic_anomalies()
    with pytest.raises(tf.ConfigurationError, match="whole number of days"):
        tf.traffic_anomalies(frame, baseline="3h")
    with pytest.raises(tf.ConfigurationError, match="unknown rule"):
        tf.traffic_anomalies(honest_messages(rng, days=10), min_cnt=3)
    with pytest.raises(tf.ConfigurationError, match="min_count must be >= 1"):
        tf.AnomalyRules(min_count=0)
    with pytest.raises(tf.ConfigurationError, match="sms_weights"):
        tf.AnomalyRules(sms_weights={"volume": 1, "loudness": 2})


def test_thresholds_are_parameters():
    rng = np.random.default_rng(11)
    pump = burst(rng, ACCT, numbers(rng, "KE", 40, consecutive=True), "2026-03-10T02:00",
                 1, delivered=0.1, price=200_000)
    frame = pd.concat([honest_messages(rng), pump], ignore_index=True)
    assert (_run(frame)["kind"] == "sms_pumping").sum() == 1
    assert (_run(frame, min_count=50)["kind"] == "sms_pumping").sum() == 0
    assert (_run(frame, min_score=0.95)["kind"] == "sms_pumping").sum() == 0


def test_a_burst_that_starts_late_on_a_quiet_day_is_one_whole_episode():
    """A few calls before midnight (under min_count) and the rest after: one episode
    with every call, and the destination still counts as never called before."""
    rng = np.random.default_rng(21)
    fraud = call_burst(rng, ACCT, numbers(rng, "SAT", 80, consecutive=True),
                       "2026-02-11T23:40", 4, rate=4_000_000)
    assert 0 < (fraud["start_time"] < pd.Timestamp("2026-02-12", tz="UTC")).sum() < 20
    out = _run(calls=pd.concat([honest_calls(rng), fraud], ignore_index=True))
    row = out[out["kind"] == "toll_fraud"].iloc[0]
    assert row["count"] == 80 and row["new_country"]
    assert row["start"] == fraud["start_time"].min()


def test_a_dask_frame_gives_the_same_episodes():
    """Only the needed columns of a Dask frame are computed (skipped without dask)."""
    dd = pytest.importorskip("dask.dataframe")
    rng = np.random.default_rng(4)
    pump = burst(rng, ACCT, numbers(rng, "KE", 300, consecutive=True), "2026-03-10T02:00",
                 1, delivered=0.1, price=200_000)
    frame = pd.concat([honest_messages(rng), pump], ignore_index=True)
    expected = _run(frame)
    got = _run(dd.from_pandas(frame.assign(body="x"), npartitions=4))
    pd.testing.assert_frame_equal(got, expected)
    assert len(expected) == 1


def test_empty_and_inbound_only_frames_give_no_episode():
    rng = np.random.default_rng(2)
    frame = honest_messages(rng, days=20)
    inbound = frame.assign(direction=pd.Categorical(["inbound"] * len(frame)))
    for given in (frame.iloc[:0], inbound):
        out = _run(given)
        assert out.empty and list(out.columns) == list(tf.traffic_anomalies(frame).columns)
