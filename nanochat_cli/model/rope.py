"""Rotary position embedding, rotate-half (GPT-NeoX) pairing: dimension i rotates with i + head_dim/2.

inv_freq[i] = theta^(-2i / head_dim) for i < head_dim/2; angle = position * inv_freq computed in float64, then
cos/sin in float32. out[:h] = x[:h] cos - x[h:] sin, out[h:] = x[h:] cos + x[:h] sin (h = head_dim/2).
The native engine and exporters must use this pairing (llama.cpp: LLAMA_ROPE_TYPE_NEOX).
"""

from __future__ import annotations

import torch


def rope_tables(head_dim: int, start: int, length: int, theta: float, device) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin of shape (length, head_dim/2) for positions start .. start+length-1."""
    inv_freq = theta ** (-torch.arange(0, head_dim, 2, dtype=torch.float64, device=device) / head_dim)
    pos = torch.arange(start, start + length, dtype=torch.float64, device=device)
    angles = pos[:, None] * inv_freq[None, :]
    return angles.cos().float(), angles.sin().float()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate x (..., T, head_dim) by the tables (T, head_dim/2)."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)
