"""The plot of the "Suspicious traffic" section: daily outbound volume per country, with
the episodes :func:`twilio_frames.traffic_anomalies` flagged drawn as shaded spans."""

from __future__ import annotations

import pandas as pd

from ..analysis.anomalies import AnomalyRules
from ..analysis.anomaly_cells import collect_cells
from ..errors import ConfigurationError
from .plots import _axes, _date_axis, _empty

__all__ = ["plot_anomalies"]

_KIND_COLORS = {"sms_pumping": "#d62728", "toll_fraud": "#9467bd", "spend_spike": "#ff7f0e"}


def _daily_by_country(messages, calls) -> pd.DataFrame:
    parts = []
    for resource, frame in (("messages", messages), ("calls", calls)):
        if frame is None:
            continue
        cells = collect_cells(frame, resource, AnomalyRules())[0]   # pandas or Dask
        parts.append(cells[["day", "country", "n"]])
    if not parts:
        raise ConfigurationError("plot_anomalies needs messages= and/or calls=")
    both = pd.concat(parts, ignore_index=True)
    table = both.groupby(["day", "country"])["n"].sum().unstack(fill_value=0)
    table.index = pd.to_datetime(table.index.to_numpy() * 86400, unit="s", utc=True)
    return table


def plot_anomalies(anomalies: pd.DataFrame, messages=None, calls=None, *, ax=None,
                   top: int = 6):
    """Daily outbound messages and calls per destination country, flagged spans shaded.

    Parameters
    ----------
    anomalies : DataFrame
        :func:`twilio_frames.traffic_anomalies` output (may be empty).
    messages, calls : DataFrame, optional
        The frames it was computed from; at least one.
    top : int
        Countries drawn: those of the flagged episodes, then the busiest, up to ``top``
        (the rest summed as "other").

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    table = _daily_by_country(messages, calls)
    flagged = [c for c in anomalies.get("country", pd.Series(dtype="str")).dropna().unique()
               if c in table.columns]
    busiest = [c for c in table.sum().sort_values(ascending=False).index if c not in flagged]
    shown = (flagged + busiest)[:max(top, len(flagged))]
    rest = table.drop(columns=shown).sum(axis=1)
    if len(table) == 0:
        _empty(ax, "no outbound traffic")
    for country in shown:
        values = table[country]
        if country in flagged:      # drawn where it has traffic: no line along zero
            values = values.where((values > 0) | (values.shift(1) > 0)
                                  | (values.shift(-1) > 0))
        ax.plot(table.index, values, lw=2.2 if country in flagged else 1.2,
                label="001 (non-geographic)" if country == "001" else country)
    if rest.any():
        ax.plot(table.index, rest, lw=1, color="0.6", ls="--", label="other")
    seen = set()
    for _, ep in anomalies.iterrows():
        start = ep["start"].floor("D")
        end = max(ep["end"], start + pd.Timedelta("1D"))
        kind = ep["kind"]
        ax.axvspan(start, end, color=_KIND_COLORS.get(kind, "0.5"), alpha=0.25,
                   label=None if kind in seen else kind.replace("_", " "))
        seen.add(kind)
    ax.set_yscale("symlog", linthresh=10)
    ax.set_ylabel("outbound messages + calls per UTC day")
    ax.set_xlabel("day (UTC)")
    ax.set_title(f"Daily outbound volume per country, {len(anomalies)} flagged episode(s)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize="small", ncols=2)
    _date_axis(ax)
    return ax
