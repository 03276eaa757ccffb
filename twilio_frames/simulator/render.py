"""Bytes on the wire: list pages, single records and errors, in JSON and XML.

Shapes follow ``reference/twilio-wire-format.md``:

* JSON list: the records key first, then the paging keys ``end, first_page_uri,
  next_page_uri, page, page_size, previous_page_uri, start, uri`` (section 2.1).
* XML: ``<?xml version='1.0' encoding='UTF-8'?>`` then a newline and the whole document on
  one line (section 3.1); the list element carries the paging data as lower-case
  attributes, ``""`` where JSON has null (3.2); one PascalCase element per field, an empty
  self-closing element for null, nested objects as child elements, ``capabilities.sms`` as
  ``<SMS>`` (3.3); URIs without ``.json`` (3.3).
* Errors: JSON ``{"code", "message", "more_info", "status"}`` (4.1); XML
  ``<RestException>`` with ``Code, Message, MoreInfo, Status`` in that order (3.5).

Rendering is string building only (``orjson.dumps`` over dicts, ``str.join`` for XML);
there is no DOM, so a page renders several times faster than it parses. List pages and
fetched records are compact JSON (no blank after ``,`` and ``:``; whitespace between
tokens means nothing in JSON, RFC 8259 section 2, and clients must not rely on it), with
key order as built and non-ASCII text written as UTF-8. orjson is used because the
stdlib encoder takes longer to write a 1000-record page than clients take to read it.
Error bodies stay in the spaced ``json.dumps`` form of the real error bodies quoted in
section 4.1; they are a few dozen bytes.
"""

from __future__ import annotations

import json

import orjson

__all__ = ["XML_DECLARATION", "render_error", "render_list", "render_record", "pascal"]

XML_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"
_PAGING_KEYS = ("end", "first_page_uri", "next_page_uri", "page", "page_size",
                "previous_page_uri", "start", "uri")
# XML attribute order of the current docs example (DOCS-RESP), then start/end.
_XML_ATTRS = (("page", "page"), ("pagesize", "page_size"), ("uri", "uri"),
              ("firstpageuri", "first_page_uri"), ("previouspageuri", "previous_page_uri"),
              ("nextpageuri", "next_page_uri"), ("start", "start"), ("end", "end"))
# Element names that are not the plain PascalCase of the JSON key (section 3.3).
_NAME_EXCEPTIONS = {"sms": "SMS", "mms": "MMS", "sms_messages": "SMSMessages"}
# key -> (open tag, close tag, empty element, whether a string value is a URI)
_TAGS: dict[str, tuple[str, str, str, bool]] = {}
_ENCODER = json.JSONEncoder(check_circular=False, ensure_ascii=False)


def pascal(key: str) -> str:
    """XML element name of a JSON key: ``date_created`` -> ``DateCreated``, ``sms`` -> ``SMS``."""
    name = _NAME_EXCEPTIONS.get(key)
    if name is None:
        name = "".join(part[:1].upper() + part[1:] for part in key.split("_"))
    return name


def _tags(key: str) -> tuple[str, str, str, bool]:
    tags = _TAGS.get(key)
    if tags is None:
        name = pascal(key)
        is_uri = key == "uri" or key.endswith("_uri")
        tags = _TAGS[key] = (f"<{name}>", f"</{name}>", f"<{name}/>", is_uri)
    return tags


def escape(text: str) -> str:
    """Escape ``& < > "`` for XML text and attribute values (fast path: nothing to do)."""
    if "&" in text or "<" in text or ">" in text or '"' in text:
        text = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace('"', "&quot;"))
    return text


def _xml_uri(uri: str) -> str:
    return uri.replace(".json", "", 1)


def _xml_fields(record: dict, out: list[str], uris: bool = False) -> None:
    """Append the elements of ``record``; ``uris`` marks a map whose values are all URIs.

    Strings come first and are escaped inline: they are most of a page's values, and
    this loop is most of the cost of rendering an XML page.
    """
    append, tags = out.append, _TAGS
    for key, value in record.items():
        open_, close, empty, is_uri = tags.get(key) or _tags(key)
        if value.__class__ is str:
            if uris or is_uri:
                value = value.replace(".json", "", 1)
            if "&" in value or "<" in value or ">" in value or '"' in value:
                value = escape(value)
            append(open_ + value + close)
        elif value is None:
            append(empty)
        elif value.__class__ is bool:
            append(open_ + ("true" if value else "false") + close)
        elif isinstance(value, dict):
            append(open_)
            _xml_fields(value, out, uris=key.endswith("_uris"))
            append(close)
        elif isinstance(value, list):
            _xml_array(key, value, out)
        else:
            append(open_ + escape(str(value)) + close)


def _xml_array(key: str, values: list, out: list[str]) -> None:
    """A list of scalars: plural wrapper, singular children (``<Flags><Flag>``, 3.3)."""
    open_, close, empty, _ = _tags(key)
    if not values:
        out.append(empty)
        return
    child = key[:-1] if key.endswith("s") else key
    c_open, c_close = _tags(child)[:2]
    out.append(open_)
    for value in values:
        if isinstance(value, dict):
            out.append(c_open)
            _xml_fields(value, out)
            out.append(c_close)
        else:
            out.append(c_open + escape(_scalar(value)) + c_close)
    out.append(close)


def _scalar(value) -> str:
    if value is None:
        return ""
    if value.__class__ is bool:
        return "true" if value else "false"
    return str(value)


def _xml_uri_attr(value) -> str:
    return "" if value is None else escape(_xml_uri(str(value)))


def render_list(fmt: str, key: str, xml_list: str, xml_item: str, records: list[dict],
                envelope: dict) -> bytes:
    """One list page. ``envelope`` holds the eight paging keys (JSON names and values)."""
    if fmt == "json":
        doc = {key: records}
        for name in _PAGING_KEYS:
            doc[name] = envelope[name]
        return orjson.dumps(doc)
    attrs = " ".join(f'{attr}="{_xml_uri_attr(envelope[name])}"' for attr, name in _XML_ATTRS)
    out = [XML_DECLARATION, "<TwilioResponse><", xml_list, " ", attrs]
    if not records:
        out.append("/></TwilioResponse>")
        return "".join(out).encode("utf-8")
    out.append(">")
    item_open, item_close = f"<{xml_item}>", f"</{xml_item}>"
    for record in records:
        out.append(item_open)
        _xml_fields(record, out)
        out.append(item_close)
    out.append(f"</{xml_list}></TwilioResponse>")
    return "".join(out).encode("utf-8")


def render_record(fmt: str, xml_item: str, record: dict) -> bytes:
    """One resource (a fetch by sid)."""
    if fmt == "json":
        return orjson.dumps(record)
    out = [XML_DECLARATION, "<TwilioResponse><", xml_item, ">"]
    _xml_fields(record, out)
    out.append(f"</{xml_item}></TwilioResponse>")
    return "".join(out).encode("utf-8")


def more_info(code: int) -> str:
    return f"https://www.twilio.com/docs/errors/{code}"


def render_error(fmt: str, status: int, code: int, message: str) -> bytes:
    """A Twilio error body: JSON object or ``<TwilioResponse><RestException>``."""
    if fmt == "json":
        doc = {"code": code, "message": message, "more_info": more_info(code),
               "status": status}
        return _ENCODER.encode(doc).encode("utf-8")
    return (f"{XML_DECLARATION}<TwilioResponse><RestException><Code>{code}</Code>"
            f"<Message>{escape(message)}</Message><MoreInfo>{more_info(code)}</MoreInfo>"
            f"<Status>{status}</Status></RestException></TwilioResponse>").encode("utf-8")
