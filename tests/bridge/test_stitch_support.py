"""Shared fakes for the Stitch client tests: a scripted transport, a fake clock, and loaders for
the vendor's documented examples. (No tests here; the other test_stitch_* modules import it.)"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import yaml

from bridge.stitch import RetryPolicy, StitchClient
from tests.conftest import STITCH_DOCS_DATA as DOCS_DATA
from tests.conftest import TEST_DATA

SEEDS = TEST_DATA / "seeds"
BASE_URL = "https://stitch.test"


class FakeClock:
    """Monotonic time that only moves when the client sleeps; records every wait."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Fail:
    """A scripted answer that raises an httpx transport error (it needs the request)."""

    def __init__(self, error: type[httpx.TransportError], text: str = "scripted failure") -> None:
        self.error = error
        self.text = text


Answer = httpx.Response | Fail | Callable[[httpx.Request], httpx.Response]


class Script:
    """An httpx handler answering from a list (the last answer repeats) and keeping requests."""

    def __init__(self, *answers: Answer) -> None:
        assert answers, "a script needs at least one answer"
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Fail):
            raise answer.error(answer.text, request=request)
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)

    @property
    def calls(self) -> int:
        return len(self.requests)

    def json_body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def reply(status: int = 200, body: Any = None, *, text: str | None = None, **headers: str):
    """An httpx.Response with a JSON body (or raw `text`); header names use `_` for `-`."""
    header_map = {name.replace("_", "-"): value for name, value in headers.items()}
    if text is not None:
        return httpx.Response(status, text=text, headers=header_map)
    return httpx.Response(status, json=body, headers=header_map)


def make_client(
    script: Callable[[httpx.Request], httpx.Response],
    clock: FakeClock | None = None,
    *,
    retry: RetryPolicy | None = None,
    **kwargs: Any,
) -> StitchClient:
    clock = clock or FakeClock()
    kwargs.setdefault("random", lambda: 1.0)
    return StitchClient(
        BASE_URL,
        transport=httpx.MockTransport(script),
        retry=retry,
        sleep=clock.sleep,
        clock=clock,
        **kwargs,
    )


# ---- the vendor's documented examples --------------------------------------------------------


def docs_yaml(relative: str) -> Any:
    return yaml.safe_load((DOCS_DATA / relative).read_text(encoding="utf-8"))


def docs_json(relative: str, *keys: str, **placeholders: object) -> Any:
    """A JSON example stored as a YAML block string, with `<PLACEHOLDER>`s substituted."""
    value = docs_yaml(relative)
    for key in keys:
        value = value[key]
    return parse_example(value, **placeholders)


def parse_example(text: str, **placeholders: object) -> Any:
    for name, replacement in placeholders.items():
        text = text.replace(f"<{name}>", str(replacement))
    text = text.replace("“", '"').replace("”", '"')  # the docs' typographic quotes
    text = re.sub(r"/\*.*?\*/", "", text)  # the docs annotate JSON with /* comments */
    return json.loads(text)


def seed_000() -> dict[str, Any]:
    """The March 2018 "Create a source" page (the only one showing `current_step_hints`)."""
    pages = yaml.safe_load_all((SEEDS / "000_fd599de8c399b20b.txt").read_text(encoding="utf-8"))
    return next(page for page in pages if page)


def seed_001_captures() -> list[str]:
    """The JSON blocks of the current "create a data source" guide, in page order."""
    text = (SEEDS / "001_0c770cc8ee984988.txt").read_text(encoding="utf-8")
    blocks = re.findall(r"\{% capture\s+\w+ %\}(.*?)\{% endcapture %\}", text, flags=re.S)
    return [block for block in blocks if block.strip().startswith("{")]


def response_code_examples(name: str) -> list[tuple[str, str, int, str]]:
    """(method, condition, status, raw body text) for every documented error of one resource."""
    data = docs_yaml(f"response-codes/{name}.yml")
    examples = []
    for group in data["all"]:
        for response in group.get("responses") or []:
            raw = response["response-body"].strip()
            fenced = re.match(r"```json\s*(.*?)\s*```", raw, flags=re.S)
            body = fenced.group(1) if fenced else raw.split("\n")[0].strip().strip("`")
            condition = " ".join(response["condition"].split())
            examples.append((response["method"], condition, int(group["code"]), body))
    return examples


def decode_documented_body(text: str) -> Any:
    """A documented error body as the wire would carry it, repairing the docs' known defects."""
    text = text.replace("{<SOURCE_REPORT_CARD>}", json.dumps({"type": "platform.x", "steps": []}))
    text = text.replace('by default"}"', 'by default"')
    if text.startswith(("{", "[", '"')):
        return json.loads(text)
    return text  # a bare message the docs show without its JSON quotes
