"""Every relative link in the project's documentation leads somewhere: the file exists, and a
`#fragment` names a heading of it (GitHub's heading ids)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [
    ROOT / "README.md",
    ROOT / "Dockerfile",
    ROOT / "stitch_emulator" / "README.md",
    *sorted((ROOT / "docs").rglob("*.md")),
]
MARKDOWN_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
# In the Dockerfile's comments a reference is a bare path: `README.md#settings`, `docs/x.md`.
BARE_PATH = re.compile(r"(?<![\w/.-])((?:[\w-]+/)*[\w.-]+\.(?:md|py|toml|txt)(?:#[\w-]+)?)")


def heading_ids(markdown: str) -> set[str]:
    """The anchors GitHub gives a document's headings (lower case, punctuation dropped, spaces
    to hyphens, a counter on repeats)."""
    ids: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.*?)\s*#*\s*$", FENCE.sub("", markdown), re.M):
        text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
        slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
        candidate, count = slug, 0
        while candidate in ids:
            count += 1
            candidate = f"{slug}-{count}"
        ids.add(candidate)
    return ids


def links(document: Path) -> list[str]:
    text = document.read_text(encoding="utf-8")
    if document.suffix == ".md":
        return MARKDOWN_LINK.findall(FENCE.sub("", text))
    comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    return BARE_PATH.findall(comments)


def problems(document: Path) -> list[str]:
    found = []
    for link in links(document):
        if re.match(r"^[a-z][a-z0-9+.-]*:", link) or link.startswith("//"):
            continue  # an absolute URL: not this repository's business
        path, _, fragment = link.partition("#")
        target = (document.parent / path).resolve() if path else document
        if document.name == "Dockerfile" and path:
            target = (ROOT / path).resolve()  # the build context is the repository root
        where = f"{document.relative_to(ROOT)}: {link}"
        if not target.is_relative_to(ROOT) or not target.exists():
            found.append(f"{where} (no such file in the repository)")
        elif fragment and target.suffix == ".md":
            if fragment not in heading_ids(target.read_text(encoding="utf-8")):
                found.append(f"{where} (no such heading)")
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(document: Path) -> None:
    assert not problems(document), "\n".join(problems(document))


def test_the_link_check_sees_links_and_anchors() -> None:
    """The checker itself: it finds the README's links, and knows its section ids."""
    readme = ROOT / "README.md"
    assert "stitch_emulator/README.md" in links(readme)
    assert {"settings", "deployment", "quick-start-against-the-emulator"} <= heading_ids(
        readme.read_text(encoding="utf-8")
    )
    assert "README.md#deployment" in links(ROOT / "Dockerfile")
