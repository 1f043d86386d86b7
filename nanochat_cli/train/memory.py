"""Training memory, estimated from the recipe before anything is allocated: `check_training_memory` refuses a model
width, depth, batch or validation set the machine cannot hold in one clear line, instead of a MemoryError (or the
OOM killer) after the data preparation.

The estimate is a lower bound (it leaves out the optimizer's extra buffers, most activations and allocator slack),
so it only refuses what certainly does not fit.
"""

from __future__ import annotations

from nanochat_cli.host_memory import check_fits


def parameter_lower_bound(cfg) -> int:
    """Parameters of the model, counted low: embedding (and an untied head), q/o projections and two FFN matrices
    per block (per expert with MoE)."""
    d, hq = cfg.d_model, cfg.n_heads * cfg.head_dim
    experts = max(1, cfg.moe_experts)
    ffn = cfg.expert_hidden if cfg.moe_experts else cfg.ffn_hidden
    per_block = 2 * d * hq + 2 * d * ffn * experts
    return cfg.vocab_size * d * (1 if cfg.tie_embeddings else 2) + cfg.n_layers * per_block


def training_bytes(cfg, recipe) -> dict[str, int]:
    """What a training step certainly holds (model state, activations, logits) and what validation allocates."""
    t = recipe.train
    tokens = t.batch_size * t.seq_len
    return {
        # fp32 weights, their gradients and one optimizer buffer (Muon momentum / Lion's moving average)
        "model": 12 * parameter_lower_bound(cfg),
        # per block the saved input and FFN hidden state of every token; the logits and their gradient (2 bytes
        # each: bf16 autocast keeps some of them that small)
        "activations": 2 * tokens * (cfg.n_layers * (cfg.d_model + cfg.ffn_hidden) + 2 * cfg.vocab_size),
        # validation window offsets: float64 from np.linspace, then int64
        "validation": 16 * recipe.validation.batches * t.batch_size,
    }


def check_training_memory(cfg, recipe, device) -> None:
    """NanochatError when the recipe's model, batches or validation set cannot fit this machine (or GPU)."""
    need = training_bytes(cfg, recipe)
    step = need["model"] + need["activations"]
    what = (f"training this model ({parameter_lower_bound(cfg):,}+ parameters, d_model {cfg.d_model}, "
            f"{cfg.n_layers} layers) at batch {recipe.train.batch_size} x {recipe.train.seq_len}")
    fix = ("lower model.d_model, model.n_layers, train.batch_size or train.seq_len, or pick a smaller model.size")
    on_gpu = getattr(device, "type", None) == "cuda"
    if on_gpu:
        import torch

        check_fits(step, what, fix, available=torch.cuda.mem_get_info(device)[0])
    else:
        check_fits(step, what, fix)
    check_fits(need["validation"] + (0 if on_gpu else step),
               f"{recipe.validation.batches:,} validation.batches of {recipe.train.batch_size} windows",
               "lower validation.batches")
