"""One resource of one account of a :class:`~.dataset.Dataset`, as the server pages it."""

from __future__ import annotations

import numpy as np

__all__ = ["Table"]


class Table:
    """One resource of one account, rows in served order (newest first)."""

    def __init__(self, ds, resource: str, account_index: int):
        self._ds, self.resource = ds, resource
        self.account_sid = ds.account_sids[account_index]
        self._lo, self._hi = ds._bounds[resource][account_index:account_index + 2]
        self.sid = ds._cols(resource)["sid"][self._lo:self._hi]

    def __len__(self) -> int:
        return int(self._hi - self._lo)

    def _rows(self, rows) -> np.ndarray:
        """Global row numbers of ``rows`` (a slice, or positions within this table).

        Only the rows asked for are materialised: a page of a million-row table costs
        the same as a page of a small one.
        """
        n = len(self)
        if isinstance(rows, slice):
            span = range(n)[rows]
            return np.arange(self._lo + span.start, self._lo + span.stop, span.step)
        pos = np.asarray(rows)
        if pos.dtype.kind not in "iu":          # masks, empty lists: numpy's own rules
            return np.arange(self._lo, self._hi)[rows]
        if pos.size and (pos.min() < -n or pos.max() >= n):
            raise IndexError(f"row index out of range for a table of {n} rows")
        pos = pos.astype(np.int64)
        return np.where(pos < 0, pos + n, pos) + self._lo

    def column(self, name: str) -> np.ndarray:
        """A filter column aligned with :attr:`sid` (see the simulator contract)."""
        return self._ds._column(self.resource, name, slice(self._lo, self._hi))

    def records(self, rows: slice | np.ndarray) -> list[dict]:
        """JSON-equivalent records for ``rows`` (positions within this table)."""
        return self._ds._records(self.resource, self._rows(rows))

    def records_as(self, rows: slice | np.ndarray, fragments) -> list:
        """:meth:`records`, each record's JSON kept once rendered (a
        :class:`~twilio_frames.simulator.fragments.RecordFragments`): fragments and dicts
        that encode to the same bytes."""
        return fragments.records(self.resource, self._rows(rows),
                                 lambda idx: self._ds._records(self.resource, idx))

