"""Hardened XML reading shared by the page parser and the HTTP error mapping.

Both :mod:`twilio_frames.fetch.parse` (list pages) and :mod:`twilio_frames.fetch.http` (error bodies)
read Twilio XML; this module holds what they share so that neither imports the other
(DESIGN §2: imports flow http -> parse -> paging -> frames -> client). Nothing here
knows a resource, a URL or HTTP.

The root of every Twilio XML body is ``<TwilioResponse>`` (reference
``twilio-wire-format.md`` §3). Element names are PascalCase versions of the JSON keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any
from xml.parsers import expat as _pyexpat

import xmltodict
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from ..errors import ParseError

__all__ = ["HardenedExpat", "load_twilio_xml", "fields", "snake_case", "snippet"]


def _refuse_doctype(name, sysid, pubid, has_internal_subset):
    raise DTDForbidden(name, sysid, pubid)


def _refuse_entity(name, is_parameter, value, base, sysid, pubid, notation):
    raise EntitiesForbidden(name, value, base, sysid, pubid, notation)


def _refuse_unparsed(name, base, sysid, pubid, notation):
    raise EntitiesForbidden(name, None, base, sysid, pubid, notation)


def _refuse_external(context, base, sysid, pubid):
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


class HardenedExpat:
    """An ``expat`` stand-in for xmltodict: parsers refuse DTDs and every entity.

    Twilio bodies never carry a DOCTYPE, so refusing it outright (as defusedxml does
    with ``forbid_dtd=True``) stops entity-expansion bombs before any expansion starts.
    """

    ExpatError = _pyexpat.ExpatError

    @staticmethod
    def ParserCreate(encoding=None, namespace_separator=None):  # noqa: N802 (expat API)
        parser = _pyexpat.ParserCreate(encoding, namespace_separator)
        parser.StartDoctypeDeclHandler = _refuse_doctype
        parser.EntityDeclHandler = _refuse_entity
        parser.UnparsedEntityDeclHandler = _refuse_unparsed
        parser.ExternalEntityRefHandler = _refuse_external
        return parser


def load_twilio_xml(body: bytes | str, item: str, *, strip: bool = False) -> dict:
    """The children of ``<TwilioResponse>`` as a dict (xmltodict's shape, ``item``
    elements always a list), or :class:`ParseError` for a refused, malformed or
    foreign body.

    With ``strip=False`` element text is kept as sent (a message body may start or end
    with spaces or a newline, and JSON keeps them); whitespace between the elements of
    an indented document then comes back as ``#text`` and is skipped by :func:`fields`.
    """
    try:
        doc = xmltodict.parse(body, expat=HardenedExpat, force_list=(item,),
                              strip_whitespace=strip)
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise ParseError(f"XML body refused: {exc}") from None
    except (_pyexpat.ExpatError, ValueError) as exc:
        raise ParseError(f"body is not well-formed XML ({exc}); starts {snippet(body)!r}") from None
    if not isinstance(doc, dict) or "TwilioResponse" not in doc:
        raise ParseError(f"XML root is not <TwilioResponse>; starts {snippet(body)!r}")
    root = doc["TwilioResponse"]
    return dict(fields(root)) if isinstance(root, dict) else {}


def fields(element: dict) -> Iterator[tuple[str, Any]]:
    """(name, value) of an element's children: attributes (``@``) and whitespace-only
    text between child elements (``#text`` of an indented document) left out."""
    for key, value in element.items():
        first = key[:1]
        if first == "@" or (first == "#" and key == "#text" and not value.strip()):
            continue
        yield key, value


_CAMEL1 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL2 = re.compile(r"([a-z0-9])([A-Z])")


@lru_cache(maxsize=4096)
def snake_case(name: str) -> str:
    """XML element name -> JSON key: ``DateCreated`` -> ``date_created``, ``SMS`` -> ``sms``.

    >>> snake_case("SMSMessages"), snake_case("VoiceCallerIdLookup")
    ('sms_messages', 'voice_caller_id_lookup')
    """
    return _CAMEL2.sub(r"\1_\2", _CAMEL1.sub(r"\1_\2", name)).lower()


def snippet(body: bytes | str, n: int = 60) -> str:
    """The first ``n`` characters of a body, whitespace runs folded, for messages."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return " ".join(text[:n].split())
