"""The Usage Records category tree, and a bill's lines without double counting.

Usage Records categories nest: ``calls`` holds ``calls-inbound`` and ``calls-outbound``,
``totalprice`` holds everything, and new categories appear without notice (the spec's
enum of 643 names was removed on 2025-09-04; ``category`` is now a free string). Adding
categories therefore counts some charges two or three times. This module keeps the
documented nesting as data (:data:`CATEGORY_TREE`); :mod:`twilio_frames.bill_lines`
picks with it, for every account and period, the lines of a bill that add up *exactly*
to its ``totalprice`` (:func:`twilio_frames.usage_lines`).

Sources (``reference/billing-rules.md`` §4.4, ``reference/fraud-and-rebilling.md`` §4;
the Usage Records docs, DOC-UR):

* ``calls``: "Inbound and outbound voice calls. Does *not* include client or SIP
  calls" -> ``calls-inbound`` + ``calls-outbound``; ``calls-inbound`` "All inbound voice
  calls, to mobile, toll-free and local numbers" -> ``-local``, ``-mobile``, ``-tollfree``.
  ``calls-client`` and ``calls-sip`` are their own records, outside ``calls``.
* ``sms``: "All SMS messages, both inbound and outbound" -> ``sms-inbound`` and
  ``sms-outbound``, each by longcode, shortcode, tollfree; ``mms`` likewise.
* ``authy-calls-outbound`` / ``authy-sms-outbound``: "also included in the Voice / SMS
  categories" (placed under ``calls-outbound`` / ``sms-outbound``).
* ``pv``: "All Programmable Video usage" -> every ``pv-*`` category.
* ``totalprice``: "Total price of all usage ... because some Twilio costs may not be
  included in any usage category, the sum of the Price of all UsageRecords may not be
  equal to the Price of TotalPrice": the root, and the reason for a remainder line.

Inferred from the names only (no source states the rollup; say so when it matters):
``phonenumbers`` holds every ``phonenumbers-*`` (rental by number type, setups,
porting...); ``calls-inbound-tollfree`` holds ``-tollfree-local`` / ``-tollfree-mobile``;
``calls-sip`` holds ``calls-sip-inbound`` / ``-outbound``; ``recordings`` ("Recordings of
voice and trunking calls") holds ``calls-recordings`` and ``trunking-recordings``.
``recordingstorage``, ``failed-message-processing-fee``, the carrier-fee categories
(whether ``sms`` holds ``sms-messages-carrierfees`` is an open question, billing-rules
§2.2) and every other category are treated as separate charges.

Categories are compared in lower case (DOC-UR writes ``Usage-RCS-Messages``).
"""

from __future__ import annotations

from .errors import ConfigurationError

__all__ = ["CATEGORY_TREE", "KNOWN_CATEGORIES", "OverlappingCategoriesWarning", "TOTAL",
           "ancestors", "check_no_overlap", "is_known", "parent_of"]

TOTAL = "totalprice"

#: parent -> its documented children (see the module notes for sources).
CATEGORY_TREE: dict[str, tuple[str, ...]] = {
    "calls": ("calls-inbound", "calls-outbound"),
    "calls-inbound": ("calls-inbound-local", "calls-inbound-mobile", "calls-inbound-tollfree"),
    "calls-inbound-tollfree": ("calls-inbound-tollfree-local", "calls-inbound-tollfree-mobile"),
    "calls-outbound": ("authy-calls-outbound",),
    "calls-sip": ("calls-sip-inbound", "calls-sip-outbound"),
    "sms": ("sms-inbound", "sms-outbound"),
    "sms-inbound": ("sms-inbound-longcode", "sms-inbound-shortcode", "sms-inbound-tollfree"),
    "sms-outbound": ("sms-outbound-longcode", "sms-outbound-shortcode",
                     "sms-outbound-tollfree", "authy-sms-outbound"),
    "mms": ("mms-inbound", "mms-outbound"),
    "mms-inbound": ("mms-inbound-longcode", "mms-inbound-shortcode", "mms-inbound-toll-free"),
    "mms-inbound-longcode": ("mms-inbound-longcode-canada",
                             "mms-inbound-longcode-unitedstates"),
    "mms-outbound": ("mms-outbound-longcode", "mms-outbound-shortcode",
                     "mms-outbound-toll-free", "mms-outbound-tollfree"),
    "mms-outbound-longcode": ("mms-outbound-longcode-canada",
                              "mms-outbound-longcode-unitedstates"),
    "recordings": ("calls-recordings", "trunking-recordings"),
}
#: Families by prefix: every ``<name>-*`` category not placed deeper belongs to ``<name>``.
PREFIX_FAMILIES = ("phonenumbers", "pv")

#: Separate charges we know by name (Usage Records docs, billing-rules §1-§4).
_SEPARATE = ("calls-client", "calls-transfers", "calls-text-to-speech", "calls-emergency",
             "calls-globalconference", "calls-media-stream-minutes",
             "calls-pay-verb-transactions", "recordingstorage", "failed-message-processing-fee",
             "sms-messages-carrierfees", "mms-messages-carrierfees", "mediastorage",
             "answering-machine-detection", "amazon-polly", "text-to-speech", "tts-google",
             "trunking-origination", "trunking-termination", "phonenumbers-local",
             "phonenumbers-mobile", "phonenumbers-tollfree", "phonenumbers-setups",
             "phonenumbers-porting", "phonenumbers-emergency", "phonenumbers-cps",
             "phonenumbers-numbers")
_PARENT = {child: parent for parent, kids in CATEGORY_TREE.items() for child in kids}
#: Every category named here (the tree, the families' heads and the separate charges).
KNOWN_CATEGORIES = frozenset({TOTAL, *CATEGORY_TREE, *_PARENT, *PREFIX_FAMILIES, *_SEPARATE})


class OverlappingCategoriesWarning(UserWarning):
    """Usage categories that contain one another were added together, or an account's
    categories add up to more than its ``totalprice`` (an unknown category nests)."""


def parent_of(category: str) -> str | None:
    """The category that includes ``category`` directly (``totalprice`` for a top one;
    None for ``totalprice`` itself).

    >>> parent_of("calls-inbound-local"), parent_of("phonenumbers-local"), parent_of("x")
    ('calls-inbound', 'phonenumbers', 'totalprice')
    """
    name = str(category).lower()
    if name == TOTAL:
        return None
    if name in _PARENT:
        return _PARENT[name]
    for family in PREFIX_FAMILIES:
        if name.startswith(family + "-"):
            return family
    return TOTAL


def ancestors(category: str) -> tuple[str, ...]:
    """Every category that includes ``category``, nearest first, ending at totalprice."""
    out, cur = [], parent_of(category)
    while cur is not None:
        out.append(cur)
        cur = parent_of(cur)
    return tuple(out)


def is_known(category: str) -> bool:
    """Whether ``category`` is one this module documents (case-insensitive)."""
    return str(category).lower() in KNOWN_CATEGORIES


def check_no_overlap(categories, *, what: str = "these usage categories") -> None:
    """Raise ConfigurationError naming every pair in ``categories`` of which one
    includes the other (``totalprice`` includes all)."""
    names = sorted({str(c).lower() for c in categories})
    present = set(names)
    pairs = [(a, b) for b in names for a in ancestors(b) if a in present]
    if pairs:
        shown = ", ".join(f"{a} includes {b}" for a, b in pairs[:6])
        more = f" (and {len(pairs) - 6} more)" if len(pairs) > 6 else ""
        raise ConfigurationError(
            f"{what} overlap: {shown}{more}; adding them counts the same charges twice. "
            "Use the 'totalprice' record for an account's total, or leaf categories "
            "(tf.usage_lines)")
