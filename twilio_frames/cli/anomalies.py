"""``twilio-frames anomalies``: suspicious traffic episodes and Usage Trigger values."""

from __future__ import annotations

import argparse
import contextlib
import textwrap
import warnings

from .commands import (PROG, _accounts, _add_source_options, _client, _date, _parser,
                       _range, guarded, text_table)
from ..output.outputs import check_output

__all__ = ["add_anomalies_command"]

#: The simulated present of ``--demo`` (fixed, so the demo shows the same episodes).
DEMO_NOW = "2026-11-15T12:00:00Z"

EPILOG = f"""\
examples:
  {PROG} anomalies --demo                     # a simulated account with injected fraud
  {PROG} anomalies --start 2026-08-01 --end 2026-11-01 --out episodes.csv
  {PROG} anomalies --start 2026-08-01 --end 2026-11-01 --min-score 0.6 --baseline 14D

Outbound messages and calls are compared with each account's own previous --baseline
days. The thresholds are ours (Twilio publishes none): see help(tf.traffic_anomalies).
Give at least --baseline days of history before the period you care about."""


def add_anomalies_command(subparsers) -> None:
    parser = _parser(subparsers, "anomalies", help="find SMS pumping, toll fraud and spend "
                     "spikes; recommend Usage Trigger values",
                     description="Fetch messages, calls and daily totalprice Usage Records "
                     "for [--start, --end), print the suspicious episodes with their "
                     "evidence and the daily and monthly Usage Trigger values each "
                     "account's history suggests.", epilog=EPILOG)
    parser.add_argument("--start", type=_date, metavar="YYYY-MM-DD", help="first UTC day")
    parser.add_argument("--end", type=_date, metavar="YYYY-MM-DD",
                        help="UTC day after the last one (exclusive)")
    parser.add_argument("--demo", action="store_true",
                        help="use the local simulator (90 days up to 2026-11-15, --attacks "
                             "injected; no credentials)")
    parser.add_argument("--attacks", type=int, default=2, metavar="N",
                        help="--demo: pumping and toll-fraud episodes to inject (default: 2)")
    parser.add_argument("--seed", type=int, default=0, help="--demo: data seed (default: 0)")
    parser.add_argument("--baseline", default="28D", help="trailing window (default: 28D)")
    parser.add_argument("--min-score", type=float, default=0.4, metavar="S",
                        help="report episodes scoring at least S in [0, 1] (default: 0.4)")
    parser.add_argument("--out", default=None, metavar="CSV",
                        help="also write the episodes to this CSV (exact money)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the --out file if it exists (default: refuse)")
    _add_source_options(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(func=guarded(run_anomalies))


def _fetch(client, args, start, end):
    accounts = "all" if args.demo else _accounts(args.accounts)
    return (client.messages(start, end, accounts=accounts),
            client.calls(start, end, accounts=accounts),
            client.usage_records("daily", category="totalprice", start=start, end=end,
                                 include_subaccounts=False, accounts=accounts))


def _demo(args, stack: contextlib.ExitStack):
    from .. import simulator
    from ..fetch.client import Client
    if args.attacks < 0:
        args.parser.error("--attacks must be >= 0")
    sim = stack.enter_context(simulator.running(seed=args.seed, days=90, attacks=args.attacks,
                                                now=DEMO_NOW))
    return Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, format=args.format,
                  progress=False if args.quiet else None)


def run_anomalies(args: argparse.Namespace) -> int:
    import twilio_frames as tf
    if not args.demo and (args.start is None or args.end is None):
        args.parser.error("give --start and --end (or --demo)")
    start, end = _range(args)
    if args.out:
        check_output(args.out, folder=False, overwrite=args.overwrite)
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(_demo(args, stack) if args.demo else _client(args))
        messages, calls, usage = _fetch(client, args, start, end)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", tf.InsufficientHistoryWarning)
        found = tf.traffic_anomalies(messages, calls, baseline=args.baseline,
                                     min_score=args.min_score)
    _print_episodes(found, len(messages), len(calls))
    for w in caught:
        print(f"note: {w.message}")
    _print_triggers(tf.usage_triggers(usage))
    if args.out:
        from ..output.export import write_cells_csv
        write_cells_csv(found, args.out, columns=[c for c in found.columns
                                                  if c != "cost_micros"],
                        micros={"cost": "cost_micros"}, overwrite=args.overwrite)
        print(f"\nWrote {len(found):,} episodes to {args.out}")
    return 0


def _print_episodes(found, n_messages: int, n_calls: int) -> None:
    print(f"{len(found)} suspicious episode(s) in {n_messages:,} messages and "
          f"{n_calls:,} calls.\n")
    for i, ep in enumerate(found.itertuples(), 1):
        head = (f"{i}. {ep.kind.replace('_', ' ')}  {ep.account_sid}  "
                f"{ep.start:%Y-%m-%d %H:%M} to {ep.end:%Y-%m-%d %H:%M} UTC  "
                f"score {ep.score:.2f}")
        print(head)
        print(textwrap.fill(ep.evidence, 88, initial_indent="   ", subsequent_indent="   "))
        print()


def _print_triggers(t) -> None:
    print("Usage Trigger values from this history (UsageCategory=totalprice, "
          "TriggerBy=price):")
    import pandas as pd
    rows = [[r.account_sid, r.recurring, r.currency,
             "(under 28 days)" if pd.isna(r.trigger_value) else f"{r.trigger_value:,.2f}",
             "" if pd.isna(r.would_fire) else f"{r.would_fire} of {r.periods}"]
            for r in t.itertuples()]
    lines = text_table(rows, ["account", "recurring", "currency", "value", "would have fired"],
                       right={3, 4})
    print("\n".join("  " + x for x in lines))
