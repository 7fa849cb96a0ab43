"""A clone of the repository is all a user has: nothing tracked may point outside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Ways a file has reached beyond the checkout: the workspace's shared folder beside it, a path built
# by climbing above the repository root, or an absolute path of the machine it was written on.
OUTSIDE = re.compile(
    r"\.\./shared\b"
    r"|\bROOT\.parent\b"
    r"|parents\[\d+\]\.parent\b"
    r"|\.parent\s*/\s*[\"']shared[\"']"
    r"|/work/(?:shared|main|wt)\b"
)


def tracked_files() -> list[Path]:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [ROOT / name for name in listed.split("\0") if name]


def test_no_tracked_file_refers_to_a_path_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        if path == Path(__file__).resolve() or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # images and other binaries
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not offenders, "\n".join(offenders)
