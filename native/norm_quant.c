/* Per-token int8 activation quantization (the contract of nanochat_cli/ternary/quant.py), optionally fused with the
 * RMSNorm that precedes every BitLinear input: one C pass instead of a dozen numpy passes per product. Declared in
 * engine.h; the Python face is nanochat_cli/infer/linear.py (Act), and the layer stack (stack.c) calls it per block.
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* y = x * (1 / sqrt(mean(x^2) + eps)) * w (skipped when w is NULL: plain quantization of x);
 * scale = max|y| / 127; q = clamp(round_half_even(y / scale), -127, 127), 0 for an all-zero row.
 * y_out (may be NULL) receives the normalised float rows. */
static float row_rscale(const float *xr, int32_t K, float eps) {
    double ss = 0.0; /* float64 sum: independent of the summation order to float32 rounding */
    for (int32_t k = 0; k < K; k++) ss += (double)xr[k] * (double)xr[k];
    return 1.0f / sqrtf((float)(ss / K) + eps);
}

/* The same computation, 8 lanes at a time; exact same float32 operations per element, so the same bits. */
__attribute__((target("avx2")))
static int norm_quantize_avx2(const float *x, const float *w, int32_t N, int32_t K, float eps, float *y_out,
                              int8_t *q, float *scale) {
    if (K % 8) return 0;
    const __m256 sign = _mm256_set1_ps(-0.0f), lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
    for (int32_t n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * K;
        float *yr = y_out ? y_out + (size_t)n * K : NULL;
        __m256 r = _mm256_set1_ps(1.0f);
        if (w) {
            __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
            for (int32_t k = 0; k < K; k += 8) {
                __m256d d0 = _mm256_cvtps_pd(_mm_loadu_ps(xr + k)), d1 = _mm256_cvtps_pd(_mm_loadu_ps(xr + k + 4));
                a0 = _mm256_add_pd(a0, _mm256_mul_pd(d0, d0));
                a1 = _mm256_add_pd(a1, _mm256_mul_pd(d1, d1));
            }
            double t[4];
            _mm256_storeu_pd(t, _mm256_add_pd(a0, a1));
            r = _mm256_set1_ps(1.0f / sqrtf((float)((t[0] + t[1] + t[2] + t[3]) / K) + eps));
        }
        __m256 amax = _mm256_setzero_ps();
        for (int32_t k = 0; k < K; k += 8) {
            __m256 v = _mm256_loadu_ps(xr + k);
            if (w) v = _mm256_mul_ps(_mm256_mul_ps(v, r), _mm256_loadu_ps(w + k));
            if (yr) _mm256_storeu_ps(yr + k, v);
            amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v));
        }
        float m[8], am = 0.0f;
        _mm256_storeu_ps(m, amax);
        for (int i = 0; i < 8; i++) am = m[i] > am ? m[i] : am;
        float s = am / 127.0f;
        scale[n] = s;
        int8_t *qr = q + (size_t)n * K;
        if (s == 0.0f) { memset(qr, 0, (size_t)K); continue; }
        const __m256 vs = _mm256_set1_ps(s);
        for (int32_t k = 0; k < K; k += 8) {
            __m256 v = _mm256_loadu_ps(xr + k);
            if (w) v = _mm256_mul_ps(_mm256_mul_ps(v, r), _mm256_loadu_ps(w + k));
            v = _mm256_round_ps(_mm256_div_ps(v, vs), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            __m256i i32 = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, lo), hi));
            __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
            _mm_storel_epi64((__m128i *)(qr + k), _mm_packs_epi16(p16, p16));
        }
    }
    return 1;
}

void norm_quantize(const float *x, const float *w, int32_t N, int32_t K, float eps, float *y_out,
                   int8_t *q, float *scale) {
    if (__builtin_cpu_supports("avx2") && norm_quantize_avx2(x, w, N, K, eps, y_out, q, scale)) return;
    for (int32_t n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * K;
        float *yr = y_out ? y_out + (size_t)n * K : NULL;
        float r = w ? row_rscale(xr, K, eps) : 1.0f;
        float amax = 0.0f;
        for (int32_t k = 0; k < K; k++) {
            float v = w ? (xr[k] * r) * w[k] : xr[k];
            if (yr) yr[k] = v;
            float a = fabsf(v);
            if (a > amax) amax = a;
        }
        float s = amax / 127.0f;
        scale[n] = s;
        int8_t *qr = q + (size_t)n * K;
        if (s == 0.0f) { memset(qr, 0, (size_t)K); continue; }
        for (int32_t k = 0; k < K; k++) {
            float v = w ? (xr[k] * r) * w[k] : xr[k];
            float t = nearbyintf(v / s);
            qr[k] = (int8_t)(t > 127.0f ? 127.0f : (t < -127.0f ? -127.0f : t));
        }
    }
}
