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
#include <stdlib.h>
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

/* ---- float32 output head for small batches: y[n][m] = dot(x[n], w[m]) ----
 * A decode step over several slots multiplies a few rows by the whole (vocab x d) float32 embedding. BLAS
 * sgemm packs that matrix on every call (8 rows x 8192 x 512 took 1.0-1.6 ms against 0.14 ms for one row);
 * here each pair of weight rows is read once and multiplied into all N (<= 8) activation rows held in L1, so
 * a step reads the matrix once whatever N is. float32 FMAs; the sums are in another order than BLAS's (fast
 * mode accepts float rounding). Rows are split over n_threads pthreads (one call per decode step). */
typedef struct {
    const float *w; const float *x; int32_t M, K, N; float *y; int32_t m0, m1; int kind;
} f32_job;

#define F32_MAX_N 8

/* RB weight rows times NB activation rows (RB * NB <= 16 accumulators, all in registers once the constant
 * arguments are propagated): full 16-float chunks unmasked, the K tail masked. */
__attribute__((target("avx512f"), always_inline))
static inline void f32_block_avx512(const f32_job *j, int32_t m, const int RB, const int NB) {
    const int32_t K = j->K, K16 = K & ~15;
    const float *w = j->w + (size_t)m * K, *x = j->x;
    __m512 acc[16];
#pragma GCC unroll 16
    for (int i = 0; i < RB * NB; i++) acc[i] = _mm512_setzero_ps();
    for (int32_t k = 0; k <= K; k += 16) {
        __mmask16 mask = 0xFFFF;
        if (k >= K16) {
            if (k == K) break;
            mask = (__mmask16)((1u << (K - k)) - 1);
        }
        __m512 xv[8];
#pragma GCC unroll 8
        for (int n = 0; n < NB; n++) xv[n] = _mm512_maskz_loadu_ps(mask, x + (size_t)n * K + k);
#pragma GCC unroll 8
        for (int r = 0; r < RB; r++) {
            const __m512 wv = _mm512_maskz_loadu_ps(mask, w + (size_t)r * K + k);
#pragma GCC unroll 8
            for (int n = 0; n < NB; n++) acc[r * NB + n] = _mm512_fmadd_ps(wv, xv[n], acc[r * NB + n]);
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < RB; r++)
#pragma GCC unroll 8
        for (int n = 0; n < NB; n++) j->y[(size_t)n * j->M + m + r] = _mm512_reduce_add_ps(acc[r * NB + n]);
}

/* rows per block for NB activation rows: enough independent FMA chains to hide their latency */
#define F32_RB(NB) ((NB) == 1 ? 8 : (NB) <= 4 ? 4 : 2)

#define F32_CASE(NB) \
    case NB: \
        for (; m + F32_RB(NB) <= j->m1; m += F32_RB(NB)) f32_block_avx512(j, m, F32_RB(NB), NB); \
        for (; m < j->m1; m++) f32_block_avx512(j, m, 1, NB); \
        break;

__attribute__((target("avx512f")))
static void f32_run_avx512(const f32_job *j) {
    int32_t m = j->m0;
    switch (j->N) { /* constant NB and RB: the accumulators stay in registers */
    F32_CASE(1) F32_CASE(2) F32_CASE(3) F32_CASE(4) F32_CASE(5) F32_CASE(6) F32_CASE(7) F32_CASE(8)
    }
}

static void f32_run_scalar(const f32_job *j) {
    for (int32_t m = j->m0; m < j->m1; m++)
        for (int32_t n = 0; n < j->N; n++) {
            const float *w = j->w + (size_t)m * j->K, *x = j->x + (size_t)n * j->K;
            float s = 0.0f;
            for (int32_t k = 0; k < j->K; k++) s += w[k] * x[k];
            j->y[(size_t)n * j->M + m] = s;
        }
}

static void *f32_run(void *arg) {
    const f32_job *j = (const f32_job *)arg;
    if (j->kind == 1) f32_run_avx512(j);
    else f32_run_scalar(j);
    return NULL;
}

/* 1 = AVX-512F, 0 = scalar */
int f32_head_best_kind(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

/* y (N x M) = x (N x K) times w (M x K) transposed, N <= 8; returns -1 for a larger N. */
int f32_head_matmul(const float *w, int32_t M, int32_t K, const float *x, int32_t N, float *y, int kind,
                    int n_threads) {
    enum { MAX_T = 16 };
    if (N < 1 || N > F32_MAX_N) return -1;
    if (n_threads < 1) n_threads = 1;
    if (n_threads > MAX_T) n_threads = MAX_T;
    f32_job jobs[MAX_T];
    pthread_t tid[MAX_T];
    int32_t per = ((M + n_threads - 1) / n_threads + 7) & ~7; /* row ranges in whole blocks */
    int started = 0;
    for (int t = 0; t < n_threads; t++) {
        int32_t m0 = t * per > M ? M : t * per, m1 = (t + 1) * per > M ? M : (t + 1) * per;
        f32_job j = {w, x, M, K, N, y, m0, m1, kind};
        jobs[t] = j;
    }
    for (int t = 1; t < n_threads; t++)
        if (jobs[t].m0 < jobs[t].m1 && pthread_create(&tid[t], NULL, f32_run, &jobs[t]) == 0) started |= 1 << t;
        else if (jobs[t].m0 < jobs[t].m1) f32_run(&jobs[t]);
    f32_run(&jobs[0]);
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

/* ---- causal GQA attention of one slot's rows over its float32 KV cache (fast mode) ----
 * q: (T, H, D) rows at positions start .. start+T-1; k, v: the slot's cache, head h_kv at k + h_kv * head_stride,
 * key j at + j * D; row t sees keys 0 .. start+t. Query head h reads kv head h / (H / H_kv).
 * out: (T, H * D). float32 throughout (the reference mode computes this in float64 numpy instead).
 * Heads are split over n_threads pthreads (prefill); a decode step runs on the calling thread. */
typedef struct {
    const float *q, *k, *v; int32_t T, H, H_kv, D; int64_t head_stride; int32_t start; float *out;
    int32_t h0, h1;
} attn_job;

#define ATTN_BODY(NAME) \
    static void *NAME(void *arg) { \
        const attn_job *a = (const attn_job *)arg; \
        const int32_t D = a->D, rep = a->H / a->H_kv, S = a->start + a->T; \
        const float scale = 1.0f / sqrtf((float)D); \
        float *p = (float *)malloc(sizeof(float) * (size_t)S); \
        float *acc = (float *)malloc(sizeof(float) * (size_t)D); \
        if (!p || !acc) { free(p); free(acc); return (void *)1; } \
        for (int32_t h = a->h0; h < a->h1; h++) { \
            const float *kh = a->k + (size_t)(h / rep) * a->head_stride; \
            const float *vh = a->v + (size_t)(h / rep) * a->head_stride; \
            for (int32_t t = 0; t < a->T; t++) { \
                const float *qr = a->q + ((size_t)t * a->H + h) * D; \
                const int32_t n = a->start + t + 1; \
                float mx = -INFINITY; \
                for (int32_t j = 0; j < n; j++) { \
                    const float *kr = kh + (size_t)j * D; \
                    float s = 0.0f; \
                    for (int32_t d = 0; d < D; d++) s += qr[d] * kr[d]; \
                    s *= scale; \
                    p[j] = s; \
                    if (s > mx) mx = s; \
                } \
                float sum = 0.0f; \
                for (int32_t j = 0; j < n; j++) { p[j] = expf(p[j] - mx); sum += p[j]; } \
                for (int32_t d = 0; d < D; d++) acc[d] = 0.0f; \
                for (int32_t j = 0; j < n; j++) { \
                    const float *vr = vh + (size_t)j * D; \
                    const float pj = p[j]; \
                    for (int32_t d = 0; d < D; d++) acc[d] += pj * vr[d]; \
                } \
                float *o = a->out + ((size_t)t * a->H + h) * D; \
                const float inv = 1.0f / sum; \
                for (int32_t d = 0; d < D; d++) o[d] = acc[d] * inv; \
            } \
        } \
        free(p); \
        free(acc); \
        return NULL; \
    }

/* The float reductions vectorise only when the compiler may reorder sums (fast-math); fast mode accepts that. */
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#pragma GCC optimize("O3", "fast-math")
ATTN_BODY(attn_run_avx2)
#pragma GCC pop_options

ATTN_BODY(attn_run_generic)

static void *attn_run(void *arg) {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? attn_run_avx2(arg) : attn_run_generic(arg);
}

int attention_f32(const float *q, const float *k, const float *v, int32_t T, int32_t H, int32_t H_kv, int32_t D,
                  int64_t head_stride, int32_t start, float *out, int n_threads) {
    enum { MAX_T = 16 };
    if (n_threads < 1 || T == 1) n_threads = 1;
    if (n_threads > MAX_T) n_threads = MAX_T;
    if (n_threads > H) n_threads = H;
    attn_job jobs[MAX_T];
    pthread_t tid[MAX_T];
    int32_t per = (H + n_threads - 1) / n_threads;
    int started = 0, rc = 0;
    for (int t = 0; t < n_threads; t++) {
        attn_job j = {q, k, v, T, H, H_kv, D, head_stride, start, out, t * per, (t + 1) * per > H ? H : (t + 1) * per};
        jobs[t] = j;
    }
    for (int t = 1; t < n_threads; t++)
        if (pthread_create(&tid[t], NULL, attn_run, &jobs[t]) == 0) started |= 1 << t;
        else rc |= attn_run(&jobs[t]) != NULL;
    rc |= attn_run(&jobs[0]) != NULL;
    for (int t = 1; t < n_threads; t++) {
        void *r = NULL;
        if (started & (1 << t)) { pthread_join(tid[t], &r); rc |= r != NULL; }
    }
    return rc ? -2 : 0;
}

/* RoPE (rotate-half pairing, per-position tables cos/sin (ctx, D/2)) of one slot's fresh q/k rows, k and v
 * written into the slot's cache at positions start.., then attention_f32: one call per layer and slot instead
 * of a dozen numpy passes. qkv: (T, (H + 2 H_kv) * D) as the fused q/k/v product returns it; qbuf: T*H*D floats.
 * Same float32 operations as layers.apply_rope (x1 c - x2 s, x2 c + x1 s; compiled without FMA contraction). */
int rope_attend_f32(const float *qkv, int32_t T, int32_t H, int32_t H_kv, int32_t D, const float *cos_t,
                    const float *sin_t, float *kc, float *vc, int64_t head_stride, int32_t start, float *qbuf,
                    float *out, int n_threads) {
    const int32_t half = D / 2, width = (H + 2 * H_kv) * D;
    for (int32_t t = 0; t < T; t++) {
        const int32_t pos = start + t;
        const float *row = qkv + (size_t)t * width, *c = cos_t + (size_t)pos * half, *s = sin_t + (size_t)pos * half;
        for (int32_t hh = 0; hh < H + H_kv; hh++) {
            const float *x = row + (size_t)hh * D;
            float *dst = hh < H ? qbuf + ((size_t)t * H + hh) * D : kc + (size_t)(hh - H) * head_stride + (size_t)pos * D;
            for (int32_t i = 0; i < half; i++) {
                const float x1 = x[i], x2 = x[i + half];
                const float a = x1 * c[i], b = x2 * s[i], e = x2 * c[i], f = x1 * s[i];
                dst[i] = a - b;
                dst[i + half] = e + f;
            }
        }
        for (int32_t g = 0; g < H_kv; g++)
            memcpy(vc + (size_t)g * head_stride + (size_t)pos * D, row + (size_t)(H + H_kv + g) * D, sizeof(float) * D);
    }
    return attention_f32(qbuf, kc, vc, T, H, H_kv, D, head_stride, start, out, n_threads);
}
