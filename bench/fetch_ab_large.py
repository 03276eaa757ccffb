"""The large no-window fetch of two versions of the client, alternating, for CPU and wall.

    cd bench && python fetch_ab_large.py --before /path/to/old/checkout --rounds 2

Each round runs each version in its own child process (``PYTHONPATH`` set to its
checkout, so it imports that ``twilio_frames``) with its own simulator child
(``fetch.RemoteSim``, the same seed: the same calls), ``--fetches`` fetches each of
``calls(start, end)`` over the whole traffic window with no window, 16 workers and 200 ms
per request. Prints, per fetch, rows, requests, wall seconds, the client process's CPU
seconds (all threads), the simulator's CPU seconds and the load average. Not pass/fail:
figures for docs/benchmarks.md "Client CPU per record".
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import os, sys
sys.path.insert(0, sys.argv[1])
import fetch as F, fetch_adaptive as FA
calls, days, fetches, label = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
sim = F.RemoteSim(calls, days)
try:
    for _ in range(fetches):
        sim.set_faults(latency=0.2)
        c = F.frames(sim, "json", max_workers=16)
        start, end = FA._range(sim)
        (t, cpu, scpu), df = FA._timed(sim, lambda: c.calls(start, end))
        print(f"| {label} | {len(df):,} | {sim.stats()['requests']} | {t:.2f} | {cpu:.2f} | "
              f"{scpu:.2f} | {os.getloadavg()[0]:.1f} |", flush=True)
finally:
    sim.close()
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="checkout of the version to compare with")
    ap.add_argument("--after", default=str(HERE.parent), help="checkout under test (default: this one)")
    ap.add_argument("--calls", type=int, default=54_000)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--fetches", type=int, default=2)
    args = ap.parse_args()
    print("| version | records | requests | wall s | client CPU s | simulator CPU s | load |")
    print("|---|---:|---:|---:|---:|---:|---:|", flush=True)
    for _ in range(args.rounds):
        for label, root in (("before", args.before), ("after", args.after)):
            env = {**os.environ, "PYTHONPATH": str(Path(root).resolve())}
            subprocess.run([sys.executable, "-c", CHILD, str(Path(root).resolve() / "bench"),
                            str(args.calls), str(args.days), str(args.fetches), label],
                           env=env, check=True)


if __name__ == "__main__":
    main()
