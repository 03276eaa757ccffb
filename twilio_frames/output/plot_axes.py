"""What every plot shares: a new Axes only when none is given, one currency per picture,
concise date axes, an "empty" message. Used by :mod:`.plots` and
:mod:`.plot_reconciliation`."""

from __future__ import annotations

import matplotlib.dates as mdates
import pandas as pd

from ..errors import ConfigurationError

__all__ = ["_axes", "_currency", "_date_axis", "_empty"]


def _axes(ax, figsize=(10, 4.5)):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _currency(df: pd.DataFrame, currency: str | None) -> tuple[pd.DataFrame, str]:
    """Rows of one currency; several currencies without ``currency=`` is an error."""
    found = sorted(df["currency"].dropna().astype("str").unique())
    if currency is None:
        if len(found) > 1:
            raise ConfigurationError(f"the frame holds {found}; amounts in different "
                                     "currencies are never drawn together: pass currency=")
        currency = found[0] if found else "USD"
    currency = currency.upper()
    return df[df["currency"].astype("str") == currency], currency


def _date_axis(ax) -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes,
            color="0.4")
