"""Injectable faults and request statistics for the simulator.

A :class:`Faults` value says what goes wrong and how often; a :class:`FaultInjector`
turns it into one :class:`Decision` per request. Decisions come from a
``random.Random(seed)`` drawn under a lock, always the same number of draws per
request, so the same sequence of requests meets the same faults.

Fault kinds, checked in this order for each request:

* ``concurrency_limit``: more than N requests in flight (this one included) -> 429 / 20429.
* one roll against the cumulative rates ``rate_429``, ``rate_500``, ``rate_503``,
  ``rate_truncate``, ``rate_drop`` (their sum must be <= 1):
  429 / 20429, 500 / 20500, 503 / 20503, a truncated body (full ``Content-Length``, the
  connection closed half way), or a dropped connection (closed before any byte is sent).
* ``latency`` seconds before answering, plus up to ``jitter`` seconds (uniform).

``retry_after`` (whole seconds, or None for no header) is sent as ``Retry-After`` on every
429 and 503. Twilio documents no ``Retry-After`` (wire-format notes section 4.3), so the
default is None.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field, fields, replace

__all__ = ["Decision", "FaultInjector", "Faults", "Stats", "FAULT_OPTIONS"]


@dataclass(frozen=True)
class Faults:
    """What goes wrong, and how often (all rates are probabilities per request)."""

    latency: float = 0.0
    jitter: float = 0.0
    rate_429: float = 0.0
    concurrency_limit: int | None = None
    retry_after: int | None = None
    rate_500: float = 0.0
    rate_503: float = 0.0
    rate_truncate: float = 0.0
    rate_drop: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("latency", "jitter"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 seconds")
        rates = [getattr(self, name) for name in _RATES]
        if any(r < 0 or r > 1 for r in rates) or sum(rates) > 1:
            raise ValueError("fault rates must be in [0, 1] and sum to at most 1")
        if self.concurrency_limit is not None and self.concurrency_limit < 1:
            raise ValueError("concurrency_limit must be >= 1 or None")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must be >= 0 seconds or None")


#: The rate options, in the order one roll is compared against them.
_RATES = ("rate_429", "rate_500", "rate_503", "rate_truncate", "rate_drop")
_OUTCOME = {"rate_429": "429", "rate_500": "500", "rate_503": "503",
            "rate_truncate": "truncate", "rate_drop": "drop"}

#: The fault keywords of ``running(**options)``: every :class:`Faults` field, with the
#: fault ``seed`` spelled ``fault_seed`` (``seed`` is the dataset's).
FAULT_OPTIONS: frozenset[str] = frozenset(
    "fault_seed" if f.name == "seed" else f.name for f in fields(Faults))


@dataclass(frozen=True)
class Decision:
    """What happens to one request.

    ``fault`` is None (serve normally), ``"429"``, ``"429-concurrency"``, ``"500"``,
    ``"503"``, ``"truncate"`` or ``"drop"``; ``latency`` is the delay in seconds;
    ``in_flight`` the number of requests in flight when this one arrived (itself included).
    """

    fault: str | None
    latency: float
    in_flight: int
    retry_after: int | None
    number: int


@dataclass
class Stats:
    """Counters that tests and benchmarks read (a snapshot copy is taken by ``copy``)."""

    requests: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    statuses: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)

    def copy(self) -> Stats:
        return Stats(self.requests, self.in_flight, self.max_in_flight,
                     Counter(self.statuses), Counter(self.faults))


class FaultInjector:
    """Thread-safe source of per-request :class:`Decision` values, plus the :class:`Stats`."""

    def __init__(self, faults: Faults | None = None) -> None:
        self._lock = threading.Lock()
        self._stats = Stats()
        self.set(faults or Faults())

    @property
    def faults(self) -> Faults:
        return self._faults

    def set(self, faults: Faults | None = None, /, **changes) -> Faults:
        """Replace the fault settings (and re-seed); ``changes`` edit the current ones."""
        with self._lock:
            base = faults if faults is not None else getattr(self, "_faults", Faults())
            self._faults = replace(base, **changes) if changes else base
            self._rng = random.Random(self._faults.seed)
            return self._faults

    def enter(self) -> Decision:
        """Count a request in and decide its fate (two RNG draws, always)."""
        with self._lock:
            stats, f = self._stats, self._faults
            stats.requests += 1
            stats.in_flight += 1
            stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
            roll, jitter_roll = self._rng.random(), self._rng.random()
            fault = _pick(f, roll, stats.in_flight)
            if fault is not None:
                stats.faults[fault] += 1
            return Decision(fault, f.latency + f.jitter * jitter_roll, stats.in_flight,
                            f.retry_after, stats.requests)

    def leave(self, status: int | str) -> None:
        """Count a request out with the status it got (``"drop"`` when dropped)."""
        with self._lock:
            self._stats.in_flight -= 1
            self._stats.statuses[status] += 1

    def stats(self) -> Stats:
        with self._lock:
            return self._stats.copy()

    def reset_stats(self) -> None:
        with self._lock:
            self._stats = Stats(in_flight=self._stats.in_flight,
                                max_in_flight=self._stats.in_flight)


def _pick(f: Faults, roll: float, in_flight: int) -> str | None:
    if f.concurrency_limit is not None and in_flight > f.concurrency_limit:
        return "429-concurrency"
    edge = 0.0
    for name in _RATES:
        edge += getattr(f, name)
        if roll < edge:
            return _OUTCOME[name]
    return None
