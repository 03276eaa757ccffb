"""The page scheduler: every chain of a fetch on one pool of workers.

:func:`iter_chains` fetches the pages of many :class:`~twilio_frames.fetch.paging.PageChain`
lists (accounts, windows, a plan's chains) on ``max_workers`` threads, pages rather than
whole chains being the unit of work, and hands them to the consumer as they arrive, each
chain's in order. A lone plain list asks for its next page while the page before it is
parsed (:mod:`~twilio_frames.fetch.prefetch`). Split from :mod:`~twilio_frames.fetch.paging`,
which keeps what one list is (its URLs, filters and the rules of following it).
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any, Callable, Protocol

from . import limiter, pools, prefetch
from ..errors import ParseError
from .paging import PageChain, _next_url
from .parse import Page

__all__ = ["iter_chains", "ChainSource", "parsing_threads"]


def iter_chains(fetch: Callable[[str], Page], chains: Sequence[PageChain], *,
                max_workers: int, threads: int | None = None, backlog: int | None = None,
                source: ChainSource | None = None) -> Iterator[tuple[int, Page]]:
    """Fetch the pages of every chain on one pool of ``threads`` threads.

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

    ``threads`` (default ``max_workers``) is the pool's size, when ``fetch`` itself keeps
    its requests within ``max_workers`` (the client's: its limiter, fetch/limiter.py). A
    worker holds its thread while it parses the page it fetched, 20-25 ms of a 1,000-call
    page on two busy cores: with as many threads as requests allowed, the next pages of
    five chains waited a median 41-51 ms for a thread while the limiter had slots free
    (the 54,766-call bench fetch). The spare threads parse; the requests stay capped.
    """
    if not chains and source is None:
        return
    sched = _Scheduler(fetch, chains, threads or max_workers, backlog or 2 * max_workers,
                       source)
    try:
        yield from sched.results()
    finally:
        sched.stop()


def parsing_threads(max_workers: int) -> int:
    """Threads for a fetch whose requests a limiter keeps within ``max_workers``: half
    as many again, which parse while the others wait on the network (see iter_chains)."""
    return max_workers + max(1, max_workers // 2)


def _at_priority(fetch: Callable[[str], Page], url: str, level: int) -> Page:
    """``fetch(url)``, its request queued at the limiter with ``level``."""
    limiter.set_priority(level)
    try:
        return fetch(url)
    finally:
        limiter.set_priority(0)


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
                taken.append(self._next_page())
                self.running += 1
            self.submitting += bool(taken)
        return taken

    def _next_page(self) -> tuple[int, str]:
        """The page to start next (under the lock): an eager chain's next page, else the
        page whose chain is expected to take the most pages from here on, a new chain's
        first page on a tie. Highest level first is the optimal order for unit tasks in
        chains (Hu, 1961): the longest rest is the fetch's critical path. Chains that
        know nothing of their length (level 1) keep the old order, new chains first."""
        if self.continuing and self.chains[self.continuing[0][0]].eager:
            return self.continuing.popleft()
        best = max(range(len(self.continuing)), default=None,
                   key=lambda i: self.chains[self.continuing[i][0]].level())
        if self.unstarted and (best is None or self.chains[self.unstarted[0]].level()
                               >= self.chains[self.continuing[best][0]].level()):
            index = self.unstarted.popleft()
            return index, self.chains[index].first_url
        item = self.continuing[best]
        del self.continuing[best]
        return item

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
        """One page on a worker; a chain that allows it may ask for its next page
        early (:mod:`~twilio_frames.fetch.prefetch`)."""
        chain = self.chains[index]
        if chain.early_next and chain.limit is None:
            prefetch.hook(partial(self._early, index))
        try:
            return _at_priority(chain.fetch or self.fetch, url, chain.level())
        finally:
            prefetch.hook(None)

    def _early(self, index: int, hint: str) -> None:
        """Page ``index``'s body names ``hint`` next: start it now if a thread is free
        and the backlog allows (its answer is used only if the parsed page names the
        same URL). It waits for a request slot at the limiter in its chain's order (the
        pages its chain still has), so a page of a long chain goes before the first
        page of a short one and never behind it: once the limiter ordered the waiting
        requests, this ran only for a lone list or a plan with nothing left to give, and
        the other chains' next pages waited a parse (20-40 ms on two busy cores) each."""
        chain = self.chains[index]
        try:
            url = _next_url(chain.base_url, hint)
        except ParseError:
            return
        with self._lock:
            if (self.stopped or index in self.early or chain.has_seen(url)
                    or self.running >= self.max_workers
                    or self.running + self.waiting >= self.backlog):
                return
            self.running += 1
            self.submitting += 1
        try:
            future = self.pool.submit(_at_priority, chain.fetch or self.fetch, url,
                                      max(1, chain.level() - 1))   # level counts this page
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
