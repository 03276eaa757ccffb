"""Credentials and settings: argument, then environment, then an error listing every way.

Nothing here touches the network. :func:`resolve_credentials` and :func:`resolve_base_url`
are what :class:`twilio_frames.Client` calls; they read ``os.environ`` only when an
argument is missing, and the secrets they return are hidden from every ``repr``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from ..errors import ConfigurationError

__all__ = ["check_bounds", "check_limit", "Credentials", "resolve_credentials", "resolve_base_url", "DEFAULT_BASE_URL",
           "DEFAULT_PAGE_SIZE", "DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT",
           "DEFAULT_MAX_WORKERS", "DEFAULT_MAX_RETRY_TIME", "DEFAULT_MAX_BODY_BYTES",
           "DEFAULT_DEADLINE", "FORMATS", "is_loopback"]

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
#: Largest decoded response body accepted: a 1000-record page is 2-3 MB (calls, XML);
#: 64 MiB is ample and stops a gzip bomb (1 MiB -> 1 GiB) long before memory runs out.
DEFAULT_MAX_BODY_BYTES = 64 << 20
#: Seconds one attempt may take from sending the request to the last body byte: a
#: 3 MB page at 25 kB/s fits; a server trickling bytes so no read times out does not.
DEFAULT_DEADLINE = 120.0
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


_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_KEY = re.compile(r"^SK[0-9a-fA-F]{32}$")
_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")


def _pick(value: str | None, env: Mapping[str, str], name: str,
          argument: str) -> tuple[str | None, str]:
    """(the value, where it came from): the argument, else the environment variable."""
    if value is not None and value != "":
        return value, f"the {argument} argument"
    return env.get(name) or None, f"the environment variable {name}"


def _shape(value: str, prefix: str) -> str:
    """What is wrong with an identifier, never the value itself (it may be a secret
    given in the wrong place)."""
    what = [f"it has {len(value)} characters"]
    if not value.startswith(prefix):
        what.append(f"does not start with {prefix!r}")
    elif not _HEX32.match(value[2:]):
        what.append(f"is not {prefix!r} followed by hex digits only")
    text = ", ".join(what)
    if _HEX32.match(value):
        text += " (like an auth token or secret: are two values swapped?)"
    return text


def _check_id(value: str, source: str, pattern: re.Pattern, prefix: str, label: str) -> None:
    if not pattern.match(value):
        raise ConfigurationError(f"the {label} from {source} does not look like {prefix!r} + "
                                 f"32 hex digits: {_shape(value, prefix)}.\n{_HOW}")


def resolve_credentials(account_sid: str | None = None, auth_token: str | None = None, *,
                        api_key: str | None = None, api_secret: str | None = None,
                        env: Mapping[str, str] | None = None) -> Credentials:
    """Credentials from the arguments, else the environment, else a ConfigurationError.

    An API key pair given as arguments wins over an auth token from the environment;
    an auth token given as an argument wins over an API key from the environment.
    Errors say what is wrong and where the value came from, never the value.
    """
    env = os.environ if env is None else env
    sid, source = _pick(account_sid, env, "TWILIO_ACCOUNT_SID", "account_sid")
    if sid is None:
        raise ConfigurationError(f"no Twilio account SID was given.\n{_HOW}")
    _check_id(sid, source, _SID, "AC", "account SID")
    if auth_token or (api_key or api_secret):
        return _from_arguments(sid, auth_token, api_key, api_secret)
    key, secret = env.get("TWILIO_API_KEY") or None, env.get("TWILIO_API_SECRET") or None
    token = env.get("TWILIO_AUTH_TOKEN") or None
    if token:
        return Credentials(sid, sid, token)
    if key and secret:
        _check_id(key, "the environment variable TWILIO_API_KEY", _KEY, "SK", "API key")
        return Credentials(sid, key, secret)
    missing = "TWILIO_API_SECRET" if key else "TWILIO_API_KEY" if secret else "an auth token"
    raise ConfigurationError(f"no Twilio secret for {sid} ({missing} is missing).\n{_HOW}")


def _from_arguments(sid: str, token: str | None, key: str | None,
                    secret: str | None) -> Credentials:
    if key or secret:
        if not (key and secret):
            raise ConfigurationError(f"api_key and api_secret must be given together.\n{_HOW}")
        _check_id(key, "the api_key argument", _KEY, "SK", "API key")
        return Credentials(sid, key, secret)
    return Credentials(sid, sid, token)


@lru_cache(maxsize=64)
def is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1 or ``localhost``."""
    if host == "localhost":
        return True
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_base_url(base_url: str | None = None, *, env: Mapping[str, str] | None = None) -> str:
    """The API root: argument, else ``TWILIO_API_BASE``, else ``https://api.twilio.com``.

    Plain ``http://`` is refused unless the host is loopback (127.0.0.0/8, ::1,
    localhost), so credentials never cross a network unencrypted. Credentials inside
    the URL (``user:pass@``) are refused too. Errors name where the URL came from and
    quote it without its user-info, query or fragment.
    """
    env = os.environ if env is None else env
    source = "the base_url argument" if base_url else "the environment variable TWILIO_API_BASE"
    url = base_url or env.get("TWILIO_API_BASE") or DEFAULT_BASE_URL
    try:
        parts = urlsplit(url)
        parts.port                       # noqa: B018 (raises on a bad port)
    except ValueError:                   # its text may quote the URL: not repeated
        raise ConfigurationError(f"base URL from {source} is not a URL (bad host or port)") from None
    shown = _shown(parts)
    if parts.username or parts.password:
        raise ConfigurationError(f"base URL from {source} must not carry credentials "
                                 f"(user-info before '@'); pass them to tf.Client")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"base URL {shown!r} from {source} must be http(s)://host[:port]")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"base URL {shown!r} from {source} must not have a query or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigurationError(
            f"refusing plain http:// to {parts.hostname} (from {source}): credentials would "
            "travel unencrypted. Use https://, or http:// only to a loopback address "
            "(127.0.0.1, ::1, localhost).")
    return url.rstrip("/")


def _shown(parts) -> str:
    """A URL as safe to quote: scheme, host, port and path only."""
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else f"{host}{parts.path}"


def check_bounds(max_body_bytes, deadline) -> None:
    """``max_body_bytes`` a positive int, ``deadline`` a positive number of seconds."""
    if not (type(max_body_bytes) is int and max_body_bytes >= 1):
        raise ConfigurationError(f"max_body_bytes must be a positive integer (bytes), not "
                                 f"{max_body_bytes!r}")
    if not (isinstance(deadline, (int, float)) and not isinstance(deadline, bool)
            and deadline > 0):
        raise ConfigurationError(f"deadline must be a positive number of seconds, not {deadline!r}")


def check_limit(limit) -> int | None:
    """``limit`` as given: None or a non-negative int."""
    if limit is None or (isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0):
        return limit
    raise ConfigurationError(f"limit must be None or a non-negative integer, not {limit!r}")
