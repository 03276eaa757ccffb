"""Dates and durations a person types: read strictly, refused clearly, no pandas warning.

``pd.Timestamp("Nov 1")`` is year 1 (then ``OutOfBoundsDatetime``) and
``pd.Timedelta("1H")`` warns that ``'H'`` is deprecated, so neither reads user input
directly. A date or time is accepted only in a form with one meaning:

* an ISO 8601 date or date-time string: ``2026-11-01``, ``2026-11-01T12:00``,
  ``2026-11-01 12:00:00``, ``2026-11-01T12:00:00Z``, ``2026-11-01T12:00+01:00``
  (what :meth:`datetime.datetime.fromisoformat` reads; no offset means UTC);
* a :class:`datetime.date`, :class:`datetime.datetime`, :class:`pandas.Timestamp` or
  :class:`numpy.datetime64` (naive means UTC).

Numbers are refused (seconds or nanoseconds since 1970?), and so are ``"Nov 1"``,
``"1/11/2026"`` (1 November or 11 January?), ``"2026-11"`` and ``"today"``.

A duration (``window=``) is a :class:`datetime.timedelta`, :class:`pandas.Timedelta`,
an ISO 8601 duration (``P1D``, ``PT6H``) or a count and unit such as ``"7D"``,
``"36h"``, ``"90min"``, ``"1h30m"``, ``"2 days"`` (units ``w``, ``d``, ``h``, ``m``/``min``,
``s``, any case, and their English words). ``M`` alone is refused (month or minute?).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigurationError

__all__ = ["in_interval", "to_utc", "parse_duration", "DATE_FORMS", "DURATION_FORMS"]

#: What an error about a date says is accepted.
DATE_FORMS = ("an ISO 8601 date or date-time ('2026-11-01', '2026-11-01T12:00', "
              "'2026-11-01T12:00:00Z', '2026-11-01T12:00+01:00'; no offset means UTC), "
              "or a datetime.date, datetime.datetime or pandas.Timestamp")
#: What an error about a duration says is accepted.
DURATION_FORMS = ("a count and unit ('7D', '36h', '90min', '1h30m', '2 days'; units w, d, h, "
                  "min, s), an ISO 8601 duration ('P1D', 'PT6H'), or a datetime.timedelta "
                  "or pandas.Timedelta")


def to_utc(value: Any, *, name: str = "date") -> pd.Timestamp | None:
    """An unambiguous date or time -> tz-aware UTC Timestamp; naive means UTC.

    ``name`` (``"start"``, ``"end"``...) is what a :class:`ConfigurationError` calls
    the value; the error quotes it and lists the accepted forms (module doc).
    """
    if value is None:
        return None
    moment = _moment(value, name)
    ts = pd.Timestamp(moment)
    if ts is pd.NaT:
        raise ConfigurationError(f"{name}={value!r} is not a date or time; expected {DATE_FORMS}")
    try:                      # frames hold nanosecond-range timestamps: years 1678-2261
        ts.as_unit("ns")
    except (ValueError, OverflowError):      # OutOfBoundsDatetime is a ValueError
        raise ConfigurationError(f"{name}={value!r} is outside the dates pandas can hold "
                                 "(years 1678-2261)") from None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _moment(value: Any, name: str) -> Any:
    """The value as something pandas reads with one meaning, or a ConfigurationError."""
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date, np.datetime64)):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigurationError(f"{name}={value!r} is not an unambiguous date or time; "
                             f"expected {DATE_FORMS}")


_UNITS = {"w": "weeks", "week": "weeks", "weeks": "weeks",
          "d": "days", "day": "days", "days": "days",
          "h": "hours", "hr": "hours", "hrs": "hours", "hour": "hours", "hours": "hours",
          "m": "minutes", "min": "minutes", "mins": "minutes", "minute": "minutes",
          "minutes": "minutes",
          "s": "seconds", "sec": "seconds", "secs": "seconds", "second": "seconds",
          "seconds": "seconds"}
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*")


def parse_duration(value: Any, *, name: str = "window") -> pd.Timedelta:
    """A positive duration a person typed (module doc) -> :class:`pandas.Timedelta`."""
    if isinstance(value, (pd.Timedelta, dt.timedelta, np.timedelta64)) and not pd.isna(value):
        step = pd.Timedelta(value)
    elif isinstance(value, str) and value.strip():
        step = _duration_text(value, name)
    else:
        raise ConfigurationError(f"{name}={value!r} is not a duration; expected {DURATION_FORMS}")
    if step <= pd.Timedelta(0):
        raise ConfigurationError(f"{name}={value!r} must be positive")
    return step


def _duration_text(value: str, name: str) -> pd.Timedelta:
    text = value.strip()
    if text[:1] in "pP":
        try:
            with warnings.catch_warnings():     # pandas' own message is not ours to show
                warnings.simplefilter("ignore")
                return pd.Timedelta(text.upper())
        except ValueError:
            pass
    else:
        parts, pos, total = [], 0, pd.Timedelta(0)
        for match in _PART.finditer(text):
            if match.start() != pos:
                break
            parts.append(match.groups())
            pos = match.end()
        if parts and pos == len(text):
            for count, unit in parts:
                key = _UNITS.get(unit if unit == "M" else unit.lower())
                if key is None:
                    raise ConfigurationError(f"{name}={value!r}: unknown or ambiguous unit "
                                             f"{unit!r}; expected {DURATION_FORMS}")
                total += pd.Timedelta(**{key: float(count)})
            return total
    raise ConfigurationError(f"{name}={value!r} is not a duration; expected {DURATION_FORMS}")


def in_interval(value, start, end, resource) -> bool:
    """A record's RFC 2822 ``value`` (its resource's date field) lies in ``[start, end)``;
    always True without bounds or for a resource without a date filter."""
    if start is None and end is None or resource not in ("calls", "messages", "recordings"):
        return True
    if not value:
        return False
    when = pd.Timestamp(email.utils.parsedate_to_datetime(value)).tz_convert("UTC")
    return (start is None or when >= start) and (end is None or when < end)
