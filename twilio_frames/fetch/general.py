"""The general column conversions: anything in, the first value they cannot convert out.

:mod:`twilio_frames.fetch.columns` holds the Arrow/numpy fast paths, which accept only
the shapes Twilio sends; every other batch comes here. Each function gives the result
the fast path would, or raises :class:`BadValue` naming the first value it could not
convert (its position, the value, what was expected), for
:mod:`twilio_frames.fetch.frames` to turn into a one-line
:class:`~twilio_frames.errors.ParseError`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["BadValue", "general_datetimes", "general_dates", "general_numbers",
           "general_booleans"]

class BadValue(ValueError):
    """The first value of a column that cannot be converted: ``position`` (in the
    batch), ``value`` and ``expected`` (what it should have been, in words)."""

    def __init__(self, position: int, value, expected: str) -> None:
        super().__init__(f"{value!r} at {position} is not {expected}")
        self.position, self.value, self.expected = position, value, expected


_UTC_US = "datetime64[us, UTC]"
_RFC_EXPECTED = "an RFC 2822 date-time like 'Tue, 31 Aug 2010 20:36:28 +0000'"
_ISO_EXPECTED = "an ISO 8601 date-time like '2019-06-24T22:32:49+00:00'"
_BOOL = {True: True, False: False, "true": True, "false": False, "True": True,
         "False": False, 1: True, 0: False}


def _first_bad(bad, s: pd.Series, expected: str) -> None:
    bad = np.asarray(bad, bool)
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        raise BadValue(at, s.iloc[at], expected)


def general_datetimes(s: pd.Series) -> pd.Series:
    """Date-times (``str`` Series) -> ``datetime64[us, UTC]``, offsets applied: RFC
    2822, or ISO 8601 when most values look ISO (usage ``as_of``:
    ``2019-06-24T22:32:49+00:00``). Raises :class:`BadValue`."""
    present = s.dropna()
    iso = int(present.str.match(r"\d{4}-\d\d-\d\d").sum()) if len(present) else 0
    if iso * 2 > len(present):
        return _pandas_times(s, "ISO8601", _ISO_EXPECTED)
    return _arrow_rfc2822(s)


def general_dates(s: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` -> midnight UTC. Raises :class:`BadValue`."""
    return _pandas_times(s, "%Y-%m-%d", "a date like '2026-11-01'")


def _pandas_times(s: pd.Series, fmt: str, expected: str) -> pd.Series:
    out = pd.to_datetime(s, format=fmt, utc=True, errors="coerce")
    _first_bad(out.isna().to_numpy() & s.notna().to_numpy(), s, expected)
    return out.astype(_UTC_US)


def _arrow_rfc2822(s: pd.Series) -> pd.Series:
    """RFC 2822 with Arrow's strptime: about 4x pandas' ``%a``/``%z`` path, same result
    (the offset applied, UTC out). The weekday is dropped before parsing."""
    if not len(s):
        return pd.Series([], dtype=_UTC_US, index=s.index)
    text = pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(pa.array(s.array)), 5)
    parsed = pc.strptime(text, format="%d %b %Y %H:%M:%S %z", unit="us", error_is_null=True)
    out = pd.Series(parsed.to_pandas(), index=s.index).astype(_UTC_US)
    bad = parsed.is_null().to_numpy(zero_copy_only=False) & s.notna().to_numpy()
    bad |= s.notna().to_numpy() & ~_fields_as_written(pd.Series(text.to_pandas()), out)
    _first_bad(bad, s, _RFC_EXPECTED)
    return out


def _fields_as_written(text: pd.Series, parsed: pd.Series) -> np.ndarray:
    """True where the parsed instant, seen at the value's own offset, has the day, year and
    second written: strptime rolls '31 Apr' over to 1 May and ':60' to the next minute, and
    reads a 2-digit year as year 11; those are not dates Twilio sends."""
    parts = text.str.extract(r"^(\d{1,2}) [A-Za-z]{3} (\d{4}) \d\d:\d\d:(\d\d) ([+-])(\d\d)(\d\d)$")
    sign = np.where(parts[3] == "-", -1, 1)
    minutes = sign * (pd.to_numeric(parts[4]) * 60 + pd.to_numeric(parts[5]))
    local = parsed.reset_index(drop=True) + pd.to_timedelta(minutes, unit="min")
    same = ((local.dt.day == pd.to_numeric(parts[0])) & (local.dt.year == pd.to_numeric(parts[1]))
            & (local.dt.second == pd.to_numeric(parts[2])))
    return same.fillna(False).to_numpy(dtype=bool)


def general_numbers(s: pd.Series, dtype: str) -> pd.Series:
    """Numbers (``str`` Series) -> ``dtype`` (``Int64`` or ``float64``). Raises
    :class:`BadValue` for a value that is not a number, or not a whole one for Int64."""
    expected = "an integer" if dtype == "Int64" else "a number"
    out = pd.to_numeric(s, errors="coerce")
    present = s.notna().to_numpy()
    _first_bad(out.isna().to_numpy() & present, s, expected)
    if dtype == "Int64":
        return _exact_integers(s, out, present)
    try:
        return out.astype(dtype)
    except (ValueError, TypeError, OverflowError):
        for at in np.flatnonzero(present):
            try:
                pd.Series([out.iloc[at]]).astype(dtype)
            except (ValueError, TypeError, OverflowError):
                raise BadValue(int(at), s.iloc[at], expected) from None
        raise


def _exact_integers(s: pd.Series, out: pd.Series, present: np.ndarray) -> pd.Series:
    """``Int64`` from digit strings exactly (Arrow's int64 cast, never through float64);
    other whole numbers (``"1e3"``, ``"12.0"``) from their float. Raises BadValue."""
    text = s.str.strip().reset_index(drop=True)
    digits = text.str.fullmatch(r"[+-]?[0-9]+").to_numpy(dtype=bool, na_value=False)
    values = np.zeros(len(s), np.int64)
    other = present & ~digits
    if other.any():
        floats = out.to_numpy(dtype="float64", na_value=np.nan)[other]
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(floats) & (floats == np.round(floats))
            fits = (floats >= -2.0 ** 63) & (floats < 2.0 ** 63)
        _first_bad(_scatter(other, ~whole), s, "an integer")
        _first_bad(_scatter(other, ~fits), s, _INT64_EXPECTED)
        values[other] = floats.astype(np.int64)
    if digits.any():
        values[digits] = _digit_integers(text[digits].str.removeprefix("+"), s)
    return pd.Series(pd.arrays.IntegerArray(values, ~present), index=s.index)


_INT64_EXPECTED = "an integer that fits in int64"


def _scatter(mask: np.ndarray, sub: np.ndarray) -> np.ndarray:
    """``sub`` (one flag per True of ``mask``) spread back to ``mask``'s length."""
    full = np.zeros(len(mask), bool)
    full[mask] = sub
    return full


def _digit_integers(text: pd.Series, s: pd.Series) -> np.ndarray:
    """Digit strings (indexed by their positions in ``s``) -> int64; BadValue past
    int64."""
    try:
        return pa.array(text.array).cast(pa.int64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        for at, value in text.items():
            if not -2 ** 63 <= int(value) < 2 ** 63:
                raise BadValue(int(at), s.iloc[at], _INT64_EXPECTED) from None
        raise


def general_booleans(values: list) -> pd.Series:
    """true/false (JSON booleans or their text) -> ``boolean``; ``""`` and null are
    missing. Raises :class:`BadValue`."""
    s = pd.Series(values, dtype=object)
    s = s.where(s.notna() & (s != ""), None)
    out = s.map(_BOOL, na_action="ignore")
    _first_bad((out.isna() & s.notna()).to_numpy(), s, "a boolean (true or false)")
    return out.astype("boolean")
