"""Triangle of Truth: scalar C == every SIMD kernel == numpy reference, bit-exact on the int32 accumulators.

Float outputs are bit-identical too: every kernel rounds the same float32 products and sums in the same
group order, with no FMA contraction.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nanochat_cli.kernels import accumulators, available_kernels, matmul, prepare, set_threads
from nanochat_cli.kernels.native import KERNEL_IDS, native
from nanochat_cli.ternary import PlanarWeights, integer_accumulators, reference_matmul, unpack_trits

KERNELS = available_kernels()


def planar_from_packed(packed: np.ndarray, scales: np.ndarray, group_size: int) -> PlanarWeights:
    m, kb = packed.shape
    return PlanarWeights.from_packed(packed, scales, (m, kb * 4), group_size)


def random_planar(rng, m: int, k: int, group_size: int, raw_codes: bool = True) -> PlanarWeights:
    """Random codes, including the invalid 0b10 when raw_codes, and random positive scales."""
    if raw_codes:
        packed = rng.integers(0, 256, size=(m, k // 4), dtype=np.uint8)
    else:
        from nanochat_cli.ternary import pack_trits

        packed = pack_trits(rng.integers(-1, 2, size=(m, k), dtype=np.int8))
    shape = (1, 1) if group_size == 0 else (m, k // group_size)
    scales = rng.uniform(0.01, 2.0, size=shape).astype(np.float32)
    return planar_from_packed(packed, scales, group_size)


def assert_triangle(planar: PlanarWeights, q: np.ndarray, x_scale: np.ndarray, threads=(1, 2)) -> None:
    trits = unpack_trits(planar.packed)
    want_acc = integer_accumulators(trits, q, planar.group_size)
    want_y = reference_matmul(trits, planar.scales, planar.group_size, q, x_scale)
    prepared = prepare(planar)
    for t in threads:
        set_threads(t)
        for kernel in KERNELS:
            acc = accumulators(prepared, q, kernel)
            np.testing.assert_array_equal(acc, want_acc, err_msg=f"{kernel} accumulators, {t} threads")
            y = matmul(prepared, q, x_scale, kernel=kernel)
            # the contract fixes every float32 rounding (products, then sums in group order, no FMA): bit-exact
            np.testing.assert_array_equal(y, want_y, err_msg=f"{kernel} output, {t} threads")


def assert_kernel_exact(planar: PlanarWeights, q: np.ndarray, x_scale: np.ndarray, kernel: str,
                        threads=(1, 2)) -> None:
    """acc_out and out of one kernel equal the scalar kernel's and numpy's to the bit (the kernels with a layout of
    their own -- 1.6-bit, lookup-table -- test their geometry with it)."""
    prepared = prepare(planar)
    trits = planar.trits()
    want_acc = integer_accumulators(trits, q, planar.group_size)
    want_y = reference_matmul(trits, planar.scales, planar.group_size, q, x_scale)
    for t in threads:
        set_threads(t)
        np.testing.assert_array_equal(accumulators(prepared, q, "scalar"), want_acc)
        np.testing.assert_array_equal(accumulators(prepared, q, kernel), want_acc, err_msg=f"{kernel}, {t} threads")
        np.testing.assert_array_equal(matmul(prepared, q, x_scale, kernel="scalar"), want_y)
        np.testing.assert_array_equal(matmul(prepared, q, x_scale, kernel=kernel), want_y, err_msg=f"{kernel}, {t} thr")


@pytest.mark.parametrize("kernel, field, nbytes", [
    # 2 bytes (8 trits) per 80 rows x 4 columns -> 64 bytes per line, ceil(100 / 80) = 2 blocks of 32 lines
    ("avx512vbmi-tq16", "codes16", 2 * 32 * 64),
    # ceil(100 / 32) = 4 blocks x ceil(128 / 3) = 43 triples x one 64-byte line of 32 index words
    ("avx512vbmi-lut", "codes_lut", 4 * 43 * 64),
])
def test_a_kernels_own_layout_is_built_only_when_asked_and_the_c_refuses_without_it(kernel, field, nbytes):
    if kernel not in KERNELS:
        pytest.skip(f"this CPU cannot run {kernel}")
    ffi, lib = native()
    prepared = prepare(random_planar(np.random.default_rng(5), 100, 128, 128))
    assert getattr(prepared, field) is None
    q = np.ones((2, 128), np.int8)
    out = np.empty((2, 100), np.float32)
    rc = lib.tq_matmul(KERNEL_IDS[kernel], prepared.c, ffi.from_buffer("int8_t[]", q),
                       ffi.from_buffer("float[]", np.ones(2, np.float32)), 2,
                       ffi.from_buffer("float[]", out, require_writable=True), ffi.NULL, 1)
    assert rc == -3  # the layout is missing: refused, never read
    matmul(prepared, q, np.ones(2, np.float32), kernel=kernel)  # asking for the kernel builds it
    assert getattr(prepared, field).nbytes == nbytes
    assert prepared.nbytes16 + prepared.nbytes_lut == nbytes + prepared.scales.nbytes


def test_a_dropped_lookup_table_layout_leaves_the_descriptor_without_it():
    prepared = prepare(random_planar(np.random.default_rng(6), 40, 64, 64))
    prepared.ensure_lut()
    prepared.drop_lut()
    assert prepared.codes_lut is None and prepared.c.codes_lut == native()[0].NULL and prepared.nbytes_lut == 0


@pytest.mark.parametrize("n", [1, 3, 8, 17])
@pytest.mark.parametrize(
    "m, k, group_size",
    [(1, 4, 0), (5, 4, 4), (64, 128, 128), (130, 128, 0), (77, 4100, 0), (200, 4100, 20), (65, 256, 16), (3, 8, 4)],
)
def test_every_kernel_matches_reference_on_tails_and_groups(m, k, group_size, n):
    rng = np.random.default_rng(m * 1000 + k + n)
    planar = random_planar(rng, m, k, group_size)
    q = rng.integers(-127, 128, size=(n, k), dtype=np.int8)
    x_scale = rng.uniform(0.001, 1.0, size=n).astype(np.float32)
    assert_triangle(planar, q, x_scale)


def test_all_zero_weights_and_activations_give_zero():
    planar = planar_from_packed(np.zeros((70, 32), np.uint8), np.zeros((70, 1), np.float32), 128)
    q = np.zeros((3, 128), np.int8)
    prepared = prepare(planar)
    for kernel in KERNELS:
        assert not matmul(prepared, q, np.ones(3, np.float32), kernel=kernel).any()
        assert not accumulators(prepared, q, kernel).any()


def test_invalid_code_everywhere_decodes_to_zero():
    planar = planar_from_packed(np.full((67, 33), 0b10101010, np.uint8), np.ones((1, 1), np.float32), 0)
    q = np.full((2, 132), 127, np.int8)
    prepared = prepare(planar)
    for kernel in KERNELS:
        assert not accumulators(prepared, q, kernel).any(), kernel
        assert not matmul(prepared, q, np.ones(2, np.float32), kernel=kernel).any(), kernel


@pytest.mark.parametrize("code, act", [(0b01, 127), (0b01, -127), (0b11, 127), (0b11, -127)])
def test_extreme_activations_do_not_saturate(code, act):
    """+-127 against all +-1 weights: the largest int16 pair sums (vpmaddubsw) and int32 group sums."""
    byte = code * 0b01010101
    k = 4096 + 4
    planar = planar_from_packed(np.full((129, k // 4), byte, np.uint8), np.ones((1, 1), np.float32), 0)
    q = np.full((3, k), act, np.int8)
    assert_triangle(planar, q, np.array([1.0, 0.5, 2.0], np.float32))
    expected = (1 if code == 0b01 else -1) * act * k
    assert (accumulators(prepare(planar), q, KERNELS[-1]) == expected).all()


def test_zero_activation_scale_gives_zero_output():
    rng = np.random.default_rng(7)
    planar = random_planar(rng, 96, 256, 128)
    q = rng.integers(-127, 128, size=(2, 256), dtype=np.int8)
    x_scale = np.array([0.0, 1.0], np.float32)
    assert_triangle(planar, q, x_scale)
    for kernel in KERNELS:
        y = matmul(prepare(planar), q, x_scale, kernel=kernel)
        assert not y[0].any()


def test_per_tensor_and_grouped_scales_agree_when_scales_are_equal():
    rng = np.random.default_rng(3)
    packed = rng.integers(0, 256, size=(80, 64), dtype=np.uint8)
    q = rng.integers(-127, 128, size=(4, 256), dtype=np.int8)
    x_scale = np.ones(4, np.float32)
    per_tensor = prepare(planar_from_packed(packed, np.full((1, 1), 1.0, np.float32), 0))
    grouped = prepare(planar_from_packed(packed, np.full((80, 2), 1.0, np.float32), 128))
    for kernel in KERNELS:
        # integer-exact floats: with unit scales both are exact integer sums
        np.testing.assert_array_equal(matmul(per_tensor, q, x_scale, kernel=kernel),
                                      matmul(grouped, q, x_scale, kernel=kernel))


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(1, 140),
    k_steps=st.integers(1, 40),
    n=st.sampled_from([1, 2, 3, 5, 8, 9, 17, 32]),
    grouping=st.sampled_from(["tensor", "one", "four", "k"]),
    threads=st.sampled_from([1, 2, 3]),
    seed=st.integers(0, 2**32 - 1),
)
def test_kernels_agree_on_random_shapes(m, k_steps, n, grouping, threads, seed):
    """Ragged M and K, batch sizes on both sides of every kernel's column tile (2 for the 2-bit and 1.6-bit kernels,
    4 for the lookup-table one), and thread counts that split the row blocks unevenly."""
    k = 4 * k_steps
    group_size = {"tensor": 0, "one": k, "four": 4, "k": k}[grouping]
    rng = np.random.default_rng(seed)
    planar = random_planar(rng, m, k, group_size)
    q = rng.integers(-127, 128, size=(n, k), dtype=np.int8)
    x_scale = rng.uniform(0, 3, size=n).astype(np.float32)
    assert_triangle(planar, q, x_scale, threads=(threads,))


@pytest.mark.parametrize("kernel", ["avx512vbmi-tq16", "avx512vbmi-lut"])
@settings(max_examples=60, deadline=None)
@given(
    m=st.integers(1, 300),
    k_steps=st.integers(1, 80),
    n=st.sampled_from([1, 2, 3, 5, 8, 9, 17, 32, 33]),
    grouping=st.sampled_from(["tensor", "k", "four", "eight", "twelve"]),
    threads=st.sampled_from([1, 2, 3]),
    seed=st.integers(0, 2**32 - 1),
)
def test_kernels_with_their_own_layout_match_scalar_on_random_shapes(kernel, m, k_steps, n, grouping, threads, seed):
    """Larger shapes for the kernels that read a layout of their own: M ragged against the 1.6-bit kernel's 80-row
    and the lookup-table kernel's 32-row blocks (and its 4-block tiles), K any multiple of 4 (groups of G % 3 = 0,
    1, 2 for the lookup-table kernel's triples), batch sizes on both sides of the column tiles, 1-3 threads."""
    if kernel not in KERNELS:
        pytest.skip(f"this CPU cannot run {kernel}")
    k = 4 * k_steps
    group_size = {"tensor": 0, "k": k, "four": 4, "eight": 8 if k % 8 == 0 else 4,
                  "twelve": 12 if k % 12 == 0 else 4}[grouping]
    rng = np.random.default_rng(seed)
    planar = random_planar(rng, m, k, group_size)
    q = rng.integers(-128, 128, size=(n, k), dtype=np.int8)
    assert_kernel_exact(planar, q, rng.uniform(0, 3, size=n).astype(np.float32), kernel, threads=(threads,))


def test_output_goes_into_the_given_buffer():
    rng = np.random.default_rng(11)
    planar = random_planar(rng, 70, 128, 64, raw_codes=False)
    q = rng.integers(-127, 128, size=(2, 128), dtype=np.int8)
    out = np.full((2, 70), np.nan, np.float32)
    y = matmul(prepare(planar), q, np.ones(2, np.float32), out=out)
    assert y is out and np.isfinite(out).all()


@pytest.mark.parametrize("act", [-128, 127])
def test_activations_outside_the_contract_range_still_agree(act):
    """-128 is not produced by quantize_activations but is a valid int8: 2 * 128 * -128 still fits vpmaddubsw's
    int16 pair sums and 64 * 2 * 128 * G fits vpdpbusd's int32 group sums, so no kernel may saturate."""
    k = 512
    planar = planar_from_packed(np.full((70, k // 4), 0b01010101, np.uint8), np.ones((1, 1), np.float32), 0)
    q = np.full((2, k), act, np.int8)
    q[1, ::3] = -act if act != -128 else 127
    assert_triangle(planar, q, np.ones(2, np.float32))
