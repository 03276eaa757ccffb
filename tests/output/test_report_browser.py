"""The report's index.html in headless Chromium (Playwright driving Debian's chromium):
every image decodes, every table has rows, no console errors, no failed loads, no sideways
scroll. Runs in CI (.ci/run installs Debian's chromium; the test extra installs playwright)."""

from __future__ import annotations

import pytest

import twilio_frames as tf
from browser import find_chromium, open_html

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(sim, tmp_path_factory):
    if find_chromium() is None:
        pytest.skip("headless Chromium not installed (apt-get install chromium)")
    out = tmp_path_factory.mktemp("browser") / "report"
    with tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url,
                   progress=False) as client:
        result = tf.write_report(client, out, start="2026-11-01", end="2026-11-16",
                                 now="2026-11-15T12:00:00Z")
    with open_html(result.index, width=1280, height=2400) as loaded:
        yield result, loaded


def test_every_image_loads(page):
    result, loaded = page
    images = loaded.images()
    pngs = sorted(f for f in result.files if f.endswith(".png"))
    assert sorted(i.src for i in images) == pngs
    for image in images:
        assert image.decoded, image


def test_every_table_has_rows(page):
    _, loaded = page
    rows = loaded.table_rows()
    assert len(rows) >= 4
    for columns, body_rows in rows:
        assert columns > 0 and body_rows > 0


def test_no_console_errors_or_failed_loads(page):
    _, loaded = page
    assert loaded.problems == []


def test_page_shows_the_key_figures_and_is_laid_out(page):
    _, loaded = page
    text = loaded.text()
    assert "Cost, USD (list endpoints)" in text and "Reconciled" in text
    assert loaded.scroll_width() <= 1280     # no sideways scrolling at a laptop's width


def test_screenshot(page, tmp_path):
    _, loaded = page
    shot = tmp_path / "report.png"
    loaded.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_helper_sees_what_is_broken(tmp_path, browser_page):
    # The helper must be able to fail: a console error, a missing image, an empty table
    # and a too-wide element are each reported.
    html = tmp_path / "broken.html"
    html.write_text(
        "<!doctype html><html><body><table><thead><tr><th>a</th></tr></thead>"
        "<tbody><tr><td class='empty'>none</td></tr></tbody></table>"
        "<img src='missing.png'><div style='width:3000px'>wide</div>"
        "<script>console.error('boom')</script></body></html>")
    with browser_page(html) as loaded:
        assert any("boom" in p for p in loaded.problems)
        assert any("missing.png" in p for p in loaded.problems)
        assert loaded.table_rows() == [(1, 0)]
        assert loaded.scroll_width() > 1280
        assert [(i.src, i.decoded) for i in loaded.images()] == [("missing.png", False)]
