"""The ledger rules: which periods a sync covers, and when a partition is settled.

A day (a month for daily usage records) is *open* until it ended more than ``settle``
ago (default 48 h: Twilio's BulkExport exports only days that ended two days before
today, reference/sync-and-scale.md §1) **and** holds no row that may still change:

* calls: status ``queued``, ``ringing`` or ``in-progress``, or ``completed`` without a
  price yet (the spec: price "may not be immediately available");
* messages: status ``queued``, ``sending``, ``accepted``, ``scheduled`` or
  ``receiving``, or a charged status (``sent``, ``delivered``, ``undelivered``,
  ``received``) without a price yet (a price may take "up to 24 hours in rare cases");
  ``failed`` messages are final (fee-exempt errors never get a price);
* recordings: status ``in-progress``, ``paused`` or ``processing``, or ``completed``
  without a price yet.

Accounts and phone numbers have no date: they are read again on every sync. "Now" is the
server's clock (its HTTP ``Date``), so a store judges days as the API sees them.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ..errors import ConfigurationError
from .layout import PERIOD

__all__ = ["OPEN_STATUSES", "CHARGED_STATUSES", "parse_settle", "periods", "period_span",
           "judge"]

#: Per resource: statuses of rows that will still change.
OPEN_STATUSES = {
    "calls": ("queued", "ringing", "in-progress"),
    "messages": ("queued", "sending", "accepted", "scheduled", "receiving"),
    "recordings": ("in-progress", "paused", "processing"),
}
#: Per resource: statuses whose rows get a price (a missing one is still to come).
CHARGED_STATUSES = {
    "calls": ("completed",),
    "messages": ("sent", "delivered", "undelivered", "received"),
    "recordings": ("completed",),
}


def parse_settle(settle) -> pd.Timedelta:
    """``settle`` ("48h", a Timedelta) as a non-negative Timedelta."""
    try:
        value = pd.Timedelta(settle)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"settle={settle!r} is not a duration: {exc}") from None
    if value is pd.NaT or value < pd.Timedelta(0):
        raise ConfigurationError(f"settle={settle!r} must be a duration of zero or more")
    return value


def periods(resource: str, start: pd.Timestamp, end: pd.Timestamp) -> list[dt.date]:
    """The days (or months' first days) of ``resource`` that touch ``[start, end)``."""
    kind = PERIOD[resource]
    if kind not in ("day", "month"):
        return [None]
    first, last = start.normalize(), end - pd.Timedelta(microseconds=1)
    if kind == "day":
        return [d.date() for d in pd.date_range(first, last.normalize(), freq="D")]
    months = pd.period_range(first.tz_localize(None), last.tz_localize(None), freq="M")
    return [m.start_time.date() for m in months]


def period_span(resource: str, period: dt.date | None) -> tuple[pd.Timestamp | None,
                                                                pd.Timestamp | None]:
    """The half-open UTC interval a period covers ((None, None) without a period)."""
    if period is None:
        return None, None
    start = pd.Timestamp(period, tz="UTC")
    step = pd.DateOffset(months=1) if PERIOD[resource] == "month" else pd.Timedelta(days=1)
    return start, start + step


def judge(resource: str, period: dt.date | None, frame: pd.DataFrame, *,
          now: pd.Timestamp, settle: pd.Timedelta) -> tuple[bool, str]:
    """(settled, why) of a partition just fetched at the server's ``now``."""
    if period is None:
        return False, "no date: read again on every sync"
    _, end = period_span(resource, period)
    what = "month" if PERIOD[resource] == "month" else "day"
    if end > now:
        return False, f"the {what} is not over (server time {now:%Y-%m-%d %H:%M} UTC)"
    if end + settle > now:
        hours = (now - end) / pd.Timedelta(hours=1)
        return False, f"the {what} ended {hours:.0f}h ago, less than settle={_text(settle)}"
    changing = _changing(resource, frame)
    if changing:
        return False, changing
    return True, f"ended at least {_text(settle)} ago; every row final"


def _changing(resource: str, frame: pd.DataFrame) -> str:
    """Why rows of ``frame`` may still change ("" when none may)."""
    if resource not in OPEN_STATUSES or not len(frame):
        return ""
    status = frame["status"].astype("str")
    live = int(status.isin(OPEN_STATUSES[resource]).sum())
    unpriced = int((status.isin(CHARGED_STATUSES[resource]) & frame["price_micros"].isna()).sum())
    parts = []
    if live:
        parts.append(f"{live} {resource} not final ({'/'.join(OPEN_STATUSES[resource])})")
    if unpriced:
        parts.append(f"{unpriced} {resource} not priced yet")
    return "; ".join(parts)


def _text(delta: pd.Timedelta) -> str:
    hours = delta / pd.Timedelta(hours=1)
    return f"{hours:g}h"
