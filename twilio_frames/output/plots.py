"""Plots: each ``plot_x(df, *, ax=None, **kw) -> Axes``.

A figure is created only when no ``ax`` is given (``plt.subplots``, the only pyplot call;
everything else uses the object API); ``plt.show()`` is never called. Titles, axis
labels, units and the currency are always set. Dates use matplotlib's
``AutoDateLocator`` with ``ConciseDateFormatter`` so 3 days and 300 days both read well.

Inputs: plots of money take summary frames (so the numbers on the picture are the exact
totals of a table you can print): :func:`plot_daily_cost` and
:func:`plot_cost_by_subaccount` take :func:`twilio_frames.cost_by_period` output,
:func:`plot_top_countries` takes :func:`twilio_frames.top_countries` output and
:func:`plot_reconciliation` takes :func:`twilio_frames.reconcile` output. Plots of
distributions take the rows: :func:`plot_call_heatmap` and :func:`plot_call_durations`
a calls frame, :func:`plot_message_status` a messages frame, pandas or Dask (they are
counted partition by partition, :mod:`twilio_frames.output.plot_counts`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..money import require_columns
from ..analysis.summaries import check_freq, check_tz
from .plot_counts import duration_counts, heat_grid, histogram_edges, quantile, status_counts
from .plot_axes import _axes, _currency, _date_axis, _empty
from .plot_reconciliation import plot_reconciliation

__all__ = ["plot_call_durations", "plot_call_heatmap", "plot_cost_by_subaccount",
           "plot_daily_cost", "plot_message_status", "plot_reconciliation",
           "plot_top_countries"]

_PRODUCT_COLORS = {"calls": "#1f77b4", "sms": "#ff7f0e", "mms": "#2ca02c",
                   "recordings": "#9467bd"}
_FREQ_NAMES = {"D": "Daily", "W": "Weekly", "M": "Monthly"}
_FREQ_DAYS = {"D": 1, "W": 7, "M": 30}
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _finish_stacked(ax, totals: np.ndarray, title: str, *, ylabel: str, legend: str,
                    empty: str) -> None:
    """Titles, date axis, legend and headroom for a stacked bar chart over periods."""
    ax.set_title(title)
    ax.set_xlabel("Period start")
    ax.set_ylabel(ylabel)
    if len(totals):
        _date_axis(ax)
        if totals.max() > 0:   # headroom: the tallest period must not touch the frame
            ax.set_ylim(0, totals.max() * 1.06)
        ax.legend(title=legend, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    else:
        _empty(ax, empty)
    ax.grid(axis="y", alpha=0.3)


def _bar_width(periods, freq: str) -> float:
    """Bars with gaps for a few periods; touching bars (no moire) for many."""
    return (1.0 if len(periods) > 60 else 0.8) * _FREQ_DAYS.get(freq, 1)


def _infer_freq(periods: pd.Series) -> str:
    days = np.diff(np.sort(periods.dropna().unique())).astype("timedelta64[D]").astype(int)
    step = int(days.min()) if len(days) else 1
    return "D" if step < 7 else ("W" if step < 28 else "M")


def plot_daily_cost(df: pd.DataFrame, *, ax=None, currency: str | None = None,
                    freq: str | None = None, **kw):
    """Cost per period, stacked by product (bars).

    Takes the output of :func:`twilio_frames.cost_by_period` (any ``freq``, any
    ``by``: extra groups are summed). ``currency`` picks one currency when the frame
    holds several. Extra keywords go to ``ax.bar``. Returns the Axes.
    """
    require_columns(df, ["period", "product", "currency", "cost_micros"], "cost_by_period")
    rows, currency = _currency(df, currency)
    freq = check_freq(freq) if freq else _infer_freq(df["period"])
    ax = _axes(ax)
    table = rows.groupby(["period", "product"], observed=True)["cost_micros"].sum()
    table = (table.astype("float64") / 1e6).unstack("product", fill_value=0.0)
    bottom = np.zeros(len(table))
    x = table.index.tz_localize(None) if len(table) else table.index
    for product in [p for p in _PRODUCT_COLORS if p in table.columns]:
        ax.bar(x, table[product].to_numpy(), width=_bar_width(x, freq), bottom=bottom,
               label=product, color=_PRODUCT_COLORS[product], align="edge",
               linewidth=0, **kw)
        bottom += table[product].to_numpy()
    tz = str(df["period"].dt.tz) if len(df) else "UTC"
    _finish_stacked(ax, bottom, f"{_FREQ_NAMES[freq]} cost by product ({currency}, periods in {tz})",
                    ylabel=f"Cost ({currency})", legend="Product", empty="no cost in this range")
    return ax


def plot_cost_by_subaccount(df: pd.DataFrame, *, ax=None, currency: str | None = None,
                            labels: dict[str, str] | None = None, **kw):
    """Total cost per account, stacked by product (horizontal bars, largest on top).

    Takes :func:`twilio_frames.cost_by_period` output grouped ``by="account_sid"``
    (periods are summed). ``labels`` maps account sids to names (e.g. friendly names
    from ``client.accounts()``); otherwise sids are shortened to ``AC…last6``.
    """
    require_columns(df, ["account_sid", "product", "currency", "cost_micros"],
                    "cost_by_period(by='account_sid')")
    rows, currency = _currency(df, currency)
    ax = _axes(ax, figsize=(9, 1.2 + 0.45 * max(1, rows["account_sid"].nunique())))
    table = rows.groupby(["account_sid", "product"], observed=True)["cost_micros"].sum()
    table = (table.astype("float64") / 1e6).unstack("product", fill_value=0.0)
    table = table.loc[table.sum(axis=1).sort_values().index]
    names = [(labels or {}).get(sid, f"AC…{sid[-6:]}") for sid in table.index]
    left = np.zeros(len(table))
    for product in [p for p in _PRODUCT_COLORS if p in table.columns]:
        ax.barh(names, table[product].to_numpy(), left=left, label=product,
                color=_PRODUCT_COLORS[product], **kw)
        left += table[product].to_numpy()
    ax.set_title(f"Cost by account ({currency})")
    ax.set_xlabel(f"Cost ({currency})")
    ax.set_ylabel("Account")
    if len(table):
        ax.legend(title="Product", loc="lower right", fontsize="small")
    else:
        _empty(ax, "no cost in this range")
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_call_heatmap(calls: pd.DataFrame, *, ax=None, tz: str | None = None, **kw):
    """Number of call legs by weekday and hour of their start, in UTC or ``tz``.

    Takes a calls frame, pandas or Dask (counted per partition). Extra keywords go to
    ``ax.imshow``.
    """
    require_columns(calls, ["start_time", "date_created"], "calls")
    tz = check_tz(tz)
    grid = heat_grid(calls, tz)
    ax = _axes(ax, figsize=(10, 3.8))
    image = ax.imshow(grid, aspect="auto", cmap=kw.pop("cmap", "Blues"), **kw)
    ax.figure.colorbar(image, ax=ax, label="Call legs", shrink=0.9)
    ax.set_yticks(range(7), _WEEKDAYS)
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    ax.set_xlabel(f"Hour of day ({tz})")
    ax.set_ylabel("Weekday")
    ax.set_title(f"Calls by weekday and hour ({tz}, {int(grid.sum()):,} legs)")
    return ax


def plot_call_durations(calls: pd.DataFrame, *, ax=None, bins: int | str = "auto", **kw):
    """Distribution of completed call durations, in minutes, with the median marked.

    Takes a calls frame, pandas or Dask (completed calls counted per duration in each
    partition; ``bins`` a number or ``"auto"`` need nothing more). Extra keywords go to
    ``ax.hist``.
    """
    require_columns(calls, ["status", "duration"], "calls")
    counts = duration_counts(calls)
    minutes, weights = counts.index.to_numpy(dtype=float) / 60.0, counts.to_numpy()
    total = int(weights.sum())
    ax = _axes(ax, figsize=(9, 4))
    title = f"Duration of completed calls ({total:,} legs"
    if total:
        top = quantile(minutes, weights, 0.99) if total >= 100 else minutes.max()
        keep = minutes <= top
        shown, kept = minutes[keep], weights[keep]
        edges = histogram_edges(shown, kept, bins)
        if len(edges) > 61:
            edges = np.linspace(shown.min(), shown.max(), 61)
        ax.hist(shown, bins=edges, weights=kept, color="#1f77b4", alpha=0.85, **kw)
        median = quantile(minutes, weights, 0.5)
        ax.axvline(median, color="#d62728", linestyle="--",
                   label=f"median {median:.1f} min")
        ax.legend(loc="upper right", fontsize="small")
        if kept.sum() < total:
            title += f"; {total - int(kept.sum()):,} over {top:.0f} min not shown"
    else:
        _empty(ax, "no completed calls")
    ax.set_title(title + ")")
    ax.set_xlabel("Duration (minutes)")
    ax.set_ylabel("Completed call legs")
    ax.grid(axis="y", alpha=0.3)
    return ax


def plot_message_status(messages: pd.DataFrame, *, ax=None, freq: str = "D",
                        tz: str | None = None, **kw):
    """Messages per period stacked by status (bars), in UTC or ``tz``.

    Takes a messages frame, pandas or Dask (counted per partition); periods bucket
    ``date_sent`` (else ``date_created``). Extra keywords go to ``ax.bar``.
    """
    require_columns(messages, ["status", "date_sent", "date_created"], "messages")
    freq, tz = check_freq(freq), check_tz(tz)
    table = status_counts(messages, freq, tz)
    order = table.sum().sort_values(ascending=False).index
    ax = _axes(ax)
    bottom = np.zeros(len(table))
    colors = {"delivered": "#2ca02c", "received": "#1f77b4", "sent": "#17becf",
              "undelivered": "#ff7f0e", "failed": "#d62728"}
    for status in order:
        ax.bar(table.index, table[status].to_numpy(), bottom=bottom, label=status,
               width=_bar_width(table.index, freq), align="edge",
               color=colors.get(status), linewidth=0, **kw)
        bottom += table[status].to_numpy()
    _finish_stacked(ax, bottom, f"{_FREQ_NAMES[freq]} messages by status ({tz})",
                    ylabel="Messages", legend="Status", empty="no messages in this range")
    return ax


def plot_top_countries(df: pd.DataFrame, *, ax=None, currency: str | None = None, **kw):
    """Cost per country of the remote party (horizontal bars, largest on top).

    Takes :func:`twilio_frames.top_countries` output; a missing country (client, SIP,
    short codes) is labelled "non-PSTN". Extra keywords go to ``ax.barh``.
    """
    require_columns(df, ["country", "currency", "cost_micros"], "top_countries")
    rows, currency = _currency(df, currency)
    rows = rows.sort_values("cost_micros")
    ax = _axes(ax, figsize=(8, 1.2 + 0.4 * max(1, len(rows))))
    names = rows["country"].astype("str").fillna("non-PSTN").tolist()
    values = rows["cost_micros"].astype("float64").to_numpy() / 1e6
    ax.barh(names, values, color=kw.pop("color", "#1f77b4"), **kw)
    ax.set_title(f"Top countries by cost ({currency})")
    ax.set_xlabel(f"Cost ({currency})")
    ax.set_ylabel("Country (remote party)")
    if not len(rows):
        _empty(ax, "no cost in this range")
    ax.grid(axis="x", alpha=0.3)
    return ax
