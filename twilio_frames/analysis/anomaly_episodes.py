"""Candidate episodes of :func:`twilio_frames.traffic_anomalies` and their signals.

Two kinds of cell are tested against the account's own trailing window:

* a *block* day: every event of one account to one destination block (the number less
  its last ``prefix_digits`` digits) on one UTC day;
* a *country* day: every event of one account to one country on one UTC day.

A cell is a candidate when it holds at least ``min_count`` events and at least
``min_ratio`` times the cell's trailing daily mean. An account-country-day with candidate
blocks keeps only their events (so a pump inside a busy country is not diluted by the
honest traffic around it); otherwise a candidate country day keeps all its events.
Candidate days of one account and country that follow each other (gap up to
``merge_gap_days``) form one episode, and each episode gets its signals.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .anomaly_events import Events, trailing
from ..money import exact_group_sums

__all__ = ["episodes"]

_EVER = 1 << 40        # a window longer than any history: "ever before"


def _cells(key: np.ndarray, day: np.ndarray):
    """Distinct (key, day) cells: per row its cell id; per cell its key, day and size."""
    span = int(day.max() - day.min() + 1)
    combo = key * span + (day - day.min())
    ids, uniq = _factorize(combo)
    return ids, uniq // span, uniq % span + day.min(), np.bincount(ids, minlength=len(uniq))


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, ids = np.unique(values, return_inverse=True)
    return ids.ravel(), uniq


def _flag(cells, hist, rules, window: int, min_hist: int, weight):
    """Rows in candidate cells, and each row's cell daily rate (expected).

    ``cells`` is :func:`_cells` of the key; the trailing window counts only rows of
    ``weight`` 1 (not candidates of a first pass), summed per cell first.
    """
    ids, ckey, cday, size = cells
    per_cell = np.bincount(ids, weight, len(ckey)).astype(np.int64)
    trail = trailing(ckey, cday, per_cell, ckey, cday, window)[:, 0]
    cell_hist = np.zeros(len(ckey), np.int64)
    cell_hist[ids] = hist
    rate = trail / np.maximum(np.minimum(window, cell_hist), 1)
    flagged = ((size >= rules.min_count) & (size >= rules.min_ratio * rate)
               & (cell_hist >= min_hist))
    return flagged[ids], rate[ids], ids


def _runs(key: np.ndarray, day: np.ndarray, gap: int) -> np.ndarray:
    """Episode id per row: consecutive candidate days (gap <= ``gap``) of one key."""
    ids, ckey, cday, _ = _cells(key, day)      # cells come sorted by key, then day
    new = np.ones(len(ckey), bool)
    new[1:] = (ckey[1:] != ckey[:-1]) | (cday[1:] - cday[:-1] > gap + 1)
    return (np.cumsum(new) - 1)[ids]


def _adjacent(ep: np.ndarray, num: np.ndarray, n_ep: int, gap: int):
    """Per episode: distinct numbers and the share with a neighbour within ``gap``."""
    pairs = np.unique(np.stack([ep, num], axis=1), axis=0)
    e, n = pairs[:, 0], pairs[:, 1]
    near = np.zeros(len(n), bool)
    step = (e[1:] == e[:-1]) & (n[1:] - n[:-1] <= gap)
    near[1:] |= step
    near[:-1] |= step
    distinct = np.bincount(e, minlength=n_ep)
    return distinct, np.bincount(e, near, n_ep) / np.maximum(distinct, 1)


def _prefix(ep, dest, dests, n_ep: int) -> list[str]:
    """Longest common prefix of each episode's destinations (of its min and max)."""
    rank = np.empty(len(dests), np.int64)
    order = np.argsort(dests.astype(str), kind="stable")
    rank[order] = np.arange(len(dests))
    r = rank[dest]
    lo = np.full(n_ep, len(dests)), np.full(n_ep, -1)
    np.minimum.at(lo[0], ep, r)
    np.maximum.at(lo[1], ep, r)
    return [os.path.commonprefix([str(dests[order[a]]), str(dests[order[b]])])
            for a, b in zip(lo[0], lo[1])]


def _spill(rows, ep, by_block, bkey, ckey, day, cand):
    """Add to each episode the other events of its blocks (or country) on the day before
    and after: the start of a burst that began late on a quiet day belongs to it."""
    off = int(bkey.max()) + 1
    key = np.where(by_block, bkey[rows], ckey[rows] + off)
    near = pd.DataFrame({"key": np.tile(key, 2), "day": np.concatenate([day[rows] - 1,
                                                                         day[rows] + 1]),
                         "ep": np.tile(ep, 2), "block": np.tile(by_block, 2)})
    near = near.drop_duplicates(["key", "day"])
    other = np.flatnonzero(~cand & np.isin(day, near["day"].unique()))
    ask = pd.DataFrame({"row": np.tile(other, 2),
                        "key": np.concatenate([bkey[other], ckey[other] + off]),
                        "day": np.tile(day[other], 2)})
    hit = ask.merge(near, on=["key", "day"]).drop_duplicates("row")
    order = np.argsort(np.concatenate([rows, hit["row"].to_numpy()]), kind="stable")
    return (np.concatenate([rows, hit["row"].to_numpy()])[order],
            np.concatenate([ep, hit["ep"].to_numpy()])[order],
            np.concatenate([by_block, hit["block"].to_numpy(bool)])[order])


def _account_baseline(ev: Events, akey, ep_akey, ep_day, window: int, weight) -> dict:
    """Trailing account-level totals at each episode's first day (candidates left out)."""
    vals = np.stack([weight, ev.bad * weight, np.where(ev.priced, ev.cost, 0) * weight,
                     np.where(ev.priced, ev.units, 0) * weight], axis=1)
    b = trailing(akey, ev.day, vals, ep_akey, ep_day, window)
    ids, ckey, cday, _ = _cells(akey, ev.day)
    hours = np.bincount(ids * 24 + ev.hour, weight,
                        len(ckey) * 24).astype(np.int64).reshape(-1, 24)
    h = trailing(ckey, cday, hours, ep_akey, ep_day, window)
    return {"count": b[:, 0], "bad": b[:, 1], "cost": b[:, 2], "units": b[:, 3],
            "hours": h}


def episodes(ev: Events, rules, window: int, min_hist: int) -> dict | None:
    """Candidate episodes and their raw signals (arrays, one entry per episode)."""
    if len(ev) == 0:
        return None
    akey = ev.acct * max(len(ev.currencies), 1) + ev.currency
    first = np.full(int(akey.max()) + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, akey, ev.day)
    hist = ev.day - first[akey]
    ckey = akey * len(ev.countries) + ev.country
    bkey = akey * len(ev.blocks) + ev.block
    b_cells, c_cells = _cells(bkey, ev.day), _cells(ckey, ev.day)
    cd_ids = c_cells[0]
    weight = np.ones(len(ev), np.int64)
    for _ in range(2):    # the second pass leaves the first pass's candidates out
        b_flag, b_rate, b_cell = _flag(b_cells, hist, rules, window, min_hist, weight)
        c_flag, c_rate, c_cell = _flag(c_cells, hist, rules, window, min_hist, weight)
        has_block = np.bincount(cd_ids, b_flag, cd_ids.max() + 1)[cd_ids] > 0
        cand = b_flag | (c_flag & ~has_block)
        weight = (~cand).astype(np.int64)
    rows = np.flatnonzero(cand)
    if not len(rows):
        return None
    ep = _runs(ckey[rows], ev.day[rows], rules.merge_gap_days)
    n_ep = int(ep.max()) + 1
    rows, ep, by_block = _spill(rows, ep, b_flag[rows], bkey, ckey, ev.day, cand)
    # expected events: the trailing daily rate of each distinct cell in the episode
    cell = np.where(by_block, b_cell[rows], c_cell[rows] + b_cell.max() + 1)
    rate = np.where(by_block, b_rate[rows], c_rate[rows])
    first_of_cell = np.unique(np.stack([ep, cell], axis=1), axis=0, return_index=True)[1]
    expected = np.bincount(ep[first_of_cell], rate[first_of_cell], n_ep)
    start_row = np.full(n_ep, -1)
    start_row[ep[::-1]] = rows[::-1]                 # first row of each episode
    t = ev.t[rows]
    t_min, t_max = np.full(n_ep, np.iinfo(np.int64).max), np.full(n_ep, -1 << 62)
    np.minimum.at(t_min, ep, t)
    np.maximum.at(t_max, ep, t)
    ep_day = t_min // 86_400_000_000
    ep_akey, ep_ckey = akey[start_row], ckey[start_row]
    prior = trailing(ckey, ev.day, np.ones(len(ckey), np.int64), ep_ckey, ep_day, _EVER)
    bprior = trailing(bkey, ev.day, np.ones(len(bkey), np.int64), bkey[rows], ev.day[rows],
                      _EVER)[:, 0]
    distinct, adjacent = _adjacent(ep, ev.num[rows], n_ep, rules.adjacent_gap)
    priced = ev.priced[rows]
    err = np.where(ev.bad[rows], ev.error[rows], 0)
    return {
        "ep": ep, "rows": rows, "n": np.bincount(ep, minlength=n_ep), "start": t_min,
        "end": t_max, "day": ep_day, "acct": ev.acct[start_row],
        "currency": ev.currency[start_row], "country": ev.country[start_row],
        "hist": ep_day - first[ep_akey], "expected": expected,
        "new_country": prior[:, 0] == 0,
        "new_block_share": np.bincount(ep, bprior == 0, n_ep) / np.bincount(ep, None, n_ep),
        "distinct": distinct, "adjacent": adjacent,
        "bad": np.bincount(ep, ev.bad[rows], n_ep),
        "cost": exact_group_sums(ep, np.where(priced, ev.cost[rows], 0), n_ep),
        "units": np.bincount(ep, np.where(priced, ev.units[rows], 0), n_ep),
        "hour": ev.hour[rows], "errors": err,
        "prefix": _prefix(ep, ev.dest[rows], ev.dests, n_ep),
        "base": _account_baseline(ev, akey, ep_akey, ep_day, window, weight),
    }
