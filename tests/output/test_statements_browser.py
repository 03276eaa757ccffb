"""A customer statement's HTML in headless Chromium (Playwright driving Debian's
/usr/bin/chromium): no console errors, every table filled, printable width, one page."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import twilio_frames as tf

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
RULES = {"default": {"percent": 20}, "phonenumbers*": {"percent": 0, "per_unit": "1.00"},
         "minimum": "25.00"}
#: Where the note's screenshot goes (written when TF_SCREENSHOT=1).
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "statement.png"


@pytest.fixture(scope="module")
def statement(sim, tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("headless Chromium not installed (apt-get install chromium)")
    client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url, progress=False)
    start, end = "2026-11-01", "2026-11-16"
    usage = client.usage_records("daily", start=start, end=end, accounts="all")
    lists = {n: getattr(client, n)(start, end, accounts="all") for n in ("calls", "messages")}
    st = tf.statements(usage, accounts=client.accounts(), rules=RULES, **lists)
    folder = tmp_path_factory.mktemp("statements") / "out"
    paths = tf.write_statements(folder, st, issuer="Northwind Reselling Ltd")
    page_path = sorted(p for p in paths if p.suffix == ".html")[1]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 900, "height": 1300})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: errors.append(r.url))
        page.goto(page_path.as_uri())
        yield st, page_path, page, errors
        browser.close()


def test_no_console_errors_and_every_table_filled(statement):
    st, path, page, errors = statement
    assert errors == []
    counts = page.evaluate("Array.from(document.querySelectorAll('table')).map("
                           "t => t.querySelectorAll('tbody tr').length)")
    assert len(counts) >= 4 and min(counts) >= 1
    empty = page.evaluate("Array.from(document.querySelectorAll('tbody tr td:last-child'))"
                          ".filter(td => td.textContent.trim() === '').length")
    assert empty == 0
    text = page.inner_text("body")
    sid = path.stem.rsplit("-", 2)[0]
    mine = st[st["account_sid"] == sid]
    total = tf.micros_to_decimal(int(mine["charge_micros"].sum()))
    assert f"{total:,.2f}" in text and "Northwind Reselling Ltd" in text
    assert "PROVISIONAL" in text                       # November 2026 is not over yet
    assert "Twilio cost" not in text                    # the customer sees the charge only


def test_printable_width_and_one_page(statement, tmp_path):
    _, _, page, _ = statement
    page.emulate_media(media="print")
    overflow = page.evaluate("document.documentElement.scrollWidth > "
                             "document.documentElement.clientWidth")
    assert not overflow
    pdf = tmp_path / "statement.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    assert pdf.read_bytes().count(b"/Type /Page") - pdf.read_bytes().count(b"/Type /Pages") == 1
    if os.environ.get("TF_SCREENSHOT"):
        page.emulate_media(media="screen")
        page.screenshot(path=str(SCREENSHOT), full_page=True)
