"""What a sync reports: :class:`SyncResult`, and the units and accounts the API no longer
serves.

A unit the API refuses as a whole (Messages older than 400 days: 400 / 20004; the lists of
a closed subaccount whose data Twilio deleted 30 days after closure: 404 / 20404,
``reference/sync-and-scale.md`` §1) never touches what the store holds: it is listed in
``refused``. An account whose lists answer 404 / 20404 is also named in ``gone`` and in
one :class:`AccountGoneWarning`, with what the store keeps of it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import pandas as pd

from .layout import PERIOD, iter_partitions, partition_path

__all__ = ["AccountGoneWarning", "GONE_CODE", "SyncResult", "finish", "is_gone", "refuse", "warn_gone"]

#: The Twilio code of a list whose account no longer exists (a deleted closed subaccount).
GONE_CODE = 20404


class AccountGoneWarning(UserWarning):
    """An account the Accounts list still shows answers 404 / 20404 on its lists: most
    likely a closed subaccount whose data Twilio deleted 30 days after closure. The store
    keeps what it holds of it, byte for byte."""


@dataclass
class SyncResult:
    """What a sync did. ``refused`` lists ``(resource, account_sid, period, message)``
    of units the API would not serve (what the store held for them is kept); ``gone``
    maps each account whose lists answer 404 / 20404 to those resources."""

    fetched: int = 0
    skipped: int = 0
    records: int = 0
    requests: int = 0
    repaired: int = 0
    kept: int = 0
    refused: list = field(default_factory=list)
    seconds: float = 0.0
    now: pd.Timestamp | None = None
    open: int = 0
    gone: dict = field(default_factory=dict)

    def __str__(self) -> str:
        text = (f"fetched {self.fetched} partitions ({self.records} records, {self.requests} "
                f"requests, {self.open} still open), skipped {self.skipped} settled, "
                f"{self.seconds:.1f}s")
        if self.repaired:
            text += f"; refetched {self.repaired} unreadable"
        if self.refused:
            text += (f"; {len(self.refused)} not served by the API any more "
                     f"({self.kept} kept as stored)")
        for sid, names in sorted(self.gone.items()):
            text += (f"; account {sid} answers 404 / 20404 on {', '.join(names)} "
                     "(deleted after closing?): kept as stored")
        return text


def is_gone(error) -> bool:
    """True for the refusal of a list whose account no longer exists (404 / 20404)."""
    return getattr(error, "code", None) == GONE_CODE


def refuse(root, resource: str, sid: str | None, period, error, result: SyncResult, *,
           asked: bool = True) -> None:
    """A unit the API no longer serves: keep what the store holds, say so. ``asked``
    False: not requested, as its list already answered 404 / 20404 for this account."""
    result.kept += partition_path(root, resource, sid, period).exists()
    message = str(error) if asked else f"not asked, as the list answered: {error}"
    result.refused.append((resource, sid, period, message))
    if is_gone(error):
        names = result.gone.setdefault(sid, [])
        if resource not in names:
            names.append(resource)


def finish(result: SyncResult) -> None:
    """Put what was refused in a stable order (units complete in any order)."""
    result.refused.sort(key=lambda r: (r[0], r[1] or "", str(r[2])))
    result.gone = {sid: sorted(names) for sid, names in sorted(result.gone.items())}


def warn_gone(root, result: SyncResult, accounts: pd.DataFrame) -> None:
    """One :class:`AccountGoneWarning` per account of ``result.gone``, naming it, what
    the Accounts list says of it and how many partitions the store keeps."""
    for sid, names in sorted(result.gone.items()):
        held = sum(p.account_sid == sid for r in PERIOD for p in iter_partitions(root, r))
        warnings.warn(AccountGoneWarning(
            f"account {sid}{_described(accounts, sid)} answers 404 / 20404 on "
            f"{', '.join(names)}: Twilio deletes a closed subaccount's data 30 days after "
            f"closure; the store keeps its {held} partitions as they were"), stacklevel=4)


def _described(accounts: pd.DataFrame, sid: str) -> str:
    row = accounts[accounts["sid"] == sid]
    if not len(row):
        return ""
    row = row.iloc[0]
    name = f"{row['friendly_name']}, " if isinstance(row.get("friendly_name"), str) else ""
    status = str(row.get("status"))
    since = row.get("date_updated")
    when = f" since {since:%Y-%m-%d}" if status == "closed" and pd.notna(since) else ""
    return f" ({name}{status}{when})"
