"""The usage and cost report: fetch, summarise, reconcile, and write one folder.

:func:`write_report` is what ``twilio-frames demo`` and ``twilio-frames report`` call. It
fetches calls, messages, recordings and daily Usage Records for every account asked for,
runs the summaries and the reconciliation, and writes a folder with CSV files, PNG plots
and an ``index.html`` that opens straight from disk. The folder is built under a hidden
temporary name beside ``out`` and renamed at the end, so an interrupted run leaves
nothing half-written and an existing folder is replaced only with ``overwrite=True``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ...analysis.summaries import check_tz
from ...errors import ConfigurationError
from ..outputs import REPORT_MARKER, atomic_folder, check_output
from ...fetch.paging import to_utc

__all__ = ["REPORT_MARKER", "ReportData", "ReportResult", "fetch_report_data",
           "write_report"]

LIST_RESOURCES = ("calls", "messages", "recordings")


@dataclass
class ReportData:
    """Everything a report is computed from: the frames as the client returned them."""

    start: pd.Timestamp
    end: pd.Timestamp
    accounts: pd.DataFrame
    calls: pd.DataFrame
    messages: pd.DataFrame
    recordings: pd.DataFrame
    usage: pd.DataFrame
    source: str = ""
    format: str = ""
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def lists(self) -> dict[str, pd.DataFrame]:
        return {"calls": self.calls, "messages": self.messages, "recordings": self.recordings}


@dataclass
class ReportResult:
    """What :func:`write_report` wrote and the headline tables it printed from.

    ``costs`` has one row per account and currency with a column per product and a
    ``total`` (exact :class:`decimal.Decimal` amounts); ``reconciliation`` is the frame
    :func:`twilio_frames.reconcile` returned; ``status`` counts its rows per status;
    ``failed_fees`` maps a currency to (failed messages, exact fee) of the Usage Records
    category ``failed-message-processing-fee``: failed messages that never left Twilio
    have no ``date_sent``, so a date-bounded Messages list misses them and their fee.
    """

    path: Path
    files: list[str]
    data: ReportData
    costs: pd.DataFrame
    reconciliation: pd.DataFrame
    status: dict[str, int]
    failed_fees: dict = field(default_factory=dict)

    @property
    def index(self) -> Path:
        return self.path / "index.html"


def _progress_printer(progress) -> Callable[[str], None]:
    if callable(progress):
        return progress
    if progress:
        return lambda text: print(text, file=sys.stderr, flush=True)
    return lambda text: None


def _timed(say, label: str, fetch) -> tuple[pd.DataFrame, float]:
    began = time.perf_counter()
    frame = fetch()
    took = time.perf_counter() - began
    say(f"  {label:<16} {len(frame):>9,} rows   {took:5.1f} s")
    return frame, took


def _account_list(client, accounts, say) -> pd.DataFrame:
    frame, _ = _timed(say, "accounts", client.accounts)
    if accounts is None or accounts == "all":
        return frame.reset_index(drop=True)
    sids = [accounts] if isinstance(accounts, str) else list(dict.fromkeys(accounts))
    known = frame.set_index("sid")
    rows = [{"sid": s, "friendly_name": known["friendly_name"].get(s, pd.NA)} for s in sids]
    return pd.DataFrame(rows).astype({"sid": "str", "friendly_name": "str"})


def fetch_report_data(client, *, start, end, accounts="all", progress=None) -> ReportData:
    """Fetch what a report needs for ``[start, end)`` (UTC) from ``client``.

    Parameters
    ----------
    client : Client
        Any :class:`twilio_frames.Client` (a real account or the simulator).
    start, end : str, date or Timestamp
        The half-open UTC interval; ``end`` is exclusive.
    accounts : "all" or list of str
        ``"all"``: the account and every subaccount the Accounts list shows.
    progress : bool or callable, optional
        True prints one line per fetched resource to stderr; a callable receives them.

    Returns
    -------
    ReportData
    """
    start, end = to_utc(start), to_utc(end)
    if start is None or end is None or not start < end:
        raise ConfigurationError(f"the report needs start < end, got {start} and {end}")
    say = _progress_printer(progress)
    say(f"Fetching {start:%Y-%m-%d} to {end:%Y-%m-%d} (UTC, end exclusive) "
        f"from {client.base_url} as {client.format.upper()}")
    acct = _account_list(client, accounts, say)
    sids = acct["sid"].tolist()
    frames, seconds = {}, {}
    for name in LIST_RESOURCES:
        method = getattr(client, name)
        frames[name], seconds[name] = _timed(
            say, name, lambda m=method: m(start, end, accounts=sids))
    usage, seconds["usage_records"] = _timed(say, "usage records", lambda: client.usage_records(
        "daily", start=start, end=end, accounts=sids))
    return ReportData(start, end, acct, usage=usage, source=client.base_url,
                      format=client.format, seconds=seconds, **frames)


def write_report(client, out: str | os.PathLike, *, start, end, accounts="all",
                 overwrite: bool = False, progress=None, now=None,
                 title: str = "Twilio usage and cost report",
                 source: str | None = None, tz: str | None = None) -> ReportResult:
    """Fetch, summarise and reconcile ``[start, end)`` and write a report folder.

    Parameters
    ----------
    client : Client
        Where the data comes from.
    out : path
        The report folder to create. It must not exist unless ``overwrite``; a file
        there is always refused, and so is a folder that is neither empty nor an earlier
        report (every report holds the marker file :data:`REPORT_MARKER`).
    start, end : str, date or Timestamp
        Half-open UTC interval (``end`` exclusive); Usage Records are asked for the
        inclusive days ``start`` .. ``end - 1 day``.
    accounts : "all" or list of str
        Which accounts to report on (default: the account and all its subaccounts).
    overwrite : bool
        Replace an existing empty folder or earlier report (only once the new one is
        complete).
    progress : bool or callable, optional
        Progress lines while fetching and writing (True: to stderr).
    now : Timestamp or str, optional
        The present, for the ages of unrated rows (default: the current UTC time).
    title : str
        The page title.
    source : str, optional
        How the page names where the data came from (default: the client's base URL).
    tz : str, optional
        IANA time zone of the activity charts (calls by hour, messages per day); default
        UTC. Costs, billing and reconciliation stay in UTC days, as Twilio bills them.

    Returns
    -------
    ReportResult

    Examples
    --------
    >>> import twilio_frames as tf
    >>> with tf.simulator.running(seed=1, days=14) as sim:            # doctest: +SKIP
    ...     client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url)
    ...     result = tf.write_report(client, "report", start="2026-10-01", end="2026-10-15")
    """
    tz = check_tz(tz)
    check_output(out, folder=True, overwrite=overwrite, marker=REPORT_MARKER)
    data = fetch_report_data(client, start=start, end=end, accounts=accounts,
                             progress=progress)
    if source:
        data.source = source
    return render_report(data, out, overwrite=overwrite, progress=progress, now=now,
                         title=title, tz=tz)


def render_report(data: ReportData, out: str | os.PathLike, *, overwrite: bool = False,
                  progress=None, now=None, title: str = "Twilio usage and cost report",
                  tz: str | None = None) -> ReportResult:
    """Write the report folder for already-fetched ``data`` (see :func:`write_report`)."""
    tz = check_tz(tz)
    from . import build as report_build, page as report_page
    say = _progress_printer(progress)
    now = pd.Timestamp.now(tz="UTC") if now is None else to_utc(now)
    tables = report_build.compute(data, now=now)
    with atomic_folder(out, overwrite=overwrite, marker=REPORT_MARKER) as tmp:
        say("Writing the report")
        files = report_build.write_files(data, tables, tmp, tz=tz)
        page = report_page.page(data, tables, files, title=title, now=now, tz=tz)
        (tmp / "index.html").write_text(page, encoding="utf-8")
        files.append("index.html")
    return ReportResult(Path(out), files, data, tables.costs, tables.reconciliation,
                        tables.status, tables.failed_fees)
