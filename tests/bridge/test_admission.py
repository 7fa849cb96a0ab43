"""Source creations prepare a few at a time, first come first served, and leave the line before
they call Stitch (`bridge/admission.py`): a burst reaches Stitch in order, without one end
user's slow call holding up the next one's preparation."""

from __future__ import annotations

import asyncio
import time

import pytest

from bridge.admission import Admission
from bridge.creation import create_source
from bridge.services import Services
from bridge.tokens import ConnectSession
from tests.bridge.conftest import RECURLY_PROPERTIES, Stack


async def test_no_more_than_the_width_prepare_at_once_and_in_order_of_arrival() -> None:
    admission = Admission(2)
    inside = 0
    most = 0
    order: list[int] = []

    async def creation(n: int) -> None:
        nonlocal inside, most
        async with admission.enter():
            inside += 1
            most = max(most, inside)
            order.append(n)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(creation(n) for n in range(8)))
    assert most == 2
    assert order == list(range(8))


async def test_leaving_early_lets_the_next_in_and_leaving_twice_frees_one_place() -> None:
    admission = Admission(1)
    async with admission.enter() as ticket:
        ticket.leave()
        ticket.leave()
        async with asyncio.timeout(1):
            async with admission.enter():  # the place given up is taken at once
                pass
    async with asyncio.timeout(1), admission.enter():
        pass  # one place, still: nothing was released twice


async def test_a_failed_creation_gives_its_place_up() -> None:
    admission = Admission(1)
    with pytest.raises(RuntimeError):
        async with admission.enter():
            raise RuntimeError("refused")
    async with asyncio.timeout(1), admission.enter():
        pass


def test_the_width_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Admission(0)


async def _create(services: Services, cs: ConnectSession, admission: Admission, key: str) -> bool:
    """A Recurly source for the session's end user, made from a place in `admission`'s line."""
    async with admission.enter() as ticket:
        created = await create_source(
            services,
            cs,
            source_type="platform.recurly",
            display_name=None,
            properties=RECURLY_PROPERTIES,
            idempotency_key=key,
            ticket=ticket,
        )
        return created.created


def test_a_creation_leaves_the_line_before_it_calls_stitch(stack: Stack) -> None:
    stack.emulator_http().post(
        "/_emulator/faults",
        json={"method": "POST", "path": "/v4/sources", "status": None, "delay": 1.5},
    ).raise_for_status()
    token = stack.mint(end_user="slow")

    async def work() -> tuple[float, bool]:
        admission = Admission(1)
        async with stack.services() as services:
            cs = services.tokens.read_session(token)

            first = asyncio.create_task(_create(services, cs, admission, "slow-1"))
            await asyncio.sleep(0.2)  # the first is at Stitch, which takes 1.5 s to answer
            started = time.monotonic()
            async with admission.enter():
                waited = time.monotonic() - started
            return waited, await first

    waited, created = stack.run(work)
    assert created
    assert waited < 1.0, "the next creation waited for the first one's call to Stitch"


def test_a_creation_waiting_on_the_same_end_users_other_one_leaves_the_line(
    stack: Stack,
) -> None:
    stack.emulator_http().post(
        "/_emulator/faults",
        json={"method": "POST", "path": "/v4/sources", "status": None, "delay": 2.0},
    ).raise_for_status()
    token = stack.mint(end_user="double-click")

    async def work() -> tuple[float, list[bool]]:
        admission = Admission(1)
        async with stack.services() as services:
            cs = services.tokens.read_session(token)

            first = asyncio.create_task(_create(services, cs, admission, "click-1"))
            await asyncio.sleep(0.2)  # at Stitch, for 2 s
            second = asyncio.create_task(
                _create(services, cs, admission, "click-2")
            )  # waits for the first's source
            await asyncio.sleep(0.3)
            started = time.monotonic()
            async with admission.enter():
                waited = time.monotonic() - started
            return waited, list(await asyncio.gather(first, second))

    waited, created = stack.run(work)
    assert waited < 1.0, "a creation held its place while it waited for another one"
    assert sorted(created) == [False, True]  # one source, the second request joined it
