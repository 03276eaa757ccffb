"""tf.simulator.write_store against Store.sync from the running simulator at the same
``now``: the same partitions, each file's table equal (categories included), the same
ledger (settled, why, rows); the same frames; drawn a day at a time or all at once;
bad input refused before anything is written."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pandas as pd

import twilio_frames as tf
from twilio_frames.simulator import to_store

#: Keys of a partition's metadata that say what it holds and how it was judged (the
#: others say how it was fetched: when, in which format, in how many pages).
LEDGER_KEYS = ("resource", "account_sid", "period", "rows", "layout_version",
               "schema_version", "server_now", "settled", "why", "settle")
CASES = {
    # live calls at the edge of now, a history starting mid-day
    "small": {"seed": 11, "start": "2026-10-30T07:30:00Z", "now": "2026-11-15T12:00:00Z",
              "subaccounts": 2, "messages_per_day": 120},
    # attacks, a suspended subaccount, JPY, a now just after midnight, a month boundary
    "attacks": {"seed": 5, "now": "2026-11-01T00:02:00Z", "days": 35, "subaccounts": 4,
                "currency": "JPY", "attacks": 1},
    # a subaccount closed inside the history (numbers released, traffic stopped), its
    # data not yet deleted
    "closed": {"seed": 3, "now": "2026-11-20T12:00:00Z", "days": 20, "subaccounts": 2,
               "closed_at": "2026-11-10T09:00:00Z"},
}


def _sync(options: dict, root) -> tf.Store:
    with tf.simulator.running(**options) as sim:
        client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url,
                           progress=False)
        store = tf.Store(root)
        store.sync(client, start=sim.dataset.start)
    return store


def _files(root) -> dict:
    return {p.relative_to(root): p for p in sorted(root.rglob("*.parquet"))}


@pytest.fixture(scope="module", params=sorted(CASES))
def stores(request, tmp_path_factory):
    """(written a day at a time, written in one chunk, synced) for one case."""
    options, base = CASES[request.param], tmp_path_factory.mktemp(request.param)
    patch = pytest.MonkeyPatch()
    patch.setattr(to_store, "_CHUNK_EVENTS", 1)           # one local day per chunk
    daily = tf.simulator.write_store(base / "daily", **options)
    patch.undo()
    whole = tf.simulator.write_store(base / "whole", **options)
    assert daily.partitions == whole.partitions and daily.rows == whole.rows
    return base / "daily", base / "whole", _sync(options, base / "synced").path


def test_the_same_partitions_each_file_equal(stores):
    daily, whole, synced = stores
    want = _files(synced)
    assert len(want) > 100
    for written in (daily, whole):
        got = _files(written)
        assert sorted(got) == sorted(want)
        for name, path in want.items():
            a, b = pq.read_table(got[name]), pq.read_table(path)
            assert a.replace_schema_metadata(None).equals(b.replace_schema_metadata(None)), name
            meta_a, meta_b = (json.loads(t.schema.metadata[b"twilio_frames"]) for t in (a, b))
            assert {k: meta_a.get(k) for k in LEDGER_KEYS} == \
                {k: meta_b.get(k) for k in LEDGER_KEYS}, name
            assert meta_a["source"] == "twilio_frames.simulator.write_store"


def test_the_same_frames_and_status(stores):
    daily, _, synced = stores
    for resource in tf.RESOURCES:
        got, want = tf.Store(daily).frame(resource), tf.Store(synced).frame(resource)
        pd.testing.assert_frame_equal(got, want)
    columns = ["resource", "account_sid", "period", "rows", "settled", "why"]
    got, want = (tf.Store(s).status()[columns] for s in (daily, synced))
    pd.testing.assert_frame_equal(got, want)
    assert want["settled"].any() and not want["settled"].all()     # both kinds judged


def test_result_counts_what_was_written(tmp_path):
    result = tf.simulator.write_store(tmp_path / "s", seed=2, days=3, subaccounts=1,
                                      now="2026-11-15T12:00:00Z")
    status = tf.Store(tmp_path / "s").status()
    assert result.partitions == len(status)
    assert result.open == int((~status["settled"]).sum())
    assert result.rows == status.groupby("resource", sort=False)["rows"].sum().to_dict()
    assert "partitions" in str(result)


# ------------------------------------------------------------------ bad input

def test_unknown_option_is_named(tmp_path):
    with pytest.raises(TypeError, match="'mesages_per_day'"):
        tf.simulator.write_store(tmp_path / "s", mesages_per_day=10)
    assert not (tmp_path / "s").exists()


def test_a_bad_option_value_is_named_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="subaccounts must be .* from 0 to 14"):
        tf.simulator.write_store(tmp_path / "s", subaccounts=15, days=2)
    with pytest.raises(ValueError, match="needs a history: start .* is not before now"):
        tf.simulator.write_store(tmp_path / "s", days=0)
    assert not (tmp_path / "s").exists()


def test_a_file_is_refused(tmp_path):
    path = tmp_path / "file.txt"
    path.write_text("keep me")
    with pytest.raises(tf.StoreError, match="not a folder") as err:
        tf.simulator.write_store(path, seed=1, days=2)
    assert str(path) in str(err.value)
    assert path.read_text() == "keep me"


def test_a_folder_that_is_not_a_store_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(tf.StoreError, match="not empty and is not a twilio-frames store"):
        tf.simulator.write_store(tmp_path, seed=1, days=2)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_an_existing_store_is_not_overwritten(tmp_path):
    tf.simulator.write_store(tmp_path / "s", seed=1, days=2, now="2026-11-15T12:00:00Z")
    before = {p: p.read_bytes() for p in (tmp_path / "s").rglob("*") if p.is_file()}
    with pytest.raises(tf.StoreError, match="a store is there already") as err:
        tf.simulator.write_store(tmp_path / "s", seed=1, days=2, now="2026-11-15T12:00:00Z")
    assert str(tmp_path / "s") in str(err.value)
    after = {p: p.read_bytes() for p in (tmp_path / "s").rglob("*") if p.is_file()}
    assert after == before


def test_a_table_of_another_schema_is_refused(tmp_path):
    from twilio_frames.store.writer import StoreWriter, arrow_schema
    sid = "AC" + "0" * 32
    with StoreWriter(tmp_path / "s", account_sid=sid, now=pd.Timestamp("2026-11-15", tz="UTC"),
                     source="test") as writer:
        schema = arrow_schema("messages")
        table = schema.empty_table().set_column(0, "sid", pa.array([], pa.int64()))
        with pytest.raises(tf.StoreError, match="sid is int64, not large_string"):
            writer.write("messages", sid, "2026-11-14", table)
    assert not list((tmp_path / "s").rglob("*.parquet"))


# ------------------------------------------------------------------ the bridge

def test_write_store_is_the_function_even_after_its_module_is_imported():
    import twilio_frames.simulator.to_store  # noqa: F401
    assert tf.simulator.write_store is to_store.write_store
    assert callable(tf.simulator.write_store)


def test_serving_never_loads_the_store_or_the_client():
    code = ("import sys, twilio_frames.simulator as s; "
            "from twilio_frames.simulator import app, server, dataset, render, query; "
            "print(sorted({m.split('.')[1] for m in sys.modules "
            "if m.startswith('twilio_frames.') and m.split('.')[1] != 'simulator'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_a_deleted_subaccount_is_refused_before_anything_is_written(tmp_path):
    target = tmp_path / "store"
    with pytest.raises(ValueError, match=r"closed_at .*more than 30 days before now"):
        tf.simulator.write_store(target, seed=3, now="2026-12-20T12:00:00Z", days=50,
                                 subaccounts=2, closed_at="2026-11-10T09:00:00Z")
    assert not target.exists() or not any(target.iterdir())
