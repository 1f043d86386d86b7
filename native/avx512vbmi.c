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
 * and 7 decode ops against 4: about 9 cycles per line on Zen 4, so in cache it runs at ~0.6x the 2-bit
 * kernel and it wins only where DRAM, not the core, sets the pace (docs/BENCHMARKS.md, ## kernels: 1.07-1.10x
 * per decode step at 2 threads on the 700M and 2B shapes, neutral at 1 thread).
 * Variants the prototype measured (benchmarks/tq16/README.md): a base-3 byte with 2 lookups + blend
 * per field (16 decode ops), a hybrid (12), one lookup per field (7 lookups): all slower than this.
 * Range: |raw B * q| <= 42 * 128 per multiply, so a group of up to 131072 columns (prepared.py's
 * MAX_GROUP_COLUMNS) stays inside int32, as the 2-bit kernel's 64 * 2 * 128 does.
 */
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi")
#include <immintrin.h>
#include <string.h>

#include "avx512_common.h"

/* As avx512.c (measured there for the 2-bit kernel; the prototype kept them). */
#define TQ16_PREFETCH_BYTES 256
#define TQ16_TILE_N 2

typedef struct {
    __m512i ta0, ta1, tb0, tb1, tr0, tr1, m1, m2;
} decoder;

/* The 5 fields of one line, each (u_j << 2i) as laid out in A and B: the raw A and B stand for fields 0 and 2. */
#define DECODE(dec, p, d0, d1, d2, d3, d4)                                          \
    const __m512i v = _mm512_load_si512(p);                                         \
    const __mmask64 top = _mm512_movepi8_mask(v);                                   \
    const __m512i d0 = _mm512_permutex2var_epi8((dec).ta0, v, (dec).ta1);           \
    const __m512i r = _mm512_mask2_permutex2var_epi8((dec).tr0, v, top, (dec).tr1); \
    const __m512i d2 = _mm512_permutex2var_epi8((dec).tb0, r, (dec).tb1);           \
    const __m512i d1 = _mm512_and_si512(d0, (dec).m1);                              \
    const __m512i d3 = _mm512_and_si512(d2, (dec).m1);                              \
    const __m512i d4 = _mm512_and_si512(d2, (dec).m2)

/* Raw sums of one group's k-steps [s, end) for one activation row. Left to itself GCC 12 copies every
 * accumulator out and back each line (10 extra vmovdqa per 20 instructions); the empty asm pins them in
 * registers. (A call per group avoids it too, but then the caller spills its live registers around each call:
 * 1.28x slower than per-tensor at group 128 on 2560 x 2560, against 1.11x inlined.) */
AI void sweep1(const decoder *dec, const uint8_t *lines, const int8_t *q, int32_t s, int32_t end, __m512i a[5]) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0;
    for (; s < end; s++) {
        const uint8_t *p = lines + (size_t)s * 64;
        _mm_prefetch((const char *)p + TQ16_PREFETCH_BYTES, _MM_HINT_T0);
        DECODE(*dec, p, d0, d1, d2, d3, d4);
        const __m512i x = bcast4(q + 4 * (size_t)s);
        a0 = _mm512_dpbusd_epi32(a0, d0, x);
        a1 = _mm512_dpbusd_epi32(a1, d1, x);
        a2 = _mm512_dpbusd_epi32(a2, d2, x);
        a3 = _mm512_dpbusd_epi32(a3, d3, x);
        a4 = _mm512_dpbusd_epi32(a4, d4, x);
        __asm__("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4));
    }
    a[0] = a0, a[1] = a1, a[2] = a2, a[3] = a3, a[4] = a4;
}

/* The same for two activation rows sharing each decoded line (q and q + K). Its 10 accumulators, 8 decode
 * constants and the decoded fields do not fit 32 registers inlined; as a function it spills one field per line
 * instead. GEMM is not where this kernel is chosen (2-bit is faster there): it only has to be right. */
static __attribute__((noinline)) void sweep2(const decoder *dec, const uint8_t *lines, const int8_t *q, int32_t K,
                                             int32_t s, int32_t end, __m512i a[2][5]) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0;
    __m512i b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0;
    for (; s < end; s++) {
        const uint8_t *p = lines + (size_t)s * 64;
        _mm_prefetch((const char *)p + TQ16_PREFETCH_BYTES, _MM_HINT_T0);
        DECODE(*dec, p, d0, d1, d2, d3, d4);
        const __m512i x = bcast4(q + 4 * (size_t)s), y = bcast4(q + (size_t)K + 4 * (size_t)s);
        a0 = _mm512_dpbusd_epi32(a0, d0, x);
        a1 = _mm512_dpbusd_epi32(a1, d1, x);
        a2 = _mm512_dpbusd_epi32(a2, d2, x);
        a3 = _mm512_dpbusd_epi32(a3, d3, x);
        a4 = _mm512_dpbusd_epi32(a4, d4, x);
        b0 = _mm512_dpbusd_epi32(b0, d0, y);
        b1 = _mm512_dpbusd_epi32(b1, d1, y);
        b2 = _mm512_dpbusd_epi32(b2, d2, y);
        b3 = _mm512_dpbusd_epi32(b3, d3, y);
        b4 = _mm512_dpbusd_epi32(b4, d4, y);
    }
    a[0][0] = a0, a[0][1] = a1, a[0][2] = a2, a[0][3] = a3, a[0][4] = a4;
    a[1][0] = b0, a[1][1] = b1, a[1][2] = b2, a[1][3] = b3, a[1][4] = b4;
}

/* Rows 80b .. 80b+79 for activation columns n0 .. n0+NB-1 (NB = 1 or 2). */
AI void tile(const tq_call *c, const decoder *dec, int32_t b, int32_t n0, const int NB) {
    const tq_weights *w = c->w;
    const int32_t K = w->K, ksteps = K / 4, gsteps = w->group / 4, ng = w->n_groups;
    const uint8_t *lines = w->codes16 + (size_t)b * (size_t)ksteps * 64;
    const int8_t *q = c->q + (size_t)n0 * (size_t)K;
    const int32_t row_base = b * TQ16_BLOCK_ROWS;
    /* 16-row groups past M: nothing to store, and no scales to read (the 2-bit scales end at its padding) */
    const int live = (w->M - row_base + 15) / 16 < 5 ? (w->M - row_base + 15) / 16 : 5;
    __m512 y[TQ16_TILE_N][5];
    for (int n = 0; n < NB; n++)
        for (int j = 0; j < 5; j++) y[n][j] = _mm512_setzero_ps();

    for (int32_t g = 0; g < ng; g++) {
        __m512i a[TQ16_TILE_N][5];
        if (NB == 1)
            sweep1(dec, lines, q, g * gsteps, (g + 1) * gsteps, a[0]);
        else
            sweep2(dec, lines, q, K, g * gsteps, (g + 1) * gsteps, a);
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
                /* the 2-bit layout's scales: rows row0 .. row0+15 sit together in its block row0 / 64 */
                const float *sg = w->scales + ((size_t)(row0 / TQ_BLOCK_ROWS) * (size_t)ng + (size_t)g) *
                                  TQ_BLOCK_ROWS + (size_t)(row0 % TQ_BLOCK_ROWS);
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
    const decoder dec = {
        _mm512_load_si512(tab[TQ16_TABLE_A]), _mm512_load_si512(tab[TQ16_TABLE_A] + 64),
        _mm512_load_si512(tab[TQ16_TABLE_B]), _mm512_load_si512(tab[TQ16_TABLE_B] + 64),
        _mm512_load_si512(tab[TQ16_TABLE_REMAP]), _mm512_load_si512(tab[TQ16_TABLE_REMAP] + 64),
        _mm512_set1_epi8(0x0C), _mm512_set1_epi8(0x30),
    };
    for (int32_t b = blk_begin; b < blk_end; b++) {
        int32_t n0 = 0;
        for (; n0 + TQ16_TILE_N <= c->N; n0 += TQ16_TILE_N) tile(c, &dec, b, n0, TQ16_TILE_N);
        if (n0 < c->N) tile(c, &dec, b, n0, 1);
    }
}
