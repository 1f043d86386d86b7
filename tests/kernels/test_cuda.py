"""CUDA dp4a kernel: the source compiles to PTX for sm_80 / sm_90 wherever nvcc is present; on a GPU it
joins the Triangle of Truth (bit-exact accumulators against the numpy reference and the C kernels)."""

import shutil
import subprocess

import numpy as np
import pytest

from nanochat_cli.kernels import accumulators, available_kernels, matmul, prepare
from nanochat_cli.kernels.cuda import SOURCE, cuda_status
from nanochat_cli.ternary import PlanarWeights, integer_accumulators, reference_matmul, unpack_trits


@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
def test_cuda_source_compiles_to_ptx(arch, tmp_path):
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc is not on PATH")
    ptx = tmp_path / f"dp4a_{arch}.ptx"
    run = subprocess.run([nvcc, "--ptx", f"-arch={arch}", str(SOURCE), "-o", str(ptx)], capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    text = ptx.read_text()
    assert ".entry ternary_gemm_dp4a" in text and "dp4a" in text


@pytest.mark.gpu
@pytest.mark.parametrize("m, k, group_size, n", [(1, 4, 0, 1), (77, 4100, 0, 3), (130, 256, 128, 8), (65, 512, 64, 17),
                                                 (40, 120, 20, 5)])
def test_cuda_matches_reference_and_c_kernels(m, k, group_size, n):
    ok, why = cuda_status()
    if not ok:
        pytest.skip(f"CUDA kernel not runnable here: {why}")
    from nanochat_cli.kernels.cuda import CudaMatrix, cuda_accumulators, cuda_matmul

    rng = np.random.default_rng(m + k + n)
    packed = rng.integers(0, 256, size=(m, k // 4), dtype=np.uint8)  # includes the invalid code 0b10
    scales = rng.uniform(0.1, 2, size=(1, 1) if group_size == 0 else (m, k // group_size)).astype(np.float32)
    planar = PlanarWeights.from_packed(packed, scales, (m, k), group_size)
    q = rng.integers(-127, 128, size=(n, k), dtype=np.int8)
    q[0, :] = 127
    x_scale = rng.uniform(0, 1, size=n).astype(np.float32)
    trits = unpack_trits(packed)
    cm = CudaMatrix(planar)
    np.testing.assert_array_equal(cuda_accumulators(cm, q), integer_accumulators(trits, q, group_size))
    y = cuda_matmul(cm, q, x_scale)
    np.testing.assert_allclose(y, reference_matmul(trits, scales, group_size, q, x_scale), rtol=1e-6, atol=1e-30)
    prepared = prepare(planar)
    for kernel in available_kernels():
        np.testing.assert_array_equal(accumulators(prepared, q, kernel), cuda_accumulators(cm, q))
        np.testing.assert_array_equal(matmul(prepared, q, x_scale, kernel=kernel), y)
