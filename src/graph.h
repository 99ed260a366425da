/* The op graph of one phase: every operation of one layer plus the model's head
 * and tail, each with its FLOPs and bytes by class and how many layers repeat
 * it.  Building a graph does arithmetic only: no time, no I/O.  Evaluators
 * (roofline.c, the executor) walk the same list, so their results line up op
 * by op.  Conventions:
 *   - a multiply-accumulate is 2 FLOPs;
 *   - weights are read once per op per forward pass;
 *   - K and V are written to the cache once per new token (by the projection
 *     that makes them);
 *   - naive attention materialises the S_q×S_k score matrix and does full
 *     (non-causal) work, as LLM-Viewer and the GTA paper count;
 *   - flash attention is one op whose traffic follows from tiles sized by the
 *     on-chip memory of one compute unit; causal prefill skips masked tiles. */
#ifndef AR_GRAPH_H
#define AR_GRAPH_H

#include "err.h"
#include "hw.h"
#include "model.h"

enum ar_op_id {
	AR_OP_EMBED, AR_OP_ATTN_NORM,
	AR_OP_Q_PROJ, AR_OP_Q_A_PROJ, AR_OP_Q_B_PROJ, AR_OP_K_PROJ, AR_OP_V_PROJ,
	AR_OP_KV_PROJ, AR_OP_K_ROPE_PROJ, AR_OP_KV_A_PROJ, AR_OP_KV_B_PROJ, AR_OP_ROPE,
	AR_OP_Q_ABSORB,
	AR_OP_QK, AR_OP_SOFTMAX, AR_OP_AV, AR_OP_FLASH,
	AR_OP_OUT_ABSORB, AR_OP_W_P, AR_OP_V_B_PROJ, AR_OP_DIRECT_ADD, AR_OP_G_PROJ,
	AR_OP_GATE, AR_OP_O_PROJ, AR_OP_ATTN_ALLREDUCE, AR_OP_ATTN_ADD,
	AR_OP_MLP_NORM, AR_OP_ROUTER, AR_OP_GATE_PROJ, AR_OP_UP_PROJ, AR_OP_MLP_ACT,
	AR_OP_DOWN_PROJ, AR_OP_EXP_GATE_PROJ, AR_OP_EXP_UP_PROJ, AR_OP_EXP_ACT,
	AR_OP_EXP_DOWN_PROJ, AR_OP_MLP_ALLREDUCE, AR_OP_MLP_ADD,
	AR_OP_FINAL_NORM, AR_OP_LM_HEAD,
	AR_OP_COUNT
};
extern const char *const ar_op_names[AR_OP_COUNT];

enum ar_op_kind {
	AR_KIND_EMBEDDING, AR_KIND_NORM, AR_KIND_MATMUL, AR_KIND_ROPE,
	AR_KIND_ATTENTION, AR_KIND_ELEMENTWISE, AR_KIND_COMM, AR_KIND_COUNT
};
extern const char *const ar_kind_names[AR_KIND_COUNT];
enum ar_op_kind ar_op_kind(enum ar_op_id id);

/* Bytes moved by an op, by class. */
enum ar_bytes {
	AR_B_WEIGHT,   /* weights and biases read */
	AR_B_ACT_IN,   /* activations read */
	AR_B_ACT_OUT,  /* activations written */
	AR_B_KV_READ,  /* KV cache read (first touch) */
	AR_B_KV_WRITE, /* KV cache written */
	AR_B_REREAD,   /* K/V tiles re-read inside a flash op (served by the level holding one layer's K/V) */
	AR_B_COUNT
};
extern const char *const ar_bytes_names[AR_B_COUNT];

enum ar_phase { AR_PHASE_PREFILL, AR_PHASE_DECODE, AR_PHASE_COUNT };
extern const char *const ar_phase_names[AR_PHASE_COUNT];

enum ar_attn_impl { AR_ATTN_FLASH, AR_ATTN_NAIVE, AR_ATTN_IMPL_COUNT };
extern const char *const ar_attn_impl_names[AR_ATTN_IMPL_COUNT];

struct ar_workload {
	long batch;   /* B */
	long seq;     /* S: prompt length (prefill) or KV length (decode) */
	long gen;     /* G: tokens generated after the prompt; 0 = no generation */
	enum ar_attn_impl attn;
	int wbits, abits, kvbits;
	long tp;      /* tensor-parallel degree */
};

/* Check a workload against a model: positive sizes, supported bit widths (4, 8,
 * 16, 32), tensor-parallel divisibility, sizes whose products stay finite.
 * -1 with err (no path) naming the flag. */
int ar_workload_check(const struct ar_model *m, const struct ar_workload *wl,
		      struct ar_err *err);

/* Shape of an op for the executor.  matmul: out[m×n] = in[m×k]·W[k×n],
 * `groups` independent such products (batched: per head or group). */
struct ar_shape {
	long m, n, k, groups;
};

struct ar_op {
	enum ar_op_id id;
	double layers;               /* how many times the op runs per forward pass */
	struct ar_shape shape;
	double mflops;               /* FLOPs on the matrix units, per repeat */
	double vflops;               /* FLOPs on the vector units, per repeat */
	double vexp;                 /* exponentials among vflops (one FLOP each), per repeat */
	double bytes[AR_B_COUNT];    /* per repeat; activations in + out are the
				      * working set that decides their level */
	double link_bytes;           /* bytes each device sends over the device link */
	int mbits, vbits;            /* operand widths that pick the compute peaks */
	double reread_footprint_bytes; /* flash: the K/V its tiles re-read (one layer, the batch) */
	double attn_intensity;       /* flash: FLOPs per K/V element its passes walk (a latent that
	                              * is key and value counts in both); 0 for other ops */
	double attn_per_map;         /* flash: outputs per score map (value products per score) */
	double attn_map_flops;       /* flash: its FLOPs were there one output per map */
};

enum { AR_GRAPH_MAX_OPS = 48 };

struct ar_graph {
	enum ar_phase phase;
	struct ar_workload wl;
	int n_ops;
	struct ar_op ops[AR_GRAPH_MAX_OPS];
	double weight_bytes;      /* all weights on one device */
	double weight_read_bytes; /* the weights a pass reads: all but the rows of an untied
	                           * embedding table that it does not gather */
	double kv_cache_bytes;    /* KV cache on one device after this phase */
	double kv_layer_bytes;    /* one layer's KV cache for the batch */
	double act_peak_bytes;    /* largest live activations of one op, plus the residual stream */
	/* flash tiles used (0 for naive) */
	long tile_rows, tile_cols;
};

/* The set a pass streams through the memory levels, which decides the level
 * its weights and K/V come from: the weights it reads and the whole KV cache. */
static inline double ar_graph_resident(const struct ar_graph *g)
{
	return g->weight_read_bytes + g->kv_cache_bytes;
}

/* Build the op graph of `phase` for model m under workload wl on a device whose
 * on-chip memory per unit is onchip_bytes (flash tiles).  wl must have passed
 * ar_workload_check.  Fills g; no allocation, no failure. */
void ar_graph_build(struct ar_graph *g, const struct ar_model *m,
		    const struct ar_workload *wl, double onchip_bytes,
		    enum ar_phase phase);

/* Causal flash tiles: row blocks of P query positions (the last Sq of Sk key
 * positions), key tiles of bc.  pos_keys = Σ over blocks of positions × keys
 * loaded; keys_loaded = Σ keys loaded.  Closed form (O(log)); the _ref
 * version loops over the blocks and is kept for tests. */
void ar_flash_causal_tiles(long Sq, long Sk, long P, long bc, double *pos_keys,
			   double *keys_loaded);
void ar_flash_causal_tiles_ref(long Sq, long Sk, long P, long bc, double *pos_keys,
			       double *keys_loaded);

/* Sum over ops of x·layers. */
double ar_graph_flops(const struct ar_graph *g);
double ar_graph_bytes(const struct ar_graph *g);
double ar_op_bytes(const struct ar_op *op);

/* The model as it runs on one of tp devices: heads, KV heads, MLP width and
 * vocabulary divided (KV heads fewer than tp are replicated).  wl checked. */
void ar_model_shard(struct ar_model *out, const struct ar_model *m, long tp);

/* Parameters of the whole model (weights, biases and norms; embeddings
 * counted once when tied). */
double ar_model_params(const struct ar_model *m);

/* Weight parameters on one device of the sharded model (biases and norms
 * included, tied embeddings once). */
double ar_model_params_sharded(const struct ar_model *m, long tp);

#endif
