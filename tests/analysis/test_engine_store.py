"""The summaries on a store's Dask frames (one partition per account and UTC day, a few
stored partitions each, or all in one) equal the same summaries on the store's pandas
frames."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twilio_frames as tf

dask = pytest.importorskip("dask")
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


@pytest.fixture(scope="module")
def expected(store):
    return {name: CASES[name](store.frame) for name in ("cost_by_period", "reconcile")}


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fraction=st.floats(0.0, 1.0), batch=st.sampled_from([None, 1, 3]))
def test_store_dask_batches_of_any_size_give_the_store_frames_results(store, expected,
                                                                      fraction, batch):
    """A Dask partition reads as many consecutive stored partitions as fit in
    ``partition_size`` bytes of Parquet (at least one): any size gives the same sums."""
    files = sorted(store.path.glob("calls/*/*/*.parquet"))
    size = int(fraction * sum(f.stat().st_size for f in files))
    with dask.config.set({"twilio_frames.partitions_per_task": batch}):
        for name, want in expected.items():
            got = CASES[name](lambda r: store.frame(r) if r == "usage_records"
                              else store.dask(r, partition_size=size))
            pd.testing.assert_frame_equal(got, want, check_exact=True)
