/* Scalar reference kernel: the specification, written for clarity, read straight from the planar codes.
 *
 * y[n, m] = x_scale[n] * (sum over groups g, in order, of s[m, g] * float(acc[n, m, g])),
 * acc[n, m, g] = sum_{k in g} t[m, k] * q[n, k] as exact int32. Float ops are separate multiplies and
 * adds (the library is built with -ffp-contract=off), so every kernel rounds exactly like numpy.
 */
#include "internal.h"

void tq_kernel_scalar(const tq_call *c, int32_t blk_begin, int32_t blk_end) {
    const tq_weights *w = c->w;
    int32_t row_end = blk_end * TQ_BLOCK_ROWS < w->M ? blk_end * TQ_BLOCK_ROWS : w->M;
    for (int32_t n = 0; n < c->N; n++) {
        const int8_t *q = c->q + (size_t)n * (size_t)w->K;
        for (int32_t m = blk_begin * TQ_BLOCK_ROWS; m < row_end; m++) {
            float y = 0.0f;
            for (int32_t g = 0; g < w->n_groups; g++) {
                int32_t acc = 0;
                for (int32_t k = g * w->group; k < (g + 1) * w->group; k++)
                    acc += tq_planar_trit(w, m, k) * (int32_t)q[k];
                if (c->acc_out)
                    c->acc_out[((size_t)n * (size_t)w->M + (size_t)m) * (size_t)w->n_groups + (size_t)g] = acc;
                y = y + tq_planar_scale(w, m, g) * (float)acc;
            }
            c->out[(size_t)n * (size_t)w->M + (size_t)m] = c->x_scale[n] * y;
        }
    }
}
