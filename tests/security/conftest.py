from tests.bridge.conftest import (  # noqa: F401
    bridge_overrides,
    emulator_config,
    live_stack,
    stack,
)
