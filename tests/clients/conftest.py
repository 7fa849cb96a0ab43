from tests.bridge.conftest import bridge_overrides, emulator_config, stack  # noqa: F401
