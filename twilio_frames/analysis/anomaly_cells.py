"""The two reductions :func:`twilio_frames.traffic_anomalies` makes of a frame, per
partition (DESIGN §8: a pandas frame is one partition, a Dask frame many).

1. :func:`cell_partial`: outbound events summed per *fine cell* (account, currency,
   country, destination block, UTC day): events, failed (or short) ones, priced cost
   and priced units; and per account, currency, day and UTC hour, events. Every
   candidate test, trailing baseline and spend figure is a sum over these cells, so the
   whole history travels as daily aggregates, never as rows.
2. :func:`row_partial`: the events of the few fine cells the cells flag as candidates
   (and their neighbours a burst may spill into): adjacency of numbers, error codes,
   hours, first and last times and the destinations' common prefix need rows, but only
   those of an episode.

Both combine by concatenation: cells are summed per key and sorted, rows put in one
canonical order, so the result does not depend on how the frame was partitioned.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import engine
from .anomaly_events import NEEDED, Events, events
from ..money import exact_group_sums, require_columns

__all__ = ["CELL_KEYS", "HOUR_KEYS", "cells_of", "collect_cells", "collect_rows",
           "key_text", "rows_of"]

CELL_KEYS = ["account_sid", "currency", "country", "block", "day"]
HOUR_KEYS = ["account_sid", "currency", "day", "hour"]
_SUMS = ["n", "bad", "cost", "units"]


def _fine(ev: Events) -> tuple[np.ndarray, np.ndarray]:
    """Per event, its fine cell (an id); and per cell, its first event (kept on ``ev``:
    a pandas frame's second pass reuses them)."""
    if getattr(ev, "fine", None) is None:
        ev.fine = _fine_cells(ev)
    return ev.fine


def _fine_cells(ev: Events) -> tuple[np.ndarray, np.ndarray]:
    nb, nc, ncur = len(ev.blocks), len(ev.countries), max(len(ev.currencies), 1)
    key = ((ev.acct * ncur + ev.currency) * max(nc, 1) + ev.country) * max(nb, 1) + ev.block
    d0 = int(ev.day.min())
    span = int(ev.day.max()) - d0 + 1
    uniq, first, ids = np.unique(key * span + (ev.day - d0), return_index=True,
                                 return_inverse=True)
    return ids.ravel(), first


def _labels(ev: Events, at: np.ndarray) -> dict:
    return {"account_sid": ev.accounts[ev.acct[at]].astype(str),
            "currency": ev.currencies[ev.currency[at]].astype(str),
            "country": ev.countries[ev.country[at]].astype(str),
            "block": ev.blocks[ev.block[at]].astype(str), "day": ev.day[at]}


def key_text(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One text key per row of ``columns`` (for lookups between cells and rows)."""
    out = frame[columns[0]].astype(str).to_numpy(object)
    for col in columns[1:]:
        out = out + "\x1f" + frame[col].astype(str).to_numpy(object)
    return out


def _empty_cells() -> tuple[pd.DataFrame, pd.DataFrame]:
    cells = pd.DataFrame({k: pd.Series([], dtype="str" if k != "day" else "int64")
                          for k in CELL_KEYS} | {s: pd.Series([], dtype="int64")
                                                 for s in _SUMS})
    hours = pd.DataFrame({k: pd.Series([], dtype="str" if k in ("account_sid", "currency")
                                       else "int64") for k in HOUR_KEYS}
                         | {"n": pd.Series([], dtype="int64")})
    return cells, hours


def cells_of(ev: Events) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fine cells of ``ev`` (:data:`CELL_KEYS` + n, bad, cost, units) and its hour
    counts (:data:`HOUR_KEYS` + n)."""
    if not len(ev):
        return _empty_cells()
    ids, first = _fine(ev)
    size = len(first)
    cells = pd.DataFrame(_labels(ev, first))
    cells["n"] = np.bincount(ids, minlength=size).astype(np.int64)
    cells["bad"] = np.bincount(ids, ev.bad, size).astype(np.int64)
    cells["cost"] = exact_group_sums(ids, np.where(ev.priced, ev.cost, 0), size)
    cells["units"] = np.bincount(ids, np.where(ev.priced, ev.units, 0), size).astype(np.int64)
    akey = ev.acct * max(len(ev.currencies), 1) + ev.currency
    d0 = int(ev.day.min())
    uniq, at, hid = np.unique((akey * (int(ev.day.max()) - d0 + 1) + ev.day - d0) * 24
                              + ev.hour, return_index=True, return_inverse=True)
    hours = pd.DataFrame({"account_sid": ev.accounts[ev.acct[at]].astype(str),
                          "currency": ev.currencies[ev.currency[at]].astype(str),
                          "day": ev.day[at], "hour": ev.hour[at],
                          "n": np.bincount(hid.ravel(), minlength=len(at)).astype(np.int64)})
    return cells, hours


#: Columns of the candidate rows :func:`rows_of` returns.
ROW_COLUMNS = [*CELL_KEYS, "t", "hour", "dest", "num", "bad", "error", "cost", "priced",
               "units"]


def rows_of(ev: Events, wanted: pd.DataFrame) -> pd.DataFrame:
    """The events of ``ev`` whose fine cell is one of ``wanted`` (:data:`CELL_KEYS`)."""
    if not len(ev) or not len(wanted):
        return pd.DataFrame({c: [] for c in ROW_COLUMNS})
    ids, first = _fine(ev)
    labels = key_text(pd.DataFrame(_labels(ev, first)), CELL_KEYS)
    hit = np.isin(labels, key_text(wanted, CELL_KEYS))[ids]
    at = np.flatnonzero(hit)
    out = pd.DataFrame(_labels(ev, at))
    out["t"], out["hour"] = ev.t[at], ev.hour[at]
    out["dest"], out["num"] = ev.dests[ev.dest[at]].astype(str), ev.num[at]
    out["bad"], out["error"] = ev.bad[at], ev.error[at]
    out["cost"], out["priced"], out["units"] = ev.cost[at], ev.priced[at], ev.units[at]
    return out


def _events(part: pd.DataFrame, resource: str, prefix_digits: int,
            short_call_seconds: int) -> Events:
    return events(part, resource, prefix_digits=prefix_digits,
                  short_call_seconds=short_call_seconds)


def cell_partial(part: pd.DataFrame, resource: str, prefix_digits: int,
                 short_call_seconds: int):
    """Pass 1 of one partition: its cells and hour counts."""
    return cells_of(_events(part, resource, prefix_digits, short_call_seconds))


def row_partial(part: pd.DataFrame, resource: str, prefix_digits: int,
                short_call_seconds: int, wanted: pd.DataFrame) -> pd.DataFrame:
    """Pass 2 of one partition: the events of the ``wanted`` fine cells."""
    return rows_of(_events(part, resource, prefix_digits, short_call_seconds), wanted)


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, kind="stable", ignore_index=True)


def collect_cells(frame, resource: str, rules) -> tuple[pd.DataFrame, pd.DataFrame, Events]:
    """Pass 1 over ``frame`` (pandas or Dask): its cells (summed, sorted by key: the
    episodes are numbered in that order) and hour counts; for a pandas frame also its
    events (pass 2 then reuses them)."""
    options = {"resource": resource, "prefix_digits": rules.prefix_digits,
               "short_call_seconds": rules.short_call_seconds}
    engine.check_frame(resource, frame)
    if not engine.is_dask(frame):
        require_columns(frame, NEEDED[resource], resource)
        ev = _events(frame, **options)
        cells, hours = cells_of(ev)
        return _sorted(cells, CELL_KEYS), hours, ev
    parts = engine.partials(frame, cell_partial, columns=(), needed=NEEDED[resource],
                            what=resource, **options)
    cells = engine.regroup([p[0] for p in parts], CELL_KEYS)
    hours = engine.regroup([p[1] for p in parts], HOUR_KEYS)
    return _sorted(cells, CELL_KEYS), hours, None


def collect_rows(frame, resource: str, rules, wanted: pd.DataFrame,
                 ev: Events | None) -> pd.DataFrame:
    """Pass 2: the events of the ``wanted`` fine cells (in any order: what is computed
    from them are sums, extremes and sorted sets per episode)."""
    if not len(wanted):
        return rows_of(Events(t=np.zeros(0)), wanted)
    if ev is not None:
        rows = rows_of(ev, wanted)
    else:
        rows = engine.concat(engine.partials(
            frame, row_partial, columns=(), needed=NEEDED[resource], what=resource,
            resource=resource, prefix_digits=rules.prefix_digits,
            short_call_seconds=rules.short_call_seconds, wanted=wanted), ignore_index=True)
    return rows.reset_index(drop=True)     # no order needed: every use is order-free
