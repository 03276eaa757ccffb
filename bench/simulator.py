"""Simulator benchmarks: build cost of a big dataset, and serving cost of 1000-record pages
next to the cost of parsing them.

    .venv/bin/python bench/simulator.py            # prints the markdown for docs/benchmarks.md
    .venv/bin/python bench/simulator.py --quick    # smaller build, fewer repeats
    .venv/bin/python bench/simulator.py --against /tmp/main   # build only, side by side
                                                   # with another checkout (git archive)

1. Build: time (wall and CPU: on a shared machine CPU seconds are the steadier figure)
   and peak RSS (``resource.getrusage`` maxrss) to build a Dataset with about 1,000,000
   calls and 1,000,000 messages, measured in a fresh subprocess (the RSS of the same
   imports without the build is reported beside it). ``--against DIR`` builds this
   checkout's and DIR's datasets alternately, for a before/after comparison.
2. Serve: for 1000-record call and message pages in JSON and XML, the server-side cost
   per page (``Table.records`` + rendering, called in-process through the WSGI app with
   the page cache off), pages per second over loopback HTTP (``requests.Session``,
   keep-alive) with the cache off (every page rendered) and on (the same page again), next
   to ``json.loads`` / ``orjson.loads`` / ``xmltodict.parse`` of the same body and the
   client's whole parse (``tf.parse_page`` + ``tf.to_frame``). Issue 2: serving a page
   must cost less than the client's parse of it, so the simulator never hides its speed.
"""

from __future__ import annotations

import argparse
import base64
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW = "2026-11-15T12:00:00Z"
BUILD_SCRIPT = """
import resource, sys, time, json
sys.path.insert(0, {root!r})
from twilio_frames.simulator.dataset import Dataset
import numpy, pandas  # noqa: F401  (imports counted in the baseline)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if {build}:
    t, cpu = time.perf_counter(), time.process_time()
    ds = Dataset(seed=1, now={now!r}, days={days}, subaccounts=0,
                 calls_per_day={per_day}, messages_per_day={per_day})
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    calls = len(ds.table("calls", ds.master_sid))
    messages = len(ds.table("messages", ds.master_sid))
else:
    seconds, cpu, calls, messages = 0.0, 0.0, 0, 0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "cpu": cpu, "calls": calls, "messages": messages,
                  "base_kib": base, "peak_kib": peak}}))
"""


def measure_build(days: int, per_day: float, build: bool = True, root: Path = ROOT) -> dict:
    code = BUILD_SCRIPT.format(root=str(root), build=build, now=NOW, days=days, per_day=per_day)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def wsgi_get(app, path: str, query: str, auth: tuple[str, str]) -> bytes:
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query,
               "HTTP_AUTHORIZATION": f"Basic {token}"}
    status = []
    body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    assert status[0].startswith("200"), status
    return body


def serve_rows(repeat: int) -> list[dict]:
    import requests

    from twilio_frames import simulator

    rows = []
    with simulator.running(seed=2, now=NOW, days=30, subaccounts=0, calls_per_day=400,
                           messages_per_day=400, cache_bytes=0) as sim, \
            requests.Session() as session:
        for resource, segment in (("calls", "Calls"), ("messages", "Messages")):
            for fmt in ("json", "xml"):
                rows.append(serve_row(sim, session, resource, segment, fmt, repeat))
    return rows


def serve_row(sim, session, resource: str, segment: str, fmt: str, repeat: int) -> dict:
    """Server and client costs of the second 1000-record page of one list, in ms."""
    import orjson
    import xmltodict

    from twilio_frames.simulator import render

    auth = (sim.account_sid, sim.auth_token)
    table = sim.dataset.table(resource, sim.account_sid)
    records = table.records(slice(1000, 2000))
    path = f"/2010-04-01/Accounts/{sim.account_sid}/{segment}{'.json' if fmt == 'json' else ''}"
    body = wsgi_get(sim.app, path, "PageSize=1000", auth)
    row = {"page": f"{resource}, {fmt.upper()}", "bytes": len(body),
           "records_ms": best_of(lambda: table.records(slice(1000, 2000)), repeat),
           "render_ms": best_of(lambda: render.render_list(fmt, resource, segment,
                                                           segment[:-1], records, _ENVELOPE),
                                repeat),
           "app_ms": best_of(lambda: wsgi_get(sim.app, path, "PageSize=1000", auth), repeat),
           "client_ms": best_of(lambda: client_parse(body, fmt, resource), repeat)}
    parsers = {"json": {"json_ms": json.loads, "orjson_ms": orjson.loads},
               "xml": {"xmltodict_ms": xmltodict.parse}}[fmt]
    for name, parse in parsers.items():
        row[name] = best_of(lambda: parse(body), repeat)
    row = {k: v * 1e3 if k.endswith("_ms") else v for k, v in row.items()}
    row["cold_pps"] = loopback_pages(session, sim, path, auth, repeat, distinct=True)
    sim.app._cache_limit = 64 * 2**20
    row["warm_pps"] = loopback_pages(session, sim, path, auth, repeat, distinct=False)
    sim.app._cache_limit = 0
    return row


def client_parse(body: bytes, fmt: str, resource: str = "calls"):
    """What a fetch does with a page: ``tf.parse_page`` then ``tf.to_frame``."""
    import twilio_frames as tf
    return tf.to_frame(resource, tf.parse_page(body, fmt, resource).records)


_ENVELOPE = {"end": 1999, "first_page_uri": "/x?PageSize=1000&Page=0", "next_page_uri": None,
             "page": 1, "page_size": 1000, "previous_page_uri": "/x?Page=0", "start": 1000,
             "uri": "/x?PageSize=1000&Page=1&PageToken=PAbzEwMDA"}


def loopback_pages(session, sim, path: str, auth, repeat: int, *, distinct: bool) -> float:
    """Pages per second over loopback: walk next_page_uri (distinct) or one page again."""
    first = session.get(sim.base_url + path, params={"PageSize": 1000}, auth=auth)
    urls = [first.url]
    if distinct:
        fmt_json = path.endswith(".json")
        import re
        body = first.text
        for _ in range(repeat * 2):
            nxt = (json.loads(body)["next_page_uri"] if fmt_json else
                   re.search(r'nextpageuri="([^"]*)"', body).group(1).replace("&amp;", "&"))
            if not nxt:
                break
            urls.append(sim.base_url + nxt)
            body = session.get(urls[-1], auth=auth).text
    else:
        urls = urls * (repeat * 2)
    t = time.perf_counter()
    for url in urls:
        response = session.get(url, auth=auth)
        assert response.status_code == 200
        response.content
    return len(urls) / (time.perf_counter() - t)


def machine() -> str:
    import os
    cpu = platform.processor() or platform.machine()
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}"


def report(build: dict, base: dict, serve: list[dict], command: str) -> str:
    mib = 1024
    lines = [
        f"Command: `{command}`. Machine: {machine()}.",
        "",
        "Build (fresh subprocess, `resource.getrusage` maxrss):",
        "",
        "| dataset | calls | messages | build time | build CPU | peak RSS | RSS of imports "
        "alone |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| seed=1, 1 account | {build['calls']:,} | {build['messages']:,} | "
        f"{build['seconds']:.1f} s | {build['cpu']:.1f} s | {build['peak_kib'] / mib:,.0f} MiB | "
        f"{base['peak_kib'] / mib:,.0f} MiB |",
        "",
        "Serving a 1000-record page vs parsing it (ms, best of several runs, one process):",
        "",
        "| page | body | `Table.records` | render | whole app, cache off | `json.loads` | "
        "`orjson.loads` | `xmltodict.parse` | client (`tf.parse_page` + `tf.to_frame`) | "
        "client / whole app | loopback pages/s, cache off | loopback pages/s, same page "
        "(cached) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in serve:
        parses = " | ".join(f"{r[k]:.1f}" if k in r else "-"
                            for k in ("json_ms", "orjson_ms", "xmltodict_ms"))
        lines.append(
            f"| {r['page']} | {r['bytes'] / 1024:,.0f} KiB | {r['records_ms']:.1f} | "
            f"{r['render_ms']:.1f} | {r['app_ms']:.1f} | {parses} | {r['client_ms']:.1f} | "
            f"{r['client_ms'] / r['app_ms']:.1f}x | {r['cold_pps']:.0f} | {r['warm_pps']:.0f} |")
    return "\n".join(lines)


def compare_builds(days: int, per_day: float, other: Path, repeat: int, command: str) -> str:
    """Builds of this checkout and ``other``, alternating, as a markdown table."""
    lines = [f"Command: `{command}`. Machine: {machine()}.", "",
             "| checkout | run | calls | messages | build time | build CPU | peak RSS |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for run in range(1, repeat + 1):
        for name, root in ((f"`{other}`", other), ("this one", ROOT)):
            b = measure_build(days, per_day, root=root)
            lines.append(f"| {name} | {run} | {b['calls']:,} | {b['messages']:,} | "
                         f"{b['seconds']:.1f} s | {b['cpu']:.1f} s | "
                         f"{b['peak_kib'] / 1024:,.0f} MiB |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k rows, fewer repeats")
    parser.add_argument("--against", type=Path, metavar="DIR",
                        help="only the build, alternating with the checkout in DIR")
    args = parser.parse_args()
    days, per_day = (100, 1000.0) if args.quick else (365, 1_000_000 / 365)
    repeat = 3 if args.quick else 7
    if args.against:
        command = (f".venv/bin/python bench/simulator.py --against {args.against}"
                   + (" --quick" if args.quick else ""))
        print(compare_builds(days, per_day, args.against, 3, command))
        return
    build = measure_build(days, per_day)
    base = measure_build(days, per_day, build=False)
    serve = serve_rows(repeat)
    command = ".venv/bin/python bench/simulator.py" + (" --quick" if args.quick else "")
    print(report(build, base, serve, command))


if __name__ == "__main__":
    main()
