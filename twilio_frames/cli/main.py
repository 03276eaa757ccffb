"""The ``twilio-frames`` command line: a thin skin over the library.

Each subcommand is one ``add_<name>_command(subparsers)`` function that registers its
parser and sets ``func`` (called with the parsed ``argparse.Namespace``, returning the exit
code). To add a subcommand, write such a function and append it to ``COMMANDS``.
Library errors become a one-line message on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .commands import _positive_int, guarded, instant
from .report import add_demo_command, add_report_command
from .fetch import add_export_command, add_fetch_command
from .anomalies import add_anomalies_command
from .sync import add_sync_command
from .statements import add_statements_command
from ..errors import ConfigurationError, TwilioFramesError

__all__ = ["COMMANDS", "build_parser", "main"]


def _number(convert, low, high, what: str):
    """An argparse type: ``convert(text)`` within [low, high], else a message naming ``what``."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not (low is None or value >= low) or not (high is None or value <= high):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
        return value
    parse.__name__ = what      # argparse names the type in some messages
    return parse


_non_negative_float = _number(float, 0, None, "a number >= 0")
_rate = _number(float, 0, 1, "a probability in [0, 1]")
_int = _number(int, None, None, "a whole number")
_count = _number(int, 0, None, "a whole number >= 0")
_port = _number(int, 0, 65535, "a port 0..65535")


def _add_fault_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("faults (all off by default)")
    group.add_argument("--latency", type=_non_negative_float, default=0.0, metavar="SECONDS",
                       help="delay before every answer")
    group.add_argument("--jitter", type=_non_negative_float, default=0.0, metavar="SECONDS",
                       help="extra random delay, uniform in [0, SECONDS]")
    group.add_argument("--rate-429", type=_rate, default=0.0, metavar="P",
                       help="probability of a 429 / 20429 answer")
    group.add_argument("--concurrency-limit", type=_count, default=None, metavar="N",
                       help="429 / 20429 when more than N requests are in flight")
    group.add_argument("--retry-after", type=_count, default=None, metavar="SECONDS",
                       help="send Retry-After on 429 and 503 answers")
    group.add_argument("--rate-500", type=_rate, default=0.0, metavar="P",
                       help="probability of a 500 Internal Server Error answer")
    group.add_argument("--rate-503", type=_rate, default=0.0, metavar="P",
                       help="probability of a 503 Service Unavailable answer")
    group.add_argument("--rate-truncate", type=_rate, default=0.0, metavar="P",
                       help="probability of a body cut off half way")
    group.add_argument("--rate-drop", type=_rate, default=0.0, metavar="P",
                       help="probability of a connection closed without an answer")
    group.add_argument("--fault-seed", type=_int, default=0, metavar="SEED",
                       help="seed of the random faults, so a run can be repeated (default: 0)")


def _currency(text: str) -> str:
    from ..simulator.pricing import known_currencies
    known = known_currencies()
    if text.upper() not in known:
        raise argparse.ArgumentTypeError(f"unknown currency {text!r}; choose from "
                                         f"{', '.join(known)}")
    return text.upper()


def _run_sim(args: argparse.Namespace) -> int:
    from .. import simulator
    faults = simulator.Faults(
        latency=args.latency, jitter=args.jitter, rate_429=args.rate_429,
        concurrency_limit=args.concurrency_limit, retry_after=args.retry_after,
        rate_500=args.rate_500, rate_503=args.rate_503, rate_truncate=args.rate_truncate,
        rate_drop=args.rate_drop, seed=args.fault_seed)
    options = {"seed": args.seed, "subaccounts": args.subaccounts, "currency": args.currency,
               "attacks": args.attacks}
    for name in ("start", "days", "now", "closed_at"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    try:
        return simulator.serve(port=args.port, faults=faults, **options)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot serve on 127.0.0.1:{args.port}: "
                      f"{exc.strerror or exc}") from None
    except ValueError as exc:
        raise ConfigurationError(str(exc).splitlines()[0]) from None


SIM_EPILOG = """\
examples:
  twilio-frames sim                                # a free port, 90 days, 3 subaccounts
  twilio-frames sim --port 8099 --days 30 --currency EUR --now 2026-11-15T12:00Z
  twilio-frames sim --rate-429 0.2 --retry-after 1 --latency 0.05
  twilio-frames sim --start 2026-08-01 --now 2026-11-15T12:00Z   # the same account,
  twilio-frames sim --start 2026-08-01 --now 2026-11-17T12:00Z   # two days later

It prints export lines for TWILIO_API_BASE and throwaway credentials; paste them into
another shell and use the client or the other commands against it."""


def add_sim_command(subparsers) -> None:
    """``twilio-frames sim``: serve the simulator on 127.0.0.1 until Ctrl-C."""
    parser = subparsers.add_parser(
        "sim", help="serve a simulated Twilio account on 127.0.0.1",
        description="Serve the local Twilio API simulator and print its base URL and "
                    "(throwaway) credentials. Runs until Ctrl-C.", epilog=SIM_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=_port, default=0, help="port (default: a free one)")
    parser.add_argument("--seed", type=_int, default=0,
                        help="seed of the simulated account's data (default: 0)")
    history = parser.add_mutually_exclusive_group()
    history.add_argument("--start", type=instant, default=None, metavar="ISO",
                         help="first day of the account's history; with the same --seed "
                              "and --start, a later --now shows the same history plus what "
                              "happened since")
    history.add_argument("--days", type=_positive_int, default=None,
                         help="days of history before --now (default 90; --start = now - "
                              "days)")
    parser.add_argument("--subaccounts", type=_count, default=3,
                        help="subaccounts under the master account (default: 3)")
    parser.add_argument("--currency", type=_currency, default="USD",
                        help="account currency, e.g. EUR")
    parser.add_argument("--now", type=instant, default=None, metavar="ISO",
                        help="the simulated present, ISO 8601 (default: now, to the minute)")
    parser.add_argument("--attacks", type=_count, default=0, metavar="N",
                        help="inject N SMS-pumping and N toll-fraud episodes and an organic "
                             "campaign, 15-27 days after the start (needs 30 days or more)")
    parser.add_argument("--closed-at", type=instant, default=None, metavar="ISO",
                        help="close the last subaccount at this instant: 30 days later "
                             "its data is deleted and its lists answer 404")
    _add_fault_options(parser)
    parser.set_defaults(func=guarded(_run_sim))



#: One registration function per subcommand, in the order ``--help`` lists them.
COMMANDS: list[Callable] = [add_demo_command, add_report_command, add_fetch_command,
                            add_export_command, add_statements_command,
                            add_anomalies_command, add_sync_command, add_sim_command]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand of :data:`COMMANDS` registered."""
    from .. import __version__
    parser = argparse.ArgumentParser(
        prog="twilio-frames",
        description="Twilio account history as typed pandas DataFrames.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add_command in COMMANDS:
        add_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except TwilioFramesError as exc:
        print(f"twilio-frames: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
