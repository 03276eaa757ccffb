"""Column conversions in Arrow and numpy: fast paths for what Twilio actually sends,
and (from :mod:`twilio_frames.fetch.general`, re-exported) general paths that take
anything and find the first value they cannot convert.

:mod:`twilio_frames.fetch.frames` builds every column through the fast paths first. Each fast
path accepts only values in the exact shape Twilio uses (strings, ``Ddd, DD Mon YYYY
HH:MM:SS +HHMM`` datetimes, plain decimal prices, digit-only integers) and returns None
for anything else, so the caller falls back to the general conversion (``general_*``),
which gives the same result or raises :class:`BadValue` naming the first value it could
not convert (its position, the value, what was expected), for the caller to turn into a
one-line :class:`~twilio_frames.errors.ParseError`. A fast path never decides a result
the general path would decide differently (tests compare both).

Profiled on 100k calls (2 shared cores): building the typed frame went from about
10 us to about 3 us per record; what is left is mostly reading the values out of the
record dicts, which only Python can do.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .general import (BadValue, general_booleans, general_dates, general_datetimes,
                      general_numbers)

__all__ = ["string_array", "replace_surrogates", "as_strings", "string_values", "strip_format", "rfc2822",
           "rfc2822_micros", "utc_times", "integers", "prices",
           "BadValue", "general_datetimes", "general_dates", "general_numbers",
           "general_booleans"]

_STR = pd.StringDtype("pyarrow", na_value=np.nan)
_NULL_STR = pa.scalar(None, pa.large_string())
_UTC_DTYPE = pd.DatetimeTZDtype("us", "UTC")
_MIN = np.iinfo(np.int64).min
_SURROGATE = re.compile("[\ud800-\udfff]")

#: ``Ddd, DD Mon YYYY HH:MM:SS +HHMM``: 31 bytes; punctuation and digit positions.
_RFC_WIDTH = 31
_RFC_PUNCT = {3: b",", 4: b" ", 7: b" ", 11: b" ", 16: b" ", 19: b":", 22: b":", 25: b" "}
_RFC_DIGITS = [5, 6, 12, 13, 14, 15, 17, 18, 20, 21, 23, 24, 27, 28, 29, 30]
_PUNCT_AT = list(_RFC_PUNCT)
_PUNCT_BYTES = np.frombuffer(b"".join(_RFC_PUNCT.values()), np.uint8)
_MONTHS = [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct",
           b"Nov", b"Dec"]
_MONTH_CODES = np.array([m[0] << 16 | m[1] << 8 | m[2] for m in _MONTHS], np.int64)
_MONTH_ORDER = np.argsort(_MONTH_CODES)
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)

#: Up to 15 digits: below 2**53, where the general path (through float64 when a value
#: is missing) is exact too.
_INTEGER = r"^-?[0-9]{1,15}$"
#: At most 9 whole digits (so price * 10**6 stays far inside float64's exact integers)
#: and nothing but zeros past the sixth decimal place.
_PRICE = r"^[+-]?(?:[0-9]{1,9}(?:\.[0-9]{0,6}0*)?|\.[0-9]{1,6}0*)$"


def string_array(values: list | pa.Array) -> pa.Array | None:
    """``values`` (str or None) as an Arrow ``large_string`` array with ``""`` made null;
    None when some value is not a string (ints, booleans, objects). An Arrow array of
    strings, integers (their decimal text, as the general path writes a JSON integer)
    or nulls (a page read by Arrow, :mod:`~twilio_frames.fetch.parse_arrow`) is taken
    as it is."""
    if isinstance(values, pa.Array):
        return _arrow_strings(values)
    try:
        arr = pa.array(values, type=pa.large_string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return None
    except UnicodeEncodeError:        # a lone surrogate ("\ud83d" in JSON): U+FFFD
        return string_array(replace_surrogates(values))
    if "" in values:                  # a C-level scan: 2x cheaper than pc.equal + pc.any
        arr = pc.if_else(pc.equal(arr, ""), _NULL_STR, arr)
    return arr


def _arrow_strings(arr: pa.Array) -> pa.Array | None:
    kind = arr.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)
            or pa.types.is_integer(kind) or pa.types.is_null(kind)):
        return None
    if kind != pa.large_string():
        arr = arr.cast(pa.large_string())
    if _may_hold_empty(arr) and pc.any(pc.equal(arr, "")).as_py():
        arr = pc.if_else(pc.equal(arr, ""), _NULL_STR, arr)
    return arr


def _may_hold_empty(arr: pa.Array) -> bool:
    """False when no value of a ``large_string`` array is empty, read off its offsets
    and validity in numpy (two Arrow compute calls cost ~30 us a column: 27 columns a
    batch); True when one may be (then checked exactly)."""
    n = len(arr)
    if not n:
        return False
    validity, offsets = arr.buffers()[:2]
    offs = np.frombuffer(offsets, np.int64, n + 1, arr.offset * 8)
    empty = offs[1:] == offs[:-1]
    if not empty.any():
        return False
    if validity is None:
        return True
    valid = np.unpackbits(np.frombuffer(validity, np.uint8), bitorder="little")
    return bool((empty & valid[arr.offset:arr.offset + n].astype(bool)).any())


def replace_surrogates(values: list) -> list:
    """``values`` with every lone surrogate (``"\ud83d"``, which JSON may carry but
    UTF-8 cannot encode) replaced by U+FFFD, as a decoder's ``errors="replace"`` does."""
    return [_SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v for v in values]


def as_strings(arr: pa.Array) -> pd.Series:
    """An Arrow string array as a pandas ``str`` Series (no copy)."""
    return pd.Series(string_values(arr))


def string_values(arr: pa.Array) -> pd.api.extensions.ExtensionArray:
    """An Arrow string array as a pandas ``str`` array (no copy)."""
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    return pd.arrays.ArrowStringArray(pa.chunked_array([arr]), dtype=_STR)


def strip_format(arr: pa.Array) -> pa.Array:
    """Drop the ``.json``/``.xml`` extension ending a path (before a query, if any).

    Without a ``?`` anywhere (Twilio's record URIs), only an extension ending the value
    can match: cutting it off costs a tenth of the regular expression."""
    if _has_byte(arr, b"?"):
        return pc.replace_substring_regex(arr, r"\.(?:json|xml)(\?|$)", r"\1")
    for ext, ends in [(ext, pc.ends_with(arr, ext)) for ext in (".json", ".xml")]:
        if pc.any(ends).as_py():
            arr = pc.if_else(ends, pc.utf8_slice_codeunits(arr, 0, -len(ext)), arr)
    return arr


def _has_byte(arr: pa.Array, byte: bytes) -> bool:
    """True when the data buffer of a string array holds ``byte`` (it may be in bytes
    outside a sliced array: True then too, which only costs the slow path)."""
    if arr.type != pa.large_string():
        return True
    data = arr.buffers()[2]
    return data is not None and bool((np.frombuffer(data, np.uint8) == byte[0]).any())


def rfc2822(arr: pa.Array) -> pd.Series | None:
    """``Ddd, DD Mon YYYY HH:MM:SS +HHMM`` strings -> ``datetime64[us, UTC]``, the
    offset applied, in numpy over the fixed-width bytes; None unless every non-null
    value has exactly that shape and is a real date and time (the weekday is not read,
    as the general path does not read it either)."""
    micros = rfc2822_micros(arr)
    return None if micros is None else pd.Series(utc_times(micros))


def rfc2822_micros(arr: pa.Array) -> np.ndarray | None:
    """:func:`rfc2822` as epoch microseconds (int64, ``NaT``'s value where null)."""
    if not len(arr):
        return None
    rows = _fixed_width_rows(arr, _RFC_WIDTH)
    if rows is None:
        return None
    valid, m = rows
    micros = _rfc2822_micros(m)
    if micros is None:
        return None
    out = np.full(len(arr), _MIN, np.int64)
    out[valid] = micros
    return out


def utc_times(micros: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Epoch microseconds (``NaT``'s value for missing) as a ``datetime64[us, UTC]`` array."""
    return pd.array(micros.view("M8[us]"), dtype=_UTC_DTYPE)


def _fixed_width_rows(arr: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(non-null mask, the non-null values as an (n, width) uint8 matrix), or None when
    a value has another length or a null takes bytes."""
    if arr.type != pa.large_string():
        return None
    valid = ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), bool)
    _, offsets, data = arr.buffers()
    offs = np.frombuffer(offsets, np.int64)[arr.offset:arr.offset + len(arr) + 1]
    lengths = np.diff(offs)
    if not (np.all(lengths[valid] == width) and np.all(lengths[~valid] == 0)):
        return None
    if data is None:
        return valid, np.zeros((0, width), np.uint8)
    raw = np.frombuffer(data, np.uint8)[offs[0]:offs[-1]]
    return valid, raw.reshape(-1, width)


def _rfc2822_micros(m: np.ndarray) -> np.ndarray | None:
    if not (m[:, _PUNCT_AT] == _PUNCT_BYTES).all():
        return None
    digits = m[:, _RFC_DIGITS] - np.uint8(ord("0"))     # below "0" wraps past 9
    sign = m[:, 26]
    if not (digits <= 9).all():
        return None
    digits = digits.astype(np.int64)
    if not np.all((sign == ord("+")) | (sign == ord("-"))):
        return None
    month = _month_numbers(m[:, 8:11])
    if month is None:
        return None
    d = digits.T
    day, year = d[0] * 10 + d[1], d[2] * 1000 + d[3] * 100 + d[4] * 10 + d[5]
    hour, minute, second = d[6] * 10 + d[7], d[8] * 10 + d[9], d[10] * 10 + d[11]
    off_h, off_m = d[12] * 10 + d[13], d[14] * 10 + d[15]
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = _DAYS_IN_MONTH[month - 1] + (leap & (month == 2))
    ok = ((year >= 1900) & (year <= 2999) & (day >= 1) & (day <= month_days) & (hour <= 23)
          & (minute <= 59) & (second <= 59) & (off_h <= 23) & (off_m <= 59))
    if not ok.all():
        return None
    offset = np.where(sign == ord("-"), -1, 1) * (off_h * 3600 + off_m * 60)
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    return (seconds - offset) * 1_000_000


def _month_numbers(names: np.ndarray) -> np.ndarray | None:
    codes = names[:, 0].astype(np.int64) << 16 | names[:, 1].astype(np.int64) << 8 | names[:, 2]
    sorted_codes = _MONTH_CODES[_MONTH_ORDER]
    at = np.clip(np.searchsorted(sorted_codes, codes), 0, 11)
    if not np.all(sorted_codes[at] == codes):
        return None
    return _MONTH_ORDER[at] + 1


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def integers(arr: pa.Array) -> pd.Series | None:
    """Digit strings -> ``Int64``; None unless every non-null value is ``-?digits``
    (up to 15 of them)."""
    if arr.null_count < len(arr) and not pc.all(pc.match_substring_regex(arr, _INTEGER)).as_py():
        return None
    try:
        return _nullable_int(pc.cast(arr, pa.int64()))
    except pa.ArrowInvalid:
        return None


def prices(arr: pa.Array) -> tuple[pd.Series, pd.Series] | None:
    """Decimal price strings -> (``price`` float64, ``price_micros`` Int64), exactly:
    with at most 9 whole digits and 6 significant decimals, ``rint(float * 10**6)`` is
    the exact micro count (the float's relative error, ~2**-52, stays far below half a
    micro). None for any other shape."""
    if arr.null_count < len(arr) and not pc.all(pc.match_substring_regex(arr, _PRICE)).as_py():
        return None
    try:
        floats = pc.cast(arr, pa.float64())
    except pa.ArrowInvalid:
        return None
    values = floats.to_numpy(zero_copy_only=False)
    missing = np.isnan(values)
    micros = np.where(missing, 0, np.rint(values * 1e6)).astype(np.int64)
    price = np.where(missing, np.nan, micros / 1e6)
    return pd.Series(price), pd.Series(pd.arrays.IntegerArray(micros, missing))


def _nullable_int(arr: pa.Array) -> pd.Series:
    missing = np.asarray(arr.is_null().to_numpy(zero_copy_only=False), bool)
    values = np.asarray(pc.fill_null(arr, 0).to_numpy(zero_copy_only=False), np.int64)
    return pd.Series(pd.arrays.IntegerArray(values, missing))
