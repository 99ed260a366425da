/* Kernels of the reference executor: fp32, caller-supplied buffers, explicit
 * dimensions, outputs first.  Every optimised kernel (OpenBLAS + OpenMP) has a
 * plain reference beside it (suffix _ref) that also counts the FLOPs it
 * performs into a struct ar_kcount.  Kernels never allocate and never print.
 * Matrices are row-major; "ld" is the distance between rows in floats.
 * FLOP counting (as the op graph counts, graph.h): a multiply-add is 2 on the
 * matrix side; vector FLOPs per element are norm 4 (RMS) or 7 (layer), RoPE 3,
 * softmax 5 (max, subtract, exp, sum, divide; masked entries included), SiLU
 * product 5, sigmoid gate 5, GELU 8, add 1, bias 1; per-row constants (a
 * square root, a reciprocal) are not counted. */
#ifndef AR_KERNELS_H
#define AR_KERNELS_H

#include <stddef.h>

struct ar_kcount {
	double mflops; /* FLOPs of products (multiply-add = 2) */
	double vflops; /* FLOPs of element-wise work */
};

/* Threads the optimised kernels use (OpenMP); OpenBLAS runs one thread inside
 * each.  n < 1 means all cores.  Returns the count now in use. */
int ar_kernels_set_threads(int n);
int ar_kernels_threads(void);
/* The processors this process may run on (its affinity) */
int ar_kernels_procs(void);

/* ---- products ---- */

/* `groups` independent products  out_g (M,N) = in_g (M,K) · W_g (K,N) [+ bias (N)].
 * out_g = out + g·so (rows ldo apart), in_g = in + g·si (rows ldi apart),
 * W_g = w + g·sw: rows ldw apart when transw == 0; when transw != 0, W_g is
 * stored transposed, (N,K) with rows ldw apart.  sw == 0 shares one W.
 * bias (N) or NULL, shared by all groups. */
void ar_kernels_matmul(float *out, long ldo, long so, const float *in, long ldi, long si,
		       const float *w, long ldw, long sw, int transw, const float *bias,
		       long M, long K, long N, long groups);
void ar_kernels_matmul_ref(float *out, long ldo, long so, const float *in, long ldi, long si,
			   const float *w, long ldw, long sw, int transw, const float *bias,
			   long M, long K, long N, long groups, struct ar_kcount *cnt);
/* The distance, in floats, between the rows of a weight matrix stored (N, K)
 * for products: K, or K + 16 (one cache line more) when K floats fill whole
 * 4 KiB pages, whose rows would all fall in the same sets of the cache. */
long ar_kernels_row_stride(long k);

/* ---- norms and element-wise ---- */

/* out (T,C) = in (T,C) / rms(in row) · w (C) */
void ar_kernels_rmsnorm(float *out, const float *in, const float *w, long T, long C, float eps);
void ar_kernels_rmsnorm_ref(float *out, const float *in, const float *w, long T, long C,
			    float eps, struct ar_kcount *cnt);
/* out (T,C) = (in − mean) / std · w (C) + b (C) */
void ar_kernels_layernorm(float *out, const float *in, const float *w, const float *b,
			  long T, long C, float eps);
void ar_kernels_layernorm_ref(float *out, const float *in, const float *w, const float *b,
			      long T, long C, float eps, struct ar_kcount *cnt);

/* Rotate-half RoPE in place on B sequences of S positions, over one or more
 * tensors in one dispatch (a model's queries and keys): for each part,
 * element x[b·bs + s·ls + h·hs + off + i], i < rd, heads h < heads.
 * Position of s is pos0 + s; cosv, sinv (positions, rd/2) hold cos and sin
 * of pos·θ_i. */
struct ar_rope_part {
	float *x;
	long bs, ls, heads, hs, off;
};
void ar_kernels_rope(const struct ar_rope_part *parts, int n_parts, long B, long S, long rd,
		     const float *cosv, const float *sinv, long pos0);
void ar_kernels_rope_ref(const struct ar_rope_part *parts, int n_parts, long B, long S,
			 long rd, const float *cosv, const float *sinv, long pos0,
			 struct ar_kcount *cnt);
/* cosv, sinv (n_pos, rd/2) for θ_i = theta^(−2i/rd) */
void ar_kernels_rope_table(float *cosv, float *sinv, long n_pos, long rd, double theta);

/* out (n) = silu(gate (n)) ⊙ up (n); out may alias gate */
void ar_kernels_swiglu(float *out, const float *gate, const float *up, long n);
void ar_kernels_swiglu_ref(float *out, const float *gate, const float *up, long n,
			   struct ar_kcount *cnt);
/* out (n) = gelu(in (n)), tanh form; in place allowed */
void ar_kernels_gelu(float *out, const float *in, long n);
void ar_kernels_gelu_ref(float *out, const float *in, long n, struct ar_kcount *cnt);
/* out (n) = sigmoid(g (n)) ⊙ x (n); out may alias either */
void ar_kernels_gate(float *out, const float *g, const float *x, long n);
void ar_kernels_gate_ref(float *out, const float *g, const float *x, long n,
			 struct ar_kcount *cnt);
/* out (n) = a (n) + b (n); out may alias either */
void ar_kernels_add(float *out, const float *a, const float *b, long n);
void ar_kernels_add_ref(float *out, const float *a, const float *b, long n,
			struct ar_kcount *cnt);
/* GTA's direct tiling: out (T, G, W) += o (T, G, dl) tiled along W,
 * out[t][g][c] += o[t][g][c mod dl] */
void ar_kernels_tile_add(float *out, const float *o, long T, long G, long W, long dl);
void ar_kernels_tile_add_ref(float *out, const float *o, long T, long G, long W, long dl,
			     struct ar_kcount *cnt);
/* out (T,C) = table[tok[t]] rows of table (V,C), rows ld apart */
void ar_kernels_embed(float *out, const float *table, long ld, const int *tok, long T, long C);
/* New keys or values into a head-major cache: src (B, S, heads·hd), rows in
 * order, to cache (B, heads, cap, hd) at positions pos0 .. pos0+S−1. */
void ar_kernels_to_heads(float *cache, const float *src, long B, long S, long heads, long hd,
			 long cap, long pos0);

/* Softmax in place over rows (rows, Sk) of score matrices of Sq query rows
 * each (row r is query r mod Sq).  causal: query i sees keys up to
 * Sk − Sq + i; later keys get probability 0. */
void ar_kernels_softmax(float *x, long rows, long Sq, long Sk, int causal);
void ar_kernels_softmax_ref(float *x, long rows, long Sq, long Sk, int causal,
			    struct ar_kcount *cnt);

/* ---- attention ---- */

/* One attention problem.  `maps` score maps per position, each over one of
 * `kh` key heads (map h uses key head h / (maps/kh)); `heads` outputs per
 * position, output i applies map i / (heads/maps) to value head
 * i / (heads/vh).  A key is dk1 per-key-head elements followed by dk2
 * elements shared by every key head (MLA's RoPE key; 0 when none).
 * q (B, Sq, maps, dk1+dk2) contiguous; out (B, Sq, heads, dv) contiguous.
 * Key j of sequence b, key head h: k1 + b·k1_bs + j·k1_ps + h·k1_hs and
 * k2 + b·k2_bs + j·k2_ps; value: v + b·v_bs + j·v_ps + h·v_hs. */
struct ar_attn_args {
	long B, Sq, Sk;
	long maps, kh, heads, vh;
	long dk1, dk2, dv;
	int causal;
	float scale;
	const float *q;
	const float *k1;
	long k1_bs, k1_ps, k1_hs;
	const float *k2;
	long k2_bs, k2_ps;
	const float *v;
	long v_bs, v_ps, v_hs;
	float *out;
};

/* Naive attention, three passes: scores (B, maps, Sq, Sk) = scale·Q·Kᵀ (full,
 * no mask); ar_kernels_softmax with the mask; out = P·V. */
void ar_kernels_qk(float *scores, const struct ar_attn_args *a);
void ar_kernels_qk_ref(float *scores, const struct ar_attn_args *a, struct ar_kcount *cnt);
void ar_kernels_av(const float *scores, const struct ar_attn_args *a);
void ar_kernels_av_ref(const float *scores, const struct ar_attn_args *a,
		       struct ar_kcount *cnt);

/* Flash attention with online softmax.  Rows are blocks of P = max(1, Br/g)
 * positions × the g = maps/kh maps of one key head (the K/V tiles of a key
 * head are read once for its whole group); keys in tiles of Bc; causal row
 * blocks stop at the tile holding their last visible key.  scratch holds
 * ar_kernels_flash_scratch(a, Br, Bc) floats. */
size_t ar_kernels_flash_scratch(const struct ar_attn_args *a, long Br, long Bc);
void ar_kernels_flash(const struct ar_attn_args *a, long Br, long Bc, float *scratch);
/* The same tiles row by row with plain loops; scratch holds
 * ar_kernels_flash_ref_scratch(a, Bc) floats. */
size_t ar_kernels_flash_ref_scratch(const struct ar_attn_args *a, long Bc);
void ar_kernels_flash_ref(const struct ar_attn_args *a, long Br, long Bc, float *scratch,
			  struct ar_kcount *cnt);

/* Decode attention (Sq = 1, no mask): one work item per (sequence, key
 * range) walks its keys in order, in blocks of Bc keys that share one
 * online-softmax update.  A block is scored against every map of every key
 * head (tiles of 4 maps × 2 keys, 2 × 4 or 1 × 8 held in registers; the
 * scale is folded into the queries once), then the value rows are added
 * into up to four outputs of a value head at once; both passes take 16 keys
 * of each head in turn, or, where each head's keys are contiguous (a
 * head-major cache) and vectors 16 lanes wide, each head's whole block in
 * turn.  K and V stream from memory once, prefetched about 40 KiB ahead.  Key
 * ranges are split over threads when the B sequences are fewer than twice
 * the threads; a final pass merges the ranges of each map (weights
 * e^{m_s − max m}) and normalises.  Bc <= 0 takes ar_kernels_decode_block(a)
 * keys per block.  scratch holds ar_kernels_decode_attn_scratch(a, Bc)
 * floats (Bc <= 0: enough for any block it may take at up to a->Sk keys). */
size_t ar_kernels_decode_attn_scratch(const struct ar_attn_args *a, long Bc);
void ar_kernels_decode_attn(const struct ar_attn_args *a, long Bc, float *scratch);
/* The block the kernel takes for a: 512 keys, halved (down to 64) while
 * the sequences' blocks would be fewer than two per thread. */
long ar_kernels_decode_block(const struct ar_attn_args *a);
/* The decode kernel is built 8 lanes wide (AVX2 and baseline x86-64) and 16
 * lanes wide (AVX-512, used where the processor has it).  lanes 8 or 16
 * asks for one (16 only where it runs), 0 for the widest, < 0 changes
 * nothing; returns the width now in use. */
int ar_kernels_decode_lanes(int lanes);
/* The same result in two passes over every key with plain loops (scores and
 * their maximum, then probabilities and values), in double; scratch holds
 * ar_kernels_decode_attn_ref_scratch(a) floats.  Counts as the flash op:
 * 2·Sk·(d_k + outputs per map·d_v) matrix and 5·Sk vector FLOPs per map. */
size_t ar_kernels_decode_attn_ref_scratch(const struct ar_attn_args *a);
void ar_kernels_decode_attn_ref(const struct ar_attn_args *a, float *scratch,
				struct ar_kcount *cnt);

/* ---- calibration probes (the vector unit on its own) ---- */

/* n FMAs on each of 64 independent accumulators per thread; returns a sum
 * that keeps the work alive.  2·64·n FLOPs per thread. */
float ar_kernels_fma_probe(long n);
/* out (n) = exp(in (n)) with the executor's exp */
void ar_kernels_exp(float *out, const float *in, long n);
/* reps · Σ x (n): every thread sums its own part reps times (read bandwidth
 * of a working set of n floats, one parallel region). */
double ar_kernels_sum(const float *x, long n, long reps);
/* Seconds for a cache line to go from the first thread to the second and
 * back (the median over `rounds` round trips, in batches), the floor under
 * every fork, join and barrier: tens of nanoseconds between cores that share
 * a cache, hundreds between chiplets or sockets.  0 with fewer than two
 * threads, or when the second thread does not answer within 20 ms (two
 * threads on one core). */
double ar_kernels_round_trip(long rounds);

#endif
