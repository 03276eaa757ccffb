"""Planning a sync: what the store holds decides what to fetch (no network here).

Every (resource, account, period) is a partition (:mod:`.layout`). :func:`plan` walks
them over ``[start, end)`` and returns runs of consecutive periods of one (resource,
account) that are missing, open or unreadable (all of them with ``refresh``); settled
ones are counted as skipped. :func:`units` cuts a run into list requests of at most
``step`` periods; :func:`span_days` sizes ``step`` from how many rows one day held.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ..errors import ConfigurationError, StoreError
from ..fetch.units import Unit
from ..resources import RESOURCES
from . import ledger
from .layout import PERIOD, iter_partitions, partition_path, read_meta

__all__ = ["RESOURCE_ORDER", "SPAN_DAYS", "account_sids", "plan", "resources", "span_days",
           "sync_range", "units"]

#: Most consecutive days of one (resource, account) one list request covers.
SPAN_DAYS = 31

#: Resources a sync covers by default, in the order they are planned.
RESOURCE_ORDER = ("accounts", "incoming_phone_numbers", "calls", "messages", "recordings",
                  "usage_records")


def resources(resources) -> list[str]:
    """The resources to sync (None: all), in :data:`RESOURCE_ORDER`; unknown ones refused."""
    if resources is None:
        return list(RESOURCE_ORDER)
    names = [resources] if isinstance(resources, str) else list(resources)
    bad = [r for r in names if r not in RESOURCES]
    if bad or not names:
        raise ConfigurationError(f"unknown resources {bad or names}; expected some of: "
                                 f"{', '.join(RESOURCE_ORDER)}")
    return [r for r in RESOURCE_ORDER if r in names]


def account_sids(frame: pd.DataFrame, accounts) -> list[str]:
    """The SIDs to sync: every account of the Accounts list ``frame``, or those asked."""
    known = frame["sid"].dropna().tolist()
    if accounts is None or accounts == "all":
        return known
    sids = [accounts] if isinstance(accounts, str) else list(dict.fromkeys(accounts))
    bad = [s for s in sids if s not in known]
    if bad or not sids:
        raise ConfigurationError(f"accounts must be 'all' or SIDs the Accounts list shows "
                                 f"({', '.join(known)}); got {bad or sids}")
    return sids


def sync_range(root, names, start, end, now) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, end)`` of a sync: ``start`` defaults to the first period stored (the
    first sync needs it), ``end`` to the server's now."""
    end = end if end is not None else now
    if start is None:
        stored = _first_stored(root, names, "day") or _first_stored(root, names, "month")
        if not stored:
            raise ConfigurationError("the first sync of a store needs start= (the first "
                                     "day of history to keep)")
        start = pd.Timestamp(stored, tz="UTC")
    if not start < end:
        raise ConfigurationError(f"start {start} must be before end {end}")
    return start, end


def _first_stored(root, names, kind: str) -> dt.date | None:
    """The first period stored of the resources of ``kind`` (days before months: a
    month partition starts before the first day synced)."""
    stored = [p.period for r in names if PERIOD[r] == kind for p in iter_partitions(root, r)]
    return min(stored, default=None)


def plan(root, names, sids, start, end, refresh, result) -> list[tuple[str, str, list]]:
    """Runs of consecutive periods to fetch, ``(resource, sid, periods)``: every
    partition missing, open, unreadable, or all with refresh."""
    units = []
    for resource in names:
        if resource == "accounts":
            continue
        for sid in sids:
            run = []
            for period in ledger.periods(resource, start, end):
                if not refresh and _settled(root, resource, sid, period, result):
                    result.skipped += 1
                    units += [(resource, sid, run)] if run else []
                    run = []
                else:
                    run.append(period)
            units += [(resource, sid, run)] if run else []
    return units


def units(resource, sid, run, step) -> list[tuple[Unit, list]]:
    """Consecutive ``run`` of periods as units of at most ``step`` periods."""
    units = []
    for at in range(0, len(run), step):
        periods = run[at:at + step]
        lo, hi = ledger.period_span(resource, periods[0])[0], ledger.period_span(
            resource, periods[-1])[1]
        units.append((Unit(resource, sid, lo, hi), periods))
    return units


def _settled(root, resource, sid, period, result) -> bool:
    path = partition_path(root, resource, sid, period)
    if not path.exists():
        return False
    try:
        return bool(read_meta(path).get("settled"))
    except StoreError:
        result.repaired += 1          # unreadable: fetched again, replaced whole
        return False


def span_days(page_size: int, rows: int | None) -> int:
    """Days one list covers when a day held ``rows`` (None: unknown, one day)."""
    if rows is None:
        return 1
    return max(1, min(SPAN_DAYS, page_size // max(2 * rows, 1)))
