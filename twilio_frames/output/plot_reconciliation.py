"""The reconciliation picture: what differs between the list endpoints and Usage Records.

Drawing the two totals side by side gives identical pairs of bars whenever the books
agree, which they mostly do; the interesting part is which periods are pending or do not
match, and by how much. So the picture is a strip per usage category, one cell per
period, coloured by the worst status of any account that period, with a label per
category that counts the periods by status and gives the exact cost difference.
"""

from __future__ import annotations

from decimal import Decimal

import matplotlib.dates as mdates
import numpy as np
import pandas as pd

from ..analysis.reconciliation import RECONCILED_CATEGORIES
from ..money import require_columns
from .plot_axes import _axes, _currency, _date_axis, _empty

__all__ = ["plot_reconciliation"]

#: Status -> colour, in order of severity (a period shows its worst account's status).
STATUS_COLORS = {"match": "#2ca02c", "pending": "#ffbf00", "mismatch": "#d62728"}


def _signed(micros: int, currency: str) -> str:
    """``+2.94 USD`` / ``-0.0001 USD``: exact, without trailing zeros."""
    text = f"{Decimal(int(micros)).scaleb(-6):+,.6f}".rstrip("0").rstrip(".")
    return f"{text} {currency}"


def category_note(group: pd.DataFrame, currency: str) -> str:
    """``all 120 match`` or ``4 of 120 pending, +2.94 USD``: periods that are not a match,
    by status, and the cost difference (list endpoints minus Usage Records) they carry."""
    status = group["status"].astype("str")
    total = len(group)
    odd = [(s, int((status == s).sum())) for s in ("mismatch", "pending")]
    odd = [(s, n) for s, n in odd if n]
    if not odd:
        return f"all {total:,} match"
    diff = int((group["list_price_micros"].fillna(0)
                - group["record_price_micros"].fillna(0)).sum())
    text = ", ".join(f"{n:,} of {total:,} {s}" for s, n in odd)
    return text + (f", {_signed(diff, currency)}" if diff else "")


def _grid(rows: pd.DataFrame, cats: list[str]) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Periods (columns) and per category x period the worst status's index (NaN: none)."""
    rank = rows["status"].astype("str").map({s: i for i, s in enumerate(STATUS_COLORS)})
    when = rows["start_date"].dt.tz_localize(None) if rows["start_date"].dt.tz else rows[
        "start_date"]
    worst = pd.DataFrame({"category": rows["category"].astype("str"), "when": when,
                          "rank": rank}).groupby(["category", "when"])["rank"].max()
    table = worst.unstack().reindex(index=cats)
    return pd.DatetimeIndex(table.columns), table.to_numpy(dtype="float64")


def plot_reconciliation(df: pd.DataFrame, *, ax=None, currency: str | None = None, **kw):
    """Which periods of each usage category match, are pending or do not match.

    Takes :func:`twilio_frames.reconcile` output. One row per category, one cell per
    period (``start_date``), coloured by the worst status across accounts; the label on
    the right counts the periods that are not a match and gives the exact cost
    difference (list endpoints minus Usage Records) or says all match, so a category with
    356 matching and 4 pending days reads "4 of 360 pending". Extra keywords go to
    ``ax.pcolormesh``.
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    require_columns(df, ["category", "currency", "start_date", "list_price_micros",
                         "record_price_micros", "status"], "reconcile")
    rows, currency = _currency(df, currency)
    found = set(rows["category"].astype("str"))
    cats = [c for c in RECONCILED_CATEGORIES if c in found] + sorted(
        found - set(RECONCILED_CATEGORIES))
    ax = _axes(ax, figsize=(9, 1.4 + 0.35 * max(1, len(cats))))
    ax.set_title(f"Reconciliation with Usage Records, per period ({currency}, UTC)",
                 pad=22)
    ax.set_xlabel("Period start")
    if not cats:
        _empty(ax, "nothing reconciled")
        return ax
    periods, grid = _grid(rows, cats)
    step = periods[-1] - periods[-2] if len(periods) > 1 else pd.Timedelta(days=1)
    edges = mdates.date2num([*periods, periods[-1] + step])
    cmap = ListedColormap(list(STATUS_COLORS.values()))
    norm = BoundaryNorm(np.arange(len(STATUS_COLORS) + 1) - 0.5, cmap.N)
    ax.pcolormesh(edges, np.arange(len(cats) + 1), np.ma.masked_invalid(grid), cmap=cmap,
                  norm=norm, edgecolors="white", linewidth=0.3 if len(periods) <= 40 else 0,
                  **kw)
    for row in range(1, len(cats)):                     # rows apart, however many days
        ax.axhline(row, color="white", linewidth=1.5)
    ax.set_ylim(len(cats), 0)
    ax.set_yticks(np.arange(len(cats)) + 0.5, cats, fontsize="small")
    groups = dict(tuple(rows.groupby(rows["category"].astype("str"))))
    right = ax.secondary_yaxis("right")
    right.set_yticks(np.arange(len(cats)) + 0.5,
                     [category_note(groups[c], currency) for c in cats], fontsize="small")
    right.tick_params(length=0)
    _date_axis(ax)
    present = [s for i, s in enumerate(STATUS_COLORS) if (grid == i).any()]
    ax.legend(handles=[Patch(color=STATUS_COLORS[s], label=s) for s in present],
              loc="lower left", bbox_to_anchor=(0, 1.02, 1, 0.1), ncols=3, frameon=False,
              fontsize="small", borderaxespad=0)
    return ax
