/* Memory read-bandwidth probe: the roofline `nanochat bench-kernels` compares the kernels against.
 * Each thread sums its slice of a buffer with 256-bit loads (AVX2 when present, 64-bit words
 * otherwise); a buffer larger than L3 gives DRAM bandwidth, one the size of a matrix gives the
 * bandwidth of the cache level that holds it.
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "internal.h"

/* Keeps the reads from being optimised away. Threads update it concurrently, so it is atomic (a plain
 * `volatile +=` from several threads is a data race); a flag, not the value, so no double-to-integer
 * conversion can overflow. */
static _Atomic uint64_t sink;

__attribute__((target("avx2"))) double tq_read_bandwidth_avx2(const uint8_t *buf, size_t bytes) {
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    for (size_t i = 0; i + 128 <= bytes; i += 128) {
        a = _mm256_xor_si256(a, _mm256_load_si256((const __m256i *)(buf + i)));
        b = _mm256_xor_si256(b, _mm256_load_si256((const __m256i *)(buf + i + 32)));
        c = _mm256_xor_si256(c, _mm256_load_si256((const __m256i *)(buf + i + 64)));
        d = _mm256_xor_si256(d, _mm256_load_si256((const __m256i *)(buf + i + 96)));
    }
    a = _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d));
    return (double)(uint64_t)_mm256_extract_epi64(a, 0);
}

static double read_words(const uint8_t *buf, size_t bytes) {
    const uint64_t *p = (const uint64_t *)buf;
    uint64_t a = 0, b = 0;
    for (size_t i = 0; i + 1 < bytes / 8; i += 2) {
        a ^= p[i];
        b ^= p[i + 1];
    }
    return (double)(a ^ b);
}

/* Chunks are timed one by one and the median chunk rate is kept: on a shared machine a whole 256 MiB
 * pass is almost always preempted somewhere, while most 256 KiB chunks run undisturbed, exactly like
 * the median of the kernel timings it is compared with. */
#define CHUNK ((size_t)256 << 10)

typedef struct {
    const uint8_t *buf;
    size_t slice;       /* bytes per thread, a multiple of 128 */
    int chunks;         /* per thread per pass */
    int pass;
    double *rates;      /* [thread][pass * chunks + i] bytes per second */
    int stride;         /* rates per thread */
} probe_job;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void probe_slice(const probe_job *job, int tid) {
    const uint8_t *base = job->buf + job->slice * (size_t)tid;
    int avx2 = tq_cpu_has_avx2();
    for (int i = 0; i < job->chunks; i++) {
        size_t off = (size_t)i * CHUNK, len = job->slice - off < CHUNK ? job->slice - off : CHUNK;
        double t0 = now_s();
        double r = avx2 ? tq_read_bandwidth_avx2(base + off, len) : read_words(base + off, len);
        double dt = now_s() - t0;
        atomic_fetch_add_explicit(&sink, (uint64_t)(r != 0.0), memory_order_relaxed);
        if (job->rates) job->rates[(size_t)tid * (size_t)job->stride + (size_t)(job->pass * job->chunks + i)] = (double)len / dt;
    }
}

static void probe_task(void *arg, int begin, int end) {
    for (int tid = begin; tid < end; tid++) probe_slice(arg, tid);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double tq_read_bandwidth(size_t bytes, int n_threads, int reps) {
    if (n_threads < 1) n_threads = 1;
    if (n_threads > TQ_MAX_THREADS) n_threads = TQ_MAX_THREADS;
    if (reps < 1) reps = 1;
    size_t slice = ((bytes / (size_t)n_threads) + 127) & ~(size_t)127;
    if (slice < 128) slice = 128;
    int chunks = (int)((slice + CHUNK - 1) / CHUNK);
    /* 2 MiB aligned and advised to use huge pages, as numpy does for the big arrays holding the weights:
     * the roofline and the kernels then pay the same TLB costs. */
    size_t span = (slice * (size_t)n_threads + ((size_t)2 << 20) - 1) & ~(((size_t)2 << 20) - 1);
    uint8_t *buf = aligned_alloc((size_t)2 << 20, span);
    if (buf) madvise(buf, span, MADV_HUGEPAGE);
    double *rates = malloc(sizeof(double) * (size_t)n_threads * (size_t)reps * (size_t)chunks);
    if (!buf || !rates) {
        free(buf);
        free(rates);
        return -1.0;
    }
    memset(buf, 1, slice * (size_t)n_threads);
    probe_job job = {buf, slice, chunks, 0, NULL, reps * chunks};
    tq_pool_run_static(probe_task, &job, n_threads, n_threads); /* warm: page tables, and the caches for small buffers */
    job.rates = rates;
    for (job.pass = 0; job.pass < reps; job.pass++) tq_pool_run_static(probe_task, &job, n_threads, n_threads);
    double total = 0.0; /* threads read concurrently: their median rates add up */
    for (int t = 0; t < n_threads; t++) {
        double *r = rates + (size_t)t * (size_t)job.stride;
        qsort(r, (size_t)job.stride, sizeof(double), cmp_double);
        total += r[job.stride / 2];
    }
    free(buf);
    free(rates);
    return total;
}
