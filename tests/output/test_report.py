"""write_report against the simulator: the folder, its numbers, its page, its safety."""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import twilio_frames as tf
from twilio_frames.output.report.html import Card, html_table, render_page

START, END = "2026-10-28", "2026-11-16"      # the conftest simulator's last 19 days
NOW = "2026-11-15T12:00:00Z"


@pytest.fixture(scope="module")
def report(sim, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report"
    with tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, format="xml",
                   progress=False) as client:
        result = tf.write_report(client, out, start=START, end=END, now=NOW)
    return result


def _dataset_cost_micros(sim, resource: str) -> int:
    """Exact cost from the ground truth: -price (abs for recordings) over every account,
    rows picked as the list filter picks them (a null date_sent is never in range)."""
    start, end = pd.Timestamp(START, tz="UTC"), pd.Timestamp(END, tz="UTC")
    field = {"calls": "start_time", "messages": "date_sent", "recordings": "date_created"}[
        resource]
    total = Decimal(0)
    for acct in sim.dataset.accounts:
        for rec in sim.dataset.records(resource, acct["sid"]):
            when = rec[field]
            if rec["price"] is None or when is None or not start <= pd.Timestamp(when) < end:
                continue
            price = Decimal(rec["price"])
            total += abs(price) if resource == "recordings" else -price
    return int(total * 1_000_000)


def test_folder_holds_every_listed_file_and_nothing_else(report):
    names = sorted(str(p.relative_to(report.path)) for p in report.path.rglob("*")
                   if p.is_file())
    marker = "statements/.twilio-frames-statements"
    assert names == sorted([*report.files, tf.REPORT_MARKER, marker])
    assert {"index.html", "billing.csv", "calls.csv", "messages.csv", "recordings.csv",
            "reconciliation.csv", "daily_cost.png", "reconciliation.png"} <= set(names)
    assert any(n.startswith("statements/") and n.endswith(".html") for n in names)
    for name in names:
        if name.endswith(".png"):
            assert (report.path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in report.path.parent.iterdir() if p.name.startswith(".")]


def test_list_total_is_the_exact_sum_of_the_prices_twilio_sent(sim, report):
    total_row = report.costs[report.costs["account"] == "total"].iloc[0]
    expected = sum(_dataset_cost_micros(sim, r) for r in ("calls", "messages", "recordings"))
    assert total_row["list total"] == Decimal(expected).scaleb(-6)
    per_account = report.costs[report.costs["account"] != "total"]
    assert sum(per_account["list total"]) == total_row["list total"]
    assert len(per_account) == len(sim.dataset.accounts)


def test_each_account_total_is_its_whole_bill_its_totalprice(report):
    """Issue 8.2: per account, the list products plus what only Usage Records see
    (number rental above all) add up exactly to the account's totalprice."""
    usage = report.data.usage
    totalprice = usage[usage["category"] == "totalprice"].groupby("account_sid")[
        "price_micros"].sum()
    per_account = report.costs[report.costs["account"] != "total"].set_index("sid")
    for sid, micros in totalprice.items():
        assert per_account.loc[sid, "total"] == tf.micros_to_decimal(int(micros))
    assert (per_account["phone numbers"] > 0).all()
    assert (per_account["total"] > per_account["list total"]).all()
    whole = report.costs[report.costs["account"] == "total"].iloc[0]
    assert whole["total"] == sum(whole[c] for c in (
        "calls", "sms", "mms", "recordings", "phone numbers", "recording storage",
        "failed-message fees", "other categories", "no category", "lists vs Usage Records"))


def test_billing_csv_adds_up_to_the_same_total(report):
    with open(report.path / "billing.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    total = sum(Decimal(r["cost"]) for r in rows)
    assert total == report.costs[report.costs["account"] == "total"].iloc[0]["total"]
    listed = sum(Decimal(r["cost"]) for r in rows if r["source"] == "lists")
    assert listed == report.costs[report.costs["account"] == "total"].iloc[0]["list total"]
    assert {"lists", "usage_records"} <= {r["source"] for r in rows}
    assert any(r["product"].startswith("phonenumbers") for r in rows)
    assert min(r["period_start"] for r in rows) == "2026-10-28"   # clipped to the range,
    assert max(r["period_end"] for r in rows) == "2026-11-15"     # not whole months


def test_reconciliation_and_unrated_csv_follow_the_export_rules(report):
    """Exact 6-decimal money from micros (not floats), ISO UTC dates, ages in hours."""
    with open(report.path / "reconciliation.csv", newline="", encoding="utf-8") as f:
        rec = list(csv.DictReader(f))
    money = re.compile(r"^-?[0-9]+\.[0-9]{6}$")
    assert len(rec) == len(report.reconciliation)
    for row in rec:
        assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", row["start_date"]), row
        assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", row["end_date"]), row
        assert row["as_of"] == "" or row["as_of"].endswith("Z")
        for col in ("list_price", "price_diff"):
            assert money.match(row[col]), (col, row[col])
        assert row["record_price"] == "" or money.match(row["record_price"])
    exact = report.reconciliation["list_price_micros"].sum()
    assert sum(Decimal(r["list_price"]) for r in rec) == Decimal(int(exact)).scaleb(-6)
    with open(report.path / "unrated.csv", newline="", encoding="utf-8") as f:
        unrated = list(csv.DictReader(f))
    assert unrated and "max_age_hours" in unrated[0] and "max_age" not in unrated[0]
    for row, age in zip(unrated, report_unrated_ages(report)):
        assert float(row["max_age_hours"]) == pytest.approx(age, abs=1e-6)
        assert row["oldest"].endswith("Z") and "days" not in row["max_age_hours"]


def report_unrated_ages(report):
    frame = tf.unrated(report.data.calls, now=NOW)
    for name in ("messages", "recordings"):
        part = tf.unrated(report.data.lists[name], now=NOW)
        frame = pd.concat([frame, part], ignore_index=True) if len(part) else frame
    return (frame["max_age"].dt.total_seconds() / 3600).tolist()


def test_reconciliation_matches_except_days_still_being_rated(report):
    rec = report.reconciliation
    assert report.status["mismatch"] == 0
    assert report.status["match"] > 0
    pending_days = set(rec.loc[rec["status"] == "pending", "start_date"].dt.date.astype(str))
    assert pending_days and pending_days <= {"2026-11-14", "2026-11-15"}


def test_page_is_self_contained_and_shows_the_key_figures(report):
    page = report.index.read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "url(" not in page and "@import" not in page
    for src in re.findall(r'<img src="([^"]+)"', page):
        assert (report.path / src).is_file()
    for name in report.files:
        if name != "index.html":
            assert f'href="{name}"' in page
    total = report.costs[report.costs["account"] == "total"].iloc[0]["list total"]
    assert "Cost, USD (list endpoints)" in page
    assert "The whole bill per account" in page and "total (totalprice)" in page
    assert f">{total.quantize(Decimal('0.01')):,}<" in page
    assert "2026-10-28 to 2026-11-15, both included (UTC days)" in page
    assert "account-day-category rows match" in page and "account-days match" not in page
    assert "they may be charged" in page and "will be charged" not in page


def test_failed_message_fee_is_shown_next_to_the_list_cost(sim, report):
    """Failed messages have no date_sent, so the date-bounded Messages list misses them
    and their fee: the page shows the Usage Records fee with the reason."""
    start, end = pd.Timestamp(START, tz="UTC"), pd.Timestamp(END, tz="UTC")
    failed = [r for a in sim.dataset.accounts for r in sim.dataset.records("messages", a["sid"])
              if r["status"] == "failed" and r["price"] is not None
              and start <= pd.Timestamp(r["date_created"]) < end]
    assert failed and all(r["date_sent"] is None for r in failed)
    assert not (report.data.messages["status"] == "failed").any()
    count, fee = report.failed_fees["USD"]
    assert count == len(failed) and fee == -sum(Decimal(r["price"]) for r in failed)
    page = report.index.read_text(encoding="utf-8")
    assert "Failed-message fees, USD" in page and f">{fee.normalize()}<" in page
    assert ("Failed messages that never left Twilio have no date_sent, and a date-bounded "
            "Messages list filters on DateSent, so it does not return them") in page
    assert "failed-message-processing-fee" not in set(report.reconciliation["category"])


def test_top_countries_and_numbers_section(report):
    expected = tf.top_countries(report.data.calls, report.data.messages, n=10)
    numbers = tf.top_numbers(report.data.calls, report.data.messages, n=10)
    assert len(expected) > 3 and len(numbers) == 10
    page = report.index.read_text(encoding="utf-8")
    top = page[page.index('<section id="top">'):]
    top = top[:top.index("</section>")]
    assert '<img src="top_countries.png"' in top
    for row in expected.itertuples():
        label = "non-PSTN" if pd.isna(row.country) else row.country
        assert f"<td>{label}</td>" in top
    for number in numbers["number"]:
        assert f"<td>{number}</td>" in top
    with open(report.path / "top_countries.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [Decimal(r["cost"]) for r in rows] == [
        Decimal(int(m)).scaleb(-6) for m in expected["cost_micros"]]
    assert {"top_countries.png", "top_countries.csv", "top_numbers.csv"} <= set(report.files)


def test_no_secret_in_any_file(sim, report):
    secrets = [sim.auth_token, sim.api_secret, *sim.dataset.auth_tokens.values()]
    for path in (p for p in report.path.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, path.name


def test_existing_folder_is_refused_and_kept(sim, tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False)
    with pytest.raises(FileExistsError, match="already exists"):
        tf.write_report(client, out, start=START, end=END)
    with pytest.raises(FileExistsError, match="not a folder this program wrote"):
        tf.write_report(client, out, start=START, end=END, overwrite=True)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["report"]


def test_overwrite_replaces_only_an_empty_folder_or_an_earlier_report(sim, tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False)
    first = tf.write_report(client, out, start="2026-11-10", end="2026-11-12",
                            overwrite=True, now=NOW)
    assert (out / tf.REPORT_MARKER).is_file() and first.index.is_file()
    (out / "extra.txt").write_text("left in an earlier report")
    result = tf.write_report(client, out, start="2026-11-10", end="2026-11-13",
                             overwrite=True, now=NOW)
    assert "extra.txt" not in {p.name for p in out.iterdir()}
    assert result.index.is_file() and (out / tf.REPORT_MARKER).is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["report"]


def test_failed_fetch_writes_nothing(sim, tmp_path):
    client = tf.Client(sim.account_sid, "0" * 32, base_url=sim.base_url, progress=False,
                       max_retries=0)
    with pytest.raises(tf.AuthenticationError):
        tf.write_report(client, tmp_path / "report", start=START, end=END)
    assert list(tmp_path.iterdir()) == []


def test_one_subaccount_only(sim, tmp_path):
    sub = sim.dataset.accounts[1]["sid"]
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False)
    result = tf.write_report(client, tmp_path / "r", start="2026-11-01", end="2026-11-08",
                             accounts=[sub], now=NOW)
    assert list(result.costs["sid"]) == [sub, ""]
    assert set(result.data.calls["account_sid"]) == {sub}
    assert set(result.reconciliation["account_sid"]) == {sub}


def test_bad_range_is_a_configuration_error(sim, tmp_path):
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False)
    with pytest.raises(tf.ConfigurationError, match="start < end"):
        tf.write_report(client, tmp_path / "r", start="2026-11-08", end="2026-11-01")
    assert list(tmp_path.iterdir()) == []


def test_html_table_escapes_text_and_aligns_numbers():
    frame = pd.DataFrame({"body": ["<script>alert(1)</script>", "a & b"],
                          "count": pd.array([1200, None], dtype="Int64"),
                          "cost": ["1,234.50", "0.10"], "status": ["match", "mismatch"]})
    html = html_table(frame)
    assert "<script>" not in html and "&lt;script&gt;" in html and "a &amp; b" in html
    assert '<td class="num">1,200</td>' in html and '<td class="num">1,234.50</td>' in html
    assert '<th class="num">cost</th>' in html
    assert 'class="status-ok">match' in html and 'class="status-bad">mismatch' in html


def test_html_table_caps_rows_and_says_so():
    html = html_table(pd.DataFrame({"n": range(10)}), max_rows=3)
    assert html.count("<tr>") == 4            # header + 3 rows
    assert "first 3 of 10 rows" in html


def test_render_page_escapes_everything():
    page = render_page(title="<T>", meta=[("a", "<b>")], cards=[Card("x", "<y>", "z", "ok")],
                       sections=["<section>ready</section>"], footer=["<f>"])
    assert "<T>" not in page and "&lt;T&gt;" in page and "&lt;y&gt;" in page
    assert "<section>ready</section>" in page and "&lt;f&gt;" in page


def test_header_and_footer_say_the_same_period(report):
    """Issue 8.11: the header named the last day and the footer said 'the end date is not
    included'; both now name the same first and last day, both included."""
    page = " ".join(report.index.read_text(encoding="utf-8").split())
    assert "not included" not in page
    assert "2026-10-28 to 2026-11-15, both included" in page                 # header
    assert ("The period runs from 2026-10-28 to 2026-11-15, both days included. It was "
            "fetched as the half-open range start=2026-10-28, end=2026-11-16") in page


def test_reconciliation_summary_counts_pending_days(report):
    """A category with matching and pending days reads '4 of 60 pending', not 'pending'."""
    page = report.index.read_text(encoding="utf-8")
    summary = page.split("Per usage category, all accounts", 1)[1].split("</table>", 1)[0]
    statuses = re.findall(r'<td class="status-(\w+)">([^<]+)</td>', summary)
    assert statuses and all(text != "pending" for _, text in statuses)
    pending = [(cls, text) for cls, text in statuses if "pending" in text]
    assert pending and all(cls == "warn" and re.fullmatch(r"\d+ of \d+ pending", text)
                           for cls, text in pending)


def test_unrated_csv_lists_only_rows_that_may_still_be_charged(report):
    """Issue 8.7: busy, no-answer, canceled and failed calls are never billed."""
    with open(report.path / "unrated.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    calls = report.data.calls
    never = calls["status"].isin(["busy", "no-answer", "canceled", "failed"])
    assert never.any() and calls.loc[never, "price_micros"].isna().all()
    assert not [r for r in rows if r["product"] == "calls" and r["status"] in (
        "busy", "no-answer", "canceled", "failed")]
    assert all(r["pending"] == "true" for r in rows)
    page = report.index.read_text(encoding="utf-8")
    assert "Not billed (the price stays empty)" in page


def test_reconciliation_explains_where_the_calls_cost_goes(report):
    """Issue 8.3: the calls list's cost = calls + calls-client in the reconciliation."""
    summary = report.reconciliation.groupby("category")["list_price_micros"].sum()
    listed = report.costs[report.costs["account"] == "total"].iloc[0]["calls"]
    assert tf.micros_to_decimal(int(summary["calls"] + summary["calls-client"])) == listed
    page = " ".join(report.index.read_text(encoding="utf-8").split())
    assert "calls-client" in page and "the list cost of calls splits" in page
