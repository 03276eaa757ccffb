"""The simulator's price list, in exact integer micro-units of the account's currency.

``data/prices.csv`` holds USD prices; ``data/currencies.csv`` a fixed conversion table
and the number of decimal places each currency's prices are rounded to. A unit price in
another currency is ``round(usd * units_per_usd, places)`` (half-even), computed with
``Decimal``. Every record price is a whole number of unit prices, so it is exact too:
prices are carried as ``int64`` micro-units (10**-6 of the currency unit) and formatted as
decimal strings with exactly ``places`` decimals (``"-0.01700"`` in USD, ``"-2.550"`` in JPY).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["COUNTRIES", "NUMBER_TYPES", "PriceList", "known_currencies", "load_price_list",
           "format_prices", "format_amount", "NULL_PRICE"]

#: Countries the simulator uses, in a fixed order (their index is the country code).
COUNTRIES = ("US", "CA", "GB", "DE", "FR", "AU", "BR", "JP")
#: Number types, as IncomingPhoneNumber ``type`` values.
NUMBER_TYPES = ("local", "mobile", "toll-free")
#: Sentinel for a null price in micro-unit arrays.
NULL_PRICE = np.iinfo(np.int64).min
MICRO = 10**6


def data_file(name: str):
    """A file of the ``twilio_frames.data`` package (the repository's ``data/`` folder).

    In a checkout that is not pip-installed, that package does not exist; then the
    ``data/`` folder next to ``twilio_frames/`` is used.
    """
    try:
        return resources.files("twilio_frames.data").joinpath(name)
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "data" / name


def _read_csv(name: str) -> list[dict[str, str]]:
    text = data_file(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@dataclass(frozen=True)
class PriceList:
    """Unit prices in micro-units of ``currency``; -1 where the list has no price."""

    currency: str
    places: int
    voice_in: np.ndarray      # [country, number type] per minute
    voice_out: np.ndarray     # [destination country] per minute
    sms_in: np.ndarray        # [country of the receiving number] per segment
    sms_out: np.ndarray       # [destination country] per segment
    mms_in: np.ndarray        # [country] per message
    mms_out: np.ndarray       # [country] per message
    rental: np.ndarray        # [country, number type] per month
    client: int               # Client (SDK) leg, per minute
    recording: int            # per started minute
    storage: int              # recording storage per minute-month beyond the free 10,000
    failed_fee: int           # Message Processing Fee per failed message

    def format(self, micros: np.ndarray) -> list[str | None]:
        """Format micro-unit prices (``NULL_PRICE`` = null) with this currency's places."""
        return format_prices(micros, self.places)


def _convert(usd: str, rate: Decimal, places: int) -> int:
    q = (Decimal(usd) * rate).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return int(q * MICRO)


def known_currencies() -> list[str]:
    """The currency codes ``data/currencies.csv`` can convert the price list to."""
    return sorted(r["currency"] for r in _read_csv("currencies.csv"))


def load_price_list(currency: str = "USD") -> PriceList:
    """Load ``data/prices.csv`` converted to ``currency`` with ``data/currencies.csv``."""
    table = {r["currency"]: r for r in _read_csv("currencies.csv")}
    code = currency.upper()
    if code not in table:
        raise ValueError(f"unknown currency {currency!r}; known: {', '.join(sorted(table))}")
    rate, places = Decimal(table[code]["units_per_usd"]), int(table[code]["places"])
    nc, nt = len(COUNTRIES), len(NUMBER_TYPES)
    arrays = {k: np.full(nc, -1, np.int64) for k in
              ("voice-outbound", "sms-inbound", "sms-outbound", "mms-inbound", "mms-outbound")}
    arrays["voice-inbound"] = np.full((nc, nt), -1, np.int64)
    arrays["number-rental"] = np.full((nc, nt), -1, np.int64)
    scalars: dict[str, int] = {}
    for row in _read_csv("prices.csv"):
        if row["country"] and row["country"] not in COUNTRIES:
            continue        # attack destinations only (simulator/generate_attacks.py)
        value = _convert(row["price_usd"], rate, places)
        product = row["product"]
        if product in ("voice-inbound", "number-rental"):
            idx = (COUNTRIES.index(row["country"]), NUMBER_TYPES.index(row["number_type"]))
            arrays[product][idx] = value
        elif product in arrays:
            arrays[product][COUNTRIES.index(row["country"])] = value
        else:
            scalars[product] = value
    return PriceList(
        code, places, arrays["voice-inbound"], arrays["voice-outbound"], arrays["sms-inbound"],
        arrays["sms-outbound"], arrays["mms-inbound"], arrays["mms-outbound"],
        arrays["number-rental"], scalars["voice-client"], scalars["recording"],
        scalars["recording-storage"], scalars["failed-message-fee"])


def format_prices(micros: np.ndarray, places: int) -> list[str | None]:
    """Format an int64 micro-unit array as fixed-point strings; ``NULL_PRICE`` -> None.

    A page holds few distinct prices (whole numbers of unit prices), so each distinct
    value is formatted once and spread back with an object-array lookup.

    >>> format_prices(np.array([-17000, 0, NULL_PRICE, -17000]), 5)
    ['-0.01700', '0.00000', None, '-0.01700']
    """
    vals = np.asarray(micros, dtype=np.int64).ravel()
    distinct, where = np.unique(vals, return_inverse=True)
    texts = np.empty(len(distinct), dtype=object)
    texts[:] = [None if v == NULL_PRICE else _format_price(v, places)
                for v in distinct.tolist()]
    return texts[where.ravel()].tolist()


def _format_price(micros: int, places: int) -> str:
    units = micros // 10 ** (6 - places)
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**places)
    return f"{sign}{whole}.{frac:0{places}d}" if places else f"{sign}{whole}"


def format_amount(micros: int) -> str:
    """Format an exact micro-unit amount as a minimal decimal string (``"0"``, ``"3.52"``)."""
    value = Decimal(int(micros)).scaleb(-6)
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text
