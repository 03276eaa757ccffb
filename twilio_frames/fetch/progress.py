"""A bound on page chains that go nowhere: pages that keep naming a next page but
bring no record not already seen in the chain.

Twilio pages with a token that carries the position (``PageToken=PA...``), so a real
list never serves a page of nothing but repeats, let alone many in a row; a hostile or
broken server that hands out new ``next_page_uri`` values with empty pages, or with
the same records again, would otherwise be followed for ever. :class:`ProgressGuard`
counts the pages in a row that brought nothing new and stops the chain with a
:class:`~twilio_frames.errors.ParseError` after :data:`STALL_PAGES` of them. A long
history is never cut: every page of it brings new records.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from ..errors import ParseError
from .parse_arrow import ArrowRecords

__all__ = ["STALL_PAGES", "ProgressGuard", "record_key"]

#: Pages in a row without a new record (and with a next page) before a chain is stopped.
STALL_PAGES = 10


def record_key(record: dict[str, Any]) -> int:
    """A record's identity, hashed: its ``sid``, else its ``uri`` (usage records),
    else its whole content."""
    key = record.get("sid") or record.get("uri")
    if not isinstance(key, str):
        key = repr(sorted(record.items(), key=lambda kv: str(kv[0])))
    return hash(key)


def _sid_keys(records: list) -> list[int] | None:
    """:func:`record_key` of every record when each is a dict with a non-empty string
    ``sid`` (every page Twilio sends but usage records'), read at C speed: one Python
    call per record was 0.4 ms of a 1,000-call page, on the way to its next page.
    None otherwise (the caller then keys record by record)."""
    try:
        sids = (records.field("sid") if isinstance(records, ArrowRecords)
                else list(map(itemgetter("sid"), records)))
    except (KeyError, TypeError, IndexError):
        return None
    if not sids or "" in sids or set(map(type, sids)) != {str}:
        return None
    return list(map(hash, sids))


class ProgressGuard:
    """Per chain: the records seen, and how many pages in a row brought none new.

    Only hashes are kept (about 60 bytes a record), never the records.
    """

    def __init__(self, patience: int = STALL_PAGES) -> None:
        self.patience, self.stalled = patience, 0
        self._seen: set[int] = set()

    def check(self, records: list[dict[str, Any]], next_uri: str, url: str | None) -> None:
        """Called for a page that names a next page; raise once the chain has stalled."""
        before = len(self._seen)
        self._seen.update(_sid_keys(records) or
                          (record_key(r) for r in records if isinstance(r, dict)))
        self.stalled = 0 if len(self._seen) > before else self.stalled + 1
        if self.stalled >= self.patience:
            what = (f"{len(records)} records, all seen before" if records else "no records")
            raise ParseError(
                f"{self.stalled} pages in a row brought no new record (the last: {what}) "
                f"yet each named a next page (the last: {next_uri[:200]!r}); stopping "
                "instead of following the server for ever", url=url)
