"""A bitnet-tq2 export runs in llama.cpp (through llama-cpp-python) with the same greedy tokens as our engine.

llama.cpp quantizes activations per 256-block (Q8_K) where nanochat quantizes per token, so logits differ in
the last digits; the model is trained briefly here (it memorises a few Rust lines) so that its greedy choices have
clear margins. Token ids are fed directly, so the two tokenizers never come into it.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nanochat_cli.formats import load_model_weights, model_weights
from nanochat_cli.formats.bitnet_gguf import write_bitnet_gguf
from nanochat_cli.infer import Engine, NativeModel
from nanochat_cli.model import TernaryLM, named_config
from tests.infer.conftest import RUST

llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")

STEPS = 32


@pytest.fixture(scope="module")
def trained(tokenizer):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: more threads only contend on a shared machine
    try:
        torch.manual_seed(0)
        cfg = named_config("tiny", vocab_size=512, n_layers=1, ffn_hidden=256, max_seq_len=160, sub_norm=True,
                           group_size=256)
        model = TernaryLM(cfg).train()
        data = torch.tensor(tokenizer.encode("".join(RUST)).ids)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
        for _ in range(100):
            loss = torch.nn.functional.cross_entropy(model(data[None, :-1]).logits[0], data[1:])
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    return model.eval()


def llama_greedy(path, ids: list[int], steps: int) -> list[int]:
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=160, n_threads=1, logits_all=True, verbose=False)
    llm.eval(ids)
    out = []
    for _ in range(steps):
        tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        out.append(tok)
        llm.eval([tok])
    return out


@pytest.mark.slow
@pytest.mark.parametrize("embed_type", ["f32", "q6_k"])
def test_llama_cpp_runs_the_bitnet_tq2_export_with_our_greedy_tokens(trained, tokenizer, tmp_path, embed_type):
    path = write_bitnet_gguf(model_weights(trained, tokenizer.to_str()), tmp_path / "m.gguf", "tq2_0", embed_type)
    ids = tokenizer.encode(RUST[0]).ids[:12]
    engine = Engine(NativeModel(load_model_weights(path)))
    logits = engine.prefill(0, ids)
    ours = []
    for _ in range(STEPS):
        ours.append(int(np.argmax(logits)))
        logits = engine.decode([0], [ours[-1]])[0]
    assert len(set(ours)) > 5  # a real continuation, not one token repeated
    assert llama_greedy(path, ids, STEPS) == ours
