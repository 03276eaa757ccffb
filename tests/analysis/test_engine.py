"""One analysis, any engine: every summary gives the same pandas result, exactly, for a
pandas frame and for Dask frames of the same rows however they are partitioned."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twilio_frames as tf
from twilio_frames.analysis import engine

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")

NOW = pd.Timestamp("2026-11-15T12:00:00Z")


@pytest.fixture(scope="module")
def frames(sim):
    """Every account's lists and daily usage over HTTP; one subaccount billed in EUR, so
    every summary meets two currencies."""
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url)
    out = {name: getattr(client, name)(accounts="all")
           for name in ("calls", "messages", "recordings")}
    out["usage"] = client.usage_records("daily", accounts="all")
    euro = sorted(set(out["calls"]["account_sid"]) - {sim.account_sid})[0]
    for frame in out.values():
        frame.loc[frame["account_sid"] == euro, "price_unit"] = "EUR"
    return out


LISTS = ("calls", "messages", "recordings")


def lists(f, *names):
    return {name: f[name] for name in (names or LISTS)}


# name -> summary of a mapping holding calls, messages, recordings and usage
SUMMARIES = {
    "cost_by_period": lambda f: tf.cost_by_period(**lists(f), freq="D"),
    "cost_by_period_account": lambda f: tf.cost_by_period(
        **lists(f, "calls", "messages"), freq="D", by="account_sid"),
    "cost_by_period_derived": lambda f: tf.cost_by_period(
        **lists(f), freq="W", by=["country", "status", "category"], tz="America/New_York"),
    "cost_by_period_numbers": lambda f: tf.cost_by_period(
        **lists(f, "messages"), freq="M", by=["our_number", "direction"]),
    "reconcile": lambda f: tf.reconcile(f["usage"], **lists(f)),
    "reconcile_messages": lambda f: tf.reconcile(f["usage"], **lists(f, "messages")),
    "call_summary": lambda f: tf.call_summary(f["calls"]),
    "call_summary_by": lambda f: tf.call_summary(
        f["calls"], by=["account_sid", "status", "country"]),
    "call_summary_all": lambda f: tf.call_summary(f["calls"], by=None),
    "message_summary": lambda f: tf.message_summary(f["messages"]),
    "message_summary_by": lambda f: tf.message_summary(
        f["messages"], by=["encoding", "segments", "media", "error_code", "country"]),
    "recording_summary": lambda f: tf.recording_summary(f["recordings"]),
    "recording_summary_by": lambda f: tf.recording_summary(
        f["recordings"], freq="D", by=["status", "source"], tz="Asia/Tokyo"),
    "conversations": lambda f: tf.conversations(f["calls"]),
    "top_numbers": lambda f: tf.top_numbers(**lists(f, "calls", "messages"), n=5),
    "top_numbers_remote": lambda f: tf.top_numbers(calls=f["calls"], n=3, side="remote"),
    "top_countries": lambda f: tf.top_countries(**lists(f, "calls", "messages")),
    "unrated_calls": lambda f: tf.unrated(f["calls"], now=NOW),
    "unrated_messages": lambda f: tf.unrated(f["messages"], now=NOW),
    "unrated_recordings": lambda f: tf.unrated(f["recordings"], now=NOW),
    "unrated_calls_unbilled": lambda f: tf.unrated(f["calls"], now=NOW, include_unbilled=True),
    "reconcile_calls": lambda f: tf.reconcile(f["usage"], calls=f["calls"]),
    "bill_by_account": lambda f: tf.bill_by_account(f["usage"], **lists(f)),
    "bill_by_account_daily": lambda f: tf.bill_by_account(
        f["usage"], **lists(f, "calls", "messages"), freq="D"),
}


def run(name, frames):
    return SUMMARIES[name](frames)


@pytest.fixture(scope="module")
def expected(frames):
    """The pandas result of every summary, computed once."""
    return {name: run(name, frames) for name in SUMMARIES}


def uneven(frame: pd.DataFrame, cuts: list[int]):
    """A Dask frame whose partitions are ``frame`` cut at ``cuts`` (empty ones too)."""
    edges = [0, *sorted(min(c, len(frame)) for c in cuts), len(frame)]
    pieces = [dask.delayed(frame.iloc[a:b]) for a, b in zip(edges, edges[1:])]
    return dd.from_delayed(pieces, meta=frame.iloc[:0], verify_meta=False)


partitioning = st.one_of(
    st.integers(1, 24).map(lambda n: ("even", n)),
    st.lists(st.integers(0, 2500), max_size=8).map(lambda cuts: ("uneven", cuts)))


class as_dask(dict):
    """The frames as Dask frames partitioned by ``how``, each built when first used."""

    def __init__(self, frames, how, convert_string):
        super().__init__()
        self.frames, self.how, self.convert_string = frames, how, convert_string

    def __missing__(self, key):
        kind, arg = self.how
        with dask.config.set({"dataframe.convert-string": self.convert_string}):
            frame = (dd.from_pandas(self.frames[key], npartitions=arg, sort=False)
                     if kind == "even" else uneven(self.frames[key], arg))
        self[key] = frame
        return frame


def test_the_fixture_has_two_currencies(frames):
    out = tf.cost_by_period(**lists(frames))
    assert set(out["currency"]) == {"EUR", "USD"}
    assert out.groupby("currency")["cost_micros"].sum().gt(0).all()


@pytest.mark.parametrize("name", sorted(SUMMARIES))
@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(how=partitioning, convert_string=st.booleans(), batch=st.sampled_from([None, 1, 2, 5]))
def test_dask_equals_pandas_over_partitionings(frames, expected, name, how, convert_string,
                                               batch):
    with dask.config.set({"scheduler": "sync", "twilio_frames.partitions_per_task": batch}):
        got = run(name, as_dask(frames, how, convert_string))
    pd.testing.assert_frame_equal(got, expected[name], check_exact=True)


def test_threaded_scheduler_gives_the_same(frames):
    ddf = as_dask(frames, ("even", 6), True)
    with dask.config.set(scheduler="threads"):
        for name in ("cost_by_period", "reconcile", "call_summary"):
            pd.testing.assert_frame_equal(run(name, ddf), run(name, frames), check_exact=True)


def test_small_partitions_are_run_in_batches():
    assert engine.partitions_per_task(10) == 1
    assert engine.partitions_per_task(640) == 10
    assert engine.partitions_per_task(100_000) == engine.MAX_PARTITIONS_PER_TASK
    with dask.config.set({"twilio_frames.partitions_per_task": 3}):
        assert engine.partitions_per_task(10) == 3


def _exploding(meta: pd.DataFrame):
    def boom():
        raise RuntimeError("a partition was computed")
    return dd.from_delayed([dask.delayed(boom)()], meta=meta, verify_meta=False)


@pytest.mark.parametrize(("call", "drop"), [
    (lambda f, u: tf.cost_by_period(calls=f), "price_micros"),
    (lambda f, u: tf.call_summary(f), "duration"),
    (lambda f, u: tf.conversations(f), "parent_call_sid"),
    (lambda f, u: tf.unrated(f, resource="calls"), "status"),
    (lambda f, u: tf.top_numbers(calls=f), "to"),
    (lambda f, u: tf.reconcile(u, calls=f), "start_time"),
])
def test_missing_column_same_error_before_computing(frames, call, drop):
    pandas_frame = frames["calls"].drop(columns=[drop])
    with pytest.raises(tf.ConfigurationError) as pandas_error:
        call(pandas_frame, frames["usage"])
    with pytest.raises(tf.ConfigurationError) as dask_error:
        call(_exploding(pandas_frame.iloc[:0]), frames["usage"])
    assert str(dask_error.value) == str(pandas_error.value)
    assert drop in str(dask_error.value)


def test_usage_missing_a_column_is_refused_before_computing(frames):
    usage = frames["usage"].drop(columns=["as_of"])
    with pytest.raises(tf.ConfigurationError, match="as_of"):
        tf.reconcile(_exploding(usage.iloc[:0]), calls=frames["calls"])


def test_unknown_by_column_is_refused_before_computing(frames):
    lazy = _exploding(frames["messages"].iloc[:0])
    for summary in (tf.message_summary, lambda f, by: tf.cost_by_period(messages=f, by=by)):
        with pytest.raises(tf.ConfigurationError, match="by='nope'"):
            summary(lazy, by="nope")


def test_a_non_frame_is_refused():
    with pytest.raises(tf.ConfigurationError, match="calls must be a DataFrame"):
        tf.cost_by_period(calls=[1, 2, 3])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 40)), min_size=1, max_size=60))
def test_histogram_statistics_are_pandas_statistics(rows):
    raw = pd.DataFrame(rows, columns=["group", "value"])
    raw["value"] = raw["value"].astype("Float64")
    grouped = raw.groupby("group")["value"]
    hist = raw.groupby(["group", "value"]).size().rename("n").reset_index()
    groups = np.sort(raw["group"].unique())
    at = np.searchsorted(groups, hist["group"].to_numpy())
    stats = engine.histogram_stats(at, hist["value"].to_numpy(float), hist["n"].to_numpy(),
                                   len(groups), 0.9)
    for name, expected in [("mean", grouped.mean()), ("median", grouped.median()),
                           ("quantile", grouped.quantile(0.9)), ("max", grouped.max())]:
        assert stats[name].tolist() == expected.astype("float64").tolist(), name


def test_pandas_summaries_never_import_dask():
    code = ("import sys, pandas as pd, twilio_frames as tf\n"
            "tf.cost_by_period(calls=tf.to_frame('calls', []))\n"
            "print(any(m == 'dask' or m.startswith(('dask.', 'distributed')) "
            "for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_partitions_with_their_own_unknown_enum_values(frames):
    """A store's partitions each list the known values then the unknown ones present,
    sorted; the combined result has the categories of the whole frame, in its order."""
    msgs = frames["messages"].iloc[:600].copy()
    status = msgs["status"].astype("str").to_numpy(copy=True)
    status[10], status[400], status[450] = "zeta-state", "beta-state", "alpha-state"
    known = list(frames["messages"]["status"].cat.categories)

    def typed(frame):
        found = sorted(set(frame["status"]) - set(known))
        return frame.assign(status=pd.Categorical(frame["status"], categories=known + found))

    whole = typed(msgs.assign(status=status))
    pieces = [typed(msgs.assign(status=status).iloc[a:b]) for a, b in [(0, 300), (300, 600)]]
    lazy = dd.from_delayed([dask.delayed(p) for p in pieces], meta=whole.iloc[:0],
                           verify_meta=False)
    for summary in (lambda f: tf.message_summary(f, by="status"),
                    lambda f: tf.cost_by_period(messages=f, by="status")):
        with dask.config.set(scheduler="sync"):
            got = summary(lazy)
        pd.testing.assert_frame_equal(got, summary(whole), check_exact=True)
    assert list(got["status"].cat.categories[-3:]) == ["alpha-state", "beta-state", "zeta-state"]


def test_sized_partitions_run_one_per_task():
    """Store.dask's partitions are sized by bytes of Parquet: batching them would hold
    several in one task's memory; other frames of many partitions are batched."""
    assert engine.partitions_per_task(330) == 6
    assert engine.partitions_per_task(330, sized=True) == 1
    with dask.config.set({"twilio_frames.partitions_per_task": 4}):
        assert engine.partitions_per_task(330, sized=True) == 4
