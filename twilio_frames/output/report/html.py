"""The report's HTML page: one self-contained file that opens straight from disk.

No server, no JavaScript, no external assets: the CSS is inline and images are referenced
by a relative path inside the report folder. Everything here is pure string building from
plain values and DataFrames; nothing fetches, computes money or touches the file system.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

__all__ = ["Card", "render_page", "html_table", "html_figure", "html_section", "html_list"]

CSS = """
:root { --ink:#1f2430; --muted:#5d6475; --line:#d9dde5; --accent:#c8102e; --bg:#f6f7f9;
        --ok:#1a7f37; --warn:#9a6700; --bad:#c8102e; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",
       Arial,sans-serif; color:var(--ink); background:var(--bg); }
header { background:#fff; border-bottom:4px solid var(--accent); padding:24px 40px 16px; }
h1 { margin:0 0 6px; font-size:26px; }
h2 { margin:0 0 10px; font-size:19px; }
h3 { margin:18px 0 8px; font-size:15px; }
.meta { color:var(--muted); margin:0; padding:0; list-style:none; display:flex;
        flex-wrap:wrap; gap:4px 24px; }
.meta b { color:var(--ink); font-weight:600; }
main { padding:20px 40px 40px; max-width:1280px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(130px,1fr)); gap:10px;
         margin-bottom:20px; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
.card .label { color:var(--muted); font-size:13px; }
.card .value { font-size:21px; font-weight:650; margin-top:2px; white-space:nowrap; }
.card .note { color:var(--muted); font-size:12px; margin-top:2px; }
.card.ok .value { color:var(--ok); } .card.warn .value { color:var(--warn); }
.card.bad .value { color:var(--bad); }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px 20px;
          margin-bottom:20px; overflow-x:auto; }
section > p { color:var(--muted); margin:0 0 12px; max-width:900px; }
table { border-collapse:collapse; font-size:13.5px; margin:4px 0 8px; }
caption { text-align:left; color:var(--muted); padding-bottom:4px; }
th, td { padding:5px 8px; border-bottom:1px solid var(--line); text-align:left;
         white-space:nowrap; }
th { background:#eef0f4; font-weight:600; white-space:normal; vertical-align:bottom; }
td.wrap { white-space:normal; min-width:150px; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
tr.total td { font-weight:650; border-top:2px solid var(--ink); }
.status-ok { color:var(--ok); font-weight:600; } .status-bad { color:var(--bad); font-weight:600; }
.status-warn { color:var(--warn); font-weight:600; }
.figures { display:grid; grid-template-columns:repeat(auto-fill,minmax(520px,1fr)); gap:16px;
           margin-bottom:12px; }
figure { margin:0; } figure img { width:100%; height:auto; border:1px solid var(--line);
                                  border-radius:4px; background:#fff; }
figcaption { color:var(--muted); font-size:13px; margin-top:4px; }
ul.files { columns:2; margin:0; padding-left:18px; }
footer { color:var(--muted); font-size:12.5px; padding:0 40px 30px; max-width:1280px; }
.empty { color:var(--muted); font-style:italic; }
p.note { color:var(--muted); margin:0 0 8px; max-width:900px; }
"""

#: Text that reads as a number (pre-formatted money, percentages, hours): right-aligned.
_NUMBER_TEXT = re.compile(r"^-?[0-9][0-9,]*(\.[0-9]+)?( %| h)?$")

#: Words in a status column that get a colour (ok / warn / bad).
_STATUS_CLASS = {
    "match": "status-ok", "matched": "status-ok", "ok": "status-ok",
    "pending": "status-warn", "unrated": "status-warn", "no usage record": "status-warn",
    "mismatch": "status-bad", "missing": "status-bad", "error": "status-bad",
}


#: A count of days with a status (``4 of 360 pending``): coloured as that status.
_STATUS_COUNT = re.compile(r"^[0-9][0-9,]* of [0-9][0-9,]* ([a-z ]+)$")


def _status_class(text: str) -> str:
    """The colour class of a status cell (``match``, ``4 of 360 pending``), or ""."""
    found = _STATUS_COUNT.match(text.lower())
    return _STATUS_CLASS.get(found[1] if found else text.lower(), "")


@dataclass(frozen=True)
class Card:
    """One key figure at the top of the page. ``tone`` is "", "ok", "warn" or "bad"."""

    label: str
    value: str
    note: str = ""
    tone: str = ""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _format_cell(value: object, *, digits: int) -> tuple[str, bool]:
    """Text of one cell and whether it is numeric (right-aligned)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, int) or (hasattr(value, "dtype") and getattr(value, "dtype").kind in "iu"):
        return f"{int(value):,}", True
    if isinstance(value, float) or (hasattr(value, "dtype") and getattr(value, "dtype").kind == "f"):
        return f"{float(value):,.{digits}f}", True
    if isinstance(value, Decimal):
        return f"{value:,.{digits}f}", True
    if isinstance(value, pd.Timestamp):
        return (value.strftime("%Y-%m-%d") if value == value.normalize()
                else value.strftime("%Y-%m-%d %H:%M")), False
    text = str(value)
    return text, bool(_NUMBER_TEXT.match(text))


def html_table(df: pd.DataFrame, *, caption: str | None = None, digits: int = 2,
               index: bool = False, total_row: bool = False, max_rows: int = 200,
               wrap: Sequence[str] = ()) -> str:
    """An HTML table of ``df``: numbers right-aligned, status words coloured.

    ``total_row`` styles the last row as a total; ``wrap`` names columns whose text may
    wrap (long explanations); at most ``max_rows`` rows are shown and the caption says
    how many were left out.
    """
    if index:
        df = df.reset_index()
    numeric = [_is_numeric(df[c]) for c in df.columns]
    classes = ["num" if n else "wrap" if c in wrap else "" for c, n in zip(df.columns, numeric)]
    head = "".join(f'<th class="num">{_e(c)}</th>' if n else f"<th>{_e(c)}</th>"
                   for c, n in zip(df.columns, numeric))
    rows = [_html_row(row, classes, digits=digits)
            for row in df.head(max_rows).itertuples(index=False)]
    if total_row and rows:
        rows[-1] = rows[-1].replace("<tr>", '<tr class="total">', 1)
    if not rows:
        rows = [f'<tr><td class="empty" colspan="{max(len(df.columns), 1)}">no rows</td></tr>']
    cap = caption or ""
    if len(df) > max_rows:
        cap = f"{cap} (first {max_rows:,} of {len(df):,} rows; all are in the CSV files)".strip()
    cap_html = f"<caption>{_e(cap)}</caption>" if cap else ""
    return (f"<table>{cap_html}<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _is_numeric(column: pd.Series) -> bool:
    """A numeric column, or text that all reads as numbers (pre-formatted money)."""
    if pd.api.types.is_bool_dtype(column):
        return False
    if pd.api.types.is_numeric_dtype(column):
        return True
    text = column.dropna().astype(str)
    text = text[text != ""]
    return len(text) > 0 and bool(text.str.match(_NUMBER_TEXT.pattern).all())


def _html_row(values: Iterable[object], classes: Sequence[str], *, digits: int) -> str:
    cells = []
    for value, cls in zip(values, classes):
        text, _ = _format_cell(value, digits=digits)
        cls = cls or _status_class(text)
        cells.append(f'<td class="{cls}">{_e(text)}</td>' if cls else f"<td>{_e(text)}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


def html_figure(src: str, *, alt: str, caption: str = "") -> str:
    """An image by relative path, with alt text and an optional caption."""
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="{_e(src)}" alt="{_e(alt)}">{cap}</figure>'


def html_list(items: Sequence[tuple[str, str]], *, css_class: str = "") -> str:
    """A bullet list of links: ``(href, text)`` pairs; an empty href gives plain text."""
    cls = f' class="{_e(css_class)}"' if css_class else ""
    lis = "".join(f'<li><a href="{_e(h)}">{_e(t)}</a></li>' if h else f"<li>{_e(t)}</li>"
                  for h, t in items)
    return f"<ul{cls}>{lis}</ul>"


def html_section(title: str, *parts: str, intro: str = "", anchor: str = "") -> str:
    """A titled box holding already-rendered HTML parts (tables, figures, lists)."""
    ident = f' id="{_e(anchor)}"' if anchor else ""
    intro_html = f"<p>{_e(intro)}</p>" if intro else ""
    return f"<section{ident}><h2>{_e(title)}</h2>{intro_html}{''.join(parts)}</section>"


def _cards(cards: Sequence[Card]) -> str:
    out = []
    for c in cards:
        tone = f" {c.tone}" if c.tone else ""
        note = f'<div class="note">{_e(c.note)}</div>' if c.note else ""
        out.append(f'<div class="card{tone}"><div class="label">{_e(c.label)}</div>'
                   f'<div class="value">{_e(c.value)}</div>{note}</div>')
    return f'<div class="cards">{"".join(out)}</div>'


def render_page(*, title: str, meta: Sequence[tuple[str, str]], cards: Sequence[Card],
                sections: Sequence[str], footer: Sequence[str] = ()) -> str:
    """The whole page: a header with ``meta`` (label, value) pairs, key-figure cards, the
    pre-rendered sections, and footer paragraphs (plain text)."""
    meta_html = "".join(f"<li>{_e(k)}: <b>{_e(v)}</b></li>" for k, v in meta)
    foot = "".join(f"<p>{_e(p)}</p>" for p in footer)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{_e(title)}</h1><ul class=\"meta\">{meta_html}</ul></header>"
        f"<main>{_cards(cards)}{''.join(sections)}</main>"
        f"<footer>{foot}</footer></body></html>\n"
    )
