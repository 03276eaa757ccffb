"""Usage Records' daily counts as a map of where an account's records are (a hint only).

``GET /Accounts/{sid}/Usage/Records/Daily?Category=calls&StartDate=..&EndDate=..`` gives,
in one request for a whole range, one record per UTC day whose ``count`` is "the number
of usage events, such as the number of calls" (reference ``billing-rules.md`` §4.1,
§4.3). It is sent beside page 1 of an automatic plan (:mod:`twilio_frames.fetch.plan`),
so that the windows of a dense range can be packed to about a page each before the
first window goes out, instead of learning the density page by page.

The map is never trusted for coverage. Its counts are not the list's: ``calls`` leaves
out ``calls-client`` and ``calls-sip`` (§4.4), calls never charged (busy, failed, no
answer) may not count at all, and a subaccount or API key may not read usage (403/404).
So the counts are calibrated against page 1 (records listed per usage event on the days
page 1 holds completely), the windows still partition the range whatever the counts
(cuts at midnights only, the newest window reaching ``end``, the oldest ``start``), a
window that overflows follows ``next_page_uri`` and a multi-day one found to hold
several pages is split as any other; an absent, erroring or unreadable map leaves the
plan as it was without one.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from .parse import Page
from .parse_arrow import values_of
from .plan_chains import DAY, Span, expected_pages, record_time

__all__ = ["USAGE_CATEGORY", "FILL", "daily_counts", "calibrate", "map_windows", "packed_windows",
           "fewest_pages"]

#: Per resource, the usage category counting one event per record of its list (calls
#: only: message usage counts segments, recordings' minutes, neither one per record).
USAGE_CATEGORY = {"calls": "calls"}
#: Windows are packed to this share of a page at the calibrated counts.
FILL = 0.95
#: Fewer usage events than this on page 1's complete days: no calibration (ratio 1).
MIN_CALIBRATION = 20
#: No map longer than this many days is used (20 years).
MAX_MAP_DAYS = 20 * 366
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
#: A day counts at most this many records (a hostile count must not overflow anything).
MAX_COUNT = 10 ** 9


def daily_counts(page: Page) -> dict[pd.Timestamp, int] | None:
    """``{UTC midnight: count}`` from a Usage Records ``Daily`` page; None when the page
    is not a usable map (a next page, a record spanning days, an unreadable field)."""
    if page.next_page_uri:
        return None
    out: dict[pd.Timestamp, int] = {}
    for rec in page.records:
        start, end, count = rec.get("start_date"), rec.get("end_date"), rec.get("count")
        if not isinstance(start, str) or not _ISO_DAY.match(start) or end not in (None, start):
            return None
        try:
            day, n = pd.Timestamp(start, tz="UTC"), int(count)
        except (TypeError, ValueError, OverflowError):
            return None
        if not 0 <= n <= MAX_COUNT:
            return None
        out[day] = min(MAX_COUNT, out.get(day, 0) + n)
    if out and (max(out) - min(out)) / DAY > MAX_MAP_DAYS:
        return None
    return out


def _days(records: list[dict[str, Any]], field: str) -> Counter:
    """Records per UTC midnight of ``field`` (RFC 2822; each distinct day parsed once)."""
    by_prefix: Counter = Counter()
    for value in values_of(records, field):
        if isinstance(value, str):
            by_prefix[value[:16] if value.endswith("+0000") else value] += 1
    out: Counter = Counter()
    for key, n in by_prefix.items():
        t = record_time({"t": key if len(key) > 16 else key + " 00:00:00 +0000"}, "t")
        if t is not None:
            out[t.normalize()] += n
    return out


def calibrate(counts: dict[pd.Timestamp, int], page: Page, field: str) -> float:
    """Records listed per usage event, from page 1 (newest ``date_created`` first): the
    days after the day of its oldest record are complete in it (as far as ``field``, the
    list's filter field, comes after ``date_created``). 1.0 when too little to tell."""
    oldest = record_time(page.records[-1]) if page.records else None
    if oldest is None:
        return 1.0
    cut = oldest.normalize() + DAY
    listed = sum(n for day, n in _days(page.records, field).items() if day >= cut)
    events = sum(n for day, n in counts.items() if day >= cut)
    if events < MIN_CALIBRATION or listed == 0:
        return 1.0
    return min(max(listed / events, 0.25), 10.0)


def map_windows(counts: dict[pd.Timestamp, int], start: pd.Timestamp | None,
                end: pd.Timestamp | None, *, page_size: int, ratio: float = 1.0,
                fill: float = FILL) -> list[tuple[Span, float]]:
    """Windows partitioning ``[start, end)`` at midnights, newest first, each with its
    expected records: consecutive days packed while they fit ``fill`` of a page, a day
    expected to hold more alone. Days the map does not list count 0 (they join their
    neighbours); with no day listed inside the range, one window is the whole range."""
    low = start.normalize() if start is not None else None
    high = (end - pd.Timedelta(microseconds=1)).normalize() if end is not None else None
    days = sorted(d for d in counts if (low is None or d >= low) and (high is None or d <= high))
    if not days:
        return [((start, end), 0.0)]
    cap = fill * page_size
    windows: list[tuple[Span, float]] = []
    top, acc = end, 0.0           # the open window: [.., top), acc records so far
    for day in reversed(days):
        n = ratio * counts[day]
        if acc and acc + n > cap and (top is None or day + DAY < top):
            windows.append(((day + DAY, top), acc))
            top, acc = day + DAY, 0.0
        acc += n
    windows.append(((start, top), acc))
    return [(span, acc) for span, acc in windows if _nonempty(span)]


def _nonempty(span: Span) -> bool:
    s, e = span
    return s is None or e is None or s < e



#: The most pages a map's window is packed to (see :func:`packed_windows`).
MAX_PACK = 8


def packing_score(windows: list[tuple[Span, float]], page_size: int,
                  workers: int) -> tuple[int, int, int]:
    """(rounds, longest chain, requests) the windows are expected to take on ``workers``.

    The pages of one window are sequential, the windows independent: with the longest
    chains served first (the plan's order), no schedule beats the larger of the longest
    chain and the requests shared out over the workers, and that is what is counted."""
    pages = [expected_pages(n, page_size) for _, n in windows]
    total, longest = sum(pages), max(pages)
    return max(longest, -(-total // max(1, workers))), longest, total


def packed_windows(counts: dict[pd.Timestamp, int], start: pd.Timestamp | None,
                   end: pd.Timestamp | None, *, page_size: int, workers: int,
                   ratio: float = 1.0) -> list[tuple[Span, float]]:
    """Windows of the map packed for the best expected finish.

    Windows cut at midnights end in a partial page, so days each just over a page take
    two requests a day packed a page a window, where three such days together take
    four: fewer requests, but longer chains. For every longest chain from one page to
    :data:`MAX_PACK`, two packings are scored by :func:`packing_score` (rounds, then
    the longest chain, then requests): :func:`map_windows` filled to that many pages,
    and :func:`fewest_pages`, the cuts that need the fewest pages in all; the first
    best wins."""
    best, score = None, None
    for pages in range(1, MAX_PACK + 1):
        greedy = map_windows(counts, start, end, page_size=page_size, ratio=ratio,
                             fill=pages - 1 + FILL)
        options = [greedy] if pages == 1 or len(greedy) == 1 else \
            [greedy, fewest_pages(counts, start, end, page_size=page_size, ratio=ratio,
                                  most=pages)]
        for windows in options:
            key = packing_score(windows, page_size, workers)
            if score is None or key < score:
                best, score = windows, key
        if len(greedy) == 1:
            break
    return best


def fewest_pages(counts: dict[pd.Timestamp, int], start: pd.Timestamp | None,
                 end: pd.Timestamp | None, *, page_size: int, ratio: float = 1.0,
                 most: int) -> list[tuple[Span, float]]:
    """Windows partitioning ``[start, end)`` at midnights (as :func:`map_windows` cuts
    them) that take the fewest pages in all, none over ``most`` pages but for a window
    of one day with records (empty days join it, as in :func:`map_windows`).

    A window's pages are counted with :data:`FILL`'s margin (``k`` pages hold up to
    ``k - 1 + FILL`` pages of expected records). Filling windows greedily from the
    newest day misses cuts that save a partial page: on 60 days of 300-1,240 calls
    (four pages at most a window) it took 70 pages where 63 suffice. Dynamic
    programming over the days, one numpy step a day over the cuts that can fit."""
    low = start.normalize() if start is not None else None
    high = (end - pd.Timedelta(microseconds=1)).normalize() if end is not None else None
    days = sorted(d for d in counts if (low is None or d >= low) and (high is None or d <= high))
    if not days:
        return [((start, end), 0.0)]
    held_by_day = np.array([ratio * counts[d] for d in days], dtype=float)
    sums = np.concatenate([[0.0], np.cumsum(held_by_day)])
    busy = np.concatenate([[0], np.cumsum(held_by_day > 0)])    # days holding records
    n = len(days)
    best = np.zeros(n + 1)
    cut = np.zeros(n + 1, dtype=np.int64)
    cap = (most - 1 + FILL) * page_size + 1e-6      # what ``most`` pages may hold
    for i in range(1, n + 1):
        # a window of days j..i-1 fits when it holds at most ``cap``, or one busy day
        lo = min(int(np.searchsorted(sums, sums[i] - cap, side="left")),
                 int(np.searchsorted(busy, busy[i] - 1, side="left")), i - 1)
        held = sums[i] - sums[lo:i]
        pages = np.maximum(1, np.ceil(held / page_size - FILL + 1 - 1e-9))
        alone = busy[i] - busy[lo:i] <= 1
        cost = np.where((pages <= most) | alone, best[lo:i] + pages, np.inf)
        j = int(np.argmin(cost[::-1]))               # ties: the latest cut (fewest days)
        cut[i], best[i] = i - 1 - j, cost[len(cost) - 1 - j]
    runs, i = [], n
    while i > 0:
        runs.append((int(cut[i]), i))
        i = int(cut[i])
    windows = []
    for j, i in runs:                               # newest first, as map_windows
        lo = start if j == 0 else days[j - 1] + DAY
        hi = end if i == n else days[i - 1] + DAY
        windows.append(((lo, hi), float(sums[i] - sums[j])))
    return [(span, acc) for span, acc in windows if _nonempty(span)]
