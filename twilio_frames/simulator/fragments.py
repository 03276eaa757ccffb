"""Each list record's JSON rendered once: a simulator's CPU is not a real API's.

The simulator runs on the machine it is measured from (``bench/``: two cores shared with
the client). Building a record's dict and encoding it costs about 7 ms per page of 1,000
calls, and with 16 requests in flight those renders queue behind one GIL, so each answer
waited ~100 ms past its simulated latency: the bench measured the simulator. A dataset's
records never change (its ``now`` is fixed; the body cache relies on the same), so the
JSON of a record is the same bytes every time: :class:`RecordFragments` keeps them per
(resource, row) and a page is the fragments joined (``orjson.Fragment``), byte for byte
what encoding the dicts gives (tested). Bounded: past ``limit`` bytes new records are
rendered as before and not kept. XML pages are rendered as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import orjson

__all__ = ["RecordFragments"]


class RecordFragments:
    """JSON fragments of list records by (resource, absolute row), up to ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit, self.size = limit, 0
        self._by_row: dict[tuple[str, int], orjson.Fragment] = {}
        self._lock = threading.Lock()

    def records(self, resource: str, rows: np.ndarray,
                build: Callable[[np.ndarray], list[dict]]) -> list:
        """The records of ``rows`` (absolute), fragments where known; the others built with
        ``build(rows)`` and, while the budget lasts, kept."""
        keys = [(resource, r) for r in rows.tolist()]
        got = [self._by_row.get(k) for k in keys]
        missing = [i for i, f in enumerate(got) if f is None]
        if not missing:
            return got
        built = build(rows[missing])
        if self.size >= self.limit:
            for i, record in zip(missing, built):
                got[i] = record
            return got
        added = 0
        for i, record in zip(missing, built):
            frag = orjson.dumps(record)
            added += len(frag)
            got[i] = self._by_row.setdefault(keys[i], orjson.Fragment(frag))
        with self._lock:
            self.size += added
        return got
