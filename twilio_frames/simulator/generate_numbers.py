"""Phone numbers: the accounts' IncomingPhoneNumbers and the pool of remote parties.

Every number is drawn from realistic national prefixes and kept only if libphonenumber
says it is valid, of the intended type, and of the intended region (``+447911…`` is
Guernsey, not GB: billing-rules.md §7). Calls and messages refer to endpoints by index
into one :class:`Parties` table, so a million calls need no per-call string work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from .pricing import COUNTRIES, NUMBER_TYPES

__all__ = ["Parties", "draw_numbers", "build_parties", "ACCOUNT_PROFILES", "CAPABILITIES",
           "CLIENT", "CALLING_CODES"]

CLIENT = 3  # party type code of a Twilio Client identity ("client:alice")
CALLING_CODES = {"US": "1", "CA": "1", "GB": "44", "DE": "49", "FR": "33", "AU": "61",
                 "BR": "55", "JP": "81"}

# (country, type) -> national prefixes; the rest of the national number is random digits.
_PREFIXES: dict[tuple[str, str], tuple[tuple[str, int], ...]] = {
    ("US", "local"): tuple((a, 7) for a in ("415", "212", "305", "617", "206", "512", "312",
                                           "646", "303", "404")),
    ("US", "toll-free"): tuple((a, 7) for a in ("800", "833", "844", "855", "866", "877",
                                               "888")),
    ("US", "mobile"): tuple((a, 7) for a in ("917", "310", "718", "702", "480")),
    ("CA", "local"): tuple((a, 7) for a in ("604", "416", "514", "613", "403", "905")),
    ("CA", "mobile"): tuple((a, 7) for a in ("647", "778", "438")),
    ("GB", "local"): (("20", 8), ("161", 7), ("121", 7), ("131", 7)),
    ("GB", "mobile"): (("74", 8), ("75", 8), ("77", 8), ("78", 8)),
    ("GB", "toll-free"): (("800", 7), ("808", 7)),
    ("DE", "local"): (("30", 8), ("89", 8), ("40", 8)),
    ("DE", "mobile"): (("151", 8), ("160", 7), ("170", 7), ("176", 8)),
    ("FR", "local"): (("1", 8), ("4", 8), ("5", 8)),
    ("FR", "mobile"): (("6", 8), ("7", 8)),
    ("AU", "local"): (("2", 8), ("3", 8), ("7", 8)),
    ("AU", "mobile"): (("4", 8),),
    ("BR", "local"): (("11", 8), ("21", 8), ("31", 8)),
    ("BR", "mobile"): (("119", 8), ("219", 8)),
    ("JP", "local"): (("3", 8), ("6", 8)),
    ("JP", "mobile"): (("90", 8), ("80", 8)),
}
_TYPE_OK = {
    "local": {PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE},
    "mobile": {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE},
    "toll-free": {PhoneNumberType.TOLL_FREE},
}

#: (voice, sms, mms, fax) per (country, type) of an account's own number.
CAPABILITIES: dict[tuple[str, str], tuple[bool, bool, bool, bool]] = {
    ("US", "local"): (True, True, True, True), ("US", "toll-free"): (True, True, True, False),
    ("CA", "local"): (True, True, True, False), ("GB", "local"): (True, False, False, False),
    ("GB", "mobile"): (True, True, False, False), ("GB", "toll-free"): (True, False, False, False),
    ("DE", "local"): (True, False, False, False), ("DE", "mobile"): (True, True, False, False),
    ("FR", "local"): (True, False, False, False), ("FR", "mobile"): (True, True, False, False),
    ("AU", "local"): (True, False, False, False), ("AU", "mobile"): (True, True, False, False),
    ("BR", "local"): (True, False, False, False), ("JP", "local"): (True, False, False, False),
}

#: Numbers each account holds: the master (a US software vendor), then subaccount
#: profiles used in turn (its customers).
ACCOUNT_PROFILES: tuple[tuple[tuple[str, str], ...], ...] = (
    (("US", "local"), ("US", "local"), ("US", "toll-free"), ("CA", "local")),
    (("US", "local"), ("US", "toll-free"), ("GB", "local"), ("GB", "mobile")),
    (("DE", "local"), ("DE", "mobile"), ("FR", "local"), ("FR", "mobile"), ("GB", "toll-free")),
    (("AU", "local"), ("AU", "mobile"), ("JP", "local"), ("BR", "local"), ("US", "local")),
    (("CA", "local"), ("CA", "local"), ("US", "local")),
)

_CLIENT_NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
                 "ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor", "wendy")


def _is_ok(e164: str, country: str, ntype: str) -> bool:
    num = phonenumbers.parse(e164, None)
    return (phonenumbers.is_valid_number(num)
            and phonenumbers.region_code_for_number(num) == country
            and phonenumbers.number_type(num) in _TYPE_OK[ntype])


def draw_numbers(rng: np.random.Generator, country: str, ntype: str, n: int,
                 taken: set[str] | None = None) -> list[str]:
    """Draw ``n`` distinct valid E.164 numbers of ``country`` and ``ntype``."""
    taken = set() if taken is None else taken
    prefixes = _PREFIXES[(country, ntype)]
    out: list[str] = []
    attempts = 0
    while len(out) < n:
        attempts += 1
        if attempts > 200 * n + 1000:
            raise RuntimeError(f"could not draw {n} valid {country} {ntype} numbers")
        prefix, width = prefixes[int(rng.integers(len(prefixes)))]
        digits = "".join(map(str, rng.integers(0, 10, width)))
        e164 = f"+{CALLING_CODES[country]}{prefix}{digits}"
        if e164 not in taken and _is_ok(e164, country, ntype):
            taken.add(e164)
            out.append(e164)
    return out


def display(e164: str) -> str:
    """Twilio's ``*_formatted``: national format for NANP (+1), E.164 otherwise."""
    if e164.startswith("+1"):
        return phonenumbers.format_number(phonenumbers.parse(e164, None),
                                          PhoneNumberFormat.NATIONAL)
    return e164


@dataclass
class Parties:
    """Every endpoint a call or message can name, addressed by integer index."""

    value: np.ndarray        # str: E.164 number or "client:name"
    formatted: list[str]     # Twilio's *_formatted display string
    country: np.ndarray      # int8 index into COUNTRIES, -1 for clients
    ntype: np.ndarray        # int8 index into NUMBER_TYPES, CLIENT for clients
    n_own: int               # the first n_own parties are the accounts' own numbers
    remote: dict[tuple[int, int], np.ndarray]   # (country, type) -> party indices
    clients: list[np.ndarray]                   # per account: its client party indices


def build_parties(rng: np.random.Generator, own: list[tuple[str, str, str]],
                  n_accounts: int, pool_size: int) -> Parties:
    """Own numbers (e164, country, type) first, then remote pools, then client names."""
    values = [e for e, _, _ in own]
    country = [COUNTRIES.index(c) for _, c, _ in own]
    ntype = [NUMBER_TYPES.index(t) for _, _, t in own]
    taken = set(values)
    remote: dict[tuple[int, int], np.ndarray] = {}
    for ci, c in enumerate(COUNTRIES):
        for ti, t in enumerate(("local", "mobile")):
            nums = draw_numbers(rng, c, t, pool_size, taken)
            remote[(ci, ti)] = np.arange(len(values), len(values) + len(nums))
            values += nums
            country += [ci] * len(nums)
            ntype += [ti] * len(nums)
    clients = []
    for a in range(n_accounts):
        names = [f"client:{_CLIENT_NAMES[(3 * a + k) % len(_CLIENT_NAMES)]}" for k in range(3)]
        clients.append(np.arange(len(values), len(values) + 3))
        values += names
        country += [-1] * 3
        ntype += [CLIENT] * 3
    formatted = [v if v.startswith("client:") else display(v) for v in values]
    return Parties(np.array(values), formatted, np.array(country, np.int8),
                   np.array(ntype, np.int8), len(own), remote, clients)
