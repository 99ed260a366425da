/* The reference executor: runs an op graph (graph.h) for real on the host CPU
 * in fp32, one kernel call per op, with seeded random weights and a real KV
 * cache, and times every op.  Weights, KV cache, activations and scratch live
 * in one arena allocated by ar_exec_init.  It computes no predictions. */
#ifndef AR_EXEC_H
#define AR_EXEC_H

#include <stddef.h>

#include "err.h"
#include "graph.h"
#include "kernels.h"
#include "model.h"

struct ar_exec_layer {
	float *attn_norm_w, *attn_norm_b, *mlp_norm_w, *mlp_norm_b;
	/* Dense projections are stored (out, in) row-major, as nn.Linear stores
	 * them (y = x·Wᵀ): a decode product then streams each output's weights
	 * contiguously.  wq (n_q·d_k, H), wk (n_k·d_k, H), wv (n_v·d_v, H);
	 * biases (out). */
	float *wq, *bq, *wk, *bk, *wv, *bv;
	/* MLA: wqa (q_rank, H), wqb (n_h·(d_nope+d_rope), q_rank), wkva
	 * (d_c + d_rope, H); wkvb (n_h·(d_nope + d_v), d_c) like the others, so
	 * that each head's W_UK and W_UV, which the absorbed products take, are
	 * contiguous blocks (taken as columns of (in, out) they were 128-byte
	 * pieces 4.6 kB apart: MLA-160M's q_absorb read them at 25 GB/s) */
	float *wqa, *qa_norm, *wqb, *wkva, *kva_norm, *wkvb;
	float *wp;                                /* W_P (n_h, d_v, d_h) */
	float *vb;                                /* GTA v_b_proj (n_q, d_l, n_h·d_h/n_q) */
	float *wg, *bg;                           /* GTA g_proj (n_h·d_h, H) */
	float *wo, *bo;
	float *w_gate, *b_gate, *w_up, *b_up, *w_down, *b_down; /* dense MLP layers */
	/* MoE layers: router (E, H); the E routed then the shared experts stacked,
	 * gate/up (E + shared, I_e, H) with biases (E + shared, I_e), down
	 * (E + shared, H, I_e) with biases (E + shared, H) */
	float *router, *ew_gate, *eb_gate, *ew_up, *eb_up, *ew_down, *eb_down;
	/* KV cache, head-major: K (B, n_k, cap, d_k) and V (B, n_v, cap, d_v);
	 * MLA: the latent c and the RoPE key (B, cap, d_c + d_rope) in kc, vc
	 * unused */
	float *kc, *vc;
};

/* Sizes of a run, all in bytes. */
struct ar_exec_plan {
	double weight_bytes, kv_bytes, act_bytes, scratch_bytes, total_bytes;
};

struct ar_exec {
	struct ar_model m;
	long batch;        /* B */
	long rows_seq;     /* longest prefill: activations hold B·rows_seq rows */
	long capacity;     /* positions the KV cache holds per sequence */
	double onchip;     /* bytes per unit the graphs' flash tiles were sized with */
	int ref;           /* run the plain kernels and count their FLOPs */
	struct ar_exec_plan plan;
	void *arena;
	struct ar_exec_layer *layers;
	float *embed, *final_norm_w, *final_norm_b, *lm_head; /* lm_head NULL when tied */
	float *x, *xn, *q, *qa, *qabs, *att, *dec, *gs, *kvb, *scores, *mg, *mu, *logits;
	float *kvs;        /* new keys or values (T, heads·head_dim) on their way to the cache */
	float *rope_cos, *rope_sin, *scratch;
	/* MoE routing of the current phase: router logits (T, E); slots (T·(active
	 * + shared)) grouped by expert from slot_off[e] to slot_off[e + 1], each
	 * with its token and weight; gathered inputs xg and outputs yd (slots, H) */
	float *rlogits, *xg, *yd, *slot_w;
	int *slot_tok, *slot_off, *slot_cur;
	size_t scratch_floats;
	int *tokens;
};

/* Bytes that ar_exec_init would allocate for model m (--tp 1) with
 * batch B, prefill of up to `prefill` positions, a KV cache of `capacity`
 * positions and the attention implementation attn; onchip sizes the flash
 * tiles (as ar_graph_build).  -1 with err for a model it cannot run (tied
 * K/V and more than one latent head are analysis only). */
int ar_exec_size(struct ar_exec_plan *plan, const struct ar_model *m, long batch,
		 long prefill, long capacity, enum ar_attn_impl attn, double onchip,
		 struct ar_err *err);

/* Memory for weights and probes that kernels stream through: `bytes`
 * rounded up to 2 MiB, aligned to 2 MiB and marked for huge pages where the
 * system offers them (fewer TLB misses while streaming).  NULL when out of
 * memory; the caller frees it with free(). */
void *ar_exec_alloc(size_t bytes);

/* Bytes of memory available now (MemAvailable), 0 when unknown. */
double ar_exec_available_bytes(void);

/* Set up ex: check that the run fits in limit_bytes (0: the memory available
 * now) before allocating anything, then allocate the arena and fill weights,
 * KV cache and tokens from `seed`.  Fails (-1, err "run needs N GB but only M
 * GB is available") when it does not fit.  Mixture-of-experts layers route
 * each token with a seeded router (top `active` of the softmax) to its
 * experts plus the shared ones.  ex is released with ar_exec_release. */
int ar_exec_init(struct ar_exec *ex, const struct ar_model *m, long batch, long prefill,
		 long capacity, enum ar_attn_impl attn, double onchip, unsigned long seed,
		 double limit_bytes, struct ar_err *err);
void ar_exec_release(struct ar_exec *ex);

/* Run graph g once (every layer), kernel by kernel in op order.  op_s (may
 * be NULL) receives each op's time per repeat (its total over the layers
 * divided by op->layers), in seconds; counts (may be NULL; ex->ref only)
 * receives the FLOPs each op's plain kernel performed, per repeat.  g must
 * come from ar_graph_build with ex's onchip, batch B, and fit ex (rows and
 * cache positions); -1 with err otherwise. */
int ar_exec_phase(struct ar_exec *ex, const struct ar_graph *g, double *op_s,
		  struct ar_kcount *counts, struct ar_err *err);

/* Time graph g: `warmup` runs, then `repeats` runs; op_s[i] is the median
 * of op i's times and *total_s the median of the whole-phase times. */
int ar_exec_measure(struct ar_exec *ex, const struct ar_graph *g, int warmup, int repeats,
		    double *op_s, double *total_s, struct ar_err *err);

#endif
