"""The report's reconciliation summary: per usage category, days by status and totals,
with a status that says how many days are not a match (``4 of 360 pending``)."""

from __future__ import annotations

import pandas as pd

from ...money import micros_to_decimal

__all__ = ["STATUSES", "recon_summary"]

STATUSES = ("match", "pending", "mismatch")


def _decimal(micros):
    return micros_to_decimal(0 if pd.isna(micros) else int(micros))


def recon_summary(rec: pd.DataFrame) -> pd.DataFrame:
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
    out["status"] = [_summary_status(*r) for r in zip(out["days"], out["match"],
                                                       out["pending"], out["mismatch"])]
    return out.drop(columns=["list_micros", "record_micros"])


def _summary_status(days: int, match: int, pending: int, mismatch: int) -> str:
    """``match``, ``pending`` (nothing matched yet), or how many days are not a match:
    356 matching and 4 pending days read ``4 of 360 pending``, not plain ``pending``."""
    if mismatch:
        return f"{mismatch:,} of {days:,} mismatch"
    if pending:
        return f"{pending:,} of {days:,} pending" if match else "pending"
    return "match"
