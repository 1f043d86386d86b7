/* The layer stack: every transformer block of an eligible model (attention only, one residual stream, dense FFN,
 * ternary linears) for one forward call in C, so a decode step makes one call from Python instead of ~20 per layer.
 *
 * It does exactly what NativeModel's fast path does, op for op (nanochat_cli/infer/forward.py): per block
 * norm_quantize (RMSNorm + int8), fused q/k/v ternary product, rope_attend_f32 per segment against the slot's KV
 * cache, [sub-norm +] quantize, o product, residual add, norm_quantize, gate/up product, silu(gate) * up (or
 * relu(x)^2), [sub-norm +] quantize, down product, residual add. The ternary products are the kernels' tq_matmul
 * with the per-matrix kernel ids the dispatcher chose (Python passes them per call); the kernels' persistent pool
 * (tq_pool_run) supplies the threads, for the products and for a decode step's attention alike: a decode step
 * creates no thread. swiglu_f32 is also what the Python fast path calls for its SwiGLU, so both paths share its exp
 * bit for bit. Declared in engine.h; the Python face is nanochat_cli/infer/stack.py.
 */
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Multiplies and adds stay separate unless written as FMAs: the scalar and SIMD SwiGLU must round alike. */
#pragma GCC optimize("fp-contract=off")

#include "engine.h"
#include "vexp.h"

/* ---- SiLU(gate) * up: gate / (1 + exp(-gate)) * up, with vexp.h's exp on every instruction set (same bits) ---- */
static inline float silu_mul_scalar(float g, float u) { return g / (1.0f + exp_scalar(-g)) * u; }

static void swiglu_rows_scalar(const float *gu, int32_t F, float *h, int32_t f0) {
    for (int32_t f = f0; f < F; f++) h[f] = silu_mul_scalar(gu[f], gu[F + f]);
}

__attribute__((target("avx2,fma")))
static void swiglu_rows_avx2(const float *gu, int32_t F, float *h) {
    const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
    int32_t f = 0;
    for (; f + 8 <= F; f += 8) {
        const __m256 g = _mm256_loadu_ps(gu + f);
        const __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, exp_avx2(_mm256_xor_ps(g, sign))));
        _mm256_storeu_ps(h + f, _mm256_mul_ps(s, _mm256_loadu_ps(gu + F + f)));
    }
    swiglu_rows_scalar(gu, F, h, f);
}

__attribute__((target("avx512f")))
static void swiglu_rows_avx512(const float *gu, int32_t F, float *h) {
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512i sign = _mm512_set1_epi32((int32_t)0x80000000u);
    int32_t f = 0;
    for (; f + 16 <= F; f += 16) {
        const __m512 g = _mm512_loadu_ps(gu + f);
        const __m512 a = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(g), sign));
        const __m512 s = _mm512_div_ps(g, _mm512_add_ps(one, exp_avx512(a)));
        _mm512_storeu_ps(h + f, _mm512_mul_ps(s, _mm512_loadu_ps(gu + F + f)));
    }
    swiglu_rows_scalar(gu, F, h, f);
}

/* 2 = AVX-512F, 1 = AVX2 + FMA, 0 = scalar */
int swiglu_best_kind(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
    return 0;
}

/* gate_up: (N, 2F) rows [gate | up] as the fused gate/up product returns them; h: (N, F). */
void swiglu_f32(const float *gate_up, int32_t N, int32_t F, float *h, int kind) {
    for (int32_t n = 0; n < N; n++) {
        const float *gu = gate_up + (size_t)n * 2 * F;
        float *hr = h + (size_t)n * F;
        if (kind == 2) swiglu_rows_avx512(gu, F, hr);
        else if (kind == 1) swiglu_rows_avx2(gu, F, hr);
        else swiglu_rows_scalar(gu, F, hr, 0);
    }
}

/* relu(x)^2 as numpy's np.square(np.maximum(x, 0)) (NaN propagates) */
static void relu2_f32(const float *x, size_t n, float *h) {
    for (size_t i = 0; i < n; i++) {
        const float m = (x[i] > 0.0f || x[i] != x[i]) ? x[i] : 0.0f;
        h[i] = m * m;
    }
}

/* ---- the plan: one model's per-layer weights and norms, built once at load ---- */
typedef struct {
    const float *attn_norm, *attn_sub_norm, *ffn_norm, *ffn_sub_norm; /* sub-norms may be NULL */
    const tq_weights *qkv, *o, *inp, *down;
} stack_layer;

struct stack_plan {
    int32_t n_layers, d, h, h_kv, hd, ff, relu2, silu_kind;
    float eps;
    const float *cos_t, *sin_t; /* RoPE tables (rope_len, hd / 2) */
    int32_t rope_len;
    stack_layer *layers;
    pthread_mutex_t lock; /* the scratch below is one call's; concurrent callers take turns */
    int32_t cap;          /* rows the scratch holds */
    float *qkv, *qbuf, *attn, *res, *inp, *hid, *scale;
    int8_t *q;
};

stack_plan *stack_plan_new(int32_t n_layers, int32_t d_model, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                           int32_t d_ff, int32_t relu2, float eps, const float *cos_t, const float *sin_t,
                           int32_t rope_len) {
    stack_plan *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->layers = calloc((size_t)n_layers, sizeof *p->layers);
    if (!p->layers || pthread_mutex_init(&p->lock, NULL)) {
        free(p->layers);
        free(p);
        return NULL;
    }
    p->n_layers = n_layers, p->d = d_model, p->h = n_heads, p->h_kv = n_kv_heads, p->hd = head_dim, p->ff = d_ff;
    p->relu2 = relu2, p->eps = eps, p->cos_t = cos_t, p->sin_t = sin_t, p->rope_len = rope_len;
    p->silu_kind = swiglu_best_kind();
    return p;
}

int stack_plan_layer(stack_plan *p, int32_t i, const float *attn_norm, const float *attn_sub_norm,
                     const float *ffn_norm, const float *ffn_sub_norm, const tq_weights *qkv, const tq_weights *o,
                     const tq_weights *inp, const tq_weights *down) {
    if (i < 0 || i >= p->n_layers) return -1;
    stack_layer l = {attn_norm, attn_sub_norm, ffn_norm, ffn_sub_norm, qkv, o, inp, down};
    p->layers[i] = l;
    return 0;
}

static void free_scratch(stack_plan *p) {
    float **bufs[] = {&p->qkv, &p->qbuf, &p->attn, &p->res, &p->inp, &p->hid, &p->scale};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) { free(*bufs[i]); *bufs[i] = NULL; }
    free(p->q);
    p->q = NULL;
    p->cap = 0;
}

void stack_plan_free(stack_plan *p) {
    if (!p) return;
    free_scratch(p);
    pthread_mutex_destroy(&p->lock);
    free(p->layers);
    free(p);
}

/* Scratch for n rows, kept between calls (grown, never shrunk): a decode loop allocates nothing. */
static int reserve(stack_plan *p, int32_t n) {
    if (n <= p->cap) return 0;
    free_scratch(p);
    const size_t rows = (size_t)n, hq = (size_t)p->h * p->hd;
    size_t widest = hq; /* the int8 rows of any product's input */
    if ((size_t)p->d > widest) widest = (size_t)p->d;
    if ((size_t)p->ff > widest) widest = (size_t)p->ff;
    p->qkv = malloc(sizeof(float) * rows * (size_t)(p->h + 2 * p->h_kv) * p->hd);
    p->qbuf = malloc(sizeof(float) * rows * hq);
    p->attn = malloc(sizeof(float) * rows * hq);
    p->res = malloc(sizeof(float) * rows * p->d);
    p->inp = malloc(sizeof(float) * rows * (size_t)(p->relu2 ? 1 : 2) * p->ff);
    p->hid = malloc(sizeof(float) * rows * p->ff);
    p->scale = malloc(sizeof(float) * rows);
    p->q = malloc(rows * widest);
    if (!p->qkv || !p->qbuf || !p->attn || !p->res || !p->inp || !p->hid || !p->scale || !p->q) {
        free_scratch(p);
        return -1;
    }
    p->cap = n;
    return 0;
}

/* ---- decode attention over the kernels' pool ----
 * The step's rotations and cache writes run first on the calling thread (a few microseconds: attention.c's
 * rope_cache_write_f32, which rope_attend_f32 runs too); then each unit runs attention_f32 for one segment's consecutive query heads of
 * one kv head. attention_f32 computes every head alone, so the result is the bits one rope_attend_f32 call per
 * segment gives, however the heads are cut. A kv head's query heads are cut in halves (quarters, ...) until there
 * are 4 units per thread: with GQA a step has few kv heads (5 for the 2B shape), and 5 units on 2 threads leave
 * one thread idle a third of the time. */
typedef struct {
    const stack_plan *p;
    const int32_t *seg;
    float *kc, *vc;
    int64_t head_stride, slot_stride;
    int32_t parts; /* units per (segment, kv head) */
    int rc;
} decode_attend;

static void decode_rotate(const decode_attend *a, int32_t n_seg) {
    const stack_plan *p = a->p;
    const int32_t hq = p->h * p->hd, width = (p->h + 2 * p->h_kv) * p->hd;
    for (int32_t s = 0; s < n_seg; s++) {
        const int32_t *sg = a->seg + 4 * s, slot = sg[0], pos = sg[1], row = sg[3];
        rope_cache_write_f32(p->qkv + (size_t)row * width, 1, p->h, p->h_kv, p->hd, p->cos_t, p->sin_t,
                             a->kc + slot * a->slot_stride, a->vc + slot * a->slot_stride, a->head_stride, pos,
                             p->qbuf + (size_t)row * hq);
    }
}

static void decode_attend_units(void *arg, int begin, int end) {
    decode_attend *a = arg;
    const stack_plan *p = a->p;
    const int32_t H_kv = p->h_kv, D = p->hd, rep = p->h / H_kv, hq = p->h * D, per = rep / a->parts;
    for (int u = begin; u < end; u++) {
        const int32_t part = u % a->parts, g = (u / a->parts) % H_kv;
        const int32_t *sg = a->seg + 4 * (u / a->parts / H_kv);
        const int32_t slot = sg[0], pos = sg[1], row = sg[3];
        const size_t h0 = (size_t)g * rep + (size_t)part * per;
        if (attention_f32(p->qbuf + (size_t)row * hq + h0 * D, a->kc + slot * a->slot_stride + g * a->head_stride,
                          a->vc + slot * a->slot_stride + g * a->head_stride, 1, per, 1, D, a->head_stride, pos,
                          p->attn + (size_t)row * hq + h0 * D, 1))
            __atomic_store_n(&a->rc, -2, __ATOMIC_RELAXED);
    }
}

/* A decode step (every segment one token, each of its own slot) runs as pool units; anything else (prefill chunks)
 * goes segment by segment through rope_attend_f32, which threads a long segment's heads itself. */
static int attend(stack_plan *p, const int32_t *seg, int32_t n_seg, float *kc, float *vc, int64_t head_stride,
                  int64_t slot_stride, int n_threads) {
    const int32_t hq = p->h * p->hd, width = (p->h + 2 * p->h_kv) * p->hd, rep = p->h / p->h_kv;
    int step = 1;
    for (int32_t s = 0; s < n_seg && step; s++) {
        step = seg[4 * s + 2] == 1;
        for (int32_t t = 0; t < s && step; t++) step = seg[4 * t] != seg[4 * s];
    }
    if (step) {
        decode_attend a = {p, seg, kc, vc, head_stride, slot_stride, 1, 0};
        decode_rotate(&a, n_seg);
        if (n_threads > 1) /* alone, whole groups keep sharing their K/V loads */
            while (rep % (2 * a.parts) == 0 && n_seg * p->h_kv * a.parts < 4 * n_threads) a.parts *= 2;
        const int units = n_seg * p->h_kv * a.parts;
        if (n_threads > 1) tq_pool_run(decode_attend_units, &a, units, n_threads);
        else decode_attend_units(&a, 0, units);
        return a.rc;
    }
    for (int32_t s = 0; s < n_seg; s++) {
        const int32_t slot = seg[4 * s], start = seg[4 * s + 1], len = seg[4 * s + 2], row = seg[4 * s + 3];
        if (rope_attend_f32(p->qkv + (size_t)row * width, len, p->h, p->h_kv, p->hd, p->cos_t, p->sin_t,
                            kc + slot * slot_stride, vc + slot * slot_stride, head_stride, start, p->qbuf,
                            p->attn + (size_t)row * hq, n_threads))
            return -2;
    }
    return 0;
}

static void add_rows(float *x, const float *y, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = x[i] + y[i];
}

/* x: (N, d) float32 residual rows, updated in place through all blocks. segments: n_seg x (slot, start, length,
 * row). kv: 2 * n_layers cache arrays (k0, v0, k1, v1, ...), each (n_slots, h_kv, ctx, hd). kernel_ids: 4 per
 * layer (qkv, o, gate/up, down) for this call's batch class and thread count.
 * Returns 0; -1 a segment outside the rows, slots or context; -2 out of memory; -3 a kernel refused to run. */
static int run_blocks(stack_plan *p, float *x, int32_t N, const int32_t *seg, int32_t n_seg, float *const *kv,
                      int32_t ctx, const int32_t *kernel_ids, int n_threads) {
    const int32_t d = p->d, ff = p->ff, hq = p->h * p->hd;
    const int64_t head_stride = (int64_t)ctx * p->hd, slot_stride = (int64_t)p->h_kv * head_stride;
    const float eps = p->eps;
    for (int32_t i = 0; i < p->n_layers; i++) {
        const stack_layer *l = &p->layers[i];
        const int32_t *kid = kernel_ids + 4 * i;
        /* attention */
        norm_quantize(x, l->attn_norm, N, d, eps, NULL, p->q, p->scale);
        if (tq_matmul(kid[0], l->qkv, p->q, p->scale, N, p->qkv, NULL, n_threads)) return -3;
        if (attend(p, seg, n_seg, kv[2 * i], kv[2 * i + 1], head_stride, slot_stride, n_threads)) return -2;
        norm_quantize(p->attn, l->attn_sub_norm, N, hq, eps, NULL, p->q, p->scale);
        if (tq_matmul(kid[1], l->o, p->q, p->scale, N, p->res, NULL, n_threads)) return -3;
        add_rows(x, p->res, (size_t)N * d);
        /* feed-forward */
        norm_quantize(x, l->ffn_norm, N, d, eps, NULL, p->q, p->scale);
        if (tq_matmul(kid[2], l->inp, p->q, p->scale, N, p->inp, NULL, n_threads)) return -3;
        if (p->relu2) relu2_f32(p->inp, (size_t)N * ff, p->hid);
        else swiglu_f32(p->inp, N, ff, p->hid, p->silu_kind);
        norm_quantize(p->hid, l->ffn_sub_norm, N, ff, eps, NULL, p->q, p->scale);
        if (tq_matmul(kid[3], l->down, p->q, p->scale, N, p->res, NULL, n_threads)) return -3;
        add_rows(x, p->res, (size_t)N * d);
    }
    return 0;
}

int stack_forward(stack_plan *p, float *x, int32_t N, const int32_t *seg, int32_t n_seg, float *const *kv,
                  int32_t n_slots, int32_t ctx, const int32_t *kernel_ids, int n_threads) {
    if (N < 1 || ctx > p->rope_len) return -1;
    for (int32_t s = 0; s < n_seg; s++) {
        const int32_t slot = seg[4 * s], start = seg[4 * s + 1], len = seg[4 * s + 2], row = seg[4 * s + 3];
        if (slot < 0 || slot >= n_slots || start < 0 || len < 1 || start + len > ctx || row < 0 || row + len > N)
            return -1;
    }
    pthread_mutex_lock(&p->lock);
    int rc = reserve(p, N) ? -2 : run_blocks(p, x, N, seg, n_seg, kv, ctx, kernel_ids, n_threads);
    pthread_mutex_unlock(&p->lock);
    return rc;
}
