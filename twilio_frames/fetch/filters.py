"""List filters: the names users write -> the API's query parameters, or a clear refusal.

The API ignores a parameter it does not know (``?status=busy`` returns every call), so
a filter is checked here against the resource's table
(:attr:`twilio_frames.resources.Resource.filters`, from the OpenAPI spec) before
anything is fetched. Both spellings work: twilio-python's (``status``, ``from_``,
``parent_call_sid``, ``end_time_before``) and the API's (``Status``, ``From``,
``EndTime<``). The date filter that ``start``/``end`` set is refused with a pointer to
them, and so is an unknown name (the error lists the valid ones).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConfigurationError
from ..resources import Filter, get_resource
from .dates import to_utc

__all__ = ["wire_filters"]


def wire_filters(resource: str, filters: dict[str, Any]) -> dict[str, str]:
    """``{name: value}`` as the user wrote it -> ``{API parameter: wire text}``.

    None values are left out. Raises :class:`ConfigurationError` for an unknown name,
    a date filter that ``start``/``end`` own, one filter given twice (``status`` and
    ``Status``) or a value that is not a single string, number, bool or date.
    """
    res = get_resource(resource)
    known = {f.param: f for f in res.filters} | {f.name: f for f in res.filters}
    out: dict[str, str] = {}
    for name, value in filters.items():
        spec = known.get(name)
        if spec is None:
            raise ConfigurationError(_unknown(res.name, name, res.filters))
        if spec.range:
            raise ConfigurationError(
                f"{name}= is the date filter that start/end set on {res.name}: pass "
                f"start=... and end=... (a half-open UTC interval [start, end)) instead")
        if value is None:
            continue
        if spec.param in out:
            raise ConfigurationError(f"{res.name} filter {spec.param} is given twice "
                                     f"(as {spec.name} and {spec.param})")
        out[spec.param] = _wire_value(spec, name, value)
    return out


def _unknown(resource: str, name: str, specs: tuple[Filter, ...]) -> str:
    usable = [f for f in specs if not f.range]
    names = ", ".join(f.name for f in usable) or "none"
    params = ", ".join(f.param for f in usable)
    dates = " (dates: start/end)" if any(f.range for f in specs) else ""
    also = f"; or the API's names {params}" if params else ""
    return f"unknown {resource} filter {name!r}; valid filters: {names}{also}{dates}"


def _wire_value(spec: Filter, name: str, value: Any) -> str:
    if spec.kind == "bool":
        if isinstance(value, (bool, np.bool_)):
            return "true" if value else "false"
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower()
        raise ConfigurationError(f"filter {name}={value!r} must be True or False")
    if spec.kind in ("date", "datetime"):
        return _wire_date(name, value, date_only=spec.kind == "date")
    if isinstance(value, (str, int, np.integer)) and not isinstance(value, bool):
        return str(value)
    raise ConfigurationError(f"filter {name}={value!r} must be one string (the API takes "
                             "a single value per filter)")


def _wire_date(name: str, value: Any, *, date_only: bool) -> str:
    """Midnight as the day ``YYYY-MM-DD`` (the spec's form); another time as
    twilio-python sends it, ``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""
    ts = to_utc(value, name=name)
    if date_only or ts == ts.normalize():
        return ts.strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")
