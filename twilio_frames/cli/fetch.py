"""The ``fetch`` and ``export`` subcommands: one resource to a file, or a billing CSV.

Shares option types, error handling and client creation with
:mod:`twilio_frames.cli.commands`; every file is written under a temporary name and moved
into place, so Ctrl-C or an error never leaves half a file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..resources import USAGE_SUBRESOURCES
from .commands import (PROG, _accounts, _add_output_options, _add_source_options,
                           _client, _date, _parser, _range, guarded, usage_error)
from ..output.formats import table_format
from ..output.outputs import check_output

__all__ = ["add_export_command", "add_fetch_command"]

RESOURCE_NAMES = ("calls", "messages", "recordings", "usage_records", "accounts",
                  "incoming_phone_numbers")


def _resource(text: str) -> str:
    name = text.replace("-", "_").lower()
    if name not in RESOURCE_NAMES:
        raise argparse.ArgumentTypeError(
            f"unknown resource {text!r}; choose from {', '.join(RESOURCE_NAMES)}")
    return name


FETCH_EPILOG = f"""\
examples:
  {PROG} fetch calls --start 2026-10-01 --end 2026-11-01 --out calls-october.csv
  {PROG} fetch messages --start 2026-10-01 --end 2026-10-08 --out messages.parquet
  {PROG} fetch usage_records --subresource daily --start 2026-10-01 --end 2026-11-01 \\
      --out usage.jsonl

The file type follows the extension: .csv (exact money, ISO 8601 UTC times, cells that
would run as a spreadsheet formula prefixed with a quote), .jsonl (one JSON object per
line) or .parquet (needs pyarrow: pip install 'twilio-frames[parquet]'). Times are UTC;
--end is exclusive."""

EXPORT_EPILOG = f"""\
examples:
  {PROG} export billing --start 2026-10-01 --end 2026-11-01 --out billing-october.csv
  {PROG} export billing --start 2026-10-01 --end 2026-11-01 --freq D --by our_number \\
      --out billing-per-number.csv
  {PROG} export line-items --resource calls --start 2026-10-01 --end 2026-11-01 \\
      --out call-line-items.csv

billing: per period and account the whole bill, adding up to the account's totalprice:
  the products the lists price (source "lists"), then what only daily Usage Records see,
  asked per account with IncludeSubaccounts=false (source "usage_records": phone numbers,
  recording storage, other categories) and any "difference" between the two. With --by
  another column (our_number), the lists' products only.
line-items: one row per call, message or recording with its billing columns.
The file type follows the extension: .csv, .jsonl or .parquet (money exact in each);
any other extension is refused before anything is fetched."""


def _add_range(parser, *, required: bool) -> None:
    parser.add_argument("--start", type=_date, required=required, metavar="YYYY-MM-DD",
                        help="first UTC day")
    parser.add_argument("--end", type=_date, required=required, metavar="YYYY-MM-DD",
                        help="UTC day after the last one (exclusive)")


def add_fetch_command(subparsers) -> None:
    """``twilio-frames fetch``: one resource to a CSV, JSON Lines or Parquet file."""
    parser = _parser(subparsers, "fetch", help="fetch one resource into a .csv, .jsonl or "
                     ".parquet file", description="Fetch one list resource as a typed "
                     "table and write it to a file.", epilog=FETCH_EPILOG)
    parser.add_argument("resource", type=_resource, metavar="RESOURCE",
                        help=", ".join(RESOURCE_NAMES))
    _add_range(parser, required=False)
    parser.add_argument("--subresource", default=None, metavar="NAME",
                        choices=list(USAGE_SUBRESOURCES),
                        help="usage_records only: " + ", ".join(USAGE_SUBRESOURCES))
    _add_source_options(parser)
    _add_output_options(parser, what="file", default=None)
    parser.set_defaults(func=guarded(run_fetch))


def _check_fetch_args(args) -> None:
    """Options that do not fit together are usage errors (exit 2), found before fetching."""
    _range(args)
    name = args.resource
    if args.subresource and name != "usage_records":
        usage_error(args, "--subresource applies to usage_records only")
    if name in ("accounts", "incoming_phone_numbers") and (args.start or args.end):
        usage_error(args, f"{name} has no date filter; drop --start/--end")
    if name == "accounts" and args.accounts is not None:
        usage_error(args, "accounts lists the account and all its subaccounts; "
                          "drop --accounts")


def _fetch_frame(client, args):
    name, (start, end) = args.resource, _range(args)
    accounts = _accounts(args.accounts)
    if name == "usage_records":
        return client.usage_records(args.subresource, start=start, end=end,
                                    accounts=accounts)
    if name in ("accounts", "incoming_phone_numbers"):
        return (client.accounts() if name == "accounts"
                else client.incoming_phone_numbers(accounts=accounts))
    return getattr(client, name)(start, end, accounts=accounts)


def run_fetch(args: argparse.Namespace) -> int:
    _check_fetch_args(args)
    from ..output.export import write_frame_csv
    out = Path(args.out)
    table_format(out)
    check_output(out, folder=False, overwrite=args.overwrite)
    with _client(args) as client:
        frame = _fetch_frame(client, args)
    write_frame_csv(frame, out, overwrite=args.overwrite)
    print(f"Wrote {len(frame):,} {args.resource} rows ({len(frame.columns)} columns) to {out}")
    return 0


def _refuse(parser, options: tuple[str, ...], owner: str) -> None:
    """Options of a sibling command, given here: a usage error that says where they
    belong (argparse alone would say only 'unrecognized arguments')."""
    class NotHere(argparse.Action):
        def __call__(self, parser, namespace, values, option_string=None):
            parser.error(f"{option_string} applies to '{PROG} {owner}' only")
    for option in options:
        parser.add_argument(option, action=NotHere, nargs="?", help=argparse.SUPPRESS)


def add_export_command(subparsers) -> None:
    """``twilio-frames export billing|line-items``: each kind takes only its own options,
    so ``export line-items --freq D`` is a usage error, not silently ignored."""
    parser = _parser(subparsers, "export", help="write the billing or line-items file "
                     "(.csv, .jsonl, .parquet)", description="Fetch calls, messages and "
                     "recordings (and for billing per account daily Usage Records) for "
                     "[--start, --end) and write a billing or line-items file (exact "
                     "money, UTC dates).", epilog=EXPORT_EPILOG)
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    billing = _parser(kinds, "billing", help="each account's whole bill per period "
                      "(lists and Usage Records)", description="Each account's whole bill "
                      "per UTC period, adding up to its totalprice: the lists' products, "
                      "then what only Usage Records see (with --by another column: the "
                      "lists' products only).", epilog=EXPORT_EPILOG)
    _add_range(billing, required=True)
    billing.add_argument("--freq", choices=("D", "W", "M"), default="M",
                         help="period length, day/week/month (default: M)")
    billing.add_argument("--by", default="account_sid", metavar="COLUMN",
                         help="grouping column (default: account_sid; e.g. our_number)")
    items = _parser(kinds, "line-items", help="one row per call, message or recording",
                    description="One row per call, message or recording with its billing "
                    "columns.", epilog=EXPORT_EPILOG)
    _add_range(items, required=True)
    items.add_argument("--resource", choices=("calls", "messages", "recordings"),
                       default="calls", help="which resource (default: calls)")
    _refuse(items, ("--freq", "--by"), "export billing")
    _refuse(billing, ("--resource",), "export line-items")
    for kind in (billing, items):
        _add_source_options(kind)
        _add_output_options(kind, what="file", default=None)
        kind.set_defaults(func=guarded(run_export))


def run_export(args: argparse.Namespace) -> int:
    from ..output.export import write_billing_csv, write_line_items_csv
    start, end = _range(args)
    table_format(args.out)
    check_output(args.out, folder=False, overwrite=args.overwrite)
    accounts = _accounts(args.accounts)
    with _client(args) as client:
        if args.kind == "line-items":
            frame = getattr(client, args.resource)(start, end, accounts=accounts)
            write_line_items_csv(frame, args.out, overwrite=args.overwrite)
            what = f"{len(frame):,} {args.resource} line items"
        else:
            what = _export_billing(client, args, start, end, accounts, write_billing_csv)
    print(f"Wrote {what} to {args.out}")
    return 0


def _export_billing(client, args, start, end, accounts, write_billing_csv) -> str:
    """billing.csv: per account the whole bill (the lists' products, then what only
    Usage Records see, asked per account with IncludeSubaccounts=false, so each account
    and period adds up to its totalprice); per --by other than account_sid, the lists'
    products only (Usage Records know accounts, not numbers)."""
    frames = {name: getattr(client, name)(start, end, accounts=accounts)
              for name in ("calls", "messages", "recordings")}
    whole = args.by == "account_sid"
    if whole:
        frames["usage"] = client.usage_records("daily", start=start, end=end,
                                               accounts=accounts)
    write_billing_csv(args.out, **frames, freq=args.freq, by=args.by, start=start, end=end,
                      overwrite=args.overwrite)
    counts = ", ".join(f"{len(f):,} {'usage records' if n == 'usage' else n}"
                       for n, f in frames.items())
    return (f"the whole bill per account ({counts}; source says lists or Usage Records)"
            if whole else f"list products per {args.by} ({counts}; Usage Records are per "
            "account, so phone numbers and other categories are not in it)")
