"""The report's content: the tables it shows, the files it writes, the page it renders.

Called by :func:`twilio_frames.report.render_report`; everything here works on frames
already fetched (nothing touches the network) and writes into a folder it is given.
Money is summed exactly in micro-units and shown rounded to the currency's minor unit;
the CSV files keep every digit.
"""

from __future__ import annotations

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


def _recon_summary(rec: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    flags = pd.get_dummies(rec["status"].astype("str")).reindex(columns=list(STATUSES),
                                                                fill_value=False)
    work = pd.concat([rec[["account_sid", "category", "currency", "list_price_micros",
                           "record_price_micros"]], flags.astype(int)], axis=1)
    out = work.groupby(["account_sid", "category", "currency"], sort=True).agg(
        days=("match", "size"), match=("match", "sum"), pending=("pending", "sum"),
        mismatch=("mismatch", "sum"), list_micros=("list_price_micros", "sum"),
        record_micros=("record_price_micros", "sum")).reset_index()
    out.insert(0, "account", out["account_sid"].map(names).fillna(""))
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
    names = dict(zip(data.accounts["sid"], data.accounts["friendly_name"].fillna("")))
    totals = usage_totals(data.usage).groupby("currency", observed=True)["price_micros"].sum()
    status = rec["status"].astype("str").value_counts()
    return Tables(
        daily=daily, costs=_costs_table(data, by_acct), products=_products_table(daily),
        usage_total={str(c): _decimal(m) for c, m in totals.items()},
        reconciliation=rec, recon_summary=_recon_summary(rec, names),
        status={s: int(status.get(s, 0)) for s in STATUSES}, unrated=_unrated(data, now))


# ---------------------------------------------------------------- files

def _save(ax, folder: Path, name: str, files: list[str]) -> None:
    ax.figure.savefig(folder / name, dpi=100)
    files.append(name)


def _figure(figsize):
    from matplotlib.figure import Figure
    return Figure(figsize=figsize, layout="constrained").subplots()


def _plots(data, tables: Tables, folder: Path, files: list[str]) -> None:
    """PNG plots, drawn on pyplot-free Figures (nothing shows up in a notebook)."""
    from . import plots
    by_acct = cost_by_period(**data.lists, freq="D", by="account_sid")
    names = {s: (n if isinstance(n, str) and n else f"AC…{s[-6:]}")
             for s, n in zip(data.accounts["sid"], data.accounts["friendly_name"])}
    currencies = sorted(tables.daily["currency"].astype("str").unique()) or ["USD"]
    for cur in currencies:
        tag = "" if len(currencies) == 1 else f"_{cur.lower()}"
        _save(plots.plot_daily_cost(tables.daily, currency=cur, ax=_figure((10, 4.5))),
              folder, f"daily_cost{tag}.png", files)
        n = max(1, len(names))
        _save(plots.plot_cost_by_subaccount(by_acct, currency=cur, labels=names,
                                            ax=_figure((10, 1.6 + 0.5 * n))),
              folder, f"cost_by_account{tag}.png", files)
        rec = tables.reconciliation
        if len(rec):
            k = max(1, rec["category"].nunique())
            _save(plots.plot_reconciliation(rec, currency=cur, ax=_figure((10, 1.6 + 0.7 * k))),
                  folder, f"reconciliation{tag}.png", files)
    _save(plots.plot_message_status(data.messages, ax=_figure((10, 4.5))), folder,
          "message_status.png", files)
    _save(plots.plot_call_heatmap(data.calls, ax=_figure((10, 3.8))), folder,
          "call_heatmap.png", files)
    _save(plots.plot_call_durations(data.calls, ax=_figure((10, 4))), folder,
          "call_durations.png", files)


def _csvs(data, tables: Tables, folder: Path, files: list[str]) -> None:
    from .export import write_billing_csv, write_line_items_csv
    write_billing_csv(folder / "billing.csv", **data.lists, freq="M", by="account_sid")
    write_billing_csv(folder / "billing_daily.csv", **data.lists, freq="D", by="account_sid")
    files += ["billing.csv", "billing_daily.csv"]
    for name, frame in data.lists.items():
        write_line_items_csv(frame, folder / f"{name}.csv")
        files.append(f"{name}.csv")
    tables.reconciliation.to_csv(folder / "reconciliation.csv", index=False,
                                 lineterminator="\n")
    tables.unrated.to_csv(folder / "unrated.csv", index=False, lineterminator="\n")
    files += ["reconciliation.csv", "unrated.csv"]


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
    cards = [Card("Cost (list endpoints)", f"{cur} {money_text(total, cur)}",
                  "calls, messages and recordings")
             for cur, total in zip(costs["currency"], costs["total"])]
    cards += [Card("Usage Records total", f"{cur} {money_text(total, cur)}",
                   "the totalprice record, all products")
              for cur, total in tables.usage_total.items()]
    cards += _products_cards(tables)
    pending = tables.unrated[tables.unrated["pending"]]["rows"].sum() if len(
        tables.unrated) else 0
    cards.append(Card("Waiting for a price", f"{int(pending):,}", "calls, messages, recordings",
                      "warn" if pending else "ok"))
    s = tables.status
    total = sum(s.values())
    tone = "bad" if s["mismatch"] else "warn" if s["pending"] else "ok"
    cards.append(Card("Reconciliation", f"{s['match']:,} / {total:,} match",
                      f"{s['pending']:,} pending, {s['mismatch']:,} mismatch", tone))
    return cards


def _costs_display(tables: Tables) -> pd.DataFrame:
    out = tables.costs.copy()
    digits = {c: minor_unit(c) for c in out["currency"]}
    for col in (*PRODUCTS, "total"):
        out[col] = [money_text(v, c) for v, c in zip(out[col], out["currency"])]
    return out.rename(columns={"sid": "account SID"}), digits


def _figures(files: list[str], names: list[tuple[str, str]]) -> str:
    parts = [html_figure(f, alt=alt, caption=alt) for f, alt in names if f in files]
    return f'<div class="figures">{"".join(parts)}</div>' if parts else ""


def _recon_section(tables: Tables, files: list[str]) -> str:
    summary = tables.recon_summary[["account", "account_sid", "category", "currency",
                                    "days", "match", "pending", "mismatch", "list_cost",
                                    "usage_records", "difference", "status"]]
    odd = tables.reconciliation[tables.reconciliation["status"].astype("str") != "match"]
    odd = odd[["account_sid", "category", "start_date", "list_count", "record_count",
               "list_price", "record_price", "price_diff", "n_unrated", "status", "reason"]]
    odd = odd.sort_values(["status", "start_date"], ascending=[True, False], kind="stable")
    plots = [f for f in files if f.startswith("reconciliation") and f.endswith(".png")]
    return html_section(
        "Reconciliation with Usage Records",
        _figures(files, [(f, "List-endpoint cost next to Usage Records, per category")
                         for f in plots]),
        "<h3>Per account and category (daily Usage Records)</h3>",
        html_table(summary, digits=2),
        "<h3>Days that do not match yet</h3>",
        html_table(odd, digits=4, max_rows=60),
        anchor="reconciliation",
        intro="Each daily Usage Record of an account (fetched with IncludeSubaccounts=false) "
              "is compared with the calls, messages and recordings of the same account and "
              "UTC day: billable count, billed usage and cost. 'pending' means prices are "
              "still missing or the day is not closed yet; categories overlap (calls = "
              "calls-inbound + calls-outbound) and are never added together.")


def _unrated_section(tables: Tables) -> str:
    table = tables.unrated.copy()
    if len(table):
        table["max_age"] = table["max_age"].map(
            lambda d: f"{d.total_seconds() / 3600:,.1f} h" if pd.notna(d) else "")
        table["share"] = (table["share"] * 100).map(lambda v: f"{v:.1f} %")
    return html_section(
        "Prices not yet set", html_table(table, digits=2), anchor="unrated",
        intro="Rows whose price is still empty. 'pending' rows will be charged (a completed "
              "call, a sent message); the others (busy or failed calls) are not billed.")


def page(data, tables: Tables, files: list[str], *, title: str, now: pd.Timestamp) -> str:
    """The ``index.html`` text."""
    n = len(data.accounts)
    costs, _ = _costs_display(tables)
    products = tables.products[["product", "currency", "count", "usage", "usage_unit",
                                "cost", "n_unrated"]].copy()
    products["cost"] = [money_text(v, c) for v, c in zip(products["cost"],
                                                          products["currency"].astype("str"))]
    sections = [
        html_section("Cost by product and account", html_table(costs, total_row=True),
                     "<h3>Per product</h3>", html_table(products), anchor="costs",
                     intro="Positive costs from the prices of calls, messages and "
                           "recordings, per account (the master and each subaccount)."),
        html_section("Cost over time", _figures(files, [
            (f, "Daily cost by product") for f in files if f.startswith("daily_cost")] + [
            (f, "Cost by account and product") for f in files
            if f.startswith("cost_by_account")]), anchor="trend"),
        _recon_section(tables, files),
        html_section("Activity", _figures(files, [
            ("message_status.png", "Messages per day by status"),
            ("call_heatmap.png", "Calls by weekday and hour (UTC)"),
            ("call_durations.png", "Duration of completed calls")]), anchor="activity"),
        _unrated_section(tables),
        html_section("Files", html_list([(f, f) for f in sorted(files)], css_class="files"),
                     intro="Every table above as CSV (money exact to 6 decimals, times "
                           "in UTC) and every picture as PNG, in this folder."),
    ]
    meta = [("Period", _period_text(data)),
            ("Accounts", f"{n} ({'master + ' if n > 1 else ''}{max(n - 1, 0)} subaccounts)"
             if n > 1 else "1"),
            ("Source", data.source), ("Format", data.format.upper()),
            ("Generated", f"{now:%Y-%m-%d %H:%M} UTC by twilio-frames {__version__}")]
    return render_page(title=title, meta=meta, cards=_cards(data, tables),
                       sections=sections, footer=_NOTES)
