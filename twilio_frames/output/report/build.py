"""The report's content: the tables it shows and the files it writes (the page is
:mod:`twilio_frames.output.report.page`).

Called by :func:`twilio_frames.output.report.write.render_report`; everything here works on frames
already fetched (nothing touches the network) and writes into a folder it is given.
Money is summed exactly in micro-units and shown rounded to the currency's minor unit;
the CSV files keep every digit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd

from ...money import micros_to_decimal, minor_unit
from ...analysis.bill import bill_by_account
from ...analysis.engine import is_dask
from ...analysis.reconciliation import reconcile, usage_totals
from ...analysis.statements import statements
from ...bill_lines import REMAINDER
from ...analysis.summaries import cost_by_period, top_countries, top_numbers, unrated
from .recon_summary import STATUSES, recon_summary
from .suspicious import compute_suspicious, write_suspicious

__all__ = ["COST_COLUMNS", "USAGE_COLUMNS", "Tables", "account_names", "compute",
           "exact_text", "money_text", "write_files"]

PRODUCTS = ("calls", "sms", "mms", "recordings")
#: Rows of the top-countries and top-numbers tables, per currency.
TOP_N = 10


@dataclass
class Tables:
    """The computed tables of one report."""

    daily: pd.DataFrame            # cost_by_period(freq="D")
    costs: pd.DataFrame            # account, sid, currency, COST_COLUMNS as Decimal
    bill: pd.DataFrame             # bill_by_account(): lists, Usage Records, difference
    statements: pd.DataFrame       # statements(), cost passed through (no markup)
    products: pd.DataFrame         # product, currency, count, usage, usage_unit, cost
    usage_total: dict[str, Decimal]  # currency -> Usage Records totalprice
    failed_fees: dict[str, tuple[int, Decimal]]  # currency -> (messages, fee) from usage
    top_countries: pd.DataFrame    # top_countries(n=TOP_N)
    top_numbers: pd.DataFrame      # top_numbers(n=TOP_N), our numbers
    reconciliation: pd.DataFrame   # reconcile() as returned
    recon_summary: pd.DataFrame    # per account and category
    status: dict[str, int]
    unrated: pd.DataFrame          # rows that may still be charged (unrated.csv)
    unbilled: pd.DataFrame         # null-priced rows never billed (busy, failed calls...)
    suspicious: object = None      # suspicious.Suspicious: traffic_anomalies, usage_triggers


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


#: Columns of the per-account table after the list products: what Usage Records add.
USAGE_COLUMNS = ("phone numbers", "recording storage", "failed-message fees",
                 "other categories", "no category", "lists vs Usage Records")
#: The per-account table's money columns, in order (``total`` = the account's totalprice).
COST_COLUMNS = (*PRODUCTS, "list total", *USAGE_COLUMNS, "total")


def _bill_column(source: str, item: str) -> str:
    """The per-account table column a row of :func:`bill_by_account` goes into."""
    if source == "lists":
        return item
    if source == "difference":
        return "lists vs Usage Records"
    if item.startswith("phonenumbers"):
        return "phone numbers"
    return {"recordingstorage": "recording storage", FAILED_FEE: "failed-message fees",
            REMAINDER: "no category"}.get(item, "other categories")


def _costs_table(data, bill: pd.DataFrame) -> pd.DataFrame:
    """One row per account (and currency): list products, list total, what Usage Records
    add, and the total (its totalprice), then a total row per currency."""
    columns = [_bill_column(s, i) for s, i in zip(bill["source"], bill["item"])]
    wide = bill.assign(column=columns).groupby(["account_sid", "currency", "column"])[
        "cost_micros"].sum().unstack("column", fill_value=0)
    wide = wide.reindex(columns=[c for c in COST_COLUMNS if c not in ("list total", "total")],
                        fill_value=0)
    main = bill["currency"].mode().iloc[0] if len(bill) else "USD"
    rows = []
    for sid, name in zip(data.accounts["sid"], data.accounts["friendly_name"]):
        present = [k for k in wide.index if k[0] == sid] or [(sid, main)]
        for key in present:
            micros = wide.loc[key] if key in wide.index else pd.Series(0, index=wide.columns)
            rows.append({"account": "" if pd.isna(name) else str(name), "sid": sid,
                         "currency": str(key[1]), **{c: int(micros[c]) for c in wide.columns}})
    frame = pd.DataFrame(rows, columns=["account", "sid", "currency", *wide.columns])
    frame.insert(3 + len(PRODUCTS), "list total", frame[list(PRODUCTS)].sum(axis=1))
    frame["total"] = frame[[*PRODUCTS, *USAGE_COLUMNS]].sum(axis=1)
    totals = frame.groupby("currency", sort=True)[list(COST_COLUMNS)].sum().reset_index()
    totals.insert(0, "account", "total")
    totals.insert(1, "sid", "")
    frame = pd.concat([frame, totals], ignore_index=True)
    for col in COST_COLUMNS:
        frame[col] = frame[col].map(_decimal)
    return frame


def _products_table(daily: pd.DataFrame) -> pd.DataFrame:
    out = daily.groupby(["product", "currency", "usage_unit"], observed=True).agg(
        count=("count", "sum"), usage=("usage", "sum"), cost_micros=("cost_micros", "sum"),
        n_unrated=("n_unrated", "sum")).reset_index()
    out["cost"] = out["cost_micros"].map(_decimal)
    return out


def _unrated(data, now, *, unbilled: bool = False) -> pd.DataFrame:
    """Rows that may still be charged (default), or with ``unbilled`` the null-priced
    rows that never will be (busy, no-answer, canceled, failed calls)."""
    parts = [unrated(frame, resource=name, now=now, include_unbilled=unbilled)
             for name, frame in data.lists.items() if is_dask(frame) or len(frame)]
    parts = [p[~p["pending"]] if unbilled else p for p in parts]
    parts = [p for p in parts if len(p)]
    if not parts:
        return unrated(data.calls, resource="calls", now=now).iloc[:0]
    return pd.concat(parts, ignore_index=True)


def compute(data, *, now: pd.Timestamp) -> Tables:
    """Every table of the report from the fetched ``data``."""
    lists = data.lists
    daily = cost_by_period(**lists, freq="D")
    bill = bill_by_account(data.usage, **lists)
    rec = reconcile(data.usage, **lists)
    totals = usage_totals(data.usage).groupby("currency", observed=True)["price_micros"].sum()
    status = rec["status"].astype("str").value_counts()
    return Tables(
        daily=daily, costs=_costs_table(data, bill), bill=bill,
        statements=statements(data.usage, accounts=data.accounts, now=now, calls=data.calls,
                              messages=data.messages), products=_products_table(daily),
        usage_total={str(c): _decimal(m) for c, m in totals.items()},
        failed_fees=_failed_fees(data.usage),
        top_countries=top_countries(data.calls, data.messages, n=TOP_N),
        top_numbers=top_numbers(data.calls, data.messages, n=TOP_N),
        reconciliation=rec, recon_summary=recon_summary(rec),
        status={s: int(status.get(s, 0)) for s in STATUSES}, unrated=_unrated(data, now),
        unbilled=_unrated(data, now, unbilled=True),
        suspicious=compute_suspicious(data))


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


def _plots(data, tables: Tables, folder: Path, files: list[str], tz: str) -> None:
    """PNG plots sized for a two-column page (6.4 in wide at 150 dpi)."""
    from .. import plots
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
            _save(plots.plot_reconciliation(rec, currency=cur, ax=_axes(6.4, 1.5 + 0.3 * k)),
                  folder, f"reconciliation{tag}.png", files)
    for cur in sorted(tables.top_countries["currency"].astype("str").unique()):
        tag = "" if len(currencies) == 1 else f"_{cur.lower()}"
        k = int((tables.top_countries["currency"] == cur).sum())
        _save(plots.plot_top_countries(tables.top_countries, currency=cur,
                                       ax=_axes(6.4, 1.2 + 0.32 * max(1, k))),
              folder, f"top_countries{tag}.png", files)
    _save(plots.plot_message_status(data.messages, tz=tz, ax=_axes(6.4, 3.6)), folder,
          "message_status.png", files)
    _save(plots.plot_call_heatmap(data.calls, tz=tz, ax=_axes(6.4, 3.2)), folder,
          "call_heatmap.png", files)
    _save(plots.plot_call_durations(data.calls, ax=_axes(6.4, 3.4)), folder,
          "call_durations.png", files)


def _csvs(data, tables: Tables, folder: Path, files: list[str]) -> None:
    from ..export import write_billing_csv, write_cells_csv, write_line_items_csv
    for name, freq in (("billing.csv", "M"), ("billing_daily.csv", "D")):
        write_billing_csv(folder / name, **data.lists, freq=freq, by="account_sid",
                          start=data.start, end=data.end, usage=data.usage)
    files += ["billing.csv", "billing_daily.csv"]
    for name, frame in data.lists.items() if data.engine != "dask" else ():
        write_line_items_csv(frame, folder / f"{name}.csv")     # a row per item: see below
        files.append(f"{name}.csv")
    for name in ("top_countries", "top_numbers"):
        write_cells_csv(getattr(tables, name), folder / f"{name}.csv",
                        columns=[c for c in getattr(tables, name).columns
                                 if c != "cost_micros"])
        files.append(f"{name}.csv")
    from ..statements import write_statements
    paths = write_statements(folder / "statements", tables.statements,
                             issuer="Twilio usage report")
    files += [f"statements/{p.name}" for p in paths]
    _reconciliation_csv(tables.reconciliation, folder / "reconciliation.csv")
    _unrated_csv(tables.unrated, folder / "unrated.csv")
    files += ["reconciliation.csv", "unrated.csv"]


def _reconciliation_csv(rec: pd.DataFrame, path: Path) -> None:
    """reconcile()'s frame with money exact from micros, UTC dates; micros columns dropped
    (the decimal strings hold every digit)."""
    from ..export import write_cells_csv
    rec = rec.assign(price_diff_micros=(rec["list_price_micros"]
                                        - rec["record_price_micros"]).astype("Int64"))
    columns = [c for c in rec.columns if not c.endswith("_micros")]
    write_cells_csv(rec, path, columns=columns, dates=("start_date", "end_date"), micros={
        "list_price": "list_price_micros", "record_price": "record_price_micros",
        "price_diff": "price_diff_micros"})


def _unrated_csv(table: pd.DataFrame, path: Path) -> None:
    """unrated() per account, product and status; the age of the oldest row in hours."""
    from ..export import write_cells_csv
    table = table.rename(columns={"max_age": "max_age_hours"})
    write_cells_csv(table, path)


def write_files(data, tables: Tables, folder: Path, *, tz: str = "UTC") -> list[str]:
    """Write the CSV files and PNG plots into ``folder``; return their names. ``tz`` is
    the zone of the activity charts; everything about money stays in UTC days."""
    files: list[str] = []
    _csvs(data, tables, folder, files)
    _plots(data, tables, folder, files, tz)
    write_suspicious(data, tables.suspicious, folder, files, _axes)
    return files
