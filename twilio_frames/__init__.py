"""twilio-frames: a Twilio account's history as typed pandas DataFrames.

    >>> import twilio_frames as tf
    >>> with tf.simulator.running(seed=1) as sim:           # a local Twilio API on 127.0.0.1
    ...     client = tf.Client(sim.account_sid, sim.auth_token, base_url=sim.base_url)
    ...     calls = client.calls(start="2026-10-01", end="2026-11-01")

Every public name is reachable as ``tf.<name>``; names are imported on first use, so
``import twilio_frames`` stays cheap (matplotlib loads only when a plot is drawn).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# module (under twilio_frames) -> the public names it provides. One line per module; keep each tuple sorted.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "errors": ("APIError", "AuthenticationError", "ConfigurationError", "NotFoundError",
               "ParseError", "RateLimitError", "StoreError", "TransportError",
               "TwilioFramesError"),
    "resources": ("RESOURCES",),
    "money": ("cost_total", "cost_totals", "format_micros", "micros_to_decimal", "minor_unit"),
    "analysis.billing": ("country_of", "estimate_segments", "line_items", "message_encoding"),
    "analysis.summaries": ("cost_by_period", "top_countries", "top_numbers", "unrated"),
    "analysis.breakdowns": ("call_summary", "conversations", "message_summary", "recording_summary"),
    "analysis.anomalies": ("AnomalyRules", "InsufficientHistoryWarning", "traffic_anomalies"),
    "analysis.triggers": ("usage_triggers",),
    "categories": ("CATEGORY_TREE", "OverlappingCategoriesWarning"),
    "bill_lines": ("usage_lines",),
    "analysis.reconciliation": ("SubaccountUsageWarning", "reconcile", "usage_totals"),
    "analysis.bill": ("bill_by_account",),
    "analysis.rules": ("load_rules",),
    "analysis.statements": ("RuleWarning", "statements"),
    "analysis.statement_checks": ("master_check", "statement_detail"),
    "analysis.coverage": ("PartialDetailWarning",),
    "output.statements": ("write_statements",),
    "output.export": ("write_billing_csv", "write_frame_csv", "write_line_items_csv"),
    "output.plots": ("plot_call_durations", "plot_call_heatmap", "plot_cost_by_subaccount",
              "plot_daily_cost", "plot_message_status", "plot_reconciliation",
              "plot_top_countries"),
    "output.plot_anomalies": ("plot_anomalies",),
    "fetch.client": ("Client",),
    "fetch.parse": ("Page", "parse_page"),
    "fetch.frames": ("to_frame",),
    "store.store": ("Store",),
    "store.sync_result": ("AccountGoneWarning",),
    "output.report.write": ("REPORT_MARKER", "ReportResult", "write_report"),
}

_NAME_TO_MODULE = {name: mod for mod, names in _EXPORTS.items() for name in names}

__all__ = sorted([*_NAME_TO_MODULE, "__version__", "simulator"])


def __getattr__(name: str):
    if name == "simulator":
        module = importlib.import_module(".simulator", __name__)
        globals()[name] = module
        return module
    mod = _NAME_TO_MODULE.get(name)
    if mod is None:
        raise AttributeError(f"module 'twilio_frames' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
