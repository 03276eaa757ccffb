"""Tables to files, the file type chosen by the extension: a file is what its name says.

======== ================================================================================
``.csv``     UTF-8, header row, RFC 4180 (CRLF, quoting), cells by :mod:`.cells`' rules:
             exact money, ISO 8601 UTC, every text cell neutralised against formulas.
``.jsonl``   one JSON object per line, UTF-8: money as exact decimal text (``"0.215000"``,
             a JSON number would be read back as a float), times ISO 8601 UTC, missing
             values ``null``.
``.parquet`` the frame's own dtypes (Arrow types); money columns of a table exact as
             ``decimal128(.., 6)``; a client frame keeps ``price`` and its exact
             ``price_micros``, so reading it back gives the same frame. Needs pyarrow.
======== ================================================================================

Any other extension is refused with a :class:`~twilio_frames.ConfigurationError` by
:func:`table_format`, which callers run before they fetch or compute anything. Every file
is written atomically (:func:`~twilio_frames.output.outputs.atomic_file`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import pandas as pd

from ..errors import ConfigurationError
from .cells import cell_text, micros_text, neutralise
from .outputs import atomic_file

__all__ = ["FORMATS", "table_format", "write_table"]

#: The extensions :func:`write_table` knows, in the order error messages list them.
FORMATS = (".csv", ".jsonl", ".parquet")


def table_format(path: str | os.PathLike) -> str:
    """The file type of ``path`` from its extension (``".csv"``...), or ConfigurationError.

    Cheap and side-effect free: call it before fetching, so a typo costs nothing.
    """
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        excel = (" (for Excel, write .csv: it opens there, exact to the digit and with "
                 "formulas neutralised)" if ext in (".xlsx", ".xls", ".xlsm") else "")
        raise ConfigurationError(f"cannot tell the file type of {str(path)!r} from its "
                                 f"extension: use {', '.join(FORMATS)}{excel}")
    if ext == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ConfigurationError("writing .parquet needs pyarrow: "
                                     "pip install 'twilio-frames[parquet]'") from None
    return ext


def write_table(frame: pd.DataFrame, path: str | os.PathLike, *,
                columns: Sequence[str] | None = None, micros: Mapping[str, str] | None = None,
                dates: Sequence[str] = (), overwrite: bool = False) -> Path:
    """Write ``columns`` of ``frame`` (default all) to ``path`` in the type its name says.

    ``micros`` maps a money column to its exact micro-units column (the money column need
    not exist in ``frame``); ``dates`` names datetime columns written as UTC days. Returns
    the path. Raises ConfigurationError for an unknown extension (nothing written) and
    FileExistsError if ``path`` exists and not ``overwrite``.
    """
    fmt = table_format(path)
    columns, micros = list(columns or frame.columns), dict(micros or {})
    with atomic_file(path, overwrite=overwrite) as tmp:
        _WRITERS[fmt](frame, tmp, columns, micros, tuple(dates))
    return Path(path)


def _csv(frame, tmp: Path, columns, micros, dates) -> None:
    tmp.write_bytes(csv_bytes(frame, columns, micros, dates))


def csv_bytes(frame, columns, micros, dates=(), *, header: bool = True) -> bytes:
    """The CSV of ``columns`` of ``frame`` (the rules of :func:`write_table`), as UTF-8
    bytes; without the header row for the second and later pieces of one file."""
    table = pd.DataFrame({c: cell_text(frame, c, micros=micros.get(c),
                                       date_only=c in dates).to_numpy() for c in columns},
                         columns=columns)
    table.columns = neutralise(pd.Series(columns, dtype="str")).tolist()
    return table.to_csv(index=False, header=header, lineterminator="\r\n").encode("utf-8")


def _typed(frame, columns, micros, dates, money, day) -> pd.DataFrame:
    out = {}
    for c in columns:
        if c in micros:
            out[c] = money(frame[micros[c]].astype("Int64"))
        elif c in dates:
            out[c] = day(frame[c])
        else:
            out[c] = frame[c]
    return pd.DataFrame(out, columns=columns, index=frame.index).reset_index(drop=True)


def _decimal(micros: pd.Series) -> pd.Series:
    """Exact Arrow decimals (scale 6) from Int64 micro-units: integer x 0.000001."""
    import pyarrow as pa
    import pyarrow.compute as pc
    ints = pa.array(micros.to_numpy(dtype="int64", na_value=0), pa.int64(),
                    mask=micros.isna().to_numpy(bool))
    exact = pc.multiply(ints.cast(pa.decimal128(19, 0)),
                        pa.scalar(Decimal("0.000001"), pa.decimal128(7, 6)))
    return pd.Series(pd.arrays.ArrowExtensionArray(exact.cast(pa.decimal128(25, 6))),
                     index=micros.index)


def _parquet(frame, tmp: Path, columns, micros, dates) -> None:
    table = _typed(frame, columns, micros, dates, _decimal,
                   lambda col: col.dt.tz_convert("UTC").dt.date.astype("date32[pyarrow]"))
    table.to_parquet(tmp, index=False)


#: pandas (ujson) escapes every "/" as "\/"; an escape is a backslash and the next
#: character, so a "\/" preceded by an even run of backslashes is an escaped slash.
_ESCAPED_SLASH = re.compile(r"(?<!\\)((?:\\\\)*)\\/")


def _jsonl(frame, tmp: Path, columns, micros, dates) -> None:
    def money(col):
        return micros_text(col).where(col.notna(), None).astype("object")

    def day(col):
        return col.dt.tz_convert("UTC").dt.strftime("%Y-%m-%d").astype("object")
    table = _typed(frame, columns, micros, dates, money, day)
    text = table.to_json(orient="records", lines=True, date_format="iso", date_unit="s",
                         force_ascii=False)
    tmp.write_text(_ESCAPED_SLASH.sub(r"\1/", text), encoding="utf-8")


_WRITERS = {".csv": _csv, ".jsonl": _jsonl, ".parquet": _parquet}
