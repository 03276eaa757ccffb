"""Markup rules for customer statements: what a reseller charges on top of Twilio's cost.

A rule set is a dict, or a TOML file of the same shape (read with the standard
library's ``tomllib``)::

    minimum = "25.00"              # monthly minimum charge per statement
    monthly_fee = "5.00"           # a fixed line on every statement

    [default]                      # every line no other rule matches
    percent = 20

    ["phonenumbers*"]              # a glob on the (lower-case) category
    percent = 0
    per_unit = "1.00"              # added per unit of ``count`` (a number, a call...)

    ["recordingstorage"]
    pass_through = true            # charge = cost, nothing added

Per line: ``charge = cost * (1 + percent / 100) + per_unit * count`` (``pass_through``:
``charge = cost``). The rule of a line is the one whose pattern matches its category
exactly, else the longest matching glob (ties: the first given), else ``default`` (which
itself defaults to pass-through). Amounts (``per_unit``, ``monthly_fee``, ``minimum``)
are decimal strings or numbers in the statement's currency, or a table by currency
(``minimum = {USD = "25.00", JPY = "3000"}``), never negative. ``percent`` may be
negative (a discount) down to -100.
"""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..errors import ConfigurationError

__all__ = ["Rule", "Rules", "load_rules"]

_RULE_KEYS = ("percent", "per_unit", "pass_through")
_TOP_KEYS = ("default", "minimum", "monthly_fee")


@dataclass(frozen=True)
class Rule:
    """One category rule: ``pattern`` and what is added to the cost."""

    pattern: str
    percent: Decimal = Decimal(0)
    per_unit: object = Decimal(0)          # Decimal, or {currency: Decimal}
    pass_through: bool = False

    def describe(self) -> str:
        """A short text naming the rule, as the statements show it."""
        if self.pass_through:
            return f"{self.pattern}: pass-through"
        parts = [f"+{self.percent}%" if self.percent >= 0 else f"{self.percent}%"]
        if self.per_unit:
            parts.append(f"+{_show(self.per_unit)} per unit")
        return f"{self.pattern}: {' '.join(parts)}"


@dataclass(frozen=True)
class Rules:
    """A parsed rule set (see the module notes)."""

    default: Rule
    categories: tuple[Rule, ...] = ()
    minimum: object = Decimal(0)
    monthly_fee: object = Decimal(0)

    def rule_for(self, category: str) -> Rule:
        """The rule that applies to ``category`` (exact, longest glob, default)."""
        name = str(category).lower()
        exact = [r for r in self.categories if r.pattern == name]
        if exact:
            return exact[0]
        hits = [r for r in self.categories if fnmatch.fnmatchcase(name, r.pattern)]
        return max(hits, key=lambda r: len(r.pattern), default=self.default)


def _show(amount) -> str:
    if isinstance(amount, dict):
        return ", ".join(f"{c} {v}" for c, v in amount.items())
    return str(amount)


def amount_in(amount, currency: str) -> Decimal:
    """``amount`` (a Decimal or a per-currency table) in ``currency`` (0 if not listed)."""
    if isinstance(amount, dict):
        return amount.get(currency.upper(), Decimal(0))
    return amount


def _decimal(value, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ConfigurationError(f"{where}: expected a decimal number, got {value!r}")
    try:
        out = Decimal(str(value).strip())
    except InvalidOperation:
        raise ConfigurationError(f"{where}: {value!r} is not a decimal number") from None
    if not out.is_finite():
        raise ConfigurationError(f"{where}: {value!r} is not a finite number")
    if out.as_tuple().exponent < -6:
        raise ConfigurationError(f"{where}: {value!r} has more than 6 decimal places")
    return out


def _amount(value, where: str):
    if isinstance(value, dict):
        table = {str(c).upper(): _amount(v, f"{where}.{c}") if not isinstance(v, dict)
                 else _decimal(v, f"{where}.{c}") for c, v in value.items()}
        if len(table) < len(value):
            raise ConfigurationError(f"{where}: a currency is given twice (codes are read "
                                     f"in upper case): {sorted(value)}")
        bad = [c for c in table if not re.fullmatch(r"[A-Z]{3}", c)]
        if bad:
            raise ConfigurationError(f"{where}: {bad[0]!r} is not an ISO 4217 currency code")
        return table
    amount = _decimal(value, where)
    if amount < 0:
        raise ConfigurationError(f"{where}: {value!r} is negative; a discount is a "
                                 "negative percent")
    return amount


def _rule(pattern: str, body, where: str) -> Rule:
    if not isinstance(body, dict):
        raise ConfigurationError(f"{where}: a rule is a table of {', '.join(_RULE_KEYS)}, "
                                 f"got {body!r}")
    unknown = [k for k in body if k not in _RULE_KEYS]
    if unknown:
        raise ConfigurationError(f"{where}.{unknown[0]}: unknown rule key; known: "
                                 f"{', '.join(_RULE_KEYS)}")
    percent = _decimal(body.get("percent", 0), f"{where}.percent")
    if percent < -100:
        raise ConfigurationError(f"{where}.percent: {percent} is below -100")
    passing = body.get("pass_through", False)
    if not isinstance(passing, bool):
        raise ConfigurationError(f"{where}.pass_through: expected true or false")
    if passing and (percent or body.get("per_unit")):
        raise ConfigurationError(f"{where}: pass_through cannot be combined with percent "
                                 "or per_unit")
    return Rule(pattern, percent, _amount(body.get("per_unit", 0), f"{where}.per_unit"),
                passing)


def parse_rules(spec: dict | None, *, source: str = "rules") -> Rules:
    """Check and parse a rules dict; errors name the key (``rules["sms*"].percent``)."""
    if spec is None:
        return Rules(Rule("default", pass_through=True))
    if isinstance(spec, Rules):
        return spec
    if not isinstance(spec, dict):
        raise ConfigurationError(f"{source}: expected a dict or a TOML file, got "
                                 f"{type(spec).__name__}")
    default = _rule("default", spec.get("default", {"pass_through": True}),
                    f"{source}.default")
    cats = tuple(_rule(str(k).lower(), v, f"{source}[{k!r}]") for k, v in spec.items()
                 if k not in _TOP_KEYS)
    return Rules(default, cats, _amount(spec.get("minimum", 0), f"{source}.minimum"),
                 _amount(spec.get("monthly_fee", 0), f"{source}.monthly_fee"))


def load_rules(rules) -> Rules:
    """A :class:`Rules` from None, a dict, a :class:`Rules` or a TOML file path.

    A malformed file raises ConfigurationError naming the file and the line.
    """
    if not isinstance(rules, (str, os.PathLike)):
        return parse_rules(rules)
    path = Path(rules)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read rules file {path}: {exc}") from None
    try:
        spec = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"rules file {path}: {exc}") from None
    try:
        return parse_rules(spec, source="rules")
    except ConfigurationError as exc:
        line = _line_of(text, str(exc))
        where = f", line {line}" if line else ""
        raise ConfigurationError(f"rules file {path}{where}: {exc}") from None


def _line_of(text: str, message: str) -> int | None:
    """The line of the table and key an error message names (``rules['sms*'].percent``
    or ``rules.minimum``), found by reading the file's table headers and keys."""
    found = re.match(r"rules(?:\[(['\"])(.*?)\1\]|\.(\w+))?(?:\.(\w+))?", message)
    if not found:
        return None
    table = found.group(2) if found.group(2) is not None else None
    key = found.group(4) or (found.group(3) if table is None else None)
    if table is None and found.group(3) in ("default",):
        table, key = "default", found.group(4)
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        header = re.fullmatch(r"\[\s*(?:\"([^\"]*)\"|'([^']*)'|([^\]\s]+))\s*\]", stripped)
        if header:
            current = next(g for g in header.groups() if g is not None)
            if key is None and current == table:
                return number
            continue
        name = re.match(r"(?:\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_*.\-]+))\s*=", stripped)
        if not name:
            continue
        name = next(g for g in name.groups() if g is not None)
        if current == table and name == key:
            return number
        if current is None and table is not None and name == table:
            return number               # an inline table: "sms*" = {percent = ...}
    return None
