"""The report's content: the tables it shows, the files it writes, the page it renders.

Called by :func:`twilio_frames.report.render_report`; everything here works on frames
already fetched (nothing touches the network) and writes into a folder it is given.
Money is summed exactly in micro-units and shown rounded to the currency's minor unit;
the CSV files keep every digit.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd

from . import __version__
from .money import micros_to_decimal, minor_unit
from .reconciliation import reconcile, usage_totals
from .report_html import Card, html_figure, html_list, html_section, html_table, render_page
from .summaries import cost_by_period, unrated

__all__ = ["Tables", "compute", "write_files", "page", "money_text"]

PRODUCTS = ("calls", "sms", "mms", "recordings")
STATUSES = ("match", "pending", "mismatch")


@dataclass
class Tables:
    """The computed tables of one report."""

    daily: pd.DataFrame            # cost_by_period(freq="D")
    costs: pd.DataFrame            # account, sid, currency, per-product Decimal, total
    products: pd.DataFrame         # product, currency, count, usage, usage_unit, cost
    usage_total: dict[str, Decimal]  # currency -> Usage Records totalprice
    failed_fees: dict[str, tuple[int, Decimal]]  # currency -> (messages, fee) from usage
    reconciliation: pd.DataFrame   # reconcile() as returned
    recon_summary: pd.DataFrame    # per account and category
    status: dict[str, int]
    unrated: pd.DataFrame


def money_text(amount: Decimal, currency: str) -> str:
    """``Decimal`` amount rounded to the currency's minor unit, with thousands commas."""
    places = minor_unit(currency)
    return f"{amount.quantize(Decimal(1).scaleb(-places)):,.{places}f}"


def _decimal(micros) -> Decimal:
    return micros_to_decimal(0 if pd.isna(micros) else int(micros))


def exact_text(amount: Decimal, currency: str) -> str:
    """Every digit of ``amount`` (at least the currency's minor unit): ``0.006``."""
    places = max(minor_unit(currency), -amount.normalize().as_tuple().exponent)
    return f"{amount.quantize(Decimal(1).scaleb(-places)):,.{places}f}"


#: Usage Records category of the fee on failed messages (billing-rules §2.2).
FAILED_FEE = "failed-message-processing-fee"

#: Why that fee is not in the list cost (shown by the page and the CLI summary).
FAILED_FEE_NOTE = (
    "Failed messages that never left Twilio have no date_sent, and a date-bounded "
    "Messages list filters on DateSent, so it does not return them: their processing "
    "fee is in Usage Records only, not in the list cost.")


def _failed_fees(usage: pd.DataFrame) -> dict[str, tuple[int, Decimal]]:
    """Currency -> (messages, exact fee) of the failed-message-processing-fee records."""
    rows = usage[usage["category"].astype("str").str.lower() == FAILED_FEE]
    if not len(rows):
        return {}
    currency = rows["price_unit"].astype("str").str.upper()
    grouped = rows.assign(currency=currency).groupby("currency", sort=True).agg(
        count=("count", "sum"), micros=("price_micros", "sum"))
    return {str(c): (int(r["count"]), _decimal(r["micros"])) for c, r in grouped.iterrows()}


def _costs_table(data, by_acct: pd.DataFrame) -> pd.DataFrame:
    """One row per account (and currency), a column per product, then a total row."""
    grouped = by_acct.groupby(["account_sid", "currency", "product"], observed=True)[
        "cost_micros"].sum()
    wide = grouped.unstack("product", fill_value=0).reindex(columns=list(PRODUCTS),
                                                            fill_value=0)
    currencies = by_acct["currency"].astype("str").value_counts()
    main = currencies.index[0] if len(currencies) else "USD"
    rows = []
    for sid, name in zip(data.accounts["sid"], data.accounts["friendly_name"]):
        present = [k for k in wide.index if k[0] == sid] or [(sid, main)]
        for key in present:
            micros = wide.loc[key] if key in wide.index else pd.Series(0, index=PRODUCTS)
            rows.append({"account": "" if pd.isna(name) else str(name), "sid": sid,
                         "currency": str(key[1]),
                         **{p: int(micros[p]) for p in PRODUCTS}})
    frame = pd.DataFrame(rows, columns=["account", "sid", "currency", *PRODUCTS])
    frame["total"] = frame[list(PRODUCTS)].sum(axis=1)
    totals = frame.groupby("currency", sort=True)[[*PRODUCTS, "total"]].sum().reset_index()
    totals.insert(0, "account", "total")
    totals.insert(1, "sid", "")
    frame = pd.concat([frame, totals], ignore_index=True)
    for col in (*PRODUCTS, "total"):
        frame[col] = frame[col].map(_decimal)
    return frame


def _products_table(daily: pd.DataFrame) -> pd.DataFrame:
    out = daily.groupby(["product", "currency", "usage_unit"], observed=True).agg(
        count=("count", "sum"), usage=("usage", "sum"), cost_micros=("cost_micros", "sum"),
        n_unrated=("n_unrated", "sum")).reset_index()
    out["cost"] = out["cost_micros"].map(_decimal)
    return out


def _recon_summary(rec: pd.DataFrame) -> pd.DataFrame:
    """Per category and currency, over every account: days by status and cost totals.

    Accounts are disjoint (their Usage Records were fetched with IncludeSubaccounts=false),
    so adding accounts within one category is sound; categories are never added up."""
    flags = pd.get_dummies(rec["status"].astype("str")).reindex(columns=list(STATUSES),
                                                                fill_value=False)
    work = pd.concat([rec[["category", "currency", "list_price_micros",
                           "record_price_micros"]], flags.astype(int)], axis=1)
    out = work.groupby(["category", "currency"], sort=True).agg(
        days=("match", "size"), match=("match", "sum"), pending=("pending", "sum"),
        mismatch=("mismatch", "sum"), list_micros=("list_price_micros", "sum"),
        record_micros=("record_price_micros", "sum")).reset_index()
    out["list_cost"] = out["list_micros"].map(_decimal)
    out["usage_records"] = out["record_micros"].map(_decimal)
    out["difference"] = out["list_cost"] - out["usage_records"]
    out["status"] = [("mismatch" if m else "pending" if p else "match")
                     for m, p in zip(out["mismatch"], out["pending"])]
    return out.drop(columns=["list_micros", "record_micros"])


def _unrated(data, now) -> pd.DataFrame:
    parts = [unrated(frame, resource=name, now=now)
             for name, frame in data.lists.items() if len(frame)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return unrated(data.calls, resource="calls", now=now)
    return pd.concat(parts, ignore_index=True)


def compute(data, *, now: pd.Timestamp) -> Tables:
    """Every table of the report from the fetched ``data``."""
    lists = data.lists
    daily = cost_by_period(**lists, freq="D")
    by_acct = cost_by_period(**lists, freq="M", by="account_sid")
    rec = reconcile(data.usage, **lists)
    totals = usage_totals(data.usage).groupby("currency", observed=True)["price_micros"].sum()
    status = rec["status"].astype("str").value_counts()
    return Tables(
        daily=daily, costs=_costs_table(data, by_acct), products=_products_table(daily),
        usage_total={str(c): _decimal(m) for c, m in totals.items()},
        failed_fees=_failed_fees(data.usage),
        reconciliation=rec, recon_summary=_recon_summary(rec),
        status={s: int(status.get(s, 0)) for s in STATUSES}, unrated=_unrated(data, now))


# ---------------------------------------------------------------- files

def _save(ax, folder: Path, name: str, files: list[str]) -> None:
    ax.figure.savefig(folder / name, dpi=150)
    files.append(name)


def _axes(width: float, height: float):
    """Axes on a pyplot-free Figure: nothing is shown or kept by a notebook's pyplot."""
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), layout="constrained").subplots()


def account_names(accounts: pd.DataFrame) -> dict[str, str]:
    """Account SID -> friendly name (``AC…last6`` when it has none)."""
    return {s: (n if isinstance(n, str) and n else f"AC…{s[-6:]}")
            for s, n in zip(accounts["sid"], accounts["friendly_name"])}


def _plots(data, tables: Tables, folder: Path, files: list[str]) -> None:
    """PNG plots sized for a two-column page (6.4 in wide at 150 dpi)."""
    from . import plots
    by_acct = cost_by_period(**data.lists, freq="D", by="account_sid")
    names = account_names(data.accounts)
    rec = tables.reconciliation
    currencies = sorted(tables.daily["currency"].astype("str").unique()) or ["USD"]
    for cur in currencies:
        tag = "" if len(currencies) == 1 else f"_{cur.lower()}"
        _save(plots.plot_daily_cost(tables.daily, currency=cur, ax=_axes(6.4, 3.6)),
              folder, f"daily_cost{tag}.png", files)
        _save(plots.plot_cost_by_subaccount(by_acct, currency=cur, labels=names,
                                            ax=_axes(6.4, 1.4 + 0.45 * max(1, len(names)))),
              folder, f"cost_by_account{tag}.png", files)
        if len(rec):
            k = max(1, rec["category"].nunique())
            _save(plots.plot_reconciliation(rec, currency=cur, ax=_axes(6.4, 1.2 + 0.5 * k)),
                  folder, f"reconciliation{tag}.png", files)
    _save(plots.plot_message_status(data.messages, ax=_axes(6.4, 3.6)), folder,
          "message_status.png", files)
    _save(plots.plot_call_heatmap(data.calls, ax=_axes(6.4, 3.2)), folder,
          "call_heatmap.png", files)
    _save(plots.plot_call_durations(data.calls, ax=_axes(6.4, 3.4)), folder,
          "call_durations.png", files)


def _csvs(data, tables: Tables, folder: Path, files: list[str]) -> None:
    from .export import write_billing_csv, write_line_items_csv
    for name, freq in (("billing.csv", "M"), ("billing_daily.csv", "D")):
        write_billing_csv(folder / name, **data.lists, freq=freq, by="account_sid",
                          start=data.start, end=data.end)
    files += ["billing.csv", "billing_daily.csv"]
    for name, frame in data.lists.items():
        write_line_items_csv(frame, folder / f"{name}.csv")
        files.append(f"{name}.csv")
    _reconciliation_csv(tables.reconciliation, folder / "reconciliation.csv")
    _unrated_csv(tables.unrated, folder / "unrated.csv")
    files += ["reconciliation.csv", "unrated.csv"]


def _reconciliation_csv(rec: pd.DataFrame, path: Path) -> None:
    """reconcile()'s frame with money exact from micros, UTC dates; micros columns dropped
    (the decimal strings hold every digit)."""
    from .export import write_cells_csv
    rec = rec.assign(price_diff_micros=(rec["list_price_micros"]
                                        - rec["record_price_micros"]).astype("Int64"))
    columns = [c for c in rec.columns if not c.endswith("_micros")]
    write_cells_csv(rec, path, columns=columns, dates=("start_date", "end_date"), micros={
        "list_price": "list_price_micros", "record_price": "record_price_micros",
        "price_diff": "price_diff_micros"})


def _unrated_csv(table: pd.DataFrame, path: Path) -> None:
    """unrated() per account, product and status; the age of the oldest row in hours."""
    from .export import write_cells_csv
    table = table.rename(columns={"max_age": "max_age_hours"})
    write_cells_csv(table, path)


def write_files(data, tables: Tables, folder: Path) -> list[str]:
    """Write the CSV files and PNG plots into ``folder``; return their names."""
    files: list[str] = []
    _csvs(data, tables, folder, files)
    _plots(data, tables, folder, files)
    return files


# ---------------------------------------------------------------- page

_NOTES = (
    "Days are UTC calendar days, as in Twilio's Usage Records: a call belongs to the day "
    "its start_time falls on in UTC, a message to its date_sent, a recording to its "
    "date_created. The period is half-open: the end date is not included.",
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
    return f"{data.start:%Y-%m-%d} to {last:%Y-%m-%d} (UTC days)"


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
             for cur, total in zip(costs["currency"], costs["total"])]
    cards += [Card(f"Failed-message fees, {cur}", exact_text(fee, cur),
                   f"{count:,} failed messages, in Usage Records only (see below)")
              for cur, (count, fee) in tables.failed_fees.items()]
    cards += [Card(f"Usage Records total, {cur}", money_text(total, cur),
                   "totalprice: every product, phone numbers included")
              for cur, total in tables.usage_total.items()]
    cards += _products_cards(tables)
    pending = tables.unrated[tables.unrated["pending"]]["rows"].sum() if len(
        tables.unrated) else 0
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


def _costs_display(tables: Tables) -> pd.DataFrame:
    out = tables.costs.copy()
    for col in (*PRODUCTS, "total"):
        out[col] = [money_text(v, c) for v, c in zip(out[col], out["currency"])]
    return out.rename(columns={"sid": "account SID"})


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
    costs = tables.costs[tables.costs["account"] == "total"].set_index("currency")["total"]
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
        "<h3>Per usage category, all accounts</h3>", html_table(summary),
        _figures(files, [(f, "List-endpoint cost next to Usage Records, per category")
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


def _unrated_section(data, tables: Tables) -> str:
    table = tables.unrated.copy()
    table.insert(0, "account", table["account_sid"].map(account_names(data.accounts)))
    waiting = table[table["pending"]].copy()
    waiting["age of oldest"] = waiting["max_age"].map(
        lambda d: f"{d.total_seconds() / 3600:,.1f} h" if pd.notna(d) else "")
    waiting = waiting[["account", "product", "status", "rows", "oldest", "newest",
                       "age of oldest"]]
    never = table[~table["pending"]].groupby(["product", "status"], observed=True).agg(
        rows=("rows", "sum")).reset_index()
    return html_section(
        "Prices not yet set",
        html_table(waiting) if len(waiting) else
        '<p class="empty">Every billable row has its price.</p>',
        "<h3>Not billed (the price stays empty)</h3>", html_table(never),
        anchor="unrated",
        intro="Rows waiting for a price: they may be charged (a completed call, a sent "
              "message; a ringing or in-progress call can still end unbilled) and keep "
              "their day pending until Twilio rates them.")


def page(data, tables: Tables, files: list[str], *, title: str, now: pd.Timestamp) -> str:
    """The ``index.html`` text."""
    n = len(data.accounts)
    sections = [
        html_section("Cost by product and account", html_table(_costs_display(tables),
                                                               total_row=True),
                     "<h3>Per product, all accounts</h3>", html_table(_products_display(tables)),
                     _failed_fee_html(tables), anchor="costs",
                     intro="Positive costs from the prices of calls, messages and "
                           "recordings, per account (the master and each subaccount)."),
        html_section("Cost over time", _figures(files, [
            (f, "Daily cost by product") for f in files if f.startswith("daily_cost")] + [
            (f, "Cost by account and product") for f in files
            if f.startswith("cost_by_account")]), anchor="trend"),
        _recon_section(data, tables, files),
        html_section("Activity", _figures(files, [
            ("message_status.png", "Messages per day by status"),
            ("call_heatmap.png", "Calls by weekday and hour (UTC)"),
            ("call_durations.png", "Duration of completed calls")]), anchor="activity"),
        _unrated_section(data, tables),
        html_section("Files", html_list([(f, f) for f in sorted(files)], css_class="files"),
                     intro="Every table above as CSV (money exact to 6 decimals, times "
                           "in UTC) and every picture as PNG, in this folder."),
    ]
    accounts = f"{n} (master + {n - 1} subaccounts)" if n > 1 else "1"
    meta = [("Period", _period_text(data)), ("Accounts", accounts),
            ("Source", data.source), ("Format", data.format.upper()),
            ("Generated", f"{now:%Y-%m-%d %H:%M} UTC by twilio-frames {__version__}")]
    return render_page(title=title, meta=meta, cards=_cards(data, tables),
                       sections=sections, footer=_NOTES)
