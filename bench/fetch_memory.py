"""Where the peak RSS of a large fetch is: RSS sampled every few ms, with the fetch's phases.

    cd bench && python fetch_memory.py --calls 1000000 --days 50 --subaccounts 3
    cd bench && python fetch_memory.py --calls 1000000 --days 50 --single

A subprocess (as ``fetch.py --sections memory`` / ``memory-all``) fetches the calls
while a thread reads ``VmRSS`` every 5 ms; :class:`~twilio_frames.fetch.assemble.FrameBuilder`
is wrapped so each sample knows the phase (fetching, or which step of ``frame()``) and
how many rows are held as partial frames and as pending field lists. Prints the peak,
its phase, and the highest RSS reached in each phase (growth over the RSS before the
fetch, MiB), plus the final frame's ``memory_usage(deep=True)``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import fetch as fb
import fetch_adaptive as fa

CHILD = r"""
import json, sys, threading, time
import pandas as pd
import pyarrow as pa
import twilio_frames as tf
from twilio_frames.fetch import assemble

def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024

state = {"phase": "fetching"}
peaks, rows = {}, {}
def sample(stop):
    while not stop.is_set():
        r, ph = rss(), state["phase"]
        if r > peaks.get(ph, (0,))[0]:
            b = state.get("builder")
            held = (sum(len(f) for f, _ in b.parts), b.fields.n) if b is not None else (0, 0)
            peaks[ph] = (r, held, pa.total_allocated_bytes())
        time.sleep(0.005)

def phased(name, fn):
    def wrapper(*a, **k):
        before, state["phase"] = state["phase"], name
        try:
            return fn(*a, **k)
        finally:
            state["phase"] = before
    return wrapper

init = assemble.FrameBuilder.__init__
def tracked_init(self, *a, **k):
    init(self, *a, **k)
    state["builder"] = self
assemble.FrameBuilder.__init__ = tracked_init
assemble.FrameBuilder._flush = phased("flush (batch -> partial frame)", assemble.FrameBuilder._flush)
frame = assemble.FrameBuilder.frame
def tracked_frame(self, *a, **k):
    state["phase"] = "frame(): between the steps"
    if state.get("builder") is not None and len(self.parts) > 10:
        state["end_of_fetch"] = {"rss": rss(), "arrow": pa.total_allocated_bytes()}
        if debug:                  # pymalloc's arenas, on stderr
            sys._debugmallocstats()
    return frame(self, *a, **k)
assemble.FrameBuilder.frame = tracked_frame
for name in ("_concat_columns", "_take_columns", "_sorted_positions"):
    setattr(assemble, name, phased("frame(): " + name, getattr(assemble, name)))
assemble.combine_frames = phased("frame(): combine_frames", assemble.combine_frames)

base_url, sid, token, start, end, accounts, debug = sys.argv[1:8]
debug = debug == "debug"
c = tf.Client(sid, token, base_url=base_url, progress=False)
c.calls(limit=5)
state["builder"], state["phase"] = None, "fetching"
before = rss()
stop = threading.Event()
t = threading.Thread(target=sample, args=(stop,), daemon=True)
t.start()
if accounts == "single":
    df = c.calls()
else:
    df = c.calls(start, end, accounts="all")
state["phase"] = "after"
time.sleep(0.05)
stop.set(); t.join()
import ctypes, gc
release = {"as returned": rss() - before}
gc.collect(); release["gc.collect()"] = rss() - before
pa.default_memory_pool().release_unused(); release["Arrow release_unused()"] = rss() - before
ctypes.CDLL(None).malloc_trim(0); release["malloc_trim(0)"] = rss() - before
print(json.dumps({"rows": len(df), "frame": int(df.memory_usage(deep=True).sum()),
                  "before": before,
                  "release": release, "end_of_fetch": state.get("end_of_fetch", {}),
                  "dtypes": {k: [str(v), int(df[k].memory_usage(deep=True))] for k, v in df.dtypes.items()},
                  "arrow_pool": pa.default_memory_pool().backend_name,
                  "peaks": {k: [v[0] - before, v[1], v[2]] for k, v in peaks.items()}}))
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=50)
    ap.add_argument("--subaccounts", type=int, default=3)
    ap.add_argument("--single", action="store_true", help="one account, no range (fetch.py's memory row)")
    ap.add_argument("--dtypes", action="store_true", help="print the frame's columns")
    ap.add_argument("--debug", action="store_true", help="pymalloc's statistics at the end of fetching")
    args = ap.parse_args(argv)
    sim = fb.RemoteSim(args.calls, args.days, 0 if args.single else args.subaccounts)
    try:
        start, end = fa._range(sim)
        out = subprocess.run([sys.executable, "-c", CHILD, sim.base_url, sim.account_sid,
                              sim.auth_token, str(start), str(end),
                              "single" if args.single else "all", "debug" if args.debug else "-"],
                             capture_output=True, text=True, check=True)
    finally:
        sim.close()
    r = json.loads(out.stdout)
    mib = 2 ** 20
    peak = max(v[0] for v in r["peaks"].values())
    print(f"peak RSS growth {peak / mib:,.0f} MiB = {peak / r['frame']:.2f}x the frame")
    print(f"rows {r['rows']:,}; frame {r['frame'] / mib:,.0f} MiB; RSS before {r['before'] / mib:,.0f} MiB")
    end = r["end_of_fetch"]
    if end:
        print(f"at the end of fetching: RSS growth {(end['rss'] - r['before']) / mib:,.0f} MiB, "
              f"Arrow allocated {end['arrow'] / mib:,.0f} MiB")
    if out.stderr:
        print(out.stderr[-3000:])
    print("RSS growth after the fetch: " + ", ".join(f"{k} {v / mib:,.0f} MiB" for k, v in r["release"].items()))
    if args.dtypes:
        for k, (d, b) in r["dtypes"].items():
            print(f"  {k}: {d} {b / mib:.1f} MiB")
    print(f"Arrow memory pool: {r['arrow_pool']}")
    print("| phase | highest RSS growth | x frame | Arrow allocated then | rows in partial frames / pending |")
    print("|---|---:|---:|---:|---:|")
    for phase, (grow, held, arrow) in sorted(r["peaks"].items(), key=lambda kv: -kv[1][0]):
        print(f"| {phase} | {grow / mib:,.0f} MiB | {grow / r['frame']:.2f}x | {arrow / mib:,.0f} MiB "
              f"| {held[0]:,} / {held[1]:,} |")


if __name__ == "__main__":
    main()
