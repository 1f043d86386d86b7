/* Prototype: 2-bit interleaved ternary layout vs 5-trits-per-byte (1.6-bit) layout, AVX-512 VNNI GEMV.
 * Build: gcc -O3 -march=native -pthread tq16.c -o tq16 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdatomic.h>

#define AI static inline __attribute__((always_inline))
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static uint64_t rng = 88172645463325252ull;
static uint64_t xr(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

/* ---------------- scalar reference ---------------- */
static void ref_mm(const int8_t *W, int M, int K, const int8_t *q, int N, int32_t *out) {
    for (int n = 0; n < N; n++)
        for (int m = 0; m < M; m++) {
            int32_t s = 0;
            for (int k = 0; k < K; k++) s += W[(size_t)m * K + k] * q[(size_t)n * K + k];
            out[(size_t)n * M + m] = s;
        }
}

/* ---------------- 2-bit layout (64-row blocks, as /work/main/native/layout.c) ---------------- */
static int blocks2(int M) { return (M + 63) / 64; }
static size_t bytes2(int M, int K) { return (size_t)blocks2(M) * (K / 4) * 64; }
static void pack2(const int8_t *W, int M, int K, uint8_t *codes) {
    int ks = K / 4;
    for (int b = 0; b < blocks2(M); b++)
        for (int s = 0; s < ks; s++) {
            uint8_t *line = codes + ((size_t)b * ks + s) * 64;
            for (int p = 0; p < 64; p++) {
                int L = p / 4, i = p % 4; unsigned byte = 0;
                for (int j = 0; j < 4; j++) {
                    int m = b * 64 + 16 * j + L;
                    int t = m < M ? W[(size_t)m * K + 4 * s + i] : 0;
                    byte |= (unsigned)(t + 1) << (2 * j);
                }
                line[p] = byte;
            }
        }
}

AI __m512i bcast4(const int8_t *p) { int32_t v; memcpy(&v, p, 4); return _mm512_set1_epi32(v); }

AI void store_rows(int32_t *o, int M, int row0, __m512i acc) {
    int rem = M - row0;
    if (rem <= 0) return;
    __mmask16 keep = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1);
    _mm512_mask_storeu_epi32(o + row0, keep, acc);
}

/* sumq[n] = sum_k q[n][k] (the t+1 offset correction). out[n][m] int32. */
AI void tile2(const uint8_t *codes, int M, int K, const int8_t *q, const int32_t *sumq, int32_t *out, int b, int n0, const int NB) {
    const int ks = K / 4;
    const uint8_t *lines = codes + (size_t)b * ks * 64;
    const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0C), m2 = _mm512_set1_epi8(0x30), m3 = _mm512_set1_epi8((char)0xC0);
    __m512i a[2][4];
    for (int n = 0; n < NB; n++) for (int j = 0; j < 4; j++) a[n][j] = _mm512_setzero_si512();
    for (int s = 0; s < ks; s++) {
        const uint8_t *p = lines + (size_t)s * 64;
        _mm_prefetch((const char *)p + 256, _MM_HINT_T0);
        __m512i v = _mm512_load_si512(p);
        /* keep the line in a register: with -march=native GCC 12 otherwise folds the load into all four
         * vpandd (4 memory-operand ANDs per line, ~45% slower hot); the production build (avx512.o) loads once. */
        __asm__("" : "+v"(v));
        __m512i d0 = _mm512_and_si512(v, m0), d1 = _mm512_and_si512(v, m1), d2 = _mm512_and_si512(v, m2), d3 = _mm512_and_si512(v, m3);
        for (int n = 0; n < NB; n++) {
            __m512i x = bcast4(q + (size_t)(n0 + n) * K + 4 * s);
            a[n][0] = _mm512_dpbusd_epi32(a[n][0], d0, x);
            a[n][1] = _mm512_dpbusd_epi32(a[n][1], d1, x);
            a[n][2] = _mm512_dpbusd_epi32(a[n][2], d2, x);
            a[n][3] = _mm512_dpbusd_epi32(a[n][3], d3, x);
        }
    }
    for (int n = 0; n < NB; n++) {
        __m512i corr = _mm512_set1_epi32(sumq[n0 + n]);
        int32_t *o = out + (size_t)(n0 + n) * M;
        for (int j = 0; j < 4; j++)
            store_rows(o, M, b * 64 + 16 * j, _mm512_sub_epi32(_mm512_srai_epi32(a[n][j], 2 * j), corr));
    }
}
static void kern2(const uint8_t *codes, int M, int K, const int8_t *q, int N, const int32_t *sumq, int32_t *out, int b0, int b1) {
    for (int b = b0; b < b1; b++) {
        int n0 = 0;
        for (; n0 + 2 <= N; n0 += 2) tile2(codes, M, K, q, sumq, out, b, n0, 2);
        if (n0 < N) tile2(codes, M, K, q, sumq, out, b, n0, 1);
    }
}

/* Same 2-bit kernel with the first field fed raw (one AND saved per line, the same trick as chain3). */
AI void tile2r(const uint8_t *codes, int M, int K, const int8_t *q, const int32_t *sumq, int32_t *out, int b, int n0, const int NB) {
    const int ks = K / 4;
    const uint8_t *lines = codes + (size_t)b * ks * 64;
    const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0C), m2 = _mm512_set1_epi8(0x30), m3 = _mm512_set1_epi8((char)0xC0);
    __m512i a[2][4];
    for (int n = 0; n < NB; n++) for (int j = 0; j < 4; j++) a[n][j] = _mm512_setzero_si512();
    for (int s = 0; s < ks; s++) {
        const uint8_t *p = lines + (size_t)s * 64;
        _mm_prefetch((const char *)p + 256, _MM_HINT_T0);
        __m512i v = _mm512_load_si512(p);
        __m512i d0 = v, d1 = _mm512_and_si512(v, m1), d2 = _mm512_and_si512(v, m2), d3 = _mm512_and_si512(v, m3);
        for (int n = 0; n < NB; n++) {
            __m512i x = bcast4(q + (size_t)(n0 + n) * K + 4 * s);
            a[n][0] = _mm512_dpbusd_epi32(a[n][0], d0, x);
            a[n][1] = _mm512_dpbusd_epi32(a[n][1], d1, x);
            a[n][2] = _mm512_dpbusd_epi32(a[n][2], d2, x);
            a[n][3] = _mm512_dpbusd_epi32(a[n][3], d3, x);
        }
    }
    (void)m0;
    for (int n = 0; n < NB; n++) /* raw line = field0 + 4 field1 + 16 field2 + 64 field3 */
        a[n][0] = _mm512_sub_epi32(_mm512_sub_epi32(a[n][0], a[n][1]), _mm512_add_epi32(a[n][2], a[n][3]));
    for (int n = 0; n < NB; n++) {
        __m512i corr = _mm512_set1_epi32(sumq[n0 + n]);
        int32_t *o = out + (size_t)(n0 + n) * M;
        for (int j = 0; j < 4; j++)
            store_rows(o, M, b * 64 + 16 * j, _mm512_sub_epi32(_mm512_srai_epi32(a[n][j], 2 * j), corr));
    }
}
static void kern2r(const uint8_t *codes, int M, int K, const int8_t *q, int N, const int32_t *sumq, int32_t *out, int b0, int b1) {
    for (int b = b0; b < b1; b++) {
        int n0 = 0;
        for (; n0 + 2 <= N; n0 += 2) tile2r(codes, M, K, q, sumq, out, b, n0, 2);
        if (n0 < N) tile2r(codes, M, K, q, sumq, out, b, n0, 1);
    }
}

/* ---------------- 1.6-bit layout (80-row blocks, 5 trits per byte) ----------------
 * For block b and k-step s one 64-byte line; byte p = 4L+i holds code(t_0..t_4) where
 * t_j = trit of row 80b + 16j + L, column 4s+i.
 * Encodings (variant):
 *   ENC_B3:  byte = sum_j (t_j+1) 3^j                         (all 5 fields need a 256-entry lookup)
 *   ENC_HYB: c = 3(t0+1)+(t1+1) in 0..8, r = 9(t2+1)+3(t3+1)+(t4+1) in 0..26,
 *            byte = 128*(r/14) + 14c + r%14 -> fields 0,1 depend only on the low 7 bits (one vpermt2b),
 *            fields 2..4 need a 256-entry lookup. */
enum { ENC_B3 = 0, ENC_HYB = 1, ENC_CHAIN = 2 };
/* ENC_CHAIN: c = 3u0+u1 (0..8) owns low-7 values l in [14c, 14c+13]; r = 9u2+3u3+u4 (0..26);
 * i = (r - 14c) mod 27; i < 14 -> byte = 14c + i (top bit 0), else byte = 128 + 14c + i - 14.
 * Fields 0,1 depend on the low 7 bits only (one vpermt2b each). For fields 2..4 every r occurs in the
 * top-bit-0 half, so one masked vpermi2b remaps top-bit-1 bytes to a top-bit-0 byte with the same
 * (u2,u3,u4) (idx kept where the top bit is 0), and each field is then one vpermt2b of the remapped index:
 * decode = 1 movepi8_mask + 1 remap + 5 vpermt2b per 64 bytes, no blends. */
static int blocks5(int M) { return (M + 79) / 80; }
static size_t bytes5(int M, int K) { return (size_t)blocks5(M) * (K / 4) * 64; }
static unsigned enc5(int enc, const int u[5]) { /* u = t+1 */
    if (enc == ENC_B3) return u[0] + 3 * u[1] + 9 * u[2] + 27 * u[3] + 81 * u[4];
    if (enc == ENC_CHAIN) {
        int c = 3 * u[0] + u[1], r = 9 * u[2] + 3 * u[3] + u[4], i = ((r - 14 * c) % 27 + 27) % 27;
        return i < 14 ? 14 * c + i : 128 + 14 * c + i - 14;
    }
    int c = 3 * u[0] + u[1], r = 9 * u[2] + 3 * u[3] + u[4];
    return 128 * (r / 14) + 14 * c + r % 14;
}
static uint8_t dtab[3][5][256] __attribute__((aligned(64))); /* dtab[enc][field][byte] = t+1 */
static uint8_t ctab[6][128] __attribute__((aligned(64))); /* ENC_CHAIN: fields 0..4 by 7-bit index, [5] = remap */
static void build_tables(void) {
    for (int enc = 0; enc < 3; enc++) {
        memset(dtab[enc], 0, sizeof dtab[enc]);
        int seen[256] = {0};
        for (int c = 0; c < 243; c++) {
            int u[5], x = c;
            for (int j = 0; j < 5; j++) { u[j] = x % 3; x /= 3; }
            unsigned by = enc5(enc, u);
            if (by > 255 || seen[by]++) { fprintf(stderr, "bad encoding %d\n", enc); exit(1); }
            for (int j = 0; j < 5; j++) dtab[enc][j][by] = u[j];
        }
        if (enc == ENC_CHAIN) {
            for (int l = 0; l < 128; l++) {
                for (int j = 0; j < 2; j++) {
                    int la = seen[l], lb = seen[l + 128];
                    if (la && lb && dtab[enc][j][l] != dtab[enc][j][l + 128]) { fprintf(stderr, "chain field %d not low7\n", j); exit(1); }
                    ctab[j][l] = la ? dtab[enc][j][l] : dtab[enc][j][l + 128];
                }
                for (int j = 2; j < 5; j++) ctab[j][l] = dtab[enc][j][l];
                ctab[5][l] = 0;
                if (seen[l + 128]) {
                    int f = -1;
                    for (int l2 = 0; l2 < 128 && f < 0; l2++)
                        if (seen[l2] && dtab[enc][2][l2] == dtab[enc][2][l + 128] && dtab[enc][3][l2] == dtab[enc][3][l + 128] && dtab[enc][4][l2] == dtab[enc][4][l + 128]) f = l2;
                    if (f < 0) { fprintf(stderr, "chain remap fails at %d\n", l); exit(1); }
                    ctab[5][l] = f;
                }
            }
        }
        if (enc == ENC_HYB) /* fields 0,1 must be functions of the low 7 bits: duplicate into the top half */
            for (int j = 0; j < 2; j++)
                for (int l = 0; l < 128; l++) {
                    uint8_t a = dtab[enc][j][l], b = dtab[enc][j][l + 128];
                    int la = seen[l], lb = seen[l + 128];
                    if (la && lb && a != b) { fprintf(stderr, "hyb field %d not low7 at %d\n", j, l); exit(1); }
                    uint8_t v = la ? a : b; dtab[enc][j][l] = dtab[enc][j][l + 128] = v;
                }
    }
}
static void pack5(int enc, const int8_t *W, int M, int K, uint8_t *codes) {
    int ks = K / 4;
    for (int b = 0; b < blocks5(M); b++)
        for (int s = 0; s < ks; s++) {
            uint8_t *line = codes + ((size_t)b * ks + s) * 64;
            for (int p = 0; p < 64; p++) {
                int L = p / 4, i = p % 4, u[5];
                for (int j = 0; j < 5; j++) {
                    int m = b * 80 + 16 * j + L;
                    u[j] = (m < M ? W[(size_t)m * K + 4 * s + i] : 0) + 1;
                }
                line[p] = enc5(enc, u);
            }
        }
}

AI void tile5(const int ENC, const uint8_t *codes, int M, int K, const int8_t *q, const int32_t *sumq, int32_t *out, int b, int n0, const int NB) {
    const int ks = K / 4;
    const uint8_t *lines = codes + (size_t)b * ks * 64;
    __m512i T[6][4];
    if (ENC == ENC_CHAIN) { for (int j = 0; j < 6; j++) for (int h = 0; h < 2; h++) T[j][h] = _mm512_load_si512(ctab[j] + 64 * h); }
    else for (int j = 0; j < 5; j++) for (int h = 0; h < 4; h++) T[j][h] = _mm512_load_si512(dtab[ENC][j] + 64 * h);
    __m512i a[2][5];
    for (int n = 0; n < NB; n++) for (int j = 0; j < 5; j++) a[n][j] = _mm512_setzero_si512();
    for (int s = 0; s < ks; s++) {
        const uint8_t *p = lines + (size_t)s * 64;
        _mm_prefetch((const char *)p + 256, _MM_HINT_T0);
        __m512i v = _mm512_load_si512(p);
        __mmask64 top = _mm512_movepi8_mask(v);
        __m512i d[5];
        if (ENC == ENC_CHAIN) {
            __m512i r = _mm512_mask2_permutex2var_epi8(T[5][0], v, top, T[5][1]);
            d[0] = _mm512_permutex2var_epi8(T[0][0], v, T[0][1]);
            d[1] = _mm512_permutex2var_epi8(T[1][0], v, T[1][1]);
            for (int j = 2; j < 5; j++) d[j] = _mm512_permutex2var_epi8(T[j][0], r, T[j][1]);
        } else
        for (int j = 0; j < 5; j++) {
            __m512i lo = _mm512_permutex2var_epi8(T[j][0], v, T[j][1]);
            if (ENC == ENC_HYB && j < 2) d[j] = lo;
            else d[j] = _mm512_mask_blend_epi8(top, lo, _mm512_permutex2var_epi8(T[j][2], v, T[j][3]));
        }
        for (int n = 0; n < NB; n++) {
            __m512i x = bcast4(q + (size_t)(n0 + n) * K + 4 * s);
            for (int j = 0; j < 5; j++) a[n][j] = _mm512_dpbusd_epi32(a[n][j], d[j], x);
        }
    }
    for (int n = 0; n < NB; n++) {
        __m512i corr = _mm512_set1_epi32(sumq[n0 + n]);
        int32_t *o = out + (size_t)(n0 + n) * M;
        for (int j = 0; j < 5; j++) store_rows(o, M, b * 80 + 16 * j, _mm512_sub_epi32(a[n][j], corr));
    }
}
/* ENC_CHAIN, N = 1, inner step in inline asm (GCC 12 otherwise adds ~10 zmm register copies per line). */
static void tile5_chain_asm(const uint8_t *codes, int M, int K, const int8_t *q, const int32_t *sumq, int32_t *out, int b) {
    const int ks = K / 4;
    const uint8_t *lines = codes + (size_t)b * ks * 64;
    __m512i t00 = _mm512_load_si512(ctab[0]), t01 = _mm512_load_si512(ctab[0] + 64);
    __m512i t10 = _mm512_load_si512(ctab[1]), t11 = _mm512_load_si512(ctab[1] + 64);
    __m512i t20 = _mm512_load_si512(ctab[2]), t21 = _mm512_load_si512(ctab[2] + 64);
    __m512i t30 = _mm512_load_si512(ctab[3]), t31 = _mm512_load_si512(ctab[3] + 64);
    __m512i t40 = _mm512_load_si512(ctab[4]), t41 = _mm512_load_si512(ctab[4] + 64);
    __m512i th0 = _mm512_load_si512(ctab[5]), th1 = _mm512_load_si512(ctab[5] + 64);
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0;
    const uint8_t *p = lines, *pend = lines + (size_t)ks * 64;
    const int8_t *qq = q;
    __m512i v, r, d0, d2, d3, x;
    __mmask64 k;
    for (; p < pend; p += 64, qq += 4) {
        __asm__(
            "prefetcht0 256(%[p])\n\t"
            "vmovdqa64 (%[p]), %[v]\n\t"
            "vpbroadcastd (%[q]), %[x]\n\t"
            "vpmovb2m %[v], %[k]\n\t"
            "vmovdqa64 %[v], %[r]\n\t"
            "vpermi2b %[th1], %[th0], %[r]%{%[k]%}\n\t"
            "vmovdqa64 %[v], %[d0]\n\t"
            "vpermi2b %[t01], %[t00], %[d0]\n\t"
            "vpermi2b %[t11], %[t10], %[v]\n\t"
            "vpdpbusd %[x], %[d0], %[a0]\n\t"
            "vpdpbusd %[x], %[v], %[a1]\n\t"
            : [a0] "+v"(a0), [a1] "+v"(a1), [v] "=&v"(v), [r] "=&v"(r), [d0] "=&v"(d0), [x] "=&v"(x), [k] "=&Yk"(k)
            : [p] "r"(p), [q] "r"(qq), [t00] "v"(t00), [t01] "v"(t01), [t10] "v"(t10), [t11] "v"(t11), [th0] "v"(th0), [th1] "v"(th1)
            : "memory");
        __asm__(
            "vmovdqa64 %[r], %[d2]\n\t"
            "vpermi2b %[t21], %[t20], %[d2]\n\t"
            "vmovdqa64 %[r], %[d3]\n\t"
            "vpermi2b %[t31], %[t30], %[d3]\n\t"
            "vpermi2b %[t41], %[t40], %[r]\n\t"
            "vpdpbusd %[x], %[d2], %[a2]\n\t"
            "vpdpbusd %[x], %[d3], %[a3]\n\t"
            "vpdpbusd %[x], %[r], %[a4]\n\t"
            : [a2] "+v"(a2), [a3] "+v"(a3), [a4] "+v"(a4), [r] "+v"(r), [d2] "=&v"(d2), [d3] "=&v"(d3)
            : [x] "v"(x), [t20] "v"(t20), [t21] "v"(t21), [t30] "v"(t30), [t31] "v"(t31), [t40] "v"(t40), [t41] "v"(t41));
    }
    __m512i corr = _mm512_set1_epi32(sumq[0]);
    __m512i acc[5] = {a0, a1, a2, a3, a4};
    for (int j = 0; j < 5; j++) store_rows(out, M, b * 80 + 16 * j, _mm512_sub_epi32(acc[j], corr));
}
static void kern5_chain_asm(const uint8_t *codes, int M, int K, const int8_t *q, int N, const int32_t *sumq, int32_t *out, int b0, int b1) {
    for (int b = b0; b < b1; b++) {
        int n0 = 0;
        for (; n0 + 2 <= N; n0 += 2) tile5(ENC_CHAIN, codes, M, K, q, sumq, out, b, n0, 2);
        if (n0 < N) tile5_chain_asm(codes, M, K, q + (size_t)n0 * K, sumq + n0, out + (size_t)n0 * M, b);
    }
}
/* ENC_CHAIN data, "chain2" decode: 3 table lookups per 64 bytes instead of 6.
 *   A = T01[v & 127]  = u0 | u1 << 2            (fields 0,1 depend on the low 7 bits only)
 *   r = top bit ? REMAP[v & 127] : v             (masked vpermi2b, idx kept where the top bit is 0)
 *   B = T234[r & 127] = u2 | u3 << 2 | u4 << 4
 * then one AND per field (u_j << 2i), exactly like the 2-bit kernel, the 4^i scale shifted out at the end.
 * Per 64 bytes: 1 vpmovb2m + 3 vpermi2b + 5 vpandd + 5 vpdpbusd (N = 1). */
static uint8_t ctab2[2][128] __attribute__((aligned(64)));
static void build_chain2(void) {
    for (int l = 0; l < 128; l++) {
        ctab2[0][l] = ctab[0][l] | ctab[1][l] << 2;
        ctab2[1][l] = ctab[2][l] | ctab[3][l] << 2 | ctab[4][l] << 4;
    }
}
AI void tile5c2(const uint8_t *codes, int M, int K, const int8_t *q, const int32_t *sumq, int32_t *out, int b, int n0, const int NB) {
    const int ks = K / 4;
    const uint8_t *lines = codes + (size_t)b * ks * 64;
    const __m512i ta0 = _mm512_load_si512(ctab2[0]), ta1 = _mm512_load_si512(ctab2[0] + 64);
    const __m512i tb0 = _mm512_load_si512(ctab2[1]), tb1 = _mm512_load_si512(ctab2[1] + 64);
    const __m512i th0 = _mm512_load_si512(ctab[5]), th1 = _mm512_load_si512(ctab[5] + 64);
    const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0C), m2 = _mm512_set1_epi8(0x30);
    __m512i a[2][5];
    for (int n = 0; n < NB; n++) for (int j = 0; j < 5; j++) a[n][j] = _mm512_setzero_si512();
    for (int s = 0; s < ks; s++) {
        const uint8_t *p = lines + (size_t)s * 64;
        _mm_prefetch((const char *)p + 256, _MM_HINT_T0);
        __m512i v = _mm512_load_si512(p);
        __mmask64 top = _mm512_movepi8_mask(v);
        __m512i A = _mm512_permutex2var_epi8(ta0, v, ta1);
        __m512i r = _mm512_mask2_permutex2var_epi8(th0, v, top, th1);
        __m512i B = _mm512_permutex2var_epi8(tb0, r, tb1);
#ifdef CHAIN3
        /* raw A, B feed vpdpbusd directly; the higher fields are subtracted out at the end (2 ANDs saved) */
        __m512i d[5] = {A, _mm512_and_si512(A, m1), B, _mm512_and_si512(B, m1), _mm512_and_si512(B, m2)};
        (void)m0;
#else
        __m512i d[5] = {_mm512_and_si512(A, m0), _mm512_and_si512(A, m1), _mm512_and_si512(B, m0), _mm512_and_si512(B, m1), _mm512_and_si512(B, m2)};
#endif
        for (int n = 0; n < NB; n++) {
            __m512i x = bcast4(q + (size_t)(n0 + n) * K + 4 * s);
            for (int j = 0; j < 5; j++) a[n][j] = _mm512_dpbusd_epi32(a[n][j], d[j], x);
        }
    }
    static const int sh[5] = {0, 2, 0, 2, 4};
#ifdef CHAIN3
    for (int n = 0; n < NB; n++) {
        a[n][0] = _mm512_sub_epi32(a[n][0], a[n][1]);
        a[n][2] = _mm512_sub_epi32(_mm512_sub_epi32(a[n][2], a[n][3]), a[n][4]);
    }
#endif
    for (int n = 0; n < NB; n++) {
        __m512i corr = _mm512_set1_epi32(sumq[n0 + n]);
        int32_t *o = out + (size_t)(n0 + n) * M;
        for (int j = 0; j < 5; j++) store_rows(o, M, b * 80 + 16 * j, _mm512_sub_epi32(_mm512_srai_epi32(a[n][j], sh[j]), corr));
    }
}
static void kern5_chain2(const uint8_t *codes, int M, int K, const int8_t *q, int N, const int32_t *sumq, int32_t *out, int b0, int b1) {
    for (int b = b0; b < b1; b++) {
        int n0 = 0;
        for (; n0 + 2 <= N; n0 += 2) tile5c2(codes, M, K, q, sumq, out, b, n0, 2);
        if (n0 < N) tile5c2(codes, M, K, q, sumq, out, b, n0, 1);
    }
}
AI void tile5c3(const uint8_t *codes, int M, int K, const int8_t *q, const int32_t *sumq, int32_t *out, int b, int n0, const int NB) {
    const int ks = K / 4;
    const uint8_t *lines = codes + (size_t)b * ks * 64;
    const __m512i ta0 = _mm512_load_si512(ctab2[0]), ta1 = _mm512_load_si512(ctab2[0] + 64);
    const __m512i tb0 = _mm512_load_si512(ctab2[1]), tb1 = _mm512_load_si512(ctab2[1] + 64);
    const __m512i th0 = _mm512_load_si512(ctab[5]), th1 = _mm512_load_si512(ctab[5] + 64);
    const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0C), m2 = _mm512_set1_epi8(0x30);
    __m512i a[2][5];
    for (int n = 0; n < NB; n++) for (int j = 0; j < 5; j++) a[n][j] = _mm512_setzero_si512();
    for (int s = 0; s < ks; s++) {
        const uint8_t *p = lines + (size_t)s * 64;
        _mm_prefetch((const char *)p + 256, _MM_HINT_T0);
        __m512i v = _mm512_load_si512(p);
        __mmask64 top = _mm512_movepi8_mask(v);
        __m512i A = _mm512_permutex2var_epi8(ta0, v, ta1);
        __m512i r = _mm512_mask2_permutex2var_epi8(th0, v, top, th1);
        __m512i B = _mm512_permutex2var_epi8(tb0, r, tb1);
#if 1
        /* raw A, B feed vpdpbusd directly; the higher fields are subtracted out at the end (2 ANDs saved) */
        __m512i d[5] = {A, _mm512_and_si512(A, m1), B, _mm512_and_si512(B, m1), _mm512_and_si512(B, m2)};
        (void)m0;
#else /* unused */
        __m512i d[5] = {_mm512_and_si512(A, m0), _mm512_and_si512(A, m1), _mm512_and_si512(B, m0), _mm512_and_si512(B, m1), _mm512_and_si512(B, m2)};
#endif
        for (int n = 0; n < NB; n++) {
            __m512i x = bcast4(q + (size_t)(n0 + n) * K + 4 * s);
            for (int j = 0; j < 5; j++) a[n][j] = _mm512_dpbusd_epi32(a[n][j], d[j], x);
        }
    }
    static const int sh[5] = {0, 2, 0, 2, 4};
#if 1
    for (int n = 0; n < NB; n++) {
        a[n][0] = _mm512_sub_epi32(a[n][0], a[n][1]);
        a[n][2] = _mm512_sub_epi32(_mm512_sub_epi32(a[n][2], a[n][3]), a[n][4]);
    }
#endif
    for (int n = 0; n < NB; n++) {
        __m512i corr = _mm512_set1_epi32(sumq[n0 + n]);
        int32_t *o = out + (size_t)(n0 + n) * M;
        for (int j = 0; j < 5; j++) store_rows(o, M, b * 80 + 16 * j, _mm512_sub_epi32(_mm512_srai_epi32(a[n][j], sh[j]), corr));
    }
}
static void kern5_chain3(const uint8_t *codes, int M, int K, const int8_t *q, int N, const int32_t *sumq, int32_t *out, int b0, int b1) {
    for (int b = b0; b < b1; b++) {
        int n0 = 0;
        for (; n0 + 2 <= N; n0 += 2) tile5c3(codes, M, K, q, sumq, out, b, n0, 2);
        if (n0 < N) tile5c3(codes, M, K, q, sumq, out, b, n0, 1);
    }
}
#define KERN5(name, ENC) \
static void name(const uint8_t *codes, int M, int K, const int8_t *q, int N, const int32_t *sumq, int32_t *out, int b0, int b1) { \
    for (int b = b0; b < b1; b++) { int n0 = 0; \
        for (; n0 + 2 <= N; n0 += 2) tile5(ENC, codes, M, K, q, sumq, out, b, n0, 2); \
        if (n0 < N) tile5(ENC, codes, M, K, q, sumq, out, b, n0, 1); } }
KERN5(kern5_b3, ENC_B3)
KERN5(kern5_hyb, ENC_HYB)
KERN5(kern5_chain, ENC_CHAIN)

typedef void (*kern_fn)(const uint8_t *, int, int, const int8_t *, int, const int32_t *, int32_t *, int, int);

/* ---------------- correctness ---------------- */
static int check_shape(int M, int K, int N, int extreme) {
    int8_t *W = malloc((size_t)M * K), *q = malloc((size_t)N * K);
    for (size_t i = 0; i < (size_t)M * K; i++) W[i] = extreme ? (int8_t)(1 - 2 * (int)((i / K) & 1)) : (int8_t)(xr() % 3) - 1;
    for (size_t i = 0; i < (size_t)N * K; i++) q[i] = extreme ? (int8_t)(extreme > 0 ? 127 : -128) : (int8_t)(xr() & 0xFF);
    if (!extreme && (xr() & 1)) q[0] = -128; /* extremes */
    int32_t *ref = malloc(4ull * N * M), *o = malloc(4ull * N * M), sumq[16];
    for (int n = 0; n < N; n++) { sumq[n] = 0; for (int k = 0; k < K; k++) sumq[n] += q[(size_t)n * K + k]; }
    ref_mm(W, M, K, q, N, ref);
    uint8_t *c2 = aligned_alloc(64, bytes2(M, K) + 64), *c5 = aligned_alloc(64, bytes5(M, K) + 64);
    int bad = 0;
    pack2(W, M, K, c2);
    memset(o, 0x55, 4ull * N * M); kern2(c2, M, K, q, N, sumq, o, 0, blocks2(M));
    if (memcmp(o, ref, 4ull * N * M)) { printf("  2bit MISMATCH M=%d K=%d N=%d\n", M, K, N); bad++; }
    memset(o, 0x55, 4ull * N * M); kern2r(c2, M, K, q, N, sumq, o, 0, blocks2(M));
    if (memcmp(o, ref, 4ull * N * M)) { printf("  2bitraw MISMATCH M=%d K=%d N=%d\n", M, K, N); bad++; }
    kern_fn k5[6] = {kern5_b3, kern5_hyb, kern5_chain, kern5_chain_asm, kern5_chain2, kern5_chain3};
    for (int enc = 0; enc < 6; enc++) {
        pack5(enc < 3 ? enc : ENC_CHAIN, W, M, K, c5);
        memset(o, 0x55, 4ull * N * M);
        k5[enc](c5, M, K, q, N, sumq, o, 0, blocks5(M));
        if (memcmp(o, ref, 4ull * N * M)) { printf("  1.6bit enc%d MISMATCH M=%d K=%d N=%d\n", enc, M, K, N); bad++; }
    }
    free(W); free(q); free(ref); free(o); free(c2); free(c5);
    return bad;
}

/* ---------------- threading ---------------- */
typedef struct { atomic_int count, gen; int n; } barrier_t;
static void bar_wait(barrier_t *b) {
    int g = atomic_load(&b->gen);
    if (atomic_fetch_add(&b->count, 1) == b->n - 1) { atomic_store(&b->count, 0); atomic_fetch_add(&b->gen, 1); }
    else while (atomic_load(&b->gen) == g) _mm_pause();
}
enum { JOB_KERN, JOB_BW, JOB_QUIT };
typedef struct {
    int type; kern_fn fn; uint8_t **mats; int nmats, iters, M, K, N, nblocks; size_t bytes;
    const int8_t *q; const int32_t *sumq; int32_t *out; int nthreads;
} job_t;
static job_t job; static barrier_t bar; static volatile double bw_sink[2];
static void run_part(int tid) {
    int nt = job.nthreads;
    if (job.type == JOB_BW) {
        /* plain read of bytes [tid-th half] of each buffer */
        __m512i acc = _mm512_setzero_si512();
        for (int it = 0; it < job.iters; it++)
            for (int c = 0; c < job.nmats; c++) {
                size_t n64 = job.bytes / 64, lo = n64 * tid / nt, hi = n64 * (tid + 1) / nt;
                const __m512i *p = (const __m512i *)job.mats[c];
                __m512i a1 = _mm512_setzero_si512(), a2 = a1, a3 = a1;
                size_t i = lo;
                for (; i + 4 <= hi; i += 4) {
                    acc = _mm512_add_epi32(acc, _mm512_load_si512(p + i)); a1 = _mm512_add_epi32(a1, _mm512_load_si512(p + i + 1));
                    a2 = _mm512_add_epi32(a2, _mm512_load_si512(p + i + 2)); a3 = _mm512_add_epi32(a3, _mm512_load_si512(p + i + 3));
                }
                acc = _mm512_add_epi32(_mm512_add_epi32(acc, a1), _mm512_add_epi32(a2, a3));
            }
        bw_sink[tid] = _mm512_reduce_add_epi32(acc);
        return;
    }
    int b0 = job.nblocks * tid / nt, b1 = job.nblocks * (tid + 1) / nt;
    for (int it = 0; it < job.iters; it++)
        for (int c = 0; c < job.nmats; c++) {
            job.fn(job.mats[c], job.M, job.K, job.q, job.N, job.sumq, job.out, b0, b1);
            if (nt > 1) bar_wait(&bar); /* per-call sync, as a real decode step has */
        }
}
/* The worker sleeps on a condition variable between jobs (so it does not steal the core during
 * 1-thread runs); inside a 2-thread job the per-call barrier spins. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; static pthread_cond_t cv = PTHREAD_COND_INITIALIZER, cvdone = PTHREAD_COND_INITIALIZER;
static int job_seq, done_seq;
static void *worker(void *arg) {
    (void)arg; int seen = 0;
    for (;;) {
        pthread_mutex_lock(&mu);
        while (job_seq == seen) pthread_cond_wait(&cv, &mu);
        seen = job_seq; pthread_mutex_unlock(&mu);
        if (job.type == JOB_QUIT) return NULL;
        run_part(1);
        pthread_mutex_lock(&mu); done_seq = seen; pthread_cond_signal(&cvdone); pthread_mutex_unlock(&mu);
    }
}
static pthread_t wthr; static int have_worker;
static double run_job(int nthreads) { /* returns seconds */
    job.nthreads = nthreads;
    double t0 = now();
    if (nthreads == 2) {
        pthread_mutex_lock(&mu); int my = ++job_seq; pthread_cond_signal(&cv); pthread_mutex_unlock(&mu);
        run_part(0);
        pthread_mutex_lock(&mu); while (done_seq != my) pthread_cond_wait(&cvdone, &mu); pthread_mutex_unlock(&mu);
    }
    else run_part(0);
    return now() - t0;
}

static int cmpd(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
static double median(double *v, int n) { qsort(v, n, sizeof *v, cmpd); return v[n / 2]; }

#define NL 7
int main(int argc, char **argv) {
    build_tables(); build_chain2();
    int bad = 0;
    int shapes[][3] = {{64, 4, 1}, {80, 8, 1}, {1, 4, 1}, {100, 36, 3}, {257, 132, 8}, {81, 4, 2}, {6912 / 8, 2560, 1}, {333, 2564, 8}, {160, 64, 5}, {79, 1000, 7}};
    for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; i++) bad += check_shape(shapes[i][0], shapes[i][1], shapes[i][2], 0);
    bad += check_shape(161, 16384, 2, 1) + check_shape(161, 16384, 1, -1); /* rows of all +1 / all -1 trits, q = +127 / -128: accumulator range */
    printf("correctness: %s (%d shapes, 2bit + 2bitraw + 1.6bit b3/hyb/chain/chain-asm/chain2/chain3 vs scalar)\n", bad ? "FAIL" : "all exact", (int)(sizeof shapes / sizeof shapes[0]));
    if (bad) return 1;
    if (argc > 1 && !strcmp(argv[1], "check")) return 0;

    int reps = argc > 1 ? atoi(argv[1]) : 7;
    int ncold = argc > 2 ? atoi(argv[2]) : 240;
    /* matrices */
    const int Mc = 6912, Kc = 2560, Mh = 2560, Kh = 2560;
    int8_t *W = malloc((size_t)Mc * Kc);
    for (size_t i = 0; i < (size_t)Mc * Kc; i++) W[i] = (int8_t)(xr() % 3) - 1;
    int8_t *q = malloc(8 * Kc); int32_t sumq[8];
    for (int i = 0; i < 8 * Kc; i++) q[i] = (int8_t)(xr() & 0xFF);
    for (int n = 0; n < 8; n++) { sumq[n] = 0; for (int k = 0; k < Kc; k++) sumq[n] += q[n * Kc + k]; }
    int32_t *out = aligned_alloc(64, 4ull * 8 * Mc);
    /* layouts: 0 = 2bit, 1 = 1.6 b3, 2 = 1.6 hyb */
    const char *lname[NL] = {"2bit", "1.6b3", "1.6hyb", "1.6chain", "1.6chain2", "1.6chain3", "2bitraw"};
    kern_fn kf[NL] = {kern2, kern5_b3, kern5_hyb, kern5_chain, kern5_chain2, kern5_chain3, kern2r};
    size_t cb[NL] = {bytes2(Mc, Kc), bytes5(Mc, Kc), bytes5(Mc, Kc), bytes5(Mc, Kc), bytes5(Mc, Kc), bytes5(Mc, Kc), bytes2(Mc, Kc)}, hb[NL] = {bytes2(Mh, Kh), bytes5(Mh, Kh), bytes5(Mh, Kh), bytes5(Mh, Kh), bytes5(Mh, Kh), bytes5(Mh, Kh), bytes2(Mh, Kh)};
    int cnb[NL] = {blocks2(Mc), blocks5(Mc), blocks5(Mc), blocks5(Mc), blocks5(Mc), blocks5(Mc), blocks2(Mc)}, hnb[NL] = {blocks2(Mh), blocks5(Mh), blocks5(Mh), blocks5(Mh), blocks5(Mh), blocks5(Mh), blocks2(Mh)};
    uint8_t **cold[NL], *hot[NL];
    for (int l = 0; l < NL; l++) {
        uint8_t *proto = aligned_alloc(64, cb[l]);
        if (l == 0 || l == 6) pack2(W, Mc, Kc, proto); else pack5(l < 4 ? l - 1 : ENC_CHAIN, W, Mc, Kc, proto);
        cold[l] = malloc(sizeof(uint8_t *) * ncold);
        for (int c = 0; c < ncold; c++) { cold[l][c] = aligned_alloc(4096, cb[l]); memcpy(cold[l][c], proto, cb[l]); }
        hot[l] = aligned_alloc(64, hb[l]);
        if (l == 0 || l == 6) pack2(W, Mh, Kh, hot[l]); else pack5(l < 4 ? l - 1 : ENC_CHAIN, W, Mh, Kh, hot[l]);
        free(proto);
    }
    /* BW buffer: 1 GB */
    size_t bwbytes = 1ull << 30; uint8_t *bwbuf = aligned_alloc(4096, bwbytes); memset(bwbuf, 1, bwbytes);
    printf("cold set: 2bit %zu x %.2f MB = %.2f GB; 1.6bit %.2f MB x %d = %.2f GB\n", (size_t)ncold, cb[0] / 1e6, ncold * cb[0] / 1e9, cb[1] / 1e6, ncold, ncold * cb[1] / 1e9);

    atomic_store(&bar.count, 0); atomic_store(&bar.gen, 0); bar.n = 2;
    pthread_create(&wthr, NULL, worker, NULL); have_worker = 1;

    /* results[cfg][rep]; cfg index = ((mode*2 + T)*2 + Nsel)*4 + what  (what 0..2 layouts, 3 = bw) */
    enum { NCFG = 2 * 2 * 2 * (NL + 1) };
    static double res[NCFG][64];
    int Ns[2] = {1, 8};
    for (int r = 0; r < reps; r++) {
        for (int mode = 0; mode < 2; mode++)          /* 0 cold, 1 hot */
            for (int T = 0; T < 2; T++)
                for (int ns = 0; ns < 2; ns++) {
                    for (int w4 = 0; w4 < NL + 1; w4++) {
                        int what = (w4 + r) % (NL + 1);      /* rotate order per rep */
                        int cfg = ((mode * 2 + T) * 2 + ns) * (NL + 1) + what;
                        double sec;
                        if (what == NL) {
                            if (mode == 1) { res[cfg][r] = 0; continue; }
                            if (ns == 1) { res[cfg][r] = 0; continue; }
                            job.type = JOB_BW; job.mats = &bwbuf; job.nmats = 1; job.bytes = bwbytes; job.iters = 1;
                            sec = run_job(T + 1);
                            res[cfg][r] = bwbytes / sec / 1e9; /* GB/s */
                            continue;
                        }
                        job.type = JOB_KERN; job.fn = kf[what]; job.q = q; job.sumq = sumq; job.out = out; job.N = Ns[ns];
                        if (mode == 0) { job.mats = cold[what]; job.nmats = ncold; job.M = Mc; job.K = Kc; job.nblocks = cnb[what]; job.iters = 1; }
                        else { job.mats = &hot[what]; job.nmats = 1; job.M = Mh; job.K = Kh; job.nblocks = hnb[what]; job.iters = 1; }
                        if (mode == 1) { job.iters = 20; run_job(T + 1); job.iters = Ns[ns] == 1 ? 400 : 100; }
                        sec = run_job(T + 1);
                        res[cfg][r] = sec / (job.nmats * job.iters) * 1e9; /* ns per call */
                    }
                }
    }
    job.type = JOB_QUIT; pthread_mutex_lock(&mu); ++job_seq; pthread_cond_signal(&cv); pthread_mutex_unlock(&mu); pthread_join(wthr, NULL);

    printf("\nmedian of %d reps (layouts interleaved within each rep)\n", reps);
    printf("%-4s %-2s %-2s %-7s %12s %10s %12s %10s\n", "mode", "T", "N", "layout", "ns/call", "wGB/s", "Gweights/s", "vs 2bit");
    for (int mode = 0; mode < 2; mode++)
        for (int T = 0; T < 2; T++)
            for (int ns = 0; ns < 2; ns++) {
                int base = ((mode * 2 + T) * 2 + ns) * (NL + 1);
                double m2 = 0;
                int M = mode ? Mh : Mc, K = mode ? Kh : Kc;
                for (int what = 0; what < NL; what++) {
                    double tmp[64]; memcpy(tmp, res[base + what], sizeof(double) * reps);
                    double ns_call = median(tmp, reps);
                    if (what == 0) m2 = ns_call;
                    size_t by = mode ? hb[what] : cb[what];
                    printf("%-4s %-2d %-2d %-7s %12.0f %10.2f %12.1f %9.3fx\n", mode ? "hot" : "cold", T + 1, Ns[ns], lname[what], ns_call,
                           by / ns_call, (double)M * K / ns_call, m2 / ns_call);
                }
                if (mode == 0 && ns == 0) {
                    double tmp[64]; memcpy(tmp, res[base + NL], sizeof(double) * reps);
                    qsort(tmp, reps, sizeof(double), cmpd);
                    printf("%-4s %-2d %-2s %-7s read BW GB/s median %.2f (min %.2f max %.2f)\n", "cold", T + 1, "-", "memread", tmp[reps / 2], tmp[0], tmp[reps - 1]);
                }
            }
    /* per-rep raw for cold N=1 */
    printf("\nraw cold N=1 per rep: ns/call 2bit | 1.6b3 | 1.6hyb | 1.6chain | 1.6chain2 | 1.6chain3 | 2bitraw | readBW\n");
    for (int T = 0; T < 2; T++)
        for (int r = 0; r < reps; r++) {
            int base = ((0 * 2 + T) * 2 + 0) * (NL + 1);
            printf(" T%d rep%d: %8.0f %8.0f %8.0f %8.0f %8.0f %8.0f %8.0f  %6.2f GB/s\n", T + 1, r, res[base][r], res[base + 1][r], res[base + 2][r], res[base + 3][r], res[base + 4][r], res[base + 5][r], res[base + 6][r], res[base + NL][r]);
        }
    return 0;
}
