/* Throughput of zmm vpdpbusd, vpermi2b, and mixes (per-iteration independent chains). */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
#define IT 20000000L
int main(void) {
    /* calibrate clock: dependent add chain of 1-cycle latency */
    double t0 = now(); long x = 0;
    for (long i = 0; i < 4 * IT; i++) __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(x));
    double ghz = 16.0 * IT / (now() - t0) / 1e9;
    printf("est clock %.2f GHz (dependent add chain)\n", ghz);
    __m512i a0 = _mm512_set1_epi32(1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0;
    __m512i t0v = _mm512_set1_epi8(1), t1v = _mm512_set1_epi8(2), x0 = _mm512_set1_epi8(3);
    /* dpbusd only: 10 chains */
    double s = now();
    for (long i = 0; i < IT; i++)
        __asm__ volatile(
            "vpdpbusd %[x], %[x], %[a0]\n\tvpdpbusd %[x], %[x], %[a1]\n\tvpdpbusd %[x], %[x], %[a2]\n\tvpdpbusd %[x], %[x], %[a3]\n\tvpdpbusd %[x], %[x], %[a4]\n\t"
            "vpdpbusd %[x], %[x], %[a5]\n\tvpdpbusd %[x], %[x], %[a6]\n\tvpdpbusd %[x], %[x], %[a7]\n\tvpdpbusd %[x], %[x], %[a8]\n\tvpdpbusd %[x], %[x], %[a9]\n\t"
            : [a0] "+v"(a0), [a1] "+v"(a1), [a2] "+v"(a2), [a3] "+v"(a3), [a4] "+v"(a4), [a5] "+v"(a5), [a6] "+v"(a6), [a7] "+v"(a7), [a8] "+v"(a8), [a9] "+v"(a9) : [x] "v"(x0));
    printf("vpdpbusd zmm: %.2f cycles each\n", (now() - s) * ghz * 1e9 / (IT * 10.0));
    s = now();
    for (long i = 0; i < IT; i++)
        __asm__ volatile(
            "vmovdqa64 %[x], %[a0]\n\tvpermi2b %[t1], %[t0], %[a0]\n\tvmovdqa64 %[x], %[a1]\n\tvpermi2b %[t1], %[t0], %[a1]\n\t"
            "vmovdqa64 %[x], %[a2]\n\tvpermi2b %[t1], %[t0], %[a2]\n\tvmovdqa64 %[x], %[a3]\n\tvpermi2b %[t1], %[t0], %[a3]\n\t"
            "vmovdqa64 %[x], %[a4]\n\tvpermi2b %[t1], %[t0], %[a4]\n\tvmovdqa64 %[x], %[a5]\n\tvpermi2b %[t1], %[t0], %[a5]\n\t"
            : [a0] "=&v"(a0), [a1] "=&v"(a1), [a2] "=&v"(a2), [a3] "=&v"(a3), [a4] "=&v"(a4), [a5] "=&v"(a5) : [x] "v"(x0), [t0] "v"(t0v), [t1] "v"(t1v));
    printf("vpermi2b zmm: %.2f cycles each\n", (now() - s) * ghz * 1e9 / (IT * 6.0));
    s = now();
    for (long i = 0; i < IT; i++)
        __asm__ volatile(
            "vpermb %[x], %[t0], %[a0]\n\tvpermb %[x], %[t1], %[a1]\n\tvpermb %[x], %[t0], %[a2]\n\tvpermb %[x], %[t1], %[a3]\n\tvpermb %[x], %[t0], %[a4]\n\tvpermb %[x], %[t1], %[a5]\n\t"
            : [a0] "=&v"(a0), [a1] "=&v"(a1), [a2] "=&v"(a2), [a3] "=&v"(a3), [a4] "=&v"(a4), [a5] "=&v"(a5) : [x] "v"(x0), [t0] "v"(t0v), [t1] "v"(t1v));
    printf("vpermb zmm: %.2f cycles each\n", (now() - s) * ghz * 1e9 / (IT * 6.0));
    s = now();
    for (long i = 0; i < IT; i++)
        __asm__ volatile(
            "vpshufb %[x], %[t0], %[a0]\n\tvpshufb %[x], %[t1], %[a1]\n\tvpshufb %[x], %[t0], %[a2]\n\tvpshufb %[x], %[t1], %[a3]\n\tvpshufb %[x], %[t0], %[a4]\n\tvpshufb %[x], %[t1], %[a5]\n\t"
            : [a0] "=&v"(a0), [a1] "=&v"(a1), [a2] "=&v"(a2), [a3] "=&v"(a3), [a4] "=&v"(a4), [a5] "=&v"(a5) : [x] "v"(x0), [t0] "v"(t0v), [t1] "v"(t1v));
    printf("vpshufb zmm: %.2f cycles each\n", (now() - s) * ghz * 1e9 / (IT * 6.0));
    __m512i b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0;
    s = now();
    for (long i = 0; i < IT; i++)
        __asm__ volatile(
            "vmovdqa64 %[x], %[a0]\n\tvpermi2b %[t1], %[t0], %[a0]\n\tvmovdqa64 %[x], %[a1]\n\tvpermi2b %[t1], %[t0], %[a1]\n\t"
            "vmovdqa64 %[x], %[a2]\n\tvpermi2b %[t1], %[t0], %[a2]\n\tvmovdqa64 %[x], %[a3]\n\tvpermi2b %[t1], %[t0], %[a3]\n\t"
            "vmovdqa64 %[x], %[a4]\n\tvpermi2b %[t1], %[t0], %[a4]\n\tvmovdqa64 %[x], %[a5]\n\tvpermi2b %[t1], %[t0], %[a5]\n\t"
            "vpdpbusd %[x], %[x], %[b0]\n\tvpdpbusd %[x], %[x], %[b1]\n\tvpdpbusd %[x], %[x], %[b2]\n\tvpdpbusd %[x], %[x], %[b3]\n\tvpdpbusd %[x], %[x], %[b4]\n\t"
            : [a0] "=&v"(a0), [a1] "=&v"(a1), [a2] "=&v"(a2), [a3] "=&v"(a3), [a4] "=&v"(a4), [a5] "=&v"(a5), [b0] "+v"(b0), [b1] "+v"(b1), [b2] "+v"(b2), [b3] "+v"(b3), [b4] "+v"(b4)
            : [x] "v"(x0), [t0] "v"(t0v), [t1] "v"(t1v));
    printf("6 vpermi2b + 5 vpdpbusd: %.2f cycles per group\n", (now() - s) * ghz * 1e9 / (IT * 1.0));
    s = now();
    for (long i = 0; i < IT; i++)
        __asm__ volatile(
            "vpandd %[x], %[t0], %[a0]\n\tvpandd %[x], %[t1], %[a1]\n\tvpandd %[x], %[t0], %[a2]\n\tvpandd %[x], %[t1], %[a3]\n\t"
            "vpdpbusd %[x], %[x], %[b0]\n\tvpdpbusd %[x], %[x], %[b1]\n\tvpdpbusd %[x], %[x], %[b2]\n\tvpdpbusd %[x], %[x], %[b3]\n\t"
            : [a0] "=&v"(a0), [a1] "=&v"(a1), [a2] "=&v"(a2), [a3] "=&v"(a3), [b0] "+v"(b0), [b1] "+v"(b1), [b2] "+v"(b2), [b3] "+v"(b3)
            : [x] "v"(x0), [t0] "v"(t0v), [t1] "v"(t1v));
    printf("4 vpandd + 4 vpdpbusd (2-bit line): %.2f cycles per group\n", (now() - s) * ghz * 1e9 / (IT * 1.0));
    volatile int sink = _mm512_reduce_add_epi32(_mm512_add_epi32(b0, a5)); (void)sink;
    return 0;
}
