/* AVX-512 VBMI + VNNI kernel on the 1.6-bit layout (layout16.c): 80 rows per 64-byte line.
 *
 * Compiled for a generic x86-64 with this file's own target attribute; dispatch.c calls it only when
 * CPUID + XGETBV say the CPU and OS support AVX-512 F/BW/VL/VNNI/VBMI, and only for weights whose
 * codes16 was built.
 *
 * Per line: vpmovb2m + 3 vpermi2b decode the chain encoding into A = u0 | u1 << 2 and
 * B = u2 | u3 << 2 | u4 << 4; A and B go to vpdpbusd raw, beside A & 0x0C, B & 0x0C and B & 0x30,
 * and the higher fields are subtracted from the raw sums once per group (exact: every term is an
 * integer multiple of the field it stands for). 5 vpdpbusd per line against 4 for the 2-bit kernel,
 * and 7 decode ops against 4: slower when the weights are in cache (0.73-0.84x in the prototype),
 * 1.12-1.30x when they stream from DRAM, for the 20% fewer bytes (docs/BENCHMARKS.md, ## kernels).
 * Variants the prototype measured (benchmarks/tq16/README.md): a base-3 byte with 2 lookups + blend
 * per field (16 decode ops), a hybrid (12), one lookup per field (7 lookups): all slower than this.
 * Range: |raw B * q| <= 42 * 128 per multiply, so a group of up to 131072 columns (prepared.py's
 * MAX_GROUP_COLUMNS) stays inside int32, as the 2-bit kernel's 64 * 2 * 128 does.
 */
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi")
#include <immintrin.h>
#include <string.h>

#include "internal.h"

/* As avx512.c (measured there for the 2-bit kernel; the prototype kept them). */
#define TQ16_PREFETCH_BYTES 256
#define TQ16_TILE_N 2
#define AI static inline __attribute__((always_inline))

AI __m512i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

static void __attribute__((noinline, cold)) dump_acc(const tq_call *c, int32_t n, int32_t row0, int32_t g, __m512i acc) {
    int32_t lanes[16];
    _mm512_storeu_si512(lanes, acc);
    const tq_weights *w = c->w;
    for (int L = 0; L < 16 && row0 + L < w->M; L++)
        c->acc_out[((size_t)n * (size_t)w->M + (size_t)(row0 + L)) * (size_t)w->n_groups + (size_t)g] = lanes[L];
}

/* Rows 80b .. 80b+79 for activation columns n0 .. n0+NB-1. */
AI void tile(const tq_call *c, const uint8_t (*tab)[128], int32_t b, int32_t n0, const int NB) {
    const tq_weights *w = c->w;
    const int32_t K = w->K, ksteps = K / 4, gsteps = w->group / 4, ng = w->n_groups;
    const uint8_t *lines = w->codes16 + (size_t)b * (size_t)ksteps * 64;
    const int8_t *q = c->q + (size_t)n0 * (size_t)K;
    const __m512i ta0 = _mm512_load_si512(tab[TQ16_TABLE_A]), ta1 = _mm512_load_si512(tab[TQ16_TABLE_A] + 64);
    const __m512i tb0 = _mm512_load_si512(tab[TQ16_TABLE_B]), tb1 = _mm512_load_si512(tab[TQ16_TABLE_B] + 64);
    const __m512i tr0 = _mm512_load_si512(tab[TQ16_TABLE_REMAP]), tr1 = _mm512_load_si512(tab[TQ16_TABLE_REMAP] + 64);
    const __m512i m1 = _mm512_set1_epi8(0x0C), m2 = _mm512_set1_epi8(0x30);
    const int32_t row_base = b * TQ16_BLOCK_ROWS;
    /* 16-row groups past M: nothing to store, and no scales to read (the 2-bit scales end at its padding) */
    const int live = (w->M - row_base + 15) / 16 < 5 ? (w->M - row_base + 15) / 16 : 5;
    __m512 y[TQ16_TILE_N][5];
    for (int n = 0; n < NB; n++)
        for (int j = 0; j < 5; j++) y[n][j] = _mm512_setzero_ps();

    for (int32_t g = 0; g < ng; g++) {
        __m512i a[TQ16_TILE_N][5];
        for (int n = 0; n < NB; n++)
            for (int j = 0; j < 5; j++) a[n][j] = _mm512_setzero_si512();
        int32_t s = g * gsteps;
        const int32_t end = s + gsteps;
        for (; s < end; s++) {
            const uint8_t *p = lines + (size_t)s * 64;
            _mm_prefetch((const char *)p + TQ16_PREFETCH_BYTES, _MM_HINT_T0);
            const __m512i v = _mm512_load_si512(p);
            const __mmask64 top = _mm512_movepi8_mask(v);
            const __m512i A = _mm512_permutex2var_epi8(ta0, v, ta1);
            const __m512i r = _mm512_mask2_permutex2var_epi8(tr0, v, top, tr1);
            const __m512i B = _mm512_permutex2var_epi8(tb0, r, tb1);
            const __m512i d[5] = {A, _mm512_and_si512(A, m1), B, _mm512_and_si512(B, m1), _mm512_and_si512(B, m2)};
            for (int n = 0; n < NB; n++) {
                const __m512i x = bcast4(q + (size_t)n * (size_t)K + 4 * (size_t)s);
                for (int j = 0; j < 5; j++) a[n][j] = _mm512_dpbusd_epi32(a[n][j], d[j], x);
            }
        }
        for (int n = 0; n < NB; n++) {
            const __m512i corr = _mm512_set1_epi32(c->sumq[(size_t)(n0 + n) * (size_t)ng + (size_t)g]);
            /* raw A = u0 + 4 u1, raw B = u2 + 4 u3 + 16 u4: peel the higher fields off, then the 4^i */
            const __m512i acc[5] = {
                _mm512_sub_epi32(_mm512_sub_epi32(a[n][0], a[n][1]), corr),
                _mm512_sub_epi32(_mm512_srai_epi32(a[n][1], 2), corr),
                _mm512_sub_epi32(_mm512_sub_epi32(_mm512_sub_epi32(a[n][2], a[n][3]), a[n][4]), corr),
                _mm512_sub_epi32(_mm512_srai_epi32(a[n][3], 2), corr),
                _mm512_sub_epi32(_mm512_srai_epi32(a[n][4], 4), corr),
            };
            for (int j = 0; j < live; j++) {
                const int32_t row0 = row_base + 16 * j;
                if (__builtin_expect(c->acc_out != NULL, 0)) dump_acc(c, n0 + n, row0, g, acc[j]);
                const float *sg = w->scales + ((size_t)(row0 / TQ_BLOCK_ROWS) * (size_t)ng + (size_t)g) * TQ_BLOCK_ROWS +
                                  (size_t)(row0 % TQ_BLOCK_ROWS);
                y[n][j] = _mm512_add_ps(y[n][j], _mm512_mul_ps(_mm512_load_ps(sg), _mm512_cvtepi32_ps(acc[j])));
            }
        }
    }
    for (int n = 0; n < NB; n++) {
        const __m512 xs = _mm512_set1_ps(c->x_scale[n0 + n]);
        float *o = c->out + (size_t)(n0 + n) * (size_t)w->M;
        for (int j = 0; j < live; j++) {
            const int32_t row0 = row_base + 16 * j, rem = w->M - row0;
            const __mmask16 keep = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1);
            _mm512_mask_storeu_ps(o + row0, keep, _mm512_mul_ps(xs, y[n][j]));
        }
    }
}

void tq_kernel_tq16(const tq_call *c, int32_t blk_begin, int32_t blk_end) {
    const uint8_t (*tab)[128] = tq16_tables();
    for (int32_t b = blk_begin; b < blk_end; b++) {
        int32_t n0 = 0;
        for (; n0 + TQ16_TILE_N <= c->N; n0 += TQ16_TILE_N) tile(c, tab, b, n0, TQ16_TILE_N);
        if (n0 < c->N) tile(c, tab, b, n0, 1);
    }
}
