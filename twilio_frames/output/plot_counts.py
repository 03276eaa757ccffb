"""What the distribution plots draw, reduced partition by partition (DESIGN §8): a
pandas frame is one partition, a Dask frame many, and only counts travel back.

* :func:`heat_grid`: call legs per weekday and hour (7 x 24);
* :func:`duration_counts`: completed calls per whole duration in seconds, with exact
  quantiles from the counts and numpy's ``auto`` bin rule computed from them;
* :func:`status_counts`: messages per period and status.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import engine
from ..analysis.summaries import bucket

__all__ = ["duration_counts", "heat_grid", "histogram_edges", "quantile", "status_counts"]


def _heat_partial(part: pd.DataFrame, tz: str) -> np.ndarray:
    when = part["start_time"].fillna(part["date_created"]).dropna().dt.tz_convert(tz)
    grid = np.zeros((7, 24), dtype=np.int64)
    np.add.at(grid, (when.dt.day_of_week.to_numpy(), when.dt.hour.to_numpy()), 1)
    return grid


def heat_grid(calls, tz: str) -> np.ndarray:
    """Call legs by weekday (Monday first) and hour of their start in ``tz``."""
    parts = engine.partials(calls, _heat_partial, columns=(),
                            needed=("start_time", "date_created"), what="calls", tz=tz)
    return np.sum(parts, axis=0).astype(np.int64)


def _duration_partial(part: pd.DataFrame) -> pd.Series:
    done = (part["status"].astype("str") == "completed").to_numpy(bool)
    seconds = part.loc[done, "duration"].dropna().astype("int64")
    return seconds.value_counts()


def duration_counts(calls) -> pd.Series:
    """Completed calls per duration in seconds (index ascending)."""
    parts = engine.partials(calls, _duration_partial, columns=(),
                            needed=("status", "duration"), what="calls")
    counts = pd.concat(parts).groupby(level=0).sum() if parts else pd.Series(dtype="int64")
    return counts.sort_index().astype("int64")


def quantile(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    """The ``q`` quantile (numpy's linear method) of ``values`` (ascending) repeated
    ``counts`` times."""
    n = int(counts.sum())
    cum = np.cumsum(counts)
    h = q * (n - 1)
    low = int(np.floor(h))
    at = np.searchsorted(cum, [low, min(low + 1, n - 1)], side="right")
    a, b = float(values[at[0]]), float(values[at[1]])
    t = h - low
    return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t


def histogram_edges(values: np.ndarray, counts: np.ndarray, bins) -> np.ndarray:
    """Bin edges of the repeated ``values``: ``bins`` a number, or ``"auto"`` (numpy 2's
    rule: the Freedman-Diaconis width, at least half the square-root rule's, at most
    Sturges', from the exact counts); another rule name expands the values (memory: one
    float per call)."""
    if isinstance(bins, str) and bins != "auto":
        return np.histogram_bin_edges(np.repeat(values, counts), bins=bins)
    lo, hi = float(values[0]), float(values[-1])
    first, last = (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)
    if not isinstance(bins, str):
        return np.linspace(first, last, int(bins) + 1, endpoint=True)
    n = int(counts.sum())
    sturges = (hi - lo) / (np.log2(n) + 1.0)
    fd = 2.0 * (quantile(values, counts, 0.75) - quantile(values, counts, 0.25)) \
        * n ** (-1.0 / 3.0)
    width = min(max(fd, (hi - lo) / np.sqrt(n) / 2), sturges)     # numpy 2's "auto"
    bins_n = int(np.ceil((last - first) / width)) if width else 1
    return np.linspace(first, last, bins_n + 1, endpoint=True)


def _status_partial(part: pd.DataFrame, freq: str, tz: str) -> pd.DataFrame:
    period = bucket(part["date_sent"].fillna(part["date_created"]), freq, tz)
    frame = pd.DataFrame({"period": period.dt.tz_localize(None).to_numpy(),
                          "status": part["status"].astype("str").to_numpy()})
    return frame.groupby(["period", "status"], sort=True).size().rename("n").reset_index()


def status_counts(messages, freq: str, tz: str) -> pd.DataFrame:
    """Messages per period (rows, ascending) and status (columns, sorted), as
    ``pd.crosstab`` of the rows gives."""
    parts = engine.partials(messages, _status_partial, columns=(),
                            needed=("status", "date_sent", "date_created"), what="messages",
                            freq=freq, tz=tz)
    long = engine.regroup(parts, ["period", "status"])
    table = long.pivot_table(index="period", columns="status", values="n", aggfunc="sum",
                             fill_value=0, observed=True)
    table.index.name, table.columns.name = "period", "status"
    return table.sort_index().sort_index(axis=1).astype("int64")
