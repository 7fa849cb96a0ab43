"""The vendor's YAML examples (`stitch-docs-data/`), parsed into JSON, and a matcher for them.

The files are Jekyll data with JSON inside Markdown fences and placeholders such as
`<SOURCE_ID>`; `example_body` repairs the known defects listed in tests/data/README.md.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import yaml

from tests.conftest import STITCH_DOCS_DATA, TEST_DATA

REFERENCE = TEST_DATA / "reference-examples.md"
PLACEHOLDER = re.compile(r"<[^<>\s]+>")
ANY_REPORT_CARD = {"$placeholder": "SOURCE_REPORT_CARD"}


@cache
def load(relative: str) -> Any:
    return yaml.safe_load((STITCH_DOCS_DATA / relative).read_text(encoding="utf-8"))


def example_body(text: str) -> Any:
    """A `response-body` or example value as JSON (bare strings for the backtick ones)."""
    text = text.strip()
    fenced = re.search(r"```json\s*(.*?)```", text, re.DOTALL)
    if fenced is None:
        quoted = re.match(r'^"?`(.*?)`', text, re.DOTALL)
        return (quoted.group(1) if quoted else text).strip('"')
    raw = fenced.group(1)
    raw = raw.replace("{<SOURCE_REPORT_CARD>}", json.dumps(ANY_REPORT_CARD))
    raw = raw.replace('default"}"', 'default"')  # the stray `}"` of streams.yml
    return json.loads(raw)


def error_entries(relative: str) -> list[dict[str, Any]]:
    """Every documented error of a response-codes file: code, method, condition, body."""
    entries = []
    for group in load(relative)["all"]:
        for response in group.get("responses", []):
            body = response.get("response-body")
            entries.append(
                {
                    "status": int(group["code"]),
                    "method": response["method"],
                    "condition": response["condition"].strip(),
                    "version": str(response.get("version", "all")),
                    "body": example_body(body) if body else None,
                }
            )
    return entries


def reference_json_blocks(after_heading: str) -> list[Any]:
    """The ```json blocks of the reference section whose heading starts with `after_heading`."""
    text = REFERENCE.read_text(encoding="utf-8")
    start = text.index(after_heading)
    following = re.compile(r"\n#{2,3} ").search(text, start + len(after_heading))
    section = text[start : following.start() if following else len(text)]
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", section, re.DOTALL)]


def _pattern(expected: str) -> re.Pattern[str]:
    parts = PLACEHOLDER.split(expected)
    return re.compile("^" + ".*?".join(re.escape(p) for p in parts) + "$", re.DOTALL)


def text_matches(actual: Any, expected: str) -> bool:
    """Equal, a placeholder standing for any text (the empty display name gives `()`)."""
    return isinstance(actual, str) and bool(_pattern(expected).match(actual))


def assert_same_body(actual: Any, expected: Any, path: str = "body") -> None:
    """Error bodies: same keys, same JSON types, same text modulo placeholders."""
    if expected == ANY_REPORT_CARD:
        assert isinstance(actual, dict) and {"type", "current_step", "steps"} <= set(actual), path
        return
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: {actual!r} is not an object"
        assert set(actual) == set(expected), f"{path}: keys {sorted(actual)} != {sorted(expected)}"
        for key in expected:
            assert_same_body(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: {actual!r} is not a list"
        for index, item in enumerate(actual):
            assert isinstance(item, type(expected[0])), f"{path}[{index}]: {item!r}"
    elif isinstance(expected, str):
        assert text_matches(actual, expected), f"{path}: {actual!r} does not match {expected!r}"
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}[type(value)]


def assert_same_shape(
    actual: Any, expected: Any, path: str = "$", ignore: tuple[str, ...] = ()
) -> None:
    """Objects: the same keys and the same JSON types all the way down (values may differ).

    A documented `null` only says the field may be null, so it accepts any type; lists are
    compared element by element against the example's first element.
    """
    if expected is None:
        return
    assert json_type(actual) == json_type(expected), (
        f"{path}: {json_type(actual)} {actual!r} where the docs have {json_type(expected)}"
    )
    if isinstance(expected, dict):
        keys = set(expected) - set(ignore)
        assert set(actual) - set(ignore) == keys, (
            f"{path}: keys differ: extra {sorted(set(actual) - keys - set(ignore))}, "
            f"missing {sorted(keys - set(actual))}"
        )
        for key in keys:
            assert_same_shape(actual[key], expected[key], f"{path}.{key}", ignore)
    elif isinstance(expected, list) and expected:
        for index, item in enumerate(actual):
            assert_same_shape(item, expected[0], f"{path}[{index}]", ignore)
