"""Store.sync + Store.frame against the simulator over loopback HTTP: the frames equal a
fresh fetch, re-syncs touch only open partitions, corruption is reported then repaired,
a second sync is refused, bad input is refused before anything is written."""

from __future__ import annotations

import pandas as pd
import pytest

import twilio_frames as tf
from twilio_frames.store import layout
from twilio_frames.store.lock import store_lock

from conftest import SIM_OPTIONS

START, NOW = "2026-11-03", pd.Timestamp(SIM_OPTIONS["now"])
LISTS = ("calls", "messages", "recordings")


def client(sim, **kw):
    kw.setdefault("progress", False)
    return tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, **kw)


def fresh(sim, resource, start=START, end=NOW, **kw):
    """What a plain client fetch gives for the same server state."""
    c = client(sim, **kw)
    if resource in LISTS:
        return getattr(c, resource)(start=start, end=end, accounts="all")
    if resource == "usage_records":
        return c.usage_records("daily", start=start, end=end, accounts="all")
    if resource == "incoming_phone_numbers":
        return c.incoming_phone_numbers(accounts="all")
    return c.accounts()


@pytest.fixture(scope="module")
def synced(sim, tmp_path_factory):
    store = tf.Store(tmp_path_factory.mktemp("store") / "history")
    first = store.sync(client(sim), start=START)
    return store, first


@pytest.mark.parametrize("resource", sorted(tf.RESOURCES))
def test_frame_equals_a_fresh_fetch_for_every_resource(sim, synced, resource):
    store, _ = synced
    got = store.frame(resource, START, NOW) if resource in (*LISTS, "usage_records") \
        else store.frame(resource)
    want = fresh(sim, resource)
    assert len(want) > 0
    pd.testing.assert_frame_equal(got, want)
    assert got.attrs == want.attrs


@pytest.mark.parametrize("resource", LISTS)
@pytest.mark.parametrize("span", [("2026-11-05T07:30", "2026-11-09T13:00"),
                                  ("2026-11-14", None)])
def test_frame_of_a_sub_range_and_one_account(sim, synced, resource, span):
    store, _ = synced
    sub = sim.dataset.account_sids[1]
    start, end = span[0], span[1] or NOW
    pd.testing.assert_frame_equal(store.frame(resource, start, end),
                                  fresh(sim, resource, start, end))
    want = getattr(client(sim), resource)(start=start, end=end, accounts=[sub])
    pd.testing.assert_frame_equal(store.frame(resource, start, end, accounts=[sub]), want)
    cols = ["sid", "price_micros"]
    pd.testing.assert_frame_equal(store.frame(resource, start, end, columns=cols),
                                  fresh(sim, resource, start, end)[cols])


def test_xml_and_json_stores_are_equal(sim, synced, tmp_path):
    store, _ = synced
    xml = tf.Store(tmp_path / "xml")
    xml.sync(client(sim, format="xml", page_size=37), start="2026-11-10", resources=["calls"])
    pd.testing.assert_frame_equal(xml.frame("calls", "2026-11-10"),
                                  store.frame("calls", "2026-11-10"))


def test_resync_of_an_unchanged_store_touches_only_open_partitions(sim, synced):
    store, first = synced
    before = store.status()
    open_before = before[~before["settled"]]
    sim.reset_stats()
    again = store.sync(client(sim))
    assert again.fetched == len(open_before) and again.skipped == first.fetched - len(open_before)
    assert sim.stats.requests == again.requests
    # consecutive open days of one list share a request: fewer requests than partitions
    assert again.requests < len(open_before)
    after = store.status()
    settled = before[before["settled"]].set_index("path")["fetched_at"]
    assert after.set_index("path").loc[settled.index, "fetched_at"].equals(settled)
    changed = after.set_index("path").loc[open_before["path"], "fetched_at"]
    assert (changed > open_before.set_index("path")["fetched_at"]).all()
    # the open ones are the last days before now, the current month, and the undated lists
    days = open_before[open_before["resource"].isin(LISTS)]["period"]
    assert days.min() >= (NOW - pd.Timedelta("48h")).date() - pd.Timedelta("1D")


def test_status_says_why(synced):
    status = synced[0].status()
    assert list(status.columns) == ["resource", "account_sid", "period", "rows", "fetched_at",
                                    "settled", "why", "path"]
    whys = set(status["why"])
    assert "no date: read again on every sync" in whys
    assert any("less than settle=48h" in w for w in whys)
    assert any(w.startswith("ended at least 48h ago") for w in whys)


def test_a_day_with_rows_that_may_change_stays_open():
    from twilio_frames.store.ledger import judge
    old = pd.Timestamp("2026-11-01").date()
    calls = tf.to_frame("calls", [
        {"sid": "CA" + "1" * 32, "status": "completed", "price": None},
        {"sid": "CA" + "2" * 32, "status": "in-progress"},
        {"sid": "CA" + "3" * 32, "status": "no-answer", "price": None}])
    settled, why = judge("calls", old, calls, now=NOW, settle=pd.Timedelta("48h"))
    assert not settled and why == ("1 calls not final (queued/ringing/in-progress); "
                                   "1 calls not priced yet")
    assert judge("calls", old, calls.iloc[2:], now=NOW, settle=pd.Timedelta("48h"))[0]
    msgs = tf.to_frame("messages", [{"sid": "SM" + "1" * 32, "status": "failed"},
                                    {"sid": "SM" + "2" * 32, "status": "delivered"}])
    assert judge("messages", old, msgs, now=NOW, settle=pd.Timedelta("48h")) == \
        (False, "1 messages not priced yet")
    assert judge("messages", old, msgs.iloc[:1], now=NOW, settle=pd.Timedelta("0h"))[0]
    day = (NOW - pd.Timedelta("40h")).date()       # ended 36h before now
    assert judge("messages", day, msgs.iloc[:1], now=NOW, settle=pd.Timedelta("24h"))[0]
    assert not judge("messages", day, msgs.iloc[:1], now=NOW, settle=pd.Timedelta("48h"))[0]


def test_refresh_fetches_settled_days_again(sim, synced, tmp_path):
    store = tf.Store(tmp_path / "s")
    first = store.sync(client(sim), start="2026-11-11", resources=["messages"])
    again = store.sync(client(sim), refresh=True, resources=["messages"])
    assert again.skipped == 0 and again.fetched == first.fetched
    pd.testing.assert_frame_equal(store.frame("messages", "2026-11-11"),
                                  fresh(sim, "messages", "2026-11-11"))


def test_a_truncated_partition_is_reported_then_repaired(sim, tmp_path):
    store = tf.Store(tmp_path / "s")
    store.sync(client(sim), start="2026-11-04", end="2026-11-08", resources=["calls"])
    status = store.status()
    victim = status[status["settled"] & (status["rows"] > 0)]["path"].iloc[0]
    with open(victim, "r+b") as fh:
        fh.truncate(300)
    with pytest.raises(tf.StoreError, match="unreadable partition") as err:
        store.frame("calls")
    assert err.value.path == victim and victim in str(err.value)
    bad = store.status().set_index("path").loc[victim]
    assert pd.isna(bad["rows"]) and bad["why"].startswith("unreadable")
    again = store.sync(client(sim), resources=["calls"], end="2026-11-08")
    assert again.repaired == 1 and again.fetched == 1
    pd.testing.assert_frame_equal(store.frame("calls", "2026-11-04", "2026-11-08"),
                                  fresh(sim, "calls", "2026-11-04", "2026-11-08"))


def test_a_partition_of_an_unexpected_schema_names_its_file(sim, tmp_path):
    store = tf.Store(tmp_path / "s")
    store.sync(client(sim), start="2026-11-04", end="2026-11-05", resources=["calls"])
    path = store.status().query("resource == 'calls'")["path"].iloc[0]
    frame = pd.read_parquet(path)
    frame["duration"] = frame["duration"].astype("str")
    frame.to_parquet(path)
    with pytest.raises(tf.StoreError, match="unexpected schema: column 'duration'") as err:
        store.frame("calls")
    assert err.value.path == path


def test_a_second_sync_is_refused_while_one_holds_the_lock(sim, tmp_path):
    store = tf.Store(tmp_path / "s")
    store.sync(client(sim), start="2026-11-14", resources=["accounts"])
    with store_lock(store.path):
        with pytest.raises(tf.StoreError, match="another sync is writing this store") as err:
            store.sync(client(sim), resources=["calls"], start="2026-11-14")
        assert "pid" in str(err.value)
    assert store.sync(client(sim), resources=["calls"], start="2026-11-14").fetched > 0


def test_credentials_never_reach_the_store(sim, synced):
    store, _ = synced
    secrets = [sim.auth_token.encode(), sim.api_secret.encode(),
               *(t.encode() for t in sim.dataset.auth_tokens.values())]
    for path in store.path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(s in data for s in secrets), path


# ------------------------------------------------------------------ bad input

def test_a_folder_that_is_not_a_store_is_refused_before_writing(sim, tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(tf.StoreError, match="not a twilio-frames store"):
        tf.Store(tmp_path / "photos").sync(client(sim), start=START)
    assert [p.name for p in (tmp_path / "photos").iterdir()] == ["cat.jpg"]
    with pytest.raises(tf.StoreError, match="not a twilio-frames store"):
        tf.Store(tmp_path / "photos").frame("calls")


def test_a_store_of_another_account_is_refused(sim, tmp_path):
    store = tf.Store(tmp_path / "s")
    store.sync(client(sim), start="2026-11-14", resources=["accounts"])
    with tf.simulator.running(seed=7, days=3, subaccounts=0, now=SIM_OPTIONS["now"]) as other:
        with pytest.raises(tf.StoreError, match=f"holds account {sim.account_sid}, not "):
            store.sync(client(other), start="2026-11-14")
    assert {p.resource for p in layout.iter_partitions(store.path, "accounts")} == {"accounts"}
    assert not list(layout.iter_partitions(store.path, "calls"))


@pytest.mark.parametrize("kwargs, message", [
    ({"resources": ["calls", "faxes"]}, "unknown resources"),
    ({"settle": "soon"}, "settle='soon' is not a duration"),
    ({"settle": "-1h"}, "must be a duration of zero or more"),
    ({"accounts": ["AC" + "0" * 32]}, "SIDs the Accounts list shows"),
    ({"start": "2026-11-10", "end": "2026-11-09"}, "must be before end"),
    ({"start": "yesterday-ish"}, "is not an unambiguous date"),
])
def test_bad_sync_options_are_one_line_errors(sim, tmp_path, kwargs, message):
    kwargs = {"start": START, **kwargs}
    with pytest.raises(tf.ConfigurationError, match=message):
        tf.Store(tmp_path / "s").sync(client(sim), **kwargs)
    assert not list(layout.iter_partitions(tmp_path / "s", "calls"))


def test_the_first_sync_needs_a_start(sim, tmp_path):
    with pytest.raises(tf.ConfigurationError, match="first sync of a store needs start="):
        tf.Store(tmp_path / "s").sync(client(sim))


def test_bad_read_options(synced):
    store, _ = synced
    with pytest.raises(tf.ConfigurationError, match="unknown resource 'faxes'"):
        store.frame("faxes")
    with pytest.raises(tf.ConfigurationError, match="has no columns"):
        store.frame("calls", columns=["sid", "colour"])
    with pytest.raises(tf.ConfigurationError, match="account SIDs"):
        store.frame("calls", accounts=["me"])


def test_a_sync_past_the_retention_window_keeps_what_the_store_holds(sim, tmp_path):
    store = tf.Store(tmp_path / "s")
    store.sync(client(sim), start="2026-11-14", resources=["accounts"])
    old = tf.to_frame("messages", [{"sid": "SM" + "e" * 32, "account_sid": sim.account_sid,
                                    "date_sent": "Mon, 06 Oct 2025 10:00:00 +0000",
                                    "date_created": "Mon, 06 Oct 2025 10:00:00 +0000",
                                    "status": "delivered", "price": "-0.0079"}])
    path = layout.write_partition(store.path, "messages", sim.account_sid, "2025-10-06", old,
                                  meta={"fetched_at": "2025-10-10T00:00:00+00:00",
                                        "settled": False, "why": "synced back then"})
    kept = path.read_bytes()
    result = store.sync(client(sim), start="2025-10-06", end="2025-10-12",
                        resources=["messages"], accounts=[sim.account_sid])
    assert path.read_bytes() == kept                      # never deleted, never changed
    assert result.kept == 1 and len(result.refused) == 6 - 1  # 10-06..10-10 refused, 10-11 served
    resource, sid, day, message = result.refused[0]
    assert (resource, sid, str(day)) == ("messages", sim.account_sid, "2025-10-06")
    assert "20004" in message and "retention" in message
    assert "5 not served by the API any more (1 kept as stored)" in str(result)
    pd.testing.assert_frame_equal(store.frame("messages", "2025-10-06", "2025-10-07"), old)


def test_a_first_sync_asks_one_list_for_many_sparse_days(sim, tmp_path):
    store = tf.Store(tmp_path / "sparse")
    sim.reset_stats()
    first = store.sync(client(sim), start=START, resources=list(LISTS))
    days = first.fetched - 1                                   # the accounts partition
    assert sim.stats.requests == first.requests
    assert first.requests * 5 < days                # ~one request per (list, account)
    for resource in LISTS:
        pd.testing.assert_frame_equal(store.frame(resource, START), fresh(sim, resource))
    assert len(store.status()) == first.fetched                # empty days get partitions
