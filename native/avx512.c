/* AVX-512 VNNI kernel: one vpdpbusd per 16 rows x 4 columns, decoded with one AND (layout.c).
 *
 * Compiled for a generic x86-64 with this file's own target attribute; dispatch.c calls it only when
 * CPUID + XGETBV say the CPU and OS support AVX-512 F/BW/VL/VNNI.
 *
 * Design: per 64-byte line, 4 ANDs (the 4^j-scaled fields are shifted out of the int32 sums once per
 * group) and 4 vpdpbusd against one broadcast of 4 activations. Shift-and-mask decoding would need
 * 7 ops per line and a VPERMB table lookup as many as the AND, so the AND is the cheapest decode;
 * what is left is vpdpbusd itself: on this machine (AMD EPYC, Zen 4) the N = 1 kernel runs at
 * ~85% of the measured vpdpbusd peak of one core (bench-kernels prints both).
 * Variants measured with bench-kernels' timing loop, 1 thread, medians of 3 runs on a loaded machine
 * (docs/BENCHMARKS.md, ## kernels):
 *  - two accumulator sets (even / odd k-steps) to hide vpdpbusd latency: 381 vs 407 GOPS for one
 *    set at 4096x4096 hot, so one set it is (the 4 independent rows-groups already cover latency);
 *  - software prefetch distance, 4096x4096: none 374 hot / 217 cold, 256 B 406 / 225,
 *    512 B 405 / 218, 1024 B 406 / 182 -> 256 B (4 lines) ahead;
 *  - GEMM tile of activation columns sharing each decoded line, N = 8: 2 columns 406-428 GOPS,
 *    3 columns 375-389, 4 columns 378 (4 spill the 16 float + 16 int accumulators) -> 2.
 */
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni")
#include <immintrin.h>
#include <string.h>

#include "avx512_common.h"

/* Bytes ahead of the current line to prefetch (measured, see above). */
#ifndef TQ_PREFETCH_BYTES
#define TQ_PREFETCH_BYTES 256
#endif
#ifndef TQ_TILE_N
#define TQ_TILE_N 2
#endif

/* Rows 64b .. 64b+63 for activation columns n0 .. n0+NB-1. */
AI void tile(const tq_call *c, int32_t b, int32_t n0, const int NB) {
    const tq_weights *w = c->w;
    const int32_t K = w->K, ksteps = K / 4, gsteps = w->group / 4, ng = w->n_groups;
    const uint8_t *lines = w->codes + (size_t)b * (size_t)ksteps * 64;
    const float *sc = w->scales + (size_t)b * (size_t)ng * TQ_BLOCK_ROWS;
    const int8_t *q = c->q + (size_t)n0 * (size_t)K;
    const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0C);
    const __m512i m2 = _mm512_set1_epi8(0x30), m3 = _mm512_set1_epi8((char)0xC0);
    __m512 y[TQ_TILE_N][4];
    for (int n = 0; n < NB; n++)
        for (int j = 0; j < 4; j++) y[n][j] = _mm512_setzero_ps();

    for (int32_t g = 0; g < ng; g++) {
        __m512i a[TQ_TILE_N][4];
        for (int n = 0; n < NB; n++)
            for (int j = 0; j < 4; j++) a[n][j] = _mm512_setzero_si512();
        int32_t s = g * gsteps;
        const int32_t end = s + gsteps;
        for (; s < end; s++) {
            const uint8_t *p = lines + (size_t)s * 64;
#if TQ_PREFETCH_BYTES > 0
            _mm_prefetch((const char *)p + TQ_PREFETCH_BYTES, _MM_HINT_T0);
#endif
            __m512i v = _mm512_load_si512(p);
            __m512i d0 = _mm512_and_si512(v, m0), d1 = _mm512_and_si512(v, m1);
            __m512i d2 = _mm512_and_si512(v, m2), d3 = _mm512_and_si512(v, m3);
            for (int n = 0; n < NB; n++) {
                __m512i x = bcast4(q + (size_t)n * (size_t)K + 4 * (size_t)s);
                a[n][0] = _mm512_dpbusd_epi32(a[n][0], d0, x);
                a[n][1] = _mm512_dpbusd_epi32(a[n][1], d1, x);
                a[n][2] = _mm512_dpbusd_epi32(a[n][2], d2, x);
                a[n][3] = _mm512_dpbusd_epi32(a[n][3], d3, x);
            }
        }
        const float *sg = sc + (size_t)g * TQ_BLOCK_ROWS;
        for (int n = 0; n < NB; n++) {
            const __m512i corr = _mm512_set1_epi32(c->sumq[(size_t)(n0 + n) * (size_t)ng + (size_t)g]);
            __m512i acc[4] = {
                _mm512_sub_epi32(a[n][0], corr),
                _mm512_sub_epi32(_mm512_srai_epi32(a[n][1], 2), corr),
                _mm512_sub_epi32(_mm512_srai_epi32(a[n][2], 4), corr),
                _mm512_sub_epi32(_mm512_srai_epi32(a[n][3], 6), corr),
            };
            for (int j = 0; j < 4; j++) {
                if (__builtin_expect(c->acc_out != NULL, 0)) dump_acc(c, n0 + n, b * TQ_BLOCK_ROWS + 16 * j, g, acc[j]);
                y[n][j] = _mm512_add_ps(y[n][j], _mm512_mul_ps(_mm512_load_ps(sg + 16 * j), _mm512_cvtepi32_ps(acc[j])));
            }
        }
    }
    for (int n = 0; n < NB; n++) {
        const __m512 xs = _mm512_set1_ps(c->x_scale[n0 + n]);
        float *o = c->out + (size_t)(n0 + n) * (size_t)w->M;
        for (int j = 0; j < 4; j++) {
            int32_t row0 = b * TQ_BLOCK_ROWS + 16 * j, rem = w->M - row0;
            if (rem <= 0) break;
            __mmask16 keep = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1);
            _mm512_mask_storeu_ps(o + row0, keep, _mm512_mul_ps(xs, y[n][j]));
        }
    }
}

void tq_kernel_avx512(const tq_call *c, int32_t blk_begin, int32_t blk_end) {
    for (int32_t b = blk_begin; b < blk_end; b++) {
        int32_t n0 = 0;
        for (; n0 + TQ_TILE_N <= c->N; n0 += TQ_TILE_N) tile(c, b, n0, TQ_TILE_N);
        switch (c->N - n0) {
        case 3: if (TQ_TILE_N > 3) tile(c, b, n0, 3); break;
        case 2: if (TQ_TILE_N > 2) tile(c, b, n0, 2); break;
        case 1: tile(c, b, n0, 1); break;
        default: break;
        }
    }
}

/* Peak int8 dot throughput of this core: 12 independent vpdpbusd chains, nothing else (the compute
 * roofline bench-kernels prints). Returns multiply-adds x 2 per second of this thread's CPU time, so
 * other processes sharing the core do not depress it. */
#include <time.h>
double tq_int8_dot_peak_avx512(void) {
    __m512i acc[12], x = _mm512_set1_epi8(1), y = _mm512_set1_epi8(2);
    for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_epi32(i);
    const long iters = 2000000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    for (long it = 0; it < iters; it++) {
        for (int i = 0; i < 12; i++) acc[i] = _mm512_dpbusd_epi32(acc[i], x, y);
        __asm__ volatile("" : "+v"(x)); /* keep the loop from being folded */
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    __m512i s = acc[0];
    for (int i = 1; i < 12; i++) s = _mm512_add_epi32(s, acc[i]);
    volatile int sink = _mm512_reduce_add_epi32(s);
    (void)sink;
    double sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    return (double)iters * 12.0 * 64.0 * 2.0 / sec;
}
