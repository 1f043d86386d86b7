"""A random-weight `tiny` TernaryLM with the test BPE, exported as a nanochat GGUF: the real model the server tests run."""

from __future__ import annotations

from pathlib import Path

from tests.serve.bigram_backend import small_tokenizer


def write_tiny_model(path: Path, max_seq_len: int = 256, seed: int = 0):
    """Writes the GGUF; returns the torch model it came from (for cross-checks against the engine)."""
    import torch

    from nanochat_cli.formats import model_weights, write_nanochat_gguf
    from nanochat_cli.model import TernaryLM, named_config

    tok = small_tokenizer()
    torch.manual_seed(seed)
    model = TernaryLM(named_config("tiny", vocab_size=tok.get_vocab_size(), max_seq_len=max_seq_len)).eval()
    write_nanochat_gguf(model_weights(model, tok.to_str(), "tiny random"), path)
    return model
