"""Signals, scores and evidence sentences of the episodes :mod:`.anomaly_episodes` finds.

Each signal is a number in [0, 1]; an episode's ``score`` is their weighted mean with the
weights of :class:`twilio_frames.AnomalyRules` (``sms_weights`` / ``call_weights``).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from ..money import format_micros, minor_unit

__all__ = ["signals", "score", "evidence"]


def _clip(x) -> np.ndarray:
    return np.clip(np.nan_to_num(np.asarray(x, dtype=float)), 0.0, 1.0)


def _excess(share, base_share) -> np.ndarray:
    """How far ``share`` is above the usual ``base_share``, as a fraction of the room."""
    return _clip((share - base_share) / np.maximum(1 - base_share, 1e-9))


def _off_hours(e: dict, rules) -> tuple[np.ndarray, np.ndarray]:
    """Share of each episode's events at hours the account rarely uses, and the usual."""
    hours = e["base"]["hours"].astype(float)
    total = hours.sum(axis=1, keepdims=True)
    shares = hours / np.maximum(total, 1)
    off = (shares < rules.off_hour_share) & (total >= rules.min_baseline_events)
    ep_off = np.bincount(e["ep"], off[e["ep"], e["hour"]], len(e["n"])) / e["n"]
    return ep_off, (shares * off).sum(axis=1)


def signals(e: dict, kind: str, rules, dests_high_risk: np.ndarray) -> dict:
    """The named signals of every episode (arrays in [0, 1]) and their raw figures."""
    n, base = e["n"], e["base"]
    ratio = n / np.maximum(e["expected"], 1.0)
    share = e["bad"] / n
    base_share = base["bad"] / np.maximum(base["count"], 1)
    unit = e["cost"] / np.maximum(e["units"], 1)
    base_unit = base["cost"] / np.maximum(base["units"], 1)
    cost_ratio = np.where((e["units"] > 0) & (base["cost"] > 0), unit / base_unit, np.nan)
    ep_off, base_off = _off_hours(e, rules)
    s = {
        "volume": _clip(np.log10(ratio) / 2),
        "new_country": e["new_country"].astype(float),
        "adjacent": np.where(e["distinct"] >= rules.min_count // 2, e["adjacent"], 0.0),
        "cost": _clip(np.log2(np.nan_to_num(cost_ratio, nan=1.0)) / 3),
        "off_hours": _excess(ep_off, base_off),
    }
    if kind == "sms_pumping":
        s["failed"] = _excess(share, base_share)
    else:
        s["short"] = _excess(share, base_share)
        s["high_risk"] = dests_high_risk
    raw = {"volume_ratio": ratio, "bad_share": share, "usual_bad_share": base_share,
           "cost_ratio": cost_ratio, "off_hours_share": ep_off}
    return {"signals": s, "raw": raw}


def score(s: dict, weights: dict) -> np.ndarray:
    total = sum(weights.values())
    return sum(weights[k] * s[k] for k in weights) / total


def _money(micros: int, currency: str) -> str:
    places = minor_unit(currency)
    return f"{currency} {format_micros(int(micros), places=max(places, 2))}"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def evidence(kind: str, row: dict, codes: Counter) -> str:
    """A sentence a person can act on, from one episode's figures."""
    unit = "messages" if kind == "sms_pumping" else "calls"
    where = f"{row['prefix']}…" if row["prefix"] else row["country"]
    parts = [f"{row['count']:,} {unit} to {row['distinct']:,} numbers in {where}"]
    if row["adjacent_share"] >= 0.2:
        parts.append(f"{_pct(row['adjacent_share'])} of them consecutive numbers")
    if kind == "sms_pumping" and row["bad_share"] > 0:
        top = ", ".join(str(c) for c, _ in codes.most_common(3))
        parts.append(f"{_pct(row['bad_share'])} undelivered or failed"
                     + (f" ({top})" if top else "")
                     + f" against {_pct(row['usual_bad_share'])} usually")
    if kind == "toll_fraud" and row["bad_share"] > 0:
        parts.append(f"{_pct(row['bad_share'])} completed in under a billed minute "
                     f"against {_pct(row['usual_bad_share'])} usually")
    if row["new_country"]:
        place = ("001 (non-geographic: satellite and international networks)"
                 if row["country"] == "001" else row["country"])
        parts.append(f"first {unit} ever to {place}")
    if row["volume_ratio"] >= 2 and not row["new_country"]:
        parts.append(f"{row['volume_ratio']:,.0f}x the usual daily volume there")
    if row["cost_ratio"] == row["cost_ratio"] and row["cost_ratio"] >= 2:
        per = "message" if unit == "messages" else "minute"
        parts.append(f"{row['cost_ratio']:,.1f}x the usual cost per {per}")
    if row["off_hours_share"] >= 0.3:
        parts.append(f"{_pct(row['off_hours_share'])} at hours the account rarely uses")
    block = f"the prefix {row['prefix']}" if row["prefix"] else row["country"]
    act = (f"Check SMS Geo Permissions for {row['country']} and block {block}"
           if kind == "sms_pumping" else
           f"Check Voice Dialing Geo Permissions (high-risk ranges) for {block}")
    return "; ".join(parts) + f". Cost {_money(row['cost_micros'], row['currency'])}. {act}."


def error_counts(e: dict) -> list[Counter]:
    """Per episode, the error codes of its undelivered and failed events."""
    out = [Counter() for _ in range(len(e["n"]))]
    err = e["errors"]
    keep = err != 0
    if keep.any():
        pairs = pd.Series(1, index=pd.MultiIndex.from_arrays([e["ep"][keep], err[keep]]))
        for (ep, code), k in pairs.groupby(level=[0, 1]).sum().items():
            out[int(ep)][int(code)] = int(k)
    return out
