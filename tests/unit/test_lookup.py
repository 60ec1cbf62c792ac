"""Prompt-lookup drafts (issue 22, item 4): the tokens that followed an earlier occurrence of
the sequence's last n-gram, longest n-gram first: the one just after the cursor (where the
last draft came from), else the latest."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lsp_server.model.draft_policy import MOST
from lsp_server.model.lookup import AHEAD, MAX_NGRAM, MIN_NGRAM, PromptLookup


def test_the_latest_occurrence_of_the_longest_ngram_is_followed() -> None:
    # The 3-gram "1 2 3" (at the start) wins over the later 2-gram "2 3".
    known = PromptLookup([1, 2, 3, 4, 5, 9, 2, 3, 7, 8, 1, 2, 3])
    assert known.draft() == [4, 5, 9, 2, 3, 7, 8, 1, 2, 3][:MOST]
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


# A target of three lines `a = f ( x ) ;` alike but for their names, a separator, an answer.
A, EQ, F, OPEN, X, CLOSE, END, B, C, Z, SEP = range(11)
TARGET = [A, EQ, F, OPEN, X, CLOSE, END, B, EQ, F, OPEN, Z, CLOSE, END, C, EQ, F, OPEN, X, CLOSE]
PROMPT = [*TARGET, SEP]


def test_a_copy_goes_on_where_the_last_draft_came_from() -> None:
    known = PromptLookup(PROMPT)
    known.extend([A, EQ])  # the answer begins the first line
    assert known.draft(4) == [F, OPEN, X, CLOSE]  # "a =" occurs once
    known.extend([F, OPEN, X, CLOSE, END, B, EQ, F, OPEN])  # copied on to "b = f ("
    # "= f (" ends three lines of the target; the latest is the third (then x), but the
    # answer is at the second (then z).
    assert known.draft(2) == [Z, CLOSE]
    without_a_cursor = PromptLookup([*PROMPT, A, EQ, F, OPEN, X, CLOSE, END, B, EQ, F, OPEN])
    assert without_a_cursor.draft(2) == [X, CLOSE]


def test_after_a_renamed_word_one_token_resumes_the_copy() -> None:
    renamed = 99  # the model writes a new name where the target has `b`
    known = PromptLookup(PROMPT)
    known.extend([A, EQ])
    assert known.draft(5) == [F, OPEN, X, CLOSE, END]
    known.extend([F, OPEN, X, CLOSE, END, renamed])
    assert known.draft() == []  # nothing follows a new name
    known.extend([EQ])  # "=" alone, found just after the cursor: the copy resumes
    assert known.draft(3) == [F, OPEN, Z]
    # Without a cursor a single token is never looked up.
    assert PromptLookup([*PROMPT, renamed, EQ]).draft() == []


def test_the_cursor_reaches_only_so_far() -> None:
    filler = list(range(100, 100 + AHEAD + 8))
    known = PromptLookup([1, 2, 3, *filler, 7, 8, SEP])
    known.extend([1, 2])
    assert known.draft(1) == [3]  # the cursor is at the start
    known.extend([50, 7])  # 7 occurs only beyond the cursor's reach
    assert known.draft() == []
    near = PromptLookup([1, 2, 3, 7, 8, *filler, SEP])
    near.extend([1, 2])
    near.draft(1)
    near.extend([50, 7])
    assert near.draft() == [8, *filler][:MOST]


@given(
    st.lists(st.integers(0, 5), max_size=60),
    st.lists(st.lists(st.integers(0, 5), max_size=4), max_size=6),
    st.integers(1, 12),
)
def test_every_draft_is_what_followed_a_suffix_of_the_sequence(
    tokens: list[int], steps: list[list[int]], most: int
) -> None:
    known = PromptLookup(tokens)
    seen = list(tokens)
    for step in [[], *steps]:
        known.extend(step)
        seen += step
        draft = known.draft(most)
        assert len(draft) <= most
        followers = [
            seen[at + n : at + n + most]
            for n in range(1, MAX_NGRAM + 1)
            if len(seen) > n
            for at in range(len(seen) - n)
            if seen[at : at + n] == seen[-n:]
        ]
        assert not draft or draft in followers
