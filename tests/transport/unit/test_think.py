"""Inline <think> reasoning split out of text, with tags cut anywhere."""

from __future__ import annotations

import pytest

from lmstudio_provider.transport._think import ThinkSplitter, split_think

ANSWER = "<think>Let me think: 2 < 3.</think>The answer is <b>yes</b>."


def split_in_pieces(text: str, size: int) -> tuple[str, str]:
    splitter = ThinkSplitter()
    texts, reasonings = [], []
    for start in range(0, len(text), size):
        piece_text, piece_reasoning = splitter.feed(text[start : start + size])
        texts.append(piece_text)
        reasonings.append(piece_reasoning)
    tail_text, tail_reasoning = splitter.flush()
    return "".join(texts) + tail_text, "".join(reasonings) + tail_reasoning


def test_whole_answer() -> None:
    assert split_think(ANSWER) == ("The answer is <b>yes</b>.", "Let me think: 2 < 3.")


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 11])
def test_tags_cut_at_every_position(size: int) -> None:
    assert split_in_pieces(ANSWER, size) == ("The answer is <b>yes</b>.", "Let me think: 2 < 3.")


def test_text_without_tags_passes_through_unchanged() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("plain text") == ("plain text", "")
    assert splitter.flush() == ("", "")


def test_possible_tag_start_is_held_then_released() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("a <th") == ("a ", "")
    assert splitter.feed("ing>") == ("<thing>", "")


def test_unclosed_think_at_end_is_reasoning() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("<think>still thinking </thi") == ("", "still thinking ")
    assert splitter.flush() == ("", "</thi")


def test_unfinished_open_tag_at_end_is_text() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("x <thin") == ("x ", "")
    assert splitter.flush() == ("<thin", "")


def test_two_think_blocks() -> None:
    assert split_think("<think>a</think>b<think>c</think>d") == ("bd", "ac")


def test_blank_lines_after_a_think_block_are_dropped() -> None:
    assert split_think("<think>plan</think>\n\n  Answer\n\nmore") == ("Answer\n\nmore", "plan")
    assert split_in_pieces("<think>plan</think>\n\nAnswer", 1) == ("Answer", "plan")


def test_leading_blank_lines_without_a_think_block_are_kept() -> None:
    assert split_think("\n\nAnswer") == ("\n\nAnswer", "")
