"""Sync: fetch what a store is missing and what is still open, one partition at a time.

Every (resource, account, period) is a partition. Consecutive missing days of one
(resource, account) are fetched as one date-filtered list on the client's one page
scheduler (:func:`twilio_frames.fetch.units.fetch_units`) and cut by UTC day into
exactly what each day's own list gives (:func:`~twilio_frames.fetch.units.split_unit`).
The first day of each run is fetched alone: its rows size the lists of the rest (about
one page each, at most :data:`~.sync_plan.SPAN_DAYS` days; a list that proves denser follows its
pages). Each day's frame is written as soon as its list's last page arrives, replacing
its partition whole and atomically (:func:`~twilio_frames.store.layout.write_partition`).
A sync killed at any moment
leaves every partition old or new, and the next sync fetches only what is missing or
open. A lock file (``<root>/twilio-frames-store.lock``, ``flock``) keeps two syncs of one store from
interleaving: the second is refused with a message naming the holder.

A unit the API no longer serves (Messages older than 400 days: 400 / 20004; an account
deleted after closure: 404 / 20404) never touches what the store holds; the result
lists it. Credentials never reach the store: only frames and the facts of the fetch.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..fetch.paging import to_utc
from ..fetch.units import Unit, fetch_units, split_unit
from . import ledger, sync_plan
from .lock import clean_leftovers, store_lock
from .layout import PERIOD, create_store, partition_path, write_partition

__all__ = ["SyncResult", "sync", "RESOURCE_ORDER"]

#: Resources a sync covers by default, in the order they are planned.
RESOURCE_ORDER = sync_plan.RESOURCE_ORDER


@dataclass
class SyncResult:
    """What a sync did. ``refused`` lists ``(resource, account_sid, period, message)``
    of units the API would not serve (what the store held for them is kept)."""

    fetched: int = 0
    skipped: int = 0
    records: int = 0
    requests: int = 0
    repaired: int = 0
    kept: int = 0
    refused: list = field(default_factory=list)
    seconds: float = 0.0
    now: pd.Timestamp | None = None
    open: int = 0

    def __str__(self) -> str:
        text = (f"fetched {self.fetched} partitions ({self.records} records, {self.requests} "
                f"requests, {self.open} still open), skipped {self.skipped} settled, "
                f"{self.seconds:.1f}s")
        if self.repaired:
            text += f"; refetched {self.repaired} unreadable"
        if self.refused:
            text += (f"; {len(self.refused)} not served by the API any more "
                     f"({self.kept} kept as stored)")
        return text


def sync(root, client, start=None, end=None, *, resources: Sequence[str] | None = None,
         accounts="all", settle="48h", refresh: bool = False, progress=None) -> SyncResult:
    """Bring the store at ``root`` up to date from ``client``; see :meth:`Store.sync`."""
    started = time.perf_counter()
    names = sync_plan.resources(resources)
    settle = ledger.parse_settle(settle)
    start, end = to_utc(start), to_utc(end)
    create_store(root, account_sid=client.account_sid)
    with store_lock(root):
        clean_leftovers(Path(root))
        result = SyncResult()
        frame, now = _accounts(client, result)
        result.now = now
        sids = sync_plan.account_sids(frame, accounts)
        if "accounts" in names:
            settled, rows = _write(root, Unit("accounts", None), None, frame, now, settle,
                                   client, 1)
            result.fetched, result.open, result.records = 1, int(not settled), rows
        start, end = sync_plan.sync_range(root, names, start, end, now)
        runs = sync_plan.plan(root, names, sids, start, end, refresh, result)
        total = sum(len(periods) for *_, periods in runs)
        with _progress(client, total, progress) as bar, _Writers(result) as writers:
            # the first day of each run alone says how many rows a day holds; the rest
            # of the run then goes in lists of about one page
            day = {r: PERIOD[r] == "day" for r, *_ in runs}
            probes, sizes = {}, {}
            for resource, sid, periods in runs:
                probes.update(sync_plan.units(resource, sid, periods[:1] if day[resource] else periods, 1))
            retry = _fetch(root, client, probes, now, settle, result, writers, bar, sizes)
            rest = {}
            for resource, sid, periods in runs:
                if day[resource]:
                    step = sync_plan.span_days(client.page_size, sizes.get((resource, sid)))
                    rest.update(sync_plan.units(resource, sid, periods[1:], step))
            retry.update(_fetch(root, client, rest, now, settle, result, writers, bar, sizes))
            # a list of several days the API refuses (e.g. partly outside retention):
            # each day asked alone, as a one-day partition always was
            _fetch(root, client, retry, now, settle, result, writers, bar, sizes)
    result.refused.sort(key=lambda r: (r[0], r[1] or "", str(r[2])))
    result.seconds = time.perf_counter() - started
    return result


def _fetch(root, client, plan, now, settle, result, writers, bar, sizes) -> dict:
    """Fetch every unit of ``plan`` (unit -> its periods), write each period's frame,
    note each one-period unit's rows in ``sizes``; the refused units of several periods
    come back as one-period units."""
    retry = {}
    for got in fetch_units(client, list(plan), on_page=lambda unit, page: _count(result, bar)):
        periods = plan[got.unit]
        if got.refused is not None and len(periods) > 1:
            retry.update(sync_plan.units(got.unit.resource, got.unit.account_sid, periods, 1))
            continue
        if got.refused is not None:
            _refused(root, got, result)
        else:
            if len(periods) == 1:
                sizes[got.unit.resource, got.unit.account_sid] = len(got.frame)
            spans = [ledger.period_span(got.unit.resource, p) for p in periods]
            frames = ([got.frame] if len(periods) == 1
                      else split_unit(got.unit, got.frame, spans))
            for (lo, hi), period, frame in zip(spans, periods, frames):
                writers.submit(_write, root, Unit(got.unit.resource, got.unit.account_sid,
                                                  lo, hi), period, frame, now, settle,
                               client, got.pages)
        if bar is not None:
            bar.update(len(periods))
    return retry


class _Writers:
    """Partitions written on two threads while the next pages are fetched (the fsyncs
    wait on the disk, not the CPU); at most ``limit`` frames wait; the first error is
    raised here, after the writes already started have finished whole."""

    def __init__(self, result: SyncResult, limit: int = 8) -> None:
        self.result, self.limit, self.pending = result, limit, set()
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="twilio-frames-store")

    def submit(self, fn, *args) -> None:
        self.pending.add(self.pool.submit(fn, *args))
        if len(self.pending) >= self.limit:
            done, self.pending = wait(self.pending, return_when=FIRST_COMPLETED)
            self._collect(done)

    def _collect(self, done) -> None:
        for future in done:
            settled, rows = future.result()
            self.result.fetched += 1
            self.result.open += not settled
            self.result.records += rows

    def __enter__(self) -> _Writers:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.pool.shutdown(wait=True)
        if exc_type is None:
            self._collect(self.pending)


def _accounts(client, result: SyncResult) -> tuple[pd.DataFrame, pd.Timestamp]:
    """The Accounts list (first: it names the accounts) and the server's now."""
    [got] = fetch_units(client, [Unit("accounts", None)])
    result.requests += got.pages
    if got.refused is not None:
        raise got.refused
    now = got.server_date or pd.Timestamp.now(tz="UTC")
    return got.frame, now.floor("s")


def _period(unit: Unit) -> dt.date | None:
    return None if unit.start is None else unit.start.date()


def _refused(root, got, result: SyncResult) -> None:
    """A unit the API no longer serves: keep what the store holds, say so."""
    period = _period(got.unit)
    exists = partition_path(root, got.unit.resource, got.unit.account_sid, period).exists()
    result.kept += exists
    result.refused.append((got.unit.resource, got.unit.account_sid, period, str(got.refused)))


def _write(root, unit, period, frame, now, settle, client, pages) -> tuple[bool, int]:
    settled, why = ledger.judge(unit.resource, period, frame, now=now, settle=settle)
    meta = {"fetched_at": pd.Timestamp.now(tz="UTC").isoformat(), "server_now": now.isoformat(),
            "settled": settled, "why": why, "settle": str(settle), "format": client.format,
            "page_size": client.page_size, "pages": pages}
    write_partition(root, unit.resource, unit.account_sid, period, frame, meta=meta)
    return settled, len(frame)


def _count(result: SyncResult, bar) -> None:
    result.requests += 1
    if bar is not None:
        bar.set_postfix(requests=result.requests, refresh=False)


@contextmanager
def _progress(client, total: int, progress):
    show = progress if progress is not None else client.progress
    show = show if show is not None else _interactive()
    if not show or not total:
        yield None
        return
    from tqdm.auto import tqdm
    with tqdm(total=total, desc="sync", unit=" partitions", leave=False) as bar:
        yield bar


def _interactive() -> bool:
    import sys
    stream = sys.stderr
    return "ipykernel" in sys.modules or bool(stream is not None and stream.isatty())
