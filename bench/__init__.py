"""Benchmarks of the bridge against baselines measured in the same run: `python -m bench`."""
