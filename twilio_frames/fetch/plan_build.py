"""The chains of an automatic plan for a list of (account, range) specs.

Kept apart from :mod:`twilio_frames.fetch.client` (which knows URLs, formats and the
transport, and passes them in as callables) and from :mod:`twilio_frames.fetch.plan`
(which decides the windows and knows nothing of either).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import pandas as pd

from .parse import Page
from .plan import AccountPlan, AutoPlan
from .plan_chains import InfoChain, ProbeChain, Span, UsageChain, WindowChain
from .plan_map import daily_counts

__all__ = ["plan_chains"]


def plan_chains(specs: Sequence[Any], start: pd.Timestamp | None, end: pd.Timestamp | None, *,
                base_url: str, page_size: int, max_workers: int,
                created: dict[str, pd.Timestamp | None],
                first_url: Callable[[Any], str], window_url: Callable[[Any, Span], str],
                fetch: Callable[[str], Page], fetch_account: Callable[[str], Page],
                ext: str, usage_url: Callable[[Any], str] | None = None,
                fetch_usage: Callable[[str], Page] | None = None,
                field: str = "date_created") -> tuple[list[ProbeChain], AutoPlan]:
    """One :class:`ProbeChain` per spec (an account's whole range, ``spec.sid``) and the
    :class:`AutoPlan` that makes their windows. ``first_url(spec)`` and
    ``window_url(spec, span)`` build list URLs; ``fetch`` gets a list page and
    ``fetch_account`` the account (``GET /Accounts/{sid}{ext}``) as a one-record page;
    ``created`` holds the creation times already known (from the Accounts list).
    With ``usage_url(spec)`` (the account's daily usage counts) and ``fetch_usage``, each
    plan asks for its usage map beside page 1; ``field`` is the list's date filter field
    (the map is calibrated on it)."""

    def window(spec, plan, span):
        return WindowChain(plan, base_url, window_url(spec, span), span, fetch)

    def info(sid, plan):
        return InfoChain(plan, f"{base_url}/2010-04-01/Accounts/{sid}{ext}", fetch_account)

    def usage(spec, plan):
        return UsageChain(plan, usage_url(spec), fetch_usage, daily_counts)
    mapped = usage_url is not None and fetch_usage is not None
    plans = [AccountPlan(i, start, end, page_size=page_size, max_workers=max_workers,
                         window=partial(window, spec), info=partial(info, spec.sid),
                         created=created.get(spec.sid),
                         usage=partial(usage, spec) if mapped else None, field=field)
             for i, spec in enumerate(specs)]
    chains = [ProbeChain(plan, base_url, first_url(spec)) for plan, spec in zip(plans, specs)]
    return chains, AutoPlan(plans)
