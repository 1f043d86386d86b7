/* The "1.6-bit" layout (5 trits per byte) the avx512vbmi-tq16 kernel reads, built on demand beside the
 * 2-bit one (layout.c), from the same planar codes.
 *
 * Why: a decode step of a model much larger than the last-level cache streams every weight from DRAM,
 * and 1.6 bits per trit is 20% fewer code bytes than 2. The decode costs more instructions per line,
 * so it only wins where memory, not the core, is the limit (dispatch.py's tq16_wanted holds the rule;
 * benchmarks/tq16/ is the prototype that measured it).
 *
 * Rows are taken 80 at a time (a block; the last one is padded with zero trits). For block b and k-step s
 * (columns 4s .. 4s+3) there is one 64-byte line; its byte p = 4L + i (lane L = 0..15, i = 0..3) encodes
 * u_j = t + 1 in {0, 1, 2} of row 80b + 16j + L, column 4s + i, for j = 0..4 -- the 2-bit layout with a fifth
 * 16-row group packed into the same byte. So, as there, a 32-bit lane is four columns of one row, one
 * broadcast of q[4s .. 4s+3] serves the whole line, a k-step is 4 columns (any group size works) and a
 * block's K sweep reads memory sequentially.
 *
 * The "chain" encoding: c = 3 u0 + u1 (0..8), r = 9 u2 + 3 u3 + u4 (0..26), i = (r - 14c) mod 27, and
 *     byte = 14c + i           when i < 14   (top bit clear)
 *     byte = 128 + 14c + i - 14 otherwise    (top bit set)
 * so that, with l = byte & 127 (always in [14c, 14c + 13]):
 *  - u0, u1 depend on l only (c = l / 14): one 128-entry lookup (vpermi2b) gives A = u0 | u1 << 2;
 *  - r = l mod 27 when the top bit is clear and (l + 14) mod 27 when it is set: one masked lookup replaces
 *    l by (l + 14) mod 27 on the top-bit bytes (REMAP), after which r = index mod 27 everywhere and one
 *    more lookup gives B = u2 | u3 << 2 | u4 << 4.
 * Decode per line: vpmovb2m + 3 vpermi2b + 3 vpandd (avx512vbmi.c). 243 codes fit 256 byte values, so the
 * bytes 126, 127, 254, 255 never occur. Scales are not duplicated: the kernel reads the 2-bit layout's
 * [b][g][64] scales, where every 16 rows starting at a multiple of 16 are contiguous.
 */
#include <pthread.h>

#include "internal.h"

static uint8_t tables[TQ16_TABLES][128] __attribute__((aligned(64)));
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void build_tables(void) {
    for (int l = 0; l < 128; l++) {
        int c = l / 14, r = l % 27;
        tables[TQ16_TABLE_A][l] = c < 9 ? (uint8_t)(c / 3 | (c % 3) << 2) : 0; /* 126, 127: unused */
        tables[TQ16_TABLE_B][l] = (uint8_t)(r / 9 | (r / 3 % 3) << 2 | (r % 3) << 4);
        tables[TQ16_TABLE_REMAP][l] = (uint8_t)((l + 14) % 27);
    }
}

const uint8_t (*tq16_tables(void))[128] {
    pthread_once(&tables_once, build_tables);
    return (const uint8_t (*)[128])tables;
}

/* The byte holding u = t + 1 of five rows (see above). */
static uint8_t encode5(const int u[5]) {
    int c = 3 * u[0] + u[1], r = 9 * u[2] + 3 * u[3] + u[4];
    int i = ((r - 14 * c) % 27 + 27) % 27;
    return (uint8_t)(i < 14 ? 14 * c + i : 128 + 14 * c + i - 14);
}

size_t tq_layout16_code_bytes(int32_t M, int32_t K) {
    return (size_t)tq16_blocks(M) * (size_t)(K / 4) * 64;
}

static void build_task(void *arg, int begin, int end) {
    const tq_weights *w = arg;
    const int32_t ksteps = w->K / 4;
    uint8_t *codes = (uint8_t *)w->codes16;
    for (int32_t b = begin; b < end; b++)
        for (int32_t s = 0; s < ksteps; s++) {
            uint8_t *line = codes + ((size_t)b * (size_t)ksteps + (size_t)s) * 64;
            for (int lane = 0; lane < 16; lane++) {
                /* a planar byte is the 4 columns of k-step s of one row: the line's bytes 4 lane .. 4 lane + 3 */
                int u[4][5];
                for (int j = 0; j < 5; j++) {
                    int32_t m = b * TQ16_BLOCK_ROWS + 16 * j + lane;
                    unsigned byte = m < w->M ? w->planar[(size_t)m * (size_t)ksteps + (size_t)s] : 0;
                    for (int i = 0; i < 4; i++) u[i][j] = tq_code_trit(byte >> (2 * i)) + 1;
                }
                for (int i = 0; i < 4; i++) line[4 * lane + i] = encode5(u[i]);
            }
        }
}

/* Fills w->codes16 (tq_layout16_code_bytes(M, K) bytes) on the pool, as tq_layout_build does. */
void tq_layout16_build(const tq_weights *w, int n_threads) {
    tq16_tables();
    tq_pool_run(build_task, (void *)w, tq16_blocks(w->M), n_threads);
}
