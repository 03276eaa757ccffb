"""The report's index.html in headless Chromium: every image loads, every table has rows,
no console errors, no failed loads. Runs in CI (.ci/run installs Debian's chromium)."""

from __future__ import annotations

import pytest

import twilio_frames as tf
from chromium_cdp import Browser, find_chromium

pytestmark = pytest.mark.browser

CHROMIUM = find_chromium()


@pytest.fixture(scope="module")
def page(sim, tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("headless Chromium not installed (apt-get install chromium)")
    out = tmp_path_factory.mktemp("browser") / "report"
    with tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url,
                   progress=False) as client:
        result = tf.write_report(client, out, start="2026-11-01", end="2026-11-16",
                                 now="2026-11-15T12:00:00Z")
    with Browser(CHROMIUM, window=(1280, 2400)) as browser:
        browser.load(result.index.as_uri())
        yield result, browser


def test_every_image_loads(page):
    result, browser = page
    images = browser.evaluate(
        "Array.from(document.images).map(i => [i.getAttribute('src'), i.complete,"
        " i.naturalWidth, i.naturalHeight])")
    pngs = sorted(f for f in result.files if f.endswith(".png"))
    assert sorted(src for src, *_ in images) == pngs
    for src, complete, width, height in images:
        assert complete and width > 0 and height > 0, src


def test_every_table_has_rows(page):
    _, browser = page
    rows = browser.evaluate(
        "Array.from(document.querySelectorAll('table')).map(t => [t.tHead.rows[0].cells.length,"
        " Array.from(t.tBodies[0].rows).filter(r => !r.querySelector('td.empty')).length])")
    assert len(rows) >= 4
    for columns, body_rows in rows:
        assert columns > 0 and body_rows > 0


def test_no_console_errors_or_failed_loads(page):
    _, browser = page
    assert browser.problems() == []


def test_page_shows_the_key_figures_and_is_laid_out(page):
    result, browser = page
    text = browser.evaluate("document.body.innerText")
    assert "Cost, USD (list endpoints)" in text and "Reconciled" in text
    width = browser.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280                   # no sideways scrolling at a laptop's width


def test_screenshot(page, tmp_path):
    _, browser = page
    shot = tmp_path / "report.png"
    browser.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
