"""Statements, their detail, the master check, traffic anomalies and Usage Trigger values:
the same pandas result, exactly, for a pandas frame and for Dask frames of the same rows
however they are partitioned, on one machine and on a two-process LocalCluster."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twilio_frames as tf
from twilio_frames import simulator

from test_engine import as_dask, partitioning

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")

NOW = pd.Timestamp("2026-11-15T12:00:00Z")
RULES = {"default": {"percent": 20}, "sms*": {"percent": 10, "per_unit": "0.001"},
         "minimum": "25.00", "monthly_fee": "3.50"}


@pytest.fixture(scope="module")
def frames():
    """60 days of a master and two subaccounts with one SMS-pumping and one toll-fraud
    attack; one subaccount billed in EUR, so every function meets two currencies."""
    with simulator.running(seed=5, days=60, now=NOW, subaccounts=2, attacks=1) as sim:
        client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url)
        out = {name: getattr(client, name)(accounts="all")
               for name in ("calls", "messages", "recordings")}
        out["usage"] = client.usage_records("daily", accounts="all")
        out["master"] = client.usage_records("daily", include_subaccounts=True)
        out["accounts"] = client.accounts()
    euro = sorted(set(out["calls"]["account_sid"]) - {sim.account_sid})[0]
    for name in ("calls", "messages", "recordings", "usage"):
        frame = out[name]
        frame.loc[frame["account_sid"] == euro, "price_unit"] = "EUR"
    return out


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tf.InsufficientHistoryWarning)
        return fn()


def _statements(f):
    st_ = tf.statements(f["usage"], accounts=f["accounts"], rules=RULES, now=NOW,
                        calls=f["calls"], messages=f["messages"], recordings=f["recordings"])
    return st_, st_.attrs["detail"]


SUMMARIES = {
    "traffic_anomalies": lambda f: _quiet(lambda: tf.traffic_anomalies(
        f["messages"], f["calls"])),
    "traffic_anomalies_loose": lambda f: _quiet(lambda: tf.traffic_anomalies(
        f["messages"], min_count=5, min_score=0.1, prefix_digits=3)),
    "toll_fraud": lambda f: _quiet(lambda: tf.traffic_anomalies(calls=f["calls"])),
    "usage_triggers": lambda f: tf.usage_triggers(f["usage"], min_days=7),
    "statements": lambda f: _statements(f)[0],
    "statement_detail": lambda f: _statements(f)[1],
    "statements_per_statement_rounding": lambda f: tf.statements(
        f["usage"], rules=RULES, rounding="statement", now=NOW),
    "usage_lines": lambda f: tf.usage_lines(f["usage"]),
    "master_check": lambda f: tf.master_check(f["usage"], f["master"],
                                              accounts=f["accounts"]),
}


def run(name, f):
    return SUMMARIES[name](f)


@pytest.fixture(scope="module")
def expected(frames):
    return {name: run(name, frames) for name in SUMMARIES}


def test_the_fixture_holds_fraud_in_two_currencies(expected):
    found = expected["traffic_anomalies"]
    assert {"sms_pumping", "toll_fraud"} <= set(found["kind"])
    assert set(expected["statements"]["currency"]) == {"EUR", "USD"}
    assert set(expected["usage_triggers"]["currency"]) == {"EUR", "USD"}
    assert len(expected["statement_detail"]) and len(expected["master_check"])


@pytest.mark.parametrize("name", sorted(SUMMARIES))
@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(how=partitioning, convert_string=st.booleans(), batch=st.sampled_from([None, 1, 3]))
def test_dask_equals_pandas_over_partitionings(frames, expected, name, how, convert_string,
                                               batch):
    with dask.config.set({"scheduler": "sync", "twilio_frames.partitions_per_task": batch}):
        got = run(name, as_dask(frames, how, convert_string))
    pd.testing.assert_frame_equal(got, expected[name], check_exact=True)


def _never_computed(frame: pd.DataFrame):
    """A Dask frame of ``frame``'s columns whose partitions raise if ever computed."""
    def boom(_):
        raise AssertionError("a partition was computed")
    return dd.from_map(boom, [0, 1], meta=frame.iloc[:0], enforce_metadata=False)


@pytest.mark.parametrize("call,column,resource", [
    (lambda m: tf.traffic_anomalies(m), "to", "messages"),
    (lambda c: tf.traffic_anomalies(calls=c), "duration", "calls"),
    (lambda m: tf.statement_detail(messages=m), "num_segments", "messages"),
    (lambda u: tf.usage_triggers(u), "price_unit", "usage"),
    (lambda u: tf.statements(u), "category", "usage"),
    (lambda u: tf.usage_lines(u), "end_date", "usage"),
])
def test_a_missing_column_is_the_pandas_error_before_anything_runs(frames, call, column,
                                                                   resource):
    pandas_frame = frames[resource].drop(columns=column)
    with pytest.raises(tf.ConfigurationError) as from_pandas:
        call(pandas_frame)
    with pytest.raises(tf.ConfigurationError) as from_dask:
        call(_never_computed(pandas_frame))
    assert str(from_dask.value) == str(from_pandas.value)
    assert repr(column) in str(from_dask.value)


def test_mixed_currencies_stay_apart(expected):
    st_ = expected["statements"]
    per = st_.groupby(["account_sid", "currency"]).size()
    assert per.index.get_level_values("account_sid").is_unique   # one currency each
    spend = expected["traffic_anomalies"]
    assert set(spend["currency"]) <= {"EUR", "USD"}


def test_distributed_two_worker_processes(frames, expected):
    distributed = pytest.importorskip("distributed")
    # as tests/analysis/test_distributed.py: any free port for the scheduler's HTTP server
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, memory_limit="1GiB",
                                  scheduler_kwargs={"dashboard_address": ":0"}) as cluster:
        with distributed.Client(cluster) as client:
            ddf = as_dask(frames, ("even", 4), True)
            for name in sorted(SUMMARIES):
                pd.testing.assert_frame_equal(run(name, ddf), expected[name],
                                              check_exact=True, obj=name)
            ran = client.run(lambda: "twilio_frames.analysis.anomaly_cells" in
                             __import__("sys").modules)
    assert list(ran.values()) == [True, True]
