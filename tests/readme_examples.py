"""The README's examples, read from the README itself, so that tests run what it shows.

``llm_commands()`` yields every line of a ``bash`` block that starts with ``llm``, with
its trailing comment; ``python_blocks()`` every ``python`` block. Conventions the README
follows (and says so):

- A comment saying ``needs LM Studio`` (at the end of an ``llm`` line, or as the first
  line of a Python block) marks an example the stand-in cannot run; the tests skip it
  there, with the comment as the reason.
- ``<embedding-id>`` stands for an embedding model's id; ``<vision-model>`` for a vision
  model's (only in examples that need LM Studio).
- Files an example names (``notes.txt``, ``docs.json``, ``photo.jpg``) are made by the test
  in the example's working directory.
- Examples naming ``smollm`` use the stand-in's chat model, ``smollm2-135m-instruct``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"
NEEDS_LM_STUDIO = "needs LM Studio"
STANDIN_MODEL_MARK = "smollm"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
# A shell comment: two spaces or more, then "#", outside the command's own quotes.
COMMENT = re.compile(r"\s{2,}#\s?(.*)$")


@dataclass(frozen=True)
class Example:
    """One example: its text as written, the README line it is on, its comment."""

    text: str
    line: int
    comment: str = ""

    @property
    def needs_lm_studio(self) -> bool:
        return NEEDS_LM_STUDIO in self.comment

    @property
    def names_standin_model(self) -> bool:
        return STANDIN_MODEL_MARK in self.text

    @property
    def id(self) -> str:
        return f"README:{self.line}"


def _blocks(language: str, readme: str) -> list[tuple[int, str]]:
    return [
        (readme.count("\n", 0, match.start(2)) + 1, match.group(2))
        for match in FENCE.finditer(readme)
        if match.group(1) == language
    ]


def llm_commands(readme: str | None = None) -> list[Example]:
    """Every ``llm ...`` line of the README's bash blocks, in README order."""
    text = README.read_text(encoding="utf-8") if readme is None else readme
    found = []
    for first_line, block in _blocks("bash", text):
        for offset, line in enumerate(block.splitlines()):
            if not line.startswith("llm "):
                continue
            comment = COMMENT.search(line)
            command = line[: comment.start()] if comment else line
            found.append(
                Example(command.strip(), first_line + offset, comment.group(1) if comment else "")
            )
    return found


def python_blocks(readme: str | None = None) -> list[Example]:
    """Every ``python`` block of the README, in README order; a first line that is a
    comment is the block's comment (``# needs LM Studio ...``)."""
    text = README.read_text(encoding="utf-8") if readme is None else readme
    return [
        Example(block, line, block.partition("\n")[0].lstrip("# ") if block[:1] == "#" else "")
        for line, block in _blocks("python", text)
    ]
