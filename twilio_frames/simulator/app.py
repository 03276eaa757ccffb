"""The simulator's WSGI application: routing, auth, paging, filters and faults.

Paths (``{ext}`` is ``.json``, ``.xml`` or nothing; nothing and ``.xml`` answer XML)::

    /2010-04-01/Accounts{ext}                              list (master: itself + subaccounts)
    /2010-04-01/Accounts/{AccountSid}{ext}                 fetch
    /2010-04-01/Accounts/{AccountSid}/Calls{ext}           list; /Calls/{CallSid}{ext} fetch
    .../Calls/{CallSid}/Recordings{ext}                    the call's recordings
    .../Messages{ext}, .../Recordings{ext}                 list; /{Sid}{ext} fetch
    .../IncomingPhoneNumbers{ext}                          list; /Local, /TollFree, /Mobile; /{Sid}
    .../Usage/Records{ext}                                 and /Daily, /Monthly, /Yearly, /AllTime,
                                                           /Today, /Yesterday, /ThisMonth, /LastMonth

Auth is HTTP Basic with an account sid + auth token or an API key sid + secret (the key acts
for its account). Wrong or missing credentials: 401 / 20003. A path account that exists but
that the credentials may not read (a parent, a sibling subaccount): 401 / 20003, as Twilio's
20003 page lists "subaccount credentials used on the parent" under that code. An account sid
that does not exist, or the data of a closed subaccount once deleted (:mod:`.closing`):
404 / 20404. Only GET is served; anything else is 405 / 20004.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import numpy as np

from .fragments import RecordFragments
from . import closing, render
from .faults import Decision, FaultInjector, Faults
from .query import (BadRequest, active_filters, check_retention, page_envelope, parse_bool,
                    parse_paging, parse_usage_date, select_rows)

__all__ = ["SimulatorApp", "TRANSPORT_FAULT"]

#: environ key the app sets to ``"truncate"`` or ``"drop"``; the loopback server obeys it.
TRANSPORT_FAULT = "twilio_frames.transport_fault"
API = "/2010-04-01"
# resource -> (JSON list key, XML list element, XML item element, sid prefix)
NAMES = {
    "calls": ("calls", "Calls", "Call"),
    "messages": ("messages", "Messages", "Message"),
    "recordings": ("recordings", "Recordings", "Recording"),
    "incoming_phone_numbers": ("incoming_phone_numbers", "IncomingPhoneNumbers",
                               "IncomingPhoneNumber"),
    "usage_records": ("usage_records", "UsageRecords", "UsageRecord"),
    "accounts": ("accounts", "Accounts", "Account"),
}
SEGMENTS = {"Calls": "calls", "Messages": "messages", "Recordings": "recordings",
            "IncomingPhoneNumbers": "incoming_phone_numbers"}
USAGE_SEGMENTS = {"Daily": "daily", "Monthly": "monthly", "Yearly": "yearly",
                  "AllTime": "all_time", "Today": "today", "Yesterday": "yesterday",
                  "ThisMonth": "this_month", "LastMonth": "last_month"}
NUMBER_TYPES = {"Local": "local", "TollFree": "tollfree", "Mobile": "mobile"}
# Field order of the spec's api.v2010.account.call.call_recording schema.
CALL_RECORDING_FIELDS = ("account_sid", "api_version", "call_sid", "conference_sid",
                         "date_created", "date_updated", "start_time", "duration", "sid",
                         "price", "uri", "encryption_details", "price_unit", "status",
                         "channels", "source", "error_code", "track")
CONTENT_TYPES = {"json": "application/json", "xml": "application/xml"}


@dataclass
class Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Request:
    path: str          # without extension
    fmt: str           # "json" or "xml"
    ext: str           # ".json", ".xml" or ""
    params: dict[str, str]
    account: str       # the authenticated account sid


def _split_ext(path: str) -> tuple[str, str, str]:
    for ext, fmt in ((".json", "json"), (".xml", "xml")):
        if path.endswith(ext):
            return path[: -len(ext)], fmt, ext
    return path, "xml", ""


def _status_line(status: int) -> str:
    from http import HTTPStatus
    return f"{status} {HTTPStatus(status).phrase}"


class SimulatorApp:
    """WSGI callable serving ``dataset`` (a contract ``Dataset``) as the Twilio 2010 API.

    ``cache_bytes`` bounds an LRU cache of rendered 200 bodies (the data never changes, so
    a repeated request is answered from it); 0 turns it off. ``record_bytes`` bounds the
    JSON of list records kept once rendered (:mod:`.fragments`); 0 turns it off.
    """

    def __init__(self, dataset, *, faults: Faults | None = None,
                 cache_bytes: int = 64 * 2**20, record_bytes: int = 256 * 2**20) -> None:
        self.dataset = dataset
        self._fragments = RecordFragments(record_bytes)
        self.injector = FaultInjector(faults)
        self.errors: list[str] = []          # tracebacks of unexpected errors (never secrets)
        self._cache: OrderedDict = OrderedDict()
        self._cache_bytes, self._cache_limit = 0, cache_bytes
        self._cache_lock = threading.Lock()
        self._type_cache: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ WSGI
    def __call__(self, environ, start_response):
        decision = self.injector.enter()
        started = time.perf_counter()
        outcome: int | str = "drop"
        try:
            if decision.latency:
                time.sleep(decision.latency)
            response = self._answer(environ, decision)
            if decision.fault in ("truncate", "drop"):
                environ[TRANSPORT_FAULT] = decision.fault
            outcome = "drop" if decision.fault == "drop" else response.status
            headers = self._headers(response, environ, decision)
            headers.append(("Twilio-Request-Duration", f"{time.perf_counter() - started:.3f}"))
            start_response(_status_line(response.status), headers)
            return [response.body]
        finally:
            self.injector.leave(outcome)

    def _headers(self, response: Response, environ, decision: Decision) -> list:
        fmt = _split_ext(environ.get("PATH_INFO", ""))[1]
        request_id = hashlib.blake2b(f"{self.injector.faults.seed}:{decision.number}".encode(),
                                     digest_size=16).hexdigest()
        return [("Content-Type", CONTENT_TYPES[fmt]),
                ("Content-Length", str(len(response.body))),
                ("Twilio-Concurrent-Requests", str(decision.in_flight)),
                ("Twilio-Request-Id", "RQ" + request_id), *response.headers]

    def _answer(self, environ, decision: Decision) -> Response:
        fmt = _split_ext(environ.get("PATH_INFO", ""))[1]
        if decision.fault in ("429", "429-concurrency", "500", "503"):
            return self._fault_response(fmt, decision)
        try:
            return self._respond(environ)
        except BadRequest as exc:
            return _error(fmt, exc.status, exc.code, exc.message)
        except Exception:  # never a stack trace on the wire
            self.errors.append(traceback.format_exc(limit=8))
            return _error(fmt, 500, 20500, "Internal Server Error")

    def _fault_response(self, fmt: str, decision: Decision) -> Response:
        status = int(decision.fault[:3])
        code, message = {429: (20429, "Too Many Requests"),
                         500: (20500, "Internal Server Error"),
                         503: (20503, "Service Unavailable")}[status]
        response = _error(fmt, status, code, message)
        if decision.retry_after is not None and status in (429, 503):
            response.headers.append(("Retry-After", str(decision.retry_after)))
        return response

    # ------------------------------------------------------------------ request
    def _respond(self, environ) -> Response:
        raw_path = environ.get("PATH_INFO", "")
        path, fmt, ext = _split_ext(raw_path)
        if environ.get("REQUEST_METHOD", "GET") != "GET":
            response = _error(fmt, 405, 20004, "Method not allowed")
            response.headers.append(("Allow", "GET"))
            return response
        account = self._authenticate(environ.get("HTTP_AUTHORIZATION", ""))
        if account is None:
            response = _error(fmt, 401, 20003, "Authenticate")
            response.headers.append(("WWW-Authenticate", 'Basic realm="Twilio API"'))
            return response
        query = environ.get("QUERY_STRING", "")
        key = (account, raw_path, query)
        cached = self._cache_get(key)
        if cached is not None:
            return Response(200, cached)
        params = dict(parse_qsl(query, keep_blank_values=True))
        request = Request(path, fmt, ext, params, account)
        body = self._route(request, raw_path)
        self._cache_put(key, body)
        return Response(200, body)

    def _authenticate(self, header: str) -> str | None:
        if header[:6].lower() != "basic ":
            return None
        try:
            user, _, password = base64.b64decode(header[6:].strip(), validate=True) \
                .decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        ds = self.dataset
        if user.startswith("SK"):
            secret, account = ds.api_keys.get(user, (None, None))
        else:
            secret, account = ds.auth_tokens.get(user), user
        if secret is None or not hmac.compare_digest(secret.encode(), password.encode()):
            return None
        return None if closing.refuses_login(ds, account) else account

    def _target(self, request: Request, sid: str, raw_path: str) -> str:
        """The path's account sid, checked against what the credentials may read."""
        ds = self.dataset
        if sid not in ds.auth_tokens:
            raise _not_found(raw_path)
        if sid != request.account and ds.parent_of(sid) != request.account:
            raise BadRequest(401, 20003, "Authenticate")
        return sid

    def _route(self, request: Request, raw_path: str) -> bytes:
        parts = request.path.split("/")
        if parts[:3] != ["", "2010-04-01", "Accounts"] or "" in parts[1:]:
            raise _not_found(raw_path)
        rest = parts[3:]
        if not rest:
            return self._accounts(request)
        account = self._target(request, rest[0], raw_path)
        if len(rest) > 1 and closing.deleted(self.dataset, account):
            raise _not_found(raw_path)          # a closed subaccount's data, deleted
        if len(rest) == 1:
            record = next(a for a in self.dataset.accounts if a["sid"] == account)
            return render.render_record(request.fmt, "Account", record)
        return self._account_route(request, account, rest[1:], raw_path)

    def _account_route(self, request: Request, account: str, rest: list[str],
                       raw_path: str) -> bytes:
        head, n = rest[0], len(rest)
        if head == "Usage" and n in (2, 3) and rest[1] == "Records":
            sub = USAGE_SEGMENTS.get(rest[2]) if n == 3 else None
            if n == 3 and sub is None:
                raise _not_found(raw_path)
            return self._usage(request, account, sub)
        resource = SEGMENTS.get(head)
        if resource is None or n > 4:
            raise _not_found(raw_path)
        table = self.dataset.table(resource, account)
        if n == 1:
            check_retention(resource, request.params, self.dataset.now)
            return self._list(request, resource, table)
        if resource == "incoming_phone_numbers" and n == 2 and rest[1] in NUMBER_TYPES:
            return self._list(request, resource, table, self._type_mask(table, rest[1]))
        if resource == "calls" and n >= 3 and rest[2] == "Recordings":
            self._find(table, rest[1], raw_path)
            return self._call_recordings(request, account, rest[1], rest[3:], raw_path)
        if n != 2:
            raise _not_found(raw_path)
        return render.render_record(request.fmt, NAMES[resource][2],
                                    self._find(table, rest[1], raw_path))

    # ------------------------------------------------------------------ lists
    def _list(self, request: Request, resource: str, table, mask=None,
              forced: list | None = None, project=None, path: str | None = None) -> bytes:
        filters = active_filters(resource, request.params)
        paging = parse_paging(request.params)
        rows = select_rows(table, [*(forced or []), *filters])
        if mask is not None:
            keep = np.zeros(len(table), dtype=bool)
            keep[rows] = True
            rows = np.flatnonzero(keep & mask)
        total = len(range(*rows.indices(len(table)))) if isinstance(rows, slice) else len(rows)
        stop = min(paging.offset + paging.page_size, total)
        if isinstance(rows, slice):
            chosen = slice(min(paging.offset, total), stop)
        else:
            chosen = rows[paging.offset:stop]
        if stop <= paging.offset:
            records = []
        elif request.fmt == "json" and project is None and self._fragments.limit:
            records = table.records_as(chosen, self._fragments)   # JSON rendered once a record
        else:
            records = table.records(chosen)
        if project is not None:
            records = [project(r) for r in records]
        return self._page(request, resource, records, paging, total, filters, path)

    def _page(self, request: Request, resource: str, records: list[dict], paging, total: int,
              filters: list, path: str | None = None) -> bytes:
        uri_path = (path or request.path) + (".json" if request.fmt == "json" else "")
        pairs = [(f[0], f[3]) for f in filters]
        envelope = page_envelope(uri_path, pairs, paging, len(records), total)
        key, xml_list, xml_item = NAMES[resource]
        return render.render_list(request.fmt, key, xml_list, xml_item, records, envelope)

    def _dict_list(self, request: Request, resource: str, records: list[dict]) -> bytes:
        filters = active_filters(resource, request.params)
        paging = parse_paging(request.params)
        if resource == "accounts":
            for param, _, column, value in filters:
                records = [r for r in records if r.get(column) == value]
        chosen = records[paging.offset:paging.offset + paging.page_size]
        return self._page(request, resource, chosen, paging, len(records), filters)

    def _accounts(self, request: Request) -> bytes:
        ds, me = self.dataset, request.account
        visible = [a for a in ds.accounts if a["sid"] == me or ds.parent_of(a["sid"]) == me]
        return self._dict_list(request, "accounts", visible)

    def _usage(self, request: Request, account: str, sub: str | None) -> bytes:
        params, today = request.params, self.dataset.now.date()
        options = {"category": params.get("Category") or None}
        for param, name in (("StartDate", "start_date"), ("EndDate", "end_date")):
            if params.get(param):
                options[name] = parse_usage_date(params[param], param, today)
        if params.get("IncludeSubaccounts"):
            options["include_subaccounts"] = parse_bool(params["IncludeSubaccounts"],
                                                        "IncludeSubaccounts")
        parse_paging(params)
        records = self.dataset.usage_records(account, sub, **options)
        return self._dict_list(request, "usage_records", records)

    def _call_recordings(self, request: Request, account: str, call_sid: str,
                         rest: list[str], raw_path: str) -> bytes:
        table = self.dataset.table("recordings", account)
        base = f"{API}/Accounts/{account}/Calls/{call_sid}/Recordings"

        def project(record: dict) -> dict:
            out = {name: record.get(name) for name in CALL_RECORDING_FIELDS}
            out["uri"] = f"{base}/{record['sid']}.json"
            return out

        if rest:
            record = self._find(table, rest[0], raw_path)
            if record["call_sid"] != call_sid:
                raise _not_found(raw_path)
            return render.render_record(request.fmt, "Recording", project(record))
        params = {k: v for k, v in request.params.items() if k.startswith("DateCreated")}
        params.update({k: request.params[k] for k in ("PageSize", "Page", "PageToken")
                       if k in request.params})
        sub_request = Request(request.path, request.fmt, request.ext, params, request.account)
        forced = [("CallSid", "eq", "call_sid", call_sid)]
        return self._list(sub_request, "recordings", table, forced=forced, project=project)

    def _type_mask(self, table, segment: str) -> np.ndarray:
        types = self._type_cache.get(table.account_sid)
        if types is None or len(types) != len(table):
            records = table.records(slice(0, len(table)))
            types = np.array([str(r.get("type") or "").lower().replace("-", "")
                              .replace("_", "") for r in records], dtype=object)
            self._type_cache[table.account_sid] = types
        return types == NUMBER_TYPES[segment]

    def _find(self, table, sid: str, raw_path: str) -> dict:
        rows = np.flatnonzero(table.sid == sid)
        if len(rows) == 0:
            raise _not_found(raw_path)
        return table.records(rows[:1])[0]

    # ------------------------------------------------------------------ cache
    def _cache_get(self, key) -> bytes | None:
        with self._cache_lock:
            body = self._cache.get(key)
            if body is not None:
                self._cache.move_to_end(key)
            return body

    def _cache_put(self, key, body: bytes) -> None:
        if len(body) > self._cache_limit:
            return
        with self._cache_lock:
            if key in self._cache:
                return
            self._cache[key] = body
            self._cache_bytes += len(body)
            while self._cache_bytes > self._cache_limit:
                _, old = self._cache.popitem(last=False)
                self._cache_bytes -= len(old)


def _error(fmt: str, status: int, code: int, message: str) -> Response:
    return Response(status, render.render_error(fmt, status, code, message))


def _not_found(raw_path: str) -> BadRequest:
    return BadRequest(404, 20404, f"The requested resource {raw_path} was not found")
