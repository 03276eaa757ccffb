"""Text for the simulator: SMS segment rules, the message body pool, fast date strings.

Segment rules (billing-rules.md §2.3, from Twilio's "How long can a message be?" and
UCS-2 glossary pages): a body made only of GSM-7 characters takes 160 septets in one
segment or 153 per segment when split; the extension characters ``€ [ ] { } ^ ~ \\ |`` and
form feed take two septets each. Any other character makes the whole body UCS-2: 70 UTF-16
code units in one segment or 67 per segment when split (an emoji outside the BMP is a
surrogate pair: 2 units).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np

__all__ = ["GSM7_BASIC", "GSM7_EXTENSION", "encoding_of", "num_segments", "body_pool",
           "rfc2822", "rfc2822_array", "iso_date"]

#: The GSM 03.38 basic character set (the escape code 0x1B excluded).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: The GSM 03.38 extension table: each costs two septets (escape + code).
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


def encoding_of(body: str) -> str:
    """Return ``"GSM-7"`` if every character of ``body`` is in GSM 03.38, else ``"UCS-2"``."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in body):
        return "GSM-7"
    return "UCS-2"


def num_segments(body: str) -> int:
    """Number of SMS segments Twilio bills for ``body`` (160/153 GSM-7, 70/67 UCS-2).

    Examples
    --------
    >>> num_segments("a" * 160), num_segments("a" * 161), num_segments("a" * 159 + "€")
    (1, 2, 2)
    >>> num_segments("\\U0001F600" + "a" * 69)
    2
    """
    if encoding_of(body) == "GSM-7":
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in body)
        single, multi = 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, multi = 70, 67
    if units <= single:
        return 1
    return math.ceil(units / multi)


# Phrases the body pool is built from. They include characters that need XML escaping
# (& < > " ') and bodies that start with = + - @ (spreadsheet formula injection).
_GSM_OPENERS = (
    "Your verification code is {n}.", "Reminder: your appointment is on {d} at 3pm.",
    "Hi! Your order #{n} has shipped & will arrive soon.", "Q&A night <free entry> \"all welcome\"",
    "=SUM(A1:A9) is not a formula, it's a text", "+1 more seat left for Friday's class",
    "-10% off today only: use code SAVE10", "@channel the build is green again",
    "Price: 5€ {{incl. VAT}} [promo] ~ limited", "Ticket {n}: status=open | priority=high",
    "Thanks, we got it. Reply STOP to opt out.", "Café at 8? Señor Müller & Ñoño say hi",
    "Balance low: $3.50 left. Top up at example.com/top?a=1&b=2",
)
_UCS_OPENERS = (
    "Merci ! Votre rendez-vous est confirmé à 14h — à bientôt", "Olá! Sua conexão está pronta ✅",
    "ご予約ありがとうございます。{d} 10:00 にお待ちしております。", "Happy birthday 🎉🎂 from all of us",
    "Grüße aus Köln — Ihr Paket kommt morgen 📦", "Ça marche, on se voit demain 👍",
    "Код подтверждения: {n}", "Your driver is 2 min away 🚗 <plate \"KX-12\">",
)
_FILLER = (" Please call us back if anything is unclear.", " See you soon!",
           " Details: https://example.com/t/{n}", " Our office hours are 9-17 Mon-Fri.",
           " Questions? Reply to this message & we'll help.")


def _compose(rng: np.random.Generator, opener: str, target: int) -> str:
    text = opener.format(n=int(rng.integers(100000, 999999)), d="12/05")
    while len(text) < target:
        text += _FILLER[int(rng.integers(len(_FILLER)))].format(n=int(rng.integers(1000, 9999)))
    return text[:target].rstrip() or text


def body_pool(rng: np.random.Generator, size: int = 240) -> tuple[list[str], np.ndarray]:
    """Build ``size`` message bodies of varied length and encoding, with their segments.

    About a third are UCS-2. Lengths spread from a few characters to ~5 segments, with
    some placed right at the 160/161, 306/307, 70/71 and 134/135 boundaries. About one
    in eight of the others has leading or trailing spaces, a trailing newline or line
    breaks inside, as real bodies do.
    """
    edges = [160, 161, 306, 307, 70, 71, 134, 135, 153, 67]
    bodies: list[str] = []
    for i in range(size):
        ucs = i % 3 == 2
        openers = _UCS_OPENERS if ucs else _GSM_OPENERS
        opener = openers[int(rng.integers(len(openers)))]
        if i < 2 * len(edges):
            target = edges[i % len(edges)]
        else:
            target = int(np.clip(rng.lognormal(4.3, 0.7), 8, 700))
        bodies.append(_compose(rng, opener, target))
    _add_whitespace(rng, bodies, first=2 * len(edges))
    segments = np.array([num_segments(b) for b in bodies], dtype=np.int16)
    return bodies, segments


#: Whitespace people leave in messages (the API returns bodies as sent, untrimmed):
#: share of the pool -> how the body is changed. Spaces and LF are GSM-7 characters, so
#: the segment rules still apply to the changed body as it stands.
_WHITESPACE = (
    (0.03, lambda b: "  " + b),                                     # leading spaces
    (0.03, lambda b: b + " "),                                      # trailing space
    (0.02, lambda b: b + "\n"),                                     # trailing newline
    (0.04, lambda b: _break_lines(b)),                              # embedded newlines
)


def _break_lines(body: str) -> str:
    """Put a line break (a blank line after a sentence) inside ``body``."""
    cut = body.find(". ")
    if cut > 0:
        return body[:cut + 1] + "\n\n" + body[cut + 2:]
    cut = body.find(" ", len(body) // 2)
    return body[:cut] + "\n" + body[cut + 1:] if cut > 0 else body + "\nOK"


def _add_whitespace(rng: np.random.Generator, bodies: list[str], *, first: int) -> None:
    """Change a small share of ``bodies[first:]`` in place (the boundary-length bodies
    before ``first`` keep their exact lengths). Draws come after every body is composed,
    so the other bodies are the same as without this step."""
    draw = rng.random(len(bodies))
    edges = np.cumsum([share for share, _ in _WHITESPACE])
    for i in range(first, len(bodies)):
        kind = int(np.searchsorted(edges, draw[i], side="right"))
        if kind < len(_WHITESPACE):
            bodies[i] = _WHITESPACE[kind][1](bodies[i])


# ---------------------------------------------------------------------------- dates
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAY_PREFIX: dict[int, str] = {}
#: ``"HH:MM:"`` for each minute of a day, and ``"SS +0000"`` for each second of a minute.
_MINUTES = np.array([f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60)])
_SECONDS = np.array([f"{s:02d} +0000" for s in range(60)])


def rfc2822(epoch: int) -> str:
    """Format epoch seconds as Twilio does: ``"Tue, 31 Aug 2010 20:36:28 +0000"``."""
    d = datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return (f"{_DAYS[d.weekday()]}, {d.day:02d} {_MONTHS[d.month - 1]} {d.year} "
            f"{d.hour:02d}:{d.minute:02d}:{d.second:02d} +0000")


def _day_prefix(day: int) -> str:
    s = _DAY_PREFIX.get(day)
    if s is None:
        s = _DAY_PREFIX[day] = rfc2822(day * 86400)[:17]
    return s


def rfc2822_array(epochs: np.ndarray) -> list[str | None]:
    """Format an int64 array of epoch seconds (-1 = null) as RFC 2822 strings or None.

    Vectorised per call: one ``"Tue, 31 Aug 2010 "`` prefix per distinct day (a page
    spans a few days), joined with the minute and second tables by ``np.char.add``.

    >>> rfc2822_array(np.array([1283286988, -1, 0]))
    ['Tue, 31 Aug 2010 20:36:28 +0000', None, 'Thu, 01 Jan 1970 00:00:00 +0000']
    """
    epochs = np.asarray(epochs, dtype=np.int64).ravel()
    if epochs.size == 0:
        return []
    days, secs = np.divmod(epochs, 86400)
    distinct, where = np.unique(days, return_inverse=True)
    prefix = np.array([_day_prefix(d) for d in distinct.tolist()])
    minute, second = np.divmod(secs, 60)
    text = np.char.add(np.char.add(prefix[where.ravel()], _MINUTES[minute]), _SECONDS[second])
    out = text.tolist()
    for i in np.flatnonzero(epochs < 0).tolist():
        out[i] = None
    return out


def iso_date(day: int) -> str:
    """Format a day number (days since 1970-01-01) as ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(day * 86400, tz=timezone.utc).strftime("%Y-%m-%d")
