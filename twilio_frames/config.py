"""Credentials and settings: argument, then environment, then an error listing every way.

Nothing here touches the network. :func:`resolve_credentials` and :func:`resolve_base_url`
are what :class:`twilio_frames.Client` calls; they read ``os.environ`` only when an
argument is missing, and the secrets they return are hidden from every ``repr``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import ConfigurationError

__all__ = ["Credentials", "resolve_credentials", "resolve_base_url", "DEFAULT_BASE_URL",
           "DEFAULT_PAGE_SIZE", "DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT",
           "DEFAULT_MAX_WORKERS", "DEFAULT_MAX_RETRY_TIME", "FORMATS"]

DEFAULT_BASE_URL = "https://api.twilio.com"
#: The API's maximum page size (OAI ``PageSize`` maximum 1000; error 20007 above it).
DEFAULT_PAGE_SIZE = 1000
#: Attempts after the first one for a retryable failure.
DEFAULT_MAX_RETRIES = 6
#: Total seconds a request may spend retrying (sleeps included) before giving up.
DEFAULT_MAX_RETRY_TIME = 120.0
#: (connect, read) timeouts in seconds.
DEFAULT_TIMEOUT = (10.0, 60.0)
DEFAULT_MAX_WORKERS = 8
FORMATS = ("json", "xml")

_HOW = """Give Twilio credentials in one of these ways:
  1. tf.Client(account_sid, auth_token)
  2. tf.Client(account_sid, api_key=..., api_secret=...)   (an API key "SK..." and its secret)
  3. environment: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN
  4. environment: TWILIO_ACCOUNT_SID, TWILIO_API_KEY and TWILIO_API_SECRET"""


@dataclass(frozen=True)
class Credentials:
    """Who we are: the account whose resources are read, and the Basic-auth pair.

    ``username`` is the account SID (auth token) or the API key SID; ``password`` is the
    secret and never appears in ``repr``.
    """

    account_sid: str
    username: str
    password: str = field(repr=False)

    @property
    def kind(self) -> str:
        """``"api_key"`` or ``"auth_token"``."""
        return "api_key" if self.username != self.account_sid else "auth_token"


def _pick(value: str | None, env: Mapping[str, str], name: str) -> str | None:
    if value is not None and value != "":
        return value
    found = env.get(name)
    return found or None


def resolve_credentials(account_sid: str | None = None, auth_token: str | None = None, *,
                        api_key: str | None = None, api_secret: str | None = None,
                        env: Mapping[str, str] | None = None) -> Credentials:
    """Credentials from the arguments, else the environment, else a ConfigurationError.

    An API key pair given as arguments wins over an auth token from the environment;
    an auth token given as an argument wins over an API key from the environment.
    """
    env = os.environ if env is None else env
    sid = _pick(account_sid, env, "TWILIO_ACCOUNT_SID")
    if sid is None:
        raise ConfigurationError(f"no Twilio account SID was given.\n{_HOW}")
    if not (sid.startswith("AC") and len(sid) == 34):
        raise ConfigurationError(f"account SID {sid!r} does not look like 'AC' + 32 hex digits.\n{_HOW}")
    if auth_token or (api_key or api_secret):
        return _from_arguments(sid, auth_token, api_key, api_secret)
    key, secret = env.get("TWILIO_API_KEY") or None, env.get("TWILIO_API_SECRET") or None
    token = env.get("TWILIO_AUTH_TOKEN") or None
    if token:
        return Credentials(sid, sid, token)
    if key and secret:
        return Credentials(sid, key, secret)
    missing = "TWILIO_API_SECRET" if key else "TWILIO_API_KEY" if secret else "an auth token"
    raise ConfigurationError(f"no Twilio secret for {sid} ({missing} is missing).\n{_HOW}")


def _from_arguments(sid: str, token: str | None, key: str | None,
                    secret: str | None) -> Credentials:
    if key or secret:
        if not (key and secret):
            raise ConfigurationError(f"api_key and api_secret must be given together.\n{_HOW}")
        return Credentials(sid, key, secret)
    return Credentials(sid, sid, token)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_base_url(base_url: str | None = None, *, env: Mapping[str, str] | None = None) -> str:
    """The API root: argument, else ``TWILIO_API_BASE``, else ``https://api.twilio.com``.

    Plain ``http://`` is refused unless the host is loopback (127.0.0.0/8, ::1,
    localhost), so credentials never cross a network unencrypted. Credentials inside
    the URL (``user:pass@``) are refused too.
    """
    env = os.environ if env is None else env
    url = base_url or env.get("TWILIO_API_BASE") or DEFAULT_BASE_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"base URL {url!r} must be http(s)://host[:port]")
    if parts.username or parts.password:
        raise ConfigurationError("base URL must not carry credentials; pass them to tf.Client")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"base URL {url!r} must not have a query or fragment")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigurationError(
            f"refusing plain http:// to {parts.hostname}: credentials would travel unencrypted. "
            "Use https://, or http:// only to a loopback address (127.0.0.1, ::1, localhost).")
    return url.rstrip("/")
