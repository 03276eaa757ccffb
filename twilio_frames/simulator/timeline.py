"""The account as it stands at ``now``, worked out from each event's own times.

The generators describe every call leg, message and recording as an *event*: its final
state (status, duration, price) and the times at which it changes (created, started,
ended, priced ...). A list at ``now`` shows the events created at or before ``now``, each
as it is at that instant: a call that has not ended is ``queued``, ``ringing`` or
``in-progress`` with no end time, duration or price; a price is there once its
``price_at`` has passed; ``date_updated`` is the last change at or before ``now``. An
event's final state never depends on ``now``, so a later ``now`` shows the same history,
settled where it was open, plus what happened since.

Each ``*_at`` function takes the event columns, a mask of the events inside the account's
history (after its ``start``, before a suspension) and ``now`` (epoch seconds), and
returns the indices of the listed events and their columns that depend on ``now``;
:func:`served_order` turns that into the served columns.
"""

from __future__ import annotations

import numpy as np

from .enums import CALL_STATUS, MESSAGE_DIRECTION, MESSAGE_STATUS
from .generate_times import format_sids
from .pricing import NULL_PRICE

__all__ = ["calls_at", "join", "messages_at", "recordings_at", "served_order"]

_C = {s: i for i, s in enumerate(CALL_STATUS)}
_M = {s: i for i, s in enumerate(MESSAGE_STATUS)}
_INBOUND = MESSAGE_DIRECTION.index("inbound")
_IN_PROGRESS, _PROCESSING = 2, 3            # generate_recordings.REC_STATUS


def _listed(events: dict, keep: np.ndarray, now: int, names: tuple[str, ...]
            ) -> tuple[np.ndarray, dict]:
    """Event indices listed at ``now`` and the ``names`` columns of those rows."""
    idx = np.flatnonzero(keep & (events["created"] <= now))
    return idx, {k: events[k][idx] for k in names}


def join(first: tuple[dict, np.ndarray], second: tuple[dict, np.ndarray]
         ) -> tuple[dict, np.ndarray]:
    """Two sets of events of one resource, each ``(columns, history mask)``, as one; a
    ``parent`` column (call legs) of the second is shifted to its new rows. Recordings
    refer to call events by row, so call events are joined after the first set's
    recordings are drawn, never before them."""
    (a, keep_a), (b, keep_b) = first, second
    if set(a) != set(b):
        raise ValueError(f"events to join differ in columns: {sorted(set(a) ^ set(b))}")
    joined = {k: np.concatenate([a[k], b[k]]) for k in a}
    if "parent" in a:
        shift = np.where(b["parent"] >= 0, b["parent"] + len(keep_a), -1)
        joined["parent"] = np.concatenate([a["parent"], shift])
    return joined, np.concatenate([keep_a, keep_b])


def calls_at(events: dict, keep: np.ndarray, now: int) -> tuple[np.ndarray, dict]:
    """Call legs listed at ``now``: ``(event indices, columns that depend on now)``;
    ``parent`` is remapped to listed rows, ``leg`` is the event index."""
    idx, c = _listed(events, keep, now, ("status", "start", "end", "created", "parent",
                                         "price_at", "duration", "price", "minutes",
                                         "answered_by"))
    final, start, end = c["status"], c["start"], c["end"]
    child = c["parent"] >= 0
    pre, done = now < start, now >= end      # pre: queued (parent) or ringing (child)
    talking = final == _C["completed"]
    status = np.where(done, final, np.where(pre, np.where(child, _C["ringing"], _C["queued"]),
                      np.where(talking, _C["in-progress"], _C["ringing"])))
    priced = now >= c["price_at"]
    position = np.full(len(events["parent"]), -1, np.int64)
    position[idx] = np.arange(len(idx))
    return idx, dict(
        leg=idx, status=status.astype(np.int8),
        parent=np.where(child, position[np.maximum(c["parent"], 0)], -1),
        start=np.where(pre, np.where(child, c["created"], -1), start),
        end=np.where(done, end, -1), duration=np.where(done, c["duration"], -1),
        price=np.where(priced, c["price"], NULL_PRICE),
        minutes=np.where(priced, c["minutes"], 0),
        updated=np.where(priced, c["price_at"],
                         np.where(done, end, np.where(pre, c["created"], start))),
        answered_by=np.where(done | ~pre, c["answered_by"], 0).astype(np.int8))


def messages_at(events: dict, keep: np.ndarray, now: int) -> tuple[np.ndarray, dict]:
    """Messages listed at ``now``: outbound ones ``queued`` for their first second, then
    ``sending`` until sent, ``sent`` until their receipt (or failure), then final."""
    idx, m = _listed(events, keep, now, ("status", "sent", "created", "direction", "final_at",
                                         "price_at", "error", "price", "leaf", "units"))
    final, sent, t = m["status"], m["sent"], m["created"]
    outbound = m["direction"] != _INBOUND
    done = now >= m["final_at"]
    was_sent = (sent >= 0) & (now >= sent)
    sending = outbound & (sent >= 0) & (now >= t + 1)
    status = np.where(done | ~outbound, final, np.where(
        was_sent, _M["sent"], np.where(sending, _M["sending"], _M["queued"])))
    priced = now >= m["price_at"]
    return idx, dict(
        status=status.astype(np.int8), sent=np.where(was_sent, sent, -1),
        error=np.where(done, m["error"], 0).astype(np.int32),
        price=np.where(priced, m["price"], NULL_PRICE),
        leaf=np.where(priced, m["leaf"], -1).astype(np.int8),
        units=np.where(priced, m["units"], 0),
        updated=np.where(priced, m["price_at"], np.where(done, m["final_at"], np.where(
            was_sent & outbound, sent, np.where(sending, t + 1, t)))))


def recordings_at(events: dict, keep: np.ndarray, now: int) -> tuple[np.ndarray, dict]:
    """Recordings listed at ``now``: ``in-progress`` while the call lasts, ``processing``
    until ``done_at``, then ``completed`` or ``absent``. ``call`` stays an event index."""
    idx, r = _listed(events, keep, now, ("status", "done_at", "call_end", "price_at",
                                         "duration", "error", "price", "minutes", "created"))
    done, ended = now >= r["done_at"], now >= r["call_end"]
    priced = now >= r["price_at"]
    return idx, dict(
        status=np.where(done, r["status"], np.where(ended, _PROCESSING, _IN_PROGRESS)
                        ).astype(np.int8),
        duration=np.where(done, r["duration"], -1),
        error=np.where(done, r["error"], 0).astype(np.int32),
        price=np.where(priced, r["price"], NULL_PRICE),
        minutes=np.where(priced, r["minutes"], 0),
        updated=np.where(priced, r["price_at"], np.where(
            done, r["done_at"], np.where(ended, r["call_end"], r["created"]))))


#: Event columns that only the view needs (the served columns never hold them).
_VIEW_ONLY = ("sid_hi", "sid_lo", "price_at", "final_at", "call_end")


def served_order(events: dict, view: tuple[np.ndarray, dict], prefix: str,
                 alt: tuple[str, str] | None = None) -> dict:
    """The listed rows of ``view = (event indices, columns at now)`` as served columns:
    by account, then newest first (date_created, sid descending), with their sids.

    Event columns are gathered once, in served order; the columns at ``now`` replace the
    events' own. Both dicts are emptied on the way (a million-row table is not held twice). The sid bodies are the events' (``sid_hi``, ``sid_lo``). ``alt = (prefix,
    column)`` gives rows whose boolean ``column`` is set another prefix (``MM`` for MMS).
    A ``parent`` column of listed positions is remapped to served positions.
    """
    idx, now_cols = view
    hi, lo = events["sid_hi"][idx], events["sid_lo"][idx]
    order = np.lexsort((~lo, ~hi, -events["created"][idx], events["acct"][idx]))
    rows = idx[order]
    out = {}
    for k in list(events):              # gathered one by one, each source let go at once
        column = events.pop(k)
        if k not in now_cols and k not in _VIEW_ONLY:
            out[k] = column[rows]
    for k in list(now_cols):
        out[k] = now_cols.pop(k)[order]
    hi, lo = hi[order], lo[order]
    out["sid"] = format_sids(prefix, hi, lo)
    if alt is not None and out[alt[1]].any():
        mask = out[alt[1]]
        out["sid"][mask] = format_sids(alt[0], hi[mask], lo[mask])
    if "parent" in out:
        where = np.empty(len(order), np.int64)
        where[order] = np.arange(len(order))
        out["parent"] = np.where(out["parent"] >= 0, where[np.maximum(out["parent"], 0)], -1)
    return out
