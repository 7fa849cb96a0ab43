"""The emulator's state and rules, plain Python without HTTP (moto's "backend" half)."""
