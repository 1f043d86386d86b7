"""Reinforcement learning on rustc rewards: `nanochat rl RECIPE [--set k=v] [--resume DIR]`.

prompts.py (decontaminated prompt pool, curriculum) -> rollout.py (the native engine refreshed from torch, the one
decode loop, rewards overlapping generation) -> rewards.py (graded sandbox rewards) -> advantages.py (GRPO, MaxRL,
ReST, DAPO drop, k3 KL) -> update.py (torch log-probabilities, the policy loss) -> trainer.py (the loop, checkpoints,
metrics). command.py is the CLI body.
"""

from nanochat_cli.rl.advantages import group_advantages, informative, k3_kl

__all__ = ["group_advantages", "informative", "k3_kl"]
