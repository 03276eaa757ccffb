"""The ``demo`` and ``report`` subcommands: the report folder from the simulator or from
an account, and the summary printed after it (the whole bill per account, the
reconciliation status). The helpers every command shares are in
:mod:`twilio_frames.cli.commands`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import tempfile
import textwrap
from pathlib import Path

from ..output.outputs import REPORT_MARKER, check_output
from .commands import (PROG, _accounts, _add_output_options, _add_source_options, _client,
                       _parser, _range, _say, guarded, text_table, usage_error)
from .options import _add_tz_option, _date, _positive_int, instant

__all__ = ["add_demo_command", "add_report_command", "print_summary"]


def print_summary(result) -> None:
    """Where the report is, cost by account and product, and the reconciliation status."""
    from ..output.report.build import PRODUCTS, money_text
    data, index = result.data, result.index.resolve()
    last = data.end - dt.timedelta(microseconds=1)
    print(f"\nReport: {index}")
    print(f"Open in a browser: {index.as_uri()}\n")
    print(f"The whole bill per account, {data.start:%Y-%m-%d} to {last:%Y-%m-%d} "
          "(UTC days)")
    columns = [*PRODUCTS, "list total", "phone numbers", "recording storage",
               "failed-message fees", "other categories", "no category",
               "lists vs Usage Records", "total"]
    shown = [c for c in columns if c in ("list total", "total", *PRODUCTS)
             or any(v != 0 for v in result.costs[c])]
    header = {"list total": "lists", "lists vs Usage Records": "difference",
              "failed-message fees": "failed fees", "recording storage": "rec. storage",
              "other categories": "other", "total": "total"}
    rows = [[r["account"] or r["sid"], r["currency"],
             *[money_text(r[c], r["currency"]) for c in shown]]
            for _, r in result.costs.iterrows()]
    lines = text_table(rows, ["account", "currency", *[header.get(c, c) for c in shown]],
                       right=set(range(2, 2 + len(shown))))
    lines.insert(len(lines) - sum(result.costs["account"] == "total"), lines[1])
    print("\n".join("  " + x for x in lines))
    extra = [header.get(c, c) for c in shown if c not in (*PRODUCTS, "list total", "total")]
    note = ("From the list endpoints: " + ", ".join(PRODUCTS) + " and their sum (lists). "
            + (f"From Usage Records: {', '.join(extra)}. " if extra else "")
            + ("'difference' is Usage Records' price of what the lists price less the "
               "lists' cost (prices not set yet, days not over). "
               if "lists vs Usage Records" in shown else "")
            + "total = each account's totalprice (Usage Records).")
    print(textwrap.fill(note, 88, initial_indent="  ", subsequent_indent="  "))
    s = result.status
    total = sum(s.values())
    print()
    print(textwrap.fill(
        f"Reconciliation with Usage Records: of {total:,} comparisons (one per account, "
        f"UTC day and usage category), {s['match']:,} match, {s['pending']:,} pending "
        f"(day not over or prices not set yet), {s['mismatch']:,} mismatch.", 88,
        subsequent_indent="  "))
    if s["mismatch"]:
        print("  The mismatches are listed in the report and in reconciliation.csv.")


# ---------------------------------------------------------------- demo and report

DEMO_EPILOG = f"""\
examples:
  {PROG} demo                          # 90 days, JSON, report in ./twilio-frames-demo
  {PROG} demo --out /tmp/demo-report --format json --days 30

No credentials and no network: a simulated account (a master and 3 subaccounts) is
served on 127.0.0.1 for the duration of the command."""

REPORT_EPILOG = f"""\
examples:
  export TWILIO_ACCOUNT_SID=AC... TWILIO_AUTH_TOKEN=...
  {PROG} report --start 2026-10-01 --end 2026-11-01 --out report-october
  {PROG} report --start 2026-10-01 --end 2026-11-01 --accounts AC123... AC456... --format json
  {PROG} report --start 2026-10-01 --end 2026-11-01 --tz America/New_York --out report-ny
  {PROG} report --store ./store --start 2026-08-01 --end 2026-11-01 --out report-q3

--end is exclusive: the example covers October (UTC days). Credentials come from
TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or with TWILIO_API_KEY and TWILIO_API_SECRET;
another API root from TWILIO_API_BASE or --base-url."""


def add_demo_command(subparsers) -> None:
    """``twilio-frames demo``: the whole report against the built-in simulator."""
    parser = _parser(subparsers, "demo", help="build a report from a simulated account "
                     "(no credentials, no network)",
                     description="Start the local Twilio simulator, fetch the last N days "
                     "of calls, messages, recordings and usage records for the master "
                     "account and every subaccount, and write a report folder (CSV, PNG, "
                     "index.html).", epilog=DEMO_EPILOG)
    parser.add_argument("--days", type=_positive_int, default=90,
                        help="days of history, ending today (default: 90)")
    parser.add_argument("--seed", type=int, default=0, help="simulated data seed (default: 0)")
    parser.add_argument("--now", type=instant, default=None, metavar="ISO",
                        help="the simulated present, e.g. 2026-11-27T12:00Z "
                             "(default: the current time)")
    parser.add_argument("--attacks", type=int, default=0, metavar="N",
                        help="inject N SMS-pumping and N toll-fraud episodes and an organic "
                             "campaign (needs --days 30 or more; default: 0)")
    _add_tz_option(parser)
    group = parser.add_argument_group("where the data comes from")
    group.add_argument("--format", choices=("json", "xml"), default="json",
                       help="wire format of the API pages (default: json, as tf.Client; xml, "
                            "the API's own default, gives identical frames)")
    group.add_argument("--store", metavar="DIR", default=None,
                       help="keep the store the report is read from in DIR (default: a "
                            "temporary folder, removed at the end)")
    _add_output_options(parser, what="folder", default="twilio-frames-demo")
    parser.set_defaults(func=guarded(run_demo))


def _demo_now(text: str | None):
    from ..fetch.paging import to_utc
    now = to_utc(text) if text else None
    import pandas as pd
    return (now or pd.Timestamp.now(tz="UTC")).floor("min")


def run_demo(args: argparse.Namespace) -> int:
    from .. import simulator
    from ..fetch.client import Client
    from ..output.report.write import write_report
    check_output(args.out, folder=True, overwrite=args.overwrite, marker=REPORT_MARKER)
    now = _demo_now(args.now)
    end = now.normalize() + dt.timedelta(days=1)
    start = end - dt.timedelta(days=args.days)
    if not args.quiet:
        _say(f"Starting the simulator: seed {args.seed}, {args.days} days up to "
             f"{now:%Y-%m-%d %H:%M} UTC")
    try:
        dataset = simulator.Dataset(seed=args.seed, days=args.days, now=now.to_pydatetime(),
                                    attacks=args.attacks)
    except ValueError as exc:
        usage_error(args, str(exc))
    with simulator.running(dataset=dataset) as sim, _demo_store(args.store) as store:
        client = Client(sim.account_sid, sim.auth_token, base_url=sim.base_url,
                        format=args.format, progress=False if args.quiet else None)
        with client:
            if not args.quiet:
                _say(f"Syncing the simulated account into the store {store.path}")
            synced = store.sync(client, start=start, end=end)
            if not args.quiet:
                _say(f"  {synced}")
        result = write_report(store.source(), args.out, start=start, end=end, accounts="all",
                              overwrite=args.overwrite, progress=not args.quiet, now=now,
                              title="Twilio usage and cost report (simulated account)",
                              source=f"the local simulator (seed {args.seed}), through a store",
                              tz=args.tz)
    print_summary(result)
    return 0


@contextlib.contextmanager
def _demo_store(path):
    """The demo's store: ``--store DIR`` (kept), else a temporary folder (removed)."""
    from ..store.store import Store
    if path:
        yield Store(path)
        return
    with tempfile.TemporaryDirectory(prefix="twilio-frames-demo-store-") as tmp:
        yield Store(Path(tmp) / "store")


def add_report_command(subparsers) -> None:
    """``twilio-frames report``: the same report for a real account."""
    parser = _parser(subparsers, "report", help="build a usage and cost report for a "
                     "Twilio account", description="Fetch calls, messages, recordings and "
                     "daily usage records for [--start, --end) and write a report folder "
                     "(CSV, PNG, index.html).", epilog=REPORT_EPILOG)
    parser.add_argument("--start", type=_date, required=True, metavar="YYYY-MM-DD",
                        help="first UTC day")
    parser.add_argument("--end", type=_date, required=True, metavar="YYYY-MM-DD",
                        help="UTC day after the last one (exclusive)")
    _add_tz_option(parser)
    _add_source_options(parser)
    parser.add_argument("--engine", choices=("auto", "pandas", "dask"), default="auto",
                        help="how a store's calls, messages and recordings are read: dask "
                             "reads them partition by partition with a progress bar, in "
                             "bounded memory; auto (default) uses dask for a store holding "
                             "more than 2,000,000 of them in the range, else pandas")
    _add_output_options(parser, what="folder", default=None)
    parser.set_defaults(func=guarded(run_report))


def run_report(args: argparse.Namespace) -> int:
    from ..output.report.write import write_report
    start, end = _range(args)
    check_output(args.out, folder=True, overwrite=args.overwrite, marker=REPORT_MARKER)
    with _client(args) as client:
        result = write_report(client, args.out, start=start, end=end,
                              accounts=_accounts(args.accounts), overwrite=args.overwrite,
                              progress=not args.quiet, tz=args.tz, engine=args.engine)
    print_summary(result)
    return 0
