"""Analysis at scale: the summaries through Dask against DuckDB on the same Parquet store.

    python bench/scale.py --messages 10000000 --root /tmp/scale-10M        # write + measure
    python bench/scale.py --root /tmp/scale-10M --skip-write --repeat 3     # measure again
    python bench/scale.py --messages 10000000 --root /tmp/w --write-only    # time the write

1. write: the simulated account of ``tf.simulator.write_store`` (A accounts: the master
   and A - 1 subaccounts, D days up to 2026-11-01, N / D messages a day, the default
   40 calls a day) straight into a new store, a few days at a time; in a child process
   that prints its wall time, peak RSS and what it wrote. ``--writer synthetic`` writes
   the older stand-in of bench/scale_data.py instead (messages and usage records only).
2. each measurement runs in a fresh child process (``--child NAME``), which prints its
   wall time, its CPU time (all its threads), its peak RSS (VmHWM, the whole process)
   and a checksum:
   - ``dask-cbp``: ``tf.cost_by_period(messages=ddf, freq="D", by="account_sid")``
   - ``dask-reconcile``: ``tf.reconcile(usage, messages=ddf)``
   - ``duckdb-cbp`` / ``duckdb-reconcile``: DuckDB's SQL of the same aggregation over the
     same files (``read_parquet(..., hive_partitioning=true)``), the single-machine anchor.
   ``ddf`` is ``Store.dask("messages", columns=...)`` when the store package is there,
   else an equivalent ``dd.from_map`` over the files (``--reader own``). Dask runs on its
   threaded scheduler with ``--workers`` threads; DuckDB with as many threads.
   Engines alternate within each repeat, so each ratio is measured side by side.
   The checksums (total cost micros and rows) must agree between the engines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

_MSG_COLUMNS = ["account_sid", "status", "direction", "num_segments", "num_media", "to",
                "from", "date_sent", "date_created", "price_micros", "price_unit"]
_BILLED = "('sent','delivered','undelivered','read','partially_delivered','received'," \
          "'receiving','sending')"
_ITEMS = f"""
    SELECT account_sid, upper(price_unit) AS currency,
           date_trunc('day', coalesce(date_sent, date_created)::TIMESTAMP) AS day,
           num_media >= 1 AS mms, direction = 'inbound' AS inbound,
           status = 'failed' AS failed, status IN {_BILLED} AS billed,
           ((NOT starts_with("to", '+') OR NOT starts_with("from", '+'))
            AND (contains("to", ':') OR contains("from", ':'))) IS TRUE AS channel,
           CASE WHEN status IN {_BILLED} THEN (CASE WHEN num_media >= 1 THEN 1
                ELSE num_segments END) ELSE 0 END AS usage,
           -price_micros AS cost,
           (price_micros IS NULL AND status NOT IN ('failed','canceled','scheduled'))::INT
               AS unrated
    FROM read_parquet('{{root}}/messages/**/*.parquet', hive_partitioning = true)"""
DUCK_CBP = f"""
    SELECT day AS period, account_sid, CASE WHEN mms THEN 'mms' ELSE 'sms' END AS product,
           currency, count(*) AS count, sum(usage) AS usage,
           coalesce(sum(cost), 0) AS cost_micros, sum(unrated) AS n_unrated
    FROM ({_ITEMS}) GROUP BY ALL ORDER BY period, account_sid, product, currency"""
DUCK_RECONCILE = f"""
    WITH fine AS (
      SELECT account_sid, currency, day,
             CASE WHEN failed THEN 'failed-message-processing-fee'
                  WHEN channel THEN 'other'
                  WHEN mms THEN (CASE WHEN inbound THEN 'mms-inbound' ELSE 'mms-outbound' END)
                  ELSE (CASE WHEN inbound THEN 'sms-inbound' ELSE 'sms-outbound' END) END
               AS fine,
             sum(billed::INT) AS count, sum(usage) AS usage,
             coalesce(sum(cost), 0) AS cost, sum(unrated) AS unrated
      FROM ({_ITEMS}) GROUP BY ALL),
    rolled AS (
      SELECT account_sid, currency, day, fine AS category, count, usage, cost, unrated
        FROM fine WHERE fine NOT IN ('failed-message-processing-fee', 'other')
      UNION ALL
      SELECT account_sid, currency, day, split_part(fine, '-', 1), sum(count), sum(usage),
             sum(cost), sum(unrated)
        FROM fine WHERE fine NOT IN ('failed-message-processing-fee', 'other') GROUP BY ALL),
    usage AS (
      SELECT account_sid, category, start_date, end_date, count AS record_count,
             usage AS record_usage, price_micros AS record_price_micros
      FROM read_parquet('{{root}}/usage_records/**/*.parquet', hive_partitioning = true)
      WHERE category IN ('sms','sms-inbound','sms-outbound','mms','mms-inbound','mms-outbound'))
    SELECT u.account_sid, u.category, u.start_date, u.end_date,
           coalesce(sum(r.count), 0) AS list_count, any_value(u.record_count) AS record_count,
           coalesce(sum(r.usage), 0) AS list_usage, coalesce(sum(r.cost), 0) AS list_price_micros,
           any_value(u.record_price_micros) AS record_price_micros,
           CASE WHEN coalesce(sum(r.count), 0) = any_value(u.record_count)
                 AND coalesce(sum(r.cost), 0) = any_value(u.record_price_micros)
                THEN 'match' ELSE 'mismatch' END AS status
    FROM usage u LEFT JOIN rolled r ON r.account_sid = u.account_sid
         AND r.category = u.category AND r.day BETWEEN u.start_date AND u.end_date
    GROUP BY u.account_sid, u.category, u.start_date, u.end_date
    ORDER BY 1, 3, 2"""


def peak_rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def dask_messages(root: str, reader: str):
    import dask.dataframe as dd

    import twilio_frames as tf
    if reader == "store":
        return tf.Store(root).dask("messages", columns=_MSG_COLUMNS)
    from scale_data import own_partition
    files = sorted(Path(root, "messages").glob("account_sid=*/day=*/data.parquet"))
    meta = tf.to_frame("messages", [])[_MSG_COLUMNS]
    import dask
    with dask.config.set({"dataframe.convert-string": False}):     # as Store.dask
        return dd.from_map(own_partition, [str(f) for f in files], columns=_MSG_COLUMNS,
                           meta=meta, enforce_metadata=False)


def child(name: str, root: str, reader: str, workers: int, scheduler: str) -> dict:
    import warnings
    warnings.simplefilter("ignore")
    import dask
    import dask.dataframe  # noqa: F401
    import duckdb

    import twilio_frames as tf
    tf.cost_by_period, tf.reconcile, tf.Store  # noqa: B018  (imports paid before the clock)
    try:        # dask.compute imports it on its first call, to look for a Client (~0.8 s)
        import distributed  # noqa: F401
    except ImportError:
        pass
    t0, c0 = time.perf_counter(), time.process_time()
    if name.startswith("duckdb"):
        con = duckdb.connect(config={"threads": workers})
        sql = (DUCK_CBP if name == "duckdb-cbp" else DUCK_RECONCILE).format(root=root)
        out = con.execute(sql).df()
        cost = out["cost_micros" if name == "duckdb-cbp" else "list_price_micros"]
        rows = int(out["count" if name == "duckdb-cbp" else "list_count"].sum())
    else:
        ddf = dask_messages(root, reader)
        with dask.config.set(scheduler=scheduler, num_workers=workers):
            if name == "dask-cbp":
                out = tf.cost_by_period(messages=ddf, freq="D", by="account_sid")
                cost, rows = out["cost_micros"], int(out["count"].sum())
            else:
                usage = own_usage(root) if reader == "own" else tf.Store(root).frame(
                    "usage_records")
                out = tf.reconcile(usage, messages=ddf)
                cost, rows = out["list_price_micros"], int(out["list_count"].sum())
    matched = out["status"].astype(str).value_counts().to_dict() if "status" in out else None
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"name": name, "seconds": seconds, "cpu_seconds": cpu, "peak_rss_mib": peak_rss_mib(),
            "cost_micros": int(cost.sum()), "rows": rows, "result_rows": len(out),
            "status": matched}


def own_usage(root: str):
    import pandas as pd
    from scale_data import own_partition
    files = sorted(Path(root, "usage_records").glob("account_sid=*/month=*/data.parquet"))
    frame = pd.concat([own_partition(str(f), resource="usage_records") for f in files],
                      ignore_index=True)
    frame.attrs["include_subaccounts"] = False
    return frame


def write(args) -> dict:
    """Write the store (in this process: the caller runs it as a child)."""
    t0, cpu = time.perf_counter(), time.process_time()
    if args.writer == "synthetic":
        from scale_data import write_messages_store
        write_messages_store(args.root, messages=args.messages, accounts=args.accounts,
                             days=args.days)
        rows = {"messages": args.messages}
    else:
        import twilio_frames as tf
        result = tf.simulator.write_store(
            args.root, seed=1, now="2026-11-01T00:00:00Z", days=args.days,
            subaccounts=args.accounts - 1, messages_per_day=args.messages / args.days)
        rows = result.rows
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu
    files = list(Path(args.root).rglob("*.parquet"))
    return {"name": f"write-{args.writer}", "seconds": seconds, "cpu_seconds": cpu,
            "peak_rss_mib": peak_rss_mib(),
            "rows": rows, "partitions": len(files),
            "mib_on_disk": sum(f.stat().st_size for f in files) / 2**20}


def run_child(name: str, args) -> dict:
    cmd = [sys.executable, __file__, "--child", name, "--root", args.root,
           "--reader", args.reader, "--workers", str(args.workers),
           "--scheduler", args.scheduler, "--writer", args.writer,
           "--messages", str(args.messages), "--accounts", str(args.accounts),
           "--days", str(args.days)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def load() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--messages", type=int, default=10_000_000)
    p.add_argument("--accounts", type=int, default=15,
                   help="accounts (the simulator draws at most 15: a master and 14 subaccounts)")
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--root", default="/tmp/twilio-frames-scale")
    p.add_argument("--skip-write", action="store_true")
    p.add_argument("--write-only", action="store_true")
    p.add_argument("--writer", choices=["simulator", "synthetic"], default="simulator")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--reader", choices=["store", "own"], default=None)
    p.add_argument("--scheduler", choices=["threads", "processes"], default="threads")
    p.add_argument("--engines", default="duckdb,dask")
    p.add_argument("--child")
    args = p.parse_args()
    if args.reader is None:
        try:
            import twilio_frames.store  # noqa: F401
            args.reader = "store"
        except ImportError:
            args.reader = "own"
    if args.child == "write":
        print(json.dumps(write(args)))
        return
    if args.child:
        print(json.dumps(child(args.child, args.root, args.reader, args.workers,
                               args.scheduler)))
        return
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"python {platform.python_version()}; reader {args.reader}; Dask scheduler "
          f"{args.scheduler}, {args.workers} workers")
    if not args.skip_write:
        before = load()
        r = run_child("write", args)
        print(f"write {r['rows'].get('messages', 0):,} messages ({args.writer}; "
              f"{', '.join(f'{n:,} {k}' for k, n in r['rows'].items() if k != 'messages')}): "
              f"{r['seconds']:.1f} s ({r['cpu_seconds']:.1f} s CPU), peak RSS {r['peak_rss_mib']:.0f} MiB, "
              f"{r['partitions']:,} files, {r['mib_on_disk']:.0f} MiB on disk "
              f"(load before {before}, after {load()})", flush=True)
    if args.write_only:
        return
    results: dict[str, list[dict]] = {}
    for _ in range(args.repeat):
        for name in [f"{e}-{what}" for what in ("cbp", "reconcile")
                     for e in args.engines.split(",")]:
            r = run_child(name, args)
            r["load"] = load()
            results.setdefault(name, []).append(r)
            print(json.dumps(r), flush=True)
    print("\n| measurement | best s | median s | best CPU s | peak RSS MiB | checksum cost "
          "micros | load |")
    print("|---|---|---|---|---|---|---|")
    for name, rs in results.items():
        secs = sorted(r["seconds"] for r in rs)
        print(f"| {name} | {secs[0]:.2f} | {secs[len(secs) // 2]:.2f} | "
              f"{min(r['cpu_seconds'] for r in rs):.2f} | "
              f"{max(r['peak_rss_mib'] for r in rs):.0f} | {rs[0]['cost_micros']:,} | "
              f"{rs[-1]['load']} |")
    for what in ("cbp", "reconcile") if args.engines == "duckdb,dask" else ():
        d = min(r["seconds"] for r in results[f"dask-{what}"])
        k = min(r["seconds"] for r in results[f"duckdb-{what}"])
        same = results[f"dask-{what}"][0]["cost_micros"] == results[f"duckdb-{what}"][0]["cost_micros"]
        cd = min(r["cpu_seconds"] for r in results[f"dask-{what}"])
        ck = min(r["cpu_seconds"] for r in results[f"duckdb-{what}"])
        print(f"{what}: Dask / DuckDB = {d / k:.2f}x (best of {args.repeat}; CPU time "
              f"{cd / ck:.2f}x); same cost total: {same}")


if __name__ == "__main__":
    main()
