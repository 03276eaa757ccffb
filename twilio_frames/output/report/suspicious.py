"""The report's "Suspicious traffic" section: :func:`twilio_frames.traffic_anomalies`
episodes with their evidence, the daily volume per country with the flagged spans, and
the Usage Trigger values :func:`twilio_frames.usage_triggers` recommends."""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ...analysis.anomalies import InsufficientHistoryWarning, traffic_anomalies
from ...analysis.triggers import usage_triggers
from ...errors import ConfigurationError
from .html import html_figure, html_section, html_table

__all__ = ["Suspicious", "compute_suspicious", "suspicious_section", "write_suspicious"]

PLOT = "suspicious_traffic.png"
CSV = "anomalies.csv"


@dataclass
class Suspicious:
    anomalies: pd.DataFrame
    triggers: pd.DataFrame | None
    notes: list[str] = field(default_factory=list)


def compute_suspicious(data) -> Suspicious:
    """Episodes over the fetched messages and calls; short histories become notes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InsufficientHistoryWarning)
        found = traffic_anomalies(data.messages, data.calls)
    notes = [str(w.message) for w in caught if issubclass(w.category,
                                                          InsufficientHistoryWarning)]
    for w in caught:
        if not issubclass(w.category, InsufficientHistoryWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    try:
        triggers = usage_triggers(data.usage)
    except ConfigurationError as exc:
        triggers, notes = None, notes + [f"No Usage Trigger values: {exc}"]
    return Suspicious(found, triggers, notes)


def write_suspicious(data, s: Suspicious, folder: Path, files: list[str], axes) -> None:
    """``anomalies.csv`` (money exact) and the volume plot."""
    from ..export import write_cells_csv
    from ..plot_anomalies import plot_anomalies
    write_cells_csv(s.anomalies, folder / CSV, columns=[c for c in s.anomalies.columns
                                                         if c != "cost_micros"],
                    micros={"cost": "cost_micros"})
    files.append(CSV)
    ax = plot_anomalies(s.anomalies, data.messages, data.calls, ax=axes(6.4, 3.6))
    ax.figure.savefig(folder / PLOT, dpi=150)
    files.append(PLOT)


def _episodes_display(found: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({
        "#": range(1, len(found) + 1), "kind": found["kind"].str.replace("_", " "),
        "account": found["account_sid"].map(names), "from": found["start"],
        "to": found["end"], "country": found["country"].fillna(""),
        "prefix": found["prefix"].fillna(""), "count": found["count"],
        "cost": [f"{c} {m / 1e6:,.2f}" for c, m in zip(found["currency"], found["cost_micros"])],
        "score": found["score"].round(2)})


def _evidence(found: pd.DataFrame) -> str:
    items = "".join(f"<li>{html.escape(e)}</li>" for e in found["evidence"])
    return f'<ol class="evidence">{items}</ol>'


def _triggers_display(t: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({
        "account": t["account_sid"].map(names), "recurring": t["recurring"],
        "currency": t["currency"], "typical": t["typical"].map(_text),
        "highest": t["highest"].map(_text), "trigger value": t["trigger_value"].map(_text),
        "would have fired": [f"{int(n)} of {p}" if pd.notna(n) else "" for n, p in
                             zip(t["would_fire"], t["periods"])]})


def _text(v) -> str:
    return "" if v is None or pd.isna(v) else f"{v:,.2f}"


def suspicious_section(data, s: Suspicious, files: list[str], names: dict[str, str]) -> str:
    found = s.anomalies
    fraud = int((found["kind"] != "spend_spike").sum())
    parts = ([html_table(_episodes_display(found, names), digits=2),
              "<h3>Evidence, by episode number</h3>", _evidence(found)]
             if len(found) else ['<p class="empty">No suspicious episode.</p>'])
    if PLOT in files:
        parts.append('<div class="figures">' + html_figure(
            PLOT, alt="Daily outbound volume per country with the flagged spans",
            caption="Daily outbound volume per destination country; flagged episodes "
                    "shaded") + "</div>")
    if s.triggers is not None and len(s.triggers):
        parts += ["<h3>Usage Trigger values from this history (totalprice)</h3>",
                  html_table(_triggers_display(s.triggers, names))]
    parts += [f'<p class="note">{html.escape(n)}</p>' for n in s.notes]
    return html_section(
        "Suspicious traffic", *parts, anchor="suspicious",
        intro=f"{fraud} possible fraud episode(s) and {len(found) - fraud} spend spike(s). "
              "Each account's outbound messages and calls are compared with its own "
              "previous 28 days: new countries, bursts to blocks of consecutive numbers, "
              "undelivered shares, cost per message or minute and unusual hours. The "
              "thresholds are ours (Twilio publishes none); see tf.traffic_anomalies. "
              "Trigger values: the 95th-percentile day (month) of this history times 2, "
              "to set as a Usage Trigger on totalprice with TriggerBy=price.")
