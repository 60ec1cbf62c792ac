"""Scoring a text under the model: each token's log-probability after the tokens before it, and
the tokens the model found most likely there (ScoreJob, for review's slip pass).

One forward pass, no generation: the context is evaluated as a prompt (the part the model
already holds is reused), then the text in batches that keep the logits of every token. A
batch's logits take n_vocab floats per token (600 KB with the 1.5B), so batches stay small.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lsp_server.model.alternatives import top_tokens
from lsp_server.model.protocol import TokenScore

SCORE_BATCH = 32  # tokens whose logits one decode keeps (about 19 MB with the 1.5B)
LOGPROB_FLOOR = -100.0  # the wire refuses -inf


def spans(pieces: Sequence[bytes]) -> list[tuple[int, int]]:
    """Each token's byte span in the text the pieces make."""
    out: list[tuple[int, int]] = []
    at = 0
    for piece in pieces:
        out.append((at, at + len(piece)))
        at += len(piece)
    return out


def score_batches(
    llm: Any,
    native: Any,
    last_context_token: int,
    text_tokens: Sequence[int],
    alternatives: int,
    should_stop: Callable[[], bool],
) -> list[tuple[float, list[tuple[int, float]]]] | None:
    """(log-probability, most likely tokens) of each of `text_tokens`, the model holding the
    context but its last token, which the first batch evaluates again with its logits kept.
    None when `should_stop` says so between batches."""
    import numpy as np

    n_vocab = llm.n_vocab()
    seq = [last_context_token, *text_tokens]
    n_past = llm.n_tokens
    out: list[tuple[float, list[tuple[int, float]]]] = []
    for at in range(0, len(seq) - 1, SCORE_BATCH):
        if should_stop():
            return None
        batch = seq[at : at + SCORE_BATCH]
        llm._ctx.kv_cache_seq_rm(-1, n_past, -1)
        llm._batch.set_batch(batch=batch, n_past=n_past, logits_all=True)
        llm._ctx.decode(llm._batch)
        llm.input_ids[n_past : n_past + len(batch)] = batch
        n_past += len(batch)
        llm.n_tokens = n_past
        rows = np.ctypeslib.as_array(native.llama_get_logits(llm.ctx), shape=(len(batch), n_vocab))
        for j in range(len(batch)):
            nxt = at + j + 1
            if nxt >= len(seq):
                break
            best = top_tokens(rows[j], alternatives + 1)
            # The token's log-probability from the best one's (one softmax sum per token).
            top, top_logprob = best[0]
            out.append((top_logprob - float(rows[j][top] - rows[j][seq[nxt]]), best))
    return out


def token_scores(
    pieces: Sequence[bytes],
    scored: Sequence[tuple[float, list[tuple[int, float]]]],
    text_of: Callable[[int], str],
    skip: int = 0,
) -> tuple[TokenScore, ...]:
    """The scores of the text's tokens (`pieces`) after the first `skip`, which were not scored."""
    return tuple(
        TokenScore(
            start,
            end,
            max(LOGPROB_FLOOR, logprob),
            tuple((text_of(t), max(LOGPROB_FLOOR, lp)) for t, lp in best),
        )
        for (start, end), (logprob, best) in zip(spans(pieces)[skip:], scored, strict=False)
    )
