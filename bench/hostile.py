"""Hostile servers (issue 8.8): what each case costs the client, and what the bounded body
reader costs a normal fetch.

    python bench/hostile.py                 # every case, each in a fresh subprocess
    python bench/hostile.py --case bomb     # one case, in this process

Cases, each against the scripted servers of ``tests/fetch/test_hostile.py`` on 127.0.0.1:

* ``bomb``: one 200 whose gzip body is 1 MiB and expands to 1 GiB; seconds, requests,
  peak RSS growth (``ru_maxrss``) while fetching.
* ``endless``: every page empty, each naming a new next page; requests and seconds
  until the client stops, or how many it made in 25 s if it does not.
* ``trickle``: the body sent one byte a second, ``timeout=(3, 3)``, ``deadline=4``
  where the client has that option; seconds until the attempt ends.
* ``headers``: the same, but the header block trickles (one header line, never ended).
* ``reader``: the bounded reader against the one whole ``urllib3`` read it replaced,
  side by side in one process, best of 10: one GET of a 2 MB JSON page of 1000 calls,
  and the whole fetch of the simulator's calls (PageSize 1000).

The figures are in docs/benchmarks.md "Hostile servers". Run it with the code of an
older commit on ``PYTHONPATH`` for the "before" column.
"""

from __future__ import annotations

import argparse
import inspect
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "fetch"))

import twilio_frames as tf  # noqa: E402
from test_hostile import Hostile, _endless, gzip_bomb, page  # noqa: E402

CASES = ("bomb", "endless", "trickle", "headers", "reader")
tf.to_frame("calls", [])      # warm the lazy imports, which are not what is measured


def _client(srv, **kw):
    if "deadline" in kw and "deadline" not in inspect.signature(tf.Client).parameters:
        kw.pop("deadline")
    return srv.client(**kw)


def _outcome(call) -> str:
    try:
        call()
    except Exception as exc:                      # the case is what error, if any
        return f"{type(exc).__name__}: {str(exc)[:110]}"
    return "no error"


def bomb() -> None:
    body = gzip_bomb()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with Hostile(lambda h: h.send(body, headers=[("Content-Encoding", "gzip")])) as srv:
        t0 = time.perf_counter()
        what = _outcome(lambda: _client(srv).calls())
        seconds = time.perf_counter() - t0
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    print(f"| gzip bomb | {seconds:.2f} s | {srv.requests} | +{grown:.0f} MiB | {what} |")


def endless() -> None:
    with Hostile(_endless(lambda n: [])) as srv:
        result = {}
        worker = threading.Thread(target=lambda: result.update(
            what=_outcome(lambda: _client(srv).calls())), daemon=True)
        t0 = time.perf_counter()
        worker.start()
        worker.join(25)
        seconds = time.perf_counter() - t0
        what = result.get("what", "still fetching after 25 s")
        print(f"| endless empty pages | {seconds:.2f} s | {srv.requests} | | {what} |",
              flush=True)
        if worker.is_alive():
            os._exit(0)


def trickle() -> None:
    body = page([{"sid": "CA" + "0" * 32}])

    def script(h):
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        for byte in body[:60]:
            h.wfile.write(bytes([byte]))
            h.wfile.flush()
            time.sleep(1.0)
    with Hostile(script) as srv:
        t0 = time.perf_counter()
        what = _outcome(lambda: _client(srv, timeout=(3, 3), deadline=4).calls())
        seconds = time.perf_counter() - t0
    print(f"| trickle 1 byte/s | {seconds:.2f} s | {srv.requests} | | {what} |")


def headers() -> None:
    def script(h):
        h.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(60):
            h.wfile.write(b"X")
            h.wfile.flush()
            time.sleep(1.0)
    with Hostile(script) as srv:
        t0 = time.perf_counter()
        what = _outcome(lambda: _client(srv, timeout=(3, 3), deadline=4).calls())
        seconds = time.perf_counter() - t0
    print(f"| trickled headers 1 byte/s | {seconds:.2f} s | {srv.requests} | | {what} |")


def reader() -> None:
    from twilio_frames.fetch import http
    from twilio_frames.fetch.client import _Spec

    def whole(self, r, url, deadline):            # the reader before issue 8.8
        try:
            return r.raw.read(decode_content=True)
        except BaseException:
            r.close()
            raise
    bounded = http.Transport._read_body
    with tf.simulator.running(seed=1, days=365, subaccounts=0) as sim:
        c = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False)
        url = c._first_url("calls", _Spec(sim.account_sid, {}))
        size, n = len(c.transport.get(url).body), len(c.calls())
        get, fetch = {}, {}
        for _ in range(10):
            for name, fn in (("one whole urllib3 read", whole), ("bounded reader", bounded)):
                http.Transport._read_body = fn
                t0 = time.perf_counter()
                for _ in range(5):
                    c.transport.get(url)
                get[name] = min(get.get(name, 1e9), (time.perf_counter() - t0) / 5)
                t0 = time.perf_counter()
                c.calls()
                fetch[name] = min(fetch.get(name, 1e9), time.perf_counter() - t0)
        http.Transport._read_body = bounded
    base_get, base_fetch = get["one whole urllib3 read"], fetch["one whole urllib3 read"]
    for name in get:
        print(f"| {name} | {get[name] * 1000:.2f} ms ({get[name] / base_get:.2f}) | "
              f"{fetch[name]:.3f} s ({fetch[name] / base_fetch:.2f}) |")
    print(f"\n(one GET: the first page, {size:,} bytes of JSON; whole fetch: {n:,} calls, "
          "PageSize 1000; best of 10, side by side)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=CASES)
    args = parser.parse_args()
    if args.case:
        globals()[args.case]()
        return
    print("| case | time | requests | RSS growth | outcome |\n|---|---:|---:|---:|---|")
    for case in CASES:
        if case == "reader":
            print("\n| reader | one GET (ratio) | whole fetch (ratio) |\n|---|---:|---:|")
        subprocess.run([sys.executable, __file__, "--case", case], check=False)


if __name__ == "__main__":
    main()
