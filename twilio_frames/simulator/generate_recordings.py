"""Recordings of a share of completed parent calls, as columns.

A recording's ``call_sid`` is the parent leg (SPEC: it "will always refer to the parent
leg of a two-leg call"); it starts within the call and lasts no longer than the rest of it.
It is priced per started minute (``ceil(duration / 60)`` x the recording rate, negative),
priced exactly when its call is priced. About 3% are ``absent`` (no audio): duration 0,
price null, an ``error_code`` (illustrative).
"""

from __future__ import annotations

import numpy as np

from .enums import RECORDING_SOURCE
from .pricing import NULL_PRICE

__all__ = ["generate_recordings", "ABSENT_ERROR", "REC_STATUS"]

REC_STATUS = ("completed", "absent")
ABSENT_ERROR = 13617
_SRC = {s: i for i, s in enumerate(RECORDING_SOURCE)}
# source per conversation kind K0..K5 (see generate_calls)
_SOURCE_BY_KIND = np.array([_SRC["RecordVerb"], _SRC["DialVerb"], _SRC["DialVerb"],
                            _SRC["OutboundAPI"], _SRC["OutboundAPI"], _SRC["DialVerb"]])


def generate_recordings(rng, calls: dict[str, np.ndarray], rate: int, *,
                        share: float = 0.3) -> dict[str, np.ndarray]:
    """Recordings of ``share`` of the completed parent legs in ``calls`` (sorted columns).

    ``call`` in the result indexes the rows of ``calls``.
    """
    completed = (calls["status"] == 3) & (calls["parent"] < 0) & (calls["duration"] >= 2)
    idx = np.nonzero(completed & (rng.random(len(completed)) < share))[0]
    n = len(idx)
    dur_call = calls["duration"][idx]
    offset = (rng.random(n) * np.minimum(10, dur_call - 1)).astype(np.int64)
    dur = np.maximum(1, dur_call - offset - rng.integers(0, 3, n))
    start = calls["start"][idx] + offset
    absent = rng.random(n) < 0.03
    dur = np.where(absent, 0, dur)
    minutes = np.where(absent, 0, -(-dur // 60))
    priced = (calls["price"][idx] != NULL_PRICE) & ~absent
    price = np.where(priced, -minutes * rate, NULL_PRICE)
    source = _SOURCE_BY_KIND[calls["kind"][idx]].astype(np.int8)
    swap = (source == _SRC["RecordVerb"]) & (rng.random(n) < 0.3)
    source[swap] = _SRC["StartCallRecordingAPI"]
    channels = np.where(source == _SRC["DialVerb"], 2,
                        np.where(source == _SRC["OutboundAPI"], rng.integers(1, 3, n), 1))
    return dict(acct=calls["acct"][idx], call=idx.astype(np.int64), start=start,
                created=start,
                updated=np.minimum(calls["end"][idx] + rng.integers(2, 30, n),
                                   np.maximum(calls["updated"][idx], start)),
                duration=dur, minutes=np.where(priced, minutes, 0), price=price,
                status=absent.astype(np.int8), channels=channels.astype(np.int8),
                source=source, error=np.where(absent, ABSENT_ERROR, 0).astype(np.int32))
