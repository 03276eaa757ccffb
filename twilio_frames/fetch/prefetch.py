"""The next page of a lone list, asked for while the page before it is parsed.

A list's pages are sequential: page 2's URL is page 1's ``next_page_uri``, known once
page 1 is parsed. On loopback a 1,000-call JSON page takes about 5 ms to arrive and 7
ms to parse, so a two-page list spent a third of its time with the next request not
yet sent. Twilio writes the envelope after the records
(``{"calls": [...], ..., "next_page_uri": "/2010-04-01/...", ...}``), so the URI can be
read off the body's end in microseconds, before the records are parsed.

:func:`next_uri_hint` reads it; the scheduler of :mod:`~twilio_frames.fetch.paging`
starts that page on a free thread (a chain with no limit whose ``early_next`` allows
it: a list or a plan's window, not a planning request), where it waits for a request
slot in its chain's order (:mod:`~twilio_frames.fetch.limiter`), and uses the answer
only if the parsed page names the same URL
(:meth:`~twilio_frames.fetch.paging.PageChain.follow` still decides, with its checks of repeated URIs and stalled chains); otherwise the early
answer is dropped. The hint is a hint: a body whose envelope the pattern does not find,
or finds inside a record, costs at most one request that is not used.

:func:`hook` / :func:`take_hook` pass the scheduler's callback to
:func:`~twilio_frames.fetch.paging.fetch_page` on the worker's thread, so the fetch
functions between them (the client's, a plan chain's) need not know about it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

__all__ = ["next_uri_hint", "hook", "take_hook"]

#: ``"next_page_uri": "<a plain URI>"``; escapes or odd characters are not hinted.
_NEXT = re.compile(rb'"next_page_uri"\s*:\s*"([!#-\[\]-~]{1,2000})"')

_local = threading.local()


def next_uri_hint(body: object) -> str | None:
    """The last ``"next_page_uri"`` string of a JSON body, if plainly written; else None."""
    if not isinstance(body, bytes):
        return None
    at = body.rfind(b'"next_page_uri"')
    if at < 0:
        return None
    found = _NEXT.match(body, at)
    return found.group(1).decode("ascii") if found else None


def hook(callback: Callable[[str], None] | None) -> None:
    """Set (or clear) this thread's callback for the next body's hint."""
    _local.callback = callback


def take_hook() -> Callable[[str], None] | None:
    """This thread's callback, cleared (a fetch calls it at most once)."""
    callback = getattr(_local, "callback", None)
    _local.callback = None
    return callback
