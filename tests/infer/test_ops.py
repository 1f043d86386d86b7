"""The engine's C helpers against numpy: contract quantization (plain and fused with RMSNorm), the int8 head."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nanochat_cli.infer.layers import rms_norm
from nanochat_cli.infer.linear import Act, Int8Linear, TernaryLinear, fuse_planar
from nanochat_cli.ternary import PlanarWeights, quantize_activations, reference_matmul


@given(st.integers(1, 5), st.sampled_from([4, 12, 256, 1000, 1536]), st.floats(1e-3, 1e3), st.integers(0, 2**31))
@settings(max_examples=60, deadline=None)
def test_c_quantization_is_the_contract(n, k, magnitude, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, k)) * magnitude).astype(np.float32)
    x[0, : k // 2] = np.round(x[0, : k // 2])  # many exact .5 ties after scaling
    x[-1] = 0 if n > 1 else x[-1]
    q, s = Act(x).quantized()
    q_ref, s_ref = quantize_activations(x)
    np.testing.assert_array_equal(s, s_ref)
    np.testing.assert_array_equal(q, q_ref)


@given(st.integers(1, 4), st.sampled_from([8, 256, 1536, 1000]), st.integers(0, 2**31))
@settings(max_examples=40, deadline=None)
def test_fused_norm_quantize_matches_rms_norm_then_contract(n, k, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, k)) * 3).astype(np.float32)
    w = rng.uniform(0.5, 2, k).astype(np.float32)
    act = Act(x, w, 1e-5)
    q, s = act.quantized()
    np.testing.assert_allclose(act.y, rms_norm(x, w, 1e-5), rtol=2e-6, atol=1e-6)
    q_ref, s_ref = quantize_activations(act.y)  # the quantization of exactly the rows it returns
    np.testing.assert_array_equal(q, q_ref)
    np.testing.assert_array_equal(s, s_ref)


@given(st.integers(1, 70), st.sampled_from([1, 3, 4, 64, 256, 1000, 64 * 3 + 5]), st.integers(1, 150),
       st.sampled_from([1, 2, 3]), st.integers(0, 2**31))
@settings(max_examples=60, deadline=None)
def test_int8_head_kernels_give_exact_integer_products(n, k, m, threads, seed):
    """Every kind this CPU runs (the VNNI one on its own layout: row blocks of 16, token tiles of 4, K quads, each
    with its tails) gives x_scale * (w_scale * the exact integer dot product), bit for bit, at any thread count;
    activations of +-127 and weights of +-127 included."""
    from nanochat_cli.infer.linear import int8_rows
    from nanochat_cli.kernels import get_threads, set_threads
    from nanochat_cli.kernels.native import native

    rng = np.random.default_rng(seed)
    w = rng.standard_normal((m, k)).astype(np.float32)
    w[0] = np.where(np.arange(k) % 2, 1.0, -1.0)  # a row that rounds to +-127 everywhere
    x = rng.standard_normal((n, k)).astype(np.float32)
    x[-1] = np.where(np.arange(k) % 3, -1.0, 1.0)
    rows, w_scale = int8_rows(w)
    q, s = quantize_activations(x)
    dots = (q.astype(np.int64) @ rows.T.astype(np.int64)).astype(np.float32)
    want = s[:, None] * (w_scale[None, :] * dots)
    before = get_threads()
    set_threads(threads)
    try:
        for kind in range(native()[1].head_best_kind() + 1):  # every kind this CPU runs
            head = Int8Linear(w, kind=kind)
            np.testing.assert_array_equal(head(x), want, err_msg=f"kind {kind}")
    finally:
        set_threads(before)


@given(st.integers(1, 40), st.sampled_from([1, 7, 16, 33, 512, 1000]), st.integers(1, 150), st.sampled_from([1, 2, 3]),
       st.integers(0, 2**31))
@settings(max_examples=60, deadline=None)
def test_float_head_kernel_matches_float64_products(n, k, m, threads, seed):
    """f32_head_matmul (decode batches of any size, 8 rows at a time over blocks of 64 weight rows) against a
    float64 product, every block shape and K tail; each row's result is the same bits as that row alone."""
    from nanochat_cli.infer.linear import FloatLinear
    from nanochat_cli.kernels import get_threads, set_threads

    rng = np.random.default_rng(seed)
    w = rng.standard_normal((m, k)).astype(np.float32)
    x = rng.standard_normal((n, k)).astype(np.float32)
    ref = x.astype(np.float64) @ w.T.astype(np.float64)
    before = get_threads()
    set_threads(threads)
    try:
        head = FloatLinear(w)
        got = head._native(x)
        np.testing.assert_array_equal(head._native(x[-1:]), got[-1:])  # the batch does not change a row's bits
        for kind in range(head._kind):  # the scalar loop too, where the CPU has the vector one
            head._kind = kind
            np.testing.assert_allclose(head._native(x), ref, rtol=1e-5, atol=1e-5 * np.sqrt(k))
    finally:
        set_threads(before)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * np.sqrt(k))
    np.testing.assert_allclose(head(x), ref, rtol=1e-5, atol=1e-5 * np.sqrt(k))


def test_float_head_kernel_refuses_no_rows():
    from nanochat_cli.kernels.native import native

    ffi, lib = native()
    w, x, y = np.ones((4, 16), np.float32), np.ones((1, 16), np.float32), np.empty((1, 4), np.float32)
    fb = ffi.from_buffer
    assert lib.f32_head_matmul(fb("float[]", w), 4, 16, fb("float[]", x), 0, fb("float[]", y), 0, 1) == -1


def check_every_q6_k_kernel(head, x, ref, threads: int, tol: float) -> None:
    """head(x) against the float64 reference on the vector kernel (where this CPU has it) and the scalar one."""
    from nanochat_cli.kernels import get_threads, set_threads

    before = get_threads()
    set_threads(threads)
    try:
        for kind in range(head.kind, -1, -1):
            head.kind = kind
            np.testing.assert_allclose(head(x), ref, rtol=tol, atol=tol * np.abs(ref).max())
    finally:
        set_threads(before)


@given(st.integers(1, 11), st.sampled_from([256, 512, 1536]), st.integers(1, 200), st.sampled_from([1, 2]),
       st.integers(0, 2**31))
@settings(max_examples=30, deadline=None)
def test_q6_k_head_multiplies_the_stored_blocks(n, k, m, threads, seed):
    """Q6KLinear against gguf-py's own dequantization of the same blocks times the int8 activations, float64;
    token counts above 8 cover the second group of the vector kernel, and the scalar kernel is checked too."""
    import gguf

    from nanochat_cli.formats.q6_k import encode_q6_k
    from nanochat_cli.infer.linear import Q6KLinear

    rng = np.random.default_rng(seed)
    w = (rng.standard_normal((m, k)) * rng.uniform(0.01, 3, (m, 1))).astype(np.float32)
    blocks = encode_q6_k(w)
    w_file = gguf.quants.dequantize(blocks, gguf.GGMLQuantizationType.Q6_K).reshape(m, k).astype(np.float64)
    x = rng.standard_normal((n, k)).astype(np.float32)
    q, s = quantize_activations(x)
    ref = s[:, None].astype(np.float64) * (q.astype(np.float64) @ w_file.T)
    check_every_q6_k_kernel(Q6KLinear(blocks, (m, k)), x, ref, threads, 2e-5)


def test_q6_k_head_at_the_extremes_of_its_integer_ranges():
    """Sub-scales of -128 and 127, every 6-bit code 0 or 63 and activations of +-127 (the largest pair sums the
    int16 step of the vector kernel sees), over more rows than one pool unit, on 2 threads."""
    import gguf

    from nanochat_cli.formats.q6_k import Q6_K_BLOCK_BYTES
    from nanochat_cli.infer.linear import Q6KLinear

    m, k = 150, 512
    rng = np.random.default_rng(5)
    blocks = rng.integers(0, 256, (m, k // 256, Q6_K_BLOCK_BYTES), dtype=np.uint8)
    blocks[: m // 2, :, :192] = 0xFF  # codes 63
    blocks[m // 2:, :, :192] = 0  # codes 0
    blocks[:, :, 192:208] = np.where(rng.random((m, k // 256, 16)) < 0.5, 0x80, 0x7F)  # sub-scales -128 / 127
    blocks[:, :, 208:210] = np.frombuffer(np.float16(0.01).tobytes(), np.uint8)
    blocks = blocks.reshape(m, -1)
    w_file = gguf.quants.dequantize(blocks, gguf.GGMLQuantizationType.Q6_K).reshape(m, k).astype(np.float64)
    x = np.where(rng.random((3, k)) < 0.5, -1.0, 1.0).astype(np.float32)  # quantizes to +-127
    q, s = quantize_activations(x)
    assert np.abs(q).min() == 127
    ref = s[:, None].astype(np.float64) * (q.astype(np.float64) @ w_file.T)
    check_every_q6_k_kernel(Q6KLinear(blocks, (m, k)), x, ref, 2, 2e-6)


def test_float_head_keeps_reference_mode_rows_in_float64():
    from nanochat_cli.infer.linear import FloatLinear
    from nanochat_cli.infer.reference import REFERENCE

    rng = np.random.default_rng(2)
    head = FloatLinear(rng.standard_normal((40, 64)).astype(np.float32))
    x, norm = rng.standard_normal((2, 64)), np.ones(64, np.float32)
    act = REFERENCE.act(x, norm, 1e-5)  # reference mode: torch's RMSNorm of float64 rows stays float64
    y = head(act)
    assert act.y.dtype == y.dtype == np.float64
    np.testing.assert_allclose(y, act.y @ head.w.T.astype(np.float64), rtol=1e-12)
    assert head(Act(x.astype(np.float32), norm, 1e-5)).dtype == np.float32


def test_q6_k_head_refuses_rows_that_are_not_whole_blocks():
    from nanochat_cli.errors import NanochatError
    from nanochat_cli.infer.linear import Q6KLinear

    with pytest.raises(NanochatError, match="Q6_K head"):
        Q6KLinear(np.zeros((4, 210), np.uint8), (4, 512))
    with pytest.raises(NanochatError, match="wider than the kernels' 65536"):
        Q6KLinear(np.zeros((1, 257 * 210), np.uint8), (1, 257 * 256))


def test_fused_matrices_give_the_parts_outputs_bit_for_bit():
    rng = np.random.default_rng(0)
    parts = [PlanarWeights.from_float(rng.standard_normal((m, 512)).astype(np.float32), 0) for m in (64, 128, 32)]
    fused = TernaryLinear(parts)
    assert fuse_planar(parts).group_size == 512
    x = rng.standard_normal((5, 512)).astype(np.float32)
    q, s = quantize_activations(x)
    for got, p in zip(fused.split(x), parts):
        np.testing.assert_array_equal(got, reference_matmul(p.trits(), p.scales, 0, q, s))


@pytest.mark.parametrize("t, start, threads", [(1, 0, 1), (1, 40, 1), (17, 0, 2), (9, 23, 1)])
def test_c_attention_matches_the_float64_reference(t, start, threads):
    from nanochat_cli.infer.layers import causal_attention, causal_attention_c

    rng = np.random.default_rng(t + start)
    h, h_kv, d, ctx = 8, 2, 32, 64
    kc, vc = (rng.standard_normal((h_kv, ctx, d)).astype(np.float32) for _ in range(2))
    q = rng.standard_normal((t, h, d)).astype(np.float32)
    ref = causal_attention(q, kc[:, :start + t], vc[:, :start + t], start, np.float64)
    np.testing.assert_allclose(causal_attention_c(q, kc, vc, start, threads), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("h, h_kv, d", [(9, 3, 40), (12, 2, 96), (4, 4, 16), (5, 1, 130), (7, 7, 8)])
def test_c_attention_heads_are_computed_alone(h, h_kv, d):
    """Every (row, head) gets the same bits whatever else shares its call: a cached decode row equals that row of the
    full prefill, and the heads of one kv head cut into parts (as the layer stack's decode units cut them) equal the
    whole call. GQA widths 1..6 cover every group size of the AVX-512 kernel; d % 16 != 0 its masked tail."""
    from nanochat_cli.infer.layers import causal_attention, causal_attention_c

    rng = np.random.default_rng(h * d)
    t, ctx, rep = 21, 24, h // h_kv
    kc, vc = (rng.standard_normal((h_kv, ctx, d)).astype(np.float32) for _ in range(2))
    q = rng.standard_normal((t, h, d)).astype(np.float32)
    full = causal_attention_c(q, kc, vc, 0, 2)
    np.testing.assert_allclose(full, causal_attention(q, kc[:, :t], vc[:, :t], 0, np.float64), rtol=1e-5, atol=1e-5)
    for pos in (0, 7, t - 1):
        np.testing.assert_array_equal(causal_attention_c(q[pos:pos + 1], kc, vc, pos, 1), full[pos:pos + 1])
    pos = t - 1
    for g in range(h_kv):
        for h0 in range(rep):
            heads = slice(g * rep + h0, (g + 1) * rep)
            part = causal_attention_c(q[pos:pos + 1, heads], kc[g:g + 1], vc[g:g + 1], pos, 1)
            np.testing.assert_array_equal(part, full[pos:pos + 1].reshape(h, d)[heads].reshape(1, -1))


@pytest.mark.parametrize("rep, d", [(1, 64), (3, 17), (4, 64), (2, 40), (4, 128)])
def test_c_attention_scores_key_blocks_and_tail_alike(rep, d):
    """The AVX-512 kernel sums a block of 16 keys' scores with one butterfly and the last n % 16 keys one at a time
    (heads up to 64 wide; wider ones, d = 128 here, score every key alone): both must be the same additions. A key
    copied to every place of a block and to the tail, with value rows that pick out its weight (one-hot), must get
    bit-equal weights wherever it stands."""
    from nanochat_cli.infer.layers import causal_attention_c

    rng = np.random.default_rng(rep * d)
    n = 35  # two blocks and a tail of three
    for trial in range(4):
        kc = rng.standard_normal((1, n, d)).astype(np.float32) * (1 + trial)
        vc = np.zeros((1, n, d), np.float32)
        q = rng.standard_normal((1, rep, d)).astype(np.float32)
        for lane in range(32):
            k, v = kc.copy(), vc.copy()
            k[0, lane] = k[0, n - 1]  # the same key in a block and as the tail's last
            v[0, lane, 0], v[0, n - 1, 1] = 1.0, 1.0
            out = causal_attention_c(q, k, v, n - 1, 1).reshape(rep, d)
            assert out[:, 0].tobytes() == out[:, 1].tobytes(), (lane, trial)


def test_c_rope_cache_write_and_attention_match_numpy():
    from nanochat_cli.infer.layers import apply_rope, causal_attention, rope_attend_c, rope_tables

    rng = np.random.default_rng(3)
    h, h_kv, d, ctx, start, t = 8, 2, 32, 48, 11, 5
    cos, sin = rope_tables(d, ctx, 10000.0)
    kc, vc = (rng.standard_normal((h_kv, ctx, d)).astype(np.float32) for _ in range(2))
    qkv = rng.standard_normal((t, (h + 2 * h_kv) * d)).astype(np.float32)
    kc_ref, vc_ref = kc.copy(), vc.copy()
    out = rope_attend_c(qkv, h, h_kv, d, cos, sin, kc, vc, start, 1)
    pos = np.arange(start, start + t)
    qk = apply_rope(qkv[:, :(h + h_kv) * d].reshape(t, h + h_kv, d), cos[pos], sin[pos])
    kc_ref[:, start:start + t] = qk[:, h:].transpose(1, 0, 2)
    vc_ref[:, start:start + t] = qkv[:, (h + h_kv) * d:].reshape(t, h_kv, d).transpose(1, 0, 2)
    np.testing.assert_array_equal(kc, kc_ref)  # the same float32 operations: bit-identical rotated keys
    np.testing.assert_array_equal(vc, vc_ref)
    ref = causal_attention(qk[:, :h], kc_ref[:, :start + t], vc_ref[:, :start + t], start, np.float64)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
