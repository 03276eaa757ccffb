"""The summaries on a store's Dask frames (one partition per account and UTC day, a few
stored partitions each, or all in one) equal the same summaries on the store's pandas
frames."""

from __future__ import annotations

import pandas as pd
import pytest

import twilio_frames as tf

pytest.importorskip("dask")
NOW = pd.Timestamp("2026-11-15T12:00:00Z")


@pytest.fixture(scope="module")
def store(sim, tmp_path_factory):
    store = tf.Store(tmp_path_factory.mktemp("engine") / "s")
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False)
    store.sync(client, start="2026-11-01", end="2026-11-15T12:00")
    return store


CASES = {
    "cost_by_period": lambda f: tf.cost_by_period(
        calls=f("calls"), messages=f("messages"), recordings=f("recordings"), freq="D",
        by="account_sid"),
    "reconcile": lambda f: tf.reconcile(f("usage_records"), calls=f("calls"),
                                        messages=f("messages"), recordings=f("recordings")),
    "call_summary": lambda f: tf.call_summary(f("calls"), by=["account_sid", "status"]),
    "message_summary": lambda f: tf.message_summary(f("messages"), by=["status", "country"]),
    "conversations": lambda f: tf.conversations(f("calls")),
    "top_countries": lambda f: tf.top_countries(calls=f("calls"), messages=f("messages")),
    "unrated": lambda f: tf.unrated(f("calls"), now=NOW),
}


@pytest.mark.parametrize("size", [None, "40KiB", "32MiB"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_store_dask_frames_give_the_store_frames_results(store, name, size):
    expected = CASES[name](store.frame)
    lazy = CASES[name](lambda r: store.frame(r) if r == "usage_records"
                       else store.dask(r, partition_size=size))
    n, stored = (store.dask("calls", partition_size=size).npartitions,
                 len(list(store.path.glob("calls/*/*/*.parquet"))))
    assert {None: n == stored > 10, "32MiB": n == 1}.get(size, 1 < n < stored)
    pd.testing.assert_frame_equal(lazy, expected, check_exact=True)
