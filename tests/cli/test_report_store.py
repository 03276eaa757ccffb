"""``twilio-frames report --store DIR`` through Dask: the same report as through pandas,
from a store the sync wrote from the simulator, without ever reading a list into one
pandas frame."""

from __future__ import annotations

import pandas as pd
import pytest

import twilio_frames as tf
from twilio_frames.analysis.engine import is_dask
from twilio_frames.output.report import write as report_write
from twilio_frames.store import source as store_source

from cli_run import run

pytest.importorskip("dask")

#: Ten days of the session simulator (a master and two subaccounts): 30 partitions of
#: each list, so Dask meets many partitions and some empty ones.
START, END = "2026-11-06", "2026-11-16"
NOW = pd.Timestamp("2026-11-15T12:00:00Z")
LINE_ITEMS = {"calls.csv", "messages.csv", "recordings.csv"}


@pytest.fixture(scope="module")
def synced(tmp_path_factory, sim):
    """The session simulator's accounts synced into a store (over loopback HTTP)."""
    root = tmp_path_factory.mktemp("report-store") / "store"
    with tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url) as client:
        tf.Store(root).sync(client, start=START, end=END)
    return root


@pytest.fixture(scope="module")
def reports(synced, tmp_path_factory):
    """The report of the store read as pandas, then through Dask, with every read of a
    whole list frame from the store recorded."""
    out = tmp_path_factory.mktemp("reports")
    read = []
    real = store_source.read_frame

    def spy(root, resource, *args, **kwargs):
        read.append(resource)
        return real(root, resource, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store_source, "read_frame", spy)
        results = {}
        for engine in ("pandas", "dask"):
            read.clear()
            results[engine] = tf.write_report(tf.Store(synced).source(), out / engine,
                                              start=START, end=END, now=NOW, engine=engine)
            results[engine].read = list(read)
    return results


def _files(result) -> dict[str, bytes]:
    return {f: (result.path / f).read_bytes() for f in result.files}


def test_the_dask_report_never_reads_a_list_as_one_frame(reports):
    assert {"calls", "messages", "recordings"} <= set(reports["pandas"].read)
    assert not {"calls", "messages", "recordings"} & set(reports["dask"].read)
    data = reports["dask"].data
    assert data.engine == "dask" and all(is_dask(f) for f in data.lists.values())


def test_the_dask_report_equals_the_pandas_report(reports):
    pandas, dask = reports["pandas"], reports["dask"]
    assert pandas.data.engine == "pandas"
    assert len(pandas.data.messages) and len(pandas.data.calls)
    pd.testing.assert_frame_equal(dask.costs, pandas.costs, check_exact=True)
    pd.testing.assert_frame_equal(dask.reconciliation, pandas.reconciliation,
                                  check_exact=True)
    assert dask.status == pandas.status and dask.failed_fees == pandas.failed_fees
    a, b = _files(pandas), _files(dask)
    assert set(a) - set(b) == LINE_ITEMS and set(b) <= set(a)     # line items left out
    different = [f for f in b if f != "index.html" and a[f] != b[f]]
    assert not different                  # every CSV, statement and PNG byte for byte
    assert any(f.startswith("statements/") for f in b) and "anomalies.csv" in b
    page = b["index.html"].decode()
    assert "read through Dask" in page and "write_line_items_csv" in page
    assert "read through Dask" not in a["index.html"].decode()


def test_auto_reads_a_large_store_through_dask(synced, monkeypatch):
    source = tf.Store(synced).source()
    small = report_write.fetch_report_data(source, start=START, end=END)
    assert small.engine == "pandas"           # far under DASK_ROWS
    monkeypatch.setattr(report_write, "DASK_ROWS", 100)
    large = report_write.fetch_report_data(source, start=START, end=END)
    assert large.engine == "dask"
    # a Dask frame (a small store is one sized partition), bodies left on disk
    dd = pytest.importorskip("dask.dataframe")
    assert isinstance(large.messages, dd.DataFrame) and "body" not in large.messages.columns


def test_dask_needs_a_store(sim, tmp_path):
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url)
    with pytest.raises(tf.ConfigurationError, match="engine='dask' reads a store"):
        tf.write_report(client, tmp_path / "r", start=START, end=END, engine="dask")
    with pytest.raises(tf.ConfigurationError, match="engine must be one of"):
        tf.write_report(client, tmp_path / "r", start=START, end=END, engine="spark")
    assert not (tmp_path / "r").exists()


def test_cli_report_store_engine_dask(capsys, synced, tmp_path):
    code, out, err = run(capsys, "report", "--store", str(synced), "--start", "2026-11-12",
                         "--end", END, "--engine", "dask", "--out", str(tmp_path / "rep"))
    assert code == 0, err
    assert "Dask" in err and "partitions read as needed" in err
    assert "Report:" in out and "total" in out
    assert not (tmp_path / "rep" / "messages.csv").exists()
    assert (tmp_path / "rep" / "billing.csv").exists()
