"""The issue-9 rows of bench/fetch.py: automatic windows, 429 limits, small fetches, memory.

Run through ``python bench/fetch.py --sections adaptive,limits,small,memory-all``; each
function returns the Markdown of its table. Every ratio is two rows measured side by side
in one run against one simulator process (``fetch.RemoteSim``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pandas as pd


def _range(sim):
    """[start, end) covering the simulator's whole traffic window (a bounded range:
    automatic windows need a start or an end)."""
    now = pd.Timestamp(sim.now)
    return now - pd.Timedelta(days=sim.days + 1), now + pd.Timedelta(days=1)


def _sim_cpu(sim) -> float:
    """CPU seconds (user + system) the simulator's child process has used so far."""
    with open(f"/proc/{sim.proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(sim, fn):
    """(wall seconds, this process's CPU seconds, the simulator's CPU seconds), result."""
    c0, s0, t0 = time.process_time(), _sim_cpu(sim), time.perf_counter()
    out = fn()
    return (time.perf_counter() - t0, time.process_time() - c0, _sim_cpu(sim) - s0), out


def _tf(sim, fetch, **kw):
    c = fetch.frames(sim, "json", **kw)
    start, end = _range(sim)
    (t, _, _), df = _timed(sim, lambda: c.calls(start, end))
    return t, df


def adaptive(fetch, small, large, latency, workers):
    """twilio-python's sequential stream against no-window twilio-frames under latency;
    client and simulator CPU seconds beside each (both share the machine's cores). The
    simulator is warmed first (each record's JSON rendered once, for both rows): cold, its
    renders queue behind its GIL with 16 requests in flight and answers came ~100 ms past
    the latency, a cost of the bench machine, not of the API."""
    lines = ["| account | path | records | requests | seconds | client CPU s | simulator CPU s "
             "| speed-up |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    frames = {}
    for name, sim in (("small", small), ("large", large)):
        # every record's JSON rendered once before either row (simulator/fragments.py):
        # both rows then meet a server whose own CPU stays off the two shared cores
        fetch.floor(sim, "json")
        sim.set_faults(latency=latency)
        (t_py, cpu_py, sim_py), n_py = _timed(sim, lambda: fetch.twilio_python(sim))
        py_requests = sim.stats()["requests"]
        sim.set_faults(latency=latency)
        c = fetch.frames(sim, "json", max_workers=workers)
        start, end = _range(sim)
        (t_tf, cpu_tf, sim_tf), df = _timed(sim, lambda: c.calls(start, end))
        st = sim.stats()
        sim.set_faults()
        frames[name] = df
        lines += [f"| {name} | twilio-python `calls.stream(page_size=1000)` | {n_py:,} | "
                  f"{py_requests} | {t_py:.2f} | {cpu_py:.2f} | {sim_py:.2f} | 1.00x |",
                  f"| {name} | twilio-frames, no window, `max_workers={workers}` | {len(df):,} | "
                  f"{st['requests']} | {t_tf:.2f} | {cpu_tf:.2f} | {sim_tf:.2f} | "
                  f"**{t_py / t_tf:.2f}x** |"]
    lines += ["", "* targets: small >= 1.0x, large >= 10x; twilio-frames fetches "
              "`calls(start, end)` over the whole traffic window (twilio-python's count also "
              "holds calls that never started: null `start_time`); the simulator warmed first "
              "(every record's JSON rendered once, for both rows); load average before/after: "
              f"{os.getloadavg()[0]:.1f}"]
    return "\n".join(lines), frames


def limits(fetch, sim, reference, latency):
    """A server concurrency limit: 429 share and completeness, and Retry-After's cost."""
    lines = ["| server | workers | seconds | requests | answered 429 | rows | same frame |",
             "|---|---:|---:|---:|---:|---:|---|"]
    seconds = {}
    for label, faults, workers in (
            ("limit 4", dict(concurrency_limit=4), 16),
            ("limit 2", dict(concurrency_limit=2), 8),
            ("limit 2, `Retry-After: 1`", dict(concurrency_limit=2, retry_after=1), 8)):
        sim.set_faults(latency=latency, **faults)
        t, df = _tf(sim, fetch, max_workers=workers)
        st = sim.stats()
        sim.set_faults()
        share = st["429"] / st["requests"]
        same = df["sid"].is_unique and df["sid"].equals(reference["sid"])
        seconds[label] = t
        lines.append(f"| {label} | {workers} | {t:.2f} | {st['requests']} | {st['429']} "
                     f"({share:.1%}) | {len(df):,} | {'yes' if same else 'NO'} |")
    ratio = seconds["limit 2, `Retry-After: 1`"] / seconds["limit 2"]
    lines += ["", f"* `Retry-After: 1` / no header, limit 2: **{ratio:.2f}x** the time "
              "(target <= 2x); target under 10% answered 429 with limit 4 and 16 workers"]
    return "\n".join(lines)


def small_fetch(fetch, sim, repeat):
    """A fetch of about 1,000 calls on loopback against the JSON floor, alternating."""
    fetch.floor(sim, "json")
    c_times, f_times, n = [], [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = len(fetch.frames(sim, "json").calls())
        c_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        fetch.floor(sim, "json")
        f_times.append(time.perf_counter() - t0)
    tc, tf_ = min(c_times), min(f_times)
    return "\n".join([
        "| path | records | best of {0} (ms) | median (ms) |".format(repeat), "|---|---:|---:|---:|",
        f"| twilio-frames `tf.Client(...).calls()` -> typed DataFrame | {n:,} | {tc * 1e3:.1f} | "
        f"{sorted(c_times)[repeat // 2] * 1e3:.1f} |",
        f"| floor: requests GET + json.loads | {n:,} | {tf_ * 1e3:.1f} | "
        f"{sorted(f_times)[repeat // 2] * 1e3:.1f} |",
        "", f"* best / best: **{tc / tf_:.2f}x** the floor (target <= 1.5x); a new Client each "
        "time, as the floor opens a new Session"])


MEMORY_ALL_CHILD = r"""
import sys, json
import pandas as pd
import twilio_frames as tf
def rss(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
base_url, sid, token, start, end = sys.argv[1:6]
c = tf.Client(sid, token, base_url=base_url, progress=False)
c.calls(limit=5)                   # warm imports (pyarrow compute...) and the pool
before = rss("VmRSS:")
df = c.calls(start, end, accounts="all")
peak = rss("VmHWM:")
print(json.dumps({"rows": len(df), "peak_growth": peak - before,
                  "frame": int(df.memory_usage(deep=True).sum())}))
"""


def memory_all(fetch, n_calls, days, subaccounts):
    sim = fetch.RemoteSim(n_calls, days, subaccounts)
    try:
        start, end = _range(sim)
        out = subprocess.run([sys.executable, "-c", MEMORY_ALL_CHILD, sim.base_url,
                              sim.account_sid, sim.auth_token, str(start), str(end)],
                             capture_output=True, text=True, check=True)
    finally:
        sim.close()
    r = json.loads(out.stdout)
    mib = 2 ** 20
    return "\n".join([
        "| calls | accounts | final frame (deep) | peak RSS growth while fetching | ratio |",
        "|---:|---:|---:|---:|---:|",
        f"| {r['rows']:,} | {subaccounts + 1} | {r['frame'] / mib:,.0f} MiB | "
        f"{r['peak_growth'] / mib:,.0f} MiB | **{r['peak_growth'] / r['frame']:.2f}x** |", "",
        "* `calls(start, end, accounts=\"all\")` with automatic windows; target: below 3x"])
