"""What the completer remembers: typed-through answers, prompt anchors, prefetch, the
adaptive budget, and the clean-up of real bad outputs."""

from __future__ import annotations

import asyncio

from lsp_server.context.documents import Document, DocumentSnapshot
from lsp_server.context.syntax import CompletionMode
from lsp_server.features.budget import MIN_LINE_TOKENS, AdaptiveBudget
from lsp_server.features.completion import Completer
from lsp_server.features.postprocess import stop_repetition, strip_trailing_suffix_lines
from lsp_server.features.suggestions import Anchors, Suggestion, SuggestionCache
from lsp_server.model.protocol import CompletionJob, GenerationResult, GenerationStats
from lsp_server.settings import CompletionSettings

URI = "file:///w/calc.py"


class ScriptedModel:
    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.jobs: list[tuple[CompletionJob, bool]] = []

    async def __call__(self, uri: str, job: CompletionJob, background: bool) -> GenerationResult:
        self.jobs.append((job, background))
        text = self.answers.pop(0) if self.answers else ""
        stats = GenerationStats(
            prompt_tokens=100, reused_tokens=90, evaluated_tokens=10, generated_tokens=5
        )
        return GenerationResult(text, stats)


def snap(text: str) -> DocumentSnapshot:
    return Document(URI, "python", 1, text).snapshot()


def at(completer: Completer, text: str, offset: int, settings: CompletionSettings | None = None):  # type: ignore[no-untyped-def]
    s = snap(text)
    return asyncio.run(
        completer.complete(s, s.position_at(offset), settings or CompletionSettings())
    )


BASE = "def total(items):\n    return \n"
CURSOR = BASE.index("return ") + len("return ")


def test_typing_through_a_suggestion_needs_no_model_call() -> None:
    model = ScriptedModel("sum(item.price for item in items)")
    completer = Completer(model)
    first = at(completer, BASE, CURSOR)
    assert first.text == "sum(item.price for item in items)" and len(model.jobs) == 1
    typed = BASE[:CURSOR] + "sum(it" + BASE[CURSOR:]
    second = at(completer, typed, CURSOR + len("sum(it"))
    assert second.text == "em.price for item in items)"
    assert second.source == "model" and second.cached  # from the cache of model answers
    assert not first.cached
    assert len(model.jobs) == 1
    assert completer.counters.answeredFromCache == 1


def test_typing_off_the_suggestion_asks_again_with_the_same_prompt() -> None:
    model = ScriptedModel("sum(items)", "len(items)")
    completer = Completer(model)
    at(completer, BASE, CURSOR)
    typed = BASE[:CURSOR] + "le" + BASE[CURSOR:]
    at(completer, typed, CURSOR + 2)
    first, second = model.jobs[0][0], model.jobs[1][0]
    # Same prefix, suffix and context: only the typed text is new, fed after the middle marker.
    assert second.prefix == first.prefix and second.suffix == first.suffix
    assert second.extra_context == first.extra_context
    # The anchor's line ends in one space, kept out of the prompt's prefix: it leads the middle.
    assert second.middle == " le" and second.heal == ""


def test_cache_off_means_stateless() -> None:
    model = ScriptedModel("sum(items)", "sum(items)")
    completer = Completer(model)
    off = CompletionSettings(cache=False)
    at(completer, BASE, CURSOR, off)
    typed = BASE[:CURSOR] + "su" + BASE[CURSOR:]
    at(completer, typed, CURSOR + 2, off)
    assert len(model.jobs) == 2
    assert model.jobs[1][0].middle == "" and model.jobs[1][0].reuse_cache is False


def test_prefetch_answers_the_line_after_an_accepted_one() -> None:
    text = "def total(items):\n    result = \n"
    cursor = text.index("result = ") + len("result = ")
    model = ScriptedModel("0", "\n    for item in items:")
    completer = Completer(model)
    first = at(completer, text, cursor)
    assert first.text == "0"
    s = snap(text)
    asyncio.run(completer.prefetch(s, cursor, first.text, CompletionSettings()))
    assert model.jobs[1][1] is True and model.jobs[1][0].kind == "prefetch"
    # It stops at the end of the one line it keeps (generate only what is shown).
    assert model.jobs[1][0].block_end == "line" and model.jobs[1][0].stop == ()
    # The user accepts "0", presses Enter, the editor indents.
    accepted = text[:cursor] + "0\n    " + text[cursor:]
    nxt = at(completer, accepted, cursor + len("0\n    "))
    assert nxt.text == "for item in items:"
    assert nxt.source == "prefetch" and completer.counters.answeredFromPrefetch == 1
    assert len(model.jobs) == 2


def test_suggestion_cache_is_bounded_and_keyed_by_suffix() -> None:
    cache = SuggestionCache(size=2)
    for i in range(3):
        cache.add(Suggestion(URI, f"p{i}", "s", f"text{i}", "model"))
    assert cache.lookup(URI, "p0", "s") is None  # evicted
    assert cache.lookup(URI, "p2", "s") == ("text2", cache.lookup(URI, "p2", "s")[1])  # type: ignore[index]
    assert cache.lookup(URI, "p2", "other suffix") is None


def test_anchor_gives_up_after_a_long_run() -> None:
    anchors = Anchors()
    from lsp_server.features.suggestions import Anchor

    anchors.set(URI, Anchor("abc", "xyz", ""))
    assert anchors.typed_since(URI, "abcdef", "xyz") is not None
    assert anchors.typed_since(URI, "ab", "xyz") is None  # deleted before the anchor
    assert anchors.typed_since(URI, "abc" + "x" * 500, "xyz") is None


def test_budget_shrinks_on_a_slow_machine() -> None:
    budget = AdaptiveBudget()
    fast = budget.plan(CompletionMode.MULTI_LINE, 48, 160, 4.0, 30.0, 100)
    assert fast.max_tokens == 160  # no measurements yet: as asked
    for _ in range(5):
        budget.observe(
            GenerationStats(
                evaluated_tokens=300, prompt_ms=10000, generated_tokens=20, generate_ms=4000
            )
        )
    slow = budget.plan(CompletionMode.MULTI_LINE, 48, 160, 4.0, 30.0, 20)
    assert slow.mode is CompletionMode.SINGLE_LINE and slow.reason
    # A line is never cut short: it stops at its newline, and a cut line is a fragment.
    assert slow.max_tokens == 48
    line = budget.plan(CompletionMode.SINGLE_LINE, 48, 160, 4.0, 30.0, 2000)
    assert line.mode is CompletionMode.SINGLE_LINE and line.max_tokens == 48
    # A block that still fits in part keeps at least MIN_LINE_TOKENS.
    for _ in range(5):
        budget.observe(
            GenerationStats(
                evaluated_tokens=300, prompt_ms=1000, generated_tokens=200, generate_ms=1000
            )
        )
    some = budget.plan(CompletionMode.MULTI_LINE, 48, 2000, 4.0, 30.0, 20)
    assert some.mode is CompletionMode.MULTI_LINE and MIN_LINE_TOKENS <= some.max_tokens < 2000


def test_repetition_loop_is_cut() -> None:
    # Seen from the 0.5B model: the same statement again and again.
    raw = "total += item.price\ntotal += item.price\ntotal += item.price\n"
    assert stop_repetition(raw) == "total += item.price"


def test_rewritten_following_lines_are_dropped() -> None:
    suffix = "\n    return total\n"
    text = "for item in items:\n        total += item\n    return total"
    assert strip_trailing_suffix_lines(text, suffix) == "for item in items:\n        total += item"


def test_trailing_space_typed_is_not_doubled() -> None:
    # Seen in VS Code: after typing "return" then " ", the answer began with a second space.
    text = "def area(w, h):\n    return\n"
    cursor = text.index("return") + len("return")
    model = ScriptedModel("", " w * h")
    completer = Completer(model)
    at(completer, text, cursor)  # anchors the prompt after "return"
    typed = text[:cursor] + " " + text[cursor:]
    out = at(completer, typed, cursor + 1)
    job = model.jobs[1][0]
    assert job.middle == "" and job.heal == " "
    assert out.text == "w * h"


def test_prefetch_leaves_the_real_documents_anchor() -> None:
    text = "def total(items):\n    result = \n"
    cursor = text.index("result = ") + len("result = ")
    long_block = "0\n" + "\n".join(f"    step_{i} = {i}" for i in range(12))
    model = ScriptedModel(long_block, "x", "sum(items)")
    completer = Completer(model)
    first = at(completer, text, cursor)
    s = snap(text)
    # The accepted text is too long to type through the anchor: the prefetch needs its own
    # prompt, but the real document keeps its anchor.
    asyncio.run(completer.prefetch(s, cursor, long_block, CompletionSettings()))
    typed = text[:cursor] + "su" + text[cursor:]
    at(completer, typed, cursor + 2)
    user_jobs = [job for job, background in model.jobs if not background]
    assert first.text and user_jobs[1].prefix == user_jobs[0].prefix
    assert user_jobs[1].middle == " su"


def test_a_warm_up_is_the_start_of_the_request_typed_on_from_it() -> None:
    # The supervisor lets a cancelled job's prompt evaluation go on (soft cancel) when the
    # next job's prompt starts the same; a warm-up must count, or its work is thrown away
    # just before the first request would have used it (seen in the typing replay).
    from lsp_server.model.supervisor import same_prompt_start

    model = ScriptedModel("", "len(items)")
    completer = Completer(model)
    s = snap(BASE)
    asyncio.run(completer.warm(s, CURSOR, CompletionSettings()))
    typed = BASE[:CURSOR] + "le" + BASE[CURSOR:]
    at(completer, typed, CURSOR + 2)
    warm, user = model.jobs[0][0], model.jobs[1][0]
    assert warm.kind == "warmup" and user.kind == "user"
    assert same_prompt_start(warm, user)
