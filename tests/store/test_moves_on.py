"""The account moves on in time (same seed and start, a later now): an incremental sync
fetches only what was open plus the new days, late prices arrive, and the store equals
a fresh fetch of the later state."""

from __future__ import annotations

import pandas as pd
import pytest

import twilio_frames as tf

OPTIONS = {"seed": 4242, "start": "2026-10-20T00:00:00Z", "subaccounts": 2}
FIRST, LATER = "2026-11-13T12:00:00Z", "2026-11-15T12:00:00Z"
SYNC_FROM = "2026-11-01"
LISTS = ("calls", "messages", "recordings")


def client(sim):
    return tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False)


@pytest.fixture(scope="module")
def moved(tmp_path_factory):
    """A store synced at FIRST, then synced again once the account reached LATER."""
    store = tf.Store(tmp_path_factory.mktemp("moves") / "s")
    with tf.simulator.running(now=FIRST, **OPTIONS) as sim:
        first = store.sync(client(sim), start=SYNC_FROM)
        before = {r: store.frame(r, SYNC_FROM) for r in LISTS}
        status = store.status()
    later = tf.simulator.running(now=LATER, **OPTIONS)
    sim = later.__enter__()
    try:
        again = store.sync(client(sim))
        yield store, sim, first, again, before, status
    finally:
        later.__exit__(None, None, None)


@pytest.mark.parametrize("resource", LISTS)
def test_an_incremental_sync_equals_a_fresh_fetch_of_the_later_account(moved, resource):
    store, sim, *_ = moved
    want = getattr(client(sim), resource)(start=SYNC_FROM, end=LATER, accounts="all")
    pd.testing.assert_frame_equal(store.frame(resource, SYNC_FROM, LATER), want)


def test_usage_accounts_and_numbers_equal_a_fresh_fetch(moved):
    store, sim, *_ = moved
    c = client(sim)
    pd.testing.assert_frame_equal(store.frame("usage_records", SYNC_FROM, LATER),
                                  c.usage_records("daily", start=SYNC_FROM, end=LATER,
                                                  accounts="all"))
    pd.testing.assert_frame_equal(store.frame("accounts"), c.accounts())
    pd.testing.assert_frame_equal(store.frame("incoming_phone_numbers"),
                                  c.incoming_phone_numbers(accounts="all"))


def test_only_open_partitions_and_new_days_were_fetched(moved):
    store, sim, first, again, _, status = moved
    settled = status[status["settled"].astype(bool)].set_index("path")["fetched_at"]
    after = store.status().set_index("path")
    assert after.loc[settled.index, "fetched_at"].equals(settled)      # never fetched again
    assert again.skipped == len(settled)
    new_days = 2 * 3 * len(LISTS)                  # Nov 16 is not in range: 14-15 are new
    assert again.fetched == len(status) - len(settled) + new_days
    # consecutive days share a list request: the re-sync's few open and new days of
    # each list take no more requests than the first sync's whole month
    assert again.requests <= first.requests


def test_late_prices_arrived(moved):
    store, _, _, _, before, _ = moved
    calls = before["calls"]
    unpriced = calls[calls["status"].eq("completed") & calls["price_micros"].isna()]["sid"]
    assert len(unpriced) > 0                         # the first sync saw unpriced calls
    now = store.frame("calls", SYNC_FROM).set_index("sid").loc[unpriced]
    assert now["price_micros"].notna().all()         # the later sync has their prices
