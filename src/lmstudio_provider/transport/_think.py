"""Split inline ``<think>...</think>`` reasoning out of streamed text.

LM Studio sends reasoning inline when its "separate reasoning_content" setting
is off. Tags may be cut anywhere across chunks, so a possible tag prefix at the
end of a chunk is held back until the next one decides it.
"""

from __future__ import annotations

__all__ = ["ThinkSplitter", "split_think"]

OPEN = "<think>"
CLOSE = "</think>"


def _partial_tag_suffix(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that is a proper start of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


class ThinkSplitter:
    """Feed text pieces; get (text, reasoning) pieces with the tags removed."""

    __slots__ = ("_held", "_in_think", "_trim")

    def __init__(self) -> None:
        self._held = ""
        self._in_think = False
        # After a think block, the blank lines before the answer are no part of it.
        self._trim = False

    def feed(self, piece: str) -> tuple[str, str]:
        if not self._held and not self._in_think and not self._trim and "<" not in piece:
            return piece, ""  # fast path: nothing that could open a tag
        data = self._held + piece
        self._held = ""
        text_parts: list[str] = []
        reasoning_parts: list[str] = []
        while data:
            tag = CLOSE if self._in_think else OPEN
            index = data.find(tag)
            if index >= 0:
                self._emit(data[:index], text_parts, reasoning_parts)
                data = data[index + len(tag) :]
                self._in_think = not self._in_think
                self._trim = not self._in_think
                continue
            keep = _partial_tag_suffix(data, tag)
            if keep:
                self._held = data[-keep:]
                data = data[:-keep]
            self._emit(data, text_parts, reasoning_parts)
            break
        return "".join(text_parts), "".join(reasoning_parts)

    def _emit(self, data: str, text_parts: list[str], reasoning_parts: list[str]) -> None:
        if self._in_think:
            reasoning_parts.append(data)
            return
        if self._trim:
            data = data.lstrip()
            self._trim = not data
        text_parts.append(data)

    def flush(self) -> tuple[str, str]:
        """What is held back when the stream ends (an unfinished tag is plain content)."""
        held, self._held = self._held, ""
        return ("", held) if self._in_think else (held, "")


def split_think(text: str) -> tuple[str, str]:
    """Split a whole answer into (text, reasoning)."""
    splitter = ThinkSplitter()
    body, reasoning = splitter.feed(text)
    tail_text, tail_reasoning = splitter.flush()
    return body + tail_text, reasoning + tail_reasoning
