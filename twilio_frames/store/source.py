"""A store standing in for a Client: the report, the exports and the CLI read frames
through ``.calls(...)``, ``.usage_records(...)`` and friends, so with
:meth:`Store.source() <twilio_frames.Store.source>` they run from the store with no
network and no credentials."""

from __future__ import annotations

from ..errors import ConfigurationError, StoreError
from .layout import open_store, read_meta
from .read import account_order, read_dask, read_frame, select

__all__ = ["StoreSource"]


class StoreSource:
    """The read methods of :class:`~twilio_frames.Client`, answered from a store.

    ``accounts`` means what it means to the client: None is the store's own account,
    ``"all"`` every account the store holds, or a list of SIDs. Usage records are the
    ``daily`` subresource (the one a store keeps).
    """

    format = "parquet"

    def __init__(self, path) -> None:
        self.path = path
        self.account_sid = open_store(path)["account_sid"]
        self.base_url = f"the store {path}"

    def __repr__(self) -> str:
        return f"StoreSource({str(self.path)!r})"

    def __enter__(self) -> StoreSource:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def close(self) -> None:
        return None

    def _accounts(self, accounts):
        return [self.account_sid] if accounts is None else accounts

    def calls(self, start=None, end=None, *, accounts=None):
        return read_frame(self.path, "calls", start, end, accounts=self._accounts(accounts))

    def messages(self, start=None, end=None, *, accounts=None):
        return read_frame(self.path, "messages", start, end, accounts=self._accounts(accounts))

    def recordings(self, start=None, end=None, *, accounts=None):
        return read_frame(self.path, "recordings", start, end,
                          accounts=self._accounts(accounts))

    def usage_records(self, subresource=None, *, start=None, end=None, accounts=None,
                      category=None, include_subaccounts=None):
        if subresource != "daily" or category is not None or include_subaccounts:
            raise ConfigurationError("a store keeps daily usage records of each account "
                                     "(subresource='daily', no category, no "
                                     "include_subaccounts)")
        return read_frame(self.path, "usage_records", start, end,
                          accounts=self._accounts(accounts))

    def accounts(self):
        return read_frame(self.path, "accounts")

    def account_sids(self) -> list[str]:
        """Every account the store holds rows of (the Accounts list's order first)."""
        return account_order(self.path)

    def dask(self, resource: str, start=None, end=None, *, accounts=None, columns=None):
        """The same rows as the read method, as a lazy Dask frame (one partition per
        stored partition, in stored order): for what does not fit in memory."""
        return read_dask(self.path, resource, start, end, accounts=self._accounts(accounts),
                         columns=columns)

    def rows(self, resource: str, start=None, end=None, *, accounts=None) -> int:
        """Rows of the partitions touching ``[start, end)`` (from their metadata, without
        reading them; rows outside the range in a touching partition are counted too)."""
        total = 0
        for part in select(self.path, resource, start, end, accounts=self._accounts(accounts)):
            try:
                total += int(read_meta(part.path).get("rows") or 0)
            except StoreError:
                continue               # unreadable: reading it says so
        return total

    def incoming_phone_numbers(self, *, accounts=None):
        return read_frame(self.path, "incoming_phone_numbers",
                          accounts=self._accounts(accounts))
