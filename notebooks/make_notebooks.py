"""Regenerate the example notebooks: ``python notebooks/make_notebooks.py``.

The notebooks are written without outputs (nothing secret can be committed, and diffs
stay readable); ``tests/test_notebooks.py`` executes each one top to bottom. Every
notebook uses a fixed seed and a fixed ``NOW`` for the simulator, so it shows the same
numbers on every run, and only the public ``tf.`` API.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = '''\
import contextlib

import pandas as pd
import twilio_frames as tf

SEED = 7                          # the simulated account: same seed, same data
NOW = "2026-11-15T12:00:00Z"      # the simulated present (UTC), fixed for reproducibility
stack = contextlib.ExitStack()    # closes the simulator in the last cell'''

START_SIM = '''\
sim = stack.enter_context(tf.simulator.running(seed=SEED, now=NOW, days={days}, subaccounts=3))
client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url,
                   format="{format}", progress=False)
client          # the repr never shows the token'''

CLOSE = "stack.close()     # stops the simulator"


def md(text: str):
    return new_markdown_cell(text.strip())


def code(text: str):
    return new_code_cell(text.strip())


def quickstart() -> list:
    return [
        md("""
# Quickstart: a Twilio account as pandas DataFrames

This notebook starts the bundled **Twilio API simulator** on 127.0.0.1 (no credentials,
no network), points a `tf.Client` at it, fetches calls and messages as typed DataFrames,
summarises their cost and draws one plot. With a real account the only change is the
client line: `tf.Client()` reads `TWILIO_ACCOUNT_SID` and `TWILIO_AUTH_TOKEN` from the
environment."""),
        md("""
## 1. Setup
A fixed seed and a fixed `NOW` make every run show the same numbers."""),
        code(SETUP),
        md("""
## 2. Start the simulator and make a client
`tf.simulator.running(...)` serves a seeded account (a master and 3 subaccounts, 30 days
of history) until it is closed. The client speaks **XML**, the API's default format;
`format="json"` gives the same frames."""),
        code(START_SIM.format(days=30, format="xml")),
        md("""
## 3. Fetch calls
`start`/`end` are a half-open UTC interval `[start, end)`. `accounts="all"` walks the
master account and every subaccount. Columns are the API's field names with fixed dtypes:
datetimes are tz-aware UTC, counts are nullable integers, enums are categoricals, and
`price_micros` holds the exact price in millionths of the currency."""),
        code('''\
calls = client.calls(start="2026-11-01", end="2026-11-15", accounts="all")
print(f"{len(calls):,} calls")
calls[["sid", "account_sid", "start_time", "direction", "status", "duration", "price",
       "price_unit"]].head()'''),
        code("calls.dtypes.head(20)"),
        md("""
## 4. XML and JSON give the same frame
The same request in JSON parses to an identical DataFrame."""),
        code('''\
json_client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url,
                        format="json", progress=False)
same = json_client.calls(start="2026-11-01", end="2026-11-15", accounts="all")
pd.testing.assert_frame_equal(calls, same)
print("XML and JSON frames are equal")'''),
        md("""
## 5. Messages and a daily cost summary
`tf.cost_by_period` turns the rows into count, billed usage (minutes, SMS segments, MMS
messages) and a positive cost per UTC day, product and currency. Money is summed exactly
(`cost_micros`); `cost` is the same as a float for plotting."""),
        code('''\
messages = client.messages(start="2026-11-01", end="2026-11-15", accounts="all")
daily = tf.cost_by_period(calls=calls, messages=messages, freq="D")
daily.head(8)'''),
        md("""
## 6. One plot
Every `plot_*` function returns a matplotlib Axes with title, labels and currency set."""),
        code("ax = tf.plot_daily_cost(daily)"),
        md("## 7. Clean up"),
        code(CLOSE),
    ]


def usage_report() -> list:
    return [
        md("""
# Usage and cost report

Costs per subaccount, product and week, who and where the money goes, what is still
waiting for a price, and finally the complete report folder (`tf.write_report`) that the
`twilio-frames report` command writes: CSV files, PNG plots and an `index.html`."""),
        md("## 1. Setup and a simulated account with 60 days of history"),
        code(SETUP),
        code(START_SIM.format(days=60, format="xml")),
        md("""
## 2. The accounts
The Accounts list shows the master and its subaccounts (their auth tokens are never put
in the frame)."""),
        code('''\
accounts = client.accounts()
names = dict(zip(accounts["sid"], accounts["friendly_name"]))
accounts[["sid", "owner_account_sid", "friendly_name", "status", "type"]]'''),
        md("""
## 3. Fetch October and the first half of November for every account
One call per resource; pages are followed through `next_page_uri` and accounts are
fetched concurrently."""),
        code('''\
START, END = "2026-10-01", "2026-11-15"
calls = client.calls(START, END, accounts="all")
messages = client.messages(START, END, accounts="all")
recordings = client.recordings(START, END, accounts="all")
print(f"{len(calls):,} calls, {len(messages):,} messages, {len(recordings):,} recordings")'''),
        md("""
## 4. Weekly cost per subaccount and product
`by="account_sid"` adds a grouping column; weeks start on Monday (UTC)."""),
        code('''\
weekly = tf.cost_by_period(calls=calls, messages=messages, recordings=recordings,
                           freq="W", by="account_sid")
table = weekly.pivot_table(index=weekly["account_sid"].map(names), columns="product",
                           values="cost", aggfunc="sum", observed=True, fill_value=0)
table.round(2)'''),
        code('''\
by_account = tf.cost_by_period(calls=calls, messages=messages, recordings=recordings,
                               freq="M", by="account_sid")
ax = tf.plot_cost_by_subaccount(by_account, labels=names)'''),
        md("""
## 5. Calls and messages in detail
Billed minutes follow Twilio's rule (per leg, per started minute); messages are counted
by status."""),
        code("tf.call_summary(calls, by='direction')"),
        code("tf.message_summary(messages, by='status')"),
        md("## 6. Where the money goes: countries of the other party"),
        code('''\
countries = tf.top_countries(calls=calls, messages=messages, n=8)
ax = tf.plot_top_countries(countries)
countries[["rank", "country", "calls", "messages", "cost", "share"]]'''),
        md("""
## 7. When people call
Calls by weekday and hour, in UTC (pass `tz=` for local time)."""),
        code("ax = tf.plot_call_heatmap(calls)"),
        md("""
## 8. Prices not yet set
Twilio fills in a price some time after a call or message ends. `tf.unrated` lists the
rows that may still be charged (a ringing or in-progress call can also end unbilled).
Busy, no-answer, canceled and failed calls are never billed and are left out
(`include_unbilled=True` shows them too, with `pending=False`)."""),
        code('''\
unrated = pd.concat([tf.unrated(frame, now=NOW) for frame in (calls, messages, recordings)])
unrated["account"] = unrated["account_sid"].map(names)
unrated.sort_values(["pending", "rows"], ascending=False)[
    ["account", "product", "status", "pending", "rows", "share", "max_age"]].head(10)'''),
        md("""
## 9. The whole report as a folder
`tf.write_report` fetches, summarises, reconciles and writes a folder that opens from
disk. It is built under a temporary name and renamed at the end, so an interrupted run
leaves nothing half-written."""),
        code('''\
import tempfile
from pathlib import Path

folder = Path(tempfile.mkdtemp()) / "report"
result = tf.write_report(client, folder, start=START, end=END, now=NOW)
print(result.index.name, "and", len(result.files) - 1, "more files in", result.path.name)
sorted(result.files)'''),
        code("result.costs"),
        md("## 10. Clean up"),
        code(CLOSE),
    ]


def billing() -> list:
    return [
        md("""
# Billing export and reconciliation

Twilio's **Usage Records** are what Twilio bills from. This notebook checks the calls,
messages and recordings lists against them day by day, then writes the billing and
line-item CSV files an invoice or a rebilling system would read."""),
        md("## 1. Setup"),
        code(SETUP),
        code(START_SIM.format(days=45, format="json")),
        md("""
## 2. Fetch the lists and the daily Usage Records
`usage_records("daily", accounts="all")` asks every account for its **own** usage
(`IncludeSubaccounts=false`), so nothing is counted twice. Usage Records dates are
inclusive UTC days; the client turns the half-open `[START, END)` into them."""),
        code('''\
START, END = "2026-10-15", "2026-11-16"
frames = {name: getattr(client, name)(START, END, accounts="all")
          for name in ("calls", "messages", "recordings")}
usage = client.usage_records("daily", start=START, end=END, accounts="all")
usage[["account_sid", "category", "start_date", "count", "usage", "usage_unit",
       "price", "price_unit"]].head()'''),
        md("""
## 3. Reconcile
For every daily record of a category the lists can price (`calls`, `calls-client`,
`sms`, `mms`, `recordings` and their inbound/outbound parts; Twilio bills Client legs as
`calls-client`, outside `calls`) the list rows of the same account and UTC day are
counted, their billed usage summed and their cost summed exactly. A day is `pending`
while prices are missing or the day is not over (`as_of`), and `mismatch` names what
differs."""),
        code('''\
rec = tf.reconcile(usage, **frames)
rec["status"].value_counts()'''),
        code('''\
rec[rec["status"] != "match"][["account_sid", "category", "start_date", "list_count",
                                "record_count", "list_price", "record_price", "n_unrated",
                                "status", "reason"]].head(10)'''),
        code("ax = tf.plot_reconciliation(rec)"),
        md("""
## 4. The account total
Categories overlap (`calls` = `calls-inbound` + `calls-outbound`), so they are never
added up: the account total is Twilio's `totalprice` record. It is higher than the list
cost because it also holds phone-number fees and other products. Accounts may bill in
different currencies, and amounts in different currencies are never added: every total
is per currency."""),
        code('''\
totals = tf.usage_totals(usage).groupby("currency")["price_micros"].sum()
list_cost = {}
for frame in frames.values():
    for currency, amount in tf.cost_totals(frame).items():
        list_cost[currency] = list_cost.get(currency, 0) + amount
for currency, micros in totals.items():
    print(f"{currency}  Usage Records totalprice:      {tf.format_micros(micros)}")
    print(f"{currency}  calls + messages + recordings: {list_cost.get(currency, 0)}")'''),
        md("""
The gap is what the lists cannot see. `tf.bill_by_account` gives each account's whole
bill: the list products (`source="lists"`), then the Usage Records lines the lists cannot
price (`usage_records`: phone numbers, recording storage, failed-message fees, any other
category, and `no-category`, what totalprice holds beyond every category), then the
`difference` where Usage Records and the lists disagree (prices not set yet). Per account
the rows add up exactly to its totalprice."""),
        code('''\
bill = tf.bill_by_account(usage, **frames)
bill.pivot_table(index=["account_sid", "currency"], columns="source",
                 values="cost_micros", aggfunc="sum", fill_value=0)'''),
        md("""
## 5. The billing CSV
One row per month, account and product with count, billed usage, cost and currency.
With `usage=` the file holds the whole bill (a `source` column says lists, usage_records
or difference). Money is written exactly with 6 decimals, so the decimal sum of the
file's cost column, per currency, equals the totalprice above."""),
        code('''\
import tempfile
from decimal import Decimal
from pathlib import Path

out = Path(tempfile.mkdtemp())
tf.write_billing_csv(out / "billing.csv", **frames, freq="M", by="account_sid",
                    usage=usage)
billing = pd.read_csv(out / "billing.csv", dtype={"cost": str})
for currency, costs in billing.groupby("currency")["cost"]:
    print(f"{currency}  sum of the cost column:", sum(Decimal(c) for c in costs))
billing.head()'''),
        md("""
## 6. Line items
One row per call with what it is billed as: category, billed minutes, the other party's
country and the exact cost."""),
        code('''\
tf.write_line_items_csv(frames["calls"], out / "calls.csv")
pd.read_csv(out / "calls.csv").head()'''),
        md("""
## 7. Customer statements
A reseller rebills each subaccount. `tf.statements` turns each account's own monthly
Usage Records into one line per billed leaf category (never a parent beside its
children, never `totalprice`; unknown categories kept; a `no-category` line for the
rest), so each statement's cost adds up exactly to the account's totalprice. Markup
rules are a dict or a TOML file: a percent, a per-unit fee, pass-through, a monthly fee
and a minimum. Charges are rounded half-up to the currency's minor unit per line.
November is not over on `NOW`, so its statements are provisional."""),
        code('''\
monthly = client.usage_records("monthly", start="2026-10-01", end="2026-11-16",
                               accounts="all")
rules = {"default": {"percent": 20},
         "phonenumbers*": {"percent": 0, "per_unit": "1.00"},
         "minimum": "25.00"}
st = tf.statements(monthly, accounts=client.accounts(), rules=rules, **frames)
st.groupby(["friendly_name", "currency", "start_date", "provisional"])[
    ["cost_micros", "charge_micros"]].sum()'''),
        md("""
The master's own lines plus all its subaccounts' must equal the master's totalprice
asked with `IncludeSubaccounts=true`: `tf.master_check` compares them per month and
category and names any gap. `tf.write_statements` writes a CSV and a printable HTML
statement per customer, plus an all-customers CSV."""),
        code('''\
master = client.usage_records("monthly", start="2026-10-01", end="2026-11-16",
                              include_subaccounts=True)
check = tf.master_check(monthly, master, accounts=client.accounts())
print(check["status"].value_counts().to_dict())
paths = tf.write_statements(out / "statements", st, issuer="Northwind Reselling Ltd")
sorted(p.name for p in paths)[:3]'''),
        md("## 8. Clean up"),
        code(CLOSE),
    ]


def store() -> list:
    return [
        md("""
# A local store: sync, come back two days later, sync again

`tf.Store` keeps the account's history on disk as Parquet, one partition per resource,
account and UTC day. A sync fetches what is missing and what is still *open* (the day
ended less than 48 hours ago, or a row can still change: a call in progress, a price not
yet set); settled days are never fetched again. Here the simulator plays the account on
two dates: the same seed and the same first day of history, a `now` two days apart."""),
        md("""
## 1. Setup
The store is a folder; the simulated account starts on `START` and is visited at `FIRST`
and again at `LATER`."""),
        code('''\
import contextlib
from pathlib import Path

import pandas as pd
import twilio_frames as tf

SEED, START = 7, "2026-10-15T00:00:00Z"      # the simulated account: seed and first day
FIRST, LATER = "2026-11-13T12:00:00Z", "2026-11-15T12:00:00Z"
store = tf.Store(Path("history"))
store'''),
        md("""
## 2. The first sync
Every (resource, account, day) since `2026-11-01` is one unit of work; each partition is
written whole and atomically as soon as its last page arrives."""),
        code('''\
with tf.simulator.running(seed=SEED, start=START, now=FIRST, subaccounts=3) as sim:
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False)
    first = store.sync(client, start="2026-11-01")
print(first)'''),
        md("""
## 3. What the store holds, and why some days are still open
`store.status()` reads each partition's own metadata: rows, when it was fetched, settled
or open and why."""),
        code('''\
status = store.status()
status.groupby(["resource", "settled"]).size().unstack(fill_value=0)'''),
        code('''\
status.loc[~status["settled"], "why"].value_counts()'''),
        code('''\
calls_then = store.frame("calls")
unpriced = calls_then[calls_then["status"].eq("completed") & calls_then["price_micros"].isna()]
print(f"{len(calls_then):,} calls stored; {len(unpriced)} completed ones have no price yet")'''),
        md("""
## 4. Two days later
The account has moved on: new calls and messages, and the open ones have settled. The
second sync skips every settled partition and fetches only the open ones and the new
days."""),
        code('''\
with tf.simulator.running(seed=SEED, start=START, now=LATER, subaccounts=3) as sim:
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False)
    again = store.sync(client)
    fresh = client.calls(start="2026-11-01", end=LATER, accounts="all")
print(again)
print(f"requests: {again.requests} now against {first.requests} for the first sync")'''),
        md("""
## 5. What changed
The calls that had no price now have one; and the store's frame is exactly what a fresh
fetch of the whole range gives (same rows, order and dtypes)."""),
        code('''\
calls_now = store.frame("calls")
late = calls_now.set_index("sid").loc[unpriced["sid"], ["status", "duration", "price", "price_unit"]]
print(f"{late['price'].notna().sum()} of {len(late)} late prices arrived")
late.head()'''),
        code('''\
pd.testing.assert_frame_equal(store.frame("calls", "2026-11-01", LATER), fresh)
print(f"{len(calls_now) - len(calls_then):,} new calls; the store equals a fresh fetch")'''),
        md("""
## 6. Analysis straight from the store
No network needed: the frames come from the Parquet files."""),
        code('''\
daily = tf.cost_by_period(calls=store.frame("calls"), messages=store.frame("messages"), freq="D")
ax = tf.plot_daily_cost(daily)'''),
        md("""
## 7. Any Parquet reader
Each resource folder is a hive-partitioned dataset (`account_sid=.../day=...`), readable
by pandas, pyarrow, DuckDB, Dask or Polars without twilio-frames (docs/store.md)."""),
        code('''\
plain = pd.read_parquet(store.path / "messages")
plain.groupby("day", observed=True)["price_micros"].sum().tail()'''),
    ]


def suspicious() -> list:
    return [
        md("""
# Suspicious traffic: SMS pumping, toll fraud, spend spikes

`tf.traffic_anomalies` looks back over an account's own history for the signatures
Twilio documents (a burst of messages to a block of consecutive numbers in a country the
account never texted, most of them undelivered; a night of short calls to satellite or
premium ranges) and for days whose spend jumps far above the usual. The thresholds are
ours (Twilio publishes none): they are the fields of `tf.AnomalyRules`.
`tf.usage_triggers` then proposes the daily and monthly `totalprice` values to set as
Twilio Usage Triggers."""),
        md("""
## 1. Setup: a simulated account that was attacked
`attacks=2` injects two SMS-pumping and two toll-fraud episodes and one organic
campaign; `sim.dataset.attacks` is the ground truth."""),
        code(SETUP),
        code('''\
sim = stack.enter_context(tf.simulator.running(seed=SEED, now=NOW, days=90, subaccounts=3,
                                               attacks=2))
client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url,
                   format="json", progress=False)
sim.dataset.attacks[["kind", "account_sid", "start", "country", "prefix", "count"]]'''),
        md("""
## 2. Fetch 90 days of messages and calls for every account
Each account is compared with its own previous 28 days, so fetch at least that much
history before the period you care about."""),
        code('''\
messages = client.messages(accounts="all")
calls = client.calls(accounts="all")
print(f"{len(messages):,} messages, {len(calls):,} calls")'''),
        md("""
## 3. The episodes
One row per episode: kind, account, span (UTC), destination country and prefix, count,
exact cost with its currency, a score in [0, 1] and a sentence of evidence. The organic
campaign is not flagged as fraud (it may show as a spend spike: it *is* one)."""),
        code('''\
found = tf.traffic_anomalies(messages, calls)
found[["kind", "account_sid", "start", "end", "country", "prefix", "count", "currency",
       "cost", "score"]]'''),
        code('''\
for i, row in found.iterrows():
    print(f"{i + 1}. {row['kind']}: {row['evidence']}\\n")'''),
        md("""
## 4. Daily volume per country, flagged spans shaded"""),
        code("ax = tf.plot_anomalies(found, messages, calls)"),
        md("""
## 5. The thresholds are parameters
`tf.AnomalyRules()` lists them; pass single fields as keywords. A stricter score keeps
only the clearest episodes."""),
        code('''\
print(tf.AnomalyRules())
strict = tf.traffic_anomalies(messages, calls, min_score=0.8, min_count=100)
strict[["kind", "account_sid", "country", "count", "score"]]'''),
        md("""
## 6. Usage Trigger values from the account's history
Daily Usage Records of category `totalprice` (never a sum of overlapping categories),
fetched per account. `would_fire` says how often each value would have fired over this
history: the attacked days stand out."""),
        code('''\
usage = client.usage_records("daily", category="totalprice", include_subaccounts=False,
                             accounts="all")
tf.usage_triggers(usage)'''),
        md("## 7. Clean up"),
        code(CLOSE),
    ]


NOTEBOOKS = {
    "01-quickstart.ipynb": quickstart,
    "02-usage-and-cost-report.ipynb": usage_report,
    "03-billing-export-and-reconciliation.ipynb": billing,
    "04-local-store.ipynb": store,
    "05-suspicious-traffic.ipynb": suspicious,
}


def build(name: str) -> nbformat.NotebookNode:
    """The notebook called ``name``, without outputs."""
    nb = new_notebook(cells=NOTEBOOKS[name]())
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{Path(name).stem[:2]}-{i:02d}"     # stable ids: clean diffs
    return nb


def main() -> None:
    for name in NOTEBOOKS:
        nbformat.write(build(name), HERE / name)
        print(f"wrote notebooks/{name}")


if __name__ == "__main__":
    main()
