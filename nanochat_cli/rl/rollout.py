"""Rollouts: the policy's weights copied from torch into the native engine, G samples per prompt decoded together
over the engine's slots by the one decode loop (`infer.decode.decode_batch`), each scored as soon as it ends.

    engine, seconds = policy_engine(model, tokenizer_json, slots, ctx)   # the weight refresh, in memory
    groups, timing = rollout(engine, tokenizer, eos_ids, prompts, G, params_for, reward_fn)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from nanochat_cli.formats.export import model_weights
from nanochat_cli.infer.decode import SequenceDecode, decode_batch
from nanochat_cli.infer.engine import Engine
from nanochat_cli.infer.forward import NativeModel
from nanochat_cli.rl.rewards import Reward


@dataclass
class Sample:
    prefill_ids: list[int]  # what the engine was fed (token healing may have backed off the prompt's end)
    tokens: list[int]  # the sampled tokens, an ending EOS included: the actions scored in torch
    text: str  # the completion as text (cut before a stop string)
    reward: Reward | None = None
    constraints: list = field(default_factory=list)  # token healing: the ids each leading token was drawn from


@dataclass
class Group:
    prompt: int  # index into the prompt pool
    samples: list[Sample] = field(default_factory=list)

    @property
    def rewards(self) -> list[float]:
        return [s.reward.value for s in self.samples]

    @property
    def success(self) -> list[bool]:
        return [s.reward.success for s in self.samples]


def policy_engine(model, tokenizer_json: str | None, slots: int, ctx: int) -> tuple[Engine, float]:
    """A fresh native engine over the model's current weights (ternarized as export does); returns it and the
    seconds the refresh took (ternarize + pack + kernel layouts + KV caches)."""
    t0 = time.perf_counter()
    native = NativeModel(model_weights(model, tokenizer_json, "rl policy"))
    engine = Engine(native, slots, ctx)
    return engine, time.perf_counter() - t0


@dataclass
class RolloutTiming:
    generate_s: float = 0.0  # decoding (rustc already running on finished samples meanwhile)
    reward_wait_s: float = 0.0  # waiting for the last rewards after decoding ended
    tokens: int = 0  # completion tokens generated


def rollout(engine: Engine, tokenizer, eos_ids, prompts: list[tuple[int, object, list[int]]], group_size: int,
            params_for, reward_fn) -> tuple[list[Group], RolloutTiming]:
    """prompts: (pool index, RLPrompt, prompt ids). params_for(pool index, g) -> SamplingParams. A prompt that
    does not fit the context gives samples with no tokens and reward 0 (it never reaches the gradient)."""
    groups = {i: Group(i, [None] * group_size) for i, _, _ in prompts}
    problems = {i: p.problem for i, p, _ in prompts}
    futures = {}
    timing = RolloutTiming()

    def sequences():
        for i, _, ids in prompts:
            for g in range(group_size):
                yield (i, g), SequenceDecode.start(tokenizer, ids, params_for(i, g), eos_ids)

    t0 = time.perf_counter()
    for (i, g), seq in decode_batch(engine, sequences()):
        if seq is None:
            groups[i].samples[g] = Sample([], [], "", Reward(0.0, "syntax_error", cached=True))
            continue
        groups[i].samples[g] = Sample(list(seq.prefill_ids), list(seq.tokens), seq.text, constraints=seq.constraints)
        timing.tokens += seq.completion_tokens
        futures[(i, g)] = reward_fn.submit(problems[i], seq.text)  # rustc starts while decoding goes on
    t1 = time.perf_counter()
    for (i, g), fut in futures.items():
        groups[i].samples[g].reward = fut.result()
    timing.generate_s, timing.reward_wait_s = t1 - t0, time.perf_counter() - t1
    return [groups[i] for i, _, _ in prompts], timing
