"""Where a no-window fetch's wall time goes: client CPU, simulator CPU, requests in flight.

    cd bench && python fetch_profile.py --calls 54000 --days 60 --repeat 2

For each repeat: twilio-python's sequential ``calls.stream(page_size=1000)``, then
twilio-frames ``calls(start, end)`` with no window and ``--workers`` workers, both under
``--latency`` seconds per request on one simulator child (``fetch.RemoteSim``). Prints wall
seconds, this process's CPU seconds (every thread), the simulator's CPU seconds, the
requests, and for twilio-frames the requests in flight every 0.1 s (counted around
``Transport.get``, so a request waiting for the limiter's slot counts too). With ``--timeline``
every request's start, end and query. Not a pass/fail bench: figures for
docs/benchmarks.md "Adaptive fetching".
"""

from __future__ import annotations

import argparse
import os
import time

import fetch as F
import fetch_adaptive as FA


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=54_000)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--timeline", action="store_true")
    args = ap.parse_args()
    sim = F.RemoteSim(args.calls, args.days)
    try:
        print(f"load average {os.getloadavg()[0]:.1f}")
        for _ in range(args.repeat):
            sim.set_faults(latency=args.latency)
            (t, cpu, scpu), n = FA._timed(sim, lambda: F.twilio_python(sim))
            print(f"twilio-python: {n:,} records, {sim.stats()['requests']} requests, "
                  f"{t:.2f} s wall, {cpu:.2f} s client CPU, {scpu:.2f} s simulator CPU", flush=True)
            sim.set_faults(latency=args.latency)
            c = F.frames(sim, "json", max_workers=args.workers)
            timeline, get = [], c.transport.get

            def timed_get(url):
                a = time.perf_counter()
                r = get(url)
                timeline.append((a, time.perf_counter(), url))
                return r
            c.transport.get = timed_get
            start, end = FA._range(sim)
            (t, cpu, scpu), df = FA._timed(sim, lambda: c.calls(start, end))
            st = sim.stats()
            print(f"twilio-frames: {len(df):,} records, {st['requests']} requests (server saw at "
                  f"most {st['max_in_flight']} at once), {t:.2f} s wall, {cpu:.2f} s client CPU, "
                  f"{scpu:.2f} s simulator CPU", flush=True)
            t0, t1 = min(a for a, _, _ in timeline), max(b for _, b, _ in timeline)
            steps = [sum(1 for a, b, _ in timeline if a <= t0 + k / 10 < b)
                     for k in range(int((t1 - t0) * 10) + 1)]
            print("  in flight every 0.1 s:", " ".join(map(str, steps)))
            if args.timeline:
                for a, b, url in sorted(timeline):
                    print(f"  {a - t0:6.3f} {b - t0:6.3f} {url.split('?', 1)[-1][:100]}")
        print(f"load average {os.getloadavg()[0]:.1f}")
    finally:
        sim.close()


if __name__ == "__main__":
    main()
