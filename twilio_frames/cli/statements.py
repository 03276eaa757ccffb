"""The ``statements`` subcommand: one month's customer statements from the API.

``twilio-frames statements --month 2026-10 [--rules rules.toml] --out DIR`` fetches the
accounts, every account's own monthly Usage Records (``IncludeSubaccounts=false``), the
master's with ``IncludeSubaccounts=true`` for the cross-check, and the month's calls and
messages for the detail, then writes the statements folder
(:func:`twilio_frames.write_statements`) and prints one line per customer. With
``--store DIR`` it reads the month's daily Usage Records, accounts, calls and messages
from a store made by ``twilio-frames sync`` instead (no network, no credentials); a store
holds no ``IncludeSubaccounts=true`` totals, so the master cross-check is skipped and
stderr says so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import textwrap
import warnings

from ..errors import ConfigurationError
from .commands import (PROG, _accounts, _add_output_options, _add_source_options, _client,
                       _parser, guarded, text_table)

__all__ = ["add_statements_command"]

EPILOG = f"""\
examples:
  {PROG} statements --month 2026-10 --out statements-2026-10
  {PROG} statements --month 2026-10 --rules rules.toml --issuer "Northwind Reselling Ltd" \\
      --out statements-2026-10
  {PROG} statements --month 2026-10 --store history --out statements-2026-10

rules.toml (markup; amounts in each statement's currency):
  minimum = "25.00"
  [default]
  percent = 20
  ["phonenumbers*"]
  percent = 0
  per_unit = "1.00"

Without --rules Twilio's cost is passed through. A month that is not over yet is marked
PROVISIONAL on every statement. With --store the statements come from the store's daily
Usage Records, and the master cross-check (which needs the master's
IncludeSubaccounts=true totals, which a store does not keep) is skipped."""


def _month(text: str) -> dt.date:
    """``2026-10`` -> 2026-10-01; exactly four and two digits, a month that has a next."""
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}", text):
            raise ValueError(text)
        start = dt.datetime.strptime(text, "%Y-%m").date()
        _next_month(start)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"expected a month YYYY-MM, got {text!r}") from None
    return start


def _next_month(start: dt.date) -> dt.date:
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def add_statements_command(subparsers) -> None:
    """``twilio-frames statements``: customer statements for one month."""
    parser = _parser(subparsers, "statements", help="write each customer's monthly "
                     "statement (the whole bill, with markup)", description="Fetch one "
                     "month's Usage Records of the master and every subaccount and write, "
                     "per customer, a CSV and a printable HTML statement, plus an "
                     "all-customers CSV.", epilog=EPILOG)
    parser.add_argument("--month", type=_month, required=True, metavar="YYYY-MM",
                        help="the UTC calendar month")
    parser.add_argument("--rules", metavar="FILE", default=None,
                        help="markup rules, a TOML file (default: pass the cost through)")
    parser.add_argument("--issuer", default="Your provider", metavar="NAME",
                        help="our name, at the top of every statement")
    parser.add_argument("--rounding", choices=("line", "statement"), default="line",
                        help="round half-up per line (default) or once per statement")
    parser.add_argument("--show-cost", action="store_true",
                        help="also show Twilio's cost on the customers' statements")
    _add_source_options(parser)
    _add_output_options(parser, what="folder", default=None)
    parser.set_defaults(func=guarded(run_statements))


def run_statements(args: argparse.Namespace) -> int:
    from ..analysis.coverage import PartialDetailWarning
    from ..analysis.rules import load_rules
    from ..analysis.statement_checks import master_check
    from ..analysis.statements import statements
    from ..output.outputs import check_output
    from ..output.statements import STATEMENTS_MARKER, write_statements
    rules = load_rules(args.rules)                        # bad rules: before any fetch
    check_output(args.out, folder=True, overwrite=args.overwrite, marker=STATEMENTS_MARKER)
    start = args.month
    end = _next_month(start)
    store = args.store
    with _client(args) as client:
        accounts = client.accounts()
        sids = accounts["sid"].tolist() if _accounts(args.accounts) == "all" else \
            args.accounts
        if store:
            _require_store_month(store, start, end, sids)
        usage = client.usage_records("daily" if store else "monthly", start=start, end=end,
                                     accounts=sids)
        if not len(usage):
            raise ConfigurationError(f"no Usage Records for {start:%Y-%m} in the "
                                     f"{len(sids)} account(s): no statements to write")
        master = None if store else client.usage_records(
            "monthly", start=start, end=end, include_subaccounts=True)
        lists = {name: getattr(client, name)(start, end, accounts=sids)
                 for name in ("calls", "messages")}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PartialDetailWarning)
        st = statements(usage, accounts=accounts, rules=rules, rounding=args.rounding,
                        **lists)
    for w in caught:        # a store synced from mid-month: say so in one line
        if issubclass(w.category, PartialDetailWarning):
            print(f"warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    paths = write_statements(args.out, st, issuer=args.issuer, show_cost=args.show_cost,
                             overwrite=args.overwrite)
    check = None if store else master_check(
        usage, master, accounts=accounts if args.accounts == ["all"] else None)
    if store:
        print(SKIPPED, file=sys.stderr)
    _print_summary(st, check, paths[0].parent, start)
    return 0


SKIPPED = ("Master cross-check skipped: it needs the master's IncludeSubaccounts=true "
           "totals, which a store does not keep.")


def _require_store_month(path, start: dt.date, end: dt.date, sids) -> None:
    """A month with no usage partitions in the store is an error, before anything is
    written (the store would give an empty or partial frame)."""
    from ..store.read import select
    if not select(path, "usage_records", start, end, accounts=sids):
        raise ConfigurationError(f"the store {path} holds no usage records for "
                                 f"{start:%Y-%m}: sync that month into it first "
                                 f"('twilio-frames sync {path} --start {start}')")


def _print_summary(st, check, folder, month: dt.date) -> None:
    from ..output.report.build import money_text
    from ..money import micros_to_decimal
    per = st.groupby(["account_sid", "friendly_name", "currency"], sort=False).agg(
        cost=("cost_micros", "sum"), charge=("charge_micros", "sum"),
        provisional=("provisional", "any")).reset_index()
    rows = [[r.friendly_name or r.account_sid, r.currency,
             money_text(micros_to_decimal(r.cost), r.currency),
             money_text(micros_to_decimal(r.charge), r.currency),
             "provisional" if r.provisional else "final"] for r in per.itertuples()]
    print(f"\nStatements for {month:%Y-%m}: {folder.resolve()}\n")
    print("\n".join("  " + x for x in text_table(
        rows, ["customer", "currency", "Twilio cost", "charge", "status"], right={2, 3})))
    if check is None:
        print("\n" + textwrap.fill(SKIPPED, 88, initial_indent="  ", subsequent_indent="  "))
        return
    gaps = check[check["status"] == "gap"]
    if not len(gaps):
        print("\n  Master cross-check: every account's own usage adds up to the master's "
              "IncludeSubaccounts=true totals.")
        return
    cats = ", ".join(sorted(set(gaps["category"]))[:8])
    missing = gaps["missing_accounts"].iloc[0]
    print(textwrap.fill(
        f"Master cross-check: a GAP in {len(gaps)} category-months ({cats})"
        + (f"; subaccounts without usage: {missing}" if missing else "")
        + ". The statements do not add up to what Twilio bills the master.", 88,
        initial_indent="  ", subsequent_indent="  "))
