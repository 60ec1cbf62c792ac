"""Alternatives to cycle (issue 21, item 5): where the answers branch, what the completer does
with them, how the suggestion cache and the statistics keep them. The model is a stand-in here;
tests/model/test_alternatives_model.py runs the real one."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import numpy as np
import pytest

from lsp_server.context.documents import Document
from lsp_server.features.completion import Completer
from lsp_server.features.suggestions import Suggestion, SuggestionCache
from lsp_server.model.alternatives import Branch, Step, branches, top_tokens
from lsp_server.model.protocol import CompletionJob, GenerationResult, GenerationStats
from lsp_server.settings import CompletionSettings
from lsp_server.stats import Stats, UnknownSuggestion

# -- branching ----------------------------------------------------------------------------


def test_branches_rank_whole_paths_not_single_tokens() -> None:
    steps = [
        Step(1, math.log(0.9), ((2, math.log(0.05)),)),
        Step(3, math.log(0.5), ((4, math.log(0.4)),)),  # the model hesitates here
        Step(5, math.log(0.99), ((6, math.log(0.01)),)),
    ]
    found = branches(steps, 2, banned=set())
    assert [(b.step, b.token) for b in found] == [(1, 4), (0, 2)]
    assert found[0].logprob == pytest.approx(math.log(0.9 * 0.4))


def test_a_banned_token_or_the_chosen_one_is_no_branch() -> None:
    steps = [Step(1, -0.1, ((0, -1.0), (1, -0.1), (7, -3.0)))]
    assert branches(steps, 5, banned={0}) == [Branch(0, 7, -3.0)]
    assert branches(steps, 0, banned=set()) == []
    assert branches([Step(1, -0.1, ((2, -math.inf),))], 3, banned=set()) == []


def test_top_tokens_are_log_softmax_of_the_best() -> None:
    logits = np.array([0.0, 2.0, 1.0, 2.0, -5.0], dtype=np.float32)
    total = sum(math.exp(x) for x in logits)
    best = top_tokens(logits, 3)
    assert [t for t, _ in best] == [1, 3, 2]  # ties by token id
    for token, logprob in best:
        assert logprob == pytest.approx(math.log(math.exp(logits[token]) / total), rel=1e-6)


# -- the completer --------------------------------------------------------------------------

TEXT = "def area(w, h):\n    return \n"


def complete(
    answer: str,
    others: tuple[str, ...],
    invoked: bool,
    completer: Completer | None = None,
    text: str = TEXT,
    marker: str = "return ",
) -> tuple[object, list[CompletionJob], Completer]:
    doc = Document("file:///w/m.py", "python", 1, text).snapshot()
    offset = text.index(marker) + len(marker)
    jobs: list[CompletionJob] = []

    async def submit(uri: str, job: CompletionJob, background: bool) -> GenerationResult:
        jobs.append(job)
        stats = GenerationStats(stop_reason="stop", generated_tokens=4)
        return GenerationResult(answer, stats, alternatives=others[: job.alternatives])

    completer = completer or Completer(submit)
    completer.submit = submit
    outcome = asyncio.run(
        completer.complete(doc, doc.position_at(offset), CompletionSettings(), invoked)
    )
    return outcome, jobs, completer


def test_only_an_invoked_request_asks_for_alternatives() -> None:
    outcome, jobs, _ = complete(" w * h", (" h * w", " w*h + 0"), invoked=False)
    assert jobs[0].alternatives == 0 and outcome.alternatives == ()  # type: ignore[attr-defined]
    outcome, jobs, _ = complete(" w * h", (" h * w", " w*h + 0"), invoked=True)
    assert jobs[0].alternatives == CompletionSettings().alternatives == 2
    assert outcome.text == "w * h"  # type: ignore[attr-defined]
    assert outcome.alternatives == ("h * w", "w*h + 0")  # type: ignore[attr-defined]


def test_the_suggestion_shown_stays_first_when_asked_again() -> None:
    # Typed: an answer is shown (and cached). The next-suggestion key asks again and the model
    # now answers otherwise: the answer shown stays first, so "next" shows another one.
    _, _, completer = complete(" w * h", (), invoked=False)
    outcome, jobs, _ = complete(" h * w", (" w*h + 0", " 2 * w"), invoked=True, completer=completer)
    assert len(jobs) == 1 and outcome.text == "w * h"  # type: ignore[attr-defined]
    assert outcome.alternatives == ("h * w", "w*h + 0")  # type: ignore[attr-defined]
    # The model writes nothing now: the answer shown is still the answer.
    _, _, completer = complete(" w * h", (), invoked=False)
    outcome, _, _ = complete("", (), invoked=True, completer=completer)
    assert outcome.text == "w * h"  # type: ignore[attr-defined]


def test_alternatives_are_cleaned_deduplicated_and_stand_in_for_a_dropped_first() -> None:
    # The first repeats the line after the cursor (dropped), as does one alternative; two
    # others are the same once cleaned.
    text = "def f(x):\n    \n    return x * 2\n"
    answers = ("return x * 2", "y = x + 1", "y = x + 1  ", "return x * 2")
    outcome, _, _ = complete(
        "return x * 2", answers[1:], invoked=True, text=text, marker="def f(x):\n    "
    )
    assert outcome.text == "y = x + 1"  # type: ignore[attr-defined]
    assert outcome.alternatives == ()  # type: ignore[attr-defined]


def test_each_alternative_can_be_typed_through_from_the_cache() -> None:
    _, jobs, completer = complete(" w * h", (" h * w",), invoked=True)
    doc = Document("file:///w/m.py", "python", 2, TEXT.replace("return ", "return h * ")).snapshot()
    at = doc.position_at(TEXT.index("return ") + len("return h * "))
    typed = asyncio.run(completer.complete(doc, at, CompletionSettings()))
    assert typed.text == "w" and typed.cached and len(jobs) == 1
    # Back where it was asked, invoked again: both, without the model, the one the user was
    # typing through first.
    doc = Document("file:///w/m.py", "python", 3, TEXT).snapshot()
    at = doc.position_at(TEXT.index("return ") + len("return "))
    again = asyncio.run(completer.complete(doc, at, CompletionSettings(), invoked=True))
    assert (again.text, again.alternatives, again.cached) == ("h * w", ("w * h",), True)
    assert len(jobs) == 1


def test_an_invoked_request_with_one_cached_suggestion_asks_the_model() -> None:
    _, jobs, completer = complete(" w * h", (), invoked=False)
    outcome, jobs, _ = complete(" w * h", (" h * w",), invoked=True, completer=completer)
    assert len(jobs) == 1 and jobs[0].alternatives == 2
    assert outcome.alternatives == ("h * w",)  # type: ignore[attr-defined]


def test_cache_lookup_all_gives_distinct_rests_latest_first() -> None:
    cache = SuggestionCache()
    for text in ("abc", "abd", "abc", "xyz"):
        cache.add(Suggestion("u", "p", "s", text, "model"))
    assert [r for r, _ in cache.lookup_all("u", "p", "s", 5)] == ["xyz", "abc", "abd"]
    assert [r for r, _ in cache.lookup_all("u", "pa", "s", 5)] == ["bc", "bd"]
    assert cache.lookup_all("u", "pabc", "s", 5) == []  # typed all of it: nothing left
    assert cache.lookup("u", "pab", "s") == ("c", Suggestion("u", "p", "s", "abc", "model"))


# -- statistics -----------------------------------------------------------------------------


def test_an_accepted_alternative_counts_once_for_its_suggestion(tmp_path: Path) -> None:
    stats = Stats(tmp_path / "stats.json")
    first = stats.answered("python", "file:///a.py", "w * h", "model", 0.1)
    other = stats.alternative(first, "h * w + 1")
    assert other and other != first
    assert stats.accepted(other, "file:///a.py", 3) == 3
    assert stats.accepted(first, "file:///a.py", None) == 5  # the other item, more of it
    assert stats.accepted(other, "file:///a.py", None) == 9
    summary = stats.report()["session"]["python"]
    assert (summary["shown"], summary["accepted"], summary["charsAccepted"]) == (1, 1, 9)
    with pytest.raises(UnknownSuggestion):
        stats.accepted(other, "file:///b.py", None)
    assert stats.alternative("no-such-id", "x") == ""
