"""JSON and XML list pages -> the same records.

A parser takes bytes (or text) and never sees a URL or HTTP: the layer that knows the URL
(:mod:`twilio_frames.fetch.paging`) adds it to a :class:`~twilio_frames.errors.ParseError`.

XML facts used here (reference ``twilio-wire-format.md`` §3): the root is
``<TwilioResponse>``; a list is a plural PascalCase element whose paging data are
attributes (``nextpageuri=""`` where JSON has ``null``; legacy ``numpages``/``total``/
``lastpageuri``); items are singular PascalCase elements; every value is element text, an
empty element is null; ``capabilities`` children are ``<Voice>``, ``<SMS>``, ``<MMS>``;
arrays of scalars are ``<Flags><Flag>..</Flag></Flags>``. Because XML values are all text,
:data:`WIRE_TYPES` carries the JSON types (reference §6, generated from the OpenAPI spec)
so that XML records equal JSON records. Text is stripped (indented documents put
whitespace inside elements) except in the free-text fields of :data:`VERBATIM_TEXT`
(a message body keeps its leading spaces or trailing newline, as in JSON).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..errors import ConfigurationError, ParseError
from ..resources import get_resource
from .parse_arrow import read_columns
from .xmlsafe import fields, load_twilio_xml, snake_case, snippet

__all__ = ["Page", "parse_page", "WIRE_TYPES", "snake_case"]

#: Non-string JSON types of record fields, per resource (reference §6 / OpenAPI schemas
#: ``api.v2010.account.*``). Everything not listed is a string (prices included: the
#: wire sends decimal strings even where OAI says ``number``, reference §7).
#: Dotted names are fields of a nested object.
WIRE_TYPES: dict[str, dict[str, str]] = {
    "calls": {},
    "messages": {"error_code": "int"},
    "recordings": {"channels": "int", "error_code": "int"},
    "usage_records": {},
    "accounts": {},
    "incoming_phone_numbers": {
        "beta": "bool", "voice_caller_id_lookup": "bool",
        "capabilities.voice": "bool", "capabilities.sms": "bool",
        "capabilities.mms": "bool", "capabilities.fax": "bool",
    },
}

#: Free-text fields whose XML text is kept exactly as sent (JSON keeps a message body's
#: leading spaces or trailing newline, so XML must too). Every other field is stripped:
#: whitespace never belongs in a sid, date, number, enum or URI, and an indented
#: document puts it there (reference §3: "strip text values").
VERBATIM_TEXT: dict[str, frozenset[str]] = {
    "messages": frozenset({"body"}),
    "accounts": frozenset({"friendly_name"}),
    "incoming_phone_numbers": frozenset({"friendly_name"}),
}

#: Envelope keys every SDK treats as "meta" (twilio-python ``page.py`` ``META_KEYS``).
META_KEYS = ("first_page_uri", "next_page_uri", "previous_page_uri", "uri", "page",
             "page_size", "start", "end", "num_pages", "total", "last_page_uri")
_INT_META = frozenset({"page", "page_size", "start", "end", "num_pages", "total"})
#: XML list attributes -> JSON envelope keys (reference §3.2).
XML_ATTRIBUTES = {k.replace("_", ""): k for k in META_KEYS}


@dataclass
class Page:
    """One parsed list page: the records and the envelope around them.

    ``records`` are dicts with the JSON field names and JSON-equivalent values.
    ``next_page_uri`` is None on the last page (JSON ``null``, XML ``""`` or missing).
    Legacy keys (``num_pages``, ``total``, ``last_page_uri``) are None when absent.
    """

    records: list[dict[str, Any]]
    next_page_uri: str | None = None
    previous_page_uri: str | None = None
    first_page_uri: str | None = None
    uri: str | None = None
    page: int | None = None
    page_size: int | None = None
    start: int | None = None
    end: int | None = None
    num_pages: int | None = None
    total: int | None = None
    last_page_uri: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Where the page was fetched from: set by the fetching layer
    #: (:func:`twilio_frames.fetch.paging.fetch_page`), None from :func:`parse_page`.
    url: str | None = None


def parse_page(body: bytes | str, format: str, resource: str) -> Page:
    """Parse one list page of ``resource`` in ``format`` ("json" or "xml").

    Parameters
    ----------
    body : bytes or str
        The response body.
    format : {"json", "xml"}
    resource : str
        A resource name such as ``"calls"`` (see ``tf.RESOURCES``).

    Returns
    -------
    Page

    Raises
    ------
    ParseError
        The body is not a list page of that resource; the message says what was wrong.
    ConfigurationError
        ``format`` is not one of "json", "xml".

    Examples
    --------
    >>> page = parse_page(b'{"calls": [], "next_page_uri": null, "page": 0}', "json", "calls")
    >>> page.records, page.next_page_uri
    ([], None)
    """
    parser = _PARSERS.get(format) if isinstance(format, str) else None
    if parser is None:
        accepted = ", ".join(repr(f) for f in _PARSERS)
        raise ConfigurationError(f"format must be one of {accepted}, not {format!r}")
    return parser(body, resource)


# ---------------------------------------------------------------- JSON

def _load_json(body: bytes | str) -> Any:
    """orjson (about 1.5x ``json`` on 2 MB pages of 1000 calls); anything it refuses
    (UTF-16 bodies, NaN literals, integers past 64 bits) goes to ``json``, which then
    decides, so what is accepted and the error messages stay those of ``json``."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"body is not JSON ({exc}); starts {snippet(body)!r}") from None
    except RecursionError:
        raise ParseError("JSON body is nested too deeply to be a list page; starts "
                         f"{snippet(body)!r}") from None


def _parse_json_page(body: bytes | str, resource: str) -> Page:
    data = _load_json(body)
    if not isinstance(data, dict):
        raise ParseError(f"JSON body is a {type(data).__name__}, not a list page object")
    key = get_resource(resource).json_key
    records = data.get(key)
    if records is None:
        raise ParseError(f"JSON page has no {key!r} list (keys: {sorted(data)[:12]})")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ParseError(f"JSON page {key!r} is not a list of objects")
    extra = {k: v for k, v in data.items() if k != key and k not in META_KEYS}
    return Page(records, **_envelope({k: data.get(k) for k in META_KEYS}), extra=extra)


def _envelope(meta: dict[str, Any]) -> dict[str, Any]:
    """The paging keys checked: counts are integers, URIs strings ("" is None)."""
    for k in _INT_META:
        meta[k] = _as_int(meta[k], k)
    for k in ("next_page_uri", "previous_page_uri", "first_page_uri", "last_page_uri", "uri"):
        if meta[k] is not None and not isinstance(meta[k], str):
            raise ParseError(f"envelope {k} is a {type(meta[k]).__name__}, not a string")
        meta[k] = meta[k] or None
    return meta


def parse_page_columns(body: bytes | str, format: str, resource: str) -> Page:
    """:func:`parse_page`, with the records of a JSON page of calls, messages or
    recordings as :class:`~twilio_frames.fetch.parse_arrow.ArrowRecords` when Arrow's
    reader can take the body exactly (:mod:`~twilio_frames.fetch.parse_arrow`); the
    frame built from them is the one the dicts give. For the fetching layer, which
    builds frames: :func:`parse_page` stays the public, dict-record parser."""
    if format == "json":
        read = read_columns(body, resource)
        if read is not None:
            records, meta = read
            return Page(records, **_envelope(meta))
    return parse_page(body, format, resource)


def _as_int(value: Any, name: str) -> int | None:
    """An envelope count: an integer, or its decimal text; ``1e400`` (inf), ``2.5``,
    ``true`` or an object are refused."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        if isinstance(value, (bool, float)):
            raise TypeError
        return int(value)
    except (TypeError, ValueError, OverflowError):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "..."
        raise ParseError(f"envelope {name}={shown} is not an integer") from None


# ---------------------------------------------------------------- XML

def _parse_xml_page(body: bytes | str, resource: str) -> Page:
    res = get_resource(resource)
    root = load_twilio_xml(body, res.xml_item)
    if "RestException" in root:
        raise ParseError("XML body is a <RestException> error, not a page")
    if res.xml_list not in root:
        raise ParseError(f"XML page has no <{res.xml_list}> list (found: {sorted(root)[:8]})")
    lst = _blank_to_none(root[res.xml_list]) or {}
    if not isinstance(lst, dict):
        raise ParseError(f"<{res.xml_list}> holds text, not <{res.xml_item}> elements")
    meta, extra = _xml_envelope(lst)
    items = lst.get(res.xml_item) or []
    convert = _record_converter(resource)
    records = [convert(item) for item in items]
    return Page(records, **meta, extra=extra)


def _xml_envelope(lst: dict) -> tuple[dict, dict]:
    meta: dict[str, Any] = dict.fromkeys(META_KEYS)
    extra: dict[str, Any] = {}
    for key, value in lst.items():
        if key[:1] != "@":
            continue
        name = XML_ATTRIBUTES.get(key[1:].lower())
        value = (value.strip() or None) if isinstance(value, str) else value
        if name is None:
            extra[key[1:]] = value
        else:
            meta[name] = _as_int(value, name) if name in _INT_META else value
    return meta, extra


#: Levels of elements a record field may nest (Twilio's nest two: subresource_uris,
#: capabilities); deeper is a hostile body, refused before Python's recursion limit.
MAX_XML_DEPTH = 32


def _nested(tag: str, value: Any, depth: int = 1) -> Any:
    """A nested element: an object, or an array of scalars (``<Flags><Flag>``)."""
    if not isinstance(value, dict):
        return _text(value)
    if depth > MAX_XML_DEPTH:
        raise ParseError(f"XML field <{tag[:40]}> is nested too deeply "
                         f"(more than {MAX_XML_DEPTH} levels)")
    keys = [k for k, _ in fields(value)]
    if len(keys) == 1 and tag in (keys[0] + "s", keys[0] + "es"):
        inner = value[keys[0]]
        return [_text(v) for v in inner] if isinstance(inner, list) else [_text(inner)]
    return {snake_case(k): _nested(k, v, depth + 1) for k, v in fields(value)}


def _text(value: Any) -> Any:
    """Element text with surrounding whitespace dropped; nothing left is null."""
    return (value.strip() or None) if type(value) is str else value


_TRUE = {"true": True, "false": False, "True": True, "False": False}


def _blank_to_none(value: Any) -> Any:
    """Whitespace-only text of an element that should hold elements: nothing."""
    return None if isinstance(value, str) and not value.strip() else value


def _coerce(value: Any, kind: str, field: str, rec: dict) -> Any:
    if value is None or not isinstance(value, str):
        return value
    try:
        return int(value) if kind == "int" else _TRUE[value]
    except (KeyError, ValueError):
        what = "an integer" if kind == "int" else "a boolean (true or false)"
        raise ParseError(f"XML field {field!r}: {value[:40]!r} is not {what} "
                         f"(record sid {str(rec.get('sid'))[:40]!r})") from None


def _record_converter(resource: str):
    """A function turning one xmltodict item into a JSON-equivalent record."""
    flat = [(k, t) for k, t in WIRE_TYPES[resource].items() if "." not in k]
    dotted = [(*k.split(".", 1), t) for k, t in WIRE_TYPES[resource].items() if "." in k]
    verbatim = VERBATIM_TEXT.get(resource, frozenset())
    plans: dict[str, tuple] = {}     # element -> (field, attribute?, #text?, strip?)

    def convert(item: Any) -> dict:
        item = _blank_to_none(item)
        if not isinstance(item, dict):
            return {} if item is None else _bad_item(item)
        rec = {}
        for key, value in item.items():
            plan = plans.get(key)
            if plan is None:
                name = snake_case(key)
                plan = plans[key] = (name, key[:1] == "@", key == "#text", name not in verbatim)
            name, attribute, text, strip = plan
            if attribute or (text and not value.strip()):   # see xmlsafe.fields
                continue
            kind = type(value)
            if kind is str:
                if strip:
                    value = value.strip() or None
            elif kind is dict:
                value = _nested(key, value)
            rec[name] = value
        for name, kind in flat:
            if name in rec:
                rec[name] = _coerce(rec[name], kind, name, rec)
        for outer, inner, kind in dotted:
            sub = rec.get(outer)
            if isinstance(sub, dict) and inner in sub:
                sub[inner] = _coerce(sub[inner], kind, f"{outer}.{inner}", rec)
        return rec

    return convert


def _bad_item(item: Any) -> dict:
    raise ParseError(f"XML item holds text {str(item)[:40]!r}, not field elements")


_PARSERS = {"json": _parse_json_page, "xml": _parse_xml_page}
