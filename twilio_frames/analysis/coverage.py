"""How much of a statement's period its detail tables cover.

A statement's charges come from Usage Records, which a store keeps per whole month; its
detail tables (top numbers, destinations...) come from the calls and messages lists,
which a store holds only for the days it synced. A frame read from a store whose range
it holds in part carries ``attrs["stored_days"]``: ``{account_sid: [[first, last], ...]}``
(``twilio_frames/store/coverage.py``). :func:`detail_coverage` gathers those spans;
:func:`coverage_notes` turns them, per statement, into one sentence when the detail
covers less than the statement's period; :class:`PartialDetailWarning` carries it.
Frames without the key (a client's fetch) are taken to cover what was asked.
"""

from __future__ import annotations

import datetime as dt
import warnings

import pandas as pd

__all__ = ["COVERAGE_COLUMNS", "PartialDetailWarning", "coverage_notes", "detail_coverage",
           "warn_partial"]

COVERAGE_COLUMNS = ["account_sid", "resource", "first_day", "last_day"]


class PartialDetailWarning(UserWarning):
    """A statement's detail tables cover fewer days than its charges (a store synced
    from mid-month): the charges are whole, the detail is not."""


def detail_coverage(**frames: pd.DataFrame | None) -> pd.DataFrame | None:
    """The stored spans of each frame that has them, one row per account, resource and
    span (``first_day``/``last_day`` dates, both included); None when no frame has them."""
    rows = []
    for resource, frame in frames.items():
        days = None if frame is None else frame.attrs.get("stored_days")
        if not days:
            continue
        for sid, spans in days.items():
            rows += [(sid, resource, dt.date.fromisoformat(a), dt.date.fromisoformat(b))
                     for a, b in spans]
            if not spans:
                rows.append((sid, resource, None, None))
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS) if rows else None


def coverage_notes(statements: pd.DataFrame, coverage: pd.DataFrame | None
                   ) -> dict[tuple[str, str], str]:
    """``{(account_sid, "YYYY-MM"): sentence}`` for each statement whose detail tables
    cover fewer days than its period (``start_date``..``end_date``)."""
    if coverage is None or not len(coverage) or not len(statements):
        return {}
    notes = {}
    month = statements["start_date"].dt.tz_localize(None).dt.to_period("M")
    for (sid, period), st in statements.groupby([statements["account_sid"], month]):
        first = pd.Timestamp(st["start_date"].min()).date()
        last = pd.Timestamp(st["end_date"].max()).date()
        mine = coverage[coverage["account_sid"] == sid]
        held = {r: _days(g, first, last) for r, g in mine.groupby("resource", sort=True)}
        total = (last - first).days + 1
        if not held or all(len(d) == total for d in held.values()):
            continue
        notes[str(sid), str(period)] = _sentence(held, total, first, last)
    return notes


def warn_partial(statements: pd.DataFrame, detail: pd.DataFrame) -> None:
    """One :class:`PartialDetailWarning` when some statements' detail covers fewer days
    than their charges, quoting the first one's note."""
    notes = coverage_notes(statements, detail.attrs.get("coverage"))
    if notes:
        (sid, month), text = next(iter(notes.items()))
        more = f" (and {len(notes) - 1} more statements)" if len(notes) > 1 else ""
        warnings.warn(PartialDetailWarning(f"statement {sid} {month}{more}: {text}"),
                      stacklevel=3)


def _days(spans: pd.DataFrame, first: dt.date, last: dt.date) -> set[dt.date]:
    out = set()
    for a, b in zip(spans["first_day"], spans["last_day"]):
        if a is None or pd.isna(a):
            continue
        day = max(a, first)
        while day <= min(b, last):
            out.add(day)
            day += dt.timedelta(days=1)
    return out


def _sentence(held: dict[str, set], total: int, first: dt.date, last: dt.date) -> str:
    kinds = {}
    for resource, days in held.items():
        what = (f"{min(days):%Y-%m-%d} to {max(days):%Y-%m-%d}, {len(days)} of {total} days"
                if days else f"none of the {total} days")
        kinds.setdefault(what, []).append(resource)
    parts = [f"{' and '.join(names)} {what}" for what, names in kinds.items()]
    return (f"Detail tables cover only part of {first:%Y-%m-%d} to {last:%Y-%m-%d}: "
            f"{'; '.join(parts)} (the other days were not synced). Charges cover the "
            "whole period, from Twilio's Usage Records.")
