"""Open a local HTML file in headless Chromium (Playwright) and report what a reader would hit.

Playwright's Python package drives Debian's ``/usr/bin/chromium`` (``executable_path``), so no
browser is downloaded; ``.ci/run`` apt-installs chromium and the ``test`` extra installs
playwright. Use it from any test that writes HTML::

    from browser import open_html

    def test_my_page_reads_well(tmp_path, browser_page):   # fixture: skips without chromium
        with browser_page(tmp_path / "index.html") as page:
            assert page.problems == []                 # console errors/warnings, failed loads
            assert all(body > 0 for _, body in page.table_rows())
            assert page.scroll_width() <= page.width   # no sideways scroll
            assert all(i.decoded for i in page.images())
            assert "Total" in page.text()

or, without the fixture, ``with open_html(path) as page: ...`` (raises ``BrowserMissing``
when no Chromium is installed). ``page.page`` is the live Playwright ``Page`` for anything
else (``page.evaluate(js)``, ``page.screenshot(path)``).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Flags Debian's chromium needs to start headless in this machine's (and CI's) container.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


class BrowserMissing(RuntimeError):
    """No Chromium binary on this machine (apt-get install chromium)."""


def find_chromium() -> str | None:
    """Path of Debian's chromium (or another Chromium on PATH), or None."""
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass(frozen=True)
class Image:
    """One ``<img>``: its ``src`` attribute and whether the browser decoded it."""

    src: str
    decoded: bool
    width: int
    height: int


class LoadedPage:
    """A loaded page; ``problems`` fills in while the page lives (console and loads)."""

    def __init__(self, page, width: int) -> None:
        self.page = page
        self.width = width
        #: Console errors and warnings, uncaught exceptions and failed loads, as text.
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"exception: {exc}"))
        page.on("requestfailed",
                lambda req: self.problems.append(f"load failed: {req.url} ({req.failure})"))

    def _console(self, message) -> None:
        if message.type in ("error", "warning", "assert"):
            self.problems.append(f"console.{message.type}: {message.text}")

    def evaluate(self, expression: str):
        """The value of a JavaScript expression evaluated in the page."""
        return self.page.evaluate(expression)

    def table_rows(self) -> list[tuple[int, int]]:
        """Per ``<table>``: (header cells, body rows that are not a ``td.empty`` placeholder)."""
        return [tuple(r) for r in self.evaluate(
            "Array.from(document.querySelectorAll('table')).map(t => ["
            " t.tHead ? t.tHead.rows[0].cells.length : 0,"
            " Array.from(t.tBodies).flatMap(b => Array.from(b.rows))"
            "   .filter(r => !r.querySelector('td.empty')).length])")]

    def scroll_width(self) -> int:
        """The document's scroll width in CSS pixels (> ``width`` means sideways scroll)."""
        return self.evaluate("document.documentElement.scrollWidth")

    def images(self) -> list[Image]:
        """Every ``<img>`` with its decode status (complete and a non-zero natural size)."""
        rows = self.evaluate(
            "Array.from(document.images).map(i => [i.getAttribute('src'), i.complete,"
            " i.naturalWidth, i.naturalHeight])")
        return [Image(src, bool(done and w > 0 and h > 0), w, h) for src, done, w, h in rows]

    def text(self) -> str:
        """The page's visible text (``document.body.innerText``)."""
        return self.evaluate("document.body.innerText")

    def screenshot(self, path: str | Path) -> None:
        """A PNG of the whole page, not only the viewport."""
        self.page.screenshot(path=str(path), full_page=True)


class _Chromium:
    """One Playwright driver and browser, shared by nested ``open_html`` calls.

    Playwright's sync API refuses to start a second driver while one is running, so a
    page opened inside another page's ``with`` reuses the running browser; the last one
    out closes it (nothing stays running between tests).
    """

    users = 0
    playwright = None
    browser = None

    @classmethod
    @contextlib.contextmanager
    def acquire(cls, binary: str):
        if cls.users == 0:
            from playwright.sync_api import sync_playwright

            cls.playwright = sync_playwright().start()
            try:
                cls.browser = cls.playwright.chromium.launch(executable_path=binary,
                                                             args=CHROMIUM_ARGS)
            except BaseException:
                cls.playwright.stop()
                raise
        cls.users += 1
        try:
            yield cls.browser
        finally:
            cls.users -= 1
            if cls.users == 0:
                try:
                    cls.browser.close()
                finally:
                    cls.playwright.stop()
                    cls.browser = cls.playwright = None


@contextlib.contextmanager
def open_html(path: str | Path, *, width: int = 1280,
              height: int = 2400) -> Iterator[LoadedPage]:
    """Load ``path`` in headless Chromium and yield a :class:`LoadedPage`.

    Each call gets its own browser context (no shared cache or storage). Waits for the load
    event (every image loaded or failed). The page, and the browser if no other page uses
    it, close on exit.
    """
    binary = find_chromium()
    if binary is None:
        raise BrowserMissing("headless Chromium not installed (apt-get install chromium)")
    with _Chromium.acquire(binary) as chromium:
        context = chromium.new_context(viewport={"width": width, "height": height})
        try:
            page = context.new_page()
            loaded = LoadedPage(page, width)
            page.goto(Path(path).resolve().as_uri(), wait_until="load")
            yield loaded
        finally:
            context.close()
