"""The report's "Suspicious traffic" section on an attacked simulated account, and the
same page in headless Chromium."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

import twilio_frames as tf
from twilio_frames.simulator.generate_attacks import attack_prices

NOW = "2026-11-15T12:00:00Z"


@pytest.fixture(scope="module")
def attacked_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("suspicious") / "report"
    with tf.simulator.running(seed=8, days=45, subaccounts=1, attacks=1, now=NOW) as sim, \
            tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url,
                      format="json", progress=False) as client:
        result = tf.write_report(client, out, start="2026-10-01", end="2026-11-16", now=NOW)
        yield result, sim.dataset.attacks


def test_section_lists_the_injected_fraud_with_exact_costs(attacked_report):
    result, truth = attacked_report
    page = (result.path / "index.html").read_text(encoding="utf-8")
    assert '<section id="suspicious"><h2>Suspicious traffic</h2>' in page
    assert "suspicious_traffic.png" in result.files and "anomalies.csv" in result.files
    with open(result.path / "anomalies.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    fraud = [r for r in rows if r["kind"] in ("sms_pumping", "toll_fraud")]
    assert sorted(r["kind"] for r in fraud) == ["sms_pumping", "toll_fraud"]
    for r in fraud:
        ep = truth[truth["kind"] == r["kind"]].iloc[0]
        assert r["account_sid"] == ep["account_sid"]
        # a failed message has no date_sent, so the date-bounded list leaves it (and its
        # $0.001 fee) out; and a run of numbers that crosses a prefix block (+234803808999x
        # to +234803809000x) leaves its few numbers in the other block out of the episode
        # (fewer than min_count): the episode's cost is the truth less at most one fee a
        # message and the SMS price of the few (at most 1 in 20) it left out
        truth_cost = Decimal(int(ep["cost_micros"])).scaleb(-6)
        gap = truth_cost - Decimal(r["cost"])
        rate = Decimal(attack_prices("USD").get(("sms-outbound", r["country"]), 0)).scaleb(-6)
        assert Decimal(0) <= gap <= (Decimal("0.001") * int(ep["count"])
                                     + rate * (int(ep["count"]) // 20))
        assert gap == 0 or r["kind"] == "sms_pumping"
        assert r["evidence"] in page.replace("&#x27;", "'")
    assert "Usage Trigger values from this history" in page


def test_section_in_headless_chromium(attacked_report, tmp_path, browser_page):
    result, _ = attacked_report
    with browser_page(result.index) as page:
        box = page.evaluate(
            "(() => { const s = document.getElementById('suspicious');"
            " const img = s.querySelector('img'); const r = s.getBoundingClientRect();"
            " return [r.width, r.height, img.complete, img.naturalWidth,"
            " s.querySelectorAll('tbody tr').length]; })()")
        width, height, loaded, natural, rows = box
        assert width > 600 and height > 400 and loaded and natural > 0
        assert rows >= 3                          # episodes + trigger rows
        assert page.scroll_width() <= page.width
        assert page.problems == []
        shot = tmp_path / "suspicious.png"
        page.screenshot(shot)
        assert shot.stat().st_size > 10_000
