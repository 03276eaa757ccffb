"""Two versions of the client side by side, in one run, on one simulator.

    python bench/fetch_ab.py --before /path/to/old/checkout                 # 1,000 calls
    python bench/fetch_ab.py --before /path/to/old/checkout --calls 100000 --days 20 --repeat 3

Each version runs in its own child process (``PYTHONPATH`` set to its checkout, so it
imports that ``twilio_frames``); the parent alternates them, one fetch at a time, with
the JSON floor (requests GET + ``json.loads`` of the same pages, no frame) measured by
each child between its fetches. Every fetch is ``tf.Client(...).calls()`` with a new
client, as in ``bench/fetch.py``. Prints best and median per version, the ratio of
bests to that child's floor, and the CPU seconds of the child's process (all threads)
per fetch, which a loaded machine disturbs less than wall time; with the load average
before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import fetch as F
import twilio_frames as tf
base_url, sid, token = sys.argv[2:5]
class Sim: pass
sim = Sim(); sim.base_url, sim.account_sid, sim.auth_token = base_url, sid, token
print(json.dumps({"twilio_frames": tf.__file__}), flush=True)
for line in sys.stdin:
    what = line.strip()
    t0, c0 = time.perf_counter(), time.process_time()
    n = len(F.frames(sim, "json").calls()) if what == "client" else F.floor(sim, "json")
    print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                      "records": n}), flush=True)
"""


class Version:
    def __init__(self, name: str, tree: Path, sim) -> None:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        self.name = name
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD, str(HERE), sim.base_url,
                                      sim.account_sid, sim.auth_token], env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.module = json.loads(self.proc.stdout.readline())["twilio_frames"]
        self.times: dict[str, list[float]] = {"client": [], "floor": []}
        self.cpu: dict[str, list[float]] = {"client": [], "floor": []}
        self.records = 0

    def run(self, what: str) -> None:
        self.proc.stdin.write(what + "\n")
        self.proc.stdin.flush()
        out = json.loads(self.proc.stdout.readline())
        self.times[what].append(out["seconds"])
        self.cpu[what].append(out["cpu"])
        self.records = out["records"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="checkout of the version to compare with")
    ap.add_argument("--after", default=str(HERE.parent), help="checkout under test (default: this one)")
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--days", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import fetch as F
    sim = F.RemoteSim(args.calls, args.days)
    versions = []
    try:
        versions = [Version("before", Path(args.before), sim), Version("after", Path(args.after), sim)]
        for v in versions:                   # warm: imports, the simulator's page cache
            v.run("floor"), v.run("client")
            v.times, v.cpu = {"client": [], "floor": []}, {"client": [], "floor": []}
        start = load()
        for _ in range(args.repeat):
            for v in versions:
                v.run("client")
                v.run("floor")
        end = load()
    finally:
        for v in versions:
            v.close()
        sim.close()
    print(f"load average before {start}, after {end}; {args.repeat} rounds, alternating\n")
    print("| version | records | client best (ms) | client median | floor best (ms) | "
          "floor median | best / floor best | client CPU / floor CPU (medians) |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|")
    for v in versions:
        c, f = sorted(v.times["client"]), sorted(v.times["floor"])
        cc, fc = sorted(v.cpu["client"]), sorted(v.cpu["floor"])
        print(f"| {v.name} (`{Path(v.module).parents[1]}`) | {v.records:,} | {c[0] * 1e3:.1f} | "
              f"{c[len(c) // 2] * 1e3:.1f} | {f[0] * 1e3:.1f} | {f[len(f) // 2] * 1e3:.1f} | "
              f"**{c[0] / f[0]:.2f}x** | {cc[len(cc) // 2] * 1e3:.0f} / {fc[len(fc) // 2] * 1e3:.0f} ms |")


if __name__ == "__main__":
    main()
