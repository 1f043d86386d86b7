/* exp(a) for the engine's C code: 2^n * p(r) with n = rint(a * log2 e), r = a - n ln2 (two-part ln2, each step one
 * FMA), p the degree-7 Taylor polynomial by Horner with FMAs (|r| <= ln2 / 2: truncation ~5e-9 relative). FMA is
 * exactly rounded, so the scalar fmaf version and the AVX2 / AVX-512 lanes (stack.c's SwiGLU, attention.c's attention)
 * give the same bits: the scalar one is the specification. a is clamped to [EXP_LO, EXP_HI] so 2^n stays a normal
 * float; beyond it the result is 0 or +inf; NaN stays NaN. */
#ifndef NANOCHAT_VEXP_H
#define NANOCHAT_VEXP_H

#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#define EXP_LO (-87.0f)
#define EXP_HI 88.0f
#define LOG2E 1.44269502162933349609f
#define LN2_HI 0.693145751953125f
#define LN2_LO 1.42860682030941723212e-6f
static const float EXP_C[8] = {1.0f / 5040, 1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f};

static inline float exp_scalar(float a) {
    if (a != a) return a;
    if (a > EXP_HI) return INFINITY;
    if (a < EXP_LO) return 0.0f;
    const float n = nearbyintf(a * LOG2E);
    float r = fmaf(n, -LN2_HI, a);
    r = fmaf(n, -LN2_LO, r);
    float p = EXP_C[0];
    for (int i = 1; i < 8; i++) p = fmaf(p, r, EXP_C[i]);
    union { uint32_t u; float f; } two_n = {(uint32_t)((int32_t)n + 127) << 23};
    return p * two_n.f;
}

__attribute__((target("avx2,fma"), always_inline))
static inline __m256 exp_avx2(__m256 a) {
    const __m256 lo = _mm256_set1_ps(EXP_LO), hi = _mm256_set1_ps(EXP_HI);
    const __m256 c = _mm256_min_ps(_mm256_max_ps(a, lo), hi);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(c, _mm256_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-LN2_HI), c);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(-LN2_LO), r);
    __m256 p = _mm256_set1_ps(EXP_C[0]);
    for (int i = 1; i < 8; i++) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_C[i]));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    __m256 ex = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    ex = _mm256_blendv_ps(ex, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(a, hi, _CMP_GT_OQ));
    ex = _mm256_blendv_ps(ex, _mm256_setzero_ps(), _mm256_cmp_ps(a, lo, _CMP_LT_OQ));
    return _mm256_blendv_ps(ex, a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}

__attribute__((target("avx512f"), always_inline))
static inline __m512 exp_avx512(__m512 a) {
    const __m512 lo = _mm512_set1_ps(EXP_LO), hi = _mm512_set1_ps(EXP_HI);
    const __m512 c = _mm512_min_ps(_mm512_max_ps(a, lo), hi);
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(c, _mm512_set1_ps(LOG2E)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-LN2_HI), c);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(-LN2_LO), r);
    __m512 p = _mm512_set1_ps(EXP_C[0]);
    for (int i = 1; i < 8; i++) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_C[i]));
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    __m512 ex = _mm512_mul_ps(p, _mm512_castsi512_ps(e));
    ex = _mm512_mask_mov_ps(ex, _mm512_cmp_ps_mask(a, hi, _CMP_GT_OQ), _mm512_set1_ps(INFINITY));
    ex = _mm512_mask_mov_ps(ex, _mm512_cmp_ps_mask(a, lo, _CMP_LT_OQ), _mm512_setzero_ps());
    return _mm512_mask_mov_ps(ex, _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), a);
}

#endif
