"""Readable without us: pyarrow.dataset, DuckDB, Dask and Polars read a store in a
fresh interpreter that never imports twilio_frames; and Store.dask."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

import twilio_frames as tf

START, END = "2026-11-08", "2026-11-15T12:00"

READERS = {
    "pyarrow": """
        import pyarrow.dataset as ds
        t = ds.dataset(f"{root}/calls", format="parquet", partitioning="hive").to_table()
        out = {"rows": t.num_rows, "accounts": sorted(set(t.column("account_sid").to_pylist())),
               "cents": sum(x or 0 for x in t.column("price_micros").to_pylist())}
    """,
    "duckdb": """
        import duckdb
        [(rows, accounts, micros)] = duckdb.sql(
            f"select count(*), list(distinct account_sid order by account_sid), "
            f"coalesce(sum(price_micros), 0) from read_parquet('{root}/calls/**/*.parquet', "
            f"hive_partitioning = true)").fetchall()
        out = {"rows": rows, "accounts": accounts, "cents": int(micros)}
    """,
    "dask": """
        import dask.dataframe as dd
        df = dd.read_parquet(f"{root}/calls").compute()
        out = {"rows": len(df), "accounts": sorted(df["account_sid"].astype(str).unique()),
               "cents": int(df["price_micros"].fillna(0).sum())}
    """,
    "polars": """
        import polars as pl
        df = pl.scan_parquet(f"{root}/calls/**/*.parquet", hive_partitioning=True).collect()
        out = {"rows": df.height, "accounts": sorted(df["account_sid"].cast(str).unique().to_list()),
               "cents": int(df["price_micros"].fill_null(0).sum())}
    """,
}


@pytest.fixture(scope="module")
def store(sim, tmp_path_factory):
    store = tf.Store(tmp_path_factory.mktemp("readers") / "s")
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False)
    store.sync(client, start=START, end=END)
    return store


@pytest.mark.parametrize("reader", sorted(READERS))
def test_each_engine_reads_the_store_without_twilio_frames(store, reader):
    body = textwrap.dedent(READERS[reader])
    code = (f"import json, sys\nroot = {str(store.path)!r}\n{body}\n"
            "assert not any(m.startswith('twilio_frames') for m in sys.modules)\n"
            "print(json.dumps(out))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=store.path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    calls = store.frame("calls")
    assert got == {"rows": len(calls), "accounts": sorted(calls["account_sid"].unique()),
                   "cents": int(calls["price_micros"].fillna(0).sum())}


def test_store_dask_prunes_partitions_and_projects_columns(store):
    pytest.importorskip("dask.dataframe")
    sub = tf.Store(store.path).frame("calls")["account_sid"].iloc[-1]
    want = store.frame("calls", "2026-11-10T06:00", "2026-11-13", accounts=[sub],
                       columns=["sid", "start_time", "price_micros"])
    for size, npartitions in ((None, 3), ("32MiB", 1)):    # one account, three days
        lazy = store.dask("calls", "2026-11-10T06:00", "2026-11-13", accounts=[sub],
                          columns=["sid", "start_time", "price_micros"], partition_size=size)
        assert lazy.npartitions == npartitions
        assert list(lazy.columns) == ["sid", "start_time", "price_micros"]
        got = lazy.compute().sort_values("sid").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want.sort_values("sid").reset_index(drop=True))
        assert (got["start_time"] >= pd.Timestamp("2026-11-10T06:00", tz="UTC")).all()


def test_store_dask_partitions_hold_consecutive_stored_partitions(store):
    pytest.importorskip("dask.dataframe")
    from twilio_frames.store import read
    parts = read.select(store.path, "messages")
    sizes = [p.path.stat().st_size for p in parts]
    limit = 3 * max(sizes)
    lazy = store.dask("messages", columns=["sid", "account_sid"], partition_size=limit)
    assert len(parts) // 3 <= lazy.npartitions < len(parts)
    pieces = [lazy.get_partition(i).compute() for i in range(lazy.npartitions)]
    got = pd.concat(pieces, ignore_index=True)
    whole = read.read_partitions(parts, columns=["sid", "account_sid"])
    pd.testing.assert_frame_equal(got, whole)          # every row once, in stored order
    assert set(got["account_sid"]) == {p.account_sid for p in parts}


def test_store_dask_reads_only_the_columns_a_computation_selects(store, monkeypatch):
    pytest.importorskip("dask.dataframe")
    import dask
    from twilio_frames.store import read
    want = store.frame("messages")["price_micros"].sum()
    seen = []
    real = read._read_file
    monkeypatch.setattr(read, "_read_file", lambda part, columns: seen.append(
                        (part.resource, columns)) or real(part, columns))
    lazy = store.dask("messages", columns=["sid", "to", "from", "price_micros", "status"])
    with dask.config.set(scheduler="sync"):
        total = lazy[["price_micros", "status"]].compute()["price_micros"].sum()
    assert total == want
    read = {tuple(c) for r, c in seen if r == "messages"}
    assert read == {("status", "price_micros")}           # no sid, no sort keys


@pytest.mark.parametrize("size", ["lots", -1, [1]])
def test_store_dask_refuses_a_bad_partition_size(store, size):
    pytest.importorskip("dask.dataframe")
    with pytest.raises(tf.ConfigurationError, match="partition_size"):
        store.dask("messages", partition_size=size)


def test_store_dask_keeps_the_frame_dtypes(store):
    pytest.importorskip("dask.dataframe")
    frame = store.frame("messages")
    for size in (None, "32MiB"):
        lazy = store.dask("messages", partition_size=size)
        assert lazy.npartitions > 1 or size
        got = lazy.compute()
        assert dict(got.dtypes) == dict(frame.dtypes)
        assert len(got) == len(frame) and set(got["sid"]) == set(frame["sid"])


def test_store_dask_says_its_partitions_are_sized(store):
    pytest.importorskip("dask.dataframe")
    from twilio_frames.analysis import engine
    assert store.dask("calls")[["sid"]]._meta.attrs.get(engine.SIZED) is True
    assert engine.SIZED not in store.dask("calls", partition_size=None)._meta.attrs
    assert engine.SIZED not in store.dask("calls").compute().attrs
