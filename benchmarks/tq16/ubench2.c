#include <immintrin.h>
#include <stdio.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
#define IT 20000000L
#define GHZ 3.66
int main(void) {
    __m512i b0 = _mm512_set1_epi32(1), b1 = b0, b2 = b0, b3 = b0, b4 = b0, A, B, r, d0, d1, d2, d3, d4;
    __m512i t0 = _mm512_set1_epi8(1), t1 = _mm512_set1_epi8(2), x = _mm512_set1_epi8(3), v = _mm512_set1_epi8(5), m = _mm512_set1_epi8(3);
    __mmask64 k = 0x5555;
    double s = now();
    for (long i = 0; i < IT; i++)
        __asm__ volatile(
            "vmovdqa64 %[v], %[A]\n\tvpermi2b %[t1], %[t0], %[A]\n\t"
            "vmovdqa64 %[v], %[r]\n\tvpermi2b %[t1], %[t0], %[r]\n\t"
            "vpermi2b %[t1], %[t0], %[r]\n\t"
            "vpandd %[A], %[m], %[d0]\n\tvpandd %[A], %[m], %[d1]\n\tvpandd %[r], %[m], %[d2]\n\tvpandd %[r], %[m], %[d3]\n\tvpandd %[r], %[m], %[d4]\n\t"
            "vpdpbusd %[x], %[d0], %[b0]\n\tvpdpbusd %[x], %[d1], %[b1]\n\tvpdpbusd %[x], %[d2], %[b2]\n\tvpdpbusd %[x], %[d3], %[b3]\n\tvpdpbusd %[x], %[d4], %[b4]\n\t"
            : [b0] "+v"(b0), [b1] "+v"(b1), [b2] "+v"(b2), [b3] "+v"(b3), [b4] "+v"(b4), [A] "=&v"(A), [r] "=&v"(r), [d0] "=&v"(d0), [d1] "=&v"(d1), [d2] "=&v"(d2), [d3] "=&v"(d3), [d4] "=&v"(d4)
            : [x] "v"(x), [t0] "v"(t0), [t1] "v"(t1), [v] "v"(v), [m] "v"(m));
    printf("3 perm + 5 and + 5 dpbusd: %.2f cycles\n", (now() - s) * GHZ * 1e9 / IT);
    s = now();
    for (long i = 0; i < IT; i++)
        __asm__ volatile(
            "vpmovb2m %[v], %[k]\n\t"
            "vmovdqa64 %[v], %[A]\n\tvpermi2b %[t1], %[t0], %[A]\n\t"
            "vmovdqa64 %[v], %[r]\n\tvpermi2b %[t1], %[t0], %[r]%{%[k]%}\n\t"
            "vpermi2b %[t1], %[t0], %[r]\n\t"
            "vpandd %[A], %[m], %[d0]\n\tvpandd %[A], %[m], %[d1]\n\tvpandd %[r], %[m], %[d2]\n\tvpandd %[r], %[m], %[d3]\n\tvpandd %[r], %[m], %[d4]\n\t"
            "vpdpbusd %[x], %[d0], %[b0]\n\tvpdpbusd %[x], %[d1], %[b1]\n\tvpdpbusd %[x], %[d2], %[b2]\n\tvpdpbusd %[x], %[d3], %[b3]\n\tvpdpbusd %[x], %[d4], %[b4]\n\t"
            : [b0] "+v"(b0), [b1] "+v"(b1), [b2] "+v"(b2), [b3] "+v"(b3), [b4] "+v"(b4), [A] "=&v"(A), [r] "=&v"(r), [d0] "=&v"(d0), [d1] "=&v"(d1), [d2] "=&v"(d2), [d3] "=&v"(d3), [d4] "=&v"(d4), [k] "=&Yk"(k)
            : [x] "v"(x), [t0] "v"(t0), [t1] "v"(t1), [v] "v"(v), [m] "v"(m));
    printf("+ vpmovb2m + masked remap: %.2f cycles\n", (now() - s) * GHZ * 1e9 / IT);
    s = now();
    for (long i = 0; i < IT; i++)
        __asm__ volatile(
            "vpandd %[v], %[m], %[d0]\n\tvpandd %[v], %[m], %[d1]\n\tvpandd %[v], %[m], %[d2]\n\tvpandd %[v], %[m], %[d3]\n\tvpandd %[v], %[m], %[d4]\n\t"
            "vpdpbusd %[x], %[d0], %[b0]\n\tvpdpbusd %[x], %[d1], %[b1]\n\tvpdpbusd %[x], %[d2], %[b2]\n\tvpdpbusd %[x], %[d3], %[b3]\n\tvpdpbusd %[x], %[d4], %[b4]\n\t"
            : [b0] "+v"(b0), [b1] "+v"(b1), [b2] "+v"(b2), [b3] "+v"(b3), [b4] "+v"(b4), [d0] "=&v"(d0), [d1] "=&v"(d1), [d2] "=&v"(d2), [d3] "=&v"(d3), [d4] "=&v"(d4)
            : [x] "v"(x), [v] "v"(v), [m] "v"(m));
    printf("5 and + 5 dpbusd: %.2f cycles\n", (now() - s) * GHZ * 1e9 / IT);
    s = now();
    for (long i = 0; i < IT; i++)
        __asm__ volatile(
            "vpermi2b %[t1], %[t0], %[d0]\n\tvpermi2b %[t1], %[t0], %[d1]\n\tvpermi2b %[t1], %[t0], %[d2]\n\t"
            "vpandd %[v], %[m], %[d3]\n\tvpandd %[v], %[m], %[d4]\n\tvpandd %[v], %[m], %[A]\n\tvpandd %[v], %[m], %[B]\n\tvpandd %[v], %[m], %[r]\n\t"
            : [d0] "+v"(d0), [d1] "+v"(d1), [d2] "+v"(d2), [d3] "=&v"(d3), [d4] "=&v"(d4), [A] "=&v"(A), [B] "=&v"(B), [r] "=&v"(r)
            : [t0] "v"(t0), [t1] "v"(t1), [v] "v"(v), [m] "v"(m));
    printf("3 perm(dep chains) + 5 and: %.2f cycles\n", (now() - s) * GHZ * 1e9 / IT);
    volatile int sink = _mm512_reduce_add_epi32(_mm512_add_epi32(_mm512_add_epi32(b0, b4), _mm512_add_epi32(d0, B))); (void)sink;
    return 0;
}
