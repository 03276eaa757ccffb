"""Customer statements as files: a CSV and a printable HTML page per customer and month,
and one CSV of every customer (:func:`write_statements`).

The HTML page is self-contained (inline CSS, no script, no image, no external link),
sized for A4 and US Letter (``@page``, 180 mm of content), one statement per page.
Customers see what they pay (``charge``) and never our cost unless ``show_cost``; the
all-customers CSV is ours and carries both. Money is written exactly from the integer
micro-units (CSV: every digit; HTML: at least the currency's minor unit). The folder is
written under a temporary name and renamed at the end (:mod:`twilio_frames.output.outputs`).
"""

from __future__ import annotations

import html
import os
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd

from ..analysis.coverage import coverage_notes
from ..analysis.statements import STATEMENT_COLUMNS
from ..errors import ConfigurationError
from ..money import micros_to_decimal, minor_unit
from .export import write_cells_csv
from .outputs import atomic_folder

__all__ = ["STATEMENTS_MARKER", "statement_html", "write_statements"]

#: Marker file of a statements folder (an existing one is replaced only if it holds it).
STATEMENTS_MARKER = ".twilio-frames-statements"
_DETAIL_TABLES = ("top numbers", "top destinations", "messages by country",
                  "calls by direction")
CSS = """
@page { size: A4; margin: 15mm; }
* { box-sizing: border-box; }
body { font: 10.5pt/1.4 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       color: #1f2430; margin: 0; background: #eef0f3; }
.sheet { width: 210mm; min-height: 270mm; margin: 10mm auto; padding: 15mm;
         background: #fff; }
header { display: flex; justify-content: space-between; align-items: flex-start;
         border-bottom: 3px solid #c8102e; padding-bottom: 8mm; margin-bottom: 6mm; }
h1 { font-size: 20pt; margin: 0 0 2mm; }
h2 { font-size: 12pt; margin: 7mm 0 2mm; }
.from { font-weight: 650; font-size: 12pt; }
.to, .meta { color: #5d6475; }
.to b, .meta b { color: #1f2430; }
.badge { display: inline-block; padding: 1mm 3mm; border-radius: 2mm; font-weight: 650;
         background: #fff4d6; color: #7a5200; border: 1px solid #e0b84c; }
table { width: 100%; border-collapse: collapse; margin: 2mm 0; }
th, td { text-align: left; padding: 1.6mm 2mm; border-bottom: 1px solid #d9dde5;
         vertical-align: top; }
th { font-size: 9pt; color: #5d6475; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 700; border-top: 2px solid #1f2430; border-bottom: none; }
.details { display: grid; grid-template-columns: 1fr 1fr; gap: 0 8mm; }
.note { color: #5d6475; font-size: 8.5pt; margin-top: 8mm; }
.coverage { color: #7a5200; font-size: 9pt; border-left: 3px solid #e0b84c;
            padding-left: 3mm; }
@media print { body { background: #fff; font-size: 8.5pt; } h1 { font-size: 16pt; }
               .note { margin-top: 4mm; }
               .sheet { margin: 0; width: auto; min-height: 0; padding: 0; }
               header { padding-bottom: 4mm; margin-bottom: 3mm; }
               th, td { padding: 0.6mm 1.5mm; } h2 { margin: 4mm 0 1mm; }
               tr, .details > div { break-inside: avoid; } }
"""


def _money(micros, currency: str) -> str:
    """Exact amount with at least the currency's minor unit of places: ``1,234.50``."""
    amount = micros_to_decimal(0 if pd.isna(micros) else int(micros)).normalize()
    places = max(minor_unit(currency), -min(amount.as_tuple().exponent, 0))
    return f"{amount.quantize(Decimal(1).scaleb(-places)):,.{places}f}"


def _e(value) -> str:
    return html.escape("" if value is None or (not isinstance(value, str) and pd.isna(value))
                       else str(value))


def _quantity(count, unit) -> str:
    return "" if pd.isna(count) else f"{int(count):,} {_e(unit)}".strip()


def _usage(value, unit) -> str:
    if value is None or pd.isna(value):
        return ""
    number = f"{float(value):,.0f}" if float(value).is_integer() else f"{float(value):,}"
    return f"{number} {_e(unit)}".strip()


def _lines_table(st: pd.DataFrame, currency: str, show_cost: bool) -> str:
    head = ["Description", "Category", "Quantity", "Usage"] + (
        ["Twilio cost"] if show_cost else []) + ["Amount"]
    cells = "".join(f'<th class="num">{h}</th>' if h in ("Quantity", "Usage", "Amount",
                                                          "Twilio cost") else f"<th>{h}</th>"
                    for h in head)
    rows = []
    for r in st.itertuples():
        cost = f'<td class="num">{_money(r.cost_micros, currency)}</td>' if show_cost else ""
        rows.append(f"<tr><td>{_e(r.description)}</td><td>{_e(r.category)}</td>"
                    f'<td class="num">{_quantity(r.count, r.count_unit)}</td>'
                    f'<td class="num">{_usage(r.usage, r.usage_unit)}</td>{cost}'
                    f'<td class="num">{_money(r.charge_micros, currency)}</td></tr>')
    span = len(head) - 1
    total = (f'<tr class="total"><td colspan="{span}">Total due ({_e(currency)})</td>'
             f'<td class="num">{_money(st["charge_micros"].sum(), currency)}</td></tr>')
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{''.join(rows)}{total}</tbody></table>"


def _detail_html(detail: pd.DataFrame | None, sid: str, month) -> str:
    if detail is None or not len(detail):
        return ""
    mine = detail[(detail["account_sid"] == sid) & (detail["month"] == month)]
    parts = []
    for name in _DETAIL_TABLES:
        t = mine[mine["table"] == name]
        if not len(t):
            continue
        with_usage = bool(t["usage"].notna().all())
        rows = "".join(f"<tr><td>{_e(r.key)}</td><td class=\"num\">{int(r.count):,}</td>"
                       + (f'<td class="num">{_usage(r.usage, r.usage_unit)}</td>'
                          if with_usage else "") + "</tr>" for r in t.itertuples())
        label = ("Direction" if "direction" in name else "Our number" if "numbers" in name
                 else "Country")
        usage_head = '<th class="num">Usage</th>' if with_usage else ""
        title = name.capitalize() + (" (by cost)" if name != "calls by direction" else "")
        parts.append(f"<div><h2>{_e(title)}</h2><table><thead><tr><th>"
                     f'{label}</th><th class="num">Count</th>{usage_head}</tr></thead>'
                     f"<tbody>{rows}</tbody></table></div>")
    return f'<div class="details">{"".join(parts)}</div>' if parts else ""


def statement_html(st: pd.DataFrame, *, issuer: str, detail: pd.DataFrame | None = None,
                   show_cost: bool = False, coverage: str | None = None) -> str:
    """The HTML page of one statement (the rows of one account, month and currency);
    ``coverage``: a sentence saying the detail tables cover part of the period only."""
    first = st.iloc[0]
    currency, sid = str(first["currency"]), str(first["account_sid"])
    name = first["friendly_name"] if isinstance(first["friendly_name"], str) and first[
        "friendly_name"] not in ("", "nan", "None") else sid
    start, end = pd.Timestamp(first["start_date"]), pd.Timestamp(st["end_date"].max())
    month = start.tz_localize(None).to_period("M")
    provisional = bool(st["provisional"].any())
    badge = ('<p><span class="badge">PROVISIONAL: the month is not closed yet; amounts '
             "may still change</span></p>" if provisional else "")
    note = ("Amounts are in " + _e(currency) + ", computed exactly from Twilio's Usage "
            "Records and rounded half-up to the currency's minor unit"
            + (" per line." if (st["line"] != "rounding").all() else " once per statement."))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Statement {_e(month)} for {_e(name)}</title><style>{CSS}</style></head>
<body><div class="sheet">
<header><div><div class="from">{_e(issuer)}</div><h1>Statement</h1>
<div class="meta"><b>Period</b> {start:%Y-%m-%d} to {end:%Y-%m-%d} (UTC)</div></div>
<div class="to"><b>{_e(name)}</b><br>Account {_e(sid)}<br>Currency {_e(currency)}</div>
</header>{badge}
{_lines_table(st, currency, show_cost)}
{f'<p class="coverage">{_e(coverage)}</p>' if coverage else ""}
{_detail_html(detail, sid, month)}
<p class="note">{note}</p>
</div></body></html>
"""


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:80] or "account"


def write_statements(folder: str | os.PathLike, statements: pd.DataFrame, *,
                     issuer: str = "Your provider", detail: pd.DataFrame | None = None,
                     show_cost: bool = False, overwrite: bool = False) -> list[Path]:
    """Write every statement of ``statements`` (from :func:`twilio_frames.statements`).

    Per account and month ``<account_sid>-<YYYY-MM>.csv`` and ``.html``, plus
    ``statements.csv`` with every customer's lines (cost and charge). ``detail`` defaults
    to ``statements.attrs["detail"]``; ``issuer`` is our name on the page; ``show_cost``
    also shows Twilio's cost to the customer. When the detail covers fewer days than a
    statement (frames from a store synced from mid-month), its page says so above the
    detail tables and its CSVs carry one ``line="note"`` row (zero charge) saying it.
    Returns the paths written.
    """
    missing = [c for c in STATEMENT_COLUMNS if c not in statements.columns]
    if missing:
        raise ConfigurationError(f"not a statements frame: missing column(s) {missing}")
    if not len(statements):
        raise ConfigurationError("no statements to write (the frame is empty)")
    detail = statements.attrs.get("detail") if detail is None else detail
    columns = [c for c in STATEMENT_COLUMNS if c not in ("cost", "charge", "cost_micros",
                                                         "charge_micros")]
    money = {"cost": "cost_micros", "charge": "charge_micros"}
    mine = [*columns, *(["cost"] if show_cost else []), "charge"]
    written: list[str] = []
    months = statements["start_date"].dt.tz_localize(None).dt.to_period("M")
    notes = coverage_notes(statements, None if detail is None else detail.attrs.get(
        "coverage"))
    with atomic_folder(folder, overwrite=overwrite, marker=STATEMENTS_MARKER) as tmp:
        write_cells_csv(_with_notes(statements, notes), tmp / "statements.csv",
                        columns=[*columns, "cost", "charge"], micros=money,
                        dates=("start_date", "end_date"))
        written.append("statements.csv")
        for (sid, month, cur), st in statements.groupby(
                [statements["account_sid"], months, statements["currency"]], sort=True):
            stem = f"{_slug(str(sid))}-{month}" + ("" if statements.loc[
                statements["account_sid"] == sid, "currency"].nunique() == 1 else f"-{cur}")
            while f"{stem}.csv" in written:          # two odd SIDs with one slug
                stem += "-2"
            note = notes.get((str(sid), str(month)))
            write_cells_csv(_with_notes(st, notes), tmp / f"{stem}.csv", columns=mine,
                            micros=money, dates=("start_date", "end_date"))
            page = statement_html(st, issuer=issuer, detail=detail, show_cost=show_cost,
                                  coverage=note)
            (tmp / f"{stem}.html").write_text(page, encoding="utf-8")
            written += [f"{stem}.csv", f"{stem}.html"]
    return [Path(folder) / name for name in written]


def _with_notes(statements: pd.DataFrame, notes: dict) -> pd.DataFrame:
    """The lines, and after each statement whose detail is partial a ``note`` row."""
    if not notes:
        return statements
    months = statements["start_date"].dt.tz_localize(None).dt.to_period("M").astype(str)
    rows, after = [], []
    for (sid, month), text in notes.items():
        mask = ((statements["account_sid"] == sid) & (months == month)).to_numpy()
        if not mask.any():
            continue
        st = statements[mask]
        first = st.iloc[0]
        after.append(int(mask.nonzero()[0].max()) + 0.5)     # after its statement's lines
        rows.append({**{c: first[c] for c in ("account_sid", "friendly_name", "currency")},
                     "start_date": st["start_date"].min(), "end_date": st["end_date"].max(),
                     "category": "detail-coverage", "description": text, "count": pd.NA,
                     "count_unit": "", "usage": None, "usage_unit": "", "cost_micros": 0,
                     "cost": 0.0, "charge_micros": 0, "charge": 0.0, "rule": "",
                     "line": "note", "provisional": bool(st["provisional"].any())})
    if not rows:
        return statements
    extra = pd.DataFrame(rows, columns=STATEMENT_COLUMNS).astype(
        {c: statements[c].dtype for c in STATEMENT_COLUMNS if c not in ("usage",)})
    out = pd.concat([statements, extra], ignore_index=True)
    where = pd.Series([*range(len(statements)), *after])
    return out.iloc[where.sort_values(kind="stable").index].reset_index(drop=True)
