"""Report sections about money beyond the list endpoints: where the calls list's cost
goes among Usage Records categories, and the customer statements (pure string building
over :class:`twilio_frames.output.report.build.Tables`)."""

from __future__ import annotations

import html
from decimal import Decimal

import pandas as pd

from .build import Tables, money_text
from .html import html_section, html_table

__all__ = ["CALL_CATEGORIES", "calls_tie", "statements_section"]


#: Usage Records categories that together hold what the Calls list prices.
CALL_CATEGORIES = ("calls", "calls-client", "calls-sip", "trunking-origination",
                   "trunking-termination")


def calls_tie(tables: Tables) -> str:
    """One sentence per currency: the list cost of calls, split into the categories
    Twilio bills it under (calls excludes Client and SIP legs)."""
    summary = tables.recon_summary
    parts = []
    for cur in sorted(summary["currency"].astype("str").unique()):
        rows = summary[(summary["currency"] == cur) & summary["category"].isin(
            CALL_CATEGORIES)].set_index("category")
        named = [c for c in CALL_CATEGORIES if c in rows.index]
        if len(named) < 2:
            continue
        terms = " + ".join(f"{c} {money_text(rows.loc[c, 'list_cost'], cur)}" for c in named)
        total = sum(rows.loc[c, "list_cost"] for c in named)
        parts.append(f"{cur}: {terms} = {money_text(total, cur)}")
    if not parts:
        return ""
    return ('<p class="note">The Calls list holds Client and SIP legs too, which Twilio '
            "bills outside 'calls' (as calls-client and calls-sip), so the list cost of "
            "calls splits into these categories, each reconciled on its own. List cost: "
            + html.escape("; ".join(parts)) + ".</p>")


def statements_section(tables: Tables, files: list[str]) -> str:
    """One row per customer statement (account and month) with links to its files."""
    st = tables.statements
    if not len(st):
        return ""
    months = st["start_date"].dt.tz_localize(None).dt.to_period("M").astype("str")
    rows = []
    for (sid, month, cur), part in st.groupby([st["account_sid"], months, st["currency"]],
                                              sort=True):
        stem = f"statements/{sid}-{month}"
        page = f"{stem}.html" if f"{stem}.html" in files else f"{stem}-{cur}.html"
        period = f"{part['start_date'].min():%Y-%m-%d} to {part['end_date'].max():%Y-%m-%d}"
        rows.append({"customer": part["friendly_name"].iloc[0] or sid, "month": month,
                     "days": period, "currency": cur, "lines": int((part["line"] != "fee").sum()),
                     "Twilio cost": money_text(Decimal(int(part["cost_micros"].sum()))
                                               .scaleb(-6), cur),
                     "status": "provisional" if part["provisional"].any() else "final",
                     "statement": page})
    table = pd.DataFrame(rows)
    links = "".join(f'<li><a href="{html.escape(r["statement"])}">'
                    f'{html.escape(str(r["customer"]))}, {r["month"]}</a></li>'
                    for r in rows)
    return html_section(
        "Customer statements", html_table(table.drop(columns="statement")),
        f'<ul class="files">{links}</ul>', anchor="statements",
        intro="Each account's whole bill per UTC month, as a customer statement: one line "
              "per leaf Usage Records category (never a parent beside its children), "
              "unknown categories kept, and a 'no-category' line for what totalprice holds "
              "beyond them, so each statement adds up exactly to the account's totalprice. "
              "Here Twilio's cost is passed through; 'twilio-frames statements --rules' "
              "adds a markup. A month that is not over is provisional; a month the report "
              "covers only in part gives a statement of those days only.")
