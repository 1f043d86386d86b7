/* Run-time dispatch (CPUID + XGETBV, never the build machine's flags), the matmul entry point that
 * splits row blocks over the thread pool, and the timing loop `nanochat bench-kernels` uses.
 */
#include <cpuid.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static const char *const NAMES[TQ_KERNEL_COUNT] = {"scalar", "avx2", "avx512vnni", "avx512vbmi-tq16",
                                                 "avx512vbmi-lut"};
static const tq_kernel_fn KERNELS[TQ_KERNEL_COUNT] = {tq_kernel_scalar, tq_kernel_avx2, tq_kernel_avx512,
                                                      tq_kernel_tq16, NULL /* tq_lut_matmul */};

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* Bit k set when kernel k can run: the CPU has the instructions AND the OS saves the registers. */
static int detect(void) {
    unsigned a, b, c, d;
    int mask = 1 << TQ_KERNEL_SCALAR;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return mask;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return mask;
    uint64_t xcr0 = xgetbv0();
    int ymm_state = (xcr0 & 0x6) == 0x6;    /* SSE + AVX state */
    int zmm_state = (xcr0 & 0xE6) == 0xE6;  /* + opmask, ZMM0-15 upper halves, ZMM16-31 */
    if (__get_cpuid_max(0, NULL) < 7) return mask;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1, f = (b >> 16) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1, vnni = (c >> 11) & 1;
    int vbmi = (c >> 1) & 1;
    if (ymm_state && avx2) mask |= 1 << TQ_KERNEL_AVX2;
    if (zmm_state && f && bw && vl && vnni) mask |= 1 << TQ_KERNEL_AVX512;
    if (zmm_state && f && bw && vl && vnni && vbmi) mask |= 1 << TQ_KERNEL_TQ16 | 1 << TQ_KERNEL_LUT;
    return mask;
}

static int supported_mask(void) {
    static int mask = -1;
    if (mask < 0) mask = detect();
    return mask;
}

int tq_cpu_supports(int kernel) {
    return kernel >= 0 && kernel < TQ_KERNEL_COUNT && ((supported_mask() >> kernel) & 1);
}

int tq_cpu_has_avx2(void) { return tq_cpu_supports(TQ_KERNEL_AVX2); }

const char *tq_kernel_name(int kernel) {
    return kernel >= 0 && kernel < TQ_KERNEL_COUNT ? NAMES[kernel] : "unknown";
}

const char *tq_cpu_brand(void) {
    static char brand[49];
    if (!brand[0]) {
        unsigned r[12] = {0};
        if (__get_cpuid_max(0x80000000, NULL) >= 0x80000004) {
            __cpuid(0x80000002, r[0], r[1], r[2], r[3]);
            __cpuid(0x80000003, r[4], r[5], r[6], r[7]);
            __cpuid(0x80000004, r[8], r[9], r[10], r[11]);
            memcpy(brand, r, 48);
        } else {
            strcpy(brand, "unknown x86-64");
        }
    }
    return brand;
}

typedef struct {
    tq_call call;
    tq_kernel_fn fn;
} matmul_job;

static void matmul_task(void *arg, int begin, int end) {
    const matmul_job *job = arg;
    job->fn(&job->call, begin, end);
}

int tq_matmul(int kernel, const tq_weights *w, const int8_t *q, const float *x_scale, int32_t N,
              float *out, int32_t *acc_out, int n_threads) {
    if (!tq_cpu_supports(kernel)) return -1;
    const int tq16 = kernel == TQ_KERNEL_TQ16;
    if (tq16 && !w->codes16) return -3;
    if (kernel == TQ_KERNEL_LUT && !w->codes_lut) return -3;
    int32_t *sumq = malloc(sizeof(int32_t) * (size_t)N * (size_t)w->n_groups + 1);
    if (!sumq) return -2;
    for (int32_t n = 0; n < N; n++)
        for (int32_t g = 0; g < w->n_groups; g++) {
            const int8_t *qg = q + (size_t)n * (size_t)w->K + (size_t)g * (size_t)w->group;
            int32_t s = 0;
            for (int32_t k = 0; k < w->group; k++) s += qg[k];
            sumq[(size_t)n * (size_t)w->n_groups + (size_t)g] = s;
        }
    matmul_job job = {{w, q, x_scale, N, sumq, out, acc_out}, KERNELS[kernel]};
    int rc = 0;
    if (kernel == TQ_KERNEL_LUT)
        rc = tq_lut_matmul(&job.call, n_threads);
    else
        tq_pool_run(matmul_task, &job, tq16 ? tq16_blocks(w->M) : tq_blocks(w->M), n_threads);
    free(sumq);
    return rc;
}

double tq_int8_dot_peak(void) {
    return tq_cpu_supports(TQ_KERNEL_AVX512) ? tq_int8_dot_peak_avx512() : -1.0;
}

double tq_lut_lookup_peak(void) {
    return tq_cpu_supports(TQ_KERNEL_LUT) ? tq_lut_lookup_peak_avx512() : -1.0;
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int tq_time_matmul(int kernel, const tq_weights *ws, int n_w, const int8_t *q, const float *x_scale, int32_t N,
                   float *out, int n_threads, int reps, double *ns_out) {
    for (int r = 0; r < reps; r++) {
        double t0 = now_ns();
        int rc = tq_matmul(kernel, &ws[r % n_w], q, x_scale, N, out, NULL, n_threads);
        ns_out[r] = now_ns() - t0;
        if (rc) return rc;
    }
    return 0;
}
