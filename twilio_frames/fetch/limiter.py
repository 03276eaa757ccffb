"""How many requests one account has in flight: slow start, then AIMD, pauses shared.

Twilio's REST API limits concurrency per account and answers the excess with 429 /
20429; those requests "aren't processed and are safe to retry after backing off", and
the ``Twilio-Concurrent-Requests`` response header reports the count (reference
``sync-and-scale.md`` §1, ``twilio-wire-format.md`` §4.3). The limit itself is not
documented, so :class:`AdaptiveLimiter` learns it:

* **Slow start.** The cap starts at ``initial`` (4, or ``max_workers`` if smaller) and
  grows by one per success (doubling per round trip) up to ``max_workers``, so a burst
  of new windows meets at most a few 429s before the first one is seen. An automatic
  plan's first round is page 1 and the usage map (two requests), so its windows go out
  6 at once, then 12, then all 16. Starting at 6 (windows 8 at once) was measured side
  by side: the 54,766-call fetch 8.48x/8.59x twilio-python against 8.38x/7.73x from 4,
  within the noise, but a server limit of 4 answered 7.8-10.1% of the requests 429
  against 4.1-6.6% (since usage-map windows are packed several days each, a fetch
  makes fewer requests, so the burst's 429s weigh more; docs/benchmarks.md).
* **Multiplicative decrease.** A 429 halves the cap, once per round: 429s of requests
  sent before the last decrease are the same congestion and do not halve it again. The
  cap never goes above one less than the requests this client had in flight when the
  refused one was sent, or than ``Twilio-Concurrent-Requests`` minus one where the
  server sends it: it refused at that count.
* **Additive increase.** After a 429, each success adds ``1/cap`` (about one per round
  trip) up to that ceiling; past it only after a growing number of successes (a probe
  that fails doubles the wait before the next one).
* **Shared pauses.** A ``Retry-After`` pauses every request of the account, not only the
  refused one: requests about to start wait until the pause ends plus a jitter of up
  to a quarter of it, so the pool does not come back as a herd.

* **Longest rest first.** Requests waiting for a slot get it in the order of their
  priority (:func:`set_priority`, set by the scheduler on the worker's thread: the pages
  the request's chain is expected still to take), then in the order they came: the
  scheduler's critical-path order would otherwise be lost at the limiter, where more
  threads than ``max_workers`` wait for a cap that slow start keeps lower.

``sleep``, ``clock`` and ``random`` come from the :class:`~twilio_frames.fetch.http.RetryPolicy`
(tests replace them). Thread-safe.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
from dataclasses import dataclass

__all__ = ["AdaptiveLimiter", "Ticket", "INITIAL", "PAUSE_JITTER", "set_priority"]

#: The cap before anything is known (slow start grows it from here).
INITIAL = 4
#: Requests wait a pause's end plus up to this share of the pause, at random.
PAUSE_JITTER = 0.25
#: Successes at the ceiling before probing one above it (doubled after a failed probe).
PROBE_AFTER = 32


_local = threading.local()


def set_priority(level: int) -> None:
    """This thread's requests wait for a slot with ``level`` (higher goes first; 0, the
    default, last)."""
    _local.priority = level


def _priority() -> int:
    return getattr(_local, "priority", 0)


@dataclass(frozen=True)
class Ticket:
    """One request's slot: the round it was sent in and how many were in flight."""

    epoch: int
    in_flight: int


class AdaptiveLimiter:
    """The in-flight cap of one account (see the module docstring)."""

    def __init__(self, max_in_flight: int, *, policy, initial: int = INITIAL) -> None:
        self.max = max_in_flight
        self.policy = policy
        self.cap = float(min(max_in_flight, max(1, initial)))
        self.ceiling = float(max_in_flight)
        self.slow_start = True
        self.in_flight = 0
        self.epoch = 0
        self.resume_at = 0.0            # policy.clock() time a shared pause ends
        self.successes = 0              # since the last decrease
        self.probe_after = PROBE_AFTER
        self.server_concurrency: int | None = None      # last Twilio-Concurrent-Requests
        self.limited = 0                # 429s seen
        self.paused = 0.0               # seconds requests spent in shared pauses
        self.peak = 0                   # most requests in flight at once
        self._cond = threading.Condition()
        self._queue: list[tuple[int, int]] = []      # (-priority, arrival) waiting for a slot
        self._arrivals = itertools.count()

    def acquire(self, *, paused: bool = False) -> Ticket:
        """Wait out a shared pause (jittered; not when ``paused``: the request has just
        waited its own), then for a free slot under the cap."""
        with self._cond:
            wait = 0.0 if paused else self.resume_at - self.policy.clock()
        if wait > 0:
            wait *= 1 + PAUSE_JITTER * self.policy.random()
            with self._cond:
                self.paused += wait
            self.policy.sleep(wait)
        with self._cond:
            me = (-_priority(), next(self._arrivals))
            heapq.heappush(self._queue, me)
            try:
                while self.in_flight >= max(1, math.floor(self.cap)) or self._queue[0] != me:
                    self._cond.wait()
            except BaseException:            # interrupted: out of the line, not blocking it
                self._queue.remove(me)
                heapq.heapify(self._queue)
                self._cond.notify_all()
                raise
            heapq.heappop(self._queue)
            if self._queue:
                self._cond.notify_all()          # the next in line may fit too
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            return Ticket(self.epoch, self.in_flight)

    def release(self, ticket: Ticket, *, limited: bool = False, ok: bool = False,
                concurrent: int | None = None, retry_after: float | None = None) -> None:
        """The request is over: ``ok`` (a 200), ``limited`` (a 429) or neither."""
        with self._cond:
            self.in_flight -= 1
            if concurrent is not None:
                self.server_concurrency = concurrent
            if limited:
                self._decrease(ticket, concurrent, retry_after)
            elif retry_after:
                self.pause(retry_after)
            elif ok:
                self._increase()
            self._cond.notify_all()

    def _decrease(self, ticket: Ticket, concurrent: int | None, retry_after: float | None) -> None:
        self.limited += 1
        self.pause(retry_after)
        # the server refused at its count (it counts every client of the account);
        # without the header, at ours when this request was sent
        bound = (concurrent if concurrent is not None else ticket.in_flight) - 1
        if bound >= 1:                       # below 1: not a matter of concurrency
            self.ceiling = float(min(self.ceiling, bound) if not self.slow_start else bound)
        if ticket.epoch != self.epoch:       # the same congestion as the last decrease
            self.cap = min(self.cap, self.ceiling)
            return
        if not self.slow_start and self.successes >= self.probe_after:
            self.probe_after *= 2            # a probe above the ceiling failed
        self.slow_start = False
        self.epoch += 1
        self.successes = 0
        self.cap = max(1.0, min(self.cap / 2, self.ceiling))

    def pause(self, seconds: float | None) -> None:
        """A ``Retry-After``: no request of the account starts for ``seconds``."""
        if seconds:
            self.resume_at = max(self.resume_at, self.policy.clock() + seconds)

    def _increase(self) -> None:
        self.successes += 1
        if self.slow_start:
            self.cap = min(float(self.max), self.cap + 1)
            return
        top = self.ceiling
        if self.successes >= self.probe_after and self.ceiling < self.max:
            top = self.ceiling = self.ceiling + 1          # probe one above
            self.successes = 0
        self.cap = min(top, float(self.max), self.cap + 1 / max(self.cap, 1.0))

    def describe(self) -> str:
        """Words for an error message: the cap, the 429s, what the server reported."""
        with self._cond:
            parts = [f"client cap {max(1, math.floor(self.cap))} of max_workers={self.max}",
                     f"{self.limited} answers 429 so far"]
            if self.server_concurrency is not None:
                parts.append(f"server reported {self.server_concurrency} concurrent requests")
            return ", ".join(parts)
