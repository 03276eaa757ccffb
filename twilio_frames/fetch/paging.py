"""Paging: follow ``next_page_uri``, split date ranges into windows, fetch pages concurrently.

Paging facts (reference ``twilio-wire-format.md`` §2.4, §8): follow ``next_page_uri``
exactly as given and never build ``Page=N`` URLs (token-paged lists refuse them);
stop on a null, empty or missing ``next_page_uri``; ``PageSize`` is at most 1000.
A server that hands back a page URI it already gave would loop for ever: we raise.

Date filters are whole UTC days on the wire (OAI: "Specify a date as ``YYYY-MM-DD`` in
UTC"), and their inequality forms differ per resource (``StartTime<`` is "before",
``DateSent<`` "on and before"). So :func:`date_filters` asks for every day that touches
``[start, end)`` and the caller trims the records to the exact interval.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import pandas as pd

from . import pools, prefetch
from ..errors import ConfigurationError, ParseError
from .dates import parse_duration, to_utc
from .parse import Page, parse_page, parse_page_columns
from .progress import ProgressGuard
from ..resources import get_resource

__all__ = ["iter_pages", "iter_chains", "ChainSource", "PageChain", "fetch_page", "to_utc", "date_filters",
           "split_windows", "list_url"]

#: Per resource: (greater-or-equal key, less-than key) of its day-granular date filter.
_RANGE_KEYS = {
    "calls": ("StartTime>", "StartTime<"),
    "messages": ("DateSent>", "DateSent<"),
    "recordings": ("DateCreated>", "DateCreated<"),
}


def _floor_day(ts: pd.Timestamp) -> dt.date:
    return ts.date()


def _ceil_day(ts: pd.Timestamp) -> dt.date:
    """The first midnight at or after ``ts``."""
    day = ts.date()
    return day if ts == ts.normalize() else day + dt.timedelta(days=1)


def date_filters(resource: str, start: pd.Timestamp | None,
                 end: pd.Timestamp | None) -> dict[str, str]:
    """Query filters covering every UTC day that touches ``[start, end)``.

    Calls/Messages/Recordings get ``X>`` = the start day and ``X<`` = the first midnight
    at or after ``end`` (a superset under either reading of ``<``); Usage Records get
    inclusive ``StartDate``/``EndDate`` = [start day, day before that midnight].
    """
    out: dict[str, str] = {}
    if resource == "usage_records":
        if start is not None:
            out["StartDate"] = _floor_day(start).isoformat()
        if end is not None:
            out["EndDate"] = (_ceil_day(end) - dt.timedelta(days=1)).isoformat()
        return out
    keys = _RANGE_KEYS.get(resource)
    if keys is None:
        if start is not None or end is not None:
            raise ConfigurationError(f"{resource} has no date filter; start/end not supported")
        return out
    if start is not None:
        out[keys[0]] = _floor_day(start).isoformat()
    if end is not None:
        out[keys[1]] = _ceil_day(end).isoformat()
    return out


def split_windows(start: pd.Timestamp, end: pd.Timestamp,
                  window: str | pd.Timedelta | dt.timedelta) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Split ``[start, end)`` into consecutive half-open windows of length ``window``
    (read by :func:`~twilio_frames.fetch.dates.parse_duration`)."""
    step = parse_duration(window)
    edges = []
    cur = start
    while cur < end:
        nxt = min(cur + step, end)
        edges.append((cur, nxt))
        cur = nxt
    return edges


def list_url(base_url: str, account_sid: str | None, resource: str, format: str, *,
             params: dict[str, Any], subresource: str | None = None) -> str:
    """The first page URL of a list; later pages come from ``next_page_uri``."""
    res = get_resource(resource)
    path = "/2010-04-01/Accounts"
    if res.name != "accounts":
        path += f"/{account_sid}{res.path}"
    if subresource:
        path += f"/{subresource}"
    path += ".json" if format == "json" else ".xml"
    query = urlencode([(k, v) for k, v in params.items() if v is not None])
    return f"{base_url}{path}" + (f"?{query}" if query else "")


def _next_url(base_url: str, uri: str) -> str:
    if uri.startswith("/"):
        return base_url + uri
    here, there = urlsplit(base_url), urlsplit(uri)
    if (there.scheme, there.netloc) != (here.scheme, here.netloc):
        raise ParseError(f"next_page_uri {uri!r} leaves {base_url}; refusing to follow it")
    return uri


class PageChain:
    """One list stream (an account, a window): its pages, each known only from the last.

    :meth:`follow` applies ``limit`` to a page that just arrived and names the next URL;
    a server that hands back a URI it already gave, or pages that bring no new record
    (:class:`~twilio_frames.fetch.progress.ProgressGuard`), raises instead of looping.

    Without ``counted``, every record counts towards ``limit`` and the records past it
    are cut from the last page. With ``counted(records) -> keys`` (the keys, such as
    sids, of the records that will end up in the result: those inside the caller's
    exact interval), only distinct counted keys count and no page is cut: the chain
    stops once ``limit`` of them have arrived, and the caller keeps the first ``limit``
    rows in its own order.

    ``fetch``, when a subclass sets it, fetches this chain's pages instead of the
    scheduler's ``fetch`` (a planning request of :mod:`twilio_frames.fetch.plan`).
    """

    fetch: Callable[[str], Page] | None = None
    #: The next page of an eager chain goes before the first pages of new chains.
    eager = False

    def __init__(self, base_url: str, first_url: str, *, limit: int | None = None,
                 counted: Callable[[list[dict[str, Any]]], Iterable[Any]] | None = None,
                 ) -> None:
        self.base_url, self.first_url, self.limit = base_url, first_url, limit
        self.counted = counted
        self.count, self._seen, self._keys = 0, {first_url}, set()
        self._progress = ProgressGuard()

    def follow(self, page: Page) -> str | None:
        """Apply the limit to ``page``; return the next page's URL or None."""
        if self.limit is not None and self._reached_limit(page):
            return None
        if not page.next_page_uri:
            return None
        self._progress.check(page.records, page.next_page_uri, page.url)
        url = _next_url(self.base_url, page.next_page_uri)
        if url in self._seen:
            raise ParseError(f"server repeated page URI {page.next_page_uri!r}; "
                             "stopping instead of looping", url=url)
        self._seen.add(url)
        return url

    def close(self) -> None:
        """The chain has ended: let go of what it kept to check its pages (the hashes of
        every record it brought, about 60 bytes each: 60 MB over a million records,
        otherwise held until the frame is built, when memory peaks)."""
        self._progress = ProgressGuard()
        self._seen, self._keys = set(), set()

    def _reached_limit(self, page: Page) -> bool:
        if self.counted is None:
            self.count += len(page.records)
            if self.count >= self.limit:
                del page.records[len(page.records) - (self.count - self.limit):]
                return True
            return False
        try:
            self._keys.update(self.counted(page.records))
        except ParseError as exc:
            if exc.url is not None or page.url is None:
                raise
            raise ParseError(str(exc), url=page.url) from None
        self.count = len(self._keys)
        return self.count >= self.limit


def fetch_page(get: Callable[[str], bytes], url: str, *, format: str, resource: str,
               columns: bool = False) -> Page:
    """GET ``url`` and parse it; a :class:`ParseError` names the URL, and so does the
    page (``page.url``). ``columns``: records as Arrow columns where the body allows
    (:func:`~twilio_frames.fetch.parse.parse_page_columns`), for a frame builder."""
    early = prefetch.take_hook()
    body = get(url)
    if early is not None and format == "json":
        hint = prefetch.next_uri_hint(body)
        if hint:
            early(hint)
    try:
        page = (parse_page_columns if columns else parse_page)(body, format, resource)
    except ParseError as exc:
        raise ParseError(str(exc), url=url) from None
    page.url = url
    return page


def iter_pages(get: Callable[[str], bytes], base_url: str, first_url: str, *, format: str,
               resource: str, limit: int | None = None) -> Iterator[Page]:
    """Yield the pages of one list, following ``next_page_uri`` until it is empty.

    ``get(url) -> bytes`` does the HTTP. With ``limit``, records past the limit are cut
    from the last page and no further page is fetched.
    """
    chain, url = PageChain(base_url, first_url, limit=limit), first_url
    while url is not None:
        page = fetch_page(get, url, format=format, resource=resource)
        url = chain.follow(page)
        yield page


def iter_chains(fetch: Callable[[str], Page], chains: Sequence[PageChain], *,
                max_workers: int, backlog: int | None = None,
                source: ChainSource | None = None) -> Iterator[tuple[int, Page]]:
    """Fetch the pages of every chain on one pool of ``max_workers`` threads.

    Yields ``(chain index, page)`` as pages arrive; the pages of one chain arrive in
    order. Pages, not whole chains, are the unit of work: a free worker takes the first
    page of a chain not yet started, else the next page of a started chain (known once
    its previous page is parsed), so no worker idles while any chain has a page to
    fetch, and the chains advance together and end together (no long chain left alone
    at the end). ``fetch(url)`` runs on the workers; at most ``backlog`` (default
    ``2 * max_workers``) fetched pages wait for the consumer. The first error stops the
    scheduling and is raised here.

    With ``source`` (a :class:`ChainSource`, such as an automatic plan), more chains
    are asked for whenever a worker is free and no chain is waiting to start; they are
    appended to ``chains`` (which must then be a list), so a yielded index always
    names ``chains[index]``.
    """
    if not chains and source is None:
        return
    sched = _Scheduler(fetch, chains, max_workers, backlog or 2 * max_workers, source)
    try:
        yield from sched.results()
    finally:
        sched.stop()


class ChainSource(Protocol):
    """Chains that become known while others are fetched (see :func:`iter_chains`).

    ``take(n)`` returns up to ``n`` chains to start now (none while it waits for a page
    in flight); ``exhausted`` is True once it will never return another. Both are
    called under the scheduler's lock: quick, and never calling back into it.
    """

    exhausted: bool

    def take(self, n: int) -> list[PageChain]: ...


class _Scheduler:
    """The state behind :func:`iter_chains`; every field is guarded by ``_lock``."""

    def __init__(self, fetch, chains, max_workers: int, backlog: int, source=None) -> None:
        self.fetch, self.chains, self.backlog = fetch, chains, backlog
        self.source = source
        self.max_workers = max_workers
        self.pool = pools.borrow(max_workers)      # warm threads (fetch/pools.py)
        self.futures: set = set()                  # submitted, not yet done
        self.submitting = 0                        # _submit calls between take and submit
        self.out: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self.unstarted = deque(range(len(chains)))
        self.continuing: deque[tuple[int, str]] = deque()
        self.running = self.waiting = 0
        self.open = len(chains)        # chains whose last page has not been handed over
        self.stopped = False
        self.early: dict[int, tuple[str, Any]] = {}   # chain -> (URL, future) asked early
        self._submit()

    def _submit(self) -> None:
        """Start pages while a worker is free and the backlog allows (new chains first).
        Futures are submitted outside the lock: a callback may run at once."""
        taken = self._take()
        try:
            for index, url in taken:
                future = self.pool.submit(self._fetch_one, index, url)
                self.futures.add(future)
                future.add_done_callback(partial(self._done, index))
        finally:
            if taken:
                with self._lock:
                    self.submitting -= 1

    def _take(self) -> list[tuple[int, str]]:
        taken = []
        with self._lock:
            try:
                self._grow()
            except Exception as exc:   # a broken source must not leave the consumer waiting
                self.stopped = True
                self.out.put((None, exc))
                return taken
            while (not self.stopped and self.running < self.max_workers
                   and self.running + self.waiting < self.backlog
                   and (self.continuing or self.unstarted)):
                if self.unstarted and not (self.continuing
                                           and self.chains[self.continuing[0][0]].eager):
                    index = self.unstarted.popleft()
                    taken.append((index, self.chains[index].first_url))
                else:
                    taken.append(self.continuing.popleft())
                self.running += 1
            self.submitting += bool(taken)
        return taken

    def _grow(self) -> None:
        """Ask the source for chains to fill the free workers (under the lock)."""
        room = self.max_workers - self.running - len(self.unstarted)
        if self.source is None or self.stopped or room <= 0 or self.source.exhausted:
            return
        for chain in self.source.take(room):
            self.unstarted.append(len(self.chains))
            self.chains.append(chain)
            self.open += 1

    def _fetch_one(self, index: int, url: str) -> Page:
        """One page on a worker; a lone plain list may ask for its next page early
        (:mod:`~twilio_frames.fetch.prefetch`)."""
        chain = self.chains[index]
        if self.source is None and type(chain) is PageChain and chain.limit is None:
            prefetch.hook(partial(self._early, index))
        try:
            return (chain.fetch or self.fetch)(url)
        finally:
            prefetch.hook(None)

    def _early(self, index: int, hint: str) -> None:
        """Page ``index``'s body names ``hint`` next: start it now if a worker is free
        and no other page waits for one (its answer is used only if the parsed page
        names the same URL)."""
        chain = self.chains[index]
        try:
            url = _next_url(chain.base_url, hint)
        except ParseError:
            return
        with self._lock:
            if (self.stopped or index in self.early or url in chain._seen
                    or self.running >= self.max_workers or self.continuing or self.unstarted
                    or self.running + self.waiting >= self.backlog):
                return
            self.running += 1
            self.submitting += 1
        try:
            future = self.pool.submit(chain.fetch or self.fetch, url)
            self.futures.add(future)
            with self._lock:
                self.early[index] = (url, future)
        finally:
            with self._lock:
                self.submitting -= 1

    def _unused(self, future) -> None:
        """An early page the chain did not go on to: its worker is free again."""
        self.futures.discard(future)
        with self._lock:
            self.running -= 1
        self._submit()

    def _done(self, index: int, future) -> None:
        self.futures.discard(future)
        if future.cancelled():         # by stop(): the consumer has gone
            return
        try:
            page = future.result()
            url = self.chains[index].follow(page)
            if url is None:
                self.chains[index].close()
        except BaseException as exc:  # handed to the consumer, raised there
            with self._lock:
                self.stopped = True
            self.out.put((None, exc))
            return
        adopted = dropped = None
        with self._lock:
            self.running -= 1
            self.waiting += 1
            early = self.early.pop(index, None)
            if early is not None and url == early[0]:
                adopted = early[1]        # the next page is on its way already
            elif url is not None and self.chains[index].eager:
                self.continuing.appendleft((index, url))
            elif url is not None:
                self.continuing.append((index, url))
            if early is not None and adopted is None:
                dropped = early[1]
        # the page before its successor is submitted: a chain's pages reach the consumer
        # in order, its last one last (submitting first let a quick next page overtake
        # it, and the consumer stopped at that "last" page with this one still queued)
        self.out.put((index, page, url is None))
        if adopted is not None:
            adopted.add_done_callback(partial(self._done, index))
        if dropped is not None:
            dropped.add_done_callback(self._unused)
        self._submit()

    def results(self) -> Iterator[tuple[int, Page]]:
        while self._more():
            item = self.out.get()
            if item[0] is None:
                raise item[1]
            index, page, last = item
            with self._lock:
                self.waiting -= 1
                self.open -= last
            self._submit()
            yield index, page

    def _more(self) -> bool:
        """Pages are still to come. A source that is not exhausted while nothing is in
        flight or waiting is asked once more; one that still gives nothing is a bug
        (it would wait for ever), raised rather than hung on."""
        with self._lock:
            if self.open or self.source is None or self.source.exhausted:
                return bool(self.open)
        self._submit()
        with self._lock:
            if self.open or self.source.exhausted:
                return bool(self.open)
        raise RuntimeError("automatic plan stalled: no chain running and none to start")

    def stop(self) -> None:
        """No new page; the pages not started cancelled, the running ones waited for;
        the pool back to :mod:`~twilio_frames.fetch.pools` with nothing of this fetch
        left in it."""
        while True:
            with self._lock:
                self.stopped = True
                busy, pending = self.submitting, [f for f in list(self.futures) if not f.done()]
            if not busy and not pending:
                break
            pools.settle(set(pending))
            if busy:                   # a _submit between its take and its submit
                time.sleep(0.001)
        pools.give_back(self.pool, self.max_workers)
