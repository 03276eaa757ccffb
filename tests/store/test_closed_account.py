"""A closed subaccount over loopback: synced while Twilio still serves its history, then
synced again after Twilio deleted its data (30 days after closing, every list under it
404 / 20404; simulator/closing.py). The store keeps what it holds of it byte for byte,
says so (SyncResult.gone, an AccountGoneWarning naming it), asks each gone list once,
and a fresh sync of the whole tree still succeeds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

import twilio_frames as tf
from twilio_frames import simulator
from twilio_frames.store import layout

CLOSED = datetime(2026, 10, 5, 9, 30, tzinfo=timezone.utc)
BASE = dict(seed=20261115, start="2026-09-01", subaccounts=2, live_calls=False,
            closed_at=CLOSED)
NOW1 = CLOSED + timedelta(days=15, hours=2)           # closed, history still served
NOW2 = CLOSED + timedelta(days=41)                    # deleted
START = "2026-09-25"
LISTS = ("calls", "messages", "recordings")


def client(sim):
    return tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False)


def _files(store, sid):
    return {p.relative_to(store.path): p.read_bytes()
            for p in store.path.rglob("*.parquet") if f"account_sid={sid}" in str(p)}


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """A store synced at NOW1, its closed account's files and frames, and a sync at NOW2."""
    store = tf.Store(tmp_path_factory.mktemp("closed") / "history")
    with simulator.running(now=NOW1, **BASE) as sim:
        first = store.sync(client(sim), start=START)
        sid = sim.dataset.closing.sid
    before = _files(store, sid)
    frames = {r: store.frame(r, START, NOW1, accounts=[sid]) for r in (*LISTS, "usage_records")}
    with simulator.running(now=NOW2, **BASE) as sim:
        sim.reset_stats()
        with pytest.warns(tf.AccountGoneWarning) as caught:
            second = store.sync(client(sim))
        requests = sim.stats.requests
    return store, sid, first, before, frames, second, caught, requests


def test_the_first_sync_stores_the_closed_accounts_history(synced):
    store, sid, first, before, frames, *_ = synced
    assert not first.refused and not first.gone
    assert {str(p).split("/")[0] for p in before} == {*LISTS, "usage_records",
                                                     "incoming_phone_numbers"}
    assert len(frames["calls"]) > 50 and len(frames["messages"]) > 50
    assert frames["calls"]["start_time"].max() <= pd.Timestamp(CLOSED)


def test_after_deletion_every_stored_partition_is_kept_byte_for_byte(synced):
    store, sid, _, before, frames, second, *_ = synced
    assert _files(store, sid) == before                  # nothing deleted, nothing changed
    for resource, frame in frames.items():
        pd.testing.assert_frame_equal(store.frame(resource, START, NOW1, accounts=[sid]),
                                      frame)
    accounts = store.frame("accounts")
    assert accounts.loc[accounts["sid"] == sid, "status"].tolist() == ["closed"]


def test_the_sync_says_which_account_is_gone_and_what_it_kept(synced):
    store, sid, _, before, _, second, caught, _ = synced
    assert set(second.gone) == {sid}
    assert set(second.gone[sid]) == {*LISTS, "usage_records", "incoming_phone_numbers"}
    assert {r[1] for r in second.refused} == {sid}
    assert all("20404" in r[3] for r in second.refused)
    stored = [r for r in second.refused
              if layout.partition_path(store.path, r[0], r[1], r[2]).relative_to(
                  store.path) in before]
    assert second.kept == len(stored) > 0               # the open ones it asked again
    assert f"account {sid} answers 404 / 20404 on" in str(second)
    [warning] = caught
    text = str(warning.message)
    assert sid in text and "closed since 2026-10-05" in text
    assert f"the store keeps its {len(before)} partitions as they were" in text
    assert second.fetched > 0                             # the other accounts moved on


def test_each_gone_list_is_asked_once_not_once_per_day(synced):
    *_, second, _, requests = synced
    assert requests == second.requests
    asked = [r for r in second.refused if not r[3].startswith("not asked")]
    skipped = [r for r in second.refused if r[3].startswith("not asked")]
    # one request per list (usage records: per month of the first wave), the rest skipped
    assert len(asked) <= 6 and len(skipped) > 3 * 20


def test_a_fresh_sync_after_deletion_succeeds_without_the_gone_account(tmp_path):
    store = tf.Store(tmp_path / "fresh")
    with simulator.running(now=NOW2, **BASE) as sim:
        sid = sim.dataset.closing.sid
        with pytest.warns(tf.AccountGoneWarning, match=sid):
            result = store.sync(client(sim), start="2026-10-20")
        others = [s for s in sim.dataset.account_sids if s != sid]
        want = client(sim).calls("2026-10-20", NOW2, accounts=others)
    assert set(result.gone) == {sid} and result.kept == 0
    assert not _files(store, sid)                          # nothing stored for it
    pd.testing.assert_frame_equal(store.frame("calls", "2026-10-20", NOW2), want)
    assert len(want) > 100
