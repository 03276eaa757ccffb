"""Sync: fetch what a store is missing and what is still open, one partition at a time.

Every (resource, account, period) is a partition. Consecutive missing days of one
(resource, account) are fetched as one date-filtered list on the client's one page
scheduler (:func:`twilio_frames.fetch.units.fetch_units`) and cut by UTC day into
exactly what each day's own list gives (:func:`~twilio_frames.fetch.units.split_unit`).
The first day of each run is fetched alone: its rows size the lists of the rest (about
one page each, at most :data:`~.sync_plan.SPAN_DAYS` days; a list that proves denser
follows its pages). Each day's frame is written as soon as its list's last page arrives, replacing
its partition whole and atomically (:func:`~twilio_frames.store.layout.write_partition`).
A sync killed at any moment
leaves every partition old or new, and the next sync fetches only what is missing or
open. A lock file (``<root>/twilio-frames-store.lock``, ``flock``) keeps two syncs of one store from
interleaving: the second is refused with a message naming the holder.

A unit the API no longer serves (Messages older than 400 days: 400 / 20004; an account
deleted after closure: 404 / 20404) never touches what the store holds; the result
lists it (:mod:`.sync_result`). A list that answered 404 / 20404 is not asked again in
that sync, and its account is named in an :class:`~.sync_result.AccountGoneWarning`.
Credentials never reach the store: only frames and the facts of the fetch.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd

from ..fetch.paging import to_utc
from ..fetch.units import Unit, fetch_units, split_unit
from . import ledger, sync_plan
from .lock import clean_leftovers, store_lock
from .layout import PERIOD, create_store, write_partition
from .writer import BackgroundWrites
from .sync_result import (AccountGoneWarning, SyncResult, finish, is_gone, refuse,
                          warn_gone)

__all__ = ["AccountGoneWarning", "RESOURCE_ORDER", "SyncResult", "sync"]

#: Resources a sync covers by default, in the order they are planned.
RESOURCE_ORDER = sync_plan.RESOURCE_ORDER


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
        with _progress(client, total, progress) as bar, BackgroundWrites(partial(_written, result)) as writers:
            run = _Run(root, client, now, settle, result, writers, bar)
            # the first day of each run alone says how many rows a day holds; the rest
            # of the run then goes in lists of about one page
            day = {r: PERIOD[r] == "day" for r, *_ in runs}
            probes = {}
            for resource, sid, periods in runs:
                probes.update(sync_plan.units(resource, sid, periods[:1] if day[resource]
                                              else periods, 1))
            retry = run.fetch(probes)
            rest = {}
            for resource, sid, periods in runs:
                if day[resource]:
                    step = sync_plan.span_days(client.page_size, run.sizes.get((resource, sid)))
                    rest.update(sync_plan.units(resource, sid, periods[1:], step))
            retry.update(run.fetch(rest))
            # a list of several days the API refuses (e.g. partly outside retention):
            # each day asked alone, as a one-day partition always was
            run.fetch(retry)
    finish(result)
    result.seconds = time.perf_counter() - started
    warn_gone(root, result, frame)
    return result


@dataclass
class _Run:
    """One sync's fetching: where it writes, what it learnt (rows per day in ``sizes``;
    lists that answered 404 / 20404 in ``gone``, never asked again this sync)."""

    root: Path
    client: object
    now: pd.Timestamp
    settle: pd.Timedelta
    result: SyncResult
    writers: BackgroundWrites
    bar: object
    sizes: dict = field(default_factory=dict)
    gone: dict = field(default_factory=dict)

    def fetch(self, plan: dict) -> dict:
        """Fetch every unit of ``plan`` (unit -> its periods), write each period's frame,
        note each one-period unit's rows in ``sizes``; the refused units of several
        periods come back as one-period units (to ask each day alone), unless their
        list answered 404 / 20404: its account's list is gone as a whole."""
        retry, asked = {}, {}
        for unit, periods in plan.items():
            error = self.gone.get((unit.resource, unit.account_sid))
            if error is None:
                asked[unit] = periods
            else:
                self._refuse(unit, periods, error, asked=False)
        on_page = lambda unit, page: _count(self.result, self.bar)       # noqa: E731
        for got in fetch_units(self.client, list(asked), on_page=on_page):
            unit, periods = got.unit, asked[got.unit]
            if got.refused is not None and is_gone(got.refused):
                self.gone[unit.resource, unit.account_sid] = got.refused
                self._refuse(unit, periods, got.refused)
                continue
            if got.refused is not None and len(periods) > 1:
                retry.update(sync_plan.units(unit.resource, unit.account_sid, periods, 1))
                continue
            if got.refused is not None:
                self._refuse(unit, periods, got.refused)
                continue
            self._write(got, periods)
        return retry

    def _write(self, got, periods) -> None:
        unit = got.unit
        if len(periods) == 1:
            self.sizes[unit.resource, unit.account_sid] = len(got.frame)
        spans = [ledger.period_span(unit.resource, p) for p in periods]
        frames = [got.frame] if len(periods) == 1 else split_unit(unit, got.frame, spans)
        for (lo, hi), period, frame in zip(spans, periods, frames):
            self.writers.submit(_write, self.root, Unit(unit.resource, unit.account_sid,
                                                        lo, hi), period, frame, self.now,
                                self.settle, self.client, got.pages)
        self._done(periods)

    def _refuse(self, unit, periods, error, *, asked: bool = True) -> None:
        for period in periods:
            refuse(self.root, unit.resource, unit.account_sid, period, error, self.result,
                   asked=asked)
        self._done(periods)

    def _done(self, periods) -> None:
        if self.bar is not None:
            self.bar.update(len(periods))


def _written(result: SyncResult, written: tuple[bool, int]) -> None:
    """One partition written (:func:`_write`'s answer) counted in ``result``."""
    settled, rows = written
    result.fetched += 1
    result.open += not settled
    result.records += rows


def _accounts(client, result: SyncResult) -> tuple[pd.DataFrame, pd.Timestamp]:
    """The Accounts list (first: it names the accounts) and the server's now."""
    [got] = fetch_units(client, [Unit("accounts", None)])
    result.requests += got.pages
    if got.refused is not None:
        raise got.refused
    now = got.server_date or pd.Timestamp.now(tz="UTC")
    return got.frame, now.floor("s")


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
