"""The helpers every command of ours shares: one-line errors, option groups, the client
from the environment, aligned text tables. The commands live beside it (``demo`` and
``report`` in :mod:`twilio_frames.cli.report`, ``fetch`` and ``export`` in
:mod:`twilio_frames.cli.fetch`, ``statements``); :mod:`twilio_frames.cli.main` registers them.

Each command is a thin skin: parse options, call the library, print a short summary.
Errors are one line on stderr (exit 1; argparse usage errors exit 2); Ctrl-C exits 130
and leaves nothing half-written, because every output is written under a temporary name
and moved into place at the end (:mod:`twilio_frames.output.outputs`). Credentials are
never printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import sys
import textwrap

from ..errors import (AuthenticationError, ConfigurationError, TransportError,
                     TwilioFramesError)
from .options import _date, _positive_int, instant, time_zone  # noqa: F401 (re-exported)

__all__ = ["guarded", "instant", "text_table", "time_zone",
           "usage_error"]   # instant, time_zone: from .options

PROG = "twilio-frames"
NO_CREDENTIALS = (
    "no Twilio credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or "
    "TWILIO_ACCOUNT_SID, TWILIO_API_KEY and TWILIO_API_SECRET) in the environment; "
    f"'{PROG} demo' needs none")


AUTH_HINT = ("check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or "
             "TWILIO_API_KEY/TWILIO_API_SECRET")


def _say(text: str = "") -> None:
    print(text, file=sys.stderr, flush=True)


def _fail(text: str) -> int:
    print(f"{PROG}: error: {text}", file=sys.stderr, flush=True)
    return 1


def guarded(command):
    """Turn library and file errors into one line on stderr; Ctrl-C into exit 130."""
    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except KeyboardInterrupt:
            print(f"\n{PROG}: interrupted; no partial output was left behind",
                  file=sys.stderr, flush=True)
            return 130
        except FileExistsError as exc:
            hint = "" if getattr(args, "overwrite", False) else "; pass --overwrite to replace it"
            text = f"{exc.strerror}: {exc.filename}" if exc.filename else str(exc)
            return _fail(f"{text}{hint}")
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            return _fail(f"{exc.strerror or exc}{where}")
        except TransportError as exc:
            return _fail(f"{str(exc).splitlines()[0]} (is the base URL right and reachable?)")
        except AuthenticationError as exc:
            return _fail(f"{str(exc).splitlines()[0]} ({AUTH_HINT})")
        except TwilioFramesError as exc:
            return _fail(str(exc).splitlines()[0])
    return run


def _parser(subparsers, name: str, *, help: str, description: str, epilog: str):
    parser = subparsers.add_parser(name, help=help,
                                   description=textwrap.fill(description, 79), epilog=epilog,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(parser=parser)
    return parser


def usage_error(args, text: str):
    """Options that parse but do not fit together: argparse's usage line, exit 2."""
    args.parser.error(text)


def _add_source_options(parser, *, accounts: bool = True, store: bool = True) -> None:
    group = parser.add_argument_group("where the data comes from")
    group.add_argument("--format", choices=("json", "xml"), default="json",
                       help="wire format of the API pages (default: json, as tf.Client; xml, "
                            "the API's own default, gives identical frames)")
    group.add_argument("--base-url", metavar="URL", default=None,
                       help="API root (default: $TWILIO_API_BASE or https://api.twilio.com)")
    group.add_argument("--max-retries", type=int, default=6, metavar="N",
                       help="retries after a failed request: connection errors, 429, 5xx "
                            "(default: 6)")
    if store:
        group.add_argument("--store", metavar="DIR", default=None,
                           help="read from a store made by 'twilio-frames sync' instead of "
                                "the API: no network, no credentials")
    if accounts:
        group.add_argument("--accounts", nargs="+", default=None, metavar="SID",
                           help="'all' (default: the account and every subaccount) or "
                                "account SIDs")


def _add_output_options(parser, *, what: str, default: str | None) -> None:
    group = parser.add_argument_group("output")
    group.add_argument("--out", metavar=what.upper(), default=default, required=default is None,
                       help=f"the {what} to write" + (f" (default: {default})" if default else ""))
    group.add_argument("--overwrite", action="store_true",
                       help=f"replace an existing {what} (only once the new one is complete"
                            + ("; only an empty folder or an earlier report)" if what == "folder"
                               else ")"))
    group.add_argument("--quiet", action="store_true", help="no progress output")


def _accounts(values: list[str] | None):
    return "all" if values in (None, ["all"]) else values


def _client(args, **options):
    """A Client from the environment (missing credentials give the one-line hint), or
    with ``--store DIR`` the store standing in for one."""
    if getattr(args, "store", None):
        from ..store.source import StoreSource
        return StoreSource(args.store)
    from ..fetch.client import Client
    env = os.environ
    has_secret = env.get("TWILIO_AUTH_TOKEN") or (env.get("TWILIO_API_KEY")
                                                  and env.get("TWILIO_API_SECRET"))
    if not (env.get("TWILIO_ACCOUNT_SID") and has_secret):
        raise ConfigurationError(NO_CREDENTIALS)
    return Client(base_url=args.base_url, format=args.format, max_retries=args.max_retries,
                  progress=False if args.quiet else None, **options)


def _range(args) -> tuple[dt.date, dt.date]:
    if args.start is not None and args.end is not None and not args.start < args.end:
        usage_error(args, f"--start {args.start} must be before --end {args.end}")
    return args.start, args.end


# ---------------------------------------------------------------- summary printing

def text_table(rows: list[list[str]], header: list[str], *, right: set[int]) -> list[str]:
    """Aligned plain-text table lines (columns in ``right`` are right-aligned)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return [line(header), "  ".join("-" * w for w in widths), *[line(r) for r in rows]]
