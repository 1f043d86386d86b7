"""`nanochat export`: the nanochat GGUF round-trips a checkpoint exactly; bitnet-tq2/tq1 files hold the same model."""

from __future__ import annotations

import gguf
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nanochat_cli.errors import NanochatError
from nanochat_cli.formats import export_checkpoint, load_model_weights, model_weights
from nanochat_cli.formats.bitnet_gguf import write_bitnet_gguf
from nanochat_cli.formats.gguf_io import read_gguf
from nanochat_cli.formats.q6_k import encode_q6_k
from nanochat_cli.infer import Engine, NativeModel
from nanochat_cli.model import BitLinear, float64_mixing
from tests.infer.conftest import OPTIONS, RUST, make_model, rel_err, write_checkpoint

BITNET_FIT = {"sub_norm": True, "group_size": 256}


def validation_loss_torch(model, ids: list[int]) -> float:
    with torch.no_grad(), float64_mixing():
        logits = model(torch.tensor([ids[:-1]])).logits[0]
    return float(F.cross_entropy(logits.double(), torch.tensor(ids[1:])))


def validation_loss_engine(native: NativeModel, ids: list[int]) -> float:
    logits = Engine(native).prefill(0, ids[:-1], all_logits=True).astype(np.float64)
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(ids) - 1), ids[1:]].mean())


@pytest.mark.parametrize("name", ["plain", "mhc4-dynamic", "moe", "deltanet", "ternary-head", "float-twin"])
def test_export_round_trip_reproduces_validation_loss(name, tokenizer, tmp_path):
    model = make_model(**OPTIONS[name])
    ckpt = write_checkpoint(model, tokenizer, tmp_path / "ckpt")
    out = export_checkpoint(ckpt, tmp_path / "m.gguf")
    ids = tokenizer.encode(RUST[2] + RUST[3]).ids[:100]
    native = NativeModel(load_model_weights(out), mix=np.float64)
    assert abs(validation_loss_engine(native, ids) - validation_loss_torch(model, ids)) < 1e-4


def test_gguf_holds_exactly_the_trained_trits_and_scales(tokenizer, tmp_path):
    model = make_model(**OPTIONS["moe"])
    out = export_checkpoint(write_checkpoint(model, tokenizer, tmp_path / "ckpt"), tmp_path / "m.gguf")
    f = read_gguf(out)
    linears = {f"{n}.weight": m for n, m in model.named_modules() if isinstance(m, BitLinear)}
    assert set(f.ternary_names()) == set(linears)
    for name, mod in linears.items():
        trits, scales = mod.ternary_weights()
        planar = f.planar(name)
        np.testing.assert_array_equal(planar.trits(), trits)
        np.testing.assert_array_equal(planar.scales, scales)
    np.testing.assert_array_equal(f.tensor("embed.weight"), model.embed.weight.detach().numpy())
    assert load_model_weights(out).tokenizer().encode("fn main").ids == tokenizer.encode("fn main").ids


def test_exported_gguf_carries_standard_keys_and_no_local_path(tokenizer, tmp_path):
    model = make_model()
    ckpt = write_checkpoint(model, tokenizer, tmp_path / "ckpt")
    out = export_checkpoint(ckpt, tmp_path / "m.gguf")
    reader = gguf.GGUFReader(str(out))
    file_type = reader.get_field("general.file_type")
    assert file_type.types == [gguf.GGUFValueType.UINT32]
    assert file_type.contents() == int(gguf.LlamaFileType.GUESSED)  # no llama.cpp type is Q1_58
    context = reader.get_field("nanochat.context_length")
    assert context.types == [gguf.GGUFValueType.UINT32] and context.contents() == model.cfg.max_seq_len
    assert reader.get_field("general.architecture").contents() == "nanochat"
    assert reader.get_field("nanochat.source").contents() == "ckpt"
    assert str(tmp_path).encode() not in out.read_bytes()  # no absolute local path anywhere in the file


def test_export_of_a_fim_trained_checkpoint_records_its_fim_rate(tokenizer, tmp_path):
    import json

    from nanochat_cli.serve.engine_backend import read_serving_metadata
    from nanochat_cli.ternary.constants import KEY_FIM_RATE

    ckpt = write_checkpoint(make_model(), tokenizer, tmp_path / "ckpt")
    plain = export_checkpoint(ckpt, tmp_path / "plain.gguf")
    assert gguf.GGUFReader(str(plain)).get_field(KEY_FIM_RATE) is None  # not FIM-trained: no key, file as before
    config = json.loads((ckpt / "config.json").read_text())
    (ckpt / "config.json").write_text(json.dumps({**config, "recipe": {"data": {"fim_rate": 0.5}}}))
    out = export_checkpoint(ckpt, tmp_path / "fim.gguf")
    field = gguf.GGUFReader(str(out)).get_field(KEY_FIM_RATE)
    assert field.types == [gguf.GGUFValueType.FLOAT32] and field.contents() == 0.5
    assert load_model_weights(out).fim_rate == 0.5
    assert read_serving_metadata(str(out)) == (None, 0.5)  # what serve's /infill checks
    assert read_serving_metadata(str(ckpt)) == (None, 0.5)  # a checkpoint served directly says the same


def test_info_describes_a_checkpoint_directory_as_its_export(tokenizer, tmp_path):
    import json

    from typer.testing import CliRunner

    from nanochat_cli.cli import app

    ckpt = write_checkpoint(make_model(), tokenizer, tmp_path / "ckpt")
    res = CliRunner().invoke(app, ["info", str(ckpt), "--json"])
    assert res.exit_code == 0, res.output
    desc = json.loads(res.stdout)
    assert desc["path"] == str(ckpt) and desc["exported_from_checkpoint"] and desc["gguf_version"] == 3
    trits = [t for t in desc["tensors"] if t["name"].endswith(".trits")]
    assert trits and all(t["logical_shape"] == [t["shape"][0], 4 * t["shape"][1]] for t in trits)
    res = CliRunner().invoke(app, ["info", str(ckpt)])
    assert res.exit_code == 0 and "as `nanochat export` would write it" in res.stdout and "logical shape" in res.stdout


def test_checkpoint_directory_runs_directly(tokenizer, tmp_path, prompt_ids):
    model = make_model()
    ckpt = write_checkpoint(model, tokenizer, tmp_path / "ckpt")
    from_dir = Engine(NativeModel(load_model_weights(ckpt))).prefill(0, prompt_ids)
    from_gguf = Engine(NativeModel(load_model_weights(export_checkpoint(ckpt, tmp_path / "m.gguf")))).prefill(0, prompt_ids)
    np.testing.assert_array_equal(from_dir, from_gguf)


@pytest.mark.parametrize("qtype", ["tq2_0", "tq1_0"])
def test_bitnet_export_runs_in_the_engine_like_the_nanochat_export(qtype, tokenizer, tmp_path, prompt_ids):
    model = make_model(**BITNET_FIT)
    weights = model_weights(model, tokenizer.to_str())
    path = write_bitnet_gguf(weights, tmp_path / "b.gguf", qtype, "f32")
    f = read_gguf(path)
    assert f.metadata["general.architecture"] == "bitnet"
    assert f.tensors["blk.0.attn_q.weight"].tensor_type == gguf.GGMLQuantizationType[qtype.upper()]
    assert f.metadata["tokenizer.ggml.tokens"][:5] == ["<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>",
                                                       "<|fim_suffix|>", "<|pad|>"]
    ref = Engine(NativeModel(weights)).prefill(0, prompt_ids, all_logits=True)
    got = Engine(NativeModel(load_model_weights(path))).prefill(0, prompt_ids, all_logits=True)
    # the only change is each float32 scale rounded once to the fp16 block scale (measured: 1.4e-3, all argmaxes equal)
    assert rel_err(got, ref) < 5e-3
    assert (got.argmax(1) == ref.argmax(1)).mean() > 0.95
    # the stored blocks are the trained trits times the fp16-rounded trained scales, exactly (no re-quantization)
    for ours, theirs in (("attn.q_proj", "attn_q"), ("ffn.down_proj", "ffn_down")):
        planar = weights.get(f"blocks.0.{ours}.weight")
        t = f.tensors[f"blk.0.{theirs}.weight"]
        stored = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type).reshape(planar.shape)
        scales = np.repeat(planar.scales.astype(np.float16).astype(np.float32), 256, axis=1)
        np.testing.assert_array_equal(stored, planar.trits().astype(np.float32) * scales)


def test_bitnet_q6_k_head_runs_on_the_stored_blocks(tokenizer, tmp_path, prompt_ids):
    """A Q6_K tied embedding: the engine's head multiplies the file's blocks (no second quantization), so its
    logits are the file's dequantized head times the int8 final activations, to float32 rounding."""
    from nanochat_cli.infer.linear import Act, Q6KLinear
    from nanochat_cli.ternary import quantize_activations

    if not Q6KLinear.fast():
        pytest.skip("this CPU lacks the Q6_K vector kernel (AVX-512 BW + VBMI); the int8 rows are used instead")
    model = make_model(**BITNET_FIT)
    path = write_bitnet_gguf(model_weights(model, tokenizer.to_str()), tmp_path / "b.gguf", "tq2_0", "q6_k")
    weights = load_model_weights(path)
    native = NativeModel(weights)
    assert isinstance(native.head, Q6KLinear)
    # the embedding stays in its blocks; looked-up rows are exactly gguf-py's dequantization of the whole matrix
    whole = weights.float("embed.weight")
    assert whole.shape == native.embed.shape and whole.dtype == np.float32
    rows = [0, 5, whole.shape[0] - 1, 5]
    np.testing.assert_array_equal(native.embed[rows], whole[rows])
    t = read_gguf(path).tensors["token_embd.weight"]
    w = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type).reshape(native.embed.shape).astype(np.float64)
    x = np.random.default_rng(0).standard_normal((3, w.shape[1])).astype(np.float32)
    act = Act(x, native.norm, native.cfg.norm_eps)
    q, s = quantize_activations(act.y)
    ref = s[:, None].astype(np.float64) * (q.astype(np.float64) @ w.T)
    np.testing.assert_allclose(native.head(act), ref, rtol=2e-5, atol=2e-5 * np.abs(ref).max())
    assert Engine(native).prefill(0, prompt_ids).shape == (w.shape[0],)


def test_bitnet_tokenizer_rebuilt_from_ggml_vocab_matches(tokenizer, tmp_path):
    from tokenizers import Tokenizer

    from nanochat_cli.formats.bitnet_gguf import _ggml_tokenizer_json

    path = write_bitnet_gguf(model_weights(make_model(**BITNET_FIT), tokenizer.to_str()), tmp_path / "b.gguf")
    rebuilt = Tokenizer.from_str(_ggml_tokenizer_json(read_gguf(path)))
    text = RUST[3] + RUST[4]
    assert rebuilt.encode(text).ids == tokenizer.encode(text).ids
    assert rebuilt.decode(tokenizer.encode(text).ids) == text


@pytest.mark.parametrize("option, feature", [
    ({"mhc_streams": 2}, "mHC"), ({"moe_experts": 2, "moe_top_k": 1}, "mixture of experts"),
    ({"layer_pattern": "AD"}, "DeltaNet"), ({"sub_norm": False}, "sub-norm"),
    ({"tie_embeddings": False}, "untied"), ({"group_size": 128}, "group_size = 128"),
    ({"ffn_type": "relu2"}, "relu2"),
])
def test_bitnet_export_of_an_unfit_model_names_the_feature(option, feature, tokenizer, tmp_path):
    weights = model_weights(make_model(**{**BITNET_FIT, **option}), tokenizer.to_str())
    with pytest.raises(NanochatError, match=feature):
        write_bitnet_gguf(weights, tmp_path / "b.gguf")
    assert not (tmp_path / "b.gguf").exists()


def test_bitnet_export_of_rows_not_multiple_of_256_is_refused(tokenizer, tmp_path):
    weights = model_weights(make_model(sub_norm=True, ffn_hidden=384, group_size=0), tokenizer.to_str())
    with pytest.raises(NanochatError, match="384"):
        write_bitnet_gguf(weights, tmp_path / "b.gguf")


def test_q6_k_blocks_decode_with_gguf_py():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((8, 512)) * rng.uniform(0.01, 2, (8, 1))).astype(np.float32)
    x[2] = 0
    back = gguf.quants.dequantize(encode_q6_k(x), gguf.GGMLQuantizationType.Q6_K)
    sub = np.abs(x.reshape(-1, 16, 16)).max(axis=2) / 31  # per 256-block, per 16 values
    d = sub.max(axis=1, keepdims=True) / 127
    bound = (sub + d * 1.002) / 2  # half the stored step: sub-scale rounded up by at most one d (fp16 d)
    assert np.all(np.abs(back - x).reshape(-1, 16, 16) <= bound[:, :, None] + 1e-7)
