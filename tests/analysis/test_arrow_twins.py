"""The Arrow twins of the messages partials (cost_by_period, reconcile) give what the
pandas partials give, and run only on a Dask frame still as Store.dask read it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import twilio_frames as tf
from twilio_frames.analysis import arrow_arrays, billing, engine, reconciliation, summaries

dask = pytest.importorskip("dask")


@pytest.fixture(scope="module")
def messages(sim):
    """Every account's messages; one subaccount in EUR, and rows the rules treat apart:
    channel addresses, a missing status, unpriced rows without a currency, MMS."""
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False)
    frame = client.messages(accounts="all").reset_index(drop=True)
    euro = sorted(set(frame["account_sid"]) - {sim.account_sid})[0]
    frame.loc[frame["account_sid"] == euro, "price_unit"] = "EUR"
    frame.loc[0:4, "to"] = "whatsapp:+14155550100"
    frame.loc[5:6, "from"] = "messenger-page"
    frame.loc[7, "status"] = np.nan
    frame.loc[8:12, ["price_micros", "price_unit"]] = [pd.NA, np.nan]
    frame.loc[13:15, "num_media"] = 2
    frame.loc[16, "date_sent"] = pd.NaT
    assert frame["price_unit"].nunique() == 2
    return frame


def table_of(frame: pd.DataFrame, pieces: int = 1) -> pa.Table:
    """The frame as the Arrow table of a store partition (``pieces`` chunks, each with
    its own dictionaries, as files read one by one)."""
    cuts = np.linspace(0, len(frame), pieces + 1).astype(int)
    tables = [pa.Table.from_pandas(frame.iloc[a:b], preserve_index=False)
              for a, b in zip(cuts, cuts[1:])]
    return pa.concat_tables(tables, promote_options="permissive")


@pytest.mark.parametrize("pieces", [1, 7])
@pytest.mark.parametrize("category", [True, False])
def test_message_arrays_are_the_billing_arrays(messages, pieces, category):
    want = billing.arrays(messages, "messages", category=category)
    got = arrow_arrays.message_arrays(table_of(messages, pieces), category=category)
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(got[key], value, err_msg=key)
        else:
            assert got[key] == value, key


def by_keys(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, ignore_index=True)


@pytest.mark.parametrize("by", [["account_sid"], [], ["account_sid", "to"]])
def test_cost_by_period_twin_is_the_partial(messages, by):
    options = {"resource": "messages", "by": by, "freq": "D", "tz": "UTC"}
    assert summaries._arrow_by(**options)
    keys = ["period", *by, "product", "currency"]
    want = summaries._aggregate_fast(messages, **options)
    got = summaries._aggregate_arrow(table_of(messages, 3), **options)
    pd.testing.assert_frame_equal(by_keys(got, keys), by_keys(want, keys), check_exact=True)


def test_reconcile_twin_is_the_partial(messages):
    keys = ["account_sid", "fine", "day", "currency"]
    want = reconciliation._day_table(messages, resource="messages")
    got = reconciliation._day_table_arrow(table_of(messages, 3), resource="messages")
    pd.testing.assert_frame_equal(by_keys(got, keys), by_keys(want, keys), check_exact=True)


def test_derived_and_category_keys_stay_on_pandas():
    accepts = summaries._arrow_by
    for by in (["country"], ["status"], ["category"], ["our_number"]):
        assert not accepts(resource="messages", by=by, freq="D", tz="UTC")
    assert not accepts(resource="calls", by=[], freq="D", tz="UTC")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("twins") / "s"
    tf.simulator.write_store(path, seed=5, now="2026-11-01T00:00:00Z", days=6,
                             subaccounts=2, messages_per_day=300)
    return tf.Store(path)


@pytest.fixture
def twin_runs(monkeypatch):
    runs = []
    real = engine._run_arrow
    monkeypatch.setattr(engine, "_run_arrow", lambda *a: runs.append(1) or real(*a))
    return runs


@pytest.mark.parametrize("size", [None, "40KiB"])
def test_a_store_frame_runs_the_twins_and_gives_the_pandas_result(store, twin_runs, size):
    lazy = store.dask("messages", partition_size=size)
    usage = store.frame("usage_records")
    with dask.config.set(scheduler="sync"):
        got = (tf.cost_by_period(messages=lazy, freq="D", by="account_sid"),
               tf.reconcile(usage, messages=lazy))
    assert len(twin_runs) >= 2 * min(lazy.npartitions, engine.MIN_TASKS) > 2
    frame = store.frame("messages")
    pd.testing.assert_frame_equal(got[0], tf.cost_by_period(messages=frame, freq="D",
                                                            by="account_sid"))
    pd.testing.assert_frame_equal(got[1], tf.reconcile(usage, messages=frame))


def test_a_store_frame_of_a_range_is_trimmed_in_the_twins(store, twin_runs):
    span = {"start": "2026-10-28T06:00:00Z", "end": "2026-10-30T18:00:00Z"}
    with dask.config.set(scheduler="sync"):
        got = tf.cost_by_period(messages=store.dask("messages", **span), freq="D",
                                by="account_sid")
    assert twin_runs
    want = tf.cost_by_period(messages=store.frame("messages", **span), freq="D",
                             by="account_sid")
    assert 0 < want["count"].sum() < len(store.frame("messages"))
    pd.testing.assert_frame_equal(got, want)


def test_a_changed_store_frame_is_computed_as_pandas(store, twin_runs):
    lazy = store.dask("messages")
    kept = lazy[lazy["status"] != "failed"]
    with dask.config.set(scheduler="sync"):
        got = tf.cost_by_period(messages=kept, freq="D", by="account_sid")
        parts = tf.cost_by_period(messages=lazy.partitions[:1], freq="D")
    assert twin_runs == []
    frame = store.frame("messages")
    want = tf.cost_by_period(messages=frame[frame["status"] != "failed"], freq="D",
                             by="account_sid")
    pd.testing.assert_frame_equal(got, want)
    assert parts["count"].sum() == len(lazy.partitions[:1].compute())


def _rewrite(path, change) -> None:
    """Rewrite one stored file with ``change(table)`` (its schema metadata kept)."""
    import pyarrow.parquet as pq
    table = pq.read_table(path)
    pq.write_table(change(table).replace_schema_metadata(table.schema.metadata), path,
                   compression="snappy")


def _set(table: pa.Table, name: str, rows: dict) -> pa.Table:
    values = table.column(name).to_pylist()
    for i, v in rows.items():
        values[i] = v
    return table.set_column(table.column_names.index(name), name,
                            pa.array(values, table.schema.field(name).type))


@pytest.fixture
def left_out(monkeypatch):
    """What the twins' reads left out, one entry per task."""
    seen = []
    real = engine._run_arrow

    def run(twin, reader, items, kwargs, options):
        table = reader(items.items, **kwargs)
        seen.append(arrow_arrays.left_out_of(table))
        return twin(table, **options)
    monkeypatch.setattr(engine, "_run_arrow", run)
    return seen


def test_the_twins_read_addresses_and_date_created_only_where_they_can_matter(
        tmp_path, left_out):
    tf.simulator.write_store(tmp_path / "s", seed=6, now="2026-11-01T00:00:00Z", days=4,
                             subaccounts=1, messages_per_day=200)
    store = tf.Store(tmp_path / "s")
    usage = store.frame("usage_records")

    def both(size=None):
        lazy = store.dask("messages", partition_size=size)
        with dask.config.set(scheduler="sync"):
            got = (tf.cost_by_period(messages=lazy, freq="D", by="account_sid"),
                   tf.reconcile(usage, messages=lazy))
        frame = store.frame("messages")
        want = (tf.cost_by_period(messages=frame, freq="D", by="account_sid"),
                tf.reconcile(usage, messages=frame))
        for g, w in zip(got, want):
            pd.testing.assert_frame_equal(g, w)
        return got

    before = both()
    assert left_out and all(s == {"numbers": ["to", "from"], "fallbacks": ["date_created"]}
                            for s in left_out[len(left_out) // 2:])        # reconcile's
    assert all(s["fallbacks"] == ["date_created"] for s in left_out[:len(left_out) // 2])
    # one file: a WhatsApp address, a Messenger sender, a message without date_sent
    part = sorted((store.path / "messages").glob("account_sid=*/day=*/data.parquet"))[2]
    frame = pd.read_parquet(part)
    sms = frame.index[(frame["status"] == "delivered") & (frame["num_media"] == 0)
                      & (frame["direction"] != "inbound")].tolist()[:3]
    _rewrite(part, lambda t: _set(_set(_set(t, "to", {sms[0]: "whatsapp:+14155550100"}),
                                       "from", {sms[1]: "messenger:1234"}),
                                  "date_sent", {sms[2]: None}))
    left_out.clear()
    after = both()
    assert any(s == {"numbers": [], "fallbacks": []} for s in left_out)
    assert any(s["numbers"] for s in left_out)        # the other accounts' tasks still do
    rows = ["list_count", "list_price_micros"]
    assert not after[1][rows].equals(before[1][rows])  # two SMS became 'other'
    assert (after[1]["status"] == "mismatch").sum() > 0
    left_out.clear()
    both("40KiB")                                     # smaller tasks: each decides alone
    assert {"numbers": [], "fallbacks": []} in left_out and any(s["numbers"] for s in left_out)
