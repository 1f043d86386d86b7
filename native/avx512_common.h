/* Helpers shared by the AVX-512 kernels (avx512.c on the 2-bit layout, avx512vbmi.c on the 1.6-bit one).
 * Include after the file's `#pragma GCC target("avx512f,...")`: these compile for the includer's target. */
#ifndef NANOCHAT_AVX512_COMMON_H
#define NANOCHAT_AVX512_COMMON_H

#include <immintrin.h>
#include <string.h>

#include "internal.h"

#define AI static inline __attribute__((always_inline))

/* The 4 activations of one k-step in every 32-bit lane: vpdpbusd's signed operand. */
AI __m512i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

/* The debug path (tq_matmul's acc_out): 16 rows' exact int32 accumulators of group g for activation row n. */
static void __attribute__((noinline, cold, unused)) dump_acc(const tq_call *c, int32_t n, int32_t row0, int32_t g,
                                                            __m512i acc) {
    int32_t lanes[16];
    _mm512_storeu_si512(lanes, acc);
    const tq_weights *w = c->w;
    for (int L = 0; L < 16 && row0 + L < w->M; L++)
        c->acc_out[((size_t)n * (size_t)w->M + (size_t)(row0 + L)) * (size_t)w->n_groups + (size_t)g] = lanes[L];
}

#endif
