"""Accounts (a software vendor's master account and its customers' subaccounts), their
credentials, and their IncomingPhoneNumbers."""

from __future__ import annotations

import string
from dataclasses import dataclass, field

import numpy as np

from .generate_numbers import ACCOUNT_PROFILES, CAPABILITIES, draw_numbers, display
from .generate_times import random_hex
from .text import rfc2822

__all__ = ["AccountInfo", "NumberInfo", "SUSPENDED_AFTER_DAYS", "build_accounts", "build_numbers", "account_record",
           "number_columns", "number_record"]

API = "/2010-04-01/Accounts"
_NAMES = ("Brightline Software", "Acme Dental Group", "Nordwind Logistik GmbH",
          "Koala Travel Pty Ltd", "Maple Leaf Plumbing", "Sunrise Bakery & Café",
          "Harbor View Clinic", "Atlas Fitness", "Blue Fern Realty")
_TZ = (-5.0, -5.0, 1.0, 10.0, -5.0)            # UTC offset per profile (no DST)
_SHARES = (0.25, 0.3, 0.2, 0.15, 0.1)
#: With four or more subaccounts, the last one is suspended this long after ``start``.
SUSPENDED_AFTER_DAYS = 30
#: Most subaccounts a dataset has (each created 4 days after the one before, all before
#: ``start``).
MAX_SUBACCOUNTS = 14
#: ``active_until`` of an account that is never suspended.
FOREVER = np.iinfo(np.int64).max
_ACCOUNT_SUBRESOURCES = (
    ("available_phone_numbers", "AvailablePhoneNumbers"), ("calls", "Calls"),
    ("conferences", "Conferences"), ("incoming_phone_numbers", "IncomingPhoneNumbers"),
    ("notifications", "Notifications"), ("outgoing_caller_ids", "OutgoingCallerIds"),
    ("recordings", "Recordings"), ("transcriptions", "Transcriptions"),
    ("addresses", "Addresses"), ("signing_keys", "SigningKeys"),
    ("connect_apps", "ConnectApps"), ("sip", "SIP"),
    ("authorized_connect_apps", "AuthorizedConnectApps"), ("usage", "Usage"),
    ("keys", "Keys"), ("applications", "Applications"), ("short_codes", "SMS/ShortCodes"),
    ("queues", "Queues"), ("messages", "Messages"), ("balance", "Balance"),
)


@dataclass
class NumberInfo:
    """One IncomingPhoneNumber of an account."""

    sid: str
    account: int
    e164: str
    country: str
    ntype: str
    caps: tuple[bool, bool, bool, bool]
    created: int
    friendly_name: str
    extra: dict = field(default_factory=dict)


@dataclass
class AccountInfo:
    """One account of the tree; index 0 is the master."""

    index: int
    sid: str
    auth_token: str
    friendly_name: str
    status: str
    created: int
    updated: int
    tz_hours: float
    share: float
    active_until: int
    profile: tuple[tuple[str, str], ...]


def build_accounts(rng: np.random.Generator, n_sub: int, start: int,
                   now: int) -> list[AccountInfo]:
    """The master and ``n_sub`` subaccounts, all created before ``start`` (the first day of
    history), as they are at ``now``.

    With four or more subaccounts the last one is suspended ``SUSPENDED_AFTER_DAYS`` after
    ``start``: it has no traffic after that (it still holds its numbers), and it shows as
    ``suspended`` from then on. Nothing drawn here depends on ``now``. Subaccounts are
    created four days apart from 60 days before ``start``, so there are at most
    :data:`MAX_SUBACCOUNTS`.
    """
    if int(n_sub) != n_sub or not 0 <= n_sub <= MAX_SUBACCOUNTS:
        raise ValueError(f"subaccounts must be a whole number from 0 to {MAX_SUBACCOUNTS} "
                         f"(all are created before start), got {n_sub!r}")
    master_created = start - 60 * 86400 + int(rng.integers(0, 86400))
    out = []
    for i in range(n_sub + 1):
        created = master_created + i * 4 * 86400 + int(rng.integers(0, 86400)) if i else \
            master_created
        p = 0 if i == 0 else 1 + (i - 1) % (len(ACCOUNT_PROFILES) - 1)
        name = _NAMES[i] if i < len(_NAMES) else f"Customer {i:03d}"
        until = start + SUSPENDED_AFTER_DAYS * 86400 if n_sub >= 4 and i == n_sub else FOREVER
        suspended = until <= now
        out.append(AccountInfo(
            i, random_hex(rng, "AC"), random_hex(rng), name,
            "suspended" if suspended else "active", created,
            until if suspended else created + 3600, _TZ[p], _SHARES[p], until,
            ACCOUNT_PROFILES[p]))
    return out


def _secret(rng: np.random.Generator) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), 32))


def api_keys(rng: np.random.Generator, accounts: list[AccountInfo]) -> dict:
    """One API key (``SK`` sid -> (secret, account sid)) per account."""
    return {random_hex(rng, "SK"): (_secret(rng), a.sid) for a in accounts}


def build_numbers(rng: np.random.Generator, accounts: list[AccountInfo],
                  start: int) -> list[NumberInfo]:
    """Each account's numbers per its profile, bought between its creation and ``start``."""
    taken: set[str] = set()
    out = []
    for acc in accounts:
        for country, ntype in acc.profile:
            e164 = draw_numbers(rng, country, ntype, 1, taken)[0]
            created = int(rng.integers(acc.created + 600, start - 3600))
            name = display(e164)
            extra = {"address_sid": random_hex(rng, "AD"), "bundle_sid": random_hex(rng, "BU"),
                     "emergency_address_sid": random_hex(rng, "AD")}
            out.append(NumberInfo(random_hex(rng, "PN"), acc.index, e164, country, ntype,
                                  CAPABILITIES[(country, ntype)], created, name, extra))
    return out


def account_record(acc: AccountInfo, master_sid: str) -> dict:
    """The JSON-equivalent Account record (spec field order, auth token included)."""
    base = f"{API}/{acc.sid}"
    return {
        "auth_token": acc.auth_token,
        "date_created": rfc2822(acc.created),
        "date_updated": rfc2822(acc.updated),
        "friendly_name": acc.friendly_name,
        "owner_account_sid": master_sid,
        "sid": acc.sid,
        "status": acc.status,
        "subresource_uris": {k: f"{base}/{p}.json" for k, p in _ACCOUNT_SUBRESOURCES},
        "type": "Full",
        "uri": f"{base}.json",
    }


def number_record(num: NumberInfo, account_sid: str) -> dict:
    """The JSON-equivalent IncomingPhoneNumber record, fields in the spec's order."""
    voice, sms, mms, fax = num.caps
    regulated = num.country not in ("US", "CA")
    hook = f"https://hooks.example.com/{account_sid[-8:]}"
    us = num.country == "US"
    return {
        "account_sid": account_sid,
        "address_sid": num.extra.get("address_sid") if regulated else None,
        "address_requirements": "any" if regulated else "none",
        "api_version": "2010-04-01", "beta": False,
        "capabilities": {"voice": voice, "sms": sms, "mms": mms, "fax": fax},
        "date_created": rfc2822(num.created), "date_updated": rfc2822(num.created + 120),
        "friendly_name": num.friendly_name, "identity_sid": None,
        "phone_number": num.e164, "origin": "twilio", "sid": num.sid,
        "sms_application_sid": "", "sms_fallback_method": "POST", "sms_fallback_url": "",
        "sms_method": "POST", "sms_url": f"{hook}/sms" if sms else "",
        "status_callback": "", "status_callback_method": "POST", "trunk_sid": None,
        "uri": f"{API}/{account_sid}/IncomingPhoneNumbers/{num.sid}.json",
        "voice_receive_mode": "voice", "voice_application_sid": "",
        "voice_caller_id_lookup": False, "voice_fallback_method": "POST",
        "voice_fallback_url": None, "voice_method": "POST", "voice_url": f"{hook}/voice",
        "emergency_status": "Active" if us and num.ntype == "local" else "Inactive",
        "emergency_address_sid": num.extra.get("emergency_address_sid")
        if us and num.ntype == "local" else None,
        "emergency_address_status": "registered" if us and num.ntype == "local"
        else "unregistered",
        "bundle_sid": num.extra.get("bundle_sid") if regulated else None,
        "status": "in-use", "type": num.ntype,
    }


def number_columns(numbers: list[NumberInfo], sids: np.ndarray) -> dict[str, np.ndarray]:
    """The IncomingPhoneNumbers list as served columns: by account, newest first."""
    acct = np.array([x.account for x in numbers], dtype=np.int16)
    created = np.array([x.created for x in numbers], dtype=np.int64)
    sid_rank = np.argsort(np.argsort(sids))
    order = np.lexsort((-sid_rank, -created, acct))
    return {
        "acct": acct[order], "created": created[order], "number": order, "sid": sids[order],
        "phone_number": np.array([numbers[i].e164 for i in order]),
        "friendly_name": np.array([numbers[i].friendly_name for i in order]),
        # number_record: every simulated number is Twilio's own and none is beta
        "origin": np.full(len(order), "twilio"), "beta": np.full(len(order), "false")}
