"""The usage and cost report: fetch, summarise, reconcile, and write one folder.

:func:`write_report` is what ``twilio-frames demo`` and ``twilio-frames report`` call. It
fetches calls, messages, recordings and daily Usage Records for every account asked for,
runs the summaries and the reconciliation, and writes a folder with CSV files, PNG plots
and an ``index.html`` that opens straight from disk. The folder is built under a hidden
temporary name beside ``out`` and renamed at the end, so an interrupted run leaves
nothing half-written and an existing folder is replaced only with ``overwrite=True``.
"""

from __future__ import annotations

import contextlib
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
#: How the report reads the list frames: ``auto`` (Dask for a store holding more than
#: :data:`DASK_ROWS` rows of them in the range, else pandas), ``pandas`` or ``dask``.
ENGINES = ("auto", "pandas", "dask")
#: Above this many calls, messages and recordings in the range, ``engine="auto"`` reads a
#: store through Dask: in pandas they would take about 1 GiB (440 MiB per million calls,
#: more while building), and through Dask memory stays bounded however many there are.
DASK_ROWS = 2_000_000
#: Columns of the lists no part of the report reads: through Dask they stay on disk
#: (message bodies, URIs, formatted numbers...); a pandas frame holds them anyway.
UNREAD = {"calls": ("from_formatted", "to_formatted", "phone_number_sid", "answered_by",
                    "forwarded_from", "caller_name", "group_sid", "queue_time", "trunk_sid",
                    "annotation", "api_version", "uri"),
          "messages": ("messaging_service_sid", "body", "error_message", "api_version",
                       "uri"),
          "recordings": ("conference_sid", "channels", "track", "media_url", "api_version",
                         "uri")}


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
    engine: str = "pandas"         # "dask": calls, messages, recordings are Dask frames

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
    if not len(frame) and hasattr(client, "account_sids"):     # a store without the list
        frame = pd.DataFrame({"sid": client.account_sids()}, dtype="str").assign(
            friendly_name=pd.Series(pd.NA, dtype="str"))
    if accounts is None or accounts == "all":
        return frame.reset_index(drop=True)
    sids = [accounts] if isinstance(accounts, str) else list(dict.fromkeys(accounts))
    known = frame.set_index("sid")
    rows = [{"sid": s, "friendly_name": known["friendly_name"].get(s, pd.NA)} for s in sids]
    return pd.DataFrame(rows).astype({"sid": "str", "friendly_name": "str"})


def _engine(client, engine: str, start, end, sids: list[str]) -> tuple[str, dict]:
    """The engine the lists are read with, and their rows where the source can tell."""
    if engine not in ENGINES:
        raise ConfigurationError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    lazy = hasattr(client, "dask") and hasattr(client, "rows")
    if engine == "dask" and not lazy:
        raise ConfigurationError("engine='dask' reads a store: pass Store(path).source() "
                                 "(twilio-frames report --store DIR)")
    rows = {n: client.rows(n, start, end, accounts=sids) for n in LIST_RESOURCES} \
        if lazy and engine != "pandas" else {}
    use = engine == "dask" or (engine == "auto" and sum(rows.values()) > DASK_ROWS)
    return ("dask" if use else "pandas"), rows


def _lazy_lists(client, start, end, sids, rows, say) -> dict:
    from ...resources import get_resource
    frames = {}
    for name in LIST_RESOURCES:
        columns = [c for c in get_resource(name).column_names if c not in UNREAD[name]]
        frames[name] = client.dask(name, start, end, accounts=sids, columns=columns)
        say(f"  {name:<16} {rows[name]:>9,} rows   Dask, {frames[name].npartitions:,} "
            "partitions read as needed")
    return frames


def fetch_report_data(client, *, start, end, accounts="all", progress=None,
                      engine: str = "auto") -> ReportData:
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
    engine : {"auto", "pandas", "dask"}
        How calls, messages and recordings are read (see :data:`ENGINES`); ``dask``
        needs a store's source.

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
    engine, rows = _engine(client, engine, start, end, sids)
    frames, seconds = {}, {}
    if engine == "dask":
        frames = _lazy_lists(client, start, end, sids, rows, say)
    for name in () if engine == "dask" else LIST_RESOURCES:
        method = getattr(client, name)
        frames[name], seconds[name] = _timed(
            say, name, lambda m=method: m(start, end, accounts=sids))
    usage, seconds["usage_records"] = _timed(say, "usage records", lambda: client.usage_records(
        "daily", start=start, end=end, accounts=sids))
    return ReportData(start, end, acct, usage=usage, source=client.base_url,
                      format=client.format, seconds=seconds, engine=engine, **frames)


def write_report(client, out: str | os.PathLike, *, start, end, accounts="all",
                 overwrite: bool = False, progress=None, now=None,
                 title: str = "Twilio usage and cost report",
                 source: str | None = None, tz: str | None = None,
                 engine: str = "auto") -> ReportResult:
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
    engine : {"auto", "pandas", "dask"}
        How calls, messages and recordings are read. ``auto``: from a store holding
        more than :data:`DASK_ROWS` of them in the range, through Dask (lazy frames,
        reduced partition by partition, a progress bar on stderr with ``progress=True``;
        memory stays bounded), else as pandas frames. The report is the same either way;
        only the line-item files list rows in store order (account, day) with Dask.

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
                             progress=progress, engine=engine)
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
    with _progress_bar(data, progress):
        if data.engine == "dask":
            say("Summarising through Dask, partition by partition")
        tables = report_build.compute(data, now=now)
        with atomic_folder(out, overwrite=overwrite, marker=REPORT_MARKER) as tmp:
            say("Writing the report")
            files = report_build.write_files(data, tables, tmp, tz=tz)
            page = report_page.page(data, tables, files, title=title, now=now, tz=tz)
            (tmp / "index.html").write_text(page, encoding="utf-8")
            files.append("index.html")
    return ReportResult(Path(out), files, data, tables.costs, tables.reconciliation,
                        tables.status, tables.failed_fees)


@contextlib.contextmanager
def _progress_bar(data: ReportData, progress):
    """Dask's progress bar on stderr for each computation of a Dask report taking over a
    second, when progress is shown (``progress=True``) in a terminal or a notebook. It
    writes plain text (no widget, so no warning where ipywidgets is missing); a log
    gets the progress lines only."""
    shown = sys.stderr.isatty() or "ipykernel" in sys.modules
    if data.engine != "dask" or progress is not True or not shown:
        yield
        return
    from dask.diagnostics import ProgressBar
    with ProgressBar(minimum=1.0, out=sys.stderr):
        yield
