"""Account-day spend against its own trailing window (the ``spend_spike`` episodes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from .anomaly_score import _money
from ..money import exact_group_sums

__all__ = ["spend_spikes"]


def _daily(cells: pd.DataFrame, reported: pd.DataFrame, accounts: list[str],
           currencies: list[str]):
    """Spend, spend outside reported episodes, and events per (account, currency) and
    day: dense [key, day] matrices, from the fine cells (exact integer sums)."""
    def key_of(frame):
        return (pd.Index(accounts).get_indexer(frame["account_sid"]) * len(currencies)
                + pd.Index(currencies).get_indexer(frame["currency"]))
    key, day = key_of(cells), cells["day"].to_numpy(np.int64)
    cost = cells["cost"].to_numpy(np.int64)
    d0, n_days = int(day.min()), int(day.max() - day.min() + 1)
    n_keys = len(accounts) * len(currencies)
    flat = key * n_days + (day - d0)
    spend = exact_group_sums(flat, cost, n_keys * n_days).reshape(n_keys, n_days)
    rep = np.zeros_like(spend)
    if len(reported):
        r_flat = key_of(reported) * n_days + (reported["day"].to_numpy(np.int64) - d0)
        r_cost = np.where(reported["priced"].to_numpy(bool),
                          reported["cost"].to_numpy(np.int64), 0)
        rep = exact_group_sums(r_flat, r_cost, n_keys * n_days).reshape(n_keys, n_days)
    usual = (spend - rep).astype(float)
    count = np.bincount(flat, cells["n"].to_numpy(np.int64), n_keys * n_days).astype(
        np.int64).reshape(n_keys, n_days)
    first = np.full(n_keys, n_days)
    np.minimum.at(first, key, day - d0)
    rows = {"key": key, "day": day - d0, "cost": cost,
            "country": cells["country"].to_numpy(dtype=object)}
    return spend, usual, count, first, d0, rows


def _trail(spend: np.ndarray, window: int):
    """Trailing median and maximum of the ``window`` days before each day (over days
    with history). Reported fraud is already left out of ``spend``."""
    pad = np.concatenate([np.full((len(spend), window), np.nan), spend], axis=1)
    view = sliding_window_view(pad, window, axis=1)[:, :spend.shape[1]]
    filled = np.sort(np.where(np.isnan(view), np.inf, view), axis=2)
    seen = (~np.isnan(view)).sum(axis=2)
    mid = np.take_along_axis(filled, np.maximum(seen - 1, 0)[..., None] // 2, axis=2)[..., 0]
    high = np.take_along_axis(filled, (seen // 2)[..., None] % window, axis=2)[..., 0]
    peak = np.take_along_axis(filled, np.maximum(seen - 1, 0)[..., None], axis=2)[..., 0]
    with np.errstate(invalid="ignore"):
        return np.where(seen > 0, (mid + high) / 2, np.nan), np.where(seen > 0, peak, 0)


def spend_spikes(all_cells: list[pd.DataFrame], reported: list[pd.DataFrame], rules,
                 window: int, min_hist: int, covered: pd.DataFrame) -> list[dict]:
    """Days whose spend is ``spend_ratio`` times the trailing median and
    ``spend_peak_ratio`` times the trailing maximum, with at least ``min_count`` events;
    consecutive days merge. Spans that
    overlap a pumping or toll-fraud episode of the same account are left out (that
    episode already carries the cost)."""
    kept = [c for c in all_cells if len(c)]
    if not kept:
        return []
    cells = pd.concat(kept, ignore_index=True)
    reported = pd.concat(reported, ignore_index=True) if reported else pd.DataFrame()
    accounts = sorted(set(cells["account_sid"].astype(str)))
    currencies = sorted(set(cells["currency"].astype(str)))
    spend, usual, count, first, d0, rows = _daily(cells, reported, accounts, currencies)
    median, peak = _trail(usual, window)
    hist = np.arange(spend.shape[1])[None, :] - first[:, None]
    with np.errstate(all="ignore"):
        flag = ((count >= rules.min_count) & (hist >= min_hist)
                & (spend >= rules.spend_ratio * np.nan_to_num(median))
                & (spend >= rules.spend_peak_ratio * peak) & (spend > 0))
    out = []
    for k, d in zip(*np.nonzero(flag)):
        out.append((k, d))
    return _merge(out, spend, count, median, peak, hist, accounts, currencies, d0,
                  covered, rows)


def _top_country(rows: dict, k: int, a: int, b: int) -> tuple[str, float]:
    """The country that took the most of the spend of key ``k`` on days ``a..b``."""
    mask = (rows["key"] == k) & (rows["day"] >= a) & (rows["day"] <= b)
    by = pd.Series(rows["cost"][mask]).groupby(rows["country"][mask]).sum()
    if not len(by) or by.sum() <= 0:
        return "", 0.0
    return str(by.idxmax()), float(by.max() / by.sum())


def _peak_text(day: float, peak: float) -> str:
    return f" and {day / peak:,.1f}x its highest day" if peak > 0 else ""


def _merge(cells, spend, count, mean, peak, hist, accounts, currencies, d0, covered,
           by_row) -> list[dict]:
    rows, last = [], {}
    for k, d in cells:
        if k in last and d - last[k]["d1"] <= 1:
            last[k]["d1"] = d
            continue
        last[k] = {"k": k, "d0": d, "d1": d}
        rows.append(last[k])
    out = []
    for r in rows:
        k, a, b = r["k"], r["d0"], r["d1"]
        acct, cur = accounts[k // len(currencies)], currencies[k % len(currencies)]
        start = pd.Timestamp((d0 + a) * 86400, unit="s", tz="UTC")
        end = pd.Timestamp((d0 + b + 1) * 86400 - 1, unit="s", tz="UTC")
        if len(covered) and ((covered["account_sid"] == acct) & (covered["start"] <= end)
                             & (covered["end"] >= start)).any():
            continue
        micros = int(spend[k, a:b + 1].sum())
        usual = float(np.nan_to_num(mean[k, a]))
        ratio = micros / usual if usual > 0 else float("inf")
        days = f"{start:%Y-%m-%d}" + ("" if a == b else f" to {end:%Y-%m-%d}")
        top, share = _top_country(by_row, k, a, b)
        text = (f"Spend {_money(micros, cur)} on {days} over {int(count[k, a:b + 1].sum()):,}"
                f" messages and calls, {ratio:,.1f}x the trailing daily median of "
                f"{_money(round(usual), cur)}{_peak_text(spend[k, a], peak[k, a])}. "
                f"{share:.0%} of it to {top}. If no campaign explains it, look at what "
                f"went there; a daily totalprice Usage Trigger (tf.usage_triggers) would "
                f"catch the next one.")
        out.append({"kind": "spend_spike", "account_sid": acct, "start": start, "end": end,
                    "country": top, "prefix": None,
                    "count": int(count[k, a:b + 1].sum()), "currency": cur,
                    "cost_micros": micros, "score": float(np.clip(np.log10(ratio) / 2, 0, 1)),
                    "evidence": text, "volume_ratio": ratio,
                    "baseline_days": int(hist[k, a])})
    return out
