"""An optional closed subaccount: how Twilio shows one before and after its data is deleted.

``Dataset(closed_at=...)`` closes one subaccount at that instant (the last one; with four
or more subaccounts the last but one, as the last is the suspended one). Off by default:
without ``closed_at`` nothing here runs and every seed gives the data it always gave.

What Twilio documents (Twilio Support, "Closing a Twilio subaccount",
https://support.twilio.com/hc/en-us/articles/223135987, and the Subaccounts docs, DOC-SUB
in ``reference/billing-rules.md`` §5.11; ``reference/sync-and-scale.md`` §1):

* closing is irreversible; Twilio releases all the subaccount's phone numbers and it can
  no longer make or receive calls or messages: no traffic after ``closed_at``, an empty
  IncomingPhoneNumbers list, no number rental after it;
* it "will appear in your Accounts List via the API" with status ``closed`` (spec enum
  ``account_enum_status``); its ``date_updated`` ("the date that this account was last
  updated", spec) is the closing;
* its historical data stays readable, unless automatic deletion is on, which Twilio turned
  on for every project created after 2018-07-05: then "we will delete all subaccount data
  30 days after closure". The simulated master is such a project: from
  ``closed_at + 30 days`` the subaccount's data is gone;
* its own credentials no longer authenticate: 401 / 20003, whose error page lists a
  suspended or closed account (``reference/twilio-wire-format.md`` §4.2).

What Twilio does not document, and what the simulator does instead (say so if you know):

* the answer of a deleted subaccount's lists and records. We answer 404 / 20404 "The
  requested resource ... was not found", Twilio's code for a resource that does not exist
  (``reference/twilio-wire-format.md`` §4.2; per-subaccount 404s in twilio-python #787 and
  #406, ``reference/peers.md``), which is also what the store's sync expects for "no longer
  served" (``twilio_frames/fetch/units.py``, ``REFUSED_CODES``);
* whether the Account record itself goes: it stays, ``closed``, in the Accounts list and
  at ``/Accounts/{Sid}`` (the deletion is said to remove it from the Console);
* whether the master's ``IncludeSubaccounts=true`` usage forgets the deleted subaccount:
  it does not (that usage was billed to the master). Its recordings, deleted with the
  rest, are no longer stored: the master's recording storage of every month that ends
  after the deletion leaves them out (storage is billed on what is stored).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DELETED_AFTER_DAYS", "Closing", "close_account", "deleted", "deleted_by",
           "deleted_recordings", "held_numbers", "last_rental_day", "refuses_login"]

#: Twilio deletes a closed subaccount's data this long after closure.
DELETED_AFTER_DAYS = 30


@dataclass(frozen=True)
class Closing:
    """The closed subaccount: its index and sid, when it closes and when its data goes."""

    index: int
    sid: str
    closed_at: int                  # epoch seconds
    deleted_at: int

    def closed(self, now: int) -> bool:
        return now >= self.closed_at

    def deleted(self, now: int) -> bool:
        return now >= self.deleted_at


def close_account(ds, closed_at, now: int) -> Closing | None:
    """Close the chosen subaccount of ``ds`` at ``closed_at`` (None: nothing happens):
    its traffic stops there and, once ``now`` has passed it, it shows as closed."""
    if closed_at is None:
        return None
    from .generate_accounts import account_record
    from .world import parse_time
    at = int(parse_time(closed_at, "closed_at").timestamp())
    n_sub = len(ds._acc) - 1
    if n_sub < 1:
        raise ValueError("closed_at needs a subaccount to close (subaccounts >= 1)")
    acc = ds._acc[n_sub - 1 if n_sub >= 4 else n_sub]
    if at <= acc.created:
        raise ValueError(f"closed_at {closed_at!r} is before the subaccount was created")
    acc.active_until = min(acc.active_until, at)
    if at <= now:
        acc.status, acc.updated = "closed", at
    ds.accounts[acc.index] = account_record(acc, ds.master_sid)
    return Closing(acc.index, acc.sid, at, at + DELETED_AFTER_DAYS * 86400)


def held_numbers(ds, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The IncomingPhoneNumbers columns without the numbers released by a closing."""
    c = getattr(ds, "closing", None)
    if c is None or not c.closed(int(ds.now.timestamp())):
        return columns
    keep = columns["acct"] != c.index
    return {k: v[keep] for k, v in columns.items()}


def last_rental_day(ds, account: int, today: int) -> int:
    """The last day (day number) a number of ``account`` is billed its rental: today,
    or the day before the closing day for the closed subaccount (released at closing)."""
    c = getattr(ds, "closing", None)
    if c is None or account != c.index:
        return today
    return min(today, c.closed_at // 86400 - (c.closed_at % 86400 == 0))


def deleted_recordings(ds, acct: np.ndarray) -> np.ndarray:
    """Mask of the recordings (by their ``acct``) that a deletion removes: the closed
    subaccount's (all False without one)."""
    c = getattr(ds, "closing", None)
    return acct == c.index if c is not None else np.zeros(len(acct), bool)


def deleted_by(ds, when: int) -> bool:
    """True when the closed subaccount's data is deleted before ``when`` (epoch s)."""
    c = getattr(ds, "closing", None)
    return c is not None and c.deleted_at < when


def refuses_login(ds, account: str | None) -> bool:
    """True when ``account`` (authenticated by its own credentials) is closed."""
    c = getattr(ds, "closing", None)
    return c is not None and account == c.sid and c.closed(int(ds.now.timestamp()))


def deleted(ds, account: str) -> bool:
    """True when ``account``'s data has been deleted (30 days after its closing)."""
    c = getattr(ds, "closing", None)
    return c is not None and account == c.sid and c.deleted(int(ds.now.timestamp()))
