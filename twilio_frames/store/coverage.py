"""Which asked days a store frame holds, when it does not hold them all.

A store holds the days it was synced: ``store.frame("calls", "2026-10-01", "2026-11-01")``
on a store synced from 2026-10-15 returns half a month, which a client fetch of the same
range would not. :func:`stored_days` says so: for calls, messages and recordings, when an
asked account has no partition for an asked day up to the store's last synced day, the
frame's ``attrs["stored_days"]`` maps every asked account to the spans of days it holds,
``[[first, last], ...]`` (ISO dates, both included). Frames that hold every asked day
carry no such key, so they stay equal to a client's frame, ``attrs`` included.
"""

from __future__ import annotations

import datetime as dt

from . import ledger
from .layout import PERIOD, Partition, iter_partitions

__all__ = ["stored_days", "spans"]


def spans(days: list[dt.date]) -> list[list[str]]:
    """Sorted days as runs of consecutive days, ``[[first, last], ...]`` in ISO form."""
    out: list[list[dt.date]] = []
    for day in sorted(days):
        if out and day - out[-1][1] == dt.timedelta(days=1):
            out[-1][1] = day
        else:
            out.append([day, day])
    return [[a.isoformat(), b.isoformat()] for a, b in out]


def stored_days(root, resource: str, parts: list[Partition], start, end,
                accounts: list[str]) -> dict | None:
    """``{account_sid: spans}`` when some of ``accounts`` lacks an asked day, else None.

    The asked days are those of ``[start, end)`` up to the store's last synced day of
    ``resource`` (a later day is not missing, it was not over or not synced yet).
    ``start`` None asks from the first stored day.
    """
    if PERIOD[resource] != "day":
        return None
    last = max((p.period for p in iter_partitions(root, resource)), default=None)
    if last is None or start is None or not accounts:
        return None
    horizon = min(end, ledger.period_span(resource, last)[1]) if end is not None else \
        ledger.period_span(resource, last)[1]
    if not start < horizon:
        return None
    asked = set(ledger.periods(resource, start, horizon))
    held = {sid: set() for sid in accounts}
    for p in parts:
        if p.account_sid in held and p.period in asked:
            held[p.account_sid].add(p.period)
    if all(days == asked for days in held.values()):
        return None
    return {sid: spans(list(days)) for sid, days in held.items()}
