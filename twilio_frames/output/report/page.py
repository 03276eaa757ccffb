"""The report's ``index.html``: key-figure cards and sections from the computed tables.

Pure string building over :class:`twilio_frames.output.report.build.Tables` (see
:mod:`twilio_frames.output.report.html` for the HTML pieces); nothing here computes money,
fetches or writes files.
"""

from __future__ import annotations

import html
from decimal import Decimal

import pandas as pd

from ... import __version__
from .build import (COST_COLUMNS, FAILED_FEE_NOTE, PRODUCTS, Tables, account_names,
                    exact_text, money_text)
from .suspicious import suspicious_section
from .html import Card, html_figure, html_list, html_section, html_table, render_page
from .sections import calls_tie, statements_section

__all__ = ["page"]


_NOTES = (
    "Days are UTC calendar days, as in Twilio's Usage Records: a call belongs to the day "
    "its start_time falls on in UTC, a message to its date_sent, a recording to its "
    "date_created.",
    "Costs are summed exactly from the prices Twilio sent (in millionths of the currency) "
    "and shown rounded to the currency's minor unit; the CSV files keep every digit. "
    "Call prices cover connectivity only (no text-to-speech, answering machine detection "
    "or recording storage), so the account's totalprice can be higher.",
    "A price can stay empty for a while after a call or message ends (for messages up to "
    "24 hours). Such rows are counted as unrated and make their day 'pending' rather than "
    "a mismatch. Compare closed periods only.",
    "Twilio keeps message records in the list API for about 13 months (400 days) and "
    "deletes a closed subaccount's data 30 days after closure, so old periods can no "
    "longer be reconciled.",
)


def _period_text(data) -> str:
    last = data.end - pd.Timedelta(microseconds=1)
    return f"{data.start:%Y-%m-%d} to {last:%Y-%m-%d}, both included (UTC days)"


def _period_note(data) -> str:
    """The footer's word on the period, in the header's terms (first and last day shown,
    both included) and in the client's (the half-open range it was fetched as)."""
    last = data.end - pd.Timedelta(microseconds=1)
    return (f"The period runs from {data.start:%Y-%m-%d} to {last:%Y-%m-%d}, both days "
            f"included. It was fetched as the half-open range start={data.start:%Y-%m-%d}, "
            f"end={data.end:%Y-%m-%d}: the end given to the client (report --end) is the "
            "day after the last day reported.")


def _products_cards(tables: Tables) -> list[Card]:
    p = tables.products.groupby("product", observed=True)[["count", "usage"]].sum()
    get = lambda prod, col: int(p[col].get(prod, 0))   # noqa: E731
    return [
        Card("Calls", f"{get('calls', 'count'):,}", f"{get('calls', 'usage'):,} billed minutes"),
        Card("Messages", f"{get('sms', 'count') + get('mms', 'count'):,}",
             f"{get('sms', 'usage'):,} SMS segments, {get('mms', 'count'):,} MMS"),
        Card("Recordings", f"{get('recordings', 'count'):,}",
             f"{get('recordings', 'usage'):,} billed minutes"),
    ]


def _cards(data, tables: Tables) -> list[Card]:
    costs = tables.costs[tables.costs["account"] == "total"]
    cards = [Card(f"Cost, {cur} (list endpoints)", money_text(total, cur),
                  "calls, messages and recordings")
             for cur, total in zip(costs["currency"], costs["list total"])]
    cards += [Card(f"Failed-message fees, {cur}", exact_text(fee, cur),
                   f"{count:,} failed messages, in Usage Records only (see below)")
              for cur, (count, fee) in tables.failed_fees.items()]
    cards += [Card(f"Usage Records total, {cur}", money_text(total, cur),
                   "totalprice: every product, phone numbers included")
              for cur, total in tables.usage_total.items()]
    cards += _products_cards(tables)
    pending = tables.unrated["rows"].sum() if len(tables.unrated) else 0
    cards.append(Card("Waiting for a price", f"{int(pending):,}", "calls, messages, recordings",
                      "warn" if pending else "ok"))
    s = tables.status
    total = sum(s.values())
    tone = "bad" if s["mismatch"] else "warn" if s["pending"] else "ok"
    share = f"{100 * s['match'] / total:.1f} %" if total else "n/a"
    cards.append(Card("Reconciled", share,
                      f"{s['match']:,} of {total:,} account-day-category rows match; "
                      f"{s['pending']:,} pending, {s['mismatch']:,} mismatch", tone))
    return cards


#: Intro of the per-account table: which figures come from where.
COSTS_INTRO = (
    "The whole bill of each account (the master and each subaccount). From the list "
    "endpoints: calls (Client and SIP legs included), sms, mms and recordings, summed "
    "exactly from the price of every row, and their list total. From Usage Records "
    "(fetched per account, IncludeSubaccounts=false): what the lists cannot see, "
    "phone-number rental, recording storage, failed-message fees, any other category "
    "(unknown ones included) and 'no category', what totalprice holds beyond every "
    "category; then 'lists vs Usage Records', Usage Records' price of the categories "
    "the lists price less the lists' cost (prices not set yet, days not over). "
    "The total is the account's totalprice. Columns that are zero for every account "
    "are left out.")


def _costs_display(tables: Tables) -> pd.DataFrame:
    """The per-account table as shown: Usage Records columns that are zero for every
    account are left out (so the table fits the page); SIDs shortened."""
    out = tables.costs.copy()
    keep = [c for c in COST_COLUMNS if c in (*PRODUCTS, "list total", "total")
            or any(v != 0 for v in out[c])]
    out = out[["account", "sid", "currency", *keep]]
    for col in keep:
        out[col] = [money_text(v, c) for v, c in zip(out[col], out["currency"])]
    out["sid"] = [f"AC…{s[-6:]}" if s else "" for s in out["sid"]]
    return out.rename(columns={"sid": "SID", "list total": "lists total",
                               "total": "total (totalprice)"})


def _products_display(tables: Tables) -> pd.DataFrame:
    out = tables.products[["product", "currency", "count", "usage", "usage_unit", "cost",
                           "n_unrated"]].copy()
    out["cost"] = [money_text(v, c) for v, c in zip(out["cost"],
                                                    out["currency"].astype("str"))]
    return out.rename(columns={"usage": "billed usage", "usage_unit": "unit",
                               "n_unrated": "waiting for a price"})


def _failed_fee_html(tables: Tables) -> str:
    """The failed-message fee from Usage Records next to the list cost, and why it is
    not in the list cost."""
    if not tables.failed_fees:
        return ""
    costs = tables.costs[tables.costs["account"] == "total"].set_index("currency")[
        "list total"]
    rows = [{"currency": cur, "list cost": money_text(costs.get(cur, Decimal(0)), cur),
             "failed-message fees (Usage Records)": exact_text(fee, cur),
             "failed messages": count}
            for cur, (count, fee) in tables.failed_fees.items()]
    return ("<h3>Failed-message processing fees</h3>" + html_table(pd.DataFrame(rows))
            + f'<p class="note">{html.escape(FAILED_FEE_NOTE)}</p>')


def _figures(files: list[str], names: list[tuple[str, str]]) -> str:
    parts = [html_figure(f, alt=alt, caption=alt) for f, alt in names if f in files]
    return f'<div class="figures">{"".join(parts)}</div>' if parts else ""


def _odd_days(rec: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Days that are not a match and have something on them, mismatches first."""
    odd = rec[rec["status"].astype("str") != "match"]
    busy = (odd["list_count"].fillna(0) > 0) | (odd["record_count"].fillna(0) > 0) | (
        odd["list_price_micros"].fillna(0) > 0) | (odd["record_price_micros"].fillna(0) > 0)
    odd = odd[busy | (odd["status"].astype("str") == "mismatch")]
    out = pd.DataFrame({
        "account": odd["account_sid"].map(names), "category": odd["category"],
        "day": odd["start_date"], "list count": odd["list_count"],
        "record count": odd["record_count"], "list cost": odd["list_price"],
        "record cost": odd["record_price"], "difference": odd["price_diff"],
        "unrated": odd["n_unrated"], "status": odd["status"].astype("str"),
        "reason": odd["reason"]})
    return out.sort_values(["status", "day", "account", "category"],
                           ascending=[True, False, True, True], kind="stable")


def _recon_section(data, tables: Tables, files: list[str]) -> str:
    summary = tables.recon_summary.copy()
    for col in ("list_cost", "usage_records", "difference"):
        summary[col] = [money_text(v, c) for v, c in zip(summary[col], summary["currency"])]
    summary = summary.rename(columns={"list_cost": "list cost", "usage_records":
                                      "Usage Records", "days": "account-days"})
    plots = [f for f in files if f.startswith("reconciliation") and f.endswith(".png")]
    odd = _odd_days(tables.reconciliation, account_names(data.accounts))
    return html_section(
        "Reconciliation with Usage Records",
        "<h3>Per usage category, all accounts</h3>", html_table(summary), calls_tie(tables),
        _figures(files, [(f, "Each category's days by status (the worst account's), "
                             "with what is not a match and the cost difference it carries")
                         for f in plots]),
        "<h3>Days that do not match (yet)</h3>",
        html_table(odd, digits=4, max_rows=60, wrap=["reason"]) if len(odd) else
        '<p class="empty">Every day with activity matches.</p>',
        anchor="reconciliation",
        intro="Each daily Usage Record of each account (fetched with IncludeSubaccounts="
              "false) is compared with that account's calls, messages and recordings of "
              "the same UTC day: billable count, billed usage and cost. 'pending' means "
              "prices are still missing or the day is not over; a mismatch names what "
              "differs. Categories overlap (calls = calls-inbound + calls-outbound) and "
              "are never added together.")


def _top_display(table: pd.DataFrame, key: str, label: str) -> pd.DataFrame:
    out = table[["currency", "rank", key, "calls", "messages", "cost", "share"]].copy()
    out[key] = out[key].astype("str").fillna("non-PSTN")
    out["cost"] = [money_text(Decimal(int(m)).scaleb(-6), c)
                   for m, c in zip(table["cost_micros"].fillna(0), table["currency"])]
    out["share"] = [f"{100 * v:.1f} %" if pd.notna(v) else "" for v in table["share"]]
    return out.rename(columns={key: label, "share": "share of cost"})


def _top_section(tables: Tables, files: list[str]) -> str:
    plots = [(f, "Top countries by cost") for f in files
             if f.startswith("top_countries") and f.endswith(".png")]
    countries = _top_display(tables.top_countries, "country", "country")
    numbers = _top_display(tables.top_numbers, "number", "our number")
    return html_section(
        "Top countries and numbers",
        '<div class="figures"><div><h3>Countries of the other party</h3>',
        html_table(countries), "</div><div><h3>Our phone numbers</h3>",
        html_table(numbers), "</div></div>", _figures(files, plots), anchor="top",
        intro="Calls and messages by cost (recordings have no other party): the country "
              "of the remote number, from its calling code and number plan ('non-PSTN': "
              "client, SIP or short-code parties), and which of our numbers carried the "
              "cost. Top 10 per currency.")


def _unrated_section(data, tables: Tables) -> str:
    table = tables.unrated.copy()
    table.insert(0, "account", table["account_sid"].map(account_names(data.accounts)))
    waiting = table.copy()
    waiting["age of oldest"] = waiting["max_age"].map(
        lambda d: f"{d.total_seconds() / 3600:,.1f} h" if pd.notna(d) else "")
    waiting = waiting[["account", "product", "status", "rows", "oldest", "newest",
                       "age of oldest"]]
    never = tables.unbilled.groupby(["product", "status"], observed=True).agg(
        rows=("rows", "sum")).reset_index()
    return html_section(
        "Prices not yet set",
        html_table(waiting) if len(waiting) else
        '<p class="empty">Every billable row has its price.</p>',
        "<h3>Not billed (the price stays empty)</h3>", html_table(never),
        '<p class="note">Busy, no-answer, canceled and failed calls are never billed '
        "(Twilio: \"calls with status Failed, or Busy, are not billed\"); they are not "
        "waiting for a price and are not in unrated.csv.</p>",
        anchor="unrated",
        intro="Rows waiting for a price: they may be charged (a completed call, a sent "
              "message; a ringing or in-progress call can still end unbilled) and keep "
              "their day pending until Twilio rates them.")


#: What a report read through Dask leaves out (``engine="dask"``: a large store).
DASK_FILES_NOTE = (
    " This report was read from a large store through Dask, partition by partition, so "
    "it leaves out the line items (one row per call, message and recording: as large as "
    "the store); write them with tf.write_line_items_csv(tf.Store(DIR).dask(\"messages\"),"
    " \"messages.csv\"), which also goes partition by partition.")


def page(data, tables: Tables, files: list[str], *, title: str, now: pd.Timestamp,
         tz: str = "UTC") -> str:
    """The ``index.html`` text."""
    n = len(data.accounts)
    sections = [
        html_section("The whole bill per account", html_table(_costs_display(tables),
                                                               total_row=True),
                     "<h3>Per product, all accounts</h3>", html_table(_products_display(tables)),
                     _failed_fee_html(tables), anchor="costs", intro=COSTS_INTRO),
        html_section("Cost over time", _figures(files, [
            (f, "Daily cost by product") for f in files if f.startswith("daily_cost")] + [
            (f, "Cost by account and product") for f in files
            if f.startswith("cost_by_account")]), anchor="trend"),
        _recon_section(data, tables, files),
        statements_section(tables, files),
        _top_section(tables, files),
        suspicious_section(data, tables.suspicious, files, account_names(data.accounts)),
        html_section("Activity", _figures(files, [
            ("message_status.png", f"Messages per day by status ({tz})"),
            ("call_heatmap.png", f"Calls by weekday and hour ({tz})"),
            ("call_durations.png", "Duration of completed calls")]), anchor="activity"),
        _unrated_section(data, tables),
        html_section("Files", html_list([(f, f) for f in sorted(files)], css_class="files"),
                     intro="Every table above as CSV (money exact to 6 decimals, times "
                           "in UTC) and every picture as PNG, in this folder."
                           + (DASK_FILES_NOTE if data.engine == "dask" else "")),
    ]
    accounts = f"{n} (master + {n - 1} subaccounts)" if n > 1 else "1"
    meta = [("Period", _period_text(data)), ("Accounts", accounts),
            ("Time zone", "UTC" if tz == "UTC" else f"{tz} for the activity charts; "
             "costs, billing and reconciliation in UTC days, as Twilio bills"),
            ("Source", data.source), ("Format", data.format.upper()
                                      + (", read through Dask" if data.engine == "dask"
                                         else "")),
            ("Generated", f"{now:%Y-%m-%d %H:%M} UTC by twilio-frames {__version__}")]
    return render_page(title=title, meta=meta, cards=_cards(data, tables),
                       sections=sections,
                       footer=(_NOTES[0], _period_note(data), *_NOTES[1:]))
