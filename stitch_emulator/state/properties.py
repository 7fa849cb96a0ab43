"""Source property validation (§6.1): each value against its property's `json_schema`."""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft7Validator, FormatChecker

from .timefmt import parse_timestamp

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def _format_checker() -> FormatChecker:
    # Own checkers, so that validation does not depend on which optional format packages
    # jsonschema happens to find installed.
    checker = FormatChecker(formats=())

    @checker.checks("date-time")
    def _date_time(value: object) -> bool:
        return not isinstance(value, str) or parse_timestamp(value) is not None

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme) and bool(parts.netloc or parts.path)

    @checker.checks("hostname")
    def _hostname(value: object) -> bool:
        return not isinstance(value, str) or bool(_HOSTNAME.match(value))

    @checker.checks("ipv4")
    def _ipv4(value: object) -> bool:
        if not isinstance(value, str):
            return True
        try:
            ipaddress.IPv4Address(value)
        except ValueError:
            return False
        return True

    return checker


FORMATS = _format_checker()


def value_matches(schema: dict[str, Any] | None, value: Any) -> bool:
    """§6.1: `""` is always bad; a null schema means any non-empty string."""
    if value == "":
        return False
    if schema is None:
        return isinstance(value, str)
    return Draft7Validator(schema, format_checker=FORMATS).is_valid(value)


def bad_properties(
    definitions: dict[str, dict[str, Any]],
    supplied: dict[str, Any],
    current: dict[str, Any] | None = None,
) -> list[str]:
    """Names in `supplied` that Stitch would list in `bad_properties`, in the order given.

    Unknown names and `read_only` properties are bad (§6.1); so is changing a
    `user_provided_immutable` property that is already set (§5.2, [inferred]).
    """
    current = current or {}
    bad = []
    for name, value in supplied.items():
        definition = definitions.get(name)
        if definition is None or definition["property_type"] == "read_only":
            bad.append(name)
        elif not value_matches(definition["json_schema"], value):
            bad.append(name)
        elif (
            definition["property_type"] == "user_provided_immutable"
            and name in current
            and current[name] != value
        ):
            bad.append(name)
    return bad
