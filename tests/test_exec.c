/* The executor on tiny models of every arch: the plain kernels count exactly
 * the FLOPs the op graph states, the optimised run equals the plain run, the
 * KV cache and weights it allocates equal the graph's bytes, a run that does
 * not fit or an analysis-only arch is refused before allocating, GTA
 * equals a plain per-head implementation of its definition, a decode
 * step continues its prefill through the cache, and weights stored with
 * longer rows (4 KiB multiples) never read past a row's end. */
#include "testutil.h"

#include <stdlib.h>

#include "exec.h"
#include "graph.h"
#include "model.h"

#define ONCHIP 4096.0 /* small tiles: several per sequence */

static const char *const archs[] = { "mha", "gqa", "mla", "gva", "gha", "gta" };
enum { N_ARCHS = 6 };

static void tiny(struct ar_model *out, const char *arch, long layers)
{
	struct ar_model base;
	struct ar_err err = { 0 };
	char path[512];

	assert_int_equal(ar_model_open(&base, "mha-160m", &err), 0);
	base.layers = layers;
	base.hidden = 64;
	base.attn.n_h = 8;
	base.attn.d_h = 8;
	base.intermediate = 96;
	base.vocab = 50;
	base.attn_bias = !strcmp(arch, "gta");
	assert_int_equal(ar_resolve("archs", arch, path, sizeof(path), &err), 0);
	if (ar_model_with_arch(out, &base, path, &err))
		fail_msg("%s", err.msg);
}

static struct ar_workload wl32(long B, long S, enum ar_attn_impl attn)
{
	struct ar_workload wl = { .batch = B, .seq = S, .gen = 0, .attn = attn, .wbits = 32,
				  .abits = 32, .kvbits = 32, .tp = 1 };
	return wl;
}

static void test_exec__flops_match_graph(void **state)
{
	struct ar_err err = { 0 };
	(void)state;

	for (int a = 0; a < N_ARCHS; a++)
		for (int impl = 0; impl < AR_ATTN_IMPL_COUNT; impl++) {
			struct ar_model m;
			struct ar_exec ex;
			tiny(&m, archs[a], 2);
			if (ar_exec_init(&ex, &m, 2, 21, 21, (enum ar_attn_impl)impl, ONCHIP, 1, 0, &err))
				fail_msg("%s", err.msg);
			ex.ref = 1;
			for (int ph = 0; ph < AR_PHASE_COUNT; ph++) {
				struct ar_workload wl = wl32(2, 21, (enum ar_attn_impl)impl);
				struct ar_graph g;
				struct ar_kcount cnt[AR_GRAPH_MAX_OPS];
				ar_graph_build(&g, &m, &wl, ONCHIP, (enum ar_phase)ph);
				if (ar_exec_phase(&ex, &g, NULL, cnt, &err))
					fail_msg("%s", err.msg);
				for (int i = 0; i < g.n_ops; i++) {
					const struct ar_op *op = &g.ops[i];
					if (fabs(cnt[i].mflops - op->mflops) > 1e-9 * op->mflops ||
					    fabs(cnt[i].vflops - op->vflops) > 1e-9 * op->vflops)
						fail_msg("%s %s %s %s: counted %.0f + %.0f, graph %.0f + %.0f",
							 archs[a], ar_attn_impl_names[impl], ar_phase_names[ph],
							 ar_op_names[op->id], cnt[i].mflops, cnt[i].vflops,
							 op->mflops, op->vflops);
				}
			}
			ar_exec_release(&ex);
		}
}

static double rel_err(const float *got, const float *want, long n)
{
	double d = 0, mx = 0;
	for (long i = 0; i < n; i++) {
		d = fmax(d, fabs((double)got[i] - want[i]));
		mx = fmax(mx, fabs(want[i]));
	}
	return mx > 0 ? d / mx : d;
}

/* Prefill then a decode step, with the plain kernels and then the optimised
 * ones from the same seed: the logits agree. */
static void test_exec__optimised_equals_plain(void **state)
{
	struct ar_err err = { 0 };
	(void)state;

	for (int a = 0; a < N_ARCHS; a++)
		for (int impl = 0; impl < AR_ATTN_IMPL_COUNT; impl++) {
			struct ar_model m;
			struct ar_exec ex;
			float want[2][2 * 50];
			tiny(&m, archs[a], 2);
			for (int ref = 1; ref >= 0; ref--) {
				if (ar_exec_init(&ex, &m, 2, 19, 20, (enum ar_attn_impl)impl, ONCHIP, 7, 0, &err))
					fail_msg("%s", err.msg);
				ex.ref = ref;
				for (int ph = 0; ph < AR_PHASE_COUNT; ph++) {
					struct ar_workload wl = wl32(2, ph ? 20 : 19, (enum ar_attn_impl)impl);
					struct ar_graph g;
					ar_graph_build(&g, &m, &wl, ONCHIP, (enum ar_phase)ph);
					if (ar_exec_phase(&ex, &g, NULL, NULL, &err))
						fail_msg("%s", err.msg);
					if (ref) {
						memcpy(want[ph], ex.logits, sizeof(want[ph]));
						continue;
					}
					double e = rel_err(ex.logits, want[ph], 2 * 50);
					if (!(e <= 1e-5))
						fail_msg("%s %s %s: relative error %.3g", archs[a],
							 ar_attn_impl_names[impl], ar_phase_names[ph], e);
				}
				ar_exec_release(&ex);
			}
		}
}

/* Flash and naive give the same logits. */
static void test_exec__flash_equals_naive(void **state)
{
	struct ar_err err = { 0 };
	(void)state;

	for (int a = 0; a < N_ARCHS; a++) {
		struct ar_model m;
		struct ar_exec ex;
		float want[50];
		tiny(&m, archs[a], 2);
		for (int impl = 0; impl < AR_ATTN_IMPL_COUNT; impl++) {
			struct ar_workload wl = wl32(1, 33, (enum ar_attn_impl)impl);
			struct ar_graph g;
			if (ar_exec_init(&ex, &m, 1, 33, 33, (enum ar_attn_impl)impl, ONCHIP, 3, 0, &err))
				fail_msg("%s", err.msg);
			ar_graph_build(&g, &m, &wl, ONCHIP, AR_PHASE_PREFILL);
			assert_int_equal(ar_exec_phase(&ex, &g, NULL, NULL, &err), 0);
			if (impl == 0)
				memcpy(want, ex.logits, sizeof(want));
			else if (!(rel_err(ex.logits, want, 50) <= 1e-5))
				fail_msg("%s: flash and naive differ by %.3g", archs[a],
					 rel_err(ex.logits, want, 50));
			ar_exec_release(&ex);
		}
	}
}

static void test_exec__bytes_equal_graph(void **state)
{
	struct ar_err err = { 0 };
	(void)state;

	for (int a = 0; a < N_ARCHS; a++) {
		struct ar_model m;
		struct ar_exec_plan plan;
		struct ar_workload wl = wl32(3, 40, AR_ATTN_FLASH);
		struct ar_graph g;
		tiny(&m, archs[a], 3);
		assert_int_equal(ar_exec_size(&plan, &m, 3, 40, 40, AR_ATTN_FLASH, ONCHIP, &err), 0);
		ar_graph_build(&g, &m, &wl, ONCHIP, AR_PHASE_PREFILL);
		assert_close(plan.kv_bytes, g.kv_cache_bytes, 0, 0);
		assert_close(plan.weight_bytes, g.weight_bytes, 0, 0);
	}
	/* the real GTA-1B as well (sizes only, nothing allocated) */
	struct ar_model m;
	struct ar_exec_plan plan;
	struct ar_workload wl = wl32(2, 1024, AR_ATTN_FLASH);
	struct ar_graph g;
	assert_int_equal(ar_model_open(&m, "gta-1b", &err), 0);
	assert_int_equal(ar_exec_size(&plan, &m, 2, 1024, 1024, AR_ATTN_FLASH, 262144, &err), 0);
	ar_graph_build(&g, &m, &wl, 262144, AR_PHASE_PREFILL);
	assert_close(plan.kv_bytes, g.kv_cache_bytes, 0, 0);
	assert_close(plan.weight_bytes, g.weight_bytes, 0, 0);
}

/* Mixture of experts: the plain kernels count the graph's FLOPs op by op
 * (router, experts over T·(active + shared) rows, the dense first layer),
 * the weights allocated equal the graph's, and the optimised run gives the
 * plain run's logits. */
static void test_exec__moe_matches_graph(void **state)
{
	struct ar_err err = { 0 };
	struct ar_model m;
	struct ar_exec ex;
	(void)state;

	if (ar_model_load(&m, "tests/data/good/moe-tiny.yaml", &err))
		fail_msg("%s", err.msg);
	for (int ph = 0; ph < AR_PHASE_COUNT; ph++) {
		struct ar_workload wl = wl32(3, 17, AR_ATTN_FLASH);
		struct ar_graph g;
		struct ar_kcount cnt[AR_GRAPH_MAX_OPS];
		if (ar_exec_init(&ex, &m, 3, 17, 17, AR_ATTN_FLASH, ONCHIP, 5, 0, &err))
			fail_msg("%s", err.msg);
		ar_graph_build(&g, &m, &wl, ONCHIP, (enum ar_phase)ph);
		assert_close(ex.plan.weight_bytes, g.weight_bytes, 0, 0);
		ex.ref = 1;
		if (ar_exec_phase(&ex, &g, NULL, cnt, &err))
			fail_msg("%s", err.msg);
		int experts = 0;
		for (int i = 0; i < g.n_ops; i++) {
			const struct ar_op *op = &g.ops[i];
			experts += op->id == AR_OP_EXP_DOWN_PROJ;
			if (fabs(cnt[i].mflops - op->mflops) > 1e-9 * op->mflops ||
			    fabs(cnt[i].vflops - op->vflops) > 1e-9 * op->vflops)
				fail_msg("%s %s: counted %.0f + %.0f, graph %.0f + %.0f",
					 ar_phase_names[ph], ar_op_names[op->id], cnt[i].mflops,
					 cnt[i].vflops, op->mflops, op->vflops);
		}
		assert_int_equal(experts, 1);
		float want[3 * 60];
		memcpy(want, ex.logits, sizeof(want));
		ar_exec_release(&ex);
		/* the optimised kernels from the same seed */
		if (ar_exec_init(&ex, &m, 3, 17, 17, AR_ATTN_FLASH, ONCHIP, 5, 0, &err) ||
		    ar_exec_phase(&ex, &g, NULL, NULL, &err))
			fail_msg("%s", err.msg);
		double e = rel_err(ex.logits, want, 3 * 60);
		if (!(e <= 1e-4))
			fail_msg("%s: optimised MoE differs from plain by %.3g", ar_phase_names[ph], e);
		ar_exec_release(&ex);
	}
}

static void test_exec__refuses_what_does_not_fit(void **state)
{
	struct ar_err err = { 0 };
	struct ar_model m;
	struct ar_exec ex;
	(void)state;

	tiny(&m, "gqa", 2);
	assert_int_equal(ar_exec_init(&ex, &m, 1, 16, 16, AR_ATTN_FLASH, ONCHIP, 1, 1e4, &err), -1);
	assert_true(!strncmp(err.msg, "run needs ", 10));
	assert_non_null(strstr(err.msg, "GB but only 0.00 GB is available"));
	assert_null(ex.arena);
	/* a run of gigabytes, refused a byte short of what it needs: the message
	 * names both sizes */
	struct ar_exec_plan plan;
	char want[128];
	tiny(&m, "gqa", 2);
	assert_int_equal(ar_exec_size(&plan, &m, 64, 100000, 100000, AR_ATTN_FLASH, ONCHIP, &err), 0);
	assert_true(plan.total_bytes > 1e9);
	assert_int_equal(ar_exec_init(&ex, &m, 64, 100000, 100000, AR_ATTN_FLASH, ONCHIP, 1,
				      plan.total_bytes - 1, &err), -1);
	snprintf(want, sizeof(want), "run needs %.2f GB but only %.2f GB is available",
		 plan.total_bytes / 1e9, (plan.total_bytes - 1) / 1e9);
	assert_string_equal(err.msg, want);
	assert_null(ex.arena);
}

/* Tied K/V and several latent heads are analysis only: refused by name
 * before anything is allocated. */
static void test_exec__refuses_analysis_only_archs(void **state)
{
	static const char *const only[] = { "gta-tied", "gla" };
	struct ar_err err = { 0 };
	struct ar_model m;
	struct ar_exec ex;
	struct ar_exec_plan plan;
	char want[160];
	(void)state;

	for (int i = 0; i < 2; i++) {
		tiny(&m, only[i], 2);
		snprintf(want, sizeof(want),
			 "the executor runs MHA, GQA, MLA, GVA, GHA and GTA; '%s' is analysis only", only[i]);
		assert_int_equal(ar_exec_size(&plan, &m, 1, 16, 16, AR_ATTN_FLASH, ONCHIP, &err), -1);
		assert_string_equal(err.msg, want);
		assert_int_equal(ar_exec_init(&ex, &m, 1, 16, 16, AR_ATTN_NAIVE, ONCHIP, 1, 0, &err), -1);
		assert_string_equal(err.msg, want);
		assert_null(ex.arena);
		assert_null(ex.layers);
	}
}

/* A decode step continues the prefill through the cache: prefill of 7
 * tokens then one decode step gives the logits of a prefill of the same 8
 * tokens, for every arch, both attention implementations, two sequences
 * (each head's keys written to and read from their own run of positions). */
static void test_exec__decode_continues_prefill(void **state)
{
	struct ar_err err = { 0 };
	(void)state;

	for (int a = 0; a < N_ARCHS; a++)
		for (int impl = 0; impl < AR_ATTN_IMPL_COUNT; impl++) {
			struct ar_model m;
			struct ar_exec step, whole;
			struct ar_graph g;
			struct ar_workload wl;
			long B = 2, S = 7;
			tiny(&m, archs[a], 2);
			if (ar_exec_init(&step, &m, B, S, S + 1, (enum ar_attn_impl)impl, ONCHIP, 3, 0, &err) ||
			    ar_exec_init(&whole, &m, B, S + 1, S + 1, (enum ar_attn_impl)impl, ONCHIP, 3, 0, &err))
				fail_msg("%s", err.msg);
			for (long b = 0; b < B; b++) {
				for (long t = 0; t < S; t++)
					whole.tokens[b * (S + 1) + t] = step.tokens[b * S + t];
				whole.tokens[b * (S + 1) + S] = step.tokens[b]; /* the decode step's token */
			}
			wl = wl32(B, S, (enum ar_attn_impl)impl);
			ar_graph_build(&g, &m, &wl, ONCHIP, AR_PHASE_PREFILL);
			assert_int_equal(ar_exec_phase(&step, &g, NULL, NULL, &err), 0);
			wl = wl32(B, S + 1, (enum ar_attn_impl)impl);
			ar_graph_build(&g, &m, &wl, ONCHIP, AR_PHASE_DECODE);
			assert_int_equal(ar_exec_phase(&step, &g, NULL, NULL, &err), 0);
			ar_graph_build(&g, &m, &wl, ONCHIP, AR_PHASE_PREFILL);
			assert_int_equal(ar_exec_phase(&whole, &g, NULL, NULL, &err), 0);
			double e = rel_err(step.logits, whole.logits, B * m.vocab);
			if (!(e <= 1e-5))
				fail_msg("%s %s: decode after prefill differs from one prefill by %.3g",
					 archs[a], ar_attn_impl_names[impl], e);
			ar_exec_release(&step);
			ar_exec_release(&whole);
		}
}

static void rms(double *o, const double *x, long C)
{
	double ss = 0;
	for (long i = 0; i < C; i++)
		ss += x[i] * x[i];
	for (long i = 0; i < C; i++)
		o[i] = x[i] / sqrt(ss / C + 1e-5);
}

/* y (n) = x (k) · W (k, n) + b */
static void lin(double *y, const double *x, const float *w, const float *b, long k, long n)
{
	long ld = ar_kernels_row_stride(k);

	for (long j = 0; j < n; j++) {
		double s = b ? b[j] : 0;
		for (long i = 0; i < k; i++)
			s += x[i] * w[j * ld + i]; /* W stored (out, in), rows ld apart */
		y[j] = s;
	}
}

static void rope(double *v, long d, long pos)
{
	for (long i = 0; i < d / 2; i++) {
		double a = pos * pow(10000.0, -2.0 * i / d), x1 = v[i], x2 = v[i + d / 2];
		v[i] = x1 * cos(a) - x2 * sin(a);
		v[i + d / 2] = x2 * cos(a) + x1 * sin(a);
	}
}

/* One layer of a tiny model by its definition, in double precision: the
 * inputs of the attention (embedding, RMSNorm, Q, K, V and, for GTA, the
 * gate; RoPE on each query and key head) at every position ... */
struct by_hand {
	long S, H, I;
	double x[16][64], Q[16][64], K[16][64], V[16][64], G[16][64];
};

static void by_hand_inputs(struct by_hand *h, const struct ar_exec *ex, const struct ar_model *m,
			   long S)
{
	const struct ar_exec_layer *ly = &ex->layers[0];
	const struct ar_attn *at = &m->attn;
	long H = m->hidden, dk = at->d_k;

	h->S = S;
	h->H = H;
	h->I = m->intermediate;
	assert_true(S <= 16 && H <= 64 && at->n_q * dk <= 64 && at->n_k * dk <= 64 &&
		    at->n_v * at->d_v <= 64 && at->n_h * at->d_h <= 64);
	for (long t = 0; t < S; t++) {
		double xn[64];
		for (long i = 0; i < H; i++)
			h->x[t][i] = ex->embed[ex->tokens[t] * ar_kernels_row_stride(H) + i];
		rms(xn, h->x[t], H);
		lin(h->Q[t], xn, ly->wq, ly->bq, H, at->n_q * dk);
		lin(h->K[t], xn, ly->wk, ly->bk, H, at->n_k * dk);
		lin(h->V[t], xn, ly->wv, ly->bv, H, at->n_v * at->d_v);
		if (ly->wg)
			lin(h->G[t], xn, ly->wg, ly->bg, H, at->n_h * at->d_h);
		for (long q = 0; q < at->n_q; q++)
			rope(h->Q[t] + q * dk, dk, t);
		for (long k = 0; k < at->n_k; k++)
			rope(h->K[t] + k * dk, dk, t);
	}
}

/* ... softmax(q_map · K_key / √d_k) over positions 0..t, times the value
 * rows of group `vg` (dl wide) into o ... */
static void by_hand_attend(const struct by_hand *h, long t, long map, long key, long vg, long dk,
			   long dl, double *o)
{
	double sc[16], mx = -1e300, sum = 0;

	for (long j = 0; j <= t; j++) {
		sc[j] = 0;
		for (long d = 0; d < dk; d++)
			sc[j] += h->Q[t][map * dk + d] * h->K[j][key * dk + d];
		sc[j] /= sqrt((double)dk);
		mx = fmax(mx, sc[j]);
	}
	for (long j = 0; j <= t; j++)
		sum += exp(sc[j] - mx);
	for (long d = 0; d < dl; d++)
		o[d] = 0;
	for (long j = 0; j <= t; j++)
		for (long d = 0; d < dl; d++)
			o[d] += exp(sc[j] - mx) / sum * h->V[j][vg * dl + d];
}

/* ... and from the heads' concatenated outputs at the last position on: the
 * output projection, the residual, the SwiGLU MLP, the final norm and the
 * tied lm_head; the largest difference from the executor's logits,
 * relative to the largest logit */
static double by_hand_logits_error(struct by_hand *h, const struct ar_exec *ex,
				   const struct ar_model *m, const double *cat)
{
	const struct ar_exec_layer *ly = &ex->layers[0];
	long t = h->S - 1, H = h->H, I = h->I, hd = m->attn.n_h * m->attn.d_h;
	double attn[64], h2[64], up[128], gate[128], last[64];
	float want[50];

	assert_true(I <= 128 && m->vocab <= 50);
	lin(attn, cat, ly->wo, ly->bo, hd, H);
	for (long i = 0; i < H; i++)
		h->x[t][i] += attn[i];
	rms(h2, h->x[t], H);
	lin(gate, h2, ly->w_gate, NULL, H, I);
	lin(up, h2, ly->w_up, NULL, H, I);
	for (long i = 0; i < I; i++)
		gate[i] = gate[i] / (1 + exp(-gate[i])) * up[i];
	lin(attn, gate, ly->w_down, NULL, I, H);
	for (long i = 0; i < H; i++)
		h->x[t][i] += attn[i];
	rms(last, h->x[t], H);
	for (long v = 0; v < m->vocab; v++) {
		double s = 0;
		for (long i = 0; i < H; i++)
			s += last[i] * ex->embed[v * ar_kernels_row_stride(H) + i];
		want[v] = (float)s;
	}
	return rel_err(ex->logits, want, m->vocab);
}

/* The executor's prefill of one layer of `arch` at S positions, for
 * by_hand to check */
static void run_one_layer(struct ar_exec *ex, struct ar_model *m, const char *arch, long S)
{
	struct ar_err err = { 0 };
	struct ar_workload wl = wl32(1, S, AR_ATTN_FLASH);
	struct ar_graph g;

	tiny(m, arch, 1);
	assert_int_equal(ar_exec_init(ex, m, 1, S, S, AR_ATTN_FLASH, ONCHIP, 5, 0, &err), 0);
	ar_graph_build(&g, m, &wl, ONCHIP, AR_PHASE_PREFILL);
	assert_int_equal(ar_exec_phase(ex, &g, NULL, NULL, &err), 0);
}

/* GTA, one layer, head by head from the paper's definition (§3.2, as the
 * authors' code): head i uses query group q(i) = i/(n_h/n_q), key group
 * q(i)/(n_q/n_k), latent group q(i)/(n_q/n_c); its value is the direct
 * tiling of the latent output plus o·V_b, gated by sigmoid(x·W_G,i). */
static void test_exec__gta_equals_per_head_definition(void **state)
{
	static struct by_hand h;
	struct ar_model m;
	struct ar_exec ex;
	(void)state;

	run_one_layer(&ex, &m, "gta", 9);
	by_hand_inputs(&h, &ex, &m, 9);
	const struct ar_attn *at = &m.attn;
	const struct ar_exec_layer *ly = &ex.layers[0];
	long nh = at->n_h, dh = at->d_h, nq = at->n_q, nk = at->n_k, nc = at->n_v;
	long dk = at->d_k, dl = at->d_v, W = nh * dh / nq, t = h.S - 1;
	double cat[64];
	assert_true(ly->wg != NULL && ly->vb != NULL);
	for (long i = 0; i < nh; i++) {
		long qg = i / (nh / nq), kg = qg / (nq / nk), cg = qg / (nq / nc), r = i % (nh / nq);
		double o[64];
		by_hand_attend(&h, t, qg, kg, cg, dk, dl, o);
		for (long c = 0; c < dh; c++) {
			long slot = r * dh + c;
			double v = o[slot % dl];
			for (long d = 0; d < dl; d++)
				v += o[d] * ly->vb[(qg * dl + d) * W + slot];
			cat[i * dh + c] = v / (1 + exp(-h.G[t][i * dh + c]));
		}
	}
	double e = by_hand_logits_error(&h, &ex, &m, cat);
	if (!(e <= 1e-5))
		fail_msg("GTA differs from its per-head definition by %.3g", e);
	ar_exec_release(&ex);
}

/* MHA, GQA, GVA and GHA, one layer, head by head: head i uses map
 * q(i) = i/(n_h/n_q), key head q(i)/(n_q/n_k) and value head i/(n_h/n_v),
 * and its output is that value head's rows weighted by the map's
 * probabilities (GVA: 2 maps and keys over 8 value heads; GHA: 2 of each) */
static void test_exec__per_head_archs_equal_their_definition(void **state)
{
	static const char *const names[] = { "mha", "gqa", "gva", "gha" };
	static struct by_hand h;
	(void)state;

	for (size_t a = 0; a < sizeof(names) / sizeof(*names); a++) {
		struct ar_model m;
		struct ar_exec ex;
		run_one_layer(&ex, &m, names[a], 9);
		by_hand_inputs(&h, &ex, &m, 9);
		const struct ar_attn *at = &m.attn;
		long nh = at->n_h, nq = at->n_q, nk = at->n_k, nv = at->n_v, t = h.S - 1;
		double cat[64];
		assert_int_equal(at->av, AR_AV_PER_HEAD);
		assert_int_equal(at->d_v, at->d_h);
		for (long i = 0; i < nh; i++) {
			long q = i / (nh / nq);
			by_hand_attend(&h, t, q, q / (nq / nk), i / (nh / nv), at->d_k, at->d_v,
				       cat + i * at->d_v);
		}
		double e = by_hand_logits_error(&h, &ex, &m, cat);
		if (!(e <= 1e-5))
			fail_msg("%s differs from its per-head definition by %.3g", names[a], e);
		ar_exec_release(&ex);
	}
}

/* NaN into the floats past each of `rows` rows of k (ar_kernels_row_stride) */
static long poison_rows(float *w, long rows, long k)
{
	long ld = ar_kernels_row_stride(k);

	for (long r = 0; r < rows; r++)
		for (long i = k; i < ld; i++)
			w[r * ld + i] = NAN;
	return rows * (ld - k);
}

/* Widths of 1024 floats (4 KiB rows: every projection's and the embedding's
 * rows are one cache line longer): the weights' bytes are still the model's,
 * and with NaN in every float past a row's end prefill and decode, plain
 * and optimised, give the logits of a run without it, bit for bit. */
static void test_exec__padded_rows_never_read(void **state)
{
	struct ar_err err = { 0 };
	static const char *const wide[] = { "mha", "gqa" };
	(void)state;

	assert_int_equal(ar_kernels_row_stride(1024), 1040);
	assert_int_equal(ar_kernels_row_stride(3072), 3088);
	assert_int_equal(ar_kernels_row_stride(768), 768);
	assert_int_equal(ar_kernels_row_stride(512), 512);
	assert_int_equal(ar_kernels_row_stride(1040), 1040);
	for (int a = 0; a < 2; a++)
		for (int ref = 0; ref <= 1; ref++) {
			struct ar_model base, m;
			char path[512];
			float want[2][2 * 50];
			assert_int_equal(ar_model_open(&base, "mha-160m", &err), 0);
			base.layers = 1;
			base.hidden = 1024;
			base.attn.n_h = 16;
			base.attn.d_h = 64;
			base.intermediate = 1024;
			base.vocab = 50;
			assert_int_equal(ar_resolve("archs", wide[a], path, sizeof(path), &err), 0);
			if (ar_model_with_arch(&m, &base, path, &err))
				fail_msg("%s", err.msg);
			for (int poisoned = 0; poisoned <= 1; poisoned++) {
				struct ar_exec ex;
				const struct ar_attn *at = &m.attn;
				if (ar_exec_init(&ex, &m, 2, 3, 4, AR_ATTN_FLASH, ONCHIP, 11, 0, &err))
					fail_msg("%s", err.msg);
				assert_close(ex.plan.weight_bytes, ar_model_params(&m) * 4.0, 0, 0);
				ex.ref = ref;
				if (poisoned) {
					struct ar_exec_layer *ly = &ex.layers[0];
					long H = m.hidden, n = 0;
					n += poison_rows(ex.embed, m.vocab, H);
					n += poison_rows(ly->wq, at->n_q * at->d_k, H);
					n += poison_rows(ly->wk, at->n_k * at->d_k, H);
					n += poison_rows(ly->wv, at->n_v * at->d_v, H);
					n += poison_rows(ly->wo, H, at->n_h * at->d_v);
					n += poison_rows(ly->w_gate, m.intermediate, H);
					n += poison_rows(ly->w_up, m.intermediate, H);
					n += poison_rows(ly->w_down, H, m.intermediate);
					assert_true(n >= 16 * (50 + 1024 * 5));
				}
				for (int ph = 0; ph < AR_PHASE_COUNT; ph++) {
					struct ar_workload wl = wl32(2, ph ? 4 : 3, AR_ATTN_FLASH);
					struct ar_graph g;
					ar_graph_build(&g, &m, &wl, ONCHIP, (enum ar_phase)ph);
					if (ar_exec_phase(&ex, &g, NULL, NULL, &err))
						fail_msg("%s", err.msg);
					if (!poisoned) {
						memcpy(want[ph], ex.logits, sizeof(want[ph]));
						continue;
					}
					for (long i = 0; i < 2 * 50; i++)
						if (!isfinite(ex.logits[i]) || ex.logits[i] != want[ph][i])
							fail_msg("%s %s %s: logit %ld %g, unpoisoned %g",
								 wide[a], ref ? "plain" : "optimised",
								 ar_phase_names[ph], i, ex.logits[i],
								 want[ph][i]);
				}
				ar_exec_release(&ex);
			}
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec__flops_match_graph),
		cmocka_unit_test(test_exec__optimised_equals_plain),
		cmocka_unit_test(test_exec__flash_equals_naive),
		cmocka_unit_test(test_exec__bytes_equal_graph),
		cmocka_unit_test(test_exec__moe_matches_graph),
		cmocka_unit_test(test_exec__refuses_what_does_not_fit),
		cmocka_unit_test(test_exec__refuses_analysis_only_archs),
		cmocka_unit_test(test_exec__gta_equals_per_head_definition),
		cmocka_unit_test(test_exec__per_head_archs_equal_their_definition),
		cmocka_unit_test(test_exec__decode_continues_prefill),
		cmocka_unit_test(test_exec__padded_rows_never_read),
	};
	ar_kernels_set_threads(2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
