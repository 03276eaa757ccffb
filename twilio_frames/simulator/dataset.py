"""A seeded, deterministic synthetic Twilio account tree: the simulator's ground truth.

    >>> from twilio_frames.simulator.dataset import Dataset
    >>> ds = Dataset(seed=1, now="2026-11-15T12:00:00Z")
    >>> calls = ds.table("calls", ds.master_sid)
    >>> first_page = calls.records(slice(0, 50))

Columns are built with numpy (epoch seconds, small-int codes, integer micro-unit prices);
record dicts are built only for the rows asked for. Same seed and options (including
``now``) give identical data. See ``data/README.md`` for prices and usage rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import numpy as np

from .enums import CALL_STATUS
from . import generate_records as gr
from . import usage
from .generate_accounts import (account_record, api_keys, build_accounts, build_numbers,
                                number_record)
from .generate_calls import generate_calls
from .generate_messages import generate_messages
from .generate_numbers import build_parties
from .generate_recordings import generate_recordings
from .generate_times import format_sids, random_hex, sample_times, sid_parts
from .pricing import load_price_list
from .text import body_pool

__all__ = ["Dataset", "Table", "TABLE_RESOURCES"]

TABLE_RESOURCES = ("calls", "messages", "recordings", "incoming_phone_numbers")
_CHILDREN_PER_PARENT = 0.339     # expected child legs per parent call (generate_calls)


def _parse_now(now) -> datetime:
    if now is None:
        return datetime.now(timezone.utc).replace(second=0, microsecond=0)
    if isinstance(now, str):
        now = datetime.fromisoformat(now.replace("Z", "+00:00"))
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(timezone.utc)


@dataclass
class _World:
    """What the generators need to know about accounts, numbers and prices."""

    prices: object
    pools: np.ndarray
    party_country: np.ndarray
    party_type: np.ndarray
    voice_table: np.ndarray
    voice_count: np.ndarray
    sms_table: np.ndarray
    sms_count: np.ndarray
    own_mms: np.ndarray
    client_table: np.ndarray
    body_segments: np.ndarray


def _own_table(numbers, n_acc: int, cap: int) -> tuple[np.ndarray, np.ndarray]:
    rows = [[i for i, x in enumerate(numbers) if x.account == a and x.caps[cap]]
            for a in range(n_acc)]
    width = max(1, max(len(r) for r in rows))
    table = np.array([(r or [-1]) + [r[0] if r else -1] * (width - max(1, len(r)))
                      for r in rows], dtype=np.int64)
    return table, np.array([len(r) for r in rows], dtype=np.int64)


def _sorted(cols: dict, rng, prefix: str, alt: tuple[str, str] | None = None) -> dict:
    """Sort columns by account, then newest first (date_created, sid descending); add sid.

    ``alt = (prefix, column)`` gives rows whose boolean ``column`` is set another prefix
    (``MM`` for MMS). A ``parent`` column of row positions is remapped to sorted positions.
    """
    hi, lo = sid_parts(rng, len(cols["acct"]))
    order = np.lexsort((~lo, ~hi, -cols["created"], cols["acct"]))
    out = {k: v[order] for k, v in cols.items()}
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


class Table:
    """One resource of one account, rows in served order (newest first)."""

    def __init__(self, ds: "Dataset", resource: str, account_index: int):
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


class Dataset:
    """A master account, its subaccounts, and their numbers, calls, messages, recordings.

    Parameters
    ----------
    seed : int
        Seed for ``numpy.random.default_rng``; same seed and options, same data.
    now : datetime or str or None
        The simulated present (aware UTC; a string is ISO 8601). None: the current UTC
        time floored to the minute.
    days : int
        Length of the traffic window ending at ``now``.
    subaccounts : int
        Number of subaccounts; with 4 or more, the last one is suspended.
    calls_per_day, messages_per_day : float
        Mean Call records (all legs) and Message records per day over the account tree.
    currency : str
        Billing currency of the whole tree (``USD``, ``EUR``, ``JPY``, ...).
    unpriced_hours : float
        Completed calls and messages this recent may still have a null price.
    recording_share : float
        Share of completed parent calls that are recorded.
    live_calls : bool
        Add three master calls at the edge of ``now`` (in-progress, ringing, queued).
    attacks : int
        Inject this many SMS-pumping and toll-fraud episodes and an organic campaign
        (:mod:`.generate_attacks`); the ground truth is :attr:`attacks`, a DataFrame.
    """

    def __init__(self, *, seed: int = 0, now: datetime | str | None = None, days: int = 90,
                 subaccounts: int = 3, calls_per_day: float = 40.0,
                 messages_per_day: float = 50.0, currency: str = "USD",
                 unpriced_hours: float = 6.0, recording_share: float = 0.3,
                 live_calls: bool = True, attacks: int = 0):
        self.seed, self.days, self.unpriced_hours = seed, days, unpriced_hours
        self.now = _parse_now(now)
        self._usage: usage.UsageCube | None = None
        self.prices = load_price_list(currency)
        self.currency = self.prices.currency
        r = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]
        now_s = int(self.now.timestamp())
        self.window_start = now_s - days * 86400
        self._build_accounts(r[0], subaccounts, now_s)
        events = days * (calls_per_day + messages_per_day)
        pool = int(np.clip(events / 400, 40, 2500))
        self.parties = build_parties(r[1], [(x.e164, x.country, x.ntype) for x in self.numbers],
                                     len(self._acc), pool)
        self.parties.value_list = self.parties.value.tolist()
        self.bodies, segments = body_pool(r[2])
        world = self._world(segments)
        self._build_traffic(r, world, now_s, calls_per_day, messages_per_day, recording_share,
                            live_calls)
        from .generate_attacks import inject_attacks
        self.attacks = inject_attacks(self, attacks)

    # ------------------------------------------------------------------ building
    def _build_accounts(self, rng, subaccounts: int, now_s: int) -> None:
        self._acc = build_accounts(rng, subaccounts, self.window_start, now_s)
        self.master_sid = self._acc[0].sid
        self.auth_token = self._acc[0].auth_token
        self.account_sids = np.array([a.sid for a in self._acc])
        self._index = {a.sid: a.index for a in self._acc}
        self.auth_tokens = {a.sid: a.auth_token for a in self._acc}
        self.api_keys = api_keys(rng, self._acc)
        self.accounts = [account_record(a, self.master_sid) for a in self._acc]
        self.numbers = build_numbers(rng, self._acc, self.window_start)
        self.number_sids = np.array([x.sid for x in self.numbers])
        self.service_sids = np.array([[random_hex(rng, "MG") for _ in range(2)]
                                      for _ in self._acc])

    def _world(self, segments: np.ndarray) -> _World:
        n_acc, p = len(self._acc), self.parties
        voice, voice_n = _own_table(self.numbers, n_acc, 0)
        sms, sms_n = _own_table(self.numbers, n_acc, 1)
        pools = np.stack([np.stack([p.remote[(c, t)] for t in (0, 1)])
                          for c in range(len({k[0] for k in p.remote}))])
        own_mms = np.zeros(len(p.value), bool)
        own_mms[:p.n_own] = [x.caps[2] for x in self.numbers]
        return _World(self.prices, pools, p.country, p.ntype, voice, voice_n, sms, sms_n,
                      own_mms, np.stack(p.clients), segments)

    def _build_traffic(self, r, world, now_s, calls_per_day, messages_per_day, rec_share,
                       live_calls) -> None:
        shares = np.array([a.share for a in self._acc])
        tz = np.array([a.tz_hours for a in self._acc])
        until = np.array([a.active_until for a in self._acc], dtype=np.int64)
        acct, t = sample_times(r[3], calls_per_day / (1 + _CHILDREN_PER_PARENT),
                               self.window_start, now_s, shares, tz, until)
        calls = generate_calls(r[4], world, acct, t, now=now_s,
                               unpriced_hours=self.unpriced_hours, live=live_calls)
        self.calls = _sorted(calls, r[5], "CA")
        acct, t = sample_times(r[6], messages_per_day, self.window_start, now_s, shares, tz,
                               until)
        msgs = generate_messages(r[7], world, acct, t, now=now_s,
                                 unpriced_hours=self.unpriced_hours)
        self.messages = _sorted(msgs, r[5], "SM", alt=("MM", "mms"))
        recs = generate_recordings(r[5], self.calls, self.prices.recording, share=rec_share)
        self.recordings = _sorted(recs, r[5], "RE")
        self._numbers_cols()
        self._bounds = {name: np.searchsorted(self._cols(name)["acct"],
                                              np.arange(len(self._acc) + 1))
                        for name in TABLE_RESOURCES}

    def _numbers_cols(self) -> None:
        acct = np.array([x.account for x in self.numbers], dtype=np.int16)
        created = np.array([x.created for x in self.numbers], dtype=np.int64)
        sid_rank = np.argsort(np.argsort(self.number_sids))
        order = np.lexsort((-sid_rank, -created, acct))
        self.incoming_phone_numbers = {
            "acct": acct[order], "created": created[order], "number": order,
            "sid": self.number_sids[order],
            "phone_number": np.array([self.numbers[i].e164 for i in order]),
            "friendly_name": np.array([self.numbers[i].friendly_name for i in order])}

    # ------------------------------------------------------------------ access
    def _cols(self, resource: str) -> dict:
        return getattr(self, resource)

    def _account_index(self, account_sid: str) -> int:
        try:
            return self._index[account_sid]
        except KeyError:
            raise KeyError(f"unknown account sid {account_sid!r}") from None

    def parent_of(self, account_sid: str) -> str | None:
        """The owner of a subaccount; None for the master account."""
        i = self._account_index(account_sid)
        return None if i == 0 else self.master_sid

    def table(self, resource: str, account_sid: str) -> Table:
        """One account's ``calls``, ``messages``, ``recordings`` or ``incoming_phone_numbers``."""
        if resource not in TABLE_RESOURCES:
            raise ValueError(f"unknown table resource {resource!r}")
        return Table(self, resource, self._account_index(account_sid))

    def records(self, resource: str, account_sid: str) -> list[dict]:
        """Ground truth: the whole table as served (also ``"accounts"``: the Accounts list)."""
        if resource == "accounts":
            i = self._account_index(account_sid)
            chosen = self.accounts if i == 0 else [self.accounts[i]]
            return [_copy(a) for a in chosen]
        tab = self.table(resource, account_sid)
        return tab.records(slice(None))

    @property
    def usage_cube(self) -> usage.UsageCube:
        """The usage aggregate (count, usage, price per account, day, leaf), built once."""
        if self._usage is None:
            self._usage = usage.build_cube(self)
        return self._usage

    def usage_records(self, account_sid: str, subresource: str | None = None, *,
                      category: str | None = None, start_date: date | None = None,
                      end_date: date | None = None,
                      include_subaccounts: bool = True) -> list[dict]:
        """UsageRecords as served: per period (ascending), categories in name order.

        ``subresource`` None is the root list (like ``all_time``); otherwise one of daily,
        monthly, yearly, all_time, today, yesterday, this_month, last_month. Dates are
        inclusive UTC days. See ``data/README.md`` for the rules.
        """
        i = self._account_index(account_sid)
        scope = tuple(range(len(self._acc))) if include_subaccounts and i == 0 else (i,)
        cats = usage.CATEGORIES if category is None else \
            tuple(c for c in usage.CATEGORIES if c == category.lower())
        today = self.now.date()
        created = usage.day_date(self._acc[i].created // 86400)
        as_of = self.now.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        cube, out = self.usage_cube, []
        col = [usage.CATEGORIES.index(c) for c in cats]
        for first, last in usage.periods(subresource, today, start_date, end_date, created):
            tot = cube.totals(scope, usage.day_number(first), usage.day_number(last))
            for c, k in zip(cats, col):
                out.append(usage.record(account_sid, subresource, c, first, last, tot[:, k],
                                        self.currency, as_of))
        return out

    def _records(self, resource: str, idx: np.ndarray) -> list[dict]:
        if resource == "calls":
            return gr.call_records(self, idx)
        if resource == "messages":
            return gr.message_records(self, idx)
        if resource == "recordings":
            return gr.recording_records(self, idx)
        nums = self.incoming_phone_numbers
        return [number_record(self.numbers[i], self.account_sids[self.numbers[i].account])
                for i in nums["number"][idx].tolist()]

    def _column(self, resource: str, name: str, rows: slice) -> np.ndarray:
        cols = self._cols(resource)
        if name in ("to", "from") and resource in ("calls", "messages"):
            return self.parties.value[cols["to" if name == "to" else "frm"][rows]]
        if resource == "calls" and name == "status":
            return np.array(CALL_STATUS)[cols["status"][rows]]
        if resource == "calls" and name == "parent_call_sid":
            parent = cols["parent"][rows]
            return np.where(parent >= 0, cols["sid"][np.maximum(parent, 0)], "")
        if resource == "recordings" and name == "call_sid":
            return self.calls["sid"][cols["call"][rows]]
        if resource == "recordings" and name == "conference_sid":
            return np.full(len(cols["sid"][rows]), "", dtype="U34")
        key = {"start_time": "start", "end_time": "end", "date_created": "created",
               "date_sent": "sent", "phone_number": "phone_number",
               "friendly_name": "friendly_name"}.get(name)
        if key is None or key not in cols:
            raise KeyError(f"{resource} has no filter column {name!r}")
        return cols[key][rows]


def _copy(record: dict) -> dict:
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in record.items()}
