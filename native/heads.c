/* The engine's output heads (the largest matrix a decode step reads is the tied embedding / vocabulary head):
 *  - int8 rows x int8 per-token activations: y[n][m] = x_scale[n] * (w_scale[m] * dot(q[n], w[m])), exact int32
 *    dot products. As int8 rows with one scale per row a 32k x 1536 float32 head (197 MB) is a quarter of that.
 *    AVX-512 VNNI (vpdpbusd) multiplies unsigned by signed bytes, so the weights are offset by 128 (in a layout
 *    of their own, below) and 128 * sum(q[n]) is subtracted again; AVX2 uses |q| x sign(w, q) with vpmaddubsw (no
 *    int16 saturation: 2 * 127 * 127 < 32767). A scalar loop is the reference and handles K tails.
 *  - Q6_K: the file's own 6-bit blocks times int8 per-token activations (llama.cpp's usual tied embedding).
 *  - float32 rows for small batches (decode steps of the float twin or an untied float head).
 * Rows are split over the kernels' persistent thread pool (tq_pool_run, ternary.h). Declared in engine.h; the
 * Python face is nanochat_cli/infer/linear.py (Int8Linear, Q6KLinear, FloatLinear).
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* ---- rows of an output head over the kernels' persistent thread pool ----
 * The pool the ternary products and the layer stack run on: a decode step then creates no thread, and no second
 * thread pool (BLAS's) competes with it for the cores. One thread = the calling thread alone. */
#define HEAD_UNIT_ROWS 64 /* rows per pool unit: whole blocks of every row kernel below */

typedef struct {
    void (*rows)(const void *job, int32_t m0, int32_t m1);
    const void *job;
    int32_t M;
} row_split;

static void row_task(void *arg, int begin, int end) {
    const row_split *r = (const row_split *)arg;
    int32_t m0 = begin * HEAD_UNIT_ROWS, m1 = end * HEAD_UNIT_ROWS;
    if (m1 > r->M) m1 = r->M;
    if (m0 < m1) r->rows(r->job, m0, m1);
}

static void split_rows(int n_threads, void (*rows)(const void *, int32_t, int32_t), const void *job, int32_t M) {
    row_split r = {rows, job, M};
    const int units = (M + HEAD_UNIT_ROWS - 1) / HEAD_UNIT_ROWS;
    if (n_threads > 1) tq_pool_run(row_task, &r, units, n_threads);
    else row_task(&r, 0, units);
}

typedef struct {
    const int8_t *w; const float *w_scale; int32_t M, K;
    const int8_t *q; const float *x_scale; int32_t N; float *y; int32_t m0, m1; int kind;
} head_job;

static int32_t dot_scalar(const int8_t *a, const int8_t *b, int32_t k0, int32_t K) {
    int32_t s = 0;
    for (int32_t k = k0; k < K; k++) s += (int32_t)a[k] * (int32_t)b[k];
    return s;
}

__attribute__((target("avx2")))
static void rows_avx2(const head_job *j) {
    const int32_t K = j->K, K32 = K & ~31;
    const __m256i ones = _mm256_set1_epi16(1);
    for (int32_t m = j->m0; m < j->m1; m++) { /* a row is read once, from L1 for every token after the first */
        const int8_t *w = j->w + (size_t)m * K;
        for (int32_t n = 0; n < j->N; n++) {
            const int8_t *q = j->q + (size_t)n * K;
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

static void head_rows(const void *job, int32_t m0, int32_t m1) {
    head_job j = *(const head_job *)job;
    j.m0 = m0, j.m1 = m1;
    if (j.kind == 1) rows_avx2(&j);
    else rows_scalar(&j);
}

/* 2 = AVX-512 VNNI, 1 = AVX2, 0 = scalar */
int head_best_kind(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")) return 2;
    if (__builtin_cpu_supports("avx2")) return 1;
    return 0;
}

int head_matmul(const int8_t *w, const float *w_scale, int32_t M, int32_t K, const int8_t *q, const float *x_scale,
                int32_t N, float *y, int kind, int n_threads) {
    if (kind < 0 || kind > 1) return -1;
    head_job j = {w, w_scale, M, K, q, x_scale, N, y, 0, M, kind};
    split_rows(n_threads, head_rows, &j, M);
    return 0;
}

/* ---- the int8 head on AVX-512 VNNI: its own layout, many token rows per weight line ----
 * Rows are taken 16 at a time (a block, the last one padded) and columns 4 at a time (a quad): one 64-byte line
 * per (block, quad) whose 32-bit lane i holds row 16 b + i's 4 weights of the quad, offset to unsigned (w + 128;
 * 0 past K). vpdpbusd of a line and the quad's 4 activation bytes broadcast to every lane adds (w + 128) . q for
 * 16 rows at once, so a token's 16 sums come out side by side (no horizontal reduction), and a line loaded once
 * serves a tile of up to 4 tokens. Subtracting 128 * sum(q) leaves the exact dot product (int32 arithmetic wraps,
 * and the true sum fits), and the epilogue is the kinds' own x_scale * (w_scale * s): the same bits as the row
 * kernels for any number of token rows. */
#define HV_RB 4 /* blocks (of 16 rows) per tile: HEAD_UNIT_ROWS / 16, one pool unit */
#define HV_T 4  /* token rows per tile */
_Static_assert(HEAD_UNIT_ROWS == 16 * HV_RB, "a pool unit of rows starts a block and holds whole tiles");

size_t head_vnni_bytes(int32_t M, int32_t K) {
    return (size_t)((M + 15) / 16) * (size_t)((K + 3) / 4) * 64;
}

void head_vnni_pack(const int8_t *w, int32_t M, int32_t K, uint8_t *dst) {
    const int32_t KQ = (K + 3) / 4, MB = (M + 15) / 16;
    for (int32_t b = 0; b < MB; b++)
        for (int32_t kq = 0; kq < KQ; kq++) {
            uint8_t *line = dst + ((size_t)b * (size_t)KQ + (size_t)kq) * 64;
            for (int i = 0; i < 16; i++)
                for (int e = 0; e < 4; e++) {
                    const int32_t m = 16 * b + i, k = 4 * kq + e;
                    line[4 * i + e] = m < M && k < K ? (uint8_t)((int32_t)w[(size_t)m * K + k] + 128) : 0;
                }
        }
}

typedef struct {
    const uint8_t *wp; const float *w_scale; int32_t M, KQ;
    const int32_t *qp;    /* the token rows' quads as int32 words, KQ per row, zero past K */
    const int32_t *qbias; /* 128 * sum of each token row's q */
    const float *x_scale; int32_t N; float *y;
} vnni_job;

#define AI static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vnni")))
AI void vnni_tile(const vnni_job *j, int32_t b0, const int RB, int32_t n0, const int T) {
    const int32_t KQ = j->KQ;
    const uint8_t *lines[HV_RB];
    const int32_t *qrow[HV_T];
    __m512i acc[HV_RB][HV_T];
    for (int r = 0; r < RB; r++) lines[r] = j->wp + (size_t)(b0 + r) * (size_t)KQ * 64;
    for (int t = 0; t < T; t++) qrow[t] = j->qp + (size_t)(n0 + t) * (size_t)KQ;
    for (int r = 0; r < RB; r++)
        for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_si512();
    for (int32_t kq = 0; kq < KQ; kq++) {
        __m512i wv[HV_RB];
        for (int r = 0; r < RB; r++) wv[r] = _mm512_loadu_si512(lines[r] + (size_t)kq * 64);
        for (int t = 0; t < T; t++) {
            const __m512i qb = _mm512_set1_epi32(qrow[t][kq]);
            for (int r = 0; r < RB; r++) acc[r][t] = _mm512_dpbusd_epi32(acc[r][t], wv[r], qb);
        }
    }
    for (int t = 0; t < T; t++) {
        const __m512i bias = _mm512_set1_epi32(j->qbias[n0 + t]);
        const __m512 xs = _mm512_set1_ps(j->x_scale[n0 + t]);
        float *out = j->y + (size_t)(n0 + t) * (size_t)j->M;
        for (int r = 0; r < RB; r++) {
            const int32_t m0 = (b0 + r) * 16, rem = j->M - m0;
            const __mmask16 keep = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1);
            const __m512 s = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][t], bias));
            _mm512_mask_storeu_ps(out + m0, keep,
                                  _mm512_mul_ps(xs, _mm512_mul_ps(_mm512_maskz_loadu_ps(keep, j->w_scale + m0), s)));
        }
    }
}

/* Every tile shape the tails need, each with constant trip counts (the accumulators stay in registers). */
AI void vnni_tiles(const vnni_job *j, int32_t b0, const int RB) {
    int32_t n0 = 0;
    for (; n0 + HV_T <= j->N; n0 += HV_T) vnni_tile(j, b0, RB, n0, HV_T);
    switch (j->N - n0) {
    case 3: vnni_tile(j, b0, RB, n0, 3); break;
    case 2: vnni_tile(j, b0, RB, n0, 2); break;
    case 1: vnni_tile(j, b0, RB, n0, 1); break;
    default: break;
    }
}

__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void vnni_rows(const void *job, int32_t m0, int32_t m1) {
    const vnni_job *j = (const vnni_job *)job;
    const int32_t b1 = (m1 + 15) / 16;
    for (int32_t b0 = m0 / 16; b0 < b1; b0 += HV_RB) {
        switch (b1 - b0 < HV_RB ? b1 - b0 : HV_RB) {
        case 4: vnni_tiles(j, b0, 4); break;
        case 3: vnni_tiles(j, b0, 3); break;
        case 2: vnni_tiles(j, b0, 2); break;
        default: vnni_tiles(j, b0, 1); break;
        }
    }
}
#undef AI

int head_vnni_matmul(const uint8_t *wp, const float *w_scale, int32_t M, int32_t K, const int8_t *q,
                     const float *x_scale, int32_t N, float *y, int n_threads) {
    if (K < 1 || N < 0) return -1;
    const int32_t KQ = (K + 3) / 4;
    int32_t *qp = malloc((size_t)N * (size_t)KQ * sizeof(int32_t) + 1);
    int32_t *qbias = malloc((size_t)N * sizeof(int32_t) + 1);
    if (!qp || !qbias) {
        free(qp), free(qbias);
        return -2;
    }
    for (int32_t n = 0; n < N; n++) {
        const int8_t *src = q + (size_t)n * K;
        int32_t *dst = qp + (size_t)n * KQ, sum = 0;
        dst[KQ - 1] = 0; /* the last quad's bytes past K stay zero */
        memcpy(dst, src, (size_t)K);
        for (int32_t k = 0; k < K; k++) sum += src[k];
        qbias[n] = 128 * sum;
    }
    vnni_job j = {wp, w_scale, M, KQ, qp, qbias, x_scale, N, y};
    split_rows(n_threads, vnni_rows, &j, M);
    free(qp), free(qbias);
    return 0;
}

/* ---- Q6_K output head: the file's own 6-bit blocks times int8 per-token activations ----
 * llama.cpp stores a BitNet model's tied embedding as Q6_K (6.56 bits per weight). Multiplying those blocks
 * directly reads 18% fewer bytes than int8 rows would, and the products are the file's weights, not a second
 * quantization of them. Block of 256 weights (210 bytes): ql[128] low 4 bits, qh[64] high 2 bits, sc[16] int8
 * scale per 16 weights (a sub-block), d fp16; weight = d * sc[i / 16] * (u - 32) with u the 6-bit code (layout
 * in q6_k.py). Code position P of a block holds its low nibble in ql[64 h + 32 (j % 2) + l] (bits 0-3 for j < 2,
 * 4-7 after) and its high bits in qh[32 h + l] bits 2j, 2j + 1, for P = 128 h + 32 j + l.
 *
 * The head keeps a REPACKED copy (q6k_repack, at load): the same bytes, the same codes, scales and d, but the
 * codes of each block stored in the order the vector kernel wants them: position P = 64 c + 4 i + b holds the code
 * of weight 16 i + 4 c + b. Decoded 64 codes at a time (chunk c), the 32-bit lane i of every chunk then holds 4
 * weights of sub-block i, so vpdpbusd of the 4 chunks against the activations permuted the same way (once per
 * call) accumulates each sub-block's integer dot product in lane i: one vector of the 16 sub-block sums per block,
 * scaled by the 16 sub-scales times d in one FMA. About 30 instructions per block instead of the ~45 that the
 * file's order needs (sub-scales spread over int16 lanes by vpermw, pair sums by vpmaddubsw).
 * Sums: lane i = sum of (u - 32) * q over its 16 weights, |.| <= 16 * 32 * 128 < 2^24, exact in int32 and in its
 * float conversion; d * sc is exact in float32 (11 x 8 significant bits); then one rounding per FMA.
 * y[n][m] = x_scale[n] * sum over blocks and sub-blocks of d * sc_i * dot_i. */
typedef struct {
    const uint8_t *w; int32_t M, K; const int8_t *q; const float *x_scale; int32_t N; float *y; int32_t m0, m1;
    int kind;
    const int8_t *qp;    /* vector kernel: every token row's activations in repacked order */
    const int32_t *a32;  /* vector kernel: 32 * (sum of q over each sub-block), [N][K / 16] */
} q6k_job;

#define QK_ROW_MAX 65536 /* longest Q6_K row (input width) the kernels accept */
#define Q6K_GROUP 8      /* token rows multiplied per decoded block (their accumulators stay in registers) */

/* The file's code order P -> weight index within the block, for the repacked order (see above). */
static inline int q6k_repacked_weight(int P) { return 16 * ((P % 64) / 4) + 4 * (P / 64) + P % 4; }

/* The 256 codes of a block in stored position order. */
static void q6k_codes(const uint8_t *blk, uint8_t u[256]) {
    const uint8_t *ql = blk, *qh = blk + 128;
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++) {
                const uint8_t lo = ql[h * 64 + (j % 2) * 32 + l], hi = qh[h * 32 + l];
                u[h * 128 + j * 32 + l] = (uint8_t)(((j < 2 ? lo : lo >> 4) & 0xF) | (((hi >> (2 * j)) & 3) << 4));
            }
}

static void q6k_store_codes(const uint8_t u[256], uint8_t *blk) {
    uint8_t *ql = blk, *qh = blk + 128;
    memset(blk, 0, 192);
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++) {
                const uint8_t c = u[h * 128 + j * 32 + l];
                ql[h * 64 + (j % 2) * 32 + l] |= (uint8_t)((c & 0xF) << (j < 2 ? 0 : 4));
                qh[h * 32 + l] |= (uint8_t)((c >> 4) << (2 * j));
            }
}

typedef struct { const uint8_t *src; uint8_t *dst; int32_t row_blocks; } q6k_repack_job;

static void q6k_repack_rows(const void *job, int32_t m0, int32_t m1) {
    const q6k_repack_job *j = (const q6k_repack_job *)job;
    uint8_t u[256], r[256];
    for (size_t b = (size_t)m0 * j->row_blocks; b < (size_t)m1 * j->row_blocks; b++) {
        const uint8_t *src = j->src + b * 210;
        uint8_t *dst = j->dst + b * 210;
        q6k_codes(src, u);
        for (int P = 0; P < 256; P++) r[P] = u[q6k_repacked_weight(P)];
        q6k_store_codes(r, dst);
        memcpy(dst + 192, src + 192, 18); /* sub-scales and d as they are */
    }
}

static float fp16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1F, f = h & 0x3FF;
    uint32_t bits;
    if (e == 0) { /* zero or subnormal: f * 2^-24 exactly */
        float v = (float)f * 5.9604644775390625e-08f;
        return sign ? -v : v;
    }
    bits = e == 31 ? sign | 0x7F800000u | (f << 13) : sign | ((e + 112) << 23) | (f << 13);
    float out;
    memcpy(&out, &bits, sizeof out);
    return out;
}

/* Constant vectors of the row kernel, built once per call: the vpmultishiftqb controls (output byte p of a
 * 64-code chunk takes the 2-bit field j of qh byte p % 32 into bits 4-5: bit offset 8 (p % 8) + 2 j - 4 of the
 * broadcast qword). */
typedef struct { uint8_t ctl01[64], ctl23[64]; } q6k_consts;

static void q6k_consts_init(q6k_consts *k) {
    for (int p = 0; p < 64; p++) {
        k->ctl01[p] = (uint8_t)((8 * (p % 8) + 2 * (p >= 32) - 4) & 63);
        k->ctl23[p] = (uint8_t)((8 * (p % 8) + 2 * (2 + (p >= 32)) - 4) & 63);
    }
}

/* One repacked row against up to Q6K_GROUP token rows, decoding each block in registers: the two 64-byte halves of
 * ql give the low nibbles of chunks 2h and (high nibbles) 2h + 1, vpmultishiftqb moves qh's 2-bit fields into bits
 * 4-5, one vpternlogd merges them. The codes u are unsigned, as vpdpbusd's first operand wants; the 32 * sum(q)
 * their offset adds comes off per sub-block from a32. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,avx512vnni,f16c,fma"), always_inline))
static inline void q6k_row_avx512(const uint8_t *row, int32_t K, const int8_t *qp, const int32_t *a32, int32_t N,
                                  float *out, const q6k_consts *k) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
    const __m512i ctl01 = _mm512_loadu_si512(k->ctl01), ctl23 = _mm512_loadu_si512(k->ctl23);
    __m512 facc[Q6K_GROUP];
    for (int n = 0; n < N; n++) facc[n] = _mm512_setzero_ps();
    for (int32_t b = 0; b < K / 256; b++) {
        const uint8_t *ql = row + (size_t)b * 210, *qh = ql + 128;
        uint16_t dh;
        memcpy(&dh, ql + 208, 2);
        const __m512 dsc = _mm512_mul_ps(_mm512_set1_ps(_cvtsh_ss(dh)),
                                         _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(ql + 192)))));
        __m512i uv[4];
        for (int h = 0; h < 2; h++) {
            const __m512i L = _mm512_loadu_si512(ql + h * 64);
            const __m512i H = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(qh + h * 32)));
            /* (nibble & 0x0F) | high bits in one vpternlogd: 0xD8 = m4 ? nibble : high */
            uv[2 * h] = _mm512_ternarylogic_epi32(
                _mm512_and_si512(_mm512_multishift_epi64_epi8(ctl01, H), m30), L, m4, 0xD8);
            uv[2 * h + 1] = _mm512_ternarylogic_epi32(
                _mm512_and_si512(_mm512_multishift_epi64_epi8(ctl23, H), m30), _mm512_srli_epi16(L, 4), m4, 0xD8);
        }
        for (int n = 0; n < N; n++) {
            const int8_t *qn = qp + (size_t)n * K + (size_t)b * 256;
            __m512i iacc = _mm512_dpbusd_epi32(_mm512_setzero_si512(), uv[0], _mm512_loadu_si512(qn));
            for (int c = 1; c < 4; c++) iacc = _mm512_dpbusd_epi32(iacc, uv[c], _mm512_loadu_si512(qn + c * 64));
            iacc = _mm512_sub_epi32(iacc, _mm512_loadu_si512(a32 + (size_t)n * (K / 16) + (size_t)b * 16));
            facc[n] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc), dsc, facc[n]);
        }
    }
    for (int n = 0; n < N; n++) out[n] = _mm512_reduce_add_ps(facc[n]);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,avx512vnni,f16c,fma")))
static void q6k_rows_avx512(const q6k_job *j) {
    const int32_t K = j->K;
    const size_t row_bytes = (size_t)(K / 256) * 210;
    q6k_consts k;
    q6k_consts_init(&k);
    float part[Q6K_GROUP];
    for (int32_t m = j->m0; m < j->m1; m++)
        for (int32_t n0 = 0; n0 < j->N; n0 += Q6K_GROUP) {
            const int32_t g = j->N - n0 < Q6K_GROUP ? j->N - n0 : Q6K_GROUP;
            q6k_row_avx512(j->w + (size_t)m * row_bytes, K, j->qp + (size_t)n0 * K, j->a32 + (size_t)n0 * (K / 16), g,
                           part, &k);
            for (int32_t n = 0; n < g; n++) j->y[(size_t)(n0 + n) * j->M + m] = j->x_scale[n0 + n] * part[n];
        }
}

/* The reference: each block's codes back in weight order, sub-block by sub-block integer dot products, then d and
 * the sub-scales in float. */
static void q6k_rows_scalar(const q6k_job *j) {
    const int32_t K = j->K;
    const size_t row_bytes = (size_t)(K / 256) * 210;
    uint8_t u[256];
    int8_t s[256];
    for (int32_t m = j->m0; m < j->m1; m++)
        for (int32_t n = 0; n < j->N; n++) {
            const int8_t *qn = j->q + (size_t)n * K;
            float acc = 0.0f;
            for (int32_t b = 0; b < K / 256; b++) {
                const uint8_t *blk = j->w + (size_t)m * row_bytes + (size_t)b * 210;
                q6k_codes(blk, u);
                for (int P = 0; P < 256; P++) s[q6k_repacked_weight(P)] = (int8_t)(u[P] - 32);
                uint16_t dh;
                memcpy(&dh, blk + 208, 2);
                const float d = fp16_to_f32(dh);
                for (int i = 0; i < 16; i++) {
                    int32_t dot = 0;
                    for (int t = 0; t < 16; t++) dot += (int32_t)s[16 * i + t] * (int32_t)qn[(size_t)b * 256 + 16 * i + t];
                    acc += d * (float)((const int8_t *)blk)[192 + i] * (float)dot;
                }
            }
            j->y[(size_t)n * j->M + m] = j->x_scale[n] * acc;
        }
}

static void q6k_rows(const void *job, int32_t m0, int32_t m1) {
    q6k_job j = *(const q6k_job *)job;
    j.m0 = m0, j.m1 = m1;
    if (j.kind == 1) q6k_rows_avx512(&j);
    else q6k_rows_scalar(&j);
}

/* 1 = AVX-512 F/BW/VL/VBMI/VNNI + F16C + FMA (every target of q6k_row_avx512), 0 = scalar */
int q6k_best_kind(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
           __builtin_cpu_supports("avx512vnni") &&
           __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma") ? 1 : 0;
}

/* dst (M rows of K / 256 blocks) = src repacked for the head's kernels (see above). Returns 0, -1 for a bad K. */
int q6k_repack(const uint8_t *src, uint8_t *dst, int32_t M, int32_t K, int n_threads) {
    if (K % 256 || K < 256 || K > QK_ROW_MAX) return -1;
    q6k_repack_job j = {src, dst, K / 256};
    split_rows(n_threads, q6k_repack_rows, &j, M);
    return 0;
}

/* y (N x M) = repacked Q6_K rows w (M rows of K/256 blocks, q6k_repack) times int8 rows q with per-row scales;
 * K % 256 == 0, 256 <= K <= QK_ROW_MAX. Returns 0, -1 for a bad K, -2 when scratch memory is short. */
int q6k_head_matmul(const uint8_t *w, int32_t M, int32_t K, const int8_t *q, const float *x_scale, int32_t N,
                    float *y, int kind, int n_threads) {
    if (K % 256 || K < 256 || K > QK_ROW_MAX) return -1;
    int8_t *qp = NULL;
    int32_t *a32 = NULL;
    if (kind == 1) {
        qp = (int8_t *)malloc((size_t)N * (size_t)K);
        a32 = (int32_t *)malloc(sizeof(int32_t) * (size_t)N * (size_t)(K / 16));
        if (!qp || !a32) { free(qp); free(a32); return -2; }
        for (size_t r = 0; r < (size_t)N * (size_t)(K / 256); r++) { /* r: one block position of one token row */
            const int8_t *src = q + r * 256;
            for (int P = 0; P < 256; P++) qp[r * 256 + P] = src[q6k_repacked_weight(P)];
            for (int i = 0; i < 16; i++) {
                int32_t t = 0;
                for (int e = 0; e < 16; e++) t += src[16 * i + e];
                a32[r * 16 + i] = 32 * t;
            }
        }
    }
    q6k_job j = {w, M, K, q, x_scale, N, y, 0, M, kind, qp, a32};
    split_rows(n_threads, q6k_rows, &j, M);
    free(qp);
    free(a32);
    return 0;
}

/* ---- float32 output head for small batches: y[n][m] = dot(x[n], w[m]) ----
 * A decode step over several slots multiplies a few rows by the whole (vocab x d) float32 embedding. BLAS
 * sgemm packs that matrix on every call (8 rows x 8192 x 512 took 1.0-1.6 ms against 0.14 ms for one row);
 * here each pair of weight rows is read once and multiplied into all N (<= 8) activation rows held in L1, so
 * a step reads the matrix once whatever N is. float32 FMAs; the sums are in another order than BLAS's (fast
 * mode accepts float rounding). */
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

/* weight rows per block: F32_MB x K floats (96 KiB at K = 384) stay in L2 while every F32_MAX_N-row chunk of
 * the activations passes over them, so the matrix streams from memory once per call at any N; each output is
 * the same sum in the same order whatever N and the chunking, so a row's logits do not depend on the batch */
#define F32_MB 64

static void f32_rows(const void *job, int32_t m0, int32_t m1) {
    const f32_job *all = (const f32_job *)job;
    for (int32_t mb = m0; mb < m1; mb += F32_MB)
        for (int32_t n0 = 0; n0 < all->N; n0 += F32_MAX_N) {
            f32_job j = *all;
            j.x = all->x + (size_t)n0 * all->K, j.y = all->y + (size_t)n0 * all->M;
            j.N = all->N - n0 < F32_MAX_N ? all->N - n0 : F32_MAX_N;
            j.m0 = mb, j.m1 = m1 - mb < F32_MB ? m1 : mb + F32_MB;
            if (j.kind == 1) f32_run_avx512(&j);
            else f32_run_scalar(&j);
        }
}

/* 1 = AVX-512F, 0 = scalar */
int f32_head_best_kind(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

/* y (N x M) = x (N x K) times w (M x K) transposed, in chunks of 8 rows of x; -1 for N < 1. */
int f32_head_matmul(const float *w, int32_t M, int32_t K, const float *x, int32_t N, float *y, int kind,
                    int n_threads) {
    if (N < 1) return -1;
    f32_job j = {w, x, M, K, N, y, 0, M, kind};
    split_rows(n_threads, f32_rows, &j, M);
    return 0;
}
