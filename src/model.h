/* Models: dimensions plus one attention descriptor (struct ar_attn) that covers
 * MHA, GQA, MLA, GVA, GHA and GTA, and the grouped-tied and grouped latent
 * attention of arXiv 2505.21487 (archs gta-tied, gla).  Loaded from
 * configs/NAME.yaml (which names an archs/NAME.yaml) or from a Hugging Face
 * config.json.  No costs here. */
#ifndef AR_MODEL_H
#define AR_MODEL_H

#include <stddef.h>

#include "err.h"

/* How attention maps meet cached values (symbols as in the GTA paper). */
enum ar_av {
	AR_AV_PER_HEAD, /* each of n_h heads applies its map to its value head: AV = n_h·d_v per key */
	AR_AV_PER_MAP,  /* each of n_q maps is applied once to its value group: AV = n_q·d_v per key */
	AR_AV_COUNT
};
extern const char *const ar_av_names[AR_AV_COUNT];

/* What turns the attention output into n_h·d_h features before o_proj. */
enum ar_decoder {
	AR_DEC_NONE,   /* the attention output is used as is */
	AR_DEC_LINEAR, /* per-head linear W_P: d_v → d_h for each of n_h heads */
	AR_DEC_GATED,  /* GTA: direct tiling + v_b_proj (d_v → H/n_q per group) + sigmoid gate g_proj */
	AR_DEC_COUNT
};
extern const char *const ar_decoder_names[AR_DEC_COUNT];

enum ar_mlp_kind { AR_MLP_SWIGLU, AR_MLP_GELU, AR_MLP_COUNT };
extern const char *const ar_mlp_names[AR_MLP_COUNT];
enum ar_norm_kind { AR_NORM_RMS, AR_NORM_LAYER, AR_NORM_COUNT };
extern const char *const ar_norm_names[AR_NORM_COUNT];

struct ar_attn {
	char arch[32];          /* arch file stem: "gta" */
	char label[16];         /* "GTA" */
	char expressivity[16];  /* "Strong", "Moderate", "Weak" */
	long n_h, d_h;          /* output heads and head dim (from the model) */
	long n_q;               /* attention maps per token (query groups) */
	long n_k, d_k;          /* cached key heads and their dim; latent: n_c latent heads */
	long n_v, d_v;          /* cached value heads / latent groups n_c, and dim (d_l) */
	enum ar_av av;
	enum ar_decoder decoder;
	int latent;             /* MLA/GLA: cache n_k latent heads of d_c + one RoPE key d_rope */
	int tied;               /* tied KV: n_k states of d_v serve as V and as K's first
				 * d_k − d_rope; one RoPE key of d_rope shared by all heads */
	long d_c, d_rope, d_nope, q_rank; /* latent, RoPE and no-RoPE dims; q LoRA rank (0 none) */
	int absorb;             /* MLA decode with weight absorption */
};

struct ar_moe {
	long experts;       /* routed experts; 0 = dense MLP */
	long active;        /* routed experts per token */
	long shared;        /* always-active experts */
	long intermediate;  /* per expert */
	long dense_layers;  /* first layers that use the dense MLP */
};

struct ar_model {
	char name[64];
	long layers, hidden, vocab, intermediate;
	enum ar_mlp_kind mlp;
	enum ar_norm_kind norm;
	int tie_embeddings, attn_bias, o_bias, mlp_bias;
	struct ar_moe moe;
	struct ar_attn attn;
};

/* Load a model from a configs/NAME.yaml file; its arch is looked up with
 * ar_resolve("archs", ...).  0, or -1 with err at the offending node. */
int ar_model_load(struct ar_model *m, const char *path, struct ar_err *err);
/* Load a model from a Hugging Face config.json (Llama family, the GTA authors'
 * config, DeepSeek-V2/V3). */
int ar_model_load_hf(struct ar_model *m, const char *path, struct ar_err *err);
/* The same two from text in memory (len bytes, need not be NUL-terminated);
 * name is used as the path in errors and, for config.json, to name the model. */
int ar_model_parse(struct ar_model *m, const char *name, const char *text, size_t len,
		   struct ar_err *err);
int ar_model_parse_hf(struct ar_model *m, const char *name, const char *text, size_t len,
		      struct ar_err *err);
/* Resolve a model argument (a name in configs/, a .yaml path or a .json path)
 * and load it. */
int ar_model_open(struct ar_model *m, const char *arg, struct ar_err *err);

/* The model `base` with its attention replaced by the arch file at arch_path,
 * every parameter taken from that file's defaults at base's H, n_h and d_h
 * (base's own overrides are dropped).  out may not alias base.  0, or -1 with
 * err (at the arch file) when the file is bad or its defaults do not fit. */
int ar_model_with_arch(struct ar_model *out, const struct ar_model *base,
		       const char *arch_path, struct ar_err *err);

/* Check the cross-field rules (divisibility, sizes) of a filled model.  Used by
 * the loaders and after edits such as tensor-parallel sharding. */
int ar_model_check(const struct ar_model *m, struct ar_err *err);

/* m with l layers (a shorter copy of a model for quick measurements, or its
 * full depth again); of them `dense` without experts, at most l. */
void ar_model_set_layers(struct ar_model *m, long l, long dense);

/* Cached KV elements per token per layer: n_k·d_k + n_v·d_v; n_k·d_v + d_rope
 * when tied; n_k·d_c + d_rope when latent (MLA: n_k = 1). */
double ar_model_kv_elems(const struct ar_model *m);

/* Find the data file for `name` in dir ("hw", "archs", "configs"): a path is
 * used as is (anything with a '/' or ending in .yaml/.json); a bare name is
 * searched as DIR/NAME.yaml under $ATTNROOF_DATA, the working directory and
 * the install data directory.  Writes the path to out. */
int ar_resolve(const char *dir, const char *name, char *out, size_t n,
	       struct ar_err *err);

#endif
