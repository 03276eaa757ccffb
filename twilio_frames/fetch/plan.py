"""Automatic windows: learn an account's density while fetching, split its range in days.

With no ``window``, a dated list (calls, messages, recordings) starts as one chain over
the whole range, as a plain fetch would: a list that fits in one page costs one request
and nothing else. When the first page has a next page, the account is dense enough to
split, and :class:`AccountPlan` takes over, fed by the pages as they arrive:

1. The first page's ``date_created`` span gives the density (records per day). Page 2
   of the same chain is fetched next (a list of two pages then ends in two rounds, as a
   sequential fetch would) together with windows for the days older than pages 1-2
   should reach, and, when the range has no ``start`` and the account's creation date
   is not known yet, the account itself (``GET /Accounts/{sid}``: nothing is older).
2. If page 2 is the last, the chain holds everything: windows not yet sent are skipped.
   Otherwise the chain stops and windows cover the newest days too.
3. Windows are whole UTC days (the API's filters are, reference ``sync-and-scale.md``
   §1), sized to about 0.7 of a page at the latest density seen, newest first, walked
   down a stretch of days one window at a time. After an empty window, the next one
   reaches down to the bottom of its stretch (the start, or the account's creation):
   an empty stretch costs one request. A multi-day window whose first page shows it
   holds several pages stops, and its days become a stretch of their own, walked down
   from its newest record.

With a usage map (:mod:`twilio_frames.fetch.plan_map`: Usage Records' daily counts,
asked for beside page 1), steps 1-3 give way: once page 1 shows more than a page and the
map has arrived, the probe chain stops and the whole range goes out at once as windows
packed to about a page each, the windows expected to take the most pages first (so the
second pages of dense days start early). The map only orders and sizes the windows: a
wrong one costs requests, never records.

Coverage never depends on the estimates: the newest window is open above (or ends at
``end``) and the oldest open below (or starts at ``start``), so the windows partition
the range whatever the density, and records seen twice (page 1 and a window) are
dropped by sid when the frame is built. A window is a chain of its own; the chains of
every account share the scheduler's pool (:func:`twilio_frames.fetch.scheduler.iter_chains`).
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from .paging import PageChain
from .parse import Page
from .plan_map import calibrate, expected_pages, packed_windows
from .plan_chains import (DAY, InfoChain, ProbeChain, Span, WindowChain, page_density,
                          page_span, record_time)

__all__ = ["AutoPlan", "AccountPlan", "ProbeChain", "WindowChain", "InfoChain", "TARGET",
           "SPLIT_PAGES"]

log = logging.getLogger("twilio_frames")

#: Windows aim at this share of a page (a little under one, so that most of them fit).
TARGET = 0.7
#: A multi-day window is split when its first page says it holds at least this many.
SPLIT_PAGES = 3
#: No window is longer (keeps day arithmetic far from Timestamp's limits).
MAX_DAYS = 20 * 366
#: More windows than this is a bug (20 years of days, three times over).
MAX_WINDOWS = 3 * MAX_DAYS


def _floor(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.normalize()


def _ceil(ts: pd.Timestamp) -> pd.Timestamp:
    day = ts.normalize()
    return day if day == ts else day + DAY


@dataclass
class _Stretch:
    """Days still to cover below ``cursor`` (a midnight), down to ``low`` (the lower
    bound the last window gets: the start, None for open below, or a midnight)."""

    low: pd.Timestamp | None
    cursor: pd.Timestamp | None
    density: float
    days: int
    empty: bool = False


class AccountPlan:
    """The windows of one account's range ``[start, end)``, decided as pages arrive.

    ``window(plan, span)`` makes the :class:`WindowChain` of a span and ``info(plan)``
    the :class:`InfoChain` (both built by the client, which knows URLs and formats).
    ``created`` is the account's creation time when already known. Thread-safe: pages
    arrive on worker threads, :meth:`take` is called under the scheduler's lock.
    """

    def __init__(self, list_index: int, start: pd.Timestamp | None, end: pd.Timestamp | None,
                 *, page_size: int, max_workers: int,
                 window: Callable[[AccountPlan, Span], WindowChain],
                 info: Callable[[AccountPlan], InfoChain],
                 created: pd.Timestamp | None = None,
                 usage: Callable[[AccountPlan], PageChain] | None = None,
                 field: str = "date_created") -> None:
        self.list_index, self.start, self.end = list_index, start, end
        self.page_size, self.max_workers = page_size, max_workers
        self._window, self._info, self._usage, self.field = window, info, usage, field
        #: The usage map: want -> asked -> known (``counts``) or failed; none: not asked.
        self.map_state = "want" if usage is not None and self._mappable() else "none"
        self.counts: dict[pd.Timestamp, int] | None = None
        self._lock = threading.Lock()
        #: No record is older than this midnight (the creation day); None: unknown.
        self.lo = _floor(created) if created is not None else None
        self.lo_known = start is not None or created is not None
        #: probe -> old (page 2 awaited; "await": and the usage map) -> windows -> done
        self.state = "probe"
        self.moot = False             # the probe chain turned out to hold everything
        self.density = 0.0
        self.top: pd.Timestamp | None = None           # the newest windows end here
        self.mid: pd.Timestamp | None = None           # stretches start below mid
        self.stretches: list[_Stretch] = []
        self.pending: deque[tuple[Span, _Stretch | None]] = deque()
        self.outstanding = 0          # windows whose first page has not arrived
        self.info_state = "known" if self.lo_known else "none"   # none, asked, known
        self.blind = 0                # windows sent below mid before the creation was known
        self.windows = 0              # windows made
        self.estimate = 0.0           # expected records in the range (for progress)
        self.oldest: pd.Timestamp | None = None        # page 1's oldest record
        self.planned_by = "density"   # or "map" (the usage map planned the windows)
        self.page1: Page | None = None  # page 1, kept while the map is awaited

    # ------------------------------------------------------------ pages arriving
    def first_page(self, page: Page, more: bool) -> bool | str:
        """Page 1 of the whole range; True when the plan takes over (the chain then
        fetches page 2 and stops), ``"stop"`` when a usage map planned every window
        (the chain stops now), False when the chain holds everything."""
        with self._lock:
            span, density = page_span(page), page_density(page)
            if not more or span is None or density is None or not self._splittable(span[0]):
                self.state = "done"
                return False
            if self.map_state == "known":
                self._plan_from_map(page)
                return "stop"
            if self.map_state == "failed":
                log.debug("usage map unusable: planning from page 1")
            self.density, self.oldest = density, span[1]
            self.top = max(_floor(span[0]), self._cut())
            if self.end is not None:
                self.top = min(self.top, _floor(self.end - pd.Timedelta(microseconds=1)))
            # pages 1 and 2 should reach about two page spans back
            reach = span[1] - (span[0] - span[1]) - pd.Timedelta(hours=1)
            self.mid = min(max(_floor(reach), self._cut()), self.top)
            if self.mid > self._cut():
                self.stretches.append(_Stretch(self.start, self.mid, density, self._size(density)))
            # the map still on its way: wait for it, or for page 2 if that comes first
            self.state = "await" if self.map_state == "asked" else "old"
            self.page1 = page if self.map_state == "asked" else None
            self._estimate(len(page.records))
            return True

    def second_page(self, more: bool) -> None:
        """Page 2 arrived: the last (the chain held everything), or windows go on."""
        with self._lock:
            if self.planned_by == "map" and more:
                return                       # the map's windows cover it all
            if self.state == "await":
                log.debug("usage map not there when page 2 came: planning from page 1")
                self.map_state, self.page1 = "late", None
            if not more:
                self.moot, self.state = True, "done"
                self.pending.clear()
                self.stretches.clear()
                return
            self.state = "windows"
            spans = [(self.top, self.end)]
            hi, days = self.top, self._size(self.density)
            while hi > self.mid:
                spans.append((max(hi - days * DAY, self.mid), hi))
                hi = spans[-1][0]
            if self.mid <= self._cut():                     # nothing below mid: open the last
                spans[-1] = (self.start, spans[-1][1])
            self.pending.extend((span, None) for span in spans)

    def observe(self, chain: WindowChain, page: Page, more: bool) -> bool:
        """A window's first page; True when the window is split (its chain stops)."""
        with self._lock:
            self.outstanding -= 1
            if chain.skipped or self.moot:
                return False
            s, e = chain.span
            days = (e - s) / DAY if s is not None and e is not None else None
            density = page_density(page) if more else (len(page.records) / days if days else None)
            stretch = chain.stretch
            if density is not None:
                self.density = density
                if stretch is not None:
                    stretch.density = density
            if stretch is not None and not page.records:
                stretch.empty = True      # its next window reaches down to the bottom
            if more and density is not None and chain.predicted is not None:
                # a map's window is split only when far denser than the map said
                more = density * self._days(s, e) >= max(SPLIT_PAGES * self.page_size,
                                                         4 * chain.predicted)
            return more and density is not None and self._split(s, e, page, density)

    def set_usage(self, counts: dict[pd.Timestamp, int] | None) -> None:
        """The usage map arrived (None: absent, refused or unreadable). Used only if it
        comes before page 1 says the range is dense; otherwise the plan goes on without."""
        with self._lock:
            if self.map_state != "asked":
                return                       # page 2 came first: planned without it
            self.counts = counts
            self.map_state = "known" if counts is not None else "failed"
            if self.state == "await":        # page 1 came first and said: dense
                if counts is None:
                    log.debug("usage map unusable: planning from page 1")
                    self.state = "old"
                else:
                    self.stretches.clear()
                    self._plan_from_map(self.page1)
                self.page1 = None

    def _plan_from_map(self, page: Page) -> None:
        """Every window of the range from the map, calibrated on page 1, the windows
        expected to take the most pages first (ties: newest first)."""
        ratio = calibrate(self.counts, page, self.field)
        windows = packed_windows(self.counts, self.start, self.end, page_size=self.page_size,
                                 workers=self.max_workers, ratio=ratio)
        order = sorted(range(len(windows)), key=lambda i: (
            -expected_pages(windows[i][1], self.page_size), -windows[i][1], i))
        self.pending.extend((windows[i][0], None, windows[i][1]) for i in order)
        self.state, self.planned_by = "windows", "map"
        if not self.lo_known:       # the oldest window is open below: no creation needed
            self.lo_known, self.info_state = True, "known"
        self.estimate = max(self.estimate, sum(w[1] for w in windows))
        log.debug("usage map: %d windows for %d days listed, %.2f records per usage event",
                  len(windows), len(self.counts), ratio)

    def set_created(self, created: pd.Timestamp | None) -> None:
        with self._lock:
            self.info_state, self.lo_known = "known", True
            self.lo = _floor(created) if created is not None else None
            for st in self.stretches:    # blind windows may already reach below it
                if st.low is None and st.cursor is not None and self.lo is not None \
                        and st.cursor <= self.lo:
                    st.cursor = None
            self._estimate(0)

    # ------------------------------------------------------------ windows out
    @property
    def exhausted(self) -> bool:
        with self._lock:
            planned = self.state == "done" or (
                self.state == "windows" and all(st.cursor is None for st in self.stretches))
            return planned and not self.pending and self.outstanding == 0 \
                and self.info_state != "asked"

    def take(self, n: int) -> list[PageChain]:
        """Up to ``n`` chains to start now."""
        out: list[PageChain] = []
        with self._lock:
            if n > 0 and self.map_state == "want" and self.state == "probe":
                self.map_state = "asked"          # beside page 1, in the same round
                out.append(self._usage(self))
            while len(out) < n and self.state in ("old", "windows") and not self.moot:
                if self.pending:
                    out.append(self._make(*self.pending.popleft()))
                elif self.info_state == "none":
                    self.info_state = "asked"
                    out.append(self._info(self))
                else:
                    st = next((st for st in self.stretches if st.cursor is not None
                               and (self._bottom(st.low) is not None or self.blind < self._blind_cap())),
                              None)
                    if st is None:
                        break
                    out.append(self._make(self._next(st), st))
        return out

    def _make(self, span: Span, stretch: _Stretch | None,
              predicted: float | None = None) -> WindowChain:
        self.outstanding += 1
        self.windows += 1
        if self.windows > MAX_WINDOWS:        # a planning bug must not loop for ever
            raise RuntimeError(f"automatic plan made more than {MAX_WINDOWS} windows")
        if stretch is not None and self._bottom(stretch.low) is None:
            self.blind += 1
        chain = self._window(self, span)
        chain.stretch, chain.predicted = stretch, predicted
        return chain

    def _next(self, st: _Stretch) -> Span:
        """The next window of a stretch: about ``TARGET`` of a page at its density, at
        most twice its last window; the last one reaches down to the stretch's bottom."""
        if st.density <= 0:
            days = 2 * st.days
        else:
            days = min(self._size(st.density), 2 * st.days)
        days = min(days, MAX_DAYS)
        lower, bottom = st.cursor - days * DAY, self._bottom(st.low)
        reached = bottom is not None and (lower < bottom or (
            lower == bottom and (st.low is None or st.low == bottom)))
        if (bottom is not None and st.empty) or reached or \
                (st.low is None and self.lo_known and self.lo is None):
            span, st.cursor = (st.low, st.cursor), None
            return span
        span, st.cursor, st.days = (lower, st.cursor), lower, days
        return span

    def _split(self, s, e, page: Page, density: float) -> bool:
        """A dense window: days above its newest record go as one window, the rest as
        a stretch walked down from there. False when the window is one day or its
        first page says it holds fewer than ``SPLIT_PAGES`` pages (it just goes on)."""
        bottom = self._bottom(s)
        if s is not None and (e is not None and (e - s) <= DAY):
            return False
        if bottom is None and self.lo_known:
            # open below with no creation date coming (a map planned without asking for
            # it): a stretch could only be walked down blind, so the window goes on
            return False
        span_days = (e - bottom) / DAY if e is not None and bottom is not None else math.inf
        if density * span_days < SPLIT_PAGES * self.page_size:
            return False
        newest = max(t for t in (record_time(page.records[0]), record_time(page.records[0], self._field(page)))
                     if t is not None) if page.records and record_time(page.records[0]) else None
        x = e
        if newest is not None:
            x = _ceil(newest + pd.Timedelta(seconds=1))
            if bottom is not None:
                x = max(x, bottom + DAY)
            if e is not None:
                x = min(x, e)
        if x is None:
            return False
        if e is None or x < e:
            self.pending.append(((x, e), None))
        self.stretches.append(_Stretch(s, x, density, self._size(density)))
        return True

    # ------------------------------------------------------------ helpers
    def _size(self, density: float) -> int:
        return max(1, min(MAX_DAYS, math.floor(TARGET * self.page_size / density))) \
            if density > 0 else 1

    def _bottom(self, low: pd.Timestamp | None) -> pd.Timestamp | None:
        """The lowest cut of a stretch whose last window starts at ``low``: the first
        midnight at or above it, or the creation day when open below (None: unknown)."""
        if low is not None:
            return _ceil(low)
        return self.lo

    def _cut(self) -> pd.Timestamp:
        """The range's lowest cut, far in the past while the creation is unknown."""
        bottom = self._bottom(self.start)
        return bottom if bottom is not None else _FAR_PAST

    def _days(self, s: pd.Timestamp | None, e: pd.Timestamp | None) -> float:
        """Days of a map's window; an open end is bounded by the map's listed days."""
        listed = self.counts or {}
        bottom = self._bottom(s) if s is not None or not listed else min(listed)
        top = e if e is not None else (max(listed) + DAY if listed else None)
        return (top - bottom) / DAY if top is not None and bottom is not None else math.inf

    def _mappable(self) -> bool:
        """A range of more than one UTC day (a single day is never split)."""
        if self.start is None or self.end is None:
            return True
        return _ceil(self.end) - _floor(self.start) > DAY

    def _blind_cap(self) -> int:
        return max(1, self.max_workers // 2 - 2)

    @staticmethod
    def _field(page: Page) -> str:
        first = page.records[0]
        return next((f for f in ("start_time", "date_sent") if f in first), "date_created")

    def _splittable(self, newest: pd.Timestamp) -> bool:
        """Some midnight lies strictly inside the range, at or below ``newest``'s day."""
        high = _floor(newest)
        if self.end is not None:
            high = min(high, _floor(self.end - pd.Timedelta(microseconds=1)))
        bottom = self._bottom(self.start)
        return (bottom is None or high >= bottom) and (self.start is None or high > self.start)

    def _estimate(self, seen: int) -> None:
        """Expected records in the range: page 1 plus the density over the older days."""
        low = self._bottom(self.start)
        if low is not None and self.density and self.oldest is not None:
            self.estimate = max(self.estimate, seen + self.density * max(
                0.0, (self.oldest - low) / DAY))


#: Before any Twilio account (2008): a cut no window reaches while the creation is unknown.
_FAR_PAST = pd.Timestamp("2000-01-01", tz="UTC")


class AutoPlan:
    """The plans of several accounts as one :class:`~twilio_frames.fetch.scheduler.ChainSource`."""

    def __init__(self, plans: list[AccountPlan]) -> None:
        self.plans = plans

    @property
    def exhausted(self) -> bool:
        return all(p.exhausted for p in self.plans)

    def take(self, n: int) -> list[PageChain]:
        out: list[PageChain] = []
        for plan in self.plans:
            if len(out) >= n:
                break
            out += plan.take(n - len(out))
        return out

    @property
    def estimate(self) -> float:
        return sum(p.estimate for p in self.plans)
