"""Option types shared by the subcommands: each checks its text and raises argparse's
``ArgumentTypeError`` (a usage error, exit 2) with what was expected."""

from __future__ import annotations

import argparse
import datetime as dt

from ..errors import ConfigurationError

__all__ = ["instant", "time_zone"]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def instant(text: str) -> str:
    """An ISO 8601 date or time (``2026-11-27``, ``2026-11-27T12:00Z``); returned as given."""
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time such as 2026-11-27T12:00Z, got {text!r}") from None
    return text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def time_zone(text: str) -> str:
    """An IANA time zone name (``Europe/Paris``), checked; returned as given."""
    from ..analysis.summaries import check_tz
    try:
        return check_tz(text)
    except ConfigurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_tz_option(parser) -> None:
    parser.add_argument("--tz", type=time_zone, default="UTC", metavar="ZONE",
                        help="IANA time zone of the activity charts, e.g. Europe/Paris "
                             "(default: UTC); costs and reconciliation stay in UTC days, "
                             "as Twilio bills")
