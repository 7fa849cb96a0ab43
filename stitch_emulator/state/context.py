"""What every part of the backend shares: the world, its settings, clock and catalogue.

The parts (accounts, sources, jobs, destinations) hold this one object and read `world` and
`config` through it on every call, so a reset that replaces them reaches every part at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..catalogue import Catalogue
from ..clock import Clock
from ..config import EmulatorConfig
from .jobs import JobsRateLimit
from .model import JobScript, Source, World
from .report_card import source_step_type


class Context:
    def __init__(self, config: EmulatorConfig, clock: Clock, catalogue: Catalogue) -> None:
        self.initial_config = config
        self.config = config
        self.clock = clock
        self.catalogue = catalogue
        self.world = World()
        self.job_scripts: dict[int, JobScript] = {}  # source id -> outcome of its next job
        self.jobs_rate_limit = JobsRateLimit()

    def now(self) -> datetime:
        return self.clock.now()

    def forget(self) -> None:
        """A fresh world and the first settings; ids keep growing so none is ever reused."""
        self.world = World(
            next_ids=dict(self.world.next_ids), default_account_id=self.world.default_account_id
        )
        self.config = self.initial_config
        self.jobs_rate_limit = JobsRateLimit()
        self.job_scripts = {}

    def type_card(self, type_name: str) -> dict[str, Any]:
        card = self.catalogue.source_type(type_name)
        assert card is not None, type_name
        return card

    def step_type(self, source: Source) -> str:
        return source_step_type(source, self.type_card(source.type))
