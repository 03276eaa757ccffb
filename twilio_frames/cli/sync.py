"""The ``sync`` subcommand: bring a local store (``tf.Store``) up to date from the API.

A thin skin over :meth:`twilio_frames.Store.sync`: parse options, sync with a progress
bar of partitions, print what was done and what the store now holds.
"""

from __future__ import annotations

import argparse
import sys
import warnings

from .commands import (PROG, _accounts, _add_source_options, _client, _date, _parser,
                       guarded, usage_error)

__all__ = ["add_sync_command"]

RESOURCES = ("accounts", "incoming_phone_numbers", "calls", "messages", "recordings",
             "usage_records")

SYNC_EPILOG = f"""\
examples:
  export TWILIO_ACCOUNT_SID=AC... TWILIO_AUTH_TOKEN=...
  {PROG} sync history --start 2026-01-01            # the first sync needs --start
  {PROG} sync history                               # later: only what is missing or open
  {PROG} report --store history --start 2026-10-01 --end 2026-11-01 --out report-october

A store keeps calls, messages and recordings per account and UTC day, daily usage
records per account and month, and the Accounts and phone number lists. A day is
fetched again until it ended more than --settle ago and none of its rows can still
change (unpriced, in progress). Nothing already stored is deleted, even when the API no
longer serves it (Messages older than 400 days). Layout and readers: docs/store.md."""


def _resource(text: str) -> str:
    name = text.replace("-", "_").lower()
    if name not in RESOURCES:
        raise argparse.ArgumentTypeError(f"unknown resource {text!r}; choose from "
                                         f"{', '.join(RESOURCES)}")
    return name


def add_sync_command(subparsers) -> None:
    """``twilio-frames sync DIR``: fetch what a store is missing or still open."""
    parser = _parser(subparsers, "sync", help="keep a local store of the account's history "
                     "up to date", description="Fetch into the store DIR every partition "
                     "(resource, account, UTC day) that is missing or still open, each "
                     "replaced whole and atomically; settled days are never fetched again "
                     "unless --refresh.", epilog=SYNC_EPILOG)
    parser.add_argument("dir", metavar="DIR", help="the store's folder (made on first use)")
    parser.add_argument("--start", type=_date, default=None, metavar="YYYY-MM-DD",
                        help="first UTC day (default: the first day already stored)")
    parser.add_argument("--end", type=_date, default=None, metavar="YYYY-MM-DD",
                        help="UTC day after the last one (default: now, server time)")
    parser.add_argument("--resources", nargs="+", type=_resource, default=None,
                        metavar="NAME", help=f"some of: {', '.join(RESOURCES)} (default: all)")
    parser.add_argument("--settle", default="48h", metavar="DURATION",
                        help="how long after its end a day may still change (default: 48h)")
    parser.add_argument("--refresh", action="store_true",
                        help="fetch settled days again too")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_source_options(parser, store=False)
    parser.set_defaults(func=guarded(run_sync))


def run_sync(args: argparse.Namespace) -> int:
    from ..store.store import Store
    from ..store.sync_result import AccountGoneWarning
    if args.start is not None and args.end is not None and not args.start < args.end:
        usage_error(args, f"--start {args.start} must be before --end {args.end}")
    store = Store(args.dir)
    with _client(args) as client, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AccountGoneWarning)
        result = store.sync(client, args.start, args.end, resources=args.resources,
                            accounts=_accounts(args.accounts), settle=args.settle,
                            refresh=args.refresh)
    print(f"Synced {store.path} (server time {result.now:%Y-%m-%d %H:%M} UTC): {result}")
    for w in caught:            # an account the API no longer serves: one line each
        if issubclass(w.category, AccountGoneWarning):
            print(f"warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    for resource, account, period, message in result.refused[:5]:
        print(f"  not served: {resource} {account} {period or ''}: {message.splitlines()[0]}")
    if len(result.refused) > 5:
        print(f"  ... and {len(result.refused) - 5} more")
    status = store.status()
    counts = status.groupby("resource", sort=False).agg(
        partitions=("path", "size"), rows=("rows", "sum"),
        open=("settled", lambda s: int((~s.fillna(False)).sum())))
    print(f"\n  {'resource':<24}{'partitions':>11}{'rows':>11}{'open':>7}")
    for name, row in counts.iterrows():
        print(f"  {name:<24}{row.partitions:>11,}{int(row.rows):>11,}{row.open:>7,}")
    return 0
