/* The interleaved layout the SIMD kernels read, built once at load from the planar codes.
 *
 * Rows are taken 64 at a time (a block; the last one is padded with zero trits and zero scales).
 * For block b and k-step s (columns 4s .. 4s+3) there is one 64-byte line; its byte p = 4L + i
 * (lane L = 0..15, i = 0..3) holds, in bits 2j..2j+1 (j = 0..3), the value t + 1 in {0, 1, 2} of
 *     row 64b + 16j + L, column 4s + i.
 * Why this shape:
 *  - a 32-bit lane of a vector holds four consecutive columns of ONE row, which is exactly what
 *    vpdpbusd / vpmaddubsw+vpmaddwd sum, so a dot product needs no horizontal reduction: the 16
 *    lanes are 16 rows, and the activation operand is one broadcast of q[4s .. 4s+3];
 *  - storing t + 1 (unsigned, as those instructions want) makes decoding one AND per vector:
 *    line & (3 << 2j) = 4^j (t + 1) for rows 16j + L; the 4^j is shifted out of the int32 sum;
 *  - the four fields of a byte share one broadcast of q, so one 64-byte load feeds four
 *    vpdpbusd (256 multiply-adds), and the K sweep of a block reads memory strictly sequentially;
 *  - a k-step is 4 columns, the contract's group granularity, so any group size works.
 * Scales follow per block and group: [b][g][64] floats, row 64b + r at index r.
 * The 1.6-bit layout (layout16.c, built only on request) packs a fifth 16-row group into each byte and reads
 * these same scales.
 */
#include "internal.h"

size_t tq_layout_code_bytes(int32_t M, int32_t K) {
    return (size_t)tq_blocks(M) * (size_t)(K / 4) * 64;
}

size_t tq_layout_scale_count(int32_t M, int32_t n_groups) {
    return (size_t)tq_blocks(M) * (size_t)n_groups * TQ_BLOCK_ROWS;
}

typedef struct {
    const tq_weights *w;
    uint8_t *codes;
    float *scales;
} layout_job;

static void build_blocks(const layout_job *job, int32_t blk_begin, int32_t blk_end) {
    const tq_weights *w = job->w;
    int32_t ksteps = w->K / 4;
    for (int32_t b = blk_begin; b < blk_end; b++) {
        for (int32_t s = 0; s < ksteps; s++) {
            uint8_t *line = job->codes + ((size_t)b * (size_t)ksteps + (size_t)s) * 64;
            for (int p = 0; p < 64; p++) {
                int lane = p / 4, i = p % 4;
                unsigned byte = 0;
                for (int j = 0; j < 4; j++) {
                    int32_t m = b * TQ_BLOCK_ROWS + 16 * j + lane;
                    int t = m < w->M ? tq_planar_trit(w, m, 4 * s + i) : 0;
                    byte |= (unsigned)(t + 1) << (2 * j);
                }
                line[p] = (uint8_t)byte;
            }
        }
        for (int32_t g = 0; g < w->n_groups; g++)
            for (int r = 0; r < TQ_BLOCK_ROWS; r++) {
                int32_t m = b * TQ_BLOCK_ROWS + r;
                job->scales[((size_t)b * (size_t)w->n_groups + (size_t)g) * TQ_BLOCK_ROWS + (size_t)r] =
                    m < w->M ? tq_planar_scale(w, m, g) : 0.0f;
            }
    }
}

/* Built on the pool's threads (first touch places pages near them on a multi-node machine). */
static void build_task(void *arg, int begin, int end) {
    build_blocks(arg, begin, end);
}

void tq_layout_build(const tq_weights *w, uint8_t *codes, float *scales, int n_threads) {
    layout_job job = {w, codes, scales};
    tq_pool_run(build_task, &job, tq_blocks(w->M), n_threads);
}
