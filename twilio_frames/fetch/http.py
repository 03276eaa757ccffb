"""HTTP: one pooled ``requests.Session``, Basic auth, timeouts, a bounded retry policy.

The retry policy (DESIGN §6.6): GET only; connection errors (a dropped connection or a
truncated body included), 429, 500, 502, 503 and 504 are retried with exponential
backoff and full jitter, ``Retry-After`` honoured (seconds or an HTTP date), bounded by
attempts and by total time. 400, 401, 403 and 404 are never retried. Every request holds
a slot of the account's :class:`~twilio_frames.fetch.limiter.AdaptiveLimiter`, so the
number of requests in flight never exceeds ``max_in_flight`` whatever the number of
threads, and falls when the server answers 429 (slow start, then AIMD; a ``Retry-After``
pauses every request, jittered). A 429 that outlasts the retries ends in a
:class:`RateLimitError` saying how long it waited and why it stopped.

Proxies and CA bundles come from the environment as in any requests program
(``HTTPS_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``), except that loopback hosts are
always reached directly; ``.netrc`` never replaces the credentials given to the client.

``logging.getLogger("twilio_frames")`` at DEBUG shows each request: method, path and
query, status, seconds, attempt. URLs never carry credentials (Basic auth is a header).

Hostile servers are bounded (:mod:`twilio_frames.fetch.body`, ``.watchdog``): a body
may not decode to more than ``max_body_bytes`` (a ParseError), and each attempt has an
overall ``deadline`` enforced while the head and the body are read (a retryable
failure; the whole request stays within the retry policy's ``max_total`` plus one
deadline). Every error and log
line built from a server's words passes through a
:class:`~twilio_frames.fetch.redact.Redactor`, so an echoed Authorization header or
secret never reaches an exception text.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from .. import __version__
from .body import ACCEPT_ENCODING, DeadlineExceeded, read_body
from .failures import describe_failure
from .config import DEFAULT_DEADLINE, DEFAULT_MAX_BODY_BYTES, Credentials, is_loopback
from .limiter import PAUSE_JITTER, AdaptiveLimiter
from .redact import Redactor
from .watchdog import DeadlineAdapter, deadline as head_deadline
from ..errors import (APIError, AuthenticationError, NotFoundError, ParseError,
                     RateLimitError, TransportError)
from .xmlsafe import load_twilio_xml, snake_case

__all__ = ["RetryPolicy", "Response", "Transport", "api_error", "describe_failure",
           "parse_error_body", "retry_after_seconds"]

log = logging.getLogger("twilio_frames")

USER_AGENT = f"twilio-frames/{__version__} python-requests/{requests.__version__}"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_CONNECTION_ERRORS = (requests.ConnectionError, requests.Timeout,
                      requests.exceptions.ChunkedEncodingError,
                      requests.exceptions.ContentDecodingError,
                      # the body is read from urllib3 directly (fetch.body): a dropped
                      # or truncated body (a cut gzip stream included), a read timeout
                      urllib3.exceptions.HTTPError)


@dataclass
class RetryPolicy:
    """How failed GETs are retried.

    ``max_retries`` attempts after the first; backoff ``min(cap, base * 2**n) * random()``
    (full jitter); a ``Retry-After`` header overrides the backoff; ``max_total`` seconds
    bound the whole request including sleeps. ``sleep`` and ``random`` are injectable.
    """

    max_retries: int = 6
    base: float = 0.25
    cap: float = 20.0
    max_total: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random
    clock: Callable[[], float] = time.monotonic

    def backoff(self, retry: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based). A ``Retry-After``
        is waited plus up to a quarter of it at random, so that requests told the same
        second do not all come back in it."""
        if retry_after is not None:
            return max(0.0, retry_after) * (1 + PAUSE_JITTER * self.random())
        return min(self.cap, self.base * 2 ** (retry - 1)) * self.random()


@dataclass
class Response:
    """What a successful GET gave: the body and where it came from."""

    url: str
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    attempts: int = 1


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def api_error(status: int, body: bytes, url: str, *, attempts: int = 1,
              retry_after: float | None = None, redact: Callable[[str], str] | None = None,
              ) -> APIError:
    """Turn an error response into the right :class:`APIError` subclass; ``redact``
    scrubs the secrets a server may echo from the message and URLs."""
    fields = parse_error_body(body) or {}
    message = fields.get("message")
    if fields.get("detail"):
        message = f"{message}: {fields['detail']}" if message else fields["detail"]
    if not message:
        snippet = " ".join(body[:120].decode("utf-8", "replace").split())
        message = f"non-Twilio error body: {snippet!r}" if snippet else "empty error body"
    code = fields.get("code")
    more_info = fields.get("more_info")
    if redact is not None:
        message, more_info, url = redact(message), redact(more_info), redact(url)
    kw = dict(status=status, code=code, more_info=more_info, url=url, attempts=attempts)
    cls = _BY_STATUS.get(status) or _BY_CODE.get(code) or APIError
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=retry_after, **kw)
    return cls(message, **kw)


def parse_error_body(body: bytes | str) -> dict[str, Any] | None:
    """Twilio's JSON or XML error body -> ``{status, code, message, more_info, detail}``.

    Returns None when the body is not a Twilio error (an HTML page, empty, ...).
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return None
        return _error_fields(data) if isinstance(data, dict) else None
    if text.startswith("<"):
        try:
            root = load_twilio_xml(text, "RestException", strip=True)
        except ParseError:
            return None
        exc = root.get("RestException") if isinstance(root, dict) else None
        exc = exc[0] if isinstance(exc, list) and exc else exc
        return _error_fields({snake_case(k): v for k, v in exc.items()}) if isinstance(exc, dict) else None
    return None


def _error_fields(data: dict) -> dict[str, Any] | None:
    if "message" not in data and "code" not in data:
        return None
    out = {k: data.get(k) for k in ("status", "code", "message", "more_info", "detail")}
    for k in ("status", "code"):
        try:
            out[k] = int(out[k]) if out[k] not in (None, "") else None
        except (TypeError, ValueError, OverflowError):
            out[k] = None
    for k in ("message", "more_info", "detail"):
        if out[k] is not None and not isinstance(out[k], str):
            out[k] = None if isinstance(out[k], (dict, list)) else str(out[k])
    return out


_BY_STATUS = {401: AuthenticationError, 404: NotFoundError, 429: RateLimitError}
_BY_CODE = {20003: AuthenticationError, 20404: NotFoundError, 20429: RateLimitError}


class Transport:
    """GETs against one API root with one pooled session and one in-flight cap."""

    def __init__(self, credentials: Credentials, *, timeout: tuple[float, float] | float,
                 retry: RetryPolicy, max_in_flight: int,
                 session: requests.Session | None = None,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 deadline: float = DEFAULT_DEADLINE) -> None:
        self.timeout = timeout
        self.retry = retry
        self.max_body_bytes, self.deadline = max_body_bytes, deadline
        #: Scrubs this client's secrets from any text quoting a server.
        self.redact = Redactor(credentials.username, credentials.password)
        self.max_in_flight = max_in_flight
        #: Requests in flight, adapted to the account's 429s (fetch/limiter.py).
        self.limiter = AdaptiveLimiter(max_in_flight, policy=retry)
        self.session = session or self._new_session(credentials, max_in_flight)

    @staticmethod
    def _new_session(credentials: Credentials, pool: int) -> requests.Session:
        session = requests.Session()
        # trust_env stays on: HTTPS_PROXY / NO_PROXY and REQUESTS_CA_BUNDLE apply, as
        # users behind a corporate proxy need. ~/.netrc never does: requests reads it
        # only for a request without auth, and session.auth is always set.
        session.auth = (credentials.username, credentials.password)
        session.headers.update({"User-Agent": USER_AGENT, "Accept-Charset": "utf-8",
                                # what fetch.body decodes, each step bounded
                                "Accept-Encoding": ACCEPT_ENCODING})
        adapter = DeadlineAdapter(pool_connections=4, pool_maxsize=max(pool, 10), max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def close(self) -> None:
        self.session.close()

    def get(self, url: str) -> Response:
        """GET ``url`` with the retry policy; raise APIError / TransportError on failure."""
        policy, started, attempt, waited = self.retry, self.retry.clock(), 0, 0.0
        while True:
            attempt += 1
            result = self._attempt(url, attempt, paused=waited > 0)
            if isinstance(result, Response):
                return result
            if not result.retryable:
                raise self.redact.scrub(result.error)
            wait = policy.backoff(attempt, result.retry_after)
            if attempt > policy.max_retries or policy.clock() - started + wait > policy.max_total:
                raise self.redact.scrub(self._give_up(result, url, attempt,
                                                      policy.clock() - started, waited, wait))
            log.debug("retrying GET %s in %.3fs (attempt %d: %s)", self._path(url), wait,
                      attempt, result.last)
            policy.sleep(wait)
            waited += wait

    def _give_up(self, result: _Failure, url: str, attempts: int, elapsed: float,
                 waited: float, wait: float) -> Exception:
        """The final error; a 429 says how long it waited and why it stopped."""
        if not isinstance(result.error, RateLimitError):
            return result.give_up(url, attempts)
        policy, err = self.retry, result.error
        why = (f"max_retries={policy.max_retries} retries were used" if attempts > policy.max_retries
               else f"the next wait ({wait:.1f}s) would pass the {policy.max_total:.0f}s retry budget")
        message = (f"{err.message}; still refused after {elapsed:.1f}s, {waited:.1f}s of it "
                   f"waiting; stopped because {why} ({self.limiter.describe()})")
        return RateLimitError(message, retry_after=err.retry_after, status=err.status,
                              code=err.code, more_info=err.more_info, url=err.url,
                              attempts=attempts)

    def _attempt(self, url: str, attempt: int, *, paused: bool = False) -> Response | _Failure:
        t0 = time.perf_counter()
        ticket, outcome = self.limiter.acquire(paused=paused), {}
        try:
            deadline = time.monotonic() + self.deadline   # after the slot, as before
            with head_deadline(deadline):
                r = self.session.get(url, timeout=self.timeout, allow_redirects=False,
                                     stream=True, proxies=_proxies(url))
            body = self._read_body(r, url, deadline)
            outcome = _outcome(r)
        except (*_CONNECTION_ERRORS, DeadlineExceeded) as exc:
            late = isinstance(exc, DeadlineExceeded) or time.monotonic() >= deadline
            what = (f"no complete response within the {self.deadline:g} s deadline "
                    "(tf.Client(deadline=...))" if late else describe_failure(exc))
            log.debug("GET %s -> %s %.3fs attempt %d", self._path(url), what,
                      time.perf_counter() - t0, attempt)
            return _Failure(True, None, what)
        finally:
            self.limiter.release(ticket, **outcome)
        log.debug("GET %s -> %d %.3fs attempt %d", self._path(url), r.status_code,
                  time.perf_counter() - t0, attempt)
        if r.status_code == 200:
            return Response(url, 200, body, dict(r.headers), attempt)
        after = retry_after_seconds(r.headers.get("Retry-After"))
        error = api_error(r.status_code, body, url, attempts=attempt, retry_after=after,
                          redact=self.redact)
        return _Failure(r.status_code in RETRY_STATUSES, after, f"HTTP {r.status_code}", error)

    def _read_body(self, r: requests.Response, url: str, deadline: float) -> bytes:
        """The body, decoded, within ``max_body_bytes`` and the deadline
        (:func:`~twilio_frames.fetch.body.read_body`). Read to the end, the connection
        goes back to the pool; on failure it is dropped."""
        try:
            body = read_body(r.raw, url, max_bytes=self.max_body_bytes, deadline=deadline)
        except BaseException:
            r.close()
            raise
        r.raw.release_conn()
        return body

    def _path(self, url: str) -> str:
        """``url``'s path and query for a log line, secrets a server echoed removed."""
        return self.redact(_path(url))


def _outcome(r: requests.Response) -> dict[str, Any]:
    """What the limiter learns from a response: ok, 429, the server's concurrency count
    (``Twilio-Concurrent-Requests``) and ``Retry-After``."""
    try:
        concurrent = int(r.headers.get("Twilio-Concurrent-Requests", ""))
    except ValueError:
        concurrent = None
    after = retry_after_seconds(r.headers.get("Retry-After")) if r.status_code != 200 else None
    return {"ok": r.status_code == 200, "limited": r.status_code == 429,
            "concurrent": concurrent, "retry_after": after}


#: Per-request proxies for loopback URLs: None removes the environment's proxy for
#: the scheme and for "all" (requests drops None entries after merging the environment).
_DIRECT = {"http": None, "https": None, "all": None}


def _proxies(url: str) -> dict | None:
    """No proxy to a loopback host (the simulator, a local tunnel), whatever
    ``HTTP_PROXY``/``ALL_PROXY`` say; otherwise the environment decides."""
    return dict(_DIRECT) if is_loopback(urlsplit(url).hostname) else None


@dataclass
class _Failure:
    """One failed attempt: retryable or not, the server's Retry-After, what happened."""

    retryable: bool
    retry_after: float | None
    last: str
    error: APIError | None = None

    def give_up(self, url: str, attempts: int) -> Exception:
        if self.error is not None:   # the last status, with how many attempts were made
            return self.error
        return TransportError(f"GET {url} failed after {attempts} attempts; last: {self.last}",
                              url=url, attempts=attempts, last_error=self.last)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
