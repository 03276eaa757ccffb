"""Secrets out of every text built from what a server sent.

A server may echo the request: a 401 page quoting ``Authorization: Basic ...``, a body
or a ``next_page_uri`` carrying the token. Error messages, their attributes and log
lines quote bodies and URLs, so they pass through a :class:`Redactor` first: it
replaces the secret (auth token or API secret), the Basic credentials in base64
(standard and URL-safe alphabets, with or without padding) and the raw
``user:secret`` pair, and any ``Basic <base64>`` value, with ``[redacted]``.
"""

from __future__ import annotations

import base64
import re

__all__ = ["REDACTED", "Redactor"]

REDACTED = "[redacted]"
_BASIC = re.compile(r"(?i)\b(basic)(\s+|%20|\+)[A-Za-z0-9+/_\-]{8,}={0,2}")
#: Exception attributes that may quote a server (messages, URLs).
_TEXT_ATTRIBUTES = ("message", "url", "more_info", "last_error")


class Redactor:
    """``redactor(text)`` -> text without the client's secrets."""

    def __init__(self, username: str, password: str) -> None:
        pair = f"{username}:{password}".encode()
        forms = {password, pair.decode()}
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(pair).decode()
            forms |= {text, text.rstrip("=")}
        forms = sorted((f for f in forms if len(f) >= 8), key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(f) for f in forms), re.IGNORECASE) \
            if forms else None

    def __call__(self, text):
        if not isinstance(text, str):
            return text
        text = _BASIC.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
        return self._pattern.sub(REDACTED, text) if self._pattern is not None else text

    def __repr__(self) -> str:
        return "Redactor(...)"

    def scrub(self, exc: BaseException) -> BaseException:
        """``exc`` with its message and text attributes redacted (in place)."""
        exc.args = tuple(self(a) for a in exc.args)
        for name in _TEXT_ATTRIBUTES:
            value = getattr(exc, name, None)
            if isinstance(value, str):
                setattr(exc, name, self(value))
        return exc
