"""Dataset(attacks=N): injected episodes obey the simulator's rules and are recorded."""

from __future__ import annotations

import pandas as pd
import pytest

import twilio_frames as tf
from twilio_frames.simulator.dataset import Dataset

OPTIONS = {"seed": 5, "days": 60, "now": "2026-11-15T12:00:00Z", "subaccounts": 2}


@pytest.fixture(scope="module")
def attacked():
    return Dataset(attacks=2, **OPTIONS)


def _frame(ds, resource):
    return pd.concat([tf.to_frame(resource, ds.records(resource, s)) for s in ds.account_sids],
                     ignore_index=True)


def test_ground_truth_lists_every_episode(attacked):
    truth = attacked.attacks
    assert sorted(truth["kind"].value_counts().items()) == [
        ("organic_campaign", 1), ("sms_pumping", 2), ("toll_fraud", 2)]
    assert (truth["end"] < pd.Timestamp(attacked.now) - pd.Timedelta("1D")).all()
    assert truth["account_sid"].isin(attacked.account_sids).all()


def test_same_seed_same_attacks_and_honest_data_unchanged(attacked):
    again = Dataset(attacks=2, **OPTIONS)
    pd.testing.assert_frame_equal(again.attacks, attacked.attacks)
    plain = Dataset(**OPTIONS)
    assert plain.attacks.empty
    honest = set(plain.messages["sid"])
    assert honest <= set(attacked.messages["sid"])


def test_injected_records_follow_the_price_list_and_usage(attacked):
    messages, calls = _frame(attacked, "messages"), _frame(attacked, "calls")
    for _, ep in attacked.attacks.iterrows():
        rows = (messages if ep["kind"] != "toll_fraud" else calls)
        rows = rows[(rows["account_sid"] == ep["account_sid"])
                    & rows["to"].str.startswith(ep["prefix"] or "+")
                    & rows["date_created"].between(ep["start"] - pd.Timedelta("5s"),
                                                   ep["end"])]
        if ep["kind"] == "organic_campaign":
            continue
        assert len(rows) == ep["count"]
        assert -rows["price_micros"].sum() == ep["cost_micros"]
    pumped = messages[messages["to"].str.match(r"^\+(2547|234803|62812|8491|9477)")]
    failed = pumped[pumped["status"] == "failed"]
    assert failed["price"].isna().eq(failed["error_code"].isin([30450])).all()
    assert (failed.loc[failed["error_code"] == 30007, "price_micros"] == -1000).all()
    sat = calls[calls["to"].str.startswith("+88")]
    minutes = -(-sat["duration"] // 60)
    assert (sat["price_micros"] == -minutes * 4_500_000).all()
    # Usage Records are derived from the same rows: totalprice == the leaves, and the
    # outbound-call leaf of the attacked accounts holds the satellite calls
    for sid in attacked.account_sids:
        recs = attacked.usage_records(sid, "all_time", include_subaccounts=False)
        price = {r["category"]: r["price"] for r in recs}
        out = calls[(calls["account_sid"] == sid)
                    & calls["direction"].isin(["outbound-api", "outbound-dial"])
                    & ~calls["to"].str.startswith("client:")]
        assert float(price["calls-outbound"]) == pytest.approx(
            -out["price_micros"].sum() / 1e6, abs=1e-9)


def test_detector_finds_the_injected_fraud_not_the_campaign(attacked):
    found = tf.traffic_anomalies(_frame(attacked, "messages"), _frame(attacked, "calls"))
    fraud = found[found["kind"] != "spend_spike"]
    truth = attacked.attacks
    for _, ep in truth[truth["kind"] != "organic_campaign"].iterrows():
        hit = fraud[(fraud["account_sid"] == ep["account_sid"]) & (fraud["kind"] == ep["kind"])
                    & (fraud["start"] <= ep["end"]) & (fraud["end"] >= ep["start"])]
        assert len(hit) == 1, (ep, fraud)
    camp = truth[truth["kind"] == "organic_campaign"].iloc[0]
    assert not ((fraud["start"] <= camp["end"]) & (fraud["end"] >= camp["start"])
                & (fraud["account_sid"] == camp["account_sid"])).any()


def test_attacks_need_a_long_enough_window():
    with pytest.raises(ValueError, match="longer window"):
        Dataset(seed=1, days=10, attacks=1, now="2026-11-15T12:00:00Z")


def test_attacks_move_on_in_time_like_the_rest():
    """With seed and start fixed, an episode settled at one now is the same at a later
    one: same truth, the same records (sid, status, times, price) in the lists."""
    opts = {"seed": 11, "start": "2026-08-01", "subaccounts": 2, "attacks": 1,
            "live_calls": False}
    early = Dataset(now="2026-09-02T06:00:00Z", **opts)
    late = Dataset(now="2026-10-19T18:00:00Z", **opts)
    pd.testing.assert_frame_equal(early.attacks, late.attacks)
    settled = pd.Timestamp(early.now) - pd.Timedelta("2D")
    for resource, pattern in (("messages", r"^\+(2547|234803|62812|8491|9477)"),
                              ("calls", r"^\+88")):
        before = [r for s in early.account_sids for r in early.records(resource, s)]
        after = {r["sid"]: r for s in late.account_sids for r in late.records(resource, s)}
        frame = tf.to_frame(resource, before)
        old = [r for r, keep in zip(before, frame["date_created"] < settled) if keep]
        assert old and all(after[r["sid"]] == r for r in old)
        attacked = frame[(frame["date_created"] < settled) & frame["to"].str.match(pattern)]
        kind = "sms_pumping" if resource == "messages" else "toll_fraud"
        assert len(attacked) == early.attacks.loc[early.attacks["kind"] == kind, "count"].sum()
