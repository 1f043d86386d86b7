/* Declarations shared by the library's C files (not part of the cffi interface). */
#ifndef NANOCHAT_INTERNAL_H
#define NANOCHAT_INTERNAL_H

#include "ternary.h"

/* One matmul call as every kernel sees it. sumq[n][g] = sum of q[n, k] over group g: the SIMD kernels
 * multiply (t + 1) in {0, 1, 2} (unsigned, what vpdpbusd / vpmaddubsw take) and subtract it. */
typedef struct {
    const tq_weights *w;
    const int8_t *q;        /* [N][K] */
    const float *x_scale;   /* [N] */
    int32_t N;
    const int32_t *sumq;    /* [N][n_groups] */
    float *out;             /* [N][M] */
    int32_t *acc_out;       /* [N][M][n_groups] or NULL */
} tq_call;

/* A kernel computes rows [R * blk_begin, min(R * blk_end, M)) of every output column, R the rows per block
 * of the layout it reads (TQ_BLOCK_ROWS; TQ16_BLOCK_ROWS for tq_kernel_tq16). */
typedef void (*tq_kernel_fn)(const tq_call *c, int32_t blk_begin, int32_t blk_end);

void tq_kernel_scalar(const tq_call *c, int32_t blk_begin, int32_t blk_end);
void tq_kernel_avx2(const tq_call *c, int32_t blk_begin, int32_t blk_end);
void tq_kernel_avx512(const tq_call *c, int32_t blk_begin, int32_t blk_end);
void tq_kernel_tq16(const tq_call *c, int32_t blk_begin, int32_t blk_end);

/* The lookup-table kernel's whole call (lut.c): its tables first, then the rows, each on the pool. 0 or -2. */
int tq_lut_matmul(const tq_call *c, int n_threads);

/* The 1.6-bit layout's decode tables (layout16.c), 128 entries each, built once on first use. */
enum { TQ16_TABLE_A = 0, TQ16_TABLE_B = 1, TQ16_TABLE_REMAP = 2, TQ16_TABLES = 3 };
const uint8_t (*tq16_tables(void))[128];

/* Persistent thread pool: fn(arg, begin, end) over unit ranges covering [0, n_units) exactly once,
 * on up to n_threads threads (the caller included). */
typedef void (*tq_task_fn)(void *arg, int begin, int end);
void tq_pool_run(tq_task_fn fn, void *arg, int n_units, int n_threads);
/* The same cut into n_threads equal parts, one per thread (the bandwidth probe needs concurrent readers). */
void tq_pool_run_static(tq_task_fn fn, void *arg, int n_units, int n_threads);

double tq_read_bandwidth_avx2(const uint8_t *buf, size_t bytes);
double tq_int8_dot_peak_avx512(void);
double tq_lut_lookup_peak_avx512(void);
int tq_cpu_has_avx2(void);

static inline int32_t tq_blocks(int32_t M) { return (M + TQ_BLOCK_ROWS - 1) / TQ_BLOCK_ROWS; }
static inline int32_t tq16_blocks(int32_t M) { return (M + TQ16_BLOCK_ROWS - 1) / TQ16_BLOCK_ROWS; }

/* The trit a 2-bit planar code stands for; 0b10 is invalid and decodes to 0. */
static inline int tq_code_trit(unsigned code) {
    static const int8_t table[4] = {0, 1, 0, -1};
    return table[code & 3];
}

static inline int tq_planar_trit(const tq_weights *w, int32_t m, int32_t k) {
    uint8_t byte = w->planar[(size_t)m * (size_t)(w->K / 4) + (size_t)(k / 4)];
    return tq_code_trit(byte >> (2 * (k % 4)));
}

static inline float tq_planar_scale(const tq_weights *w, int32_t m, int32_t g) {
    return w->per_tensor ? w->planar_scales[0] : w->planar_scales[(size_t)m * (size_t)w->n_groups + (size_t)g];
}

#endif
