"""Event times with a daily and weekly rhythm, per-day random streams, and sids.

History is drawn day by day: every random value of the events of (local) day ``d`` comes
from its own generator, ``numpy.random.default_rng([seed, stream, d])``. A day's events are
therefore the same whichever other days (and whichever ``now``) a dataset covers, which is
what lets a later ``now`` show the same history plus what happened since.

Events are drawn per account and day as Poisson counts scaled by a weekday weight (quieter
weekends), then placed at a local business-hours time of day in the account's (fixed,
DST-free) UTC offset.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DayStreams", "sample_days", "sample_times", "stream_days", "sid_parts", "format_sids", "random_hex",
           "HOUR_WEIGHTS", "WEEKDAY_WEIGHTS"]

#: Relative activity per local hour of day.
HOUR_WEIGHTS = np.array([0.15, 0.1, 0.1, 0.1, 0.15, 0.25, 0.5, 1.0, 2.0, 3.0, 3.2, 3.0,
                         2.3, 2.8, 3.0, 3.0, 2.8, 2.0, 1.3, 1.0, 0.8, 0.6, 0.4, 0.25])
#: Relative activity per weekday, Monday first.
WEEKDAY_WEIGHTS = np.array([1.0, 1.05, 1.05, 1.0, 0.95, 0.35, 0.25])
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_TOP = np.iinfo(np.uint64).max


class DayStreams:
    """One random generator per day; each draw gives one value per event, days in order.

    ``counts[j]`` is the number of events of ``days[j]``. A draw takes every day's values
    from that day's generator, so the values of one day never depend on the other days.
    Draws are whole columns: a value used only by some events (a child leg's ring time) is
    drawn for every event and the rest are ignored, so a day's stream does not depend on
    ``now``. Uniforms are drawn ``BLOCK`` columns at a time (one generator call per day per
    block, not per column: a call costs about a microsecond whatever its size), and every
    other distribution is made from them.
    """

    BLOCK = 4

    def __init__(self, seed: int, stream: int, days, counts=None):
        self.days = np.asarray(days, np.int64)
        self._gens = [np.random.default_rng([seed, stream, int(d)]) for d in self.days]
        self.counts = None if counts is None else [int(c) for c in counts]
        self._block, self._next = np.zeros((0, 0)), self.BLOCK

    def per_day(self, draw) -> list:
        """``draw(generator, j)`` for each day ``j``: for the per-day draws (counts)."""
        return [draw(g, j) for j, g in enumerate(self._gens)]

    def random(self) -> np.ndarray:
        """Uniform in [0, 1), one per event."""
        if self._next == self.BLOCK:
            parts = [g.random((self.BLOCK, n)) for g, n in zip(self._gens, self.counts)]
            self._block = np.concatenate(parts, axis=1)
            self._next = 0
        self._next += 1
        return self._block[self._next - 1].copy()

    def integers(self, low: int, high: int) -> np.ndarray:
        """Integers in ``[low, high)`` (scalar bounds)."""
        return low + (self.random() * (high - low)).astype(np.int64)

    def below(self, high: np.ndarray) -> np.ndarray:
        """Integers in ``[0, high)`` with a bound per event."""
        return (self.random() * high).astype(np.int64)

    def choice(self, k: int, p: np.ndarray) -> np.ndarray:
        """Indices in ``[0, k)`` with probabilities ``p``."""
        edges = np.cumsum(p) / np.sum(p)
        return np.minimum(np.searchsorted(edges, self.random(), side="right"), k - 1)

    def lognormal(self, mean: float, sigma: float) -> np.ndarray:
        """``exp(mean + sigma * z)``, z standard normal (Box-Muller from two uniforms)."""
        radius = np.sqrt(-2.0 * np.log1p(-self.random()))
        return np.exp(mean + sigma * radius * np.cos(2 * np.pi * self.random()))

    def sid_parts(self) -> tuple[np.ndarray, np.ndarray]:
        """Random 128-bit sid bodies (high, low uint64) per event."""
        parts = [np.frombuffer(g.bytes(16 * n), np.uint64) for g, n in
                 zip(self._gens, self.counts)]
        raw = np.concatenate(parts).reshape(-1, 2)
        return raw[:, 0].copy(), raw[:, 1].copy()


def stream_days(start: int, end: int) -> np.ndarray:
    """The (local) days whose events can fall inside ``[start, end]`` (epoch seconds):
    one day either side, for the accounts' UTC offsets."""
    return np.arange(start // 86400 - 1, end // 86400 + 2, dtype=np.int64)


def sample_times(seed: int, stream: int, per_day: float, start: int, end: int,
                 shares: np.ndarray, tz_hours: np.ndarray
                 ) -> tuple[DayStreams, np.ndarray, np.ndarray]:
    """Event times of every local day touching ``[start, end]`` (epoch seconds).

    ``per_day`` is the mean number of events per day over the whole account tree; account
    ``a`` gets the fraction ``shares[a]`` of it. Returns the day streams (positioned after
    the times, for the events' other draws), account indices (int16) and epoch seconds
    (int64) of *every* event of those days, in stream order: the caller keeps those inside
    its history (the times outside ``[start, end]`` are there so that the days' streams
    stay whole).
    """
    return sample_days(seed, stream, per_day, stream_days(start, end), shares, tz_hours)


def sample_days(seed: int, stream: int, per_day: float, days: np.ndarray,
                shares: np.ndarray, tz_hours: np.ndarray
                ) -> tuple[DayStreams, np.ndarray, np.ndarray]:
    """:func:`sample_times` of the given local ``days``: each day's events are the same
    whichever other days are drawn with it, so a history can be drawn a few days at a
    time (:mod:`.to_store`)."""
    days = np.asarray(days, np.int64)
    weekday = (days + 3) % 7                       # 1970-01-01 was a Thursday
    day_w = WEEKDAY_WEIGHTS[weekday] / WEEKDAY_WEIGHTS.mean()
    lam = per_day * np.outer(shares / shares.sum(), day_w)        # [account, day]
    streams = DayStreams(seed, stream, days)
    counts = np.array(streams.per_day(lambda g, j: g.poisson(lam[:, j])),
                      np.int64).reshape(len(days), len(shares))            # [day, account]
    streams.counts = counts.sum(axis=1).tolist()
    n_acc = len(shares)
    acct = np.repeat(np.tile(np.arange(n_acc, dtype=np.int16), len(days)), counts.ravel())
    day = np.repeat(days, counts.sum(axis=1))
    hour = streams.choice(24, HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    sec = streams.integers(0, 3600)
    t = day * 86400 + hour * 3600 + sec - (tz_hours[acct] * 3600).astype(np.int64)
    return streams, acct, t


def sid_parts(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Random 128-bit sid bodies as two uint64 arrays (high, low)."""
    hi = rng.integers(0, _TOP, size=n, dtype=np.uint64, endpoint=True)
    lo = rng.integers(0, _TOP, size=n, dtype=np.uint64, endpoint=True)
    return hi, lo


def format_sids(prefix: str, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """``prefix`` + 32 lowercase hex digits per (hi, lo), vectorised; returns a str array.

    The characters are written straight into the array's UCS-4 code units (a bytes
    array converted to str costs about three times as much)."""
    n = len(hi)
    raw = np.stack([hi, lo], axis=1).astype(">u8").view(np.uint8).reshape(n, 16)
    out = np.empty((n, 2 + 32), dtype=np.uint32)
    out[:, :2] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    out[:, 2::2] = _HEX[raw >> 4]
    out[:, 3::2] = _HEX[raw & 15]
    return out.view("U34").ravel()


def random_hex(rng: np.random.Generator, prefix: str = "") -> str:
    """One ``prefix`` + 32-hex-digit string (sids, auth tokens)."""
    hi, lo = sid_parts(rng, 1)
    return f"{prefix}{int(hi[0]):016x}{int(lo[0]):016x}"
