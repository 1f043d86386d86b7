/* Engine helpers in C. int8 x int8 output head: y[n][m] = x_scale[n] * (w_scale[m] * dot(q[n], w[m])), exact int32 dot products.
 *
 * The tied embedding of a large vocabulary is the biggest matrix a decode step reads (32k x 1536 float32 is
 * 197 MB); as int8 rows with one scale per row it is a quarter of that. AVX-512 VNNI (vpdpbusd) multiplies
 * unsigned by signed bytes, so the activations are offset by 128 and 128 * sum(w[m]) is subtracted again;
 * AVX2 uses |q| x sign(w, q) with vpmaddubsw (no int16 saturation: 2 * 127 * 127 < 32767). A scalar loop is
 * the reference and handles K tails. Rows are split over n_threads pthreads created per call (one call per
 * decode step, so their ~20 us is noise). Built by ops_build.py (cffi) into nanochat_cli.infer._ops.
 */
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const int8_t *w; const float *w_scale; const int32_t *w_sum; int32_t M, K;
    const int8_t *q; const float *x_scale; int32_t N; float *y; int32_t m0, m1; int kind;
} head_job;

static int32_t dot_scalar(const int8_t *a, const int8_t *b, int32_t k0, int32_t K) {
    int32_t s = 0;
    for (int32_t k = k0; k < K; k++) s += (int32_t)a[k] * (int32_t)b[k];
    return s;
}

__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void rows_vnni(const head_job *j) {
    const int32_t K = j->K, K64 = K & ~63;
    for (int32_t n = 0; n < j->N; n++) {
        const int8_t *q = j->q + (size_t)n * K;
        for (int32_t m = j->m0; m < j->m1; m++) {
            const int8_t *w = j->w + (size_t)m * K;
            __m512i acc = _mm512_setzero_si512();
            for (int32_t k = 0; k < K64; k += 64) {
                __m512i u = _mm512_xor_si512(_mm512_loadu_si512(q + k), _mm512_set1_epi8((char)0x80));
                acc = _mm512_dpbusd_epi32(acc, u, _mm512_loadu_si512(w + k));
            }
            int32_t tail_w = 0; /* the +128 offset only covers the vector part k < K64 */
            for (int32_t k = K64; k < K; k++) tail_w += w[k];
            int32_t s = _mm512_reduce_add_epi32(acc) - 128 * (j->w_sum[m] - tail_w) + dot_scalar(q, w, K64, K);
            j->y[(size_t)n * j->M + m] = j->x_scale[n] * (j->w_scale[m] * (float)s);
        }
    }
}

__attribute__((target("avx2")))
static void rows_avx2(const head_job *j) {
    const int32_t K = j->K, K32 = K & ~31;
    const __m256i ones = _mm256_set1_epi16(1);
    for (int32_t n = 0; n < j->N; n++) {
        const int8_t *q = j->q + (size_t)n * K;
        for (int32_t m = j->m0; m < j->m1; m++) {
            const int8_t *w = j->w + (size_t)m * K;
            __m256i acc = _mm256_setzero_si256();
            for (int32_t k = 0; k < K32; k += 32) {
                __m256i a = _mm256_loadu_si256((const __m256i *)(q + k));
                __m256i b = _mm256_loadu_si256((const __m256i *)(w + k));
                __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, ones));
            }
            __m128i h = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
            int32_t s = _mm_cvtsi128_si32(h) + dot_scalar(q, w, K32, K);
            j->y[(size_t)n * j->M + m] = j->x_scale[n] * (j->w_scale[m] * (float)s);
        }
    }
}

static void rows_scalar(const head_job *j) {
    for (int32_t n = 0; n < j->N; n++)
        for (int32_t m = j->m0; m < j->m1; m++) {
            int32_t s = dot_scalar(j->q + (size_t)n * j->K, j->w + (size_t)m * j->K, 0, j->K);
            j->y[(size_t)n * j->M + m] = j->x_scale[n] * (j->w_scale[m] * (float)s);
        }
}

static void *run_job(void *arg) {
    const head_job *j = (const head_job *)arg;
    if (j->kind == 2) rows_vnni(j);
    else if (j->kind == 1) rows_avx2(j);
    else rows_scalar(j);
    return NULL;
}

/* 2 = AVX-512 VNNI, 1 = AVX2, 0 = scalar */
int head_best_kind(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")) return 2;
    if (__builtin_cpu_supports("avx2")) return 1;
    return 0;
}

int head_matmul(const int8_t *w, const float *w_scale, const int32_t *w_sum, int32_t M, int32_t K,
                const int8_t *q, const float *x_scale, int32_t N, float *y, int kind, int n_threads) {
    enum { MAX_T = 16 };
    if (n_threads < 1) n_threads = 1;
    if (n_threads > MAX_T) n_threads = MAX_T;
    head_job jobs[MAX_T];
    pthread_t tid[MAX_T];
    int32_t per = (M + n_threads - 1) / n_threads;
    int started = 0;
    for (int t = 0; t < n_threads; t++) {
        head_job j = {w, w_scale, w_sum, M, K, q, x_scale, N, y, t * per, (t + 1) * per > M ? M : (t + 1) * per, kind};
        jobs[t] = j;
    }
    for (int t = 1; t < n_threads; t++)
        if (jobs[t].m0 < jobs[t].m1 && pthread_create(&tid[t], NULL, run_job, &jobs[t]) == 0) started |= 1 << t;
        else if (jobs[t].m0 < jobs[t].m1) run_job(&jobs[t]);
    run_job(&jobs[0]);
    for (int t = 1; t < n_threads; t++)
        if (started & (1 << t)) pthread_join(tid[t], NULL);
    return 0;
}

/* ---- per-token activation quantization (the contract of nanochat_cli/ternary/quant.py), optionally fused
 * with the RMSNorm that precedes every BitLinear input: one call instead of a dozen numpy passes per matmul. ----
 * y = x * (1 / sqrt(mean(x^2) + eps)) * w (skipped when w is NULL: plain quantization of x);
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
