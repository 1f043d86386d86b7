/* AVX2 kernel: vpmaddubsw (u8 t+1 times s8 q, pairs summed to int16) then vpmaddwd by ones (int32).
 *
 * Same interleaved layout as the AVX-512 kernel (layout.c). With only 16 ymm registers, a 64-row
 * block is swept as two halves of 32 rows (bytes 0..31 then 32..63 of each line; the second sweep
 * hits L2), so GEMV holds 8 int32 accumulators and a GEMM tile of 2 columns holds 8 too.
 * The 4^j-scaled fields stay exact: 2 * 128 * 127 = 32512 fits vpmaddubsw's saturating int16.
 * Compiled with its own target attribute; dispatch.c calls it only when CPUID + XGETBV allow AVX2.
 */
#pragma GCC target("avx2")
#include <immintrin.h>
#include <string.h>

#include "internal.h"

#define TQ_TILE_N 2
#define AI static inline __attribute__((always_inline))

AI __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

static void __attribute__((noinline, cold)) dump_acc(const tq_call *c, int32_t n, int32_t row0, int32_t g, __m256i acc) {
    int32_t lanes[8];
    _mm256_storeu_si256((__m256i *)lanes, acc);
    const tq_weights *w = c->w;
    for (int L = 0; L < 8 && row0 + L < w->M; L++)
        c->acc_out[((size_t)n * (size_t)w->M + (size_t)(row0 + L)) * (size_t)w->n_groups + (size_t)g] = lanes[L];
}

AI __m256i dot4(__m256i acc, __m256i d, __m256i x, __m256i ones) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(d, x), ones));
}

/* Rows 64b + 16j + 8h + L (L = 0..7, j = 0..3) for activation columns n0 .. n0+NB-1. */
AI void half_tile(const tq_call *c, int32_t b, int h, int32_t n0, const int NB) {
    const tq_weights *w = c->w;
    const int32_t K = w->K, ksteps = K / 4, gsteps = w->group / 4, ng = w->n_groups;
    const uint8_t *lines = w->codes + (size_t)b * (size_t)ksteps * 64 + 32 * h;
    const float *sc = w->scales + (size_t)b * (size_t)ng * TQ_BLOCK_ROWS + 8 * h;
    const int8_t *q = c->q + (size_t)n0 * (size_t)K;
    const __m256i m0 = _mm256_set1_epi8(0x03), m1 = _mm256_set1_epi8(0x0C);
    const __m256i m2 = _mm256_set1_epi8(0x30), m3 = _mm256_set1_epi8((char)0xC0);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 y[TQ_TILE_N][4];
    for (int n = 0; n < NB; n++)
        for (int j = 0; j < 4; j++) y[n][j] = _mm256_setzero_ps();

    for (int32_t g = 0; g < ng; g++) {
        __m256i a[TQ_TILE_N][4];
        for (int n = 0; n < NB; n++)
            for (int j = 0; j < 4; j++) a[n][j] = _mm256_setzero_si256();
        for (int32_t s = g * gsteps; s < (g + 1) * gsteps; s++) {
            const uint8_t *p = lines + (size_t)s * 64;
            _mm_prefetch((const char *)p + 256, _MM_HINT_T0); /* distance as measured for AVX-512 */
            __m256i v = _mm256_load_si256((const __m256i *)p);
            __m256i d0 = _mm256_and_si256(v, m0), d1 = _mm256_and_si256(v, m1);
            __m256i d2 = _mm256_and_si256(v, m2), d3 = _mm256_and_si256(v, m3);
            for (int n = 0; n < NB; n++) {
                __m256i x = bcast4(q + (size_t)n * (size_t)K + 4 * (size_t)s);
                a[n][0] = dot4(a[n][0], d0, x, ones);
                a[n][1] = dot4(a[n][1], d1, x, ones);
                a[n][2] = dot4(a[n][2], d2, x, ones);
                a[n][3] = dot4(a[n][3], d3, x, ones);
            }
        }
        const float *sg = sc + (size_t)g * TQ_BLOCK_ROWS;
        for (int n = 0; n < NB; n++) {
            const __m256i corr = _mm256_set1_epi32(c->sumq[(size_t)(n0 + n) * (size_t)ng + (size_t)g]);
            __m256i acc[4] = {
                _mm256_sub_epi32(a[n][0], corr),
                _mm256_sub_epi32(_mm256_srai_epi32(a[n][1], 2), corr),
                _mm256_sub_epi32(_mm256_srai_epi32(a[n][2], 4), corr),
                _mm256_sub_epi32(_mm256_srai_epi32(a[n][3], 6), corr),
            };
            for (int j = 0; j < 4; j++) {
                if (__builtin_expect(c->acc_out != NULL, 0))
                    dump_acc(c, n0 + n, b * TQ_BLOCK_ROWS + 16 * j + 8 * h, g, acc[j]);
                y[n][j] = _mm256_add_ps(y[n][j], _mm256_mul_ps(_mm256_load_ps(sg + 16 * j), _mm256_cvtepi32_ps(acc[j])));
            }
        }
    }
    for (int n = 0; n < NB; n++) {
        const __m256 xs = _mm256_set1_ps(c->x_scale[n0 + n]);
        float *o = c->out + (size_t)(n0 + n) * (size_t)w->M;
        for (int j = 0; j < 4; j++) {
            int32_t row0 = b * TQ_BLOCK_ROWS + 16 * j + 8 * h, rem = w->M - row0;
            if (rem <= 0) continue;
            __m256 r = _mm256_mul_ps(xs, y[n][j]);
            if (rem >= 8) {
                _mm256_storeu_ps(o + row0, r);
            } else {
                float lanes[8];
                _mm256_storeu_ps(lanes, r);
                memcpy(o + row0, lanes, sizeof(float) * (size_t)rem);
            }
        }
    }
}

void tq_kernel_avx2(const tq_call *c, int32_t blk_begin, int32_t blk_end) {
    for (int32_t b = blk_begin; b < blk_end; b++)
        for (int h = 0; h < 2; h++) {
            int32_t n0 = 0;
            for (; n0 + TQ_TILE_N <= c->N; n0 += TQ_TILE_N) half_tile(c, b, h, n0, TQ_TILE_N);
            if (n0 < c->N) half_tile(c, b, h, n0, 1);
        }
}
