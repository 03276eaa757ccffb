"""Fetching benchmark: twilio-frames against twilio-python and against raw floors.

    python bench/fetch.py                       # full sizes (slow on 2 shared cores)
    python bench/fetch.py --calls 20000 --latency-calls 5000 --memory-calls 100000

Sections (each prints the Markdown table of docs/benchmarks.md "Fetching"):

1. throughput: N calls of one account, every row against the same simulator, in one run:
   twilio-python ``client.calls.stream(page_size=1000)`` into a DataFrame (price and
   duration made numeric); twilio-frames JSON and XML; and two floors that build no frame:
   requests GET of the same pages + ``json.loads``, and + ``xmltodict.parse``.
2. latency: ``latency`` seconds injected per request; twilio-frames with ``window="1D"``
   and 8 workers against twilio-python's sequential stream over the same calls; the
   simulator's max-in-flight stat is read.
3. memory: a subprocess fetches M calls and reports its peak RSS growth while fetching
   (VmHWM - VmRSS before) and ``df.memory_usage(deep=True).sum()``.

The simulator runs in a child process (``--serve``), so the client under test has its own
interpreter, as it would against the real API; sections 1-2 share one simulator.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import pandas as pd
import requests
import xmltodict

import twilio_frames as tf

NOW = "2026-11-15T00:00:00Z"


def sim_options(calls: int, days: int, subaccounts: int = 0) -> dict:
    return dict(seed=7, now=NOW, days=days, subaccounts=subaccounts, calls_per_day=calls / days,
                messages_per_day=1.0)


class RemoteSim:
    """The simulator in a child process (its own interpreter and GIL, like a remote API),
    driven over stdin/stdout: ``latency <s>``, ``stats``, ``quit``."""

    def __init__(self, calls: int, days: int, subaccounts: int = 0) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", str(calls), str(days),
                                      str(subaccounts)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        info = json.loads(self.proc.stdout.readline())
        self.base_url, self.account_sid, self.auth_token = info["base_url"], info["sid"], info["token"]
        self.days, self.now = days, NOW

    def _ask(self, line: str) -> dict:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def set_latency(self, seconds: float) -> None:
        self._ask(f"latency {seconds}")

    def set_faults(self, **faults) -> None:
        """Replace every fault (latency, concurrency_limit, retry_after...); reset stats."""
        self._ask("faults " + json.dumps(faults))

    def stats(self) -> dict:
        return self._ask("stats")

    def close(self) -> None:
        self._ask("quit")
        self.proc.wait(timeout=30)


def serve(calls: int, days: int, subaccounts: int = 0) -> None:
    with tf.simulator.running(**sim_options(calls, days, subaccounts)) as sim:
        print(json.dumps({"base_url": sim.base_url, "sid": sim.account_sid,
                          "token": sim.auth_token}), flush=True)
        for line in sys.stdin:
            cmd, *arg = line.split()
            if cmd == "latency":
                sim.set_faults(tf.simulator.Faults(latency=float(arg[0])))
                sim.reset_stats()
                print("{}", flush=True)
            elif cmd == "faults":
                sim.set_faults(tf.simulator.Faults(**json.loads(line.split(" ", 1)[1])))
                sim.reset_stats()
                print("{}", flush=True)
            elif cmd == "stats":
                st = sim.stats
                print(json.dumps({"requests": st.requests, "max_in_flight": st.max_in_flight,
                                  "429": st.statuses[429]}), flush=True)
            else:
                print("{}", flush=True)
                return


def best(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def floor(sim, fmt):
    """GET every page following next_page_uri, parse, build nothing. Returns #records."""
    ext = ".json" if fmt == "json" else ".xml"
    url = f"{sim.base_url}/2010-04-01/Accounts/{sim.account_sid}/Calls{ext}?PageSize=1000"
    n = 0
    with requests.Session() as s:
        s.auth = (sim.account_sid, sim.auth_token)
        while url:
            body = s.get(url).content
            if fmt == "json":
                page = json.loads(body)
                n += len(page["calls"])
                nxt = page["next_page_uri"]
            else:
                lst = xmltodict.parse(body)["TwilioResponse"]["Calls"]
                items = lst.get("Call") or []
                n += len(items) if isinstance(items, list) else 1
                nxt = lst.get("@nextpageuri")
            url = sim.base_url + nxt if nxt else None
    return n


def twilio_python(sim):
    from twilio.rest import Client
    for k in ("TWILIO_EDGE", "TWILIO_REGION"):
        os.environ.pop(k, None)
    client = Client(sim.account_sid, sim.auth_token)
    client.api.base_url = sim.base_url
    rows = [{("from" if k == "_from" else k): v for k, v in vars(c).items()
             if k == "_from" or not k.startswith("_")}
            for c in client.calls.stream(page_size=1000)]
    df = pd.DataFrame(rows)
    df["price"] = pd.to_numeric(df["price"])
    df["duration"] = pd.to_numeric(df["duration"])
    return len(df)


def frames(sim, fmt, **kw):
    c = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, format=fmt,
                  progress=False, **kw)
    return c


def throughput(sim, repeat):
    floor(sim, "json"), floor(sim, "xml")          # warm the simulator's page cache
    rows = {}
    rows["twilio-python (stream, page_size=1000) -> DataFrame"] = best(lambda: twilio_python(sim), repeat)
    rows["twilio-frames JSON -> typed DataFrame"] = best(lambda: len(frames(sim, "json").calls()), repeat)
    rows["twilio-frames XML -> typed DataFrame"] = best(lambda: len(frames(sim, "xml").calls()), repeat)
    rows["floor: requests GET + json.loads (no frame)"] = best(lambda: floor(sim, "json"), repeat)
    rows["floor: requests GET + xmltodict.parse (no frame)"] = best(lambda: floor(sim, "xml"), repeat)
    lines = ["| path | records | seconds | records/s |", "|---|---:|---:|---:|"]
    for name, (sec, n) in rows.items():
        lines.append(f"| {name} | {n:,} | {sec:.2f} | {n / sec:,.0f} |")
    sec = {k: v[0] for k, v in rows.items()}
    py, tj, tx, fj, fx = sec.values()
    lines += ["",
              f"* twilio-frames JSON / JSON floor time: {tj / fj:.2f}x (target <= 1.3x)",
              f"* twilio-frames XML / XML floor time: {tx / fx:.2f}x (target <= 1.3x)",
              f"* twilio-frames JSON / twilio-python records per second: {py / tj:.2f}x (target >= 1.5x)"]
    return "\n".join(lines)


def latency(sim, seconds, workers):
    sim.set_latency(seconds)
    try:
        t_tf, n_tf = best(lambda: len(frames(sim, "json", max_workers=workers).calls(
            start=pd.Timestamp(NOW) - pd.Timedelta(days=sim.days + 1),
            end=pd.Timestamp(NOW) + pd.Timedelta(days=1), window="1D")), 1)
        peak = sim.stats()["max_in_flight"]
        t_py, n_py = best(lambda: twilio_python(sim), 1)
    finally:
        sim.set_latency(0)
    lines = ["| path | records | seconds | max in flight |", "|---|---:|---:|---:|",
             f"| twilio-python sequential stream | {n_py:,} | {t_py:.2f} | 1 |",
             f"| twilio-frames window=\"1D\", max_workers={workers} | {n_tf:,} | {t_tf:.2f} | {peak} |",
             "", f"* speed-up: {t_py / t_tf:.1f}x (target >= 6x); cap {workers}, observed {peak}",
             "* twilio-frames counts calls with a start_time in the range; twilio-python also "
             "gets calls never started (null start_time)"]
    return "\n".join(lines)


MEMORY_CHILD = r"""
import sys, json
import twilio_frames as tf
import pandas as pd
def rss(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
base_url, sid, token = sys.argv[1:4]
c = tf.Client(sid, token, base_url=base_url, progress=False)
c.calls(limit=5)                   # warm imports (pyarrow compute...) and the pool
before = rss("VmRSS:")
df = c.calls()
peak = rss("VmHWM:")
print(json.dumps({"rows": len(df), "peak_growth": peak - before,
                  "frame": int(df.memory_usage(deep=True).sum())}))
"""


def memory(n_calls, days):
    sim = RemoteSim(n_calls, days)
    try:
        out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, sim.base_url, sim.account_sid,
                              sim.auth_token], capture_output=True, text=True, check=True)
    finally:
        sim.close()
    r = json.loads(out.stdout)
    mib = 2 ** 20
    return "\n".join([
        "| calls | final frame (deep) | peak RSS growth while fetching | ratio |",
        "|---:|---:|---:|---:|",
        f"| {r['rows']:,} | {r['frame'] / mib:,.0f} MiB | {r['peak_growth'] / mib:,.0f} MiB | "
        f"{r['peak_growth'] / r['frame']:.2f}x |", "", "* target: peak below 3x the final frame"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--memory-calls", type=int, default=1_000_000)
    ap.add_argument("--memory-days", type=int, default=50)
    ap.add_argument("--sections", default="throughput,latency,memory",
                    help="also: adaptive, limits, small, memory-all (issue 9, bench/fetch_adaptive.py)")
    ap.add_argument("--small-calls", type=int, default=1000)
    ap.add_argument("--large-calls", type=int, default=54_000)
    ap.add_argument("--large-days", type=int, default=60)
    ap.add_argument("--adaptive-workers", type=int, default=16)
    ap.add_argument("--small-repeat", type=int, default=30)
    ap.add_argument("--memory-all-subaccounts", type=int, default=3)
    args = ap.parse_args(argv)
    sections = args.sections.split(",")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"pandas {pd.__version__}; command: python bench/fetch.py {' '.join(argv or sys.argv[1:])}; "
          f"load average {os.getloadavg()[0]:.1f}")
    sim = RemoteSim(args.calls, args.days) if {"throughput", "latency"} & set(sections) else None
    try:
        if "throughput" in sections:
            print("\n### Throughput\n\n" + throughput(sim, args.repeat), flush=True)
        if "latency" in sections:
            print(f"\n### {args.latency * 1000:.0f} ms latency per request\n\n"
                  + latency(sim, args.latency, args.workers), flush=True)
    finally:
        if sim is not None:
            sim.close()
    if "memory" in sections:
        print("\n### Memory\n\n" + memory(args.memory_calls, args.memory_days))
    adaptive_sections(args, sections)


def adaptive_sections(args, sections) -> None:
    """The issue-9 rows (bench/fetch_adaptive.py), on their own simulators."""
    import fetch_adaptive as fa
    me = sys.modules[__name__]
    if {"adaptive", "limits", "small"} & set(sections):
        small, large = RemoteSim(args.small_calls, 20), RemoteSim(args.large_calls, args.large_days)
        try:
            reference = None
            if "adaptive" in sections or "limits" in sections:
                table, frames = fa.adaptive(me, small, large, args.latency, args.adaptive_workers)
                reference = frames["large"]
                print(f"\n### No window, {args.latency * 1000:.0f} ms latency\n\n" + table, flush=True)
            if "limits" in sections:
                print(f"\n### Server concurrency limits, {args.latency * 1000:.0f} ms latency\n\n"
                      + fa.limits(me, large, reference, args.latency), flush=True)
            if "small" in sections:
                print("\n### A small fetch on loopback\n\n" + fa.small_fetch(me, small, args.small_repeat),
                      flush=True)
        finally:
            small.close()
            large.close()
    if "memory-all" in sections:
        print("\n### Memory, accounts=\"all\" with automatic windows\n\n"
              + fa.memory_all(me, args.memory_calls, args.memory_days, args.memory_all_subaccounts))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(*map(int, sys.argv[2:5]))
    else:
        main()
