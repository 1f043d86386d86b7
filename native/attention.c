/* Fast-mode causal GQA attention in float32 over a slot's KV cache, and the RoPE + cache write before it.
 * Softmax uses vexp.h's exp (the one the SwiGLU uses too). Declared in engine.h; the Python face is
 * nanochat_cli/infer/layers.py, and the layer stack (stack.c) calls it per block.
 */
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "vexp.h"

/* ---- causal GQA attention of one slot's rows over its float32 KV cache (fast mode) ----
 * q: (T, H, D) rows at positions start .. start+T-1; k, v: the slot's cache, head h_kv at k + h_kv * head_stride,
 * key j at + j * D; row t sees keys 0 .. start+t. Query head h reads kv head h / (H / H_kv).
 * out: (T, H * D). float32 throughout (the reference mode computes this in float64 numpy instead).
 * Heads are split over n_threads pthreads (prefill); a decode step runs on the calling thread.
 * Every (row, head) is computed alone by the same operations in the same order whichever call, row range or head
 * range it falls in: a cached decode step gives the bits of the full recomputation, and the layer stack may split
 * a step's heads over threads freely. */
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
/* fp-contract=fast: the library is built with -ffp-contract=off, and this block has always let GCC fuse its
 * multiplies and adds (fast mode's attention, not the numeric contract): the same bits as before the merge. */
#pragma GCC optimize("O3", "fast-math", "fp-contract=fast")
ATTN_BODY(attn_run_avx2)
#pragma GCC pop_options

ATTN_BODY(attn_run_generic)

/* AVX-512: up to ATTN_HB query heads of one kv head share every load of a value row, and of a key row outside the
 * 16-key blocks (a block's 16 key rows are read from DRAM once and then from L1 by each head): GQA reads each K/V
 * row from memory once per group instead of once per head. Softmax uses vexp.h's exp 16 lanes at a time. From
 * DRAM (a decode step's weights evict the cache rows) it is bound by the latency of its short K/V streams; software
 * prefetch (K rows 4-16 ahead, all of V up front) measured 0.91-1.04x and is left out (docs/BENCHMARKS.md). A
 * head's scores are 16-lane FMA sums over D (masked tail) reduced by _mm512_reduce_add_ps's additions (lanes
 * i + i+8, then i + i+4, i + i+2, i + i+1): 16 keys at a time by attn_reduce16 where D <= 64, one at a time for the last n % 16 keys and
 * for wider heads (whose 16-row blocks, read from DRAM, measured 0.91x the per-key walk; docs/BENCHMARKS.md). Its
 * exp sum and output accumulate in key order: the same operations for the head whether it shares the pass with
 * others or not. */
#define ATTN_HB 4

/* Which key of a 16-key block each of attn_reduce16's inputs holds, so that its output lanes come out in key
 * order (the butterfly leaves input i's sum in lane ATTN_KEY_ORDER[i]; the table is its own inverse). */
static const int8_t ATTN_KEY_ORDER[16] = {0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15};

/* The horizontal sums of 16 vectors at once, each by the tree _mm512_reduce_add_ps uses (so the same bits): the
 * halves of two vectors side by side, then quarters, pairs and neighbours; 15 additions and 30 shuffles in place of
 * 16 separate reductions. Input i's sum lands in lane ATTN_KEY_ORDER[i]. */
__attribute__((target("avx512f"), always_inline))
static inline __m512 attn_reduce16(const __m512 a[16]) {
    __m512 b[8], c[4], d[2];
    for (int i = 0; i < 8; i++) /* lanes 0-7: a[i]'s i + i+8; lanes 8-15: a[i+8]'s */
        b[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a[i], a[i + 8], 0x44), _mm512_shuffle_f32x4(a[i], a[i + 8], 0xEE));
    for (int i = 0; i < 4; i++) /* per 128-bit lane, one vector's i + i+4 */
        c[i] = _mm512_add_ps(_mm512_shuffle_f32x4(b[i], b[i + 4], 0x88), _mm512_shuffle_f32x4(b[i], b[i + 4], 0xDD));
    for (int i = 0; i < 2; i++) /* i + i+2 */
        d[i] = _mm512_add_ps(_mm512_shuffle_ps(c[i], c[i + 2], 0x44), _mm512_shuffle_ps(c[i], c[i + 2], 0xEE));
    return _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], 0x88), _mm512_shuffle_ps(d[0], d[1], 0xDD)); /* i + i+1 */
}

__attribute__((target("avx512f,fma"), always_inline))
static inline void attn_group_avx512(const attn_job *a, int32_t t, int32_t h, const int HB, float *p, int32_t S16) {
    const int32_t D = a->D, rep = a->H / a->H_kv, nc = (D + 15) / 16, n = a->start + t + 1;
    const __mmask16 tail = D % 16 ? (__mmask16)((1u << (D % 16)) - 1) : (__mmask16)0xFFFF;
    const float *kh = a->k + (size_t)(h / rep) * a->head_stride, *vh = a->v + (size_t)(h / rep) * a->head_stride;
    const float *qr = a->q + ((size_t)t * a->H + h) * D;
    const float scale = 1.0f / sqrtf((float)D);
    const int32_t blocked = nc <= 4 ? n / 16 * 16 : 0; /* D > 64: every key by the per-key path below */
    for (int32_t j = 0; j < blocked; j += 16) /* whole 16-key blocks, one head at a time (16 accumulators) */
        for (int r = 0; r < HB; r++) {
            __m512 acc[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) acc[i] = _mm512_setzero_ps();
            for (int32_t c = 0; c < nc; c++) {
                const __mmask16 m = c == nc - 1 ? tail : (__mmask16)0xFFFF;
                const __m512 qv = _mm512_maskz_loadu_ps(m, qr + (size_t)r * D + 16 * c);
#pragma GCC unroll 16
                for (int i = 0; i < 16; i++) {
                    const float *kr = kh + (size_t)(j + ATTN_KEY_ORDER[i]) * D + 16 * c;
                    acc[i] = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, kr), acc[i]);
                }
            }
            _mm512_storeu_ps(p + (size_t)r * S16 + j, _mm512_mul_ps(attn_reduce16(acc), _mm512_set1_ps(scale)));
        }
    for (int32_t j = blocked; j < n; j++) { /* the keys after the blocks: every head of the group per key row */
        const float *kr = kh + (size_t)j * D;
        __m512 acc[ATTN_HB];
        for (int r = 0; r < HB; r++) acc[r] = _mm512_setzero_ps();
        for (int32_t c = 0; c < nc; c++) {
            const __mmask16 m = c == nc - 1 ? tail : (__mmask16)0xFFFF;
            const __m512 kv = _mm512_maskz_loadu_ps(m, kr + 16 * c);
            for (int r = 0; r < HB; r++)
                acc[r] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, qr + (size_t)r * D + 16 * c), kv, acc[r]);
        }
        for (int r = 0; r < HB; r++) p[(size_t)r * S16 + j] = _mm512_reduce_add_ps(acc[r]) * scale;
    }
    float inv[ATTN_HB];
    for (int r = 0; r < HB; r++) {
        float *pr = p + (size_t)r * S16;
        __m512 mx = _mm512_set1_ps(-INFINITY);
        for (int32_t j = 0; j < n; j += 16) {
            const __mmask16 m = n - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j)) - 1);
            mx = _mm512_mask_max_ps(mx, m, mx, _mm512_maskz_loadu_ps(m, pr + j));
        }
        const __m512 top = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
        __m512 sum = _mm512_setzero_ps();
        for (int32_t j = 0; j < n; j += 16) {
            const __mmask16 m = n - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j)) - 1);
            const __m512 e = _mm512_maskz_mov_ps(m, exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, pr + j), top)));
            _mm512_mask_storeu_ps(pr + j, m, e);
            sum = _mm512_add_ps(sum, e);
        }
        inv[r] = 1.0f / _mm512_reduce_add_ps(sum);
    }
    /* out = p V: CPC 16-lane chunks of every head at once, so that HB x CPC independent FMA chains hide the FMA
     * latency (one chain per chunk and head would wait on it every key); each chain still adds in key order. */
    const int CPC = HB <= 2 ? 8 : 4; /* a constant once HB is (attn_run_avx512's switch) */
    for (int32_t c0 = 0; c0 < nc; c0 += CPC) {
        __m512 o[ATTN_HB * 8];
#pragma GCC unroll 32
        for (int i = 0; i < HB * CPC; i++) o[i] = _mm512_setzero_ps();
        for (int32_t j = 0; j < n; j++) {
            const float *vr = vh + (size_t)j * D + 16 * c0;
#pragma GCC unroll 8
            for (int cc = 0; cc < CPC; cc++) {
                if (c0 + cc >= nc) break;
                const __m512 vv = _mm512_maskz_loadu_ps(c0 + cc == nc - 1 ? tail : (__mmask16)0xFFFF, vr + 16 * cc);
#pragma GCC unroll 4
                for (int r = 0; r < HB; r++)
                    o[r * CPC + cc] = _mm512_fmadd_ps(_mm512_set1_ps(p[(size_t)r * S16 + j]), vv, o[r * CPC + cc]);
            }
        }
        for (int cc = 0; cc < CPC && c0 + cc < nc; cc++) {
            const __mmask16 m = c0 + cc == nc - 1 ? tail : (__mmask16)0xFFFF;
            for (int r = 0; r < HB; r++)
                _mm512_mask_storeu_ps(a->out + ((size_t)t * a->H + h + r) * D + 16 * (c0 + cc), m,
                                      _mm512_mul_ps(o[r * CPC + cc], _mm512_set1_ps(inv[r])));
        }
    }
}

__attribute__((target("avx512f,fma")))
static void *attn_run_avx512(void *arg) {
    const attn_job *a = (const attn_job *)arg;
    const int32_t rep = a->H / a->H_kv, S16 = (a->start + a->T + 15) / 16 * 16;
    float *p = (float *)malloc(sizeof(float) * (size_t)S16 * ATTN_HB);
    if (!p) return (void *)1;
    for (int32_t t = 0; t < a->T; t++)
        for (int32_t h = a->h0; h < a->h1;) {
            int32_t hb = rep - h % rep; /* heads left in this kv head's group */
            if (hb > a->h1 - h) hb = a->h1 - h;
            if (hb > ATTN_HB) hb = ATTN_HB;
            switch (hb) { /* constant HB: the accumulators stay in registers */
            case 4: attn_group_avx512(a, t, h, 4, p, S16); break;
            case 3: attn_group_avx512(a, t, h, 3, p, S16); break;
            case 2: attn_group_avx512(a, t, h, 2, p, S16); break;
            default: attn_group_avx512(a, t, h, 1, p, S16); break;
            }
            h += hb;
        }
    free(p);
    return NULL;
}

static void *attn_run(void *arg) {
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma"))
        return attn_run_avx512(arg);
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

/* RoPE (rotate-half pairing, per-position tables cos/sin (ctx, D/2)) of one slot's fresh q/k rows into qbuf and the
 * slot's K cache, and v into its V cache, at positions start.. . qkv: (T, (H + 2 H_kv) * D) as the fused q/k/v
 * product returns it; qbuf: T*H*D floats. Same float32 operations as layers.apply_rope (x1 c - x2 s, x2 c + x1 s;
 * compiled without FMA contraction). The layer stack's decode steps call it too, one segment at a time. */
void rope_cache_write_f32(const float *qkv, int32_t T, int32_t H, int32_t H_kv, int32_t D, const float *cos_t,
                          const float *sin_t, float *kc, float *vc, int64_t head_stride, int32_t start, float *qbuf) {
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
}

/* rope_cache_write_f32, then attention_f32: one call per layer and slot instead of a dozen numpy passes. */
int rope_attend_f32(const float *qkv, int32_t T, int32_t H, int32_t H_kv, int32_t D, const float *cos_t,
                    const float *sin_t, float *kc, float *vc, int64_t head_stride, int32_t start, float *qbuf,
                    float *out, int n_threads) {
    rope_cache_write_f32(qkv, T, H, H_kv, D, cos_t, sin_t, kc, vc, head_stride, start, qbuf);
    return attention_f32(qbuf, kc, vc, T, H, H_kv, D, head_stride, start, out, n_threads);
}
