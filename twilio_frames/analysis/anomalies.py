"""Traffic fraud and spend anomalies from an account's own history.

Twilio publishes no numeric thresholds for SMS pumping or toll fraud
(``reference/fraud-and-rebilling.md``): every threshold here is ours, a field of
:class:`AnomalyRules`, documented below and tested on honest traffic, on organic
campaigns and on attacks built by hand from the documented signatures.

How an episode is found (the details are in :mod:`.anomaly_episodes`):

1. Outbound messages (``outbound-api``, ``outbound-call``, ``outbound-reply``) and
   outbound calls (``outbound-api``, ``outbound-dial``) to phone numbers are grouped per
   account into *block days* (the destination less its last ``prefix_digits`` digits, one
   UTC day) and *country days*.
2. A cell is a candidate when it has ``min_count`` events or more and ``min_ratio`` times
   its trailing daily mean over ``baseline`` (the day itself left out). Consecutive
   candidate days of one account and country make one episode.
3. Each episode gets signals in [0, 1], compared with the same account's trailing window:

   ============== ================================================================
   ``volume``     ``log10(count / expected) / 2`` (100x the usual: 1)
   ``new_country`` 1 when the account never sent (called) there before
   ``adjacent``   share of distinct numbers within ``adjacent_gap`` of another one
   ``failed``     SMS: undelivered + failed share above the account's usual share
   ``short``      calls: completed calls of at most ``short_call_seconds`` above usual
   ``cost``       ``log2(cost per message or minute / the usual) / 3`` (8x: 1)
   ``off_hours``  share at UTC hours holding under ``off_hour_share`` of the usual
                  traffic, above the usual share there
   ``high_risk``  calls: share to ``high_risk_prefixes`` (satellite +881, +882)
   ============== ================================================================

   ``score`` is their weighted mean (``sms_weights``, ``call_weights``); an episode is
   kept when ``score >= min_score``. An organic campaign (scattered numbers in the usual
   countries, delivered at the usual price and hours) scores on ``volume`` alone: at most
   1/5.5 = 0.18 for SMS, under the default 0.4.
4. ``spend_spike``: an account-day whose outbound spend is ``spend_ratio`` times the
   trailing daily median and ``spend_peak_ratio`` times the window's highest day (at
   least ``min_count`` events; reported fraud left out of the window), unless a pumping
   or toll-fraud episode of that account already covers it.

An account needs ``min_history`` of traffic before a day can be scored: earlier days are
never flagged, and an account whose whole history is shorter gets an
:class:`InsufficientHistoryWarning` (its episodes would only say "new").
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .anomaly_cells import collect_cells, collect_rows
from .anomaly_episodes import episodes, flag_cells
from .anomaly_score import error_counts, evidence, score, signals
from .anomaly_spend import spend_spikes
from ..errors import ConfigurationError

__all__ = ["AnomalyRules", "InsufficientHistoryWarning", "traffic_anomalies", "COLUMNS"]

COLUMNS = ("kind", "account_sid", "start", "end", "country", "prefix", "count", "currency",
           "cost_micros", "cost", "score", "evidence", "distinct", "volume_ratio",
           "new_country", "adjacent_share", "bad_share", "cost_ratio", "off_hours_share",
           "baseline_days")


_SMS_SIGNALS = frozenset({"volume", "new_country", "adjacent", "failed", "cost", "off_hours"})
_CALL_SIGNALS = frozenset({"volume", "new_country", "adjacent", "high_risk", "cost", "short",
                           "off_hours"})


class InsufficientHistoryWarning(UserWarning):
    """An account has too little history for a baseline; its traffic was not scored."""


@dataclass(frozen=True)
class AnomalyRules:
    """The thresholds of :func:`traffic_anomalies` (ours: Twilio publishes none)."""

    prefix_digits: int = 4            # a block: the number less its last 4 digits
    min_count: int = 20               # events in a cell (block or country, one day)
    min_ratio: float = 3.0            # times the cell's trailing daily mean
    merge_gap_days: int = 1           # candidate days this far apart join one episode
    adjacent_gap: int = 2             # numbers this close are "consecutive"
    short_call_seconds: int = 60      # a completed call this short bills one minute
    off_hour_share: float = 0.01      # an hour with under 1% of the usual traffic is "off"
    min_baseline_events: int = 200    # fewer usual events: no hour profile (off_hours 0)
    high_risk_prefixes: tuple[str, ...] = ("+881", "+882")
    spend_ratio: float = 5.0          # spend_spike: times the trailing daily median
    spend_peak_ratio: float = 1.5     # ... and times the trailing window's highest day
    sms_weights: dict = field(default_factory=lambda: {
        "volume": 1.0, "new_country": 1.0, "adjacent": 1.5, "failed": 1.0, "cost": 0.5,
        "off_hours": 0.5})
    call_weights: dict = field(default_factory=lambda: {
        "volume": 1.0, "new_country": 1.0, "adjacent": 1.0, "high_risk": 1.0, "cost": 1.5,
        "short": 0.5, "off_hours": 0.5})

    def __post_init__(self):
        checks = [("prefix_digits", 0 <= self.prefix_digits <= 8, "in 0..8"),
                  ("min_count", self.min_count >= 1, ">= 1"),
                  ("min_ratio", self.min_ratio > 0, "> 0"),
                  ("merge_gap_days", self.merge_gap_days >= 0, ">= 0"),
                  ("adjacent_gap", self.adjacent_gap >= 1, ">= 1"),
                  ("off_hour_share", 0 <= self.off_hour_share < 1, "in [0, 1)"),
                  ("spend_ratio", self.spend_ratio > 0, "> 0"),
                  ("spend_peak_ratio", self.spend_peak_ratio >= 0, ">= 0")]
        for name, ok, what in checks:
            if not ok:
                raise ConfigurationError(f"AnomalyRules.{name} must be {what}, got "
                                         f"{getattr(self, name)!r}")
        for name, known in (("sms_weights", _SMS_SIGNALS), ("call_weights", _CALL_SIGNALS)):
            weights = getattr(self, name)
            if (set(weights) - known or not sum(weights.values()) > 0
                    or min(weights.values()) < 0):
                raise ConfigurationError(f"AnomalyRules.{name} takes weights >= 0 of "
                                         f"{sorted(known)}, got {weights!r}")


def _days(value, name: str) -> int:
    try:
        delta = pd.Timedelta(value)
    except (ValueError, TypeError):
        raise ConfigurationError(f"{name}={value!r} is not a duration such as '28D'") from None
    days = delta // pd.Timedelta("1D")
    if days < 1 or delta % pd.Timedelta("1D"):
        raise ConfigurationError(f"{name}={value!r} must be a whole number of days >= 1")
    return int(days)


def _episodes(frame, resource: str, rules: AnomalyRules, window: int, min_hist: int,
              min_score: float):
    """One resource's episodes: its cells (pass 1), the rows of its candidate cells
    (pass 2), the episodes kept, and the priced cost of their events per account,
    currency and day (spend spikes leave it out of the usual spend)."""
    kind = "sms_pumping" if resource == "messages" else "toll_fraud"
    cells, hours, ev = collect_cells(frame, resource, rules)
    state = flag_cells(cells, rules, window, min_hist)
    if state is None:
        return cells, [], None
    e = episodes(state, cells, hours, collect_rows(frame, resource, rules, state["wanted"],
                                                   ev), rules, window)
    rows = e["rows"]
    risky = rows["dest"].str.startswith(rules.high_risk_prefixes).to_numpy(float)
    high = np.bincount(e["ep"], risky, len(e["n"])) / e["n"]
    sig = signals(e, kind, rules, high)
    weights = rules.sms_weights if kind == "sms_pumping" else rules.call_weights
    scores = score(sig["signals"], weights)
    keep = np.flatnonzero(scores >= min_score)
    reported = rows[np.isin(e["ep"], keep)]
    codes = error_counts(e) if len(keep) else []
    out = []
    for i in keep.tolist():
        row = {"kind": kind, "account_sid": str(e["account_sid"][i]),
               "start": pd.Timestamp(int(e["start"][i]), unit="us", tz="UTC"),
               "end": pd.Timestamp(int(e["end"][i]), unit="us", tz="UTC"),
               "country": str(e["country"][i]), "prefix": e["prefix"][i],
               "count": int(e["n"][i]), "currency": str(e["currency"][i]),
               "cost_micros": int(e["cost"][i]), "score": float(scores[i]),
               "distinct": int(e["distinct"][i]), "new_country": bool(e["new_country"][i]),
               "adjacent_share": float(e["adjacent"][i]), "baseline_days": int(e["hist"][i]),
               **{k: float(v[i]) for k, v in sig["raw"].items()}}
        row["evidence"] = evidence(kind, row, codes[i])
        out.append(row)
    return cells, out, reported


def _warn_short(all_cells, min_hist: int) -> None:
    for cells in all_cells:
        if not len(cells):
            continue
        span = cells.groupby("account_sid", sort=True)["day"].agg(lambda d: d.max() - d.min())
        for account, days in span.items():
            if days < min_hist:
                warnings.warn(InsufficientHistoryWarning(
                    f"account {account} has {days + 1} day(s) of traffic, less than "
                    f"min_history={min_hist}D: not scored (no baseline to compare with)"),
                    stacklevel=3)


def _frame(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "cost"])
    for col in ("start", "end"):
        out[col] = pd.to_datetime(out[col], utc=True).dt.as_unit("us")
    out["cost_micros"] = out["cost_micros"].astype("Int64")
    out["cost"] = out["cost_micros"].astype("float64") / 1e6
    for col in ("count", "distinct", "baseline_days"):
        out[col] = out[col].astype("Int64")
    out["new_country"] = out["new_country"].astype("boolean")
    for col in ("kind", "account_sid", "country", "prefix", "currency", "evidence"):
        out[col] = out[col].astype("str")
    for col in ("score", "volume_ratio", "adjacent_share", "bad_share", "cost_ratio",
                "off_hours_share"):
        out[col] = out[col].astype("float64")
    out = out.sort_values(["start", "account_sid", "kind"], kind="stable", ignore_index=True)
    return out[list(COLUMNS)]


def traffic_anomalies(messages=None, calls=None, *, baseline="28D", min_history="7D",
                      min_score: float = 0.4, rules: AnomalyRules | None = None,
                      **overrides) -> pd.DataFrame:
    """Suspicious episodes (SMS pumping, toll fraud, spend spikes) in an account's history.

    Parameters
    ----------
    messages, calls : DataFrame, optional
        Frames as the client returns them, pandas or Dask (the same result: each
        partition is reduced to daily sums per account, destination block and country,
        and only the events of flagged cells are read as rows; see
        :mod:`.anomaly_cells`); at least one. Only outbound traffic to phone numbers is
        scored.
    baseline : str
        The trailing window each day is compared with (``"28D"``).
    min_history : str
        History an account needs before a day of it is scored (``"7D"``).
    min_score : float
        Weighted mean of the signals an episode needs to be reported (0.4).
    rules : AnomalyRules, optional
        The other thresholds; ``**overrides`` replace single fields
        (``min_count=50``).

    Returns
    -------
    DataFrame
        One row per episode, columns :data:`COLUMNS`: ``kind`` (``sms_pumping``,
        ``toll_fraud``, ``spend_spike``), ``account_sid``, ``start``, ``end`` (UTC, first
        and last event), ``country`` (as :func:`twilio_frames.country_of` names it,
        ``001`` for non-geographic), ``prefix`` (common to every destination), ``count``,
        ``currency``, ``cost_micros`` (exact), ``cost``, ``score``, ``evidence`` (a
        sentence), then the raw signals and ``baseline_days`` (history before it).

    Examples
    --------
    >>> import twilio_frames as tf
    >>> with tf.simulator.running(seed=1, days=60, attacks=1) as sim:   # doctest: +SKIP
    ...     c = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url)
    ...     found = tf.traffic_anomalies(c.messages(accounts="all"), c.calls(accounts="all"))
    """
    if messages is None and calls is None:
        raise ConfigurationError("pass messages= and/or calls=")
    try:
        rules = replace(rules or AnomalyRules(), **overrides)
    except TypeError:
        known = sorted(AnomalyRules.__dataclass_fields__)
        raise ConfigurationError(f"unknown rule(s) {sorted(overrides)}; AnomalyRules has "
                                 f"{', '.join(known)}") from None
    window, min_hist = _days(baseline, "baseline"), _days(min_history, "min_history")
    all_cells, reported, rows = [], [], []
    for resource, frame in (("messages", messages), ("calls", calls)):
        if frame is not None:
            cells, found, rep = _episodes(frame, resource, rules, window, min_hist,
                                          min_score)
            all_cells.append(cells)
            reported += [] if rep is None else [rep]
            rows += found
    _warn_short(all_cells, min_hist)
    fraud = _frame(rows)
    spikes = spend_spikes(all_cells, reported, rules, window, min_hist, fraud)
    return _frame(rows + spikes) if spikes else fraud
