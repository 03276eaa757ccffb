"""The exception tree of twilio-frames.

Every error the library raises derives from :class:`TwilioFramesError`, and each carries
what it knows as attributes. No exception text ever contains a secret (auth token, API
secret): URLs are stored without credentials and bodies are quoted only as short snippets.
"""

from __future__ import annotations

__all__ = [
    "APIError",
    "AuthenticationError",
    "ConfigurationError",
    "NotFoundError",
    "ParseError",
    "RateLimitError",
    "StoreError",
    "TransportError",
    "TwilioFramesError",
]


class TwilioFramesError(Exception):
    """Base class of every error raised by twilio-frames."""


class ConfigurationError(TwilioFramesError, ValueError):
    """Missing or invalid credentials or options."""


class TransportError(TwilioFramesError):
    """The network failed and the retries ran out.

    Attributes: ``url`` (without credentials), ``attempts``, ``last_error`` (text).
    """

    def __init__(self, message: str, *, url: str | None = None, attempts: int = 0,
                 last_error: str | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.attempts = attempts
        self.last_error = last_error


class APIError(TwilioFramesError):
    """The API answered with an error status.

    Attributes: ``status`` (HTTP status), ``code`` (Twilio error code or None),
    ``message``, ``more_info`` (documentation URL or None), ``url`` (the request URL,
    never with credentials), ``attempts`` (how many times the request was made).
    """

    def __init__(self, message: str, *, status: int, code: int | None = None,
                 more_info: str | None = None, url: str | None = None,
                 attempts: int = 1) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.more_info = more_info
        self.url = url
        self.attempts = attempts
        parts = [f"HTTP {status}"]
        if code is not None:
            parts.append(f"code {code}")
        text = f"{' '.join(parts)}: {message}"
        if url:
            text += f" (GET {url})"
        if attempts > 1:
            text += f" after {attempts} attempts"
        super().__init__(text)


class AuthenticationError(APIError):
    """401 / 20003: the credentials were refused."""


class NotFoundError(APIError):
    """404 / 20404: no such resource."""


class RateLimitError(APIError):
    """429 / 20429: too many requests. ``retry_after`` is in seconds, or None."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ParseError(TwilioFramesError, ValueError):
    """A body that is not the XML or JSON page we expect. ``url`` names where it came from."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        self.url = url
        super().__init__(f"{message} (from {url})" if url else message)


class StoreError(TwilioFramesError):
    """A store folder that cannot be used as it is: not a store, a newer layout, another
    account's store, a partition that is truncated or of an unexpected schema, or a
    store another sync holds. ``path`` names the folder or file."""

    def __init__(self, message: str, *, path=None) -> None:
        self.path = None if path is None else str(path)
        super().__init__(f"{message} ({self.path})" if path is not None else message)
