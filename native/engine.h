/* The inference engine's C: output heads (heads.c), fused RMSNorm + int8 quantization (norm_quant.c), float32
 * attention with RoPE (attention.c), SwiGLU and the whole layer stack (stack.c).
 *
 * Built with the ternary kernels into one library (native/build.py -> nanochat_cli.kernels._native); this header
 * and ternary.h are also the library's cffi declarations, read by build.py. The engine's C calls the kernels'
 * tq_matmul and tq_pool_run directly. `kind` arguments pick an instruction set the matching *_best_kind()
 * reported; every kind gives the same bits unless its comment says otherwise. The Python face is
 * nanochat_cli/infer/ (linear.py: heads and Act; layers.py: attention; stack.py: the layer stack).
 */
#ifndef NANOCHAT_ENGINE_H
#define NANOCHAT_ENGINE_H

#include <stdint.h>

#include "ternary.h"

/* ---- heads.c: y (N x M) = rows of a head times N activation rows, rows split over n_threads of the pool ---- */
int head_best_kind(void);  /* 2 AVX-512 VNNI (head_vnni_matmul), 1 AVX2, 0 scalar (head_matmul) */
/* int8 rows w with per-row scales times int8 per-token rows q; kinds 1 and 0, -1 for another kind */
int head_matmul(const int8_t *w, const float *w_scale, int32_t M, int32_t K, const int8_t *q, const float *x_scale,
                int32_t N, float *y, int kind, int n_threads);
/* the same product on AVX-512 VNNI from the int8 rows' own layout (head_vnni_pack into head_vnni_bytes(M, K)
 * bytes), the same bits as head_matmul's kinds; -1 for K < 1, -2 out of memory */
size_t head_vnni_bytes(int32_t M, int32_t K);
void head_vnni_pack(const int8_t *w, int32_t M, int32_t K, uint8_t *dst);
int head_vnni_matmul(const uint8_t *wp, const float *w_scale, int32_t M, int32_t K, const int8_t *q,
                     const float *x_scale, int32_t N, float *y, int n_threads);
int q6k_best_kind(void);   /* 1 AVX-512 F/BW/VL/VBMI/VNNI + F16C + FMA, 0 scalar */
/* dst = the file's Q6_K rows src (M rows of K / 256 blocks) repacked for the vector kernel; -1 for a bad K */
int q6k_repack(const uint8_t *src, uint8_t *dst, int32_t M, int32_t K, int n_threads);
/* repacked Q6_K rows times int8 per-token rows; -1 for a bad K, -2 out of memory */
int q6k_head_matmul(const uint8_t *w, int32_t M, int32_t K, const int8_t *q, const float *x_scale, int32_t N,
                    float *y, int kind, int n_threads);
int f32_head_best_kind(void);  /* 1 AVX-512F, 0 scalar (the sums run in another order: fast mode only) */
/* float32 rows w times N float32 rows x (8 at a time over each L2-sized block of w); -1 for N < 1 */
int f32_head_matmul(const float *w, int32_t M, int32_t K, const float *x, int32_t N, float *y, int kind,
                    int n_threads);

/* ---- norm_quant.c: y = RMSNorm(x) * w (w NULL: y = x), then q, scale = the per-token int8 quantization of y;
 * y_out (may be NULL) receives y ---- */
void norm_quantize(const float *x, const float *w, int32_t N, int32_t K, float eps, float *y_out,
                   int8_t *q, float *scale);

/* ---- attention.c: causal GQA attention of T query rows at positions start.. over one slot's KV cache ----
 * q (T, H, D); k, v: head h_kv at + h_kv * head_stride, key j at + j * D; out (T, H * D). -2 out of memory. */
int attention_f32(const float *q, const float *k, const float *v, int32_t T, int32_t H, int32_t H_kv, int32_t D,
                  int64_t head_stride, int32_t start, float *out, int n_threads);
/* RoPE of the fused q/k/v rows qkv (T, (H + 2 H_kv) * D) into qbuf (q) and the caches kc, vc (k, v) */
void rope_cache_write_f32(const float *qkv, int32_t T, int32_t H, int32_t H_kv, int32_t D, const float *cos_t,
                          const float *sin_t, float *kc, float *vc, int64_t head_stride, int32_t start, float *qbuf);
/* rope_cache_write_f32, then attention_f32 */
int rope_attend_f32(const float *qkv, int32_t T, int32_t H, int32_t H_kv, int32_t D, const float *cos_t,
                    const float *sin_t, float *kc, float *vc, int64_t head_stride, int32_t start, float *qbuf,
                    float *out, int n_threads);

/* ---- stack.c: SwiGLU, and every block of an eligible model in one call ---- */
int swiglu_best_kind(void);  /* 2 AVX-512F, 1 AVX2 + FMA, 0 scalar */
/* h (N, F) = silu(gate) * up of gate_up (N, 2F) rows [gate | up] */
void swiglu_f32(const float *gate_up, int32_t N, int32_t F, float *h, int kind);

typedef struct stack_plan stack_plan;
/* A model's plan: shapes, norm epsilon, RoPE tables (rope_len, head_dim / 2); NULL out of memory. */
stack_plan *stack_plan_new(int32_t n_layers, int32_t d_model, int32_t n_heads, int32_t n_kv_heads, int32_t head_dim,
                           int32_t d_ff, int32_t relu2, float eps, const float *cos_t, const float *sin_t,
                           int32_t rope_len);
/* Layer i's norms (sub-norms may be NULL) and ternary matrices (fused q/k/v, o, fused gate/up or up, down) */
int stack_plan_layer(stack_plan *plan, int32_t i, const float *attn_norm, const float *attn_sub_norm,
                     const float *ffn_norm, const float *ffn_sub_norm, const tq_weights *qkv, const tq_weights *o,
                     const tq_weights *inp, const tq_weights *down);
void stack_plan_free(stack_plan *plan);
/* Run every block on x (N, d) in place. seg: n_seg x (slot, start, length, row); kv: 2 * n_layers caches (k0, v0,
 * k1, ...), each (n_slots, h_kv, ctx, head_dim); kernel_ids: 4 tq_kernel ids per layer. 0; -1 a segment outside
 * the rows, slots or context; -2 out of memory; -3 a kernel refused to run. */
int stack_forward(stack_plan *plan, float *x, int32_t N, const int32_t *seg, int32_t n_seg, float *const *kv,
                  int32_t n_slots, int32_t ctx, const int32_t *kernel_ids, int n_threads);

#endif
