"""Recordings of a share of completed parent calls, as events.

A recording's ``call_sid`` is the parent leg (SPEC: it "will always refer to the parent
leg of a two-leg call"); it starts within the call and lasts no longer than the rest of it.
It is priced per started minute (``ceil(duration / 60)`` x the recording rate, negative),
priced when its call is priced (or once it is processed, if that is later). About 3% are
``absent`` (no audio): duration 0, price null, an ``error_code`` (illustrative).

Times: listed from its ``start`` (``in-progress`` while the call lasts), ``processing`` from
the call's end until ``done_at`` (2 to 30 s later), then ``completed`` or ``absent``.
"""

from __future__ import annotations

import numpy as np

from .enums import RECORDING_SOURCE
from .generate_calls import NEVER
from .pricing import NULL_PRICE

__all__ = ["recording_events", "ABSENT_ERROR", "REC_STATUS"]

#: Recording statuses used here (``recording_enum_status`` values); the first two are final.
REC_STATUS = ("completed", "absent", "in-progress", "processing")
ABSENT_ERROR = 13617
_SRC = {s: i for i, s in enumerate(RECORDING_SOURCE)}
# source per conversation kind K0..K5 (see generate_calls)
_SOURCE_BY_KIND = np.array([_SRC["RecordVerb"], _SRC["DialVerb"], _SRC["DialVerb"],
                            _SRC["OutboundAPI"], _SRC["OutboundAPI"], _SRC["DialVerb"]])


def recording_events(rs, calls: dict[str, np.ndarray], n_parents: int, rate: int, *,
                     share: float = 0.3) -> dict[str, np.ndarray]:
    """Recordings of ``share`` of the completed parent legs among ``calls`` (the events of
    :func:`~.generate_calls.call_events`, parents first); ``rs`` are the parents' day
    streams. ``call`` in the result indexes the rows of ``calls``."""
    chosen, offset_u, trim = rs.random() < share, rs.random(), rs.integers(0, 3)
    absent, swap, two = rs.random() < 0.03, rs.random() < 0.3, rs.integers(1, 3)
    lag = rs.integers(2, 30)
    hi, lo = rs.sid_parts()
    p = slice(0, n_parents)
    ok = (calls["status"][p] == 3) & (calls["duration"][p] >= 2) & chosen
    idx = np.flatnonzero(ok)
    dur_call = calls["duration"][idx]
    offset = (offset_u[idx] * np.minimum(10, dur_call - 1)).astype(np.int64)
    dur = np.maximum(1, dur_call - offset - trim[idx])
    start = calls["start"][idx] + offset
    absent = absent[idx]
    dur = np.where(absent, 0, dur)
    minutes = np.where(absent, 0, -(-dur // 60))
    done_at = calls["end"][idx] + lag[idx]
    source = _SOURCE_BY_KIND[calls["kind"][idx]].astype(np.int8)
    source[(source == _SRC["RecordVerb"]) & swap[idx]] = _SRC["StartCallRecordingAPI"]
    channels = np.where(source == _SRC["DialVerb"], 2,
                        np.where(source == _SRC["OutboundAPI"], two[idx], 1))
    priced = (calls["price"][idx] != NULL_PRICE) & ~absent
    return dict(acct=calls["acct"][idx], call=idx.astype(np.int64), start=start,
                created=start, call_end=calls["end"][idx], done_at=done_at,
                price_at=np.where(priced, np.maximum(calls["price_at"][idx], done_at), NEVER),
                duration=dur, minutes=np.where(priced, minutes, 0),
                price=np.where(priced, -minutes * rate, NULL_PRICE),
                status=absent.astype(np.int8), channels=channels.astype(np.int8),
                source=source, error=np.where(absent, ABSENT_ERROR, 0).astype(np.int32),
                sid_hi=hi[idx], sid_lo=lo[idx])
