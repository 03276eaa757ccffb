"""Store benchmark: re-sync cost, first sync against a plain fetch, store.frame against
pd.read_parquet.

    python bench/store.py                         # full sizes (slow on 2 shared cores)
    python bench/store.py --calls 50000 --rounds 1

Sections (each prints a Markdown table for docs/benchmarks.md "Store"):

1. re-sync: a 90-day, 4-account simulated account (default volumes), every resource.
   Requests of a second sync of the unchanged store as a share of the first sync's
   (goal: only the open days, about 3%).
2. first sync: N calls over 90 days and 4 accounts; ``Store.sync(resources=["calls"])``
   into a fresh folder against ``Client.calls(start, end, accounts="all")`` of the same
   calls, alternated, best of ``--rounds`` (goal: within 1.1x).
3. read: ``store.frame("calls")`` of the store section 2 wrote (N calls, same rows, order
   and dtypes as the client's frame) against ``pd.read_parquet`` of the same folder (hive
   partitions, no order, no dtype fixes), alternated, best of 3 (goal: within 1.2x).

The simulator runs in a child process (its own interpreter, as the real API would be),
with its page cache off so no run is served from an earlier one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

import twilio_frames as tf

NOW = "2026-11-15T12:00:00Z"
START, END = "2026-08-17", "2026-11-15"            # the 90 days before NOW's day


class RemoteSim:
    """``running(**options)`` in a child process; ``.close()`` stops it."""

    def __init__(self, **options) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", json.dumps(options)],
                                     stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
        info = json.loads(self.proc.stdout.readline())
        self.base_url, self.account_sid, self.auth_token = info["url"], info["sid"], info["token"]

    def client(self, **kw) -> tf.Client:
        return tf.Client(self.account_sid, self.auth_token, base_url=self.base_url,
                         progress=False, **kw)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def serve(options: str) -> None:
    with tf.simulator.running(cache_bytes=0, **json.loads(options)) as sim:
        print(json.dumps({"url": sim.base_url, "sid": sim.account_sid,
                          "token": sim.auth_token}), flush=True)
        sys.stdin.read()                       # until the parent closes stdin


def timed(fn):
    began = time.perf_counter()
    value = fn()
    return time.perf_counter() - began, value


def resync(tmp: Path) -> None:
    sim = RemoteSim(seed=11, now=NOW, days=90, subaccounts=3)
    try:
        store = tf.Store(tmp / "resync")
        first = store.sync(sim.client(), start=START)
        second = store.sync(sim.client())
    finally:
        sim.close()
    print("\n| sync | partitions fetched | skipped (settled) | requests | seconds |")
    print("|---|---:|---:|---:|---:|")
    for name, r in (("first", first), ("second, unchanged", second)):
        print(f"| {name} | {r.fetched:,} | {r.skipped:,} | {r.requests:,} | {r.seconds:.1f} |")
    print(f"\nRe-sync requests: {second.requests / first.requests:.1%} of the first sync's.")


def first_sync(tmp: Path, calls: int, rounds: int) -> Path:
    sim = RemoteSim(seed=12, now=NOW, days=90, subaccounts=3, calls_per_day=calls / 90,
                    messages_per_day=1.0)
    best = {"client": float("inf"), "store": float("inf")}
    try:
        for round_ in range(rounds):
            t, frame = timed(lambda: sim.client().calls(START, END, accounts="all"))
            best["client"] = min(best["client"], t)
            root = tmp / f"calls-{round_}"
            t, result = timed(lambda: tf.Store(root).sync(sim.client(), start=START, end=END,
                                                          resources=["calls"]))
            best["store"] = min(best["store"], t)
            if round_ < rounds - 1:
                shutil.rmtree(root)
    finally:
        sim.close()
    assert result.records == len(frame), (result.records, len(frame))
    print(f"\n| {len(frame):,} calls, 4 accounts, 90 days | seconds | ratio |")
    print("|---|---:|---:|")
    print(f"| `Client.calls(start, end, accounts=\"all\")` | {best['client']:.1f} | 1.00 |")
    print(f"| first `Store.sync(resources=[\"calls\"])` ({result.fetched} partitions, "
          f"{result.requests} requests) | {best['store']:.1f} | "
          f"{best['store'] / best['client']:.2f} |")
    return root


def read(root: Path) -> None:
    store = tf.Store(root)
    best = {"frame": float("inf"), "parquet": float("inf")}
    for _ in range(3):
        t, frame = timed(lambda: store.frame("calls"))
        best["frame"] = min(best["frame"], t)
        t, plain = timed(lambda: pd.read_parquet(root / "calls"))
        best["parquet"] = min(best["parquet"], t)
    assert len(frame) == len(plain)
    print(f"\n| read {len(frame):,} calls ({len(list(root.glob('calls/*/*')))} partitions) "
          "| seconds | ratio |")
    print("|---|---:|---:|")
    print(f"| `pd.read_parquet(\"{root.name}/calls\")` | {best['parquet']:.2f} | 1.00 |")
    print(f"| `store.frame(\"calls\")` (client order and dtypes) | {best['frame']:.2f} | "
          f"{best['frame'] / best['parquet']:.2f} |")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        return serve(sys.argv[2])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--sections", nargs="+", default=["resync", "sync", "read"])
    args = parser.parse_args()
    print(f"python {platform.python_version()}, pandas {pd.__version__}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        tmp = Path(tmp)
        if "resync" in args.sections:
            resync(tmp)
        if "sync" in args.sections or "read" in args.sections:
            root = first_sync(tmp, args.calls, args.rounds)
            if "read" in args.sections:
                read(root)
    print(f"\nload after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
