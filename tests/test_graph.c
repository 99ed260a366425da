/* The op graph against FLOPs and bytes counted by hand.  Small models from
 * tests/data/good/tiny-*.yaml (H 64, n_h 4, d_h 16, 2 layers, vocab 100, MLP
 * 128) load each arch from archs/; every expected value below is the formula
 * written out for those dimensions, never a call into the code under test.
 * Mixed widths (8-bit weights, 16-bit activations, 4-bit KV) keep the byte
 * classes apart.  The 1B models check the GTA paper's Table 4 numbers. */
#include "testutil.h"

#include <stdlib.h>

#include "graph.h"
#include "model.h"

/* dimensions shared by the tiny fixtures */
#define H 64.0    /* hidden */
#define HD 64.0   /* n_h·d_h */
#define I 128.0   /* MLP width */
#define V 100.0   /* vocab */
#define L 2.0     /* layers */

static void load(struct ar_model *m, const char *file)
{
	const char *root = getenv("ATTNROOF_DATA");
	struct ar_err err = { 0 };
	char path[1024];

	snprintf(path, sizeof(path), "%s/tests/data/good/%s", root && *root ? root : ".", file);
	if (ar_model_load(m, path, &err)) {
		print_error("%s: %s\n", path, err.msg);
		fail();
	}
}

static void load_config(struct ar_model *m, const char *name)
{
	const char *root = getenv("ATTNROOF_DATA");
	struct ar_err err = { 0 };
	char path[1024];

	snprintf(path, sizeof(path), "%s/configs/%s.yaml", root && *root ? root : ".", name);
	if (ar_model_load(m, path, &err)) {
		print_error("%s: %s\n", path, err.msg);
		fail();
	}
}

static struct ar_workload workload(long B, long S, enum ar_attn_impl attn, int wbits,
				   int abits, int kvbits, long tp)
{
	return (struct ar_workload){ .batch = B, .seq = S, .attn = attn, .wbits = wbits,
				     .abits = abits, .kvbits = kvbits, .tp = tp };
}

static void build(struct ar_graph *g, const struct ar_model *m, const struct ar_workload *wl,
		  double onchip, enum ar_phase phase)
{
	struct ar_err err = { 0 };

	if (ar_workload_check(m, wl, &err)) {
		print_error("workload: %s\n", err.msg);
		fail();
	}
	ar_graph_build(g, m, wl, onchip, phase);
}

static const struct ar_op *find(const struct ar_graph *g, enum ar_op_id id)
{
	for (int i = 0; i < g->n_ops; i++)
		if (g->ops[i].id == id)
			return &g->ops[i];
	return NULL;
}

static void near(const char *op, const char *what, double got, double want)
{
	if (!(fabs(got - want) <= 1e-12 * fabs(want))) {
		print_error("%s.%s = %.17g, want %.17g\n", op, what, got, want);
		fail();
	}
}

/* One op's counts per repeat: FLOPs on the matrix and vector units, then the
 * bytes of each class. */
struct want {
	double layers, mflops, vflops;
	double weight, act_in, act_out, kv_read, kv_write, reread;
};

static void check(const struct ar_graph *g, enum ar_op_id id, struct want w)
{
	const struct ar_op *op = find(g, id);
	const char *n = ar_op_names[id];

	if (!op) {
		print_error("op %s missing\n", n);
		fail();
	}
	near(n, "layers", op->layers, w.layers);
	near(n, "mflops", op->mflops, w.mflops);
	near(n, "vflops", op->vflops, w.vflops);
	near(n, "weight", op->bytes[AR_B_WEIGHT], w.weight);
	near(n, "act_in", op->bytes[AR_B_ACT_IN], w.act_in);
	near(n, "act_out", op->bytes[AR_B_ACT_OUT], w.act_out);
	near(n, "kv_read", op->bytes[AR_B_KV_READ], w.kv_read);
	near(n, "kv_write", op->bytes[AR_B_KV_WRITE], w.kv_write);
	near(n, "reread", op->bytes[AR_B_REREAD], w.reread);
	near(n, "link", op->link_bytes, 0);
}

static void check_order(const struct ar_graph *g, const enum ar_op_id *ids, int n)
{
	if (g->n_ops != n) {
		print_error("%d ops, want %d\n", g->n_ops, n);
		fail();
	}
	for (int i = 0; i < n; i++)
		if (g->ops[i].id != ids[i]) {
			print_error("op %d is %s, want %s\n", i, ar_op_names[g->ops[i].id],
				    ar_op_names[ids[i]]);
			fail();
		}
}

/* ---- the five non-latent archs, every op, naive attention ---- */

struct dims {
	const char *file;
	long nq, nk, dk, nv, dv;
	double av;   /* value products per position: n_h (per head) or n_q (per map) */
	int gated;   /* GTA's v_b_proj, direct_add, g_proj, gate */
	double bias; /* q/k/v (and g) biases */
};

static const struct dims archs5[] = {
	{ "tiny-mha.yaml", 4, 4, 16, 4, 16, 4, 0, 0 },
	{ "tiny-gqa.yaml", 4, 2, 16, 2, 16, 4, 0, 0 },
	{ "tiny-gva.yaml", 2, 1, 16, 4, 16, 4, 0, 0 },
	{ "tiny-gha.yaml", 2, 1, 16, 2, 16, 4, 0, 0 },
	{ "tiny-gta.yaml", 2, 1, 16, 1, 32, 2, 1, 1 },
};

/* Every op outside the attention block (no biases on the MLP of the tiny
 * models): T tokens this phase, B sequences; w, a bytes per element. */
static void check_outside_attention(const struct ar_graph *g, double B, double T, double w,
				    double a)
{
	check(g, AR_OP_EMBED, (struct want){ 1, 0, 0, fmin(T, V) * H * w, 0, T * H * a, 0, 0, 0 });
	check(g, AR_OP_ATTN_NORM, (struct want){ L, 0, 4 * T * H, H * w, T * H * a, T * H * a, 0, 0, 0 });
	check(g, AR_OP_ATTN_ADD, (struct want){ L, 0, T * H, 0, 2 * T * H * a, T * H * a, 0, 0, 0 });
	check(g, AR_OP_MLP_NORM, (struct want){ L, 0, 4 * T * H, H * w, T * H * a, T * H * a, 0, 0, 0 });
	check(g, AR_OP_GATE_PROJ, (struct want){ L, 2 * T * H * I, 0, H * I * w, T * H * a, T * I * a, 0, 0, 0 });
	check(g, AR_OP_UP_PROJ, (struct want){ L, 2 * T * H * I, 0, H * I * w, T * H * a, T * I * a, 0, 0, 0 });
	check(g, AR_OP_MLP_ACT, (struct want){ L, 0, 5 * T * I, 0, 2 * T * I * a, T * I * a, 0, 0, 0 });
	check(g, AR_OP_DOWN_PROJ, (struct want){ L, 2 * T * I * H, 0, I * H * w, T * I * a, T * H * a, 0, 0, 0 });
	check(g, AR_OP_MLP_ADD, (struct want){ L, 0, T * H, 0, 2 * T * H * a, T * H * a, 0, 0, 0 });
	/* logits for the last position of each sequence */
	check(g, AR_OP_FINAL_NORM, (struct want){ 1, 0, 4 * B * H, H * w, B * H * a, B * H * a, 0, 0, 0 });
	check(g, AR_OP_LM_HEAD, (struct want){ 1, 2 * B * H * V, 0, H * V * w, B * H * a, B * V * a, 0, 0, 0 });
}

/* Every op outside attention: the same for naive and flash graphs.  T tokens
 * this phase, B sequences; w, a, kv bytes per element. */
static void check_common(const struct ar_graph *g, const struct dims *d, double B, double T,
			 double w, double a, double kv)
{
	double nq = (double)d->nq, nk = (double)d->nk, dk = (double)d->dk;
	double nv = (double)d->nv, dv = (double)d->dv, b = d->bias;
	double o_in = d->gated ? HD : d->av * dv;

	check_outside_attention(g, B, T, w, a);
	check(g, AR_OP_Q_PROJ, (struct want){ L, 2 * T * H * nq * dk, b * T * nq * dk,
					       (H * nq * dk + b * nq * dk) * w, T * H * a,
					       T * nq * dk * a, 0, 0, 0 });
	/* K and V go to the cache: T·n·d elements of kv bytes, no activation written */
	check(g, AR_OP_K_PROJ, (struct want){ L, 2 * T * H * nk * dk, b * T * nk * dk,
					       (H * nk * dk + b * nk * dk) * w, T * H * a, 0, 0,
					       T * nk * dk * kv, 0 });
	check(g, AR_OP_V_PROJ, (struct want){ L, 2 * T * H * nv * dv, b * T * nv * dv,
					       (H * nv * dv + b * nv * dv) * w, T * H * a, 0, 0,
					       T * nv * dv * kv, 0 });
	check(g, AR_OP_ROPE, (struct want){ L, 0, 3 * T * (nq + nk) * dk, 0, T * (nq + nk) * dk * a,
					     T * (nq + nk) * dk * a, 0, 0, 0 });
	if (d->gated) {
		/* n_q products of d_l × (n_h·d_h / n_q) */
		check(g, AR_OP_V_B_PROJ, (struct want){ L, 2 * T * nq * dv * (HD / nq), 0,
							 nq * dv * (HD / nq) * w, T * nq * dv * a,
							 T * HD * a, 0, 0, 0 });
		/* tile(o) + delta: reads delta and the latent output, writes n_h·d_h */
		check(g, AR_OP_DIRECT_ADD, (struct want){ L, 0, T * HD, 0, (T * HD + T * nq * dv) * a,
							   T * HD * a, 0, 0, 0 });
		check(g, AR_OP_G_PROJ, (struct want){ L, 2 * T * H * HD, b * T * HD, (H * HD + b * HD) * w,
						       T * H * a, T * HD * a, 0, 0, 0 });
		check(g, AR_OP_GATE, (struct want){ L, 0, 5 * T * HD, 0, 2 * T * HD * a, T * HD * a, 0, 0, 0 });
	} else {
		assert_null(find(g, AR_OP_V_B_PROJ));
		assert_null(find(g, AR_OP_G_PROJ));
	}
	check(g, AR_OP_O_PROJ, (struct want){ L, 2 * T * o_in * H, 0, o_in * H * w, T * o_in * a,
					       T * H * a, 0, 0, 0 });
	assert_null(find(g, AR_OP_KV_PROJ));
	assert_null(find(g, AR_OP_K_ROPE_PROJ));
}

/* QKᵀ, softmax and A·V materialised: Sq query positions over Sk keys. */
static void check_naive(const struct ar_graph *g, const struct dims *d, double B, double Sq,
			double Sk, double a, double kv)
{
	double nq = (double)d->nq, nk = (double)d->nk, dk = (double)d->dk;
	double nv = (double)d->nv, dv = (double)d->dv, scores = B * nq * Sq * Sk;

	check(g, AR_OP_QK, (struct want){ L, 2 * B * nq * Sq * Sk * dk, 0, 0, B * Sq * nq * dk * a,
					   scores * a, B * Sk * nk * dk * kv, 0, 0 });
	check(g, AR_OP_SOFTMAX, (struct want){ L, 0, 5 * scores, 0, scores * a, scores * a, 0, 0, 0 });
	check(g, AR_OP_AV, (struct want){ L, 2 * B * d->av * Sq * Sk * dv, 0, 0, scores * a,
					   B * Sq * d->av * dv * a, B * Sk * nv * dv * kv, 0, 0 });
	assert_null(find(g, AR_OP_FLASH));
}

static void check_model_dims(const struct ar_model *m, const struct dims *d)
{
	assert_int_equal(m->attn.n_h, 4);
	assert_int_equal(m->attn.d_h, 16);
	assert_int_equal(m->attn.n_q, d->nq);
	assert_int_equal(m->attn.n_k, d->nk);
	assert_int_equal(m->attn.d_k, d->dk);
	assert_int_equal(m->attn.n_v, d->nv);
	assert_int_equal(m->attn.d_v, d->dv);
	assert_int_equal(m->attn.decoder == AR_DEC_GATED, d->gated);
}

static void test_graph__naive_prefill_every_op(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(archs5) / sizeof(*archs5); i++) {
		const struct dims *d = &archs5[i];
		struct ar_model m;
		struct ar_graph g;
		struct ar_workload wl = workload(3, 40, AR_ATTN_NAIVE, 8, 16, 4, 1);

		load(&m, d->file);
		check_model_dims(&m, d);
		build(&g, &m, &wl, 0, AR_PHASE_PREFILL);
		check_common(&g, d, 3, 3 * 40, 1, 2, 0.5);
		check_naive(&g, d, 3, 40, 40, 2, 0.5);
		assert_int_equal(g.n_ops, d->gated ? 23 : 19);
	}
}

static void test_graph__naive_decode_every_op(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(archs5) / sizeof(*archs5); i++) {
		const struct dims *d = &archs5[i];
		struct ar_model m;
		struct ar_graph g;
		struct ar_workload wl = workload(3, 40, AR_ATTN_NAIVE, 8, 16, 4, 1);

		load(&m, d->file);
		build(&g, &m, &wl, 0, AR_PHASE_DECODE);
		check_common(&g, d, 3, 3, 1, 2, 0.5);
		check_naive(&g, d, 3, 1, 40, 2, 0.5);
	}
}

static void test_graph__flash_graphs_keep_the_other_ops(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(archs5) / sizeof(*archs5); i++) {
		const struct dims *d = &archs5[i];
		struct ar_model m;
		struct ar_graph g;
		struct ar_workload wl = workload(3, 40, AR_ATTN_FLASH, 8, 16, 4, 1);

		load(&m, d->file);
		build(&g, &m, &wl, 4096, AR_PHASE_PREFILL);
		check_common(&g, d, 3, 120, 1, 2, 0.5);
		assert_null(find(&g, AR_OP_QK));
		assert_null(find(&g, AR_OP_SOFTMAX));
		assert_null(find(&g, AR_OP_AV));
		build(&g, &m, &wl, 4096, AR_PHASE_DECODE);
		check_common(&g, d, 3, 3, 1, 2, 0.5);
		assert_int_equal(g.n_ops, d->gated ? 21 : 17);
	}
}

static void test_graph__op_order_gqa_and_gta(void **state)
{
	static const enum ar_op_id gqa[] = {
		AR_OP_EMBED, AR_OP_ATTN_NORM, AR_OP_Q_PROJ, AR_OP_K_PROJ, AR_OP_V_PROJ, AR_OP_ROPE,
		AR_OP_QK, AR_OP_SOFTMAX, AR_OP_AV, AR_OP_O_PROJ, AR_OP_ATTN_ADD, AR_OP_MLP_NORM,
		AR_OP_GATE_PROJ, AR_OP_UP_PROJ, AR_OP_MLP_ACT, AR_OP_DOWN_PROJ, AR_OP_MLP_ADD,
		AR_OP_FINAL_NORM, AR_OP_LM_HEAD,
	};
	static const enum ar_op_id gta[] = {
		AR_OP_EMBED, AR_OP_ATTN_NORM, AR_OP_Q_PROJ, AR_OP_K_PROJ, AR_OP_V_PROJ, AR_OP_ROPE,
		AR_OP_FLASH, AR_OP_V_B_PROJ, AR_OP_DIRECT_ADD, AR_OP_G_PROJ, AR_OP_GATE,
		AR_OP_O_PROJ, AR_OP_ATTN_ADD, AR_OP_MLP_NORM, AR_OP_GATE_PROJ, AR_OP_UP_PROJ,
		AR_OP_MLP_ACT, AR_OP_DOWN_PROJ, AR_OP_MLP_ADD, AR_OP_FINAL_NORM, AR_OP_LM_HEAD,
	};
	struct ar_model m;
	struct ar_graph g;
	struct ar_workload wl = workload(1, 8, AR_ATTN_NAIVE, 16, 16, 16, 1);

	(void)state;
	load(&m, "tiny-gqa.yaml");
	build(&g, &m, &wl, 4096, AR_PHASE_PREFILL);
	check_order(&g, gqa, sizeof(gqa) / sizeof(*gqa));
	load(&m, "tiny-gta.yaml");
	wl.attn = AR_ATTN_FLASH;
	build(&g, &m, &wl, 4096, AR_PHASE_DECODE);
	check_order(&g, gta, sizeof(gta) / sizeof(*gta));
}

static void test_graph__gqa_decode_literal_counts(void **state)
{
	struct ar_model m;
	struct ar_graph g;
	struct ar_workload wl = workload(3, 40, AR_ATTN_NAIVE, 16, 16, 16, 1);

	(void)state;
	load(&m, "tiny-gqa.yaml");
	build(&g, &m, &wl, 0, AR_PHASE_DECODE);
	/* QKᵀ: 2·B·n_q·S·d_k = 2·3·4·40·16; reads Q 3·4·16·2 B and K 3·40·2·16·2 B */
	check(&g, AR_OP_QK, (struct want){ 2, 15360, 0, 0, 384, 960, 7680, 0, 0 });
	check(&g, AR_OP_AV, (struct want){ 2, 15360, 0, 0, 960, 384, 7680, 0, 0 });
	/* k_proj: 2·3·64·32 FLOPs, 64·32·2 B of weights, writes 3·32·2 B to the cache */
	check(&g, AR_OP_K_PROJ, (struct want){ 2, 12288, 0, 4096, 384, 0, 0, 192, 0 });
	check(&g, AR_OP_LM_HEAD, (struct want){ 1, 38400, 0, 12800, 384, 600, 0, 0, 0 });
	/* whole-model FLOPs: per layer q 24576 + k 12288 + v 12288 + rope 3·3·96 = 864
	 * + qk 15360 + softmax 2400 + av 15360 + o 24576 + adds 2·192 + norms 2·768
	 * + MLP 3·49152 + act 1920 = 259008; ×2 layers, + final norm 768 + lm_head 38400 */
	assert_close(ar_graph_flops(&g), 2 * 259008.0 + 768 + 38400, 1e-15, 0);
}

/* ---- KV written per layer and the cache ---- */

static void test_graph__kv_write_is_tokens_times_kv_elems(void **state)
{
	static const struct { const char *file; double elems; } cases[] = {
		{ "tiny-mha.yaml", 2 * 4 * 16 }, { "tiny-gqa.yaml", 2 * 2 * 16 },
		{ "tiny-gva.yaml", 16 + 4 * 16 }, { "tiny-gha.yaml", 16 + 2 * 16 },
		{ "tiny-gta.yaml", 16 + 32 }, { "tiny-mla.yaml", 32 + 8 },
		{ "tiny-gta-tied.yaml", 2 * 16 + 4 }, { "tiny-gla.yaml", 2 * 24 + 8 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		for (int p = 0; p < AR_PHASE_COUNT; p++) {
			for (int impl = 0; impl < AR_ATTN_IMPL_COUNT; impl++) {
				struct ar_model m;
				struct ar_graph g;
				struct ar_workload wl = workload(3, 40, impl, 8, 16, 4, 1);
				double T = p == AR_PHASE_PREFILL ? 120 : 3, written = 0;

				load(&m, cases[i].file);
				assert_close(ar_model_kv_elems(&m), cases[i].elems, 0, 0);
				build(&g, &m, &wl, 4096, p);
				int writers = 0;
				for (int k = 0; k < g.n_ops; k++)
					if (g.ops[k].bytes[AR_B_KV_WRITE] > 0) {
						/* a cache writer runs in every layer */
						assert_close(g.ops[k].layers, L, 0, 0);
						written += g.ops[k].bytes[AR_B_KV_WRITE];
						writers++;
					}
				assert_true(writers >= 1);
				/* per layer: T·kv_elems·kvbytes (4-bit KV) */
				assert_close(written, T * cases[i].elems * 0.5, 1e-15, 0);
				assert_close(g.kv_layer_bytes, 3 * 40 * cases[i].elems * 0.5, 1e-15, 0);
				assert_close(g.kv_cache_bytes, L * 3 * 40 * cases[i].elems * 0.5, 1e-15, 0);
			}
		}
	}
}

/* ---- flash attention ---- */

/* Tile rule of graph.c for on-chip memory M per unit: half for the Q tile and
 * its fp32 accumulator, Br = ⌊(M/2) / (d_k·a + d_v·4)⌋; half for K and V,
 * Bc = min(Sk, ⌊(M/2) / ((d_k + d_v)·kv)⌋); both at least 16.  Below M = 4096,
 * 16-bit activations, 8-bit KV, B = 2, S = 100. */

static struct ar_graph flash_graph(const char *file, enum ar_phase p, int absorb)
{
	struct ar_model m;
	struct ar_graph g;
	struct ar_workload wl = workload(2, 100, AR_ATTN_FLASH, 16, 16, 8, 1);

	load(&m, file);
	if (absorb >= 0)
		m.attn.absorb = absorb;
	build(&g, &m, &wl, 4096, p);
	return g;
}

static void test_graph__flash_decode_reads_kv_once_per_key_head(void **state)
{
	struct ar_graph g;
	double B = 2, S = 100, a = 2, kv = 1;

	(void)state;
	/* MHA: 4 maps over 4 key heads: 2·B·n_q·S·(d_k + d_v) */
	g = flash_graph("tiny-mha.yaml", AR_PHASE_DECODE, -1);
	check(&g, AR_OP_FLASH, (struct want){ L, 2 * B * 4 * S * 32, 5 * B * 4 * S, 0, B * 4 * 16 * a,
					       B * 4 * 16 * a, B * S * 128 * kv, 0, 0 });
	assert_close(find(&g, AR_OP_FLASH)->attn_intensity, 276.0 / 128, 1e-12, 0);
	assert_close(find(&g, AR_OP_FLASH)->attn_per_map, 1, 0, 0);
	assert_close(find(&g, AR_OP_FLASH)->attn_map_flops, 2 * B * 4 * S * 32 + 5 * B * 4 * S, 1e-12, 0);
	/* GQA: each of the 2 key heads is shared by 2 maps; K/V read once */
	g = flash_graph("tiny-gqa.yaml", AR_PHASE_DECODE, -1);
	check(&g, AR_OP_FLASH, (struct want){ L, 2 * B * 4 * S * 32, 5 * B * 4 * S, 0, B * 4 * 16 * a,
					       B * 4 * 16 * a, B * S * 64 * kv, 0, 0 });
	/* the op's FLOPs per K/V element read (the decode rate's intensity):
	 * (2·4·32 + 5·4) per key over 64 elements, half MHA's 128 */
	assert_close(find(&g, AR_OP_FLASH)->attn_intensity, 276.0 / 64, 1e-12, 0);
	/* GVA: 2 maps over 1 key head; each map feeds 2 of the 4 value heads:
	 * QKᵀ 2·B·2·S·16 + A·V 2·B·4·S·16 */
	g = flash_graph("tiny-gva.yaml", AR_PHASE_DECODE, -1);
	check(&g, AR_OP_FLASH, (struct want){ L, 2 * B * 2 * S * 16 + 2 * B * 4 * S * 16, 5 * B * 2 * S,
					       0, B * 2 * 16 * a, B * 4 * 16 * a, B * S * (16 + 64) * kv, 0, 0 });
	/* GHA: 2 maps, 1 key head, 2 value heads, A·V per head (4) */
	g = flash_graph("tiny-gha.yaml", AR_PHASE_DECODE, -1);
	check(&g, AR_OP_FLASH, (struct want){ L, 2 * B * 2 * S * 16 + 2 * B * 4 * S * 16, 5 * B * 2 * S,
					       0, B * 2 * 16 * a, B * 4 * 16 * a, B * S * (16 + 32) * kv, 0, 0 });
	/* 2 outputs per map; with one each it would count QKᵀ + A·V once per
	 * map, 2·B·2·S·(16 + 16), and the softmax */
	assert_close(find(&g, AR_OP_FLASH)->attn_per_map, 2, 0, 0);
	assert_close(find(&g, AR_OP_FLASH)->attn_map_flops, 2 * B * 2 * S * 32 + 5 * B * 2 * S, 1e-12, 0);
	/* GTA: 2 maps over 1 key head and 1 latent value of 32, A·V per map */
	g = flash_graph("tiny-gta.yaml", AR_PHASE_DECODE, -1);
	check(&g, AR_OP_FLASH, (struct want){ L, 2 * B * 2 * S * (16 + 32), 5 * B * 2 * S, 0,
					       B * 2 * 16 * a, B * 2 * 32 * a, B * S * 48 * kv, 0, 0 });
	/* MLA absorbed: 4 maps over one latent key of d_c + d_rope = 40 whose first
	 * 32 are also the value; the latent is read once */
	g = flash_graph("tiny-mla.yaml", AR_PHASE_DECODE, 1);
	check(&g, AR_OP_FLASH, (struct want){ L, 2 * B * 4 * S * (40 + 32), 5 * B * 4 * S, 0,
					       B * 4 * 40 * a, B * 4 * 32 * a, B * S * 40 * kv, 0, 0 });
	/* its intensity counts the latent in both passes: the score pass walks
	 * the 40-wide key, the value pass the 32-wide value: (2·4·72 + 5·4) per
	 * key over 72 elements (the bytes read it once) */
	assert_close(find(&g, AR_OP_FLASH)->attn_intensity, 596.0 / 72, 1e-12, 0);
	/* Br = max(16, ⌊2048 / (40·2 + 32·4)⌋ = 9), Bc = ⌊2048 / 40⌋ = 51 */
	assert_int_equal(g.tile_rows, 16);
	assert_int_equal(g.tile_cols, 51);
	/* MLA decompressed: 4 heads with keys of 16 + 8 (the 8 RoPE dims shared by
	 * all heads) and values of 16, read as activations (kv_b_proj wrote them);
	 * each head loads the shared RoPE key again: 4·(24 + 16) − (4·16 + 8 + 4·16)
	 * = 24 elements per key re-read */
	g = flash_graph("tiny-mla.yaml", AR_PHASE_DECODE, 0);
	check(&g, AR_OP_FLASH, (struct want){ L, 2 * B * 4 * S * (24 + 16), 5 * B * 4 * S, 0,
					       B * 4 * 24 * a + B * S * 136 * a, B * 4 * 16 * a, 0, 0,
					       B * S * 24 * a });
}

static void test_graph__flash_prefill_skips_masked_tiles(void **state)
{
	struct ar_graph g;
	double B = 2, S = 100, a = 2, kv = 1;

	(void)state;
	/* MHA: Br = ⌊2048/(16·2 + 16·4)⌋ = 21, Bc = ⌊2048/(32·1)⌋ = 64; one map per
	 * key head, so row blocks of 21 positions end at 21, 42, 63, 84, 100 and
	 * load 64, 64, 64, 100 (128 capped), 100 keys: 392 keys per key head;
	 * positions × keys = 21·(64+64+64+100) + 16·100 = 7732 */
	g = flash_graph("tiny-mha.yaml", AR_PHASE_PREFILL, -1);
	assert_int_equal(g.tile_rows, 21);
	assert_int_equal(g.tile_cols, 64);
	check(&g, AR_OP_FLASH, (struct want){ L, 2 * B * 4 * 7732 * 32, 5 * B * 4 * 7732, 0,
					       B * S * 4 * 16 * a, B * S * 4 * 16 * a, B * S * 128 * kv, 0,
					       B * (4 * 392 * 32 - S * 128) * kv });
	/* GQA: 2 maps share a key head, so a block of 21 rows holds 10 positions of
	 * both maps: blocks end at 10, 20, ..., 100; those ending at <= 64 load 64
	 * keys (6 blocks), the rest 100 (4 blocks): 784 keys, 7840 positions × keys */
	g = flash_graph("tiny-gqa.yaml", AR_PHASE_PREFILL, -1);
	check(&g, AR_OP_FLASH, (struct want){ L, 2 * B * 4 * 7840 * 32, 5 * B * 4 * 7840, 0,
					       B * S * 4 * 16 * a, B * S * 4 * 16 * a, B * S * 64 * kv, 0,
					       B * (2 * 784 * 32 - S * 64) * kv });
	/* GVA: each key tile comes with the 4 value heads of its group and each row
	 * (position, map) accumulates 2 value heads: Br = max(16, ⌊2048/(16·2 +
	 * 2·16·4)⌋ = 12) = 16 (8 positions × 2 maps), Bc = ⌊2048/((16 + 4·16)·1)⌋ =
	 * 25.  Blocks end at 8, 16, ..., 96, 100 and load 25 (3 blocks), 50 (3),
	 * 75 (3), 100 (4): 850 keys; positions × keys = 8·(75+150+225+300) + 4·100 */
	g = flash_graph("tiny-gva.yaml", AR_PHASE_PREFILL, -1);
	assert_int_equal(g.tile_rows, 16);
	assert_int_equal(g.tile_cols, 25);
	check(&g, AR_OP_FLASH, (struct want){ L, 2 * B * 2 * 6400 * 16 + 2 * B * 4 * 6400 * 16,
					       5 * B * 2 * 6400, 0, B * S * 2 * 16 * a, B * S * 4 * 16 * a,
					       B * S * 80 * kv, 0, B * (850 * 80 - S * 80) * kv });
	/* GHA: 2 value heads per key head, 2 value products per row: Br = 16 (8
	 * positions), Bc = ⌊2048/((16 + 2·16)·1)⌋ = 42: the blocks of GTA below */
	g = flash_graph("tiny-gha.yaml", AR_PHASE_PREFILL, -1);
	assert_int_equal(g.tile_rows, 16);
	assert_int_equal(g.tile_cols, 42);
	check(&g, AR_OP_FLASH, (struct want){ L, 2 * B * 2 * 7040 * 16 + 2 * B * 4 * 7040 * 16,
					       5 * B * 2 * 7040, 0, B * S * 2 * 16 * a, B * S * 4 * 16 * a,
					       B * S * 48 * kv, 0, B * (930 * 48 - S * 48) * kv });
	/* GTA: Br = max(16, ⌊2048/(16·2 + 32·4)⌋ = 12) = 16 rows: 8 positions × 2
	 * maps; Bc = ⌊2048/(48·1)⌋ = 42.  Blocks end at 8, 16, ..., 96, 100: 5 load
	 * 42 keys, 5 load 84, 3 load 100 (126 capped): 930 keys; positions × keys
	 * = 8·(5·42 + 5·84 + 2·100) + 4·100 = 7040 */
	g = flash_graph("tiny-gta.yaml", AR_PHASE_PREFILL, -1);
	assert_int_equal(g.tile_rows, 16);
	assert_int_equal(g.tile_cols, 42);
	check(&g, AR_OP_FLASH, (struct want){ L, 2 * B * 2 * 7040 * 48, 5 * B * 2 * 7040, 0,
					       B * S * 2 * 16 * a, B * S * 2 * 32 * a, B * S * 48 * kv, 0,
					       B * (930 * 48 - S * 48) * kv });
	/* MLA prefill (decompressed, K/V are activations): 4 heads with keys of
	 * 16 + 8 (the 8 RoPE dims shared), values of 16.  Br = ⌊2048/(24·2 + 16·4)⌋
	 * = 18, Bc = ⌊2048/(40·2)⌋ = 25; blocks end at 18, 36, 54, 72, 90, 100 and
	 * load 25, 50, 75, 75, 100, 100 keys (425); positions × keys = 18·325 + 10·100 */
	g = flash_graph("tiny-mla.yaml", AR_PHASE_PREFILL, -1);
	check(&g, AR_OP_FLASH, (struct want){ L, 2 * B * 4 * 6850 * (24 + 16), 5 * B * 4 * 6850, 0,
					       B * S * 4 * 24 * a + B * S * (4 * 16 + 8 + 4 * 16) * a,
					       B * S * 4 * 16 * a, 0, 0,
					       B * (4 * 425 * 40 - S * (4 * 16 + 8 + 4 * 16)) * a });
}

/* ---- MLA ---- */

static void test_graph__mla_projections_and_absorbed_decode(void **state)
{
	struct ar_model m;
	struct ar_graph g;
	struct ar_workload wl = workload(3, 40, AR_ATTN_NAIVE, 8, 16, 4, 1);
	double B = 3, S = 40, T = 3, w = 1, a = 2, kv = 0.5;

	(void)state;
	load(&m, "tiny-mla.yaml");
	assert_true(m.attn.latent);
	assert_true(m.attn.absorb);
	build(&g, &m, &wl, 0, AR_PHASE_DECODE);
	/* q: H → n_h·(d_nope + d_rope) = 4·24; kv_a: H → d_c + d_rope = 40 to the cache */
	check(&g, AR_OP_Q_PROJ, (struct want){ L, 2 * T * H * 96, 0, H * 96 * w, T * H * a, T * 96 * a, 0, 0, 0 });
	check(&g, AR_OP_KV_A_PROJ, (struct want){ L, 2 * T * H * 40, 0, H * 40 * w, T * H * a, 0, 0,
						   T * 40 * kv, 0 });
	check(&g, AR_OP_ROPE, (struct want){ L, 0, 3 * T * (4 * 8 + 8), 0, T * 40 * a, T * 40 * a, 0, 0, 0 });
	/* q_nope·W_UK: 4 products of d_nope 16 → d_c 32 */
	check(&g, AR_OP_Q_ABSORB, (struct want){ L, 2 * T * 16 * 32 * 4, 0, 4 * 16 * 32 * w,
						  T * 4 * 16 * a, T * 4 * 32 * a, 0, 0, 0 });
	/* scores over the latent key (40) for 4 maps; values are the latent (32) */
	check(&g, AR_OP_QK, (struct want){ L, 2 * B * 4 * S * 40, 0, 0, B * 4 * 40 * a, B * 4 * S * a,
					   B * S * 40 * kv, 0, 0 });
	check(&g, AR_OP_AV, (struct want){ L, 2 * B * 4 * S * 32, 0, 0, B * 4 * S * a, B * 4 * 32 * a,
					   B * S * 32 * kv, 0, 0 });
	check(&g, AR_OP_OUT_ABSORB, (struct want){ L, 2 * T * 32 * 16 * 4, 0, 4 * 32 * 16 * w,
						    T * 4 * 32 * a, T * 4 * 16 * a, 0, 0, 0 });
	check(&g, AR_OP_O_PROJ, (struct want){ L, 2 * T * 64 * H, 0, 64 * H * w, T * 64 * a, T * H * a, 0, 0, 0 });
	assert_null(find(&g, AR_OP_KV_B_PROJ));
}

static void test_graph__mla_decompressed_decode_and_prefill(void **state)
{
	struct ar_model m;
	struct ar_graph g;
	struct ar_workload wl = workload(3, 40, AR_ATTN_NAIVE, 8, 16, 4, 1);
	double B = 3, S = 40, w = 1, a = 2, kv = 0.5;
	double kelems = 4 * 16 + 8; /* per-head no-RoPE keys + the shared RoPE key */

	(void)state;
	load(&m, "tiny-mla.yaml");
	m.attn.absorb = 0;
	build(&g, &m, &wl, 0, AR_PHASE_DECODE);
	/* every step decompresses the whole cache: B·S rows of d_c → n_h·(d_nope + d_v) */
	check(&g, AR_OP_KV_B_PROJ, (struct want){ L, 2 * B * S * 32 * 128, 0, 32 * 128 * w, 0,
						   B * S * 128 * a, B * S * 32 * kv, 0, 0 });
	check(&g, AR_OP_QK, (struct want){ L, 2 * B * 4 * S * 24, 0, 0,
					   B * 4 * 24 * a + B * S * kelems * a, B * 4 * S * a, 0, 0, 0 });
	check(&g, AR_OP_AV, (struct want){ L, 2 * B * 4 * S * 16, 0, 0,
					   B * 4 * S * a + B * S * 4 * 16 * a, B * 4 * 16 * a, 0, 0, 0 });
	assert_null(find(&g, AR_OP_Q_ABSORB));
	assert_null(find(&g, AR_OP_OUT_ABSORB));

	/* prefill decompresses only the new tokens, absorbed or not */
	m.attn.absorb = 1;
	build(&g, &m, &wl, 0, AR_PHASE_PREFILL);
	check(&g, AR_OP_KV_B_PROJ, (struct want){ L, 2 * B * S * 32 * 128, 0, 32 * 128 * w,
						   B * S * 32 * a, B * S * 128 * a, 0, 0, 0 });
	check(&g, AR_OP_QK, (struct want){ L, 2 * B * 4 * S * S * 24, 0, 0,
					   B * S * 4 * 24 * a + B * S * kelems * a, B * 4 * S * S * a,
					   0, 0, 0 });
	check(&g, AR_OP_SOFTMAX, (struct want){ L, 0, 5 * B * 4 * S * S, 0, B * 4 * S * S * a,
						 B * 4 * S * S * a, 0, 0, 0 });
	check(&g, AR_OP_AV, (struct want){ L, 2 * B * 4 * S * S * 16, 0, 0,
					   B * 4 * S * S * a + B * S * 4 * 16 * a, B * S * 4 * 16 * a,
					   0, 0, 0 });
}

/* ---- grouped-tied and grouped latent attention (arXiv 2505.21487) ---- */

/* tiny-gta-tied: 4 query heads over n_k 2 tied states of d_v 16; each key is
 * the state's first d_k − d_rope = 12 elements and the shared RoPE key of 4. */
static void check_tied_projections(const struct ar_graph *g, double B, double T, double w,
				   double a, double kv)
{
	check_outside_attention(g, B, T, w, a);
	check(g, AR_OP_Q_PROJ, (struct want){ L, 2 * T * H * 64, 0, H * 64 * w, T * H * a, T * 64 * a, 0, 0, 0 });
	/* the tied states (2·16) and the RoPE key (4) go to the cache */
	check(g, AR_OP_KV_PROJ, (struct want){ L, 2 * T * H * 32, 0, H * 32 * w, T * H * a, 0, 0,
						T * 32 * kv, 0 });
	check(g, AR_OP_K_ROPE_PROJ, (struct want){ L, 2 * T * H * 4, 0, H * 4 * w, T * H * a, 0, 0,
						    T * 4 * kv, 0 });
	/* only the last 4 of each of the 4 queries and the RoPE key rotate */
	check(g, AR_OP_ROPE, (struct want){ L, 0, 3 * T * (4 * 4 + 4), 0, T * 20 * a, T * 20 * a, 0, 0, 0 });
	check(g, AR_OP_O_PROJ, (struct want){ L, 2 * T * 64 * H, 0, 64 * H * w, T * 64 * a, T * H * a, 0, 0, 0 });
	assert_null(find(g, AR_OP_K_PROJ));
	assert_null(find(g, AR_OP_V_PROJ));
}

static void test_graph__tied_naive_every_op(void **state)
{
	struct ar_model m;
	struct ar_graph g;
	struct ar_workload wl = workload(3, 40, AR_ATTN_NAIVE, 8, 16, 4, 1);
	double B = 3, S = 40, w = 1, a = 2, kv = 0.5;

	(void)state;
	load(&m, "tiny-gta-tied.yaml");
	assert_true(m.attn.tied);
	for (int p = 0; p < AR_PHASE_COUNT; p++) {
		double Sq = p == AR_PHASE_PREFILL ? S : 1, T = B * Sq, scores = B * 4 * Sq * S;
		build(&g, &m, &wl, 0, (enum ar_phase)p);
		check_tied_projections(&g, B, T, w, a, kv);
		/* QKᵀ as GQA's; reads the keys' own parts 2·12 and the RoPE key 4 */
		check(&g, AR_OP_QK, (struct want){ L, 2 * scores * 16, 0, 0, B * Sq * 4 * 16 * a,
						   scores * a, B * S * (2 * 12 + 4) * kv, 0, 0 });
		check(&g, AR_OP_SOFTMAX, (struct want){ L, 0, 5 * scores, 0, scores * a, scores * a, 0, 0, 0 });
		/* A·V per head over the whole states (2·16) */
		check(&g, AR_OP_AV, (struct want){ L, 2 * scores * 16, 0, 0, scores * a,
						   B * Sq * 4 * 16 * a, B * S * 2 * 16 * kv, 0, 0 });
		assert_int_equal(g.n_ops, 19);
	}
}

static void test_graph__tied_flash_reads_the_states_once(void **state)
{
	struct ar_model m;
	struct ar_graph g;
	struct ar_workload wl = workload(2, 100, AR_ATTN_FLASH, 16, 16, 8, 1);
	double B = 2, S = 100, a = 2, kv = 1;

	(void)state;
	load(&m, "tiny-gta-tied.yaml");
	/* decode: a tile holds max(12, 16) + 4 = 20 elements per key: Bc =
	 * min(100, ⌊2048/20⌋); Br = ⌊2048/(16·2 + 16·4)⌋ = 21.  GQA's FLOPs; the
	 * cache (2·16 + 4 per key) is read once, the second key head re-reads
	 * the shared RoPE key (4) */
	build(&g, &m, &wl, 4096, AR_PHASE_DECODE);
	check_tied_projections(&g, B, B, 2, a, kv);
	check(&g, AR_OP_FLASH, (struct want){ L, 2 * B * 4 * S * 32, 5 * B * 4 * S, 0, B * 4 * 16 * a,
					       B * 4 * 16 * a, B * S * 36 * kv, 0, B * S * 4 * kv });
	assert_int_equal(g.tile_rows, 21);
	assert_int_equal(g.tile_cols, 100);
	assert_int_equal(g.n_ops, 17);
	/* prefill at 2048 B on chip: Br = max(16, ⌊1024/96⌋) = 16 rows, 8 positions
	 * of the 2 maps sharing a key head; Bc = ⌊1024/20⌋ = 51.  Blocks end at 8,
	 * 16, ..., 96, 100: 6 load 51 keys, 7 load 100: 1006 keys; positions ×
	 * keys = 8·(6·51 + 6·100) + 4·100 = 7648 */
	build(&g, &m, &wl, 2048, AR_PHASE_PREFILL);
	check_tied_projections(&g, B, B * S, 2, a, kv);
	assert_int_equal(g.tile_rows, 16);
	assert_int_equal(g.tile_cols, 51);
	check(&g, AR_OP_FLASH, (struct want){ L, 2 * B * 4 * 7648 * 32, 5 * B * 4 * 7648, 0,
					       B * S * 4 * 16 * a, B * S * 4 * 16 * a, B * S * 36 * kv, 0,
					       B * (2 * 1006 * 20 - S * 36) * kv });
}

/* tiny-gla: 2 latent heads of d_c 24, each serving 2 of the 4 heads; RoPE key
 * 8; q heads of d_nope 8 + d_rope 8; d_v 16. */
static void check_gla_projections(const struct ar_graph *g, double B, double T, double w,
				  double a, double kv)
{
	check_outside_attention(g, B, T, w, a);
	check(g, AR_OP_Q_PROJ, (struct want){ L, 2 * T * H * 64, 0, H * 64 * w, T * H * a, T * 64 * a, 0, 0, 0 });
	/* both latents (2·24) and the RoPE key (8) go to the cache */
	check(g, AR_OP_KV_A_PROJ, (struct want){ L, 2 * T * H * 56, 0, H * 56 * w, T * H * a, 0, 0,
						  T * 56 * kv, 0 });
	check(g, AR_OP_ROPE, (struct want){ L, 0, 3 * T * (4 * 8 + 8), 0, T * 40 * a, T * 40 * a, 0, 0, 0 });
	check(g, AR_OP_O_PROJ, (struct want){ L, 2 * T * 64 * H, 0, 64 * H * w, T * 64 * a, T * H * a, 0, 0, 0 });
}

static void test_graph__gla_absorbed_decode(void **state)
{
	struct ar_model m;
	struct ar_graph g;
	struct ar_workload wl = workload(3, 40, AR_ATTN_NAIVE, 8, 16, 4, 1);
	double B = 3, S = 40, T = 3, w = 1, a = 2, kv = 0.5;

	(void)state;
	load(&m, "tiny-gla.yaml");
	assert_true(m.attn.latent);
	assert_true(m.attn.absorb);
	assert_int_equal(m.attn.n_k, 2);
	build(&g, &m, &wl, 0, AR_PHASE_DECODE);
	check_gla_projections(&g, B, T, w, a, kv);
	/* q_nope·W_UK: 4 products of d_nope 8 → d_c 24 */
	check(&g, AR_OP_Q_ABSORB, (struct want){ L, 2 * T * 8 * 24 * 4, 0, 4 * 8 * 24 * w,
						  T * 4 * 8 * a, T * 4 * 24 * a, 0, 0, 0 });
	/* 4 maps over 2 latent keys of 24 + 8 (the 8 shared): the scores read
	 * 2·24 + 8; A·V per head over its group's latent (24) */
	check(&g, AR_OP_QK, (struct want){ L, 2 * B * 4 * S * 32, 0, 0, B * 4 * 32 * a, B * 4 * S * a,
					   B * S * 56 * kv, 0, 0 });
	check(&g, AR_OP_SOFTMAX, (struct want){ L, 0, 5 * B * 4 * S, 0, B * 4 * S * a, B * 4 * S * a, 0, 0, 0 });
	check(&g, AR_OP_AV, (struct want){ L, 2 * B * 4 * S * 24, 0, 0, B * 4 * S * a, B * 4 * 24 * a,
					   B * S * 48 * kv, 0, 0 });
	check(&g, AR_OP_OUT_ABSORB, (struct want){ L, 2 * T * 24 * 16 * 4, 0, 4 * 24 * 16 * w,
						    T * 4 * 24 * a, T * 4 * 16 * a, 0, 0, 0 });
	assert_null(find(&g, AR_OP_KV_B_PROJ));
	assert_int_equal(g.n_ops, 20);

	/* flash (B 2, S 100, 8-bit KV, 4096 B on chip): Br = max(16, ⌊2048/(32·2 +
	 * 24·4)⌋), Bc = ⌊2048/(24 + 8)⌋ = 64; the cache (56 per key) is read once,
	 * the second latent head's tiles re-read the RoPE key (8) */
	wl = workload(2, 100, AR_ATTN_FLASH, 16, 16, 8, 1);
	B = 2, S = 100, kv = 1;
	build(&g, &m, &wl, 4096, AR_PHASE_DECODE);
	check_gla_projections(&g, B, B, 2, a, kv);
	check(&g, AR_OP_FLASH, (struct want){ L, 2 * B * 4 * S * (32 + 24), 5 * B * 4 * S, 0,
					       B * 4 * 32 * a, B * 4 * 24 * a, B * S * 56 * kv, 0,
					       B * S * 8 * kv });
	assert_int_equal(g.tile_rows, 16);
	assert_int_equal(g.tile_cols, 64);
}

static void test_graph__gla_decompresses_per_latent_head(void **state)
{
	struct ar_model m;
	struct ar_graph g;
	struct ar_workload wl = workload(3, 40, AR_ATTN_NAIVE, 8, 16, 4, 1);
	double B = 3, S = 40, T = 120, w = 1, a = 2, kv = 0.5;
	double kelems = 4 * 8 + 8; /* per-head no-RoPE keys + the shared RoPE key */

	(void)state;
	load(&m, "tiny-gla.yaml");
	/* prefill: 2 products of d_c 24 → 2 heads·(d_nope 8 + d_v 16) */
	build(&g, &m, &wl, 0, AR_PHASE_PREFILL);
	check_gla_projections(&g, B, T, w, a, kv);
	check(&g, AR_OP_KV_B_PROJ, (struct want){ L, 2 * T * 24 * 48 * 2, 0, 2 * 24 * 48 * w,
						   T * 2 * 24 * a, T * 2 * 48 * a, 0, 0, 0 });
	check(&g, AR_OP_QK, (struct want){ L, 2 * B * 4 * S * S * 16, 0, 0,
					   B * S * 4 * 16 * a + B * S * kelems * a, B * 4 * S * S * a,
					   0, 0, 0 });
	check(&g, AR_OP_AV, (struct want){ L, 2 * B * 4 * S * S * 16, 0, 0,
					   B * 4 * S * S * a + B * S * 4 * 16 * a, B * S * 4 * 16 * a,
					   0, 0, 0 });
	assert_null(find(&g, AR_OP_Q_ABSORB));
	/* decode without absorption decompresses the cached latents (2·24 per key) */
	m.attn.absorb = 0;
	build(&g, &m, &wl, 0, AR_PHASE_DECODE);
	check(&g, AR_OP_KV_B_PROJ, (struct want){ L, 2 * B * S * 24 * 48 * 2, 0, 2 * 24 * 48 * w, 0,
						   B * S * 2 * 48 * a, B * S * 48 * kv, 0, 0 });
	check(&g, AR_OP_QK, (struct want){ L, 2 * B * 4 * S * 16, 0, 0,
					   B * 4 * 16 * a + B * S * kelems * a, B * 4 * S * a, 0, 0, 0 });
	/* flash prefill (B 2, S 100, 16-bit activations, 4096 B on chip): one map
	 * per head, Br = ⌊2048/(16·2 + 16·4)⌋ = 21, Bc = ⌊2048/((16 + 16)·2)⌋ = 32;
	 * blocks end at 21, 42, 63, 84, 100 and load 32, 64, 64, 96, 100 keys
	 * (356); positions × keys = 21·256 + 16·100 = 6976 */
	m.attn.absorb = 1;
	wl = workload(2, 100, AR_ATTN_FLASH, 16, 16, 8, 1);
	B = 2, S = 100;
	build(&g, &m, &wl, 4096, AR_PHASE_PREFILL);
	check(&g, AR_OP_FLASH, (struct want){ L, 2 * B * 4 * 6976 * 32, 5 * B * 4 * 6976, 0,
					       B * S * 4 * 16 * a + B * S * (kelems + 4 * 16) * a,
					       B * S * 4 * 16 * a, 0, 0,
					       B * (4 * 356 * 32 - S * (kelems + 4 * 16)) * a });
}

static void test_graph__tied_and_gla_params_and_shards(void **state)
{
	struct ar_model m;
	struct ar_graph g;
	struct ar_workload wl = workload(3, 40, AR_ATTN_NAIVE, 16, 16, 16, 2);
	double T = 3, a = 2;

	(void)state;
	/* per layer: q 64·64, kv 64·32, k_rope 64·4, o 64·64, MLP 3·64·128, norms
	 * 2·64; untied embeddings 2·100·64, final norm 64 */
	load(&m, "tiny-gta-tied.yaml");
	assert_close(ar_model_params(&m), 2 * (4096 + 2048 + 256 + 4096 + 24576 + 128) + 12800 + 64, 0, 0);
	/* one device of 2: half the heads and states; the RoPE key on both */
	assert_close(ar_model_params_sharded(&m, 2),
		     2 * (2048 + 1024 + 256 + 2048 + 12288 + 128) + 6400 + 64, 0, 0);
	build(&g, &m, &wl, 0, AR_PHASE_DECODE);
	check(&g, AR_OP_KV_PROJ, (struct want){ L, 2 * T * H * 16, 0, H * 16 * a, T * H * a, 0, 0, T * 16 * a, 0 });
	check(&g, AR_OP_K_ROPE_PROJ, (struct want){ L, 2 * T * H * 4, 0, H * 4 * a, T * H * a, 0, 0, T * 4 * a, 0 });
	assert_close(g.kv_cache_bytes, L * 3 * 40 * (16 + 4) * a, 1e-15, 0);

	/* q 64·4·16, kv_a 64·56 + the latents' norms 48, kv_b 2·24·(2·24), o 64·64 */
	load(&m, "tiny-gla.yaml");
	assert_close(ar_model_params(&m), 2 * (4096 + 3584 + 48 + 2304 + 4096 + 24576 + 128) + 12800 + 64, 0, 0);
	/* 2 devices: one latent head each; 4 devices: a latent head per device,
	 * duplicated, serving its one query head */
	assert_close(ar_model_params_sharded(&m, 2),
		     2 * (2048 + 2048 + 24 + 1152 + 2048 + 12288 + 128) + 6400 + 64, 0, 0);
	assert_close(ar_model_params_sharded(&m, 4),
		     2 * (1024 + 2048 + 24 + 576 + 1024 + 6144 + 128) + 3200 + 64, 0, 0);
	build(&g, &m, &wl, 0, AR_PHASE_DECODE);
	check(&g, AR_OP_KV_A_PROJ, (struct want){ L, 2 * T * H * 32, 0, H * 32 * a, T * H * a, 0, 0, T * 32 * a, 0 });
	check(&g, AR_OP_QK, (struct want){ L, 2 * 3 * 2 * 40 * 32, 0, 0, 3 * 2 * 32 * a, 3 * 2 * 40 * a,
					   3 * 40 * 32 * a, 0, 0 });
	assert_close(g.kv_cache_bytes, L * 3 * 40 * (24 + 8) * a, 1e-15, 0);
	wl.tp = 4;
	build(&g, &m, &wl, 0, AR_PHASE_DECODE);
	assert_close(g.kv_cache_bytes, L * 3 * 40 * (24 + 8) * a, 1e-15, 0);
}

/* What a pass reads of its weights: an untied embedding table only at the
 * rows it gathers; a tied one is read whole by lm_head */
static void test_graph__weights_a_pass_reads(void **state)
{
	struct ar_model m;
	struct ar_graph g;
	struct ar_workload wl = workload(3, 40, AR_ATTN_FLASH, 16, 16, 16, 1);
	double table = 100 * 64 * 2;

	(void)state;
	load(&m, "tiny-gta-tied.yaml"); /* untied */
	build(&g, &m, &wl, 0, AR_PHASE_DECODE);
	assert_close(g.weight_bytes, ar_model_params(&m) * 2, 0, 0);
	/* decode gathers 3 rows of 64 */
	assert_close(g.weight_read_bytes, g.weight_bytes - table + 3 * 64 * 2, 0, 0);
	assert_close(ar_graph_resident(&g), g.weight_read_bytes + g.kv_cache_bytes, 0, 0);
	/* prefill gathers 120 rows of a table of 100: all of it */
	build(&g, &m, &wl, 0, AR_PHASE_PREFILL);
	assert_close(g.weight_read_bytes, g.weight_bytes, 0, 0);
	wl.batch = wl.seq = 1;
	build(&g, &m, &wl, 0, AR_PHASE_PREFILL);
	assert_close(g.weight_read_bytes, g.weight_bytes - table + 64 * 2, 0, 0);
	load(&m, "tiny-gqa.yaml"); /* tied */
	build(&g, &m, &wl, 0, AR_PHASE_DECODE);
	assert_close(g.weight_read_bytes, g.weight_bytes, 0, 0);
}

static void test_graph__op_order_tied_and_gla(void **state)
{
	static const enum ar_op_id tied[] = {
		AR_OP_EMBED, AR_OP_ATTN_NORM, AR_OP_Q_PROJ, AR_OP_KV_PROJ, AR_OP_K_ROPE_PROJ,
		AR_OP_ROPE, AR_OP_FLASH, AR_OP_O_PROJ, AR_OP_ATTN_ADD, AR_OP_MLP_NORM,
		AR_OP_GATE_PROJ, AR_OP_UP_PROJ, AR_OP_MLP_ACT, AR_OP_DOWN_PROJ, AR_OP_MLP_ADD,
		AR_OP_FINAL_NORM, AR_OP_LM_HEAD,
	};
	static const enum ar_op_id gla[] = {
		AR_OP_EMBED, AR_OP_ATTN_NORM, AR_OP_Q_PROJ, AR_OP_KV_A_PROJ, AR_OP_ROPE,
		AR_OP_Q_ABSORB, AR_OP_FLASH, AR_OP_OUT_ABSORB, AR_OP_O_PROJ, AR_OP_ATTN_ADD,
		AR_OP_MLP_NORM, AR_OP_GATE_PROJ, AR_OP_UP_PROJ, AR_OP_MLP_ACT, AR_OP_DOWN_PROJ,
		AR_OP_MLP_ADD, AR_OP_FINAL_NORM, AR_OP_LM_HEAD,
	};
	struct ar_model m;
	struct ar_graph g;
	struct ar_workload wl = workload(1, 8, AR_ATTN_FLASH, 16, 16, 16, 1);

	(void)state;
	load(&m, "tiny-gta-tied.yaml");
	build(&g, &m, &wl, 4096, AR_PHASE_DECODE);
	check_order(&g, tied, sizeof(tied) / sizeof(*tied));
	assert_string_equal(ar_op_names[AR_OP_KV_PROJ], "kv_proj");
	assert_string_equal(ar_op_names[AR_OP_K_ROPE_PROJ], "k_rope_proj");
	assert_int_equal(ar_op_kind(AR_OP_K_ROPE_PROJ), AR_KIND_MATMUL);
	load(&m, "tiny-gla.yaml");
	build(&g, &m, &wl, 4096, AR_PHASE_DECODE);
	check_order(&g, gla, sizeof(gla) / sizeof(*gla));
}

/* ---- mixture of experts ---- */

static void test_graph__moe_routes_tokens_and_reads_touched_experts(void **state)
{
	struct ar_model m;
	struct ar_graph g;
	struct ar_workload wl = workload(3, 40, AR_ATTN_NAIVE, 16, 16, 16, 1);
	double T = 3, a = 2, w = 2;
	/* 3 tokens, 2 of 4 routed experts each: 4·(1 − (1 − 2/4)³) = 3.5 distinct
	 * routed experts expected, plus the shared one */
	double touched = 4.5;

	(void)state;
	load(&m, "tiny-moe.yaml");
	build(&g, &m, &wl, 0, AR_PHASE_DECODE);
	/* layer 0 is dense, layer 1 routed */
	check(&g, AR_OP_GATE_PROJ, (struct want){ 1, 2 * T * H * I, 0, H * I * w, T * H * a, T * I * a, 0, 0, 0 });
	check(&g, AR_OP_ROUTER, (struct want){ 1, 2 * T * H * 4, 0, H * 4 * w, T * H * a, T * 4 * a, 0, 0, 0 });
	/* each token runs 2 routed + 1 shared expert of width 32: 9 rows */
	check(&g, AR_OP_EXP_GATE_PROJ, (struct want){ 1, 2 * 9 * H * 32, 0, touched * H * 32 * w,
						       9 * H * a, 9 * 32 * a, 0, 0, 0 });
	check(&g, AR_OP_EXP_UP_PROJ, (struct want){ 1, 2 * 9 * H * 32, 0, touched * H * 32 * w,
						     9 * H * a, 9 * 32 * a, 0, 0, 0 });
	check(&g, AR_OP_EXP_ACT, (struct want){ 1, 0, 5 * 9 * 32, 0, 2 * 9 * 32 * a, 9 * 32 * a, 0, 0, 0 });
	check(&g, AR_OP_EXP_DOWN_PROJ, (struct want){ 1, 2 * 9 * 32 * H, 0, touched * 32 * H * w,
						       9 * 32 * a, 9 * H * a, 0, 0, 0 });
	/* 120 prefill tokens touch every expert: 4 routed + 1 shared */
	build(&g, &m, &wl, 0, AR_PHASE_PREFILL);
	check(&g, AR_OP_EXP_DOWN_PROJ, (struct want){ 1, 2 * 360 * 32 * H, 0, 5 * 32 * H * w,
						       360 * 32 * a, 360 * H * a, 0, 0, 0 });
}

/* ---- tensor parallel ---- */

static void test_graph__tensor_parallel_shards_and_allreduce(void **state)
{
	struct ar_model m;
	struct ar_graph g;
	struct ar_workload wl = workload(3, 40, AR_ATTN_NAIVE, 16, 16, 16, 2);
	double B = 3, S = 40, T = 120, a = 2;
	const struct ar_op *op;

	(void)state;
	load(&m, "tiny-gqa.yaml");
	build(&g, &m, &wl, 0, AR_PHASE_PREFILL);
	/* per device: 2 of 4 query heads, 1 of 2 KV heads, MLP 64 of 128, vocab 50 */
	check(&g, AR_OP_Q_PROJ, (struct want){ L, 2 * T * H * 32, 0, H * 32 * a, T * H * a, T * 32 * a, 0, 0, 0 });
	check(&g, AR_OP_K_PROJ, (struct want){ L, 2 * T * H * 16, 0, H * 16 * a, T * H * a, 0, 0, T * 16 * a, 0 });
	check(&g, AR_OP_QK, (struct want){ L, 2 * B * 2 * S * S * 16, 0, 0, B * S * 2 * 16 * a,
					   B * 2 * S * S * a, B * S * 16 * a, 0, 0 });
	check(&g, AR_OP_O_PROJ, (struct want){ L, 2 * T * 32 * H, 0, 32 * H * a, T * 32 * a, T * H * a, 0, 0, 0 });
	check(&g, AR_OP_GATE_PROJ, (struct want){ L, 2 * T * H * 64, 0, H * 64 * a, T * H * a, T * 64 * a, 0, 0, 0 });
	check(&g, AR_OP_DOWN_PROJ, (struct want){ L, 2 * T * 64 * H, 0, 64 * H * a, T * 64 * a, T * H * a, 0, 0, 0 });
	check(&g, AR_OP_LM_HEAD, (struct want){ 1, 2 * B * H * 50, 0, H * 50 * a, B * H * a, B * 50 * a, 0, 0, 0 });
	/* ring all-reduce after attention and after the MLP: 2(N−1)/N·T·H·a = T·H·a at N = 2 */
	op = find(&g, AR_OP_ATTN_ALLREDUCE);
	assert_non_null(op);
	assert_close(op->link_bytes, T * H * a, 1e-15, 0);
	assert_close(op->layers, L, 0, 0);
	assert_close(ar_op_bytes(op) + op->mflops + op->vflops, 0, 0, 0);
	op = find(&g, AR_OP_MLP_ALLREDUCE);
	assert_non_null(op);
	assert_close(op->link_bytes, T * H * a, 1e-15, 0);
	/* the cache per device: 1 of the 2 KV heads */
	assert_close(g.kv_cache_bytes, L * B * S * 2 * 16 * a, 1e-15, 0);

	/* N = 4: 2(3)/4·T·H·a; KV heads (2) fewer than devices are replicated */
	wl.tp = 4;
	build(&g, &m, &wl, 0, AR_PHASE_DECODE);
	op = find(&g, AR_OP_MLP_ALLREDUCE);
	assert_close(op->link_bytes, 1.5 * B * H * a, 1e-15, 0);
	check(&g, AR_OP_K_PROJ, (struct want){ L, 2 * B * H * 16, 0, H * 16 * a, B * H * a, 0, 0, B * 16 * a, 0 });
	check(&g, AR_OP_QK, (struct want){ L, 2 * B * 1 * S * 16, 0, 0, B * 16 * a, B * S * a,
					   B * S * 16 * a, 0, 0 });
	assert_close(g.kv_cache_bytes, L * B * S * 2 * 16 * a, 1e-15, 0);

	/* without tensor parallelism there is no communication op */
	wl.tp = 1;
	build(&g, &m, &wl, 0, AR_PHASE_DECODE);
	assert_null(find(&g, AR_OP_ATTN_ALLREDUCE));
	assert_null(find(&g, AR_OP_MLP_ALLREDUCE));
}

static void test_graph__tensor_parallel_gta(void **state)
{
	struct ar_model m;
	struct ar_graph g;
	struct ar_workload wl = workload(2, 10, AR_ATTN_NAIVE, 16, 16, 16, 2);
	double T = 2, a = 2;

	(void)state;
	load(&m, "tiny-gta.yaml");
	build(&g, &m, &wl, 0, AR_PHASE_DECODE);
	/* one map per device; the key head and latent value are replicated */
	check(&g, AR_OP_Q_PROJ, (struct want){ L, 2 * T * H * 16, T * 16, (H * 16 + 16) * a, T * H * a,
					       T * 16 * a, 0, 0, 0 });
	check(&g, AR_OP_V_PROJ, (struct want){ L, 2 * T * H * 32, T * 32, (H * 32 + 32) * a, T * H * a,
					       0, 0, T * 32 * a, 0 });
	/* v_b_proj: 1 group of d_l 32 → n_h·d_h/n_q = 32 per device */
	check(&g, AR_OP_V_B_PROJ, (struct want){ L, 2 * T * 32 * 32, 0, 32 * 32 * a, T * 32 * a,
						  T * 32 * a, 0, 0, 0 });
	check(&g, AR_OP_G_PROJ, (struct want){ L, 2 * T * H * 32, T * 32, (H * 32 + 32) * a, T * H * a,
					       T * 32 * a, 0, 0, 0 });
	check(&g, AR_OP_O_PROJ, (struct want){ L, 2 * T * 32 * H, 0, 32 * H * a, T * 32 * a, T * H * a, 0, 0, 0 });
	assert_close(g.kv_cache_bytes, L * 2 * 10 * 48 * a, 1e-15, 0);
}

static void test_graph__tensor_parallel_rejects_bad_degrees(void **state)
{
	struct ar_model m;
	struct ar_err err = { 0 };
	struct ar_workload wl = workload(1, 8, AR_ATTN_NAIVE, 16, 16, 16, 3);

	(void)state;
	load(&m, "tiny-gqa.yaml");
	assert_int_equal(ar_workload_check(&m, &wl, &err), -1);
	assert_string_equal(err.msg, "--tp 3 does not divide the 4 heads");
	load(&m, "tiny-gta.yaml");
	wl.tp = 4;
	assert_int_equal(ar_workload_check(&m, &wl, &err), -1);
	assert_string_equal(err.msg, "--tp 4 does not divide the 2 attention maps (n_q)");
	/* latent heads are split or duplicated whole */
	load(&m, "tiny-gla.yaml");
	m.attn.n_k = 3;
	wl.tp = 2;
	assert_int_equal(ar_workload_check(&m, &wl, &err), -1);
	assert_string_equal(err.msg, "--tp 2 and the 3 latent heads: one must divide the other");
}

/* ---- the GTA paper's numbers (Table 4, gta-paper.md §2.5 and §4) ---- */

/* MACs per token of q, k, v, o and GTA's v_b_proj and g_proj (bias adds are
 * vector FLOPs and not counted). */
static double linear_macs_per_token(const struct ar_graph *g, double T)
{
	static const enum ar_op_id lin[] = {
		AR_OP_Q_PROJ, AR_OP_K_PROJ, AR_OP_V_PROJ, AR_OP_V_B_PROJ, AR_OP_G_PROJ, AR_OP_O_PROJ,
	};
	double s = 0;

	for (size_t i = 0; i < sizeof(lin) / sizeof(*lin); i++) {
		const struct ar_op *op = find(g, lin[i]);
		if (op)
			s += op->mflops / 2 / T;
	}
	return s;
}

static void test_graph__paper_table4_for_the_1b_models(void **state)
{
	static const struct { const char *name; int fixture; double kv, attn, lin; } cases[] = {
		{ "gta-1b", 0, 192, 960, 4096000 },
		{ "gqa-1b", 0, 640, 2560, 4096000 },
		{ "mha-1b.yaml", 1, 2560, 2560, 6553600 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct ar_model m;
		struct ar_graph g;

		if (cases[i].fixture)
			load(&m, cases[i].name);
		else
			load_config(&m, cases[i].name);
		assert_close(ar_model_kv_elems(&m), cases[i].kv, 0, 0);
		for (long S = 64; S <= 4096; S *= 8) {
			for (long B = 1; B <= 3; B += 2) {
				struct ar_workload wl = workload(B, S, AR_ATTN_NAIVE, 16, 16, 16, 1);
				double s2b = (double)S * (double)S * (double)B;

				build(&g, &m, &wl, 0, AR_PHASE_PREFILL);
				/* attention MACs per N²: (qk + av) / 2 / S² / B */
				assert_close((find(&g, AR_OP_QK)->mflops + find(&g, AR_OP_AV)->mflops) / 2 / s2b,
					     cases[i].attn, 1e-15, 0);
				assert_close(linear_macs_per_token(&g, (double)(B * S)), cases[i].lin, 1e-15, 0);
				build(&g, &m, &wl, 0, AR_PHASE_DECODE);
				assert_close(linear_macs_per_token(&g, (double)B), cases[i].lin, 1e-15, 0);
				/* decode attention: n_q(d_h + d_l)·N MACs per new token for GTA */
				assert_close((find(&g, AR_OP_QK)->mflops + find(&g, AR_OP_AV)->mflops) / 2 /
					     (double)S / (double)B, cases[i].attn, 1e-15, 0);
			}
		}
	}
	/* the 4,096,000 of gta-1b and gqa-1b above, by hand: 2·1280² +
	 * (320 + 64 + 128 + 128)·1280 for GTA's q, k, latent v and gate rows;
	 * 2·1280² + 2·(5·64)·1280 for GQA's shared K and V */
}

static void test_graph__paper_table5_caches(void **state)
{
	static const struct { const char *name; double kv; } cases[] = {
		{ "mha-160m", 1536 }, { "mla-160m", 288 }, { "gqa-160m", 384 },
		{ "gta1-160m", 192 }, { "gta2-160m", 192 }, { "mha-500m", 2560 },
		{ "mla-500m", 352 }, { "gqa-500m", 512 }, { "gta3-500m", 192 },
		{ "gta4-500m", 320 }, { "gqa-1b", 640 }, { "gta-1b", 192 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct ar_model m;
		struct ar_graph g;
		struct ar_workload wl = workload(1, 10, AR_ATTN_NAIVE, 16, 16, 16, 1);
		double written = 0;

		load_config(&m, cases[i].name);
		assert_close(ar_model_kv_elems(&m), cases[i].kv, 0, 0);
		/* the graph writes the same: one decode token, 2 bytes per element */
		build(&g, &m, &wl, 0, AR_PHASE_DECODE);
		for (int k = 0; k < g.n_ops; k++)
			written += g.ops[k].bytes[AR_B_KV_WRITE];
		assert_close(written, cases[i].kv * 2, 0, 0);
	}
}

/* arXiv 2505.21487 Tables 5/15: KV bytes per token per layer per device (bf16)
 * for the XL model (d_h 128, h_q 16), each arch at its file's defaults. */
static void test_graph__paper_kv_bytes_per_token_by_tp(void **state)
{
	static const struct { const char *arch; double bytes[3]; } cases[] = {
		{ "mha", { 8192, 4096, 2048 } },    { "gqa", { 2048, 1024, 512 } },
		{ "gta-tied", { 1152, 640, 384 } }, { "gla", { 1152, 640, 640 } },
		{ "mla", { 1152, 1152, 1152 } },
	};
	const char *root = getenv("ATTNROOF_DATA");
	struct ar_model xl, m;
	struct ar_err err = { 0 };
	char path[1024];

	(void)state;
	load(&xl, "xl-gta4-tied.yaml");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(path, sizeof(path), "%s/archs/%s.yaml", root && *root ? root : ".", cases[i].arch);
		if (ar_model_with_arch(&m, &xl, path, &err)) {
			print_error("%s: %s\n", path, err.msg);
			fail();
		}
		for (int t = 0; t < 3; t++) {
			struct ar_workload wl = workload(1, 1, AR_ATTN_FLASH, 16, 16, 16, 1L << t);
			struct ar_graph g;
			build(&g, &m, &wl, 4096, AR_PHASE_DECODE);
			assert_close(g.kv_layer_bytes, cases[i].bytes[t], 0, 0);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_graph__naive_prefill_every_op),
		cmocka_unit_test(test_graph__naive_decode_every_op),
		cmocka_unit_test(test_graph__flash_graphs_keep_the_other_ops),
		cmocka_unit_test(test_graph__op_order_gqa_and_gta),
		cmocka_unit_test(test_graph__gqa_decode_literal_counts),
		cmocka_unit_test(test_graph__kv_write_is_tokens_times_kv_elems),
		cmocka_unit_test(test_graph__flash_decode_reads_kv_once_per_key_head),
		cmocka_unit_test(test_graph__flash_prefill_skips_masked_tiles),
		cmocka_unit_test(test_graph__mla_projections_and_absorbed_decode),
		cmocka_unit_test(test_graph__mla_decompressed_decode_and_prefill),
		cmocka_unit_test(test_graph__tied_naive_every_op),
		cmocka_unit_test(test_graph__tied_flash_reads_the_states_once),
		cmocka_unit_test(test_graph__gla_absorbed_decode),
		cmocka_unit_test(test_graph__gla_decompresses_per_latent_head),
		cmocka_unit_test(test_graph__tied_and_gla_params_and_shards),
		cmocka_unit_test(test_graph__weights_a_pass_reads),
		cmocka_unit_test(test_graph__op_order_tied_and_gla),
		cmocka_unit_test(test_graph__moe_routes_tokens_and_reads_touched_experts),
		cmocka_unit_test(test_graph__tensor_parallel_shards_and_allreduce),
		cmocka_unit_test(test_graph__tensor_parallel_gta),
		cmocka_unit_test(test_graph__tensor_parallel_rejects_bad_degrees),
		cmocka_unit_test(test_graph__paper_table4_for_the_1b_models),
		cmocka_unit_test(test_graph__paper_table5_caches),
		cmocka_unit_test(test_graph__paper_kv_bytes_per_token_by_tp),
	};
	return cmocka_run_group_tests_name("graph", tests, NULL, NULL);
}
