"""Adaptive budget: learn how fast this machine runs this model, and shrink a suggestion
(fewer tokens, single line) rather than make the user wait past the latency target."""

from __future__ import annotations

from dataclasses import dataclass

from lsp_server.context.syntax import CompletionMode
from lsp_server.model.protocol import GenerationStats

# Smoothing of the speed estimates; a new machine starts from these guesses (tokens/s).
ALPHA = 0.3
INITIAL_PROMPT_RATE = 100.0
INITIAL_GEN_RATE = 20.0
# A block cut short to save time gets at least this many tokens. A line is never cut short: it
# stops at its newline anyway, so the limit only saves time on long lines, and a cut line
# reaches the user as a fragment or not at all (`x = net.Listen` for `x = net.Listen("tcp",
# addr)`; seen in bench/quality.py, where cold prompts got 8-15 tokens, then 32, which still
# cut the longest lines: an answer must not depend on how busy the machine is).
MIN_LINE_TOKENS = 32


@dataclass(frozen=True)
class Plan:
    mode: CompletionMode
    max_tokens: int
    deadline_s: float
    reason: str = ""  # why the plan is smaller than asked, for the log


class AdaptiveBudget:
    def __init__(self) -> None:
        self.prompt_rate = INITIAL_PROMPT_RATE
        self.gen_rate = INITIAL_GEN_RATE
        self.samples = 0

    def observe(self, stats: GenerationStats) -> None:
        if stats.evaluated_tokens >= 32 and stats.prompt_ms > 0:
            rate = stats.evaluated_tokens / (stats.prompt_ms / 1000)
            self.prompt_rate += ALPHA * (rate - self.prompt_rate)
        if stats.generated_tokens >= 4 and stats.generate_ms > 0:
            rate = stats.generated_tokens / (stats.generate_ms / 1000)
            self.gen_rate += ALPHA * (rate - self.gen_rate)
            self.samples += 1

    def plan(
        self,
        mode: CompletionMode,
        max_line: int,
        max_block: int,
        target_s: float,
        deadline_s: float,
        expected_eval_tokens: int,
    ) -> Plan:
        """Tokens to ask for so that prompt evaluation plus generation fits the target."""
        wanted = max_block if mode is CompletionMode.MULTI_LINE else max_line
        if self.samples == 0:
            return Plan(mode, wanted, deadline_s)
        left_s = target_s - expected_eval_tokens / self.prompt_rate
        affordable = int(left_s * self.gen_rate)
        if affordable >= wanted:
            return Plan(mode, wanted, deadline_s)
        if mode is CompletionMode.SINGLE_LINE:
            return Plan(mode, wanted, deadline_s)
        if affordable < max_line:
            mode, wanted = CompletionMode.SINGLE_LINE, max_line
        tokens = wanted if mode is CompletionMode.SINGLE_LINE else max(MIN_LINE_TOKENS, affordable)
        reason = (
            f"slow machine: {self.gen_rate:.0f} tokens/s, asking for {tokens} "
            f"{'line' if mode is CompletionMode.SINGLE_LINE else 'block'} tokens"
        )
        return Plan(mode, tokens, deadline_s, reason)
