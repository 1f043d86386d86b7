"""SamplingParams: the one set of sampling settings generate, serve, eval and rl use (infer/sampling.py draws with it).

It sits below every package, imports nothing heavy, and is what a request parser (serve/request_schema.py) or an
eval run (evaluate/completion_sources.py GenerationParams) produces; the order the settings apply in is infer/sampling.py's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nanochat_cli.errors import NanochatError


@dataclass
class SamplingParams:
    temperature: float = 0.8
    """0 = greedy (argmax)."""
    top_k: int = 0
    """Keep the k most likely tokens; 0 = all."""
    top_p: float = 1.0
    """Nucleus: keep the smallest set of tokens whose probability reaches top_p; 1 = off."""
    min_p: float = 0.0
    """Drop tokens less likely than min_p times the most likely one; 0 = off."""
    repeat_penalty: float = 1.0
    """> 1 discourages tokens seen in the last penalty_last_n tokens; 1 = off."""
    presence_penalty: float = 0.0
    """Subtracted from the logit of every token seen (OpenAI semantics)."""
    frequency_penalty: float = 0.0
    """Subtracted once per occurrence of a seen token (OpenAI semantics)."""
    penalty_last_n: int = 64
    """How many recent tokens the penalties look at; -1 = all (prompt included)."""
    seed: int | None = None
    """RNG seed; None = nondeterministic."""
    max_tokens: int = 256
    stop: list[str] = field(default_factory=list)
    """Generation stops before the first occurrence of any of these strings (not included in the output)."""
    token_healing: bool = True
    """Back off the prompt's last tokens and make the first sampled tokens re-spell them (infer/healing.py)."""

    def validate(self) -> None:
        checks = [
            (self.temperature >= 0, "temperature must be >= 0"),
            (self.top_k >= 0, "top_k must be >= 0"),
            (0 < self.top_p <= 1, "top_p must be in (0, 1]"),
            (0 <= self.min_p <= 1, "min_p must be in [0, 1]"),
            (self.repeat_penalty > 0, "repeat_penalty must be > 0"),
            (-2 <= self.presence_penalty <= 2, "presence_penalty must be in [-2, 2]"),
            (-2 <= self.frequency_penalty <= 2, "frequency_penalty must be in [-2, 2]"),
            (self.max_tokens >= 0, "max_tokens must be >= 0"),
            (self.seed is None or self.seed >= 0, f"seed must be >= 0 (numpy seeds are non-negative), got {self.seed}"),
            (all(isinstance(s, str) and s for s in self.stop), "stop strings must be non-empty"),
        ]
        for ok, why in checks:
            if not ok:
                raise NanochatError(f"sampling: {why}")
