// Ternary GEMV / small-N GEMM on NVIDIA GPUs with __dp4a, loaded by cuda.py through CuPy RawKernel.
//
// Same numeric contract as the C kernels (nanochat_cli/ternary/quant.py): exact int32 per-group sums of
// t * q, then y = x_scale * sum_g (s[m, g] * float(acc)) in group order, with explicitly rounded
// multiplies and adds (__fmul_rn / __fadd_rn) so nvcc cannot fuse them into FMAs.
// It reads the planar layout directly (codes [M][K/4], four 2-bit codes per byte, LSB first): a
// 256-entry table turns one code byte into four signed trits packed in an int, ready for __dp4a
// against four int8 activations. One warp per output row; lanes split each group's bytes and a warp
// shuffle reduces them; NCOL activation columns share every decoded weight word.

#define NCOL 4

__device__ __forceinline__ int warp_sum(int v) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

extern "C" __global__ void ternary_gemm_dp4a(
    const unsigned char *__restrict__ codes,  // [M][K/4]
    const float *__restrict__ scales,         // [M][n_groups], or [1] when per_tensor
    int per_tensor,
    const signed char *__restrict__ q,        // [N][K]
    const float *__restrict__ x_scale,        // [N]
    float *__restrict__ out,                  // [N][M]
    int *__restrict__ acc_out,                // [N][M][n_groups] or NULL
    int M, int K, int G, int N)               // G = K when per_tensor
{
    __shared__ int lut[256];
    for (int i = threadIdx.y * 32 + threadIdx.x; i < 256; i += blockDim.x * blockDim.y) {
        int packed = 0;
        for (int j = 0; j < 4; j++) {
            int code = (i >> (2 * j)) & 3;
            int t = code == 1 ? 1 : (code == 3 ? -1 : 0);  // 0b10 is invalid and decodes to 0
            packed |= (t & 0xff) << (8 * j);
        }
        lut[i] = packed;
    }
    __syncthreads();

    const int row = blockIdx.x * blockDim.y + threadIdx.y;
    const int lane = threadIdx.x;
    const int n0 = blockIdx.y * NCOL;
    if (row >= M) return;
    const int n_groups = K / G, row_bytes = K / 4, group_bytes = G / 4;
    const unsigned char *w = codes + (size_t)row * row_bytes;
    // wide path: each lane takes 4 code bytes (16 columns) at once when groups and rows allow it
    const bool wide = (G % 16 == 0) && (K % 16 == 0);
    float y[NCOL];
    for (int c = 0; c < NCOL; c++) y[c] = 0.0f;

    for (int g = 0; g < n_groups; g++) {
        int acc[NCOL];
        for (int c = 0; c < NCOL; c++) acc[c] = 0;
        if (wide) {
            for (int b = 4 * lane; b < group_bytes; b += 128) {
                unsigned int word = *(const unsigned int *)(w + g * group_bytes + b);
                int t0 = lut[word & 0xff], t1 = lut[(word >> 8) & 0xff];
                int t2 = lut[(word >> 16) & 0xff], t3 = lut[word >> 24];
                for (int c = 0; c < NCOL; c++) {
                    if (n0 + c >= N) break;
                    const int4 x = *(const int4 *)(q + (size_t)(n0 + c) * K + (size_t)g * G + 4 * b);
                    acc[c] = __dp4a(t0, x.x, acc[c]);
                    acc[c] = __dp4a(t1, x.y, acc[c]);
                    acc[c] = __dp4a(t2, x.z, acc[c]);
                    acc[c] = __dp4a(t3, x.w, acc[c]);
                }
            }
        } else {
            for (int b = lane; b < group_bytes; b += 32) {
                int t = lut[w[g * group_bytes + b]];
                for (int c = 0; c < NCOL; c++) {
                    if (n0 + c >= N) break;
                    const int x = *(const int *)(q + (size_t)(n0 + c) * K + (size_t)g * G + 4 * b);
                    acc[c] = __dp4a(t, x, acc[c]);
                }
            }
        }
        const float s = per_tensor ? scales[0] : scales[(size_t)row * n_groups + g];
        for (int c = 0; c < NCOL; c++) {
            int total = warp_sum(acc[c]);
            if (n0 + c < N) {
                if (acc_out && lane == 0) acc_out[((size_t)(n0 + c) * M + row) * n_groups + g] = total;
                y[c] = __fadd_rn(y[c], __fmul_rn(s, (float)total));
            }
        }
    }
    if (lane == 0)
        for (int c = 0; c < NCOL && n0 + c < N; c++) out[(size_t)(n0 + c) * M + row] = __fmul_rn(x_scale[n0 + c], y[c]);
}
