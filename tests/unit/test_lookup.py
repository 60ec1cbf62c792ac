"""Prompt-lookup drafts (issue 22, item 4): the tokens that followed the latest earlier
occurrence of the sequence's last n-gram, longest n-gram first."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lsp_server.model.lookup import DRAFT_TOKENS, MAX_NGRAM, MIN_NGRAM, PromptLookup


def test_the_latest_occurrence_of_the_longest_ngram_is_followed() -> None:
    # The 3-gram "1 2 3" (at the start) wins over the later 2-gram "2 3".
    known = PromptLookup([1, 2, 3, 4, 5, 9, 2, 3, 7, 8, 1, 2, 3])
    assert known.draft() == [4, 5, 9, 2, 3, 7, 8, 1][:DRAFT_TOKENS]
    assert known.draft(2) == [4, 5]
    # Of two occurrences, the latest.
    known = PromptLookup([2, 3, 4, 0, 2, 3, 9, 1, 2, 3])
    assert known.draft(3) == [9, 1, 2]


def test_no_draft_without_a_repeat_and_a_draft_grows_with_the_answer() -> None:
    known = PromptLookup([5, 6, 7])
    assert known.draft() == []
    known.extend([5, 6])
    assert known.draft() == [7, 5, 6]
    assert PromptLookup([]).draft() == []


@given(st.lists(st.integers(0, 5), max_size=60), st.integers(1, 12))
def test_a_draft_is_what_followed_the_ngram_in_the_sequence(tokens: list[int], most: int) -> None:
    draft = PromptLookup(tokens).draft(most)
    assert len(draft) <= most
    followers = [
        tokens[at + n : at + n + most]
        for n in range(MIN_NGRAM, MAX_NGRAM + 1)
        if len(tokens) > n
        for at in range(len(tokens) - n)
        if tokens[at : at + n] == tokens[-n:]
    ]
    assert (draft in followers) if draft else not followers
