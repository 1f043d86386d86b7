"""ModelCache: per-layer decoding state (attention KV cache, DeltaNet recurrent state) for prefill-then-decode."""

from __future__ import annotations

import torch

from nanochat_cli.errors import NanochatError


class KVCache:
    """Keys/values of one attention layer, preallocated to max_seq_len: (B, n_kv_heads, max_seq_len, head_dim)."""

    def __init__(self, batch_size: int, n_kv_heads: int, max_seq_len: int, head_dim: int, device):
        shape = (batch_size, n_kv_heads, max_seq_len, head_dim)
        self.k = torch.zeros(shape, device=device)
        self.v = torch.zeros(shape, device=device)

    def append(self, start: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store k, v (B, H, T, D) at positions start.. and return all keys/values up to start + T."""
        end = start + k.shape[2]
        self.k[:, :, start:end] = k
        self.v[:, :, start:end] = v
        return self.k[:, :, :end], self.v[:, :, :end]


class DeltaNetState:
    """The O(1) recurrent state of one DeltaNet layer: S (B, heads, d_k, d_v); None before the first token."""

    def __init__(self) -> None:
        self.state: torch.Tensor | None = None


class ModelCache:
    """Decoding state of a whole model. `length` tokens have been consumed; all rows of the batch share it."""

    def __init__(self, cfg, batch_size: int, device=None):
        self.batch_size, self.max_seq_len, self.length = batch_size, cfg.max_seq_len, 0
        self.layers: list[KVCache | DeltaNetState] = [
            KVCache(batch_size, cfg.n_kv_heads, cfg.max_seq_len, cfg.head_dim, device)
            if cfg.layer_type(i) == "A" else DeltaNetState()
            for i in range(cfg.n_layers)
        ]

    def check_room(self, batch_size: int, new_tokens: int) -> None:
        if batch_size != self.batch_size:
            raise NanochatError(f"cache was made for batch size {self.batch_size}, got {batch_size}; make a new cache")
        if self.length + new_tokens > self.max_seq_len:
            raise NanochatError(f"sequence of {self.length + new_tokens} tokens exceeds max_seq_len {self.max_seq_len}; "
                                "shorten the prompt or generate fewer tokens")
