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

from .anomaly_cells import key_text
from .anomaly_events import trailing
from ..money import exact_group_sums

__all__ = ["episodes"]

_EVER = 1 << 40        # a window longer than any history: "ever before"


def _cells(key: np.ndarray, day: np.ndarray, n: np.ndarray | None = None):
    """Distinct (key, day) cells of fine cells: per fine cell its cell id; per cell its
    key, day and events (the fine cells' ``n`` summed)."""
    span = int(day.max() - day.min() + 1)
    combo = key * span + (day - day.min())
    ids, uniq = _factorize(combo)
    size = np.bincount(ids, n, len(uniq)).astype(np.int64)
    return ids, uniq // span, uniq % span + day.min(), size


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


def _runs_of(*columns: np.ndarray) -> np.ndarray:
    """Group ids of consecutive equal rows of ``columns`` (sorted frames: the groups)."""
    new = np.zeros(len(columns[0]), bool)
    new[:1] = True
    for col in columns:
        new[1:] |= col[1:] != col[:-1]
    return np.cumsum(new) - 1


def _keys(cells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Account-currency, country and block keys of the fine cells (sorted by
    account, currency, country, block, day)."""
    acct, cur, country = (cells[c].to_numpy(object) for c in ("account_sid", "currency",
                                                              "country"))
    akey = _runs_of(acct, cur)
    block = pd.factorize(cells["block"])[0].astype(np.int64)
    return akey, _runs_of(acct, cur, country), akey * (int(block.max()) + 1) + block


def flag_cells(cells: pd.DataFrame, rules, window: int, min_hist: int) -> dict | None:
    """Candidate fine cells, the episode each belongs to, and the fine cells whose rows
    an episode needs (``wanted``: candidates and the cells its burst spills into)."""
    if not len(cells):
        return None
    akey, ckey, bkey = _keys(cells)
    day, n = cells["day"].to_numpy(np.int64), cells["n"].to_numpy(np.int64)
    first = np.full(int(akey.max()) + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, akey, day)
    hist = day - first[akey]
    b_cells, c_cells = _cells(bkey, day, n), _cells(ckey, day, n)
    cd_ids = c_cells[0]
    weight = n
    for _ in range(2):    # the second pass leaves the first pass's candidates out
        b_flag, b_rate, b_cell = _flag(b_cells, hist, rules, window, min_hist, weight)
        c_flag, c_rate, c_cell = _flag(c_cells, hist, rules, window, min_hist, weight)
        has_block = np.bincount(cd_ids, b_flag, cd_ids.max() + 1)[cd_ids] > 0
        cand = b_flag | (c_flag & ~has_block)
        weight = np.where(cand, 0, n)
    found = np.flatnonzero(cand)
    if not len(found):
        return None
    ep = _runs(ckey[found], day[found], rules.merge_gap_days)
    idx, ep, by_block = _spill(found, ep, b_flag[found], bkey, ckey, day, cand)
    cell = np.where(by_block, b_cell[idx], c_cell[idx] + b_cell.max() + 1)
    rate = np.where(by_block, b_rate[idx], c_rate[idx])
    return {"idx": idx, "ep": ep, "cand": cand, "weight": weight, "akey": akey,
            "ckey": ckey, "first": first, "cell": cell, "rate": rate,
            "wanted": cells.iloc[idx][["account_sid", "currency", "country", "block", "day"]]
            .reset_index(drop=True)}


def _account_baseline(cells: pd.DataFrame, hours: pd.DataFrame, rows: pd.DataFrame,
                      state: dict, ep_akey, ep_day, window: int) -> dict:
    """Trailing account-level totals at each episode's first day (candidates left out):
    sums over the fine cells, and the hour counts less the candidates' events."""
    akey, day = state["akey"], cells["day"].to_numpy(np.int64)
    w = (state["weight"] > 0).astype(np.int64)
    vals = np.stack([state["weight"], cells["bad"].to_numpy(np.int64) * w,
                     cells["cost"].to_numpy(np.int64) * w,
                     cells["units"].to_numpy(np.int64) * w], axis=1)
    b = trailing(akey, day, vals, ep_akey, ep_day, window)
    pair = ["account_sid", "currency"]
    first = np.flatnonzero(np.r_[True, akey[1:] != akey[:-1]])    # akey runs are sorted
    pairs = pd.Index(key_text(cells.iloc[first], pair))
    cand = rows[rows["cand"]]
    hk = np.concatenate([pairs.get_indexer(key_text(f, pair)) for f in (hours, cand)]
                        ).astype(np.int64)
    hday = np.concatenate([hours["day"], cand["day"]]).astype(np.int64)
    hour = np.concatenate([hours["hour"], cand["hour"]]).astype(np.int64)
    count = np.concatenate([hours["n"].to_numpy(np.int64), -np.ones(len(cand), np.int64)])
    ids, ckey, cday, _ = _cells(hk, hday)
    table = np.rint(np.bincount(ids * 24 + hour, count, len(ckey) * 24)).astype(np.int64)
    h = trailing(ckey, cday, table.reshape(-1, 24), ep_akey, ep_day, window)
    return {"count": b[:, 0], "bad": b[:, 1], "cost": b[:, 2], "units": b[:, 3],
            "hours": h}


def episodes(state: dict, cells: pd.DataFrame, hours: pd.DataFrame, rows: pd.DataFrame,
             rules, window: int) -> dict:
    """The episodes' raw signals (arrays, one entry per episode) from the flagged cells
    and the rows of the ``wanted`` cells (:func:`flag_cells`)."""
    wanted, idx, ep_w = state["wanted"], state["idx"], state["ep"]
    keys = list(wanted.columns)
    pos = pd.Index(key_text(wanted, keys)).get_indexer(key_text(rows, keys))
    ep = ep_w[pos]
    rows = rows.assign(cand=state["cand"][idx[pos]])
    n_ep = int(ep_w.max()) + 1
    first_of_cell = np.unique(np.stack([ep_w, state["cell"]], axis=1), axis=0,
                              return_index=True)[1]
    expected = np.bincount(ep_w[first_of_cell], state["rate"][first_of_cell], n_ep)
    head = np.full(n_ep, -1)
    head[ep_w[::-1]] = idx[::-1]                      # first fine cell of each episode
    t = rows["t"].to_numpy(np.int64)
    t_min, t_max = np.full(n_ep, np.iinfo(np.int64).max), np.full(n_ep, -1 << 62)
    np.minimum.at(t_min, ep, t)
    np.maximum.at(t_max, ep, t)
    ep_day = t_min // 86_400_000_000
    ep_akey, ep_ckey = state["akey"][head], state["ckey"][head]
    prior = trailing(state["ckey"], cells["day"].to_numpy(np.int64),
                     cells["n"].to_numpy(np.int64), ep_ckey, ep_day, _EVER)
    distinct, adjacent = _adjacent(ep, rows["num"].to_numpy(np.int64), n_ep,
                                   rules.adjacent_gap)
    priced, bad = rows["priced"].to_numpy(bool), rows["bad"].to_numpy(bool)
    dest, dests = pd.factorize(rows["dest"])
    return {
        "ep": ep, "rows": rows, "n": np.bincount(ep, minlength=n_ep), "start": t_min,
        "end": t_max, "day": ep_day,
        "account_sid": cells["account_sid"].to_numpy()[head],
        "currency": cells["currency"].to_numpy()[head],
        "country": cells["country"].to_numpy()[head],
        "hist": ep_day - state["first"][ep_akey], "expected": expected,
        "new_country": prior[:, 0] == 0, "distinct": distinct, "adjacent": adjacent,
        "bad": np.bincount(ep, bad, n_ep),
        "cost": exact_group_sums(ep, np.where(priced, rows["cost"].to_numpy(np.int64), 0),
                                 n_ep),
        "units": np.bincount(ep, np.where(priced, rows["units"].to_numpy(np.int64), 0), n_ep),
        "hour": rows["hour"].to_numpy(np.int64),
        "errors": np.where(bad, rows["error"].to_numpy(np.int64), 0),
        "prefix": _prefix(ep, dest, np.asarray(dests, dtype=object), n_ep),
        "base": _account_baseline(cells, hours, rows, state, ep_akey, ep_day, window),
    }
