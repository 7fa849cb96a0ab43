"""`name` (the destination schema) derived from `display_name` (§6.3)."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-]+")
_DISALLOWED = re.compile(r"[^a-z0-9_]")
VALID_NAME = re.compile(r"^[a-z_][a-z0-9_$]*$")
MAX_NAME_LENGTH = 50


def derive_name(display_name: str) -> str:
    """Lowercase; whitespace/`-` runs become `_`; other characters go; `_` trimmed at the ends.

    The [inferred] algorithm of §6.3, which reproduces every documented pair.
    """
    lowered = _SEPARATORS.sub("_", display_name.strip().lower())
    return _DISALLOWED.sub("", lowered).strip("_")


def is_valid_name(name: str) -> bool:
    return len(name) < MAX_NAME_LENGTH and bool(VALID_NAME.match(name))
