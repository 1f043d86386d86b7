/* Ternary matmul library: y[n, m] = x_scale[n] * sum_g s[m, g] * sum_{k in g} t[m, k] * q[n, k].
 *
 * Built by cffi (native/build.py) into nanochat_cli.kernels._native; the Python face is nanochat_cli.kernels.
 * The numeric contract is nanochat_cli/ternary/quant.py: exact int32 per-group accumulators, then float32
 * products and sums in group order (no FMA: the library is compiled with -ffp-contract=off).
 *
 * Three weight layouts:
 *  - planar (PlanarWeights): codes[M][K/4], trit codes -1 -> 0b11, 0 -> 0b00, +1 -> 0b01, 0b10 -> 0,
 *    four per byte, LSB first; scales[M][K/G] or one per tensor. The scalar reference reads this.
 *  - interleaved (built once at load by tq_layout_build), what the SIMD kernels read; see layout.c.
 *  - 1.6-bit (5 trits per byte, built only on request by tq_layout16_build), what the avx512vbmi-tq16
 *    kernel reads beside the interleaved scales; see layout16.c. It wins only for GEMV on weights that
 *    stream from DRAM, so the Python dispatcher builds and picks it by an explicit rule (dispatch.py).
 *  - lookup-table (pattern indices of 3 trits, built only on request by tq_layout_lut_build), what the
 *    avx512vbmi-lut kernel reads beside the interleaved scales; see lut.c. It is for GEMM on weights in cache
 *    (batched decode of a small model); the dispatcher measures it against the others only when asked
 *    (NANOCHAT_LUT=1, dispatch.py): on the CPU it was measured on, the 2-bit kernel is faster.
 */
#ifndef NANOCHAT_TERNARY_H
#define NANOCHAT_TERNARY_H

#include <stddef.h>
#include <stdint.h>

/* Rows per interleaved block: 64 rows x 4 columns = 256 trits = one 64-byte cache line per k-step. */
#define TQ_BLOCK_ROWS 64
/* Rows per 1.6-bit block: 5 groups of 16 rows share each byte of a 64-byte line. */
#define TQ16_BLOCK_ROWS 80
/* Rows per lookup-table block (one 64-byte line holds 32 rows' 16-bit pattern indices of one triple of columns),
 * and triples per int16 chunk of its sums (|sum| <= 64 * 3 * 128 < 2^15; lut.c). */
#define TQ_LUT_BLOCK_ROWS 32
#define TQ_LUT_CHUNK 64
#define TQ_MAX_THREADS 64

enum tq_kernel {
    TQ_KERNEL_SCALAR = 0, TQ_KERNEL_AVX2 = 1, TQ_KERNEL_AVX512 = 2, TQ_KERNEL_TQ16 = 3, TQ_KERNEL_LUT = 4,
    TQ_KERNEL_COUNT = 5
};

typedef struct {
    const uint8_t *planar;        /* [M][K/4] trit codes */
    const float *planar_scales;   /* [M][n_groups], or one float when per_tensor */
    const uint8_t *codes;         /* interleaved: [M/64 blocks][K/4 k-steps][64 bytes] of (t+1) fields */
    const float *scales;          /* interleaved: [M/64 blocks][n_groups][64], zero on padded rows */
    int32_t M, K;
    int32_t group;                /* columns per scale group; K when per_tensor */
    int32_t n_groups;
    int32_t per_tensor;
    const uint8_t *codes16;       /* 1.6-bit: [ceil(M/80) blocks][K/4 k-steps][64 bytes], or NULL when not built */
    const uint8_t *codes_lut;     /* lookup-table: [ceil(M/32) blocks][triples][64 bytes], or NULL when not built */
} tq_weights;

/* Library: */
int tq_cpu_supports(int kernel);                  /* CPUID + XGETBV: 1 if this CPU and OS can run it */
const char *tq_kernel_name(int kernel);
const char *tq_cpu_brand(void);
size_t tq_layout_code_bytes(int32_t M, int32_t K);
size_t tq_layout_scale_count(int32_t M, int32_t n_groups);
void tq_layout_build(const tq_weights *w, uint8_t *codes, float *scales, int n_threads);
size_t tq_layout16_code_bytes(int32_t M, int32_t K);
void tq_layout16_build(const tq_weights *w, int n_threads);  /* fills w->codes16 from w->planar */
size_t tq_layout_lut_code_bytes(int32_t M, int32_t K, int32_t group);
void tq_layout_lut_build(const tq_weights *w, int n_threads);  /* fills w->codes_lut from w->planar */

/* y = W x for N activation rows. out[N][M] float32; acc_out, when not NULL, receives the exact int32
 * per-group accumulators [N][M][n_groups] (the debug entry point of the tests). Returns 0, or
 * -1 unsupported kernel, -2 out of memory, -3 the kernel's layout is not built (codes16 or codes_lut NULL). */
int tq_matmul(int kernel, const tq_weights *w, const int8_t *q, const float *x_scale, int32_t N,
              float *out, int32_t *acc_out, int n_threads);

/* Run tq_matmul `reps` times cycling through `n_w` weight copies and store each call's wall time (ns). */
int tq_time_matmul(int kernel, const tq_weights *ws, int n_w, const int8_t *q, const float *x_scale, int32_t N,
                   float *out, int n_threads, int reps, double *ns_out);

/* Read bandwidth (bytes per second) of a `bytes` buffer read by n_threads threads, median of `reps`. */
double tq_read_bandwidth(size_t bytes, int n_threads, int reps);

/* Peak int8 dot-product rate of one core (vpdpbusd), ops per second; -1 without AVX-512 VNNI. */
double tq_int8_dot_peak(void);
/* The lookup-table kernel's counterpart (vpermb + vpaddw, one core), in the same weight ops per second; -1 without
 * AVX-512 VBMI. Where it is below tq_int8_dot_peak, no tuning lets the lookup kernel beat the 2-bit one. */
double tq_lut_lookup_peak(void);

/* The persistent pool: fn(arg, begin, end) over unit ranges covering [0, n_units) on n_threads threads (the
 * calling thread is one of them); returns when every unit has run. The engine's C layer stack runs on it too. */
void tq_pool_run(void (*fn)(void *arg, int begin, int end), void *arg, int n_units, int n_threads);

int tq_numa_nodes(void);
int tq_max_threads(void);

#endif
