"""Event times with a daily and weekly rhythm, and deterministic sids.

Events are drawn per account and UTC day as Poisson counts scaled by a weekday weight
(quieter weekends), then placed at a local business-hours time of day in the account's
(fixed, DST-free) UTC offset.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sample_times", "sid_parts", "format_sids", "random_hex", "HOUR_WEIGHTS",
           "WEEKDAY_WEIGHTS"]

#: Relative activity per local hour of day.
HOUR_WEIGHTS = np.array([0.15, 0.1, 0.1, 0.1, 0.15, 0.25, 0.5, 1.0, 2.0, 3.0, 3.2, 3.0,
                         2.3, 2.8, 3.0, 3.0, 2.8, 2.0, 1.3, 1.0, 0.8, 0.6, 0.4, 0.25])
#: Relative activity per weekday, Monday first.
WEEKDAY_WEIGHTS = np.array([1.0, 1.05, 1.05, 1.0, 0.95, 0.35, 0.25])
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def sample_times(rng: np.random.Generator, per_day: float, start: int, end: int,
                 shares: np.ndarray, tz_hours: np.ndarray, active_until: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Draw event times in ``[start, end]`` (epoch seconds) for each account.

    ``per_day`` is the mean number of events per day over the whole account tree;
    account ``a`` gets the fraction ``shares[a]`` of it and no events after
    ``active_until[a]``. Returns ``(account index int16, epoch seconds int64)``, unsorted.
    """
    first, last = start // 86400 - 1, end // 86400 + 1
    days = np.arange(first, last + 1, dtype=np.int64)
    weekday = (days + 3) % 7                       # 1970-01-01 was a Thursday
    day_w = WEEKDAY_WEIGHTS[weekday] / WEEKDAY_WEIGHTS.mean()
    lam = per_day * np.outer(shares / shares.sum(), day_w)        # [account, day]
    counts = rng.poisson(lam).ravel()
    n_acc = len(shares)
    acct = np.repeat(np.repeat(np.arange(n_acc, dtype=np.int16), len(days)), counts)
    day = np.repeat(np.tile(days, n_acc), counts)
    hour = rng.choice(24, size=len(day), p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    sec = rng.integers(0, 3600, size=len(day))
    t = day * 86400 + hour * 3600 + sec - (tz_hours[acct] * 3600).astype(np.int64)
    keep = (t >= start) & (t <= end) & (t <= active_until[acct])
    return acct[keep], t[keep]


def sid_parts(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Random 128-bit sid bodies as two uint64 arrays (high, low)."""
    top = np.iinfo(np.uint64).max
    hi = rng.integers(0, top, size=n, dtype=np.uint64, endpoint=True)
    lo = rng.integers(0, top, size=n, dtype=np.uint64, endpoint=True)
    return hi, lo


def format_sids(prefix: str, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """``prefix`` + 32 lowercase hex digits per (hi, lo), vectorised; returns a str array."""
    n = len(hi)
    raw = np.stack([hi, lo], axis=1).astype(">u8").view(np.uint8).reshape(n, 16)
    out = np.empty((n, 2 + 32), dtype=np.uint8)
    out[:, :2] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    out[:, 2::2] = _HEX[raw >> 4]
    out[:, 3::2] = _HEX[raw & 15]
    return out.view("S34").ravel().astype("U34")


def random_hex(rng: np.random.Generator, prefix: str = "") -> str:
    """One ``prefix`` + 32-hex-digit string (sids, auth tokens)."""
    hi, lo = sid_parts(rng, 1)
    return f"{prefix}{int(hi[0]):016x}{int(lo[0]):016x}"
