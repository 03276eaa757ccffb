"""store.frame against pd.read_parquet of the same files: one account of any store.

    python bench/store_frame.py --root /tmp/scale-10M --resource messages --repeat 3

Both read every column of one account's folder (the first account of the store, or
``--account``); the two alternate, best of ``--repeat``. ``pd.read_parquet`` only reads;
``store.frame`` also gives the client's frame (served order, categories, sid check).
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

import twilio_frames as tf
from twilio_frames.store import read


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root", required=True)
    p.add_argument("--resource", default="messages")
    p.add_argument("--account")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    account = args.account or read.account_order(args.root)[0]
    folder = f"{args.root}/{args.resource}/account_sid={account}"
    store = tf.Store(args.root)
    runs = {"pd.read_parquet": lambda: pd.read_parquet(folder),
            "store.frame": lambda: store.frame(args.resource, accounts=[account])}
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        for name, run in runs.items():
            t0 = time.perf_counter()
            rows = len(run())
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - t0)
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    print(f"{rows:,} rows; " + ", ".join(f"{k} {v:.2f} s" for k, v in best.items())
          + f"; ratio {best['store.frame'] / best['pd.read_parquet']:.2f} (load {load})")


if __name__ == "__main__":
    main()
