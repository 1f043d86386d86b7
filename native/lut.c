/* Lookup-table (LUT) ternary kernel for the compute-bound regime (T-MAC / bitnet.cpp TL family), and its layout.
 *
 * Idea: three trits take 27 patterns. Per activation row and per triple of columns (q0, q1, q2), a 27-entry table
 * holds every partial sum u0 q0 + u1 q1 + u2 q2 (u = t + 1 in {0, 1, 2}); it is built once per call and read by
 * every weight row, so a weight row pays one byte-permute lookup and one 16-bit add per three weights, where
 * vpdpbusd pays one multiply-add per weight (per 16 rows x 4 columns: 64 weights per instruction against 96).
 * Whether that wins depends on the core's ports: on an Intel Xeon (vpdpbusd on two ports, vpermb on one) the
 * lookups' bound is 0.81-0.84x the multiply-adds' and the kernel runs at 0.77-0.93x the 2-bit one; on Zen 4
 * (both about once per cycle) the probes bound it at 1.36x and it runs at 0.83-0.97x (docs/BENCHMARKS.md,
 * ## kernels, "lookup-table kernel" and "on Zen 4"): so the dispatcher only measures it when NANOCHAT_LUT=1 asks
 * (dispatch.lut_wanted).
 *
 * Exactness: an entry needs 11 bits, more than a byte lookup gives, so a table is one 64-byte register of two
 * halves, bytes 0..26 the low and bytes 32..58 the high bytes of the int16 entries; the layout's index word of a
 * row is the byte pair (p, p + 32), and vpermb of the table by 32 such words returns the 32 rows' int16 entries.
 * The entries carry the bias S = q0 + q1 + q2 (u, not t); each chunk of <= TQ_LUT_CHUNK triples is summed in
 * int16, wrapping, and the chunk's sum of q is subtracted before widening: the true sum, |sum t q| <=
 * 64 * 3 * 128 < 2^15, comes out exact whatever the wrapped intermediate was. Then int32 per group and the float
 * epilogue of the contract, as every kernel does (bit-exact with the scalar reference).
 *
 * Layout (tq_layout_lut_build, from the planar codes): a scale group of G columns is cut into ceil(G / 3)
 * triples, the last one padded with zero trits (its table reads q = 0 there), so a triple never spans two
 * groups. Rows are taken 32 at a time (a block; the last padded with zero trits); for block b and triple t there
 * is one 64-byte line of 32 index words, word j = bytes 2j and 2j + 1 being p and p + 32, p = 9 u0 + 3 u1 + u2 of
 * row 32b + j / 2 for even j and of row 32b + 16 + j / 2 for odd j: the even words of a 32-bit lane widen to rows
 * 0..15 and the odd ones to rows 16..31 by shifts alone (no shuffle, whose one port the lookups keep busy).
 * 16 bits per 3 weights: 2.7x the 2-bit layout's bytes, so it is built only where the dispatcher measured a win.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static inline int32_t lut_group_triples(const tq_weights *w) { return (w->group + 2) / 3; }
static inline int32_t lut_triples(const tq_weights *w) { return w->n_groups * lut_group_triples(w); }

size_t tq_layout_lut_code_bytes(int32_t M, int32_t K, int32_t group) {
    return (size_t)((M + TQ_LUT_BLOCK_ROWS - 1) / TQ_LUT_BLOCK_ROWS) * (size_t)((K / group) * ((group + 2) / 3)) * 64;
}

static void build_lut_blocks(void *arg, int begin, int end) {
    const tq_weights *w = arg;
    const int32_t tg = lut_group_triples(w), nt = lut_triples(w);
    uint8_t *codes = (uint8_t *)w->codes_lut;
    for (int32_t b = begin; b < end; b++)
        for (int32_t t = 0; t < nt; t++) {
            uint8_t *line = codes + ((size_t)b * (size_t)nt + (size_t)t) * 64;
            const int32_t g = t / tg, k0 = g * w->group + 3 * (t % tg);
            for (int j = 0; j < TQ_LUT_BLOCK_ROWS; j++) {  /* word j: row j / 2, or 16 + j / 2 when j is odd */
                const int32_t m = b * TQ_LUT_BLOCK_ROWS + (j & 1) * 16 + j / 2;
                int p = 0;
                for (int i = 0; i < 3; i++) {
                    const int32_t k = k0 + i;
                    const int u = (m < w->M && k < (g + 1) * w->group) ? tq_planar_trit(w, m, k) + 1 : 1;
                    p = 3 * p + u;
                }
                line[2 * j] = (uint8_t)p;
                line[2 * j + 1] = (uint8_t)(p + 32);
            }
        }
}

/* Fills w->codes_lut (tq_layout_lut_code_bytes(M, K, group) bytes) on the pool, as tq_layout_build does. */
void tq_layout_lut_build(const tq_weights *w, int n_threads) {
    tq_pool_run(build_lut_blocks, (void *)w, (w->M + TQ_LUT_BLOCK_ROWS - 1) / TQ_LUT_BLOCK_ROWS, n_threads);
}

/* ---- the kernel: AVX-512 F/BW/VL/VNNI/VBMI from here on (dispatch.c checks CPUID before calling) ---- */
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi")
#include <immintrin.h>

#include "avx512_common.h"

/* Row blocks x activation rows per tile: 16 int16 accumulators and 4 index vectors in registers, with the lookups'
 * results and the loop's pointers beside them (sweep() names the 4 x 4 accumulators: these are not free knobs). */
#define TQ_LUT_RB 4
#define TQ_LUT_NB 4

typedef struct {
    const tq_call *c;
    const uint8_t *tables;   /* [N][triples][64] */
    const int32_t *csum;     /* [N][n_groups][chunks per group]: sum of q over each chunk (c->sumq for one chunk) */
    int32_t nt, tg, chunks;  /* triples, triples per group, chunks per group */
} lut_job;

/* The table of one triple: dword lane i of PA (PB) is the u pattern of p = i (p = 16 + i), bytes (u0, u1, u2, 0);
 * vpdpbusd against the broadcast (q0, q1, q2, 0) gives entry p as int32, and vpermi2b gathers byte 0 (low) and
 * byte 1 (high) of the 27 entries into the two halves of the table. */
typedef struct {
    __m512i pa, pb, gather;
} table_maker;

static table_maker make_table_maker(void) {
    uint8_t pa[64], pb[64], gather[64];
    for (int i = 0; i < 16; i++)
        for (int half = 0; half < 2; half++) {
            const int p = 16 * half + i;
            uint8_t *dst = (half ? pb : pa) + 4 * i;
            dst[0] = p < 27 ? (uint8_t)(p / 9) : 0;
            dst[1] = p < 27 ? (uint8_t)(p / 3 % 3) : 0;
            dst[2] = p < 27 ? (uint8_t)(p % 3) : 0;
            dst[3] = 0;
        }
    for (int j = 0; j < 32; j++) {
        gather[j] = (uint8_t)(4 * j);           /* dword j of (PA-result, PB-result), low byte */
        gather[32 + j] = (uint8_t)(4 * j + 1);  /* its high byte */
    }
    table_maker tm = {_mm512_loadu_si512(pa), _mm512_loadu_si512(pb), _mm512_loadu_si512(gather)};
    return tm;
}

AI void store_table(const table_maker *tm, uint32_t q3, uint8_t *dst) {
    const __m512i x = _mm512_set1_epi32((int32_t)q3), z = _mm512_setzero_si512();
    const __m512i a = _mm512_dpbusd_epi32(z, tm->pa, x), b = _mm512_dpbusd_epi32(z, tm->pb, x);
    _mm512_store_si512(dst, _mm512_permutex2var_epi8(a, tm->gather, b));
}

/* Units: (activation row, group) pairs; tables and chunk sums of that group. */
static void build_tables(void *arg, int begin, int end) {
    const lut_job *job = arg;
    const tq_weights *w = job->c->w;
    const table_maker tm = make_table_maker();
    for (int unit = begin; unit < end; unit++) {
        const int32_t n = unit / w->n_groups, g = unit % w->n_groups;
        const int8_t *q = job->c->q + (size_t)n * (size_t)w->K + (size_t)g * (size_t)w->group;
        uint8_t *tab = (uint8_t *)job->tables + ((size_t)n * (size_t)job->nt + (size_t)g * (size_t)job->tg) * 64;
        int32_t i = 0;
        for (; i + 1 < job->tg; i++) {  /* a 4-byte read stays inside the group: the 4th byte meets a zero pattern */
            uint32_t v;
            memcpy(&v, q + 3 * i, 4);
            store_table(&tm, v, tab + (size_t)i * 64);
        }
        const int32_t valid = w->group - 3 * i;  /* the last triple: 1 to 3 columns, the rest padded with q = 0 */
        uint32_t v = (uint8_t)q[3 * i];
        if (valid > 1) v |= (uint32_t)(uint8_t)q[3 * i + 1] << 8;
        if (valid > 2) v |= (uint32_t)(uint8_t)q[3 * i + 2] << 16;
        store_table(&tm, v, tab + (size_t)i * 64);
        if (job->chunks == 1) continue;  /* one chunk per group: its sum is tq_matmul's sumq, which csum points at */
        int32_t *cs = (int32_t *)job->csum + ((size_t)n * (size_t)w->n_groups + (size_t)g) * (size_t)job->chunks;
        for (int32_t ch = 0; ch < job->chunks; ch++) {
            const int32_t k_end = (ch + 1) * 3 * TQ_LUT_CHUNK < w->group ? (ch + 1) * 3 * TQ_LUT_CHUNK : w->group;
            int32_t s = 0;
            for (int32_t k = ch * 3 * TQ_LUT_CHUNK; k < k_end; k++) s += q[k];
            cs[ch] = s;
        }
    }
}

/* One chunk of triples [t0, t1) for an RB x NB tile: the kernel's inner loop, one vpermb + one vpaddw per 32 rows
 * x 3 columns x 1 activation row. The accumulators are named variables pinned by an empty asm: held in an array,
 * GCC adds into a fresh register and copies it back (a vmovdqa64 per add) or keeps the array in memory. */
#define LUT_STEP(r, n, a)                                                                                      \
    if (RB > r && NB > n) a = _mm512_add_epi16(a, _mm512_permutexvar_epi8(i##r, _mm512_load_si512(tabs[n] + off)))
AI void sweep(const uint8_t *const *lines, const uint8_t *const *tabs, int32_t t0, int32_t t1, const int RB,
              const int NB, __m512i acc[TQ_LUT_RB][TQ_LUT_NB]) {
    __m512i a00 = _mm512_setzero_si512(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00,
            a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
    for (int32_t t = t0; t < t1; t++) {
        const size_t off = (size_t)t * 64;
        const __m512i i0 = _mm512_load_si512(lines[0] + off);
        const __m512i i1 = RB > 1 ? _mm512_load_si512(lines[1] + off) : i0;
        const __m512i i2 = RB > 2 ? _mm512_load_si512(lines[2] + off) : i0;
        const __m512i i3 = RB > 3 ? _mm512_load_si512(lines[3] + off) : i0;
        LUT_STEP(0, 0, a00); LUT_STEP(0, 1, a01); LUT_STEP(0, 2, a02); LUT_STEP(0, 3, a03);
        LUT_STEP(1, 0, a10); LUT_STEP(1, 1, a11); LUT_STEP(1, 2, a12); LUT_STEP(1, 3, a13);
        LUT_STEP(2, 0, a20); LUT_STEP(2, 1, a21); LUT_STEP(2, 2, a22); LUT_STEP(2, 3, a23);
        LUT_STEP(3, 0, a30); LUT_STEP(3, 1, a31); LUT_STEP(3, 2, a32); LUT_STEP(3, 3, a33);
        __asm__("" : "+v"(a00), "+v"(a01), "+v"(a02), "+v"(a03), "+v"(a10), "+v"(a11), "+v"(a12), "+v"(a13));
        __asm__("" : "+v"(a20), "+v"(a21), "+v"(a22), "+v"(a23), "+v"(a30), "+v"(a31), "+v"(a32), "+v"(a33));
    }
    acc[0][0] = a00, acc[0][1] = a01, acc[0][2] = a02, acc[0][3] = a03;
    acc[1][0] = a10, acc[1][1] = a11, acc[1][2] = a12, acc[1][3] = a13;
    acc[2][0] = a20, acc[2][1] = a21, acc[2][2] = a22, acc[2][3] = a23;
    acc[3][0] = a30, acc[3][1] = a31, acc[3][2] = a32, acc[3][3] = a33;
}
#undef LUT_STEP

/* Rows 32 b0 .. 32 (b0 + RB) - 1 for activation rows n0 .. n0 + NB - 1. */
AI void lut_tile(const lut_job *job, int32_t b0, const int RB, int32_t n0, const int NB) {
    const tq_call *c = job->c;
    const tq_weights *w = c->w;
    const int32_t nt = job->nt, tg = job->tg, ng = w->n_groups;
    const uint8_t *lines[TQ_LUT_RB], *tabs[TQ_LUT_NB];
    for (int r = 0; r < RB; r++) lines[r] = w->codes_lut + (size_t)(b0 + r) * (size_t)nt * 64;
    for (int n = 0; n < NB; n++) tabs[n] = job->tables + (size_t)(n0 + n) * (size_t)nt * 64;
    float y[TQ_LUT_NB][TQ_LUT_RB][32] __attribute__((aligned(64)));
    int32_t gacc[TQ_LUT_NB][TQ_LUT_RB][32] __attribute__((aligned(64)));
    for (int n = 0; n < NB; n++)
        for (int r = 0; r < RB; r++)
            for (int h = 0; h < 2; h++) _mm512_store_ps(y[n][r] + 16 * h, _mm512_setzero_ps());

    for (int32_t g = 0; g < ng; g++) {
        int32_t ch = 0;
        do {  /* at least one chunk per group (a do-while, so GCC sees gacc written before it is read) */
            const int32_t t0 = g * tg + ch * TQ_LUT_CHUNK;
            const int32_t t1 = t0 + TQ_LUT_CHUNK < (g + 1) * tg ? t0 + TQ_LUT_CHUNK : (g + 1) * tg;
            __m512i acc[TQ_LUT_RB][TQ_LUT_NB];
            sweep(lines, tabs, t0, t1, RB, NB, acc);
            for (int n = 0; n < NB; n++) {
                const int32_t s = job->csum[((size_t)(n0 + n) * (size_t)ng + (size_t)g) * (size_t)job->chunks + ch];
                const __m512i bias = _mm512_set1_epi16((short)(uint16_t)(uint32_t)s);  /* wraps, as the sums do */
                for (int r = 0; r < RB; r++) {
                    const __m512i exact = _mm512_sub_epi16(acc[r][n], bias);
                    for (int h = 0; h < 2; h++) {
                        /* rows 16h .. 16h + 15 are the even (h = 0) or odd (h = 1) words: sign-extended by shifts,
                         * which leave the one shuffle port to the lookups */
                        __m512i v = _mm512_srai_epi32(h ? exact : _mm512_slli_epi32(exact, 16), 16);
                        if (ch) v = _mm512_add_epi32(v, _mm512_load_si512(gacc[n][r] + 16 * h));
                        _mm512_store_si512(gacc[n][r] + 16 * h, v);
                    }
                }
            }
        } while (++ch < job->chunks);
        for (int n = 0; n < NB; n++)
            for (int r = 0; r < RB; r++)
                for (int h = 0; h < 2; h++) {
                    const int32_t row0 = (b0 + r) * TQ_LUT_BLOCK_ROWS + 16 * h;
                    if (row0 >= w->M) break;
                    const __m512i a = _mm512_load_si512(gacc[n][r] + 16 * h);
                    if (__builtin_expect(c->acc_out != NULL, 0)) dump_acc(c, n0 + n, row0, g, a);
                    /* the 2-bit layout's scales: 16 rows from a multiple of 16 sit together in block row0 / 64 */
                    const float *sg = w->scales + ((size_t)(row0 / TQ_BLOCK_ROWS) * (size_t)ng + (size_t)g) *
                                      TQ_BLOCK_ROWS + (size_t)(row0 % TQ_BLOCK_ROWS);
                    _mm512_store_ps(y[n][r] + 16 * h, _mm512_add_ps(_mm512_load_ps(y[n][r] + 16 * h),
                                    _mm512_mul_ps(_mm512_load_ps(sg), _mm512_cvtepi32_ps(a))));
                }
    }
    for (int n = 0; n < NB; n++) {
        const __m512 xs = _mm512_set1_ps(c->x_scale[n0 + n]);
        float *o = c->out + (size_t)(n0 + n) * (size_t)w->M;
        for (int r = 0; r < RB; r++)
            for (int h = 0; h < 2; h++) {
                const int32_t row0 = (b0 + r) * TQ_LUT_BLOCK_ROWS + 16 * h, rem = w->M - row0;
                if (rem <= 0) break;
                const __mmask16 keep = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1);
                _mm512_mask_storeu_ps(o + row0, keep, _mm512_mul_ps(xs, _mm512_load_ps(y[n][r] + 16 * h)));
            }
    }
}

/* Every RB x NB shape the tails need, each with its own constant trip counts. */
AI void lut_tile_rows(const lut_job *job, int32_t b0, const int RB, int32_t n0, int nb) {
    switch (nb) {
    case 4: lut_tile(job, b0, RB, n0, 4); break;
    case 3: lut_tile(job, b0, RB, n0, 3); break;
    case 2: lut_tile(job, b0, RB, n0, 2); break;
    default: lut_tile(job, b0, RB, n0, 1); break;
    }
}

static void lut_blocks(void *arg, int begin, int end) {
    const lut_job *job = arg;
    const int32_t N = job->c->N;
    for (int32_t b0 = begin; b0 < end; b0 += TQ_LUT_RB) {
        const int rb = end - b0 < TQ_LUT_RB ? end - b0 : TQ_LUT_RB;
        for (int32_t n0 = 0; n0 < N; n0 += TQ_LUT_NB) {
            const int nb = N - n0 < TQ_LUT_NB ? N - n0 : TQ_LUT_NB;
            switch (rb) {
            case 4: lut_tile_rows(job, b0, 4, n0, nb); break;
            case 3: lut_tile_rows(job, b0, 3, n0, nb); break;
            case 2: lut_tile_rows(job, b0, 2, n0, nb); break;
            default: lut_tile_rows(job, b0, 1, n0, nb); break;
            }
        }
    }
}

/* The tables of a call: one buffer per calling thread, kept and grown (a malloc this size would be an mmap and
 * page faults on every call). */
static __thread uint8_t *table_buf;
static __thread size_t table_cap;

static void *table_space(size_t bytes) {
    if (bytes > table_cap) {
        free(table_buf);
        table_cap = 0;
        table_buf = aligned_alloc(64, (bytes + 63) / 64 * 64);
        if (!table_buf) return NULL;
        table_cap = bytes;
    }
    return table_buf;
}

/* tq_matmul's LUT path: the tables for every activation row on the pool, then the row blocks on the pool. */
int tq_lut_matmul(const tq_call *c, int n_threads) {
    const tq_weights *w = c->w;
    lut_job job = {c, NULL, NULL, lut_triples(w), lut_group_triples(w), 0};
    job.chunks = (job.tg + TQ_LUT_CHUNK - 1) / TQ_LUT_CHUNK;
    const size_t tab_bytes = (size_t)c->N * (size_t)job.nt * 64;
    const size_t csum_bytes = sizeof(int32_t) * (size_t)c->N * (size_t)w->n_groups * (size_t)job.chunks;
    uint8_t *space = table_space(tab_bytes + csum_bytes);
    if (!space) return -2;
    job.tables = space;
    job.csum = job.chunks == 1 ? c->sumq : (const int32_t *)(space + tab_bytes);
    tq_pool_run(build_tables, &job, c->N * w->n_groups, n_threads);
    tq_pool_run(lut_blocks, &job, (w->M + TQ_LUT_BLOCK_ROWS - 1) / TQ_LUT_BLOCK_ROWS, n_threads);
    return 0;
}

/* The lookup kernel's compute roofline on one core: 16 independent vpermb + vpaddw pairs (4 index vectors x 4
 * tables held in registers, so no two lookups are alike and none can be merged), its inner loop's instructions and
 * nothing else. Weight multiply-adds x 2 per second of this thread's CPU time (a pair stands for 32 rows x 3 columns
 * = 96 of them), comparable with tq_int8_dot_peak's figure. */
#include <time.h>
double tq_lut_lookup_peak_avx512(void) {
    __m512i acc[16], idx[4], tab[4];
    for (int i = 0; i < 16; i++) acc[i] = _mm512_setzero_si512();
    for (int r = 0; r < 4; r++) idx[r] = _mm512_set1_epi16((short)(0x2000 | r)), tab[r] = _mm512_set1_epi16((short)r);
    const long steps = 1000000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    for (long it = 0; it < steps; it++) {
        for (int i = 0; i < 16; i++)
            acc[i] = _mm512_add_epi16(acc[i], _mm512_permutexvar_epi8(idx[i & 3], tab[i >> 2]));
        /* fresh tables every step, as in the kernel: nothing is hoisted out of the loop */
        __asm__ volatile("" : "+v"(tab[0]), "+v"(tab[1]), "+v"(tab[2]), "+v"(tab[3]));
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    __m512i s = acc[0];
    for (int i = 1; i < 16; i++) s = _mm512_xor_si512(s, acc[i]);
    volatile int sink = _mm512_reduce_add_epi32(s);
    (void)sink;
    const double sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    return (double)steps * 16.0 * 96.0 * 2.0 / sec;
}
