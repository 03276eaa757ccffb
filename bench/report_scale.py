"""The report of a large store through Dask: time and peak RSS of one process.

    python bench/scale.py --messages 10000000 --root /tmp/scale-10M   # writes the store
    python bench/report_scale.py --root /tmp/scale-10M --engine dask  # the report from it

Runs ``write_report(Store(root).source(), ...)`` over the store's whole range and prints
seconds, peak RSS (``ru_maxrss``) and the report's headline numbers; ``--engine pandas``
reads the same lists as pandas frames, for the ratio (run each in its own process).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

import twilio_frames as tf


def _range(root: Path) -> tuple[str, str]:
    days = sorted(p.name.split("=", 1)[1] for p in root.glob("messages/*/day=*"))
    return days[0], str((pd.Timestamp(days[-1]) + pd.Timedelta(days=1)).date())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root", required=True)
    p.add_argument("--engine", choices=("auto", "pandas", "dask"), default="dask")
    p.add_argument("--workers", type=int, default=2, help="Dask threads (default: 2)")
    args = p.parse_args()
    import dask
    start, end = _range(Path(args.root))
    with tempfile.TemporaryDirectory(prefix="twilio-frames-report-") as tmp, \
            dask.config.set(scheduler="threads", num_workers=args.workers):
        began = time.perf_counter()
        result = tf.write_report(tf.Store(args.root).source(), Path(tmp) / "report",
                                 start=start, end=end, engine=args.engine,
                                 now=end + "T00:00:00Z", progress=True)
        seconds = time.perf_counter() - began
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    total = result.costs[result.costs["account"] == "total"]
    print(json.dumps({"engine": args.engine, "range": [start, end],
                      "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
                      "peak_rss_mib": round(peak),
                      "files": len(result.files), "status": result.status,
                      "total": {r["currency"]: str(r["total"]) for _, r in total.iterrows()}}),
          file=sys.stdout)


if __name__ == "__main__":
    main()
