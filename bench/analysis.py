"""Benchmark: cost_by_period and reconcile over 1,000,000 calls + 1,000,000 messages.

Frames are synthesised directly with numpy in the exact dtypes of ``resources.py`` (no
HTTP). The reference is plain pandas over the same rows, measured in the same run:

* ``baseline``: one groupby-sum per frame, ``price`` by ``account_sid`` and UTC day
  (what a person would write first; no billing rules, no exactness);

The target is a ratio (machine is shared): each analysis call at most 3x the baseline.
Run: ``.venv/bin/python bench/analysis.py [rows]``; prints the Markdown table for
docs/benchmarks.md ("Analysis").
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

import twilio_frames as tf
from twilio_frames.resources import get_resource

ACCOUNTS = [f"AC{i:032x}" for i in range(1, 5)]
START = np.datetime64("2026-08-01T00:00:00", "us")
DAYS = 90


def _numbers(rng, n):
    prefixes = np.array(["+1415", "+1212", "+4479", "+4930", "+3361", "+6140", "+8190",
                         "+5511"])
    pick = prefixes[rng.integers(0, len(prefixes), n)]
    digits = rng.integers(1_000_000, 9_999_999, n).astype(str)
    return np.char.add(pick, digits)


def _frame(resource, columns, n):
    res = get_resource(resource)
    data = {}
    for col in res.columns:
        if col.name in columns:
            data[col.name] = columns[col.name]
        elif col.kind == "str":
            data[col.name] = pd.array([None] * n, dtype="str")
        else:
            data[col.name] = pd.Series([None] * n).astype(res.dtypes()[col.name]).array
    out = pd.DataFrame(data)
    for col in res.columns:
        if col.kind == "category":
            out[col.name] = out[col.name].astype("category")
    return out


def synth_calls(n, rng):
    pool_ours, pool_remote = _numbers(rng, 200), _numbers(rng, 20_000)
    start = START + rng.integers(0, DAYS * 86_400, n).astype("timedelta64[s]")
    status = rng.choice(["completed", "busy", "no-answer", "failed"], n,
                        p=[0.8, 0.08, 0.08, 0.04])
    duration = np.where(status == "completed", rng.gamma(1.2, 90, n).astype(int), 0)
    minutes = np.where(status == "completed", np.maximum(1, (duration + 59) // 60), 0)
    micros = -minutes * 8500
    priced = status == "completed"
    direction = rng.choice(["inbound", "outbound-api", "outbound-dial"], n, p=[.5, .3, .2])
    ours, remote = rng.choice(pool_ours, n), rng.choice(pool_remote, n)
    inbound = direction == "inbound"
    ts = pd.Series(start).dt.tz_localize("UTC")
    return _frame("calls", {
        "sid": np.char.add("CA", np.arange(n).astype(f"<U32")),
        "account_sid": rng.choice(ACCOUNTS, n), "date_created": ts, "start_time": ts,
        "direction": pd.Categorical(direction), "status": pd.Categorical(status),
        "from": np.where(inbound, remote, ours), "to": np.where(inbound, ours, remote),
        "duration": pd.array(np.where(priced, duration, 0), dtype="Int64"),
        "price": np.where(priced, micros / 1e6, np.nan),
        "price_micros": pd.array(np.where(priced, micros, 0), dtype="Int64").copy(),
        "price_unit": pd.Categorical(np.where(priced, "USD", None))}, n)


def synth_messages(n, rng):
    pool_ours, pool_remote = _numbers(rng, 200), _numbers(rng, 20_000)
    sent = START + rng.integers(0, DAYS * 86_400, n).astype("timedelta64[s]")
    status = rng.choice(["delivered", "received", "undelivered", "failed"], n,
                        p=[0.6, 0.3, 0.05, 0.05])
    segments = rng.integers(1, 4, n)
    media = (rng.random(n) < 0.05).astype(int)
    micros = np.where(media == 1, -20_000, -7_900 * segments)
    priced = status != "failed"
    inbound = status == "received"
    ours, remote = rng.choice(pool_ours, n), rng.choice(pool_remote, n)
    ts = pd.Series(sent).dt.tz_localize("UTC")
    return _frame("messages", {
        "sid": np.char.add("SM", np.arange(n).astype("<U32")),
        "account_sid": rng.choice(ACCOUNTS, n), "date_created": ts, "date_sent": ts,
        "direction": pd.Categorical(np.where(inbound, "inbound", "outbound-api")),
        "status": pd.Categorical(status),
        "from": np.where(inbound, remote, ours), "to": np.where(inbound, ours, remote),
        "num_segments": pd.array(segments, dtype="Int64"),
        "num_media": pd.array(media, dtype="Int64"),
        "price": np.where(priced, micros / 1e6, np.nan),
        "price_micros": pd.array(np.where(priced, micros, 0), dtype="Int64").copy(),
        "price_unit": pd.Categorical(np.where(priced, "USD", None))}, n)


def synth_usage():
    """Per-account daily records (IncludeSubaccounts=false). Their figures do not match the
    synthetic lists, so reconcile runs its slower mismatch path (reasons for every row)."""
    days = pd.date_range("2026-08-01", periods=DAYS, freq="D", tz="UTC").as_unit("us")
    cats = ["calls", "calls-inbound", "calls-outbound", "sms", "sms-inbound",
            "sms-outbound", "mms", "totalprice"]
    rows = [(a, c, d) for a in ACCOUNTS for c in cats for d in days]
    n = len(rows)
    usage = _frame("usage_records", {
        "account_sid": [r[0] for r in rows], "category": pd.Categorical([r[1] for r in rows]),
        "start_date": pd.Series([r[2] for r in rows]), "end_date": pd.Series([r[2] for r in rows]),
        "count": pd.array(np.ones(n, int), "Int64"), "usage": np.ones(n),
        "usage_unit": pd.array(["minutes"] * n, dtype="str"),
        "price": np.ones(n), "price_micros": pd.array(np.full(n, 1_000_000), "Int64"),
        "price_unit": pd.Categorical(["USD"] * n),
        "as_of": pd.Series([pd.Timestamp("2026-11-01T00:00:00Z")] * n).dt.as_unit("us")}, n)
    usage.attrs["include_subaccounts"] = False
    return usage


def _unprice(frame):
    """Null price_micros where price is null (pd.array has no .where)."""
    frame.loc[frame["price"].isna(), "price_micros"] = pd.NA
    return frame


def baseline(calls, messages):
    for frame, when in ((calls, "start_time"), (messages, "date_sent")):
        frame.groupby([frame["account_sid"], frame[when].dt.floor("D")])["price"].sum()


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(n=1_000_000):
    rng = np.random.default_rng(0)
    calls, messages = _unprice(synth_calls(n, rng)), _unprice(synth_messages(n, rng))
    usage = synth_usage()
    tf.cost_by_period(calls=calls.head(1000), messages=messages.head(1000))   # warm up
    rows = [("plain pandas groupby-sum (account, UTC day), calls + messages",
             best_of(lambda: baseline(calls, messages)))]
    rows.append(("tf.cost_by_period(calls, messages, freq='D')",
                 best_of(lambda: tf.cost_by_period(calls=calls, messages=messages))))
    rows.append(("tf.cost_by_period(..., freq='M', by='country')",
                 best_of(lambda: tf.cost_by_period(calls=calls, messages=messages,
                                                   freq="M", by="country"))))
    rows.append(("tf.reconcile(daily usage, calls, messages)",
                 best_of(lambda: tf.reconcile(usage, calls=calls, messages=messages))))
    base = rows[0][1]
    print(f"{n:,} calls + {n:,} messages, best of 3\n")
    print("| operation | seconds | ratio to baseline |\n|---|---:|---:|")
    for name, secs in rows:
        print(f"| {name} | {secs:.3f} | {secs / base:.2f}x |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
