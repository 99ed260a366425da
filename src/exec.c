/* The reference executor (see exec.h): one arena, laid out twice by the same
 * function (once to count, once to hand out pointers), and a walk over the
 * graph's ops with a switch on the op id and one kernel call per op. */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include "exec.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define NORM_EPS 1e-5f
#define ROPE_THETA 10000.0

/* ---- layout ---- */

struct bump {
	char *base;      /* NULL: only count */
	size_t off;
	double weights, kv, act, scratch; /* bytes by class */
};

enum cls { C_WEIGHT, C_KV, C_ACT, C_SCRATCH };

static float *take(struct bump *b, double n, enum cls c)
{
	size_t bytes = ((size_t)n * sizeof(float) + 63) / 64 * 64;
	float *p = b->base ? (float *)(b->base + b->off) : NULL;

	if (n <= 0)
		return NULL;
	b->off += bytes;
	/* class totals are exact element counts (padding is not the model's) */
	double exact = n * sizeof(float);
	if (c == C_WEIGHT)
		b->weights += exact;
	else if (c == C_KV)
		b->kv += exact;
	else if (c == C_ACT)
		b->act += exact;
	else
		b->scratch += exact;
	return p;
}

/* A weight matrix of `rows` rows of k floats, rows ar_kernels_row_stride(k)
 * apart; its class total counts the rows' k floats only. */
static float *take_rows(struct bump *b, double rows, long k)
{
	long ld = ar_kernels_row_stride(k);
	float *p = take(b, rows * (double)ld, C_WEIGHT);

	b->weights -= rows * (double)(ld - k) * sizeof(float);
	return p;
}

/* Everything the attention of one phase needs, without buffers. */
struct dims {
	long H, nh, dh, hd, nq, nk, nv, dk, dv, kd, vd;
	long dc, dr, dn, dq, cw, qr, ld; /* MLA: latent, rope, nope, q head, cache width, q rank, kv_b width */
	long I, V;
	long E, act, sh, Ie, ne; /* MoE: routed, active, shared experts, their width, E + shared */
	int latent, gated, linear, per_map;
};

static void dims_of(struct dims *d, const struct ar_model *m)
{
	const struct ar_attn *a = &m->attn;

	memset(d, 0, sizeof(*d));
	d->H = m->hidden;
	d->nh = a->n_h;
	d->dh = a->d_h;
	d->hd = a->n_h * a->d_h;
	d->latent = a->latent;
	d->I = m->intermediate;
	d->V = m->vocab;
	d->E = m->moe.experts;
	d->act = m->moe.active;
	d->sh = m->moe.shared;
	d->Ie = m->moe.intermediate;
	d->ne = d->E ? d->E + d->sh : 0;
	if (a->latent) {
		d->dc = a->d_c;
		d->dr = a->d_rope;
		d->dn = a->d_nope;
		d->dv = a->d_v;
		d->dq = a->d_nope + a->d_rope;
		d->cw = a->d_c + a->d_rope;
		d->qr = a->q_rank;
		d->ld = a->n_h * (a->d_nope + a->d_v);
		return;
	}
	d->nq = a->n_q;
	d->nk = a->n_k;
	d->nv = a->n_v;
	d->dk = a->d_k;
	d->dv = a->d_v;
	d->kd = a->n_k * a->d_k;
	d->vd = a->n_v * a->d_v;
	d->gated = a->decoder == AR_DEC_GATED;
	d->linear = a->decoder == AR_DEC_LINEAR;
	d->per_map = a->av == AR_AV_PER_MAP;
}

/* Fill attention args for phase shapes (Sq, Sk); buffers from ex when given. */
static void attn_args(struct ar_attn_args *a, const struct ar_exec *ex, const struct dims *d,
		      const struct ar_exec_layer *ly, long B, long Sq, long Sk, int decode)
{
	const struct ar_attn *at = &ex->m.attn;
	long cap = ex->capacity;

	memset(a, 0, sizeof(*a));
	a->B = B;
	a->Sq = Sq;
	a->Sk = Sk;
	a->causal = !decode;
	a->out = ex->att;
	if (!d->latent) {
		a->maps = d->nq;
		a->kh = d->nk;
		a->vh = d->nv;
		a->heads = d->per_map ? d->nq : d->nh;
		a->dk1 = d->dk;
		a->dv = d->dv;
		a->scale = 1.0f / sqrtf((float)d->dk);
		a->q = ex->q;
		/* the cache is head-major: (B, heads, cap, head_dim) */
		a->k1 = ly ? ly->kc : NULL;
		a->k1_bs = cap * d->kd;
		a->k1_ps = d->dk;
		a->k1_hs = cap * d->dk;
		a->v = ly ? ly->vc : NULL;
		a->v_bs = cap * d->vd;
		a->v_ps = d->dv;
		a->v_hs = cap * d->dv;
		return;
	}
	a->maps = a->heads = d->nh;
	a->scale = 1.0f / sqrtf((float)d->dq);
	if (decode && at->absorb) {
		/* attention over the latent: key [c | k_rope], value c, one head */
		a->kh = a->vh = 1;
		a->dk1 = d->cw;
		a->dv = d->dc;
		a->q = ex->qabs;
		a->k1 = a->v = ly ? ly->kc : NULL;
		a->k1_bs = a->v_bs = cap * d->cw;
		a->k1_ps = a->v_ps = d->cw;
		return;
	}
	/* decompressed: key [k_nope (per head, kv_b output) | k_rope (shared, cache)] */
	a->kh = a->vh = d->nh;
	a->dk1 = d->dn;
	a->dk2 = d->dr;
	a->dv = d->dv;
	a->q = ex->q;
	a->k1 = ex->kvb;
	a->k1_bs = Sk * d->ld;
	a->k1_ps = d->ld;
	a->k1_hs = d->dn + d->dv;
	a->k2 = ly ? ly->kc + d->dc : NULL;
	a->k2_bs = cap * d->cw;
	a->k2_ps = d->cw;
	a->v = ex->kvb ? ex->kvb + d->dn : NULL;
	a->v_bs = Sk * d->ld;
	a->v_ps = d->ld;
	a->v_hs = d->dn + d->dv;
}

/* Upper bound of the flash scratch over every Sq ≤ prefill and Sk ≤ capacity:
 * per-thread buffers at the largest row block, and partial results of at most
 * 4 items per thread (splits happen only with fewer than 2 blocks per thread). */
static double flash_bound(const struct ar_exec *ex, const struct dims *d, long B, long prefill,
			  long cap, int decode, long Br, long Bc)
{
	struct ar_attn_args a;
	long Sq = decode ? 1 : prefill;
	int nt = ar_kernels_threads();

	attn_args(&a, ex, d, NULL, B, Sq, cap, decode);
	long g = a.maps / a.kh, hpm = a.heads / a.maps;
	long P = Br / g < 1 ? 1 : Br / g;
	P = P < Sq ? P : Sq;
	long rows = g * P, dk = a.dk1 + a.dk2;
	double per = (double)rows * (dk + Bc + 3) + (double)g * hpm * P * a.dv;
	double part = (double)g * hpm * P * a.dv + 2.0 * rows;
	return per * nt + 4.0 * nt * part;
}

/* Whether layer l of m runs the experts (else the dense MLP). */
static int is_moe_layer(const struct ar_model *m, long l)
{
	return m->moe.experts && l >= m->moe.dense_layers;
}

static void layout(struct ar_exec *ex, struct bump *b, long B, long prefill, long cap,
		   enum ar_attn_impl attn, double onchip)
{
	const struct ar_model *m = &ex->m;
	struct dims d;
	double T = (double)B * prefill;
	int layer_norm = m->norm == AR_NORM_LAYER, ab = m->attn_bias, mb = m->mlp_bias;

	dims_of(&d, m);
	ex->embed = take_rows(b, (double)d.V, d.H);
	for (long l = 0; l < m->layers; l++) {
		struct ar_exec_layer tmp, *ly = ex->layers && b->base ? &ex->layers[l] : &tmp;
		memset(ly, 0, sizeof(*ly));
		ly->attn_norm_w = take(b, d.H, C_WEIGHT);
		ly->attn_norm_b = layer_norm ? take(b, d.H, C_WEIGHT) : NULL;
		if (d.latent) {
			if (d.qr) {
				ly->wqa = take_rows(b, (double)d.qr, d.H);
				ly->qa_norm = take(b, d.qr, C_WEIGHT);
				ly->wqb = take(b, (double)d.qr * d.nh * d.dq, C_WEIGHT);
			} else {
				ly->wq = take_rows(b, (double)d.nh * d.dq, d.H);
			}
			ly->wkva = take_rows(b, (double)d.cw, d.H);
			ly->kva_norm = take(b, d.dc, C_WEIGHT);
			ly->wkvb = take(b, (double)d.dc * d.ld, C_WEIGHT);
			ly->wo = take_rows(b, (double)d.H, d.nh * d.dv);
		} else {
			long o_in = d.gated || d.linear ? d.hd : (d.per_map ? d.nq : d.nh) * d.dv;
			ly->wq = take_rows(b, (double)d.nq * d.dk, d.H);
			ly->bq = ab ? take(b, d.nq * d.dk, C_WEIGHT) : NULL;
			ly->wk = take_rows(b, (double)d.kd, d.H);
			ly->bk = ab ? take(b, d.kd, C_WEIGHT) : NULL;
			ly->wv = take_rows(b, (double)d.vd, d.H);
			ly->bv = ab ? take(b, d.vd, C_WEIGHT) : NULL;
			if (d.linear)
				ly->wp = take(b, (double)d.nh * d.dv * d.dh, C_WEIGHT);
			if (d.gated) {
				ly->vb = take(b, (double)d.dv * d.hd, C_WEIGHT);
				ly->wg = take_rows(b, (double)d.hd, d.H);
				ly->bg = ab ? take(b, d.hd, C_WEIGHT) : NULL;
			}
			ly->wo = take_rows(b, (double)d.H, o_in);
		}
		ly->bo = m->o_bias ? take(b, d.H, C_WEIGHT) : NULL;
		ly->mlp_norm_w = take(b, d.H, C_WEIGHT);
		ly->mlp_norm_b = layer_norm ? take(b, d.H, C_WEIGHT) : NULL;
		if (is_moe_layer(m, l)) {
			/* router (H, E); experts, routed then shared, stacked:
			 * gate/up (n_e, H, I_e), down (n_e, I_e, H) */
			double ne = (double)d.ne;
			ly->router = take_rows(b, (double)d.E, d.H);
			if (m->mlp == AR_MLP_SWIGLU) {
				ly->ew_gate = take_rows(b, ne * d.Ie, d.H);
				ly->eb_gate = mb ? take(b, ne * d.Ie, C_WEIGHT) : NULL;
			}
			ly->ew_up = take_rows(b, ne * d.Ie, d.H);
			ly->eb_up = mb ? take(b, ne * d.Ie, C_WEIGHT) : NULL;
			ly->ew_down = take_rows(b, ne * d.H, d.Ie);
			ly->eb_down = mb ? take(b, ne * d.H, C_WEIGHT) : NULL;
			continue;
		}
		if (m->mlp == AR_MLP_SWIGLU) {
			ly->w_gate = take_rows(b, (double)d.I, d.H);
			ly->b_gate = mb ? take(b, d.I, C_WEIGHT) : NULL;
		}
		ly->w_up = take_rows(b, (double)d.I, d.H);
		ly->b_up = mb ? take(b, d.I, C_WEIGHT) : NULL;
		ly->w_down = take_rows(b, (double)d.H, d.I);
		ly->b_down = mb ? take(b, d.H, C_WEIGHT) : NULL;
	}
	ex->final_norm_w = take(b, d.H, C_WEIGHT);
	ex->final_norm_b = layer_norm ? take(b, d.H, C_WEIGHT) : NULL;
	ex->lm_head = m->tie_embeddings ? NULL : take_rows(b, (double)d.V, d.H);

	/* the KV cache: exactly B·cap·kv_elems per layer; without a latent, K
	 * and V are head-major, (B, heads, cap, head_dim), so that attention
	 * reads each head's keys as one stream */
	for (long l = 0; l < m->layers; l++) {
		struct ar_exec_layer tmp, *ly = ex->layers && b->base ? &ex->layers[l] : &tmp;
		if (d.latent) {
			ly->kc = take(b, (double)B * cap * d.cw, C_KV);
			ly->vc = NULL;
		} else {
			ly->kc = take(b, (double)B * cap * d.kd, C_KV);
			ly->vc = take(b, (double)B * cap * d.vd, C_KV);
		}
	}

	/* activations: prefill rows T; decode rows B ≤ T */
	double qw = d.latent ? (double)d.nh * d.dq : (double)d.nq * d.dk;
	double attw = d.latent ? (double)d.nh * (d.dv > d.dc ? d.dv : d.dc)
		    : (double)(d.per_map ? d.nq : d.nh) * d.dv;
	double decw = d.latent ? (double)d.nh * d.dv : (double)d.hd;
	ex->x = take(b, T * d.H, C_ACT);
	ex->xn = take(b, T * d.H, C_ACT);
	ex->q = take(b, T * qw, C_ACT);
	ex->qa = d.qr ? take(b, T * d.qr, C_ACT) : NULL;
	ex->qabs = d.latent && m->attn.absorb ? take(b, (double)B * d.nh * d.cw, C_ACT) : NULL;
	ex->att = take(b, T * attw, C_ACT);
	ex->kvs = d.latent ? NULL : take(b, T * fmax(d.kd, d.vd), C_ACT);
	ex->dec = d.gated || d.linear || d.latent ? take(b, T * decw, C_ACT) : NULL;
	ex->gs = d.gated ? take(b, T * d.hd, C_ACT) : NULL;
	ex->kvb = d.latent ? take(b, (double)B * cap * d.ld, C_ACT) : NULL;
	/* MLP widths: the dense MLP's T rows, or T·(active + shared) expert slots */
	double slots = T * (double)(d.act + d.sh), mw = fmax(T * d.I, slots * d.Ie);
	ex->mg = m->mlp == AR_MLP_SWIGLU ? take(b, mw, C_ACT) : NULL;
	ex->mu = take(b, mw, C_ACT);
	if (d.E) {
		ex->rlogits = take(b, T * d.E, C_ACT);
		ex->xg = take(b, slots * d.H, C_ACT);
		ex->yd = take(b, slots * d.H, C_ACT);
		ex->slot_w = take(b, slots, C_ACT);
		ex->slot_tok = (int *)take(b, slots, C_ACT);
		ex->slot_off = (int *)take(b, (double)d.ne + 1, C_ACT);
		ex->slot_cur = (int *)take(b, (double)d.ne, C_ACT);
	}
	ex->logits = take(b, (double)B * d.V, C_ACT);
	ex->tokens = (int *)take(b, T, C_ACT); /* int and float are both 4 bytes */

	long rd = d.latent ? d.dr : d.dk;
	ex->rope_cos = take(b, (double)cap * (rd / 2), C_SCRATCH);
	ex->rope_sin = take(b, (double)cap * (rd / 2), C_SCRATCH);
	double sc = 0;
	if (attn == AR_ATTN_NAIVE) {
		/* scores (B, maps, Sq, Sk) at the longest prefill, or one decode row */
		double maps = d.latent ? (double)d.nh : (double)d.nq;
		double rows = (double)(prefill > 1 ? prefill : 1);
		sc = (double)B * maps * rows * cap;
		ex->scores = take(b, sc, C_SCRATCH);
		sc = 0;
	} else {
		/* flash tiles come from the graph; build both phases at the largest sizes */
		struct ar_workload wl = { .batch = B, .seq = cap, .attn = AR_ATTN_FLASH,
					  .wbits = 32, .abits = 32, .kvbits = 32, .tp = 1 };
		struct ar_graph g;
		for (int ph = 0; ph < AR_PHASE_COUNT; ph++) {
			wl.seq = ph == AR_PHASE_PREFILL ? prefill : cap;
			ar_graph_build(&g, m, &wl, onchip, (enum ar_phase)ph);
			double s = flash_bound(ex, &d, B, prefill, cap, ph == AR_PHASE_DECODE,
					       g.tile_rows, g.tile_cols);
			/* the plain kernel's buffers: one row of scores, one output per head */
			double r = (double)g.tile_cols + (double)d.nh * (d.dv + d.dc);
			if (ph == AR_PHASE_DECODE) { /* decode kernels, at the longest cache */
				struct ar_attn_args a;
				attn_args(&a, ex, &d, NULL, B, 1, cap, 1);
				s = fmax(s, (double)ar_kernels_decode_attn_scratch(&a, 0));
				r = fmax(r, (double)ar_kernels_decode_attn_ref_scratch(&a));
			}
			sc = s > sc ? s : sc;
			sc = r > sc ? r : sc;
		}
		ex->scores = NULL;
	}
	ex->scratch_floats = (size_t)sc;
	ex->scratch = take(b, sc, C_SCRATCH);
}

/* ---- set-up ---- */

double ar_exec_available_bytes(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	double kb = 0;

	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1)
				break;
		fclose(f);
	}
	if (kb > 0)
		return kb * 1024;
	long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	return pages > 0 && size > 0 ? (double)pages * size : 0;
}

void *ar_exec_alloc(size_t bytes)
{
	const size_t huge = (size_t)2 << 20;
	size_t n = (bytes + huge - 1) / huge * huge;
	void *p = aligned_alloc(huge, n ? n : huge);

#ifdef MADV_HUGEPAGE
	if (p)
		madvise(p, n ? n : huge, MADV_HUGEPAGE); /* advice only: failure changes nothing */
#endif
	return p;
}

static int check_model(const struct ar_model *m, long batch, long prefill, long capacity,
		       struct ar_err *err)
{
	/* tied K/V and grouped latents (arXiv 2505.21487) are modelled, not run */
	if (m->attn.tied || (m->attn.latent && m->attn.n_k != 1))
		return ar_errf(err, NULL, 0, 0,
			       "the executor runs MHA, GQA, MLA, GVA, GHA and GTA; '%s' is analysis only",
			       m->attn.arch);
	if (batch < 1 || prefill < 1 || capacity < prefill)
		return ar_errf(err, NULL, 0, 0, "run needs batch >= 1 and 1 <= seq <= capacity");
	if ((double)batch * capacity > 1e9 || (double)m->vocab * m->hidden > 4e9)
		return ar_errf(err, NULL, 0, 0, "run is too large to index");
	return 0;
}

int ar_exec_size(struct ar_exec_plan *plan, const struct ar_model *m, long batch,
		 long prefill, long capacity, enum ar_attn_impl attn, double onchip,
		 struct ar_err *err)
{
	struct ar_exec ex;
	struct bump b = { 0 };

	if (check_model(m, batch, prefill, capacity, err))
		return -1;
	memset(&ex, 0, sizeof(ex));
	ex.m = *m;
	ex.capacity = capacity;
	layout(&ex, &b, batch, prefill, capacity, attn, onchip);
	plan->weight_bytes = b.weights;
	plan->kv_bytes = b.kv;
	plan->act_bytes = b.act;
	plan->scratch_bytes = b.scratch;
	plan->total_bytes = (double)b.off + (double)m->layers * sizeof(struct ar_exec_layer);
	return 0;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform values in [−a, a], filled in blocks seeded by (seed, offset) so the
 * result does not depend on the thread count. */
static void fill(float *p, long n, float a, uint64_t seed)
{
	const long blk = 1 << 16;
	long nb = (n + blk - 1) / blk;

	if (!p)
		return;
#pragma omp parallel for schedule(static)
	for (long i = 0; i < nb; i++) {
		uint64_t s = seed * 0x100000001b3ULL + (uint64_t)i;
		long hi = (i + 1) * blk < n ? (i + 1) * blk : n;
		for (long j = i * blk; j < hi; j++) {
			uint64_t r = splitmix(&s);
			p[j] = a * ((float)(r >> 40) * (2.0f / 16777216.0f) - 1.0f);
		}
	}
}

static void fill_const(float *p, long n, float v)
{
	for (long i = 0; p && i < n; i++)
		p[i] = v;
}

static void init_values(struct ar_exec *ex, unsigned long seed, long B, long prefill)
{
	const struct ar_model *m = &ex->m;
	struct dims d;
	uint64_t s = seed;

	dims_of(&d, m);
	long ldH = ar_kernels_row_stride(d.H); /* the rows of H floats (take_rows) */
	fill(ex->embed, d.V * ldH, 1.0f, splitmix(&s));
	if (ex->lm_head)
		fill(ex->lm_head, d.V * ldH, 1.0f / sqrtf((float)d.H), splitmix(&s));
	fill_const(ex->final_norm_w, d.H, 1);
	fill_const(ex->final_norm_b, d.H, 0);
	for (long l = 0; l < m->layers; l++) {
		struct ar_exec_layer *ly = &ex->layers[l];
		float sH = 1.0f / sqrtf((float)d.H);
		float *mats[] = { ly->wq, ly->wk, ly->wv, ly->wqa, ly->wkva, ly->wg, ly->w_gate, ly->w_up };
		long ns[] = { d.latent ? d.nh * d.dq : d.nq * d.dk, d.kd, d.vd, d.qr, d.cw, d.hd, d.I, d.I };
		for (int i = 0; i < 8; i++)
			fill(mats[i], ns[i] * ldH, sH, splitmix(&s));
		float *bs[] = { ly->bq, ly->bk, ly->bv, ly->bg, ly->bo, ly->b_gate, ly->b_up, ly->b_down };
		long nbs[] = { d.nq * d.dk, d.kd, d.vd, d.hd, d.H, d.I, d.I, d.H };
		for (int i = 0; i < 8; i++)
			fill(bs[i], nbs[i], 0.02f, splitmix(&s));
		if (ly->wqb)
			fill(ly->wqb, d.qr * d.nh * d.dq, 1.0f / sqrtf((float)d.qr), splitmix(&s));
		if (ly->wkvb)
			fill(ly->wkvb, d.dc * d.ld, 1.0f / sqrtf((float)d.dc), splitmix(&s));
		if (ly->wp)
			fill(ly->wp, d.nh * d.dv * d.dh, 1.0f / sqrtf((float)d.dv), splitmix(&s));
		if (ly->vb)
			fill(ly->vb, d.dv * d.hd, 0.02f, splitmix(&s)); /* small, as the authors' init */
		long o_in = d.latent ? d.nh * d.dv
			  : d.gated || d.linear ? d.hd : (d.per_map ? d.nq : d.nh) * d.dv;
		fill(ly->wo, d.H * ar_kernels_row_stride(o_in), 1.0f / sqrtf((float)o_in), splitmix(&s));
		fill(ly->w_down, d.H * ar_kernels_row_stride(d.I), 1.0f / sqrtf((float)d.I),
		     splitmix(&s));
		fill(ly->router, d.E * ldH, sH, splitmix(&s));
		fill(ly->ew_gate, d.ne * d.Ie * ldH, sH, splitmix(&s));
		fill(ly->ew_up, d.ne * d.Ie * ldH, sH, splitmix(&s));
		fill(ly->ew_down, d.ne * d.H * ar_kernels_row_stride(d.Ie),
		     1.0f / sqrtf((float)(d.Ie ? d.Ie : 1)), splitmix(&s));
		fill(ly->eb_gate, d.ne * d.Ie, 0.02f, splitmix(&s));
		fill(ly->eb_up, d.ne * d.Ie, 0.02f, splitmix(&s));
		fill(ly->eb_down, d.ne * d.H, 0.02f, splitmix(&s));
		fill_const(ly->attn_norm_w, d.H, 1);
		fill_const(ly->mlp_norm_w, d.H, 1);
		fill_const(ly->attn_norm_b, d.H, 0);
		fill_const(ly->mlp_norm_b, d.H, 0);
		fill_const(ly->qa_norm, d.qr, 1);
		fill_const(ly->kva_norm, d.dc, 1);
		/* a written cache (never-touched pages would read as shared zeros) */
		long kvw = d.latent ? d.cw : d.kd;
		fill(ly->kc, B * ex->capacity * kvw, 1.0f, splitmix(&s));
		if (ly->vc)
			fill(ly->vc, B * ex->capacity * d.vd, 1.0f, splitmix(&s));
	}
	for (long t = 0; t < B * prefill; t++)
		ex->tokens[t] = (int)(splitmix(&s) % (uint64_t)d.V);
	long rd = d.latent ? d.dr : d.dk;
	ar_kernels_rope_table(ex->rope_cos, ex->rope_sin, ex->capacity, rd, ROPE_THETA);
}

int ar_exec_init(struct ar_exec *ex, const struct ar_model *m, long batch, long prefill,
		 long capacity, enum ar_attn_impl attn, double onchip, unsigned long seed,
		 double limit_bytes, struct ar_err *err)
{
	struct bump b = { 0 };

	memset(ex, 0, sizeof(*ex));
	if (ar_exec_size(&ex->plan, m, batch, prefill, capacity, attn, onchip, err))
		return -1;
	double avail = limit_bytes > 0 ? limit_bytes : ar_exec_available_bytes();
	if (avail > 0 && ex->plan.total_bytes > avail)
		return ar_errf(err, NULL, 0, 0, "run needs %.2f GB but only %.2f GB is available",
			       ex->plan.total_bytes / 1e9, avail / 1e9);
	ex->m = *m;
	ex->batch = batch;
	ex->rows_seq = prefill;
	ex->capacity = capacity;
	ex->onchip = onchip;
	ex->layers = calloc((size_t)m->layers, sizeof(*ex->layers));
	ex->arena = ar_exec_alloc((size_t)ex->plan.total_bytes + 64);
	if (!ex->layers || !ex->arena) {
		ar_exec_release(ex);
		return ar_errf(err, NULL, 0, 0, "cannot allocate %.2f GB for the run",
			       ex->plan.total_bytes / 1e9);
	}
	b.base = ex->arena;
	layout(ex, &b, batch, prefill, capacity, attn, onchip);
	memset(ex->x, 0, (size_t)(batch * prefill * m->hidden) * sizeof(float));
	init_values(ex, seed, batch, prefill);
	return 0;
}

void ar_exec_release(struct ar_exec *ex)
{
	free(ex->arena);
	free(ex->layers);
	memset(ex, 0, sizeof(*ex));
}

/* ---- running ---- */

struct phase {
	long B, Sq, Sk, T, pos0;
	int decode;
};

static void norm(struct ar_exec *ex, float *out, const float *in, const float *w,
		 const float *b, long T, struct ar_kcount *c)
{
	long H = ex->m.hidden;

	if (ex->m.norm == AR_NORM_LAYER)
		ex->ref ? ar_kernels_layernorm_ref(out, in, w, b, T, H, NORM_EPS, c)
			: ar_kernels_layernorm(out, in, w, b, T, H, NORM_EPS);
	else
		ex->ref ? ar_kernels_rmsnorm_ref(out, in, w, T, H, NORM_EPS, c)
			: ar_kernels_rmsnorm(out, in, w, T, H, NORM_EPS);
}

static void mm(struct ar_exec *ex, float *out, long ldo, long so, const float *in, long ldi,
	       long si, const float *w, long ldw, long sw, int transw, const float *bias,
	       long M, long K, long N, long groups, struct ar_kcount *c)
{
	if (ex->ref)
		ar_kernels_matmul_ref(out, ldo, so, in, ldi, si, w, ldw, sw, transw, bias, M, K, N,
				      groups, c);
	else
		ar_kernels_matmul(out, ldo, so, in, ldi, si, w, ldw, sw, transw, bias, M, K, N,
				  groups);
}

/* A projection of the phase's new tokens into the cache at positions
 * pos0 .. pos0+Sq−1 of every sequence (width n, cache rows cap·n apart). */
static void to_cache(struct ar_exec *ex, const struct phase *p, float *cache, long n,
		     const float *w, const float *bias, struct ar_kcount *c)
{
	long H = ex->m.hidden, cap = ex->capacity;
	float *dst = cache + p->pos0 * n;

	long ldw = ar_kernels_row_stride(H);

	if (p->Sq == 1) /* one row per sequence: one product, rows cap·n apart */
		mm(ex, dst, cap * n, 0, ex->xn, H, 0, w, ldw, 0, 1, bias, p->B, H, n, 1, c);
	else
		mm(ex, dst, n, cap * n, ex->xn, H, p->Sq * H, w, ldw, 0, 1, bias, p->Sq, H, n, p->B,
		   c);
}

/* The same for a head-major cache (B, heads, cap, hd): one product of every
 * new token into kvs (B·Sq, heads·hd), then each head's rows to its run of
 * positions */
static void to_cache_heads(struct ar_exec *ex, const struct phase *p, float *cache, long heads,
			   long hd, const float *w, const float *bias, struct ar_kcount *c)
{
	long H = ex->m.hidden, n = heads * hd;

	mm(ex, ex->kvs, n, 0, ex->xn, H, 0, w, ar_kernels_row_stride(H), 0, 1, bias, p->B * p->Sq,
	   H, n, 1, c);
	ar_kernels_to_heads(cache, ex->kvs, p->B, p->Sq, heads, hd, ex->capacity, p->pos0);
}

/* RoPE on the queries and the new keys in one dispatch */
static void rope(struct ar_exec *ex, const struct ar_rope_part parts[2], const struct phase *p,
		 long rd, struct ar_kcount *c)
{
	if (ex->ref)
		ar_kernels_rope_ref(parts, 2, p->B, p->Sq, rd, ex->rope_cos, ex->rope_sin, p->pos0, c);
	else
		ar_kernels_rope(parts, 2, p->B, p->Sq, rd, ex->rope_cos, ex->rope_sin, p->pos0);
}

/* Routing of T tokens (MoE): p = softmax of the router logits over the E
 * routed experts; each token goes to its `active` most probable experts
 * (ties to the lower index) with weight p, and to every shared expert with
 * weight 1.  Slots are grouped by expert (routed in order, then shared), the
 * token rows gathered into xg (slots, H).  Bookkeeping outside the graph's
 * FLOPs (its router op counts the product only). */
static void route(struct ar_exec *ex, const struct dims *d, long T)
{
	long E = d->E, H = d->H;
	int *off = ex->slot_off, *cur = ex->slot_cur;

	/* 1. probabilities in place, and how many tokens each expert gets */
	memset(off, 0, sizeof(int) * (size_t)(d->ne + 1));
	for (long t = 0; t < T; t++) {
		float *p = ex->rlogits + t * E, mx = p[0], s = 0;
		for (long e = 1; e < E; e++)
			mx = p[e] > mx ? p[e] : mx;
		for (long e = 0; e < E; e++)
			s += p[e] = expf(p[e] - mx);
		for (long e = 0; e < E; e++)
			p[e] /= s;
		/* top-k: mark the chosen by negating (probabilities are > 0) */
		for (long k = 0; k < d->act; k++) {
			long best = -1;
			for (long e = 0; e < E; e++)
				if (p[e] > 0 && (best < 0 || p[e] > p[best]))
					best = e;
			p[best] = -p[best];
			off[best + 1]++;
		}
	}
	for (long e = E; e < d->ne; e++)
		off[e + 1] = (int)T;
	for (long e = 0; e < d->ne; e++) {
		off[e + 1] += off[e];
		cur[e] = off[e];
	}
	/* 2. slots: token, weight, and its row gathered */
	for (long t = 0; t < T; t++)
		for (long e = 0; e < d->ne; e++) {
			float w = e < E ? -ex->rlogits[t * E + e] : 1.0f;
			if (w <= 0)
				continue;
			int r = cur[e]++;
			ex->slot_tok[r] = (int)t;
			ex->slot_w[r] = w;
			memcpy(ex->xg + r * H, ex->xn + t * H, sizeof(float) * (size_t)H);
		}
}

/* The MLP output of every token: xn (T, H) = Σ over its slots of weight ·
 * expert output (yd rows). */
static void combine(struct ar_exec *ex, const struct dims *d, long T)
{
	long H = d->H, slots = T * (d->act + d->sh);

	memset(ex->xn, 0, sizeof(float) * (size_t)(T * H));
	for (long r = 0; r < slots; r++) {
		float *o = ex->xn + (long)ex->slot_tok[r] * H, w = ex->slot_w[r];
		const float *y = ex->yd + r * H;
		for (long i = 0; i < H; i++)
			o[i] += w * y[i];
	}
}

static int run_op(struct ar_exec *ex, const struct ar_graph *g, const struct ar_op *op,
		  const struct phase *p, long l, struct ar_kcount *c, struct ar_err *err)
{
	const struct ar_model *m = &ex->m;
	struct ar_exec_layer *ly = &ex->layers[l];
	struct dims d;
	struct ar_attn_args a;
	long T = p->T, H = m->hidden, cap = ex->capacity;
	long ldH = ar_kernels_row_stride(H); /* weights' rows of H floats (take_rows) */
	int ref = ex->ref;

	dims_of(&d, m);
	attn_args(&a, ex, &d, ly, p->B, p->Sq, p->Sk, p->decode);
	long o_in = d.latent ? d.nh * d.dv : d.gated || d.linear ? d.hd : a.heads * d.dv;
	const float *o_src = d.latent ? (m->attn.absorb && p->decode ? ex->dec : ex->att)
			   : d.gated || d.linear ? ex->dec : ex->att;

	switch (op->id) {
	case AR_OP_EMBED:
		ar_kernels_embed(ex->x, ex->embed, ldH, ex->tokens, T, H);
		break;
	case AR_OP_ATTN_NORM:
		norm(ex, ex->xn, ex->x, ly->attn_norm_w, ly->attn_norm_b, T, c);
		break;
	case AR_OP_Q_PROJ: {
		long n = d.latent ? d.nh * d.dq : d.nq * d.dk;
		mm(ex, ex->q, n, 0, ex->xn, H, 0, ly->wq, ldH, 0, 1, ly->bq, T, H, n, 1, c);
		break;
	}
	case AR_OP_Q_A_PROJ:
		mm(ex, ex->qa, d.qr, 0, ex->xn, H, 0, ly->wqa, ldH, 0, 1, NULL, T, H, d.qr, 1, c);
		break;
	case AR_OP_Q_B_PROJ: {
		long n = d.nh * d.dq;
		mm(ex, ex->q, n, 0, ex->qa, d.qr, 0, ly->wqb, d.qr, 0, 1, NULL, T, d.qr, n, 1, c);
		break;
	}
	case AR_OP_K_PROJ:
		to_cache_heads(ex, p, ly->kc, d.nk, d.dk, ly->wk, ly->bk, c);
		break;
	case AR_OP_V_PROJ:
		to_cache_heads(ex, p, ly->vc, d.nv, d.dv, ly->wv, ly->bv, c);
		break;
	case AR_OP_KV_A_PROJ:
		to_cache(ex, p, ly->kc, d.cw, ly->wkva, NULL, c);
		break;
	case AR_OP_KV_B_PROJ:
		/* decompress the latent of every cached position: (B·Sk, d_c) → n_h·(d_nope + d_v) */
		mm(ex, ex->kvb, d.ld, p->Sk * d.ld, ly->kc, d.cw, cap * d.cw, ly->wkvb, d.dc, 0, 1,
		   NULL, p->Sk, d.dc, d.ld, p->B, c);
		break;
	case AR_OP_ROPE:
		if (d.latent) {
			const struct ar_rope_part parts[2] = {
				{ ex->q, p->Sq * d.nh * d.dq, d.nh * d.dq, d.nh, d.dq, d.dn },
				{ ly->kc + p->pos0 * d.cw, cap * d.cw, d.cw, 1, 0, d.dc },
			};
			rope(ex, parts, p, d.dr, c);
		} else {
			const struct ar_rope_part parts[2] = {
				{ ex->q, p->Sq * d.nq * d.dk, d.nq * d.dk, d.nq, d.dk, 0 },
				{ ly->kc + p->pos0 * d.dk, cap * d.kd, d.dk, d.nk, cap * d.dk, 0 },
			};
			rope(ex, parts, p, d.dk, c);
		}
		break;
	case AR_OP_Q_ABSORB:
		/* q_lat[h] = W_UK[h] · q_nope[h]; W_UK[h] is rows h·(d_nope+d_v) .. +d_nope of
		 * kv_b, one block of d_nope × d_c */
		mm(ex, ex->qabs, d.nh * d.cw, d.cw, ex->q, d.nh * d.dq, d.dq, ly->wkvb, d.dc,
		   (d.dn + d.dv) * d.dc, 0, NULL, T, d.dn, d.dc, d.nh, c);
		for (long t = 0; t < T; t++) /* the RoPE part of each query head, as is */
			for (long h = 0; h < d.nh; h++)
				memcpy(ex->qabs + (t * d.nh + h) * d.cw + d.dc,
				       ex->q + (t * d.nh + h) * d.dq + d.dn, (size_t)d.dr * sizeof(float));
		break;
	case AR_OP_QK:
		ref ? ar_kernels_qk_ref(ex->scores, &a, c) : ar_kernels_qk(ex->scores, &a);
		break;
	case AR_OP_SOFTMAX:
		ref ? ar_kernels_softmax_ref(ex->scores, p->B * a.maps * p->Sq, p->Sq, p->Sk, a.causal, c)
		    : ar_kernels_softmax(ex->scores, p->B * a.maps * p->Sq, p->Sq, p->Sk, a.causal);
		break;
	case AR_OP_AV:
		ref ? ar_kernels_av_ref(ex->scores, &a, c) : ar_kernels_av(ex->scores, &a);
		break;
	case AR_OP_FLASH:
		if (p->decode) {
			/* one position per sequence: the decode kernel streams K/V once */
			size_t need = ref ? ar_kernels_decode_attn_ref_scratch(&a)
				    : ar_kernels_decode_attn_scratch(&a, 0);
			if (need > ex->scratch_floats)
				return ar_errf(err, NULL, 0, 0, "decode attention needs more scratch than the executor planned");
			ref ? ar_kernels_decode_attn_ref(&a, ex->scratch, c)
			    : ar_kernels_decode_attn(&a, 0, ex->scratch);
		} else if (ref) {
			if (ar_kernels_flash_ref_scratch(&a, g->tile_cols) > ex->scratch_floats)
				return ar_errf(err, NULL, 0, 0, "flash tiles larger than the executor planned");
			ar_kernels_flash_ref(&a, g->tile_rows, g->tile_cols, ex->scratch, c);
		} else {
			if (ar_kernels_flash_scratch(&a, g->tile_rows, g->tile_cols) > ex->scratch_floats)
				return ar_errf(err, NULL, 0, 0, "flash tiles larger than the executor planned");
			ar_kernels_flash(&a, g->tile_rows, g->tile_cols, ex->scratch);
		}
		break;
	case AR_OP_OUT_ABSORB:
		/* o[h] = o_lat[h] · W_UV[h]; W_UV[h] is rows h·(d_nope+d_v)+d_nope .. +d_v of
		 * kv_b, one block of d_v × d_c */
		mm(ex, ex->dec, d.nh * d.dv, d.dv, ex->att, d.nh * d.dc, d.dc, ly->wkvb + d.dn * d.dc,
		   d.dc, (d.dn + d.dv) * d.dc, 1, NULL, T, d.dc, d.dv, d.nh, c);
		break;
	case AR_OP_W_P:
		mm(ex, ex->dec, d.hd, d.dh, ex->att, d.nh * d.dv, d.dv, ly->wp, d.dh, d.dv * d.dh, 0,
		   NULL, T, d.dv, d.dh, d.nh, c);
		break;
	case AR_OP_V_B_PROJ: {
		long w = d.hd / d.nq;
		mm(ex, ex->dec, d.hd, w, ex->att, d.nq * d.dv, d.dv, ly->vb, w, d.dv * w, 0, NULL,
		   T, d.dv, w, d.nq, c);
		break;
	}
	case AR_OP_DIRECT_ADD:
		ref ? ar_kernels_tile_add_ref(ex->dec, ex->att, T, d.nq, d.hd / d.nq, d.dv, c)
		    : ar_kernels_tile_add(ex->dec, ex->att, T, d.nq, d.hd / d.nq, d.dv);
		break;
	case AR_OP_G_PROJ:
		mm(ex, ex->gs, d.hd, 0, ex->xn, H, 0, ly->wg, ldH, 0, 1, ly->bg, T, H, d.hd, 1, c);
		break;
	case AR_OP_GATE:
		ref ? ar_kernels_gate_ref(ex->dec, ex->gs, ex->dec, T * d.hd, c)
		    : ar_kernels_gate(ex->dec, ex->gs, ex->dec, T * d.hd);
		break;
	case AR_OP_O_PROJ:
		mm(ex, ex->xn, H, 0, o_src, o_in, 0, ly->wo, ar_kernels_row_stride(o_in), 0, 1, ly->bo, T,
		   o_in, H, 1, c);
		break;
	case AR_OP_ATTN_ADD:
	case AR_OP_MLP_ADD:
		ref ? ar_kernels_add_ref(ex->x, ex->x, ex->xn, T * H, c)
		    : ar_kernels_add(ex->x, ex->x, ex->xn, T * H);
		break;
	case AR_OP_MLP_NORM:
		norm(ex, ex->xn, ex->x, ly->mlp_norm_w, ly->mlp_norm_b, T, c);
		break;
	case AR_OP_GATE_PROJ:
		mm(ex, ex->mg, d.I, 0, ex->xn, H, 0, ly->w_gate, ldH, 0, 1, ly->b_gate, T, H, d.I, 1, c);
		break;
	case AR_OP_UP_PROJ:
		mm(ex, ex->mu, d.I, 0, ex->xn, H, 0, ly->w_up, ldH, 0, 1, ly->b_up, T, H, d.I, 1, c);
		break;
	case AR_OP_MLP_ACT:
		if (m->mlp == AR_MLP_SWIGLU)
			ref ? ar_kernels_swiglu_ref(ex->mu, ex->mg, ex->mu, T * d.I, c)
			    : ar_kernels_swiglu(ex->mu, ex->mg, ex->mu, T * d.I);
		else
			ref ? ar_kernels_gelu_ref(ex->mu, ex->mu, T * d.I, c)
			    : ar_kernels_gelu(ex->mu, ex->mu, T * d.I);
		break;
	case AR_OP_DOWN_PROJ:
		mm(ex, ex->xn, H, 0, ex->mu, d.I, 0, ly->w_down, ar_kernels_row_stride(d.I), 0, 1,
		   ly->b_down, T, d.I, H, 1, c);
		break;
	case AR_OP_ROUTER:
		mm(ex, ex->rlogits, d.E, 0, ex->xn, H, 0, ly->router, ldH, 0, 1, NULL, T, H, d.E, 1, c);
		route(ex, &d, T);
		break;
	case AR_OP_EXP_GATE_PROJ:
	case AR_OP_EXP_UP_PROJ: {
		int gate = op->id == AR_OP_EXP_GATE_PROJ;
		const float *w = gate ? ly->ew_gate : ly->ew_up, *bias = gate ? ly->eb_gate : ly->eb_up;
		float *out = gate ? ex->mg : ex->mu;
		for (long e = 0; e < d.ne; e++) {
			long r0 = ex->slot_off[e], n = ex->slot_off[e + 1] - r0;
			if (n > 0)
				mm(ex, out + r0 * d.Ie, d.Ie, 0, ex->xg + r0 * H, H, 0, w + e * d.Ie * ldH,
				   ldH, 0, 1, bias ? bias + e * d.Ie : NULL, n, H, d.Ie, 1, c);
		}
		break;
	}
	case AR_OP_EXP_ACT: {
		long n = T * (d.act + d.sh) * d.Ie;
		if (m->mlp == AR_MLP_SWIGLU)
			ref ? ar_kernels_swiglu_ref(ex->mu, ex->mg, ex->mu, n, c)
			    : ar_kernels_swiglu(ex->mu, ex->mg, ex->mu, n);
		else
			ref ? ar_kernels_gelu_ref(ex->mu, ex->mu, n, c) : ar_kernels_gelu(ex->mu, ex->mu, n);
		break;
	}
	case AR_OP_EXP_DOWN_PROJ:
		for (long e = 0; e < d.ne; e++) {
			long r0 = ex->slot_off[e], n = ex->slot_off[e + 1] - r0;
			if (n > 0)
				mm(ex, ex->yd + r0 * H, H, 0, ex->mu + r0 * d.Ie, d.Ie, 0,
				   ly->ew_down + e * H * ar_kernels_row_stride(d.Ie),
				   ar_kernels_row_stride(d.Ie), 0, 1,
				   ly->eb_down ? ly->eb_down + e * H : NULL, n, d.Ie, H, 1, c);
		}
		combine(ex, &d, T);
		break;
	case AR_OP_FINAL_NORM:
		/* the last position of each sequence: in decode the B rows are
		 * contiguous (one dispatch); in prefill one row per sequence */
		if (p->Sq == 1)
			norm(ex, ex->xn, ex->x, ex->final_norm_w, ex->final_norm_b, p->B, c);
		else
			for (long b = 0; b < p->B; b++)
				norm(ex, ex->xn + b * H, ex->x + (b * p->Sq + p->Sq - 1) * H,
				     ex->final_norm_w, ex->final_norm_b, 1, c);
		break;
	case AR_OP_LM_HEAD:
		if (ex->lm_head)
			mm(ex, ex->logits, d.V, 0, ex->xn, H, 0, ex->lm_head, ldH, 0, 1, NULL, p->B, H,
			   d.V, 1, c);
		else /* tied: logits = x · Eᵀ, E (V, H) */
			mm(ex, ex->logits, d.V, 0, ex->xn, H, 0, ex->embed, ldH, 0, 1, NULL, p->B, H, d.V,
			   1, c);
		break;
	default:
		return ar_errf(err, NULL, 0, 0, "the executor cannot run op '%s'",
			       ar_op_names[op->id]);
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int is_head(enum ar_op_id id) { return id == AR_OP_EMBED; }

/* MoE models: the dense MLP's ops run on the first dense_layers layers, the
 * router's and experts' on the rest (the graph counts them so) */
static int runs_on(const struct ar_model *m, enum ar_op_id id, long l)
{
	switch (id) {
	case AR_OP_GATE_PROJ: case AR_OP_UP_PROJ: case AR_OP_MLP_ACT: case AR_OP_DOWN_PROJ:
		return !is_moe_layer(m, l);
	case AR_OP_ROUTER: case AR_OP_EXP_GATE_PROJ: case AR_OP_EXP_UP_PROJ: case AR_OP_EXP_ACT:
	case AR_OP_EXP_DOWN_PROJ:
		return is_moe_layer(m, l);
	default:
		return 1;
	}
}
static int is_tail(enum ar_op_id id) { return id == AR_OP_FINAL_NORM || id == AR_OP_LM_HEAD; }

int ar_exec_phase(struct ar_exec *ex, const struct ar_graph *g, double *op_s,
		  struct ar_kcount *counts, struct ar_err *err)
{
	struct phase p;
	double t[AR_GRAPH_MAX_OPS] = { 0 };
	struct ar_kcount cnt[AR_GRAPH_MAX_OPS];

	memset(cnt, 0, sizeof(cnt));
	p.decode = g->phase == AR_PHASE_DECODE;
	p.B = g->wl.batch;
	p.Sk = g->wl.seq;
	p.Sq = p.decode ? 1 : p.Sk;
	p.T = p.B * p.Sq;
	p.pos0 = p.Sk - p.Sq;
	if (p.B != ex->batch || p.Sq > ex->rows_seq || p.Sk > ex->capacity)
		return ar_errf(err, NULL, 0, 0,
			       "graph (batch %ld, %ld new of %ld positions) does not fit the executor (batch %ld, %ld, %ld)",
			       p.B, p.Sq, p.Sk, ex->batch, ex->rows_seq, ex->capacity);
	if (g->wl.tp != 1 || g->wl.wbits != 32 || g->wl.abits != 32 || g->wl.kvbits != 32)
		return ar_errf(err, NULL, 0, 0, "the executor runs fp32 on one device (--tp 1, 32 bits)");
	if ((g->wl.attn == AR_ATTN_NAIVE) != (ex->scores != NULL))
		return ar_errf(err, NULL, 0, 0, "graph and executor disagree on --attn");
	for (int pass = 0; pass < 3; pass++) {
		long layers = pass == 1 ? ex->m.layers : 1;
		for (long l = 0; l < layers; l++)
			for (int i = 0; i < g->n_ops; i++) {
				const struct ar_op *op = &g->ops[i];
				int where = is_head(op->id) ? 0 : is_tail(op->id) ? 2 : 1;
				if (where != pass || !runs_on(&ex->m, op->id, l))
					continue;
				double t0 = now_s();
				if (run_op(ex, g, op, &p, l, &cnt[i], err))
					return -1;
				t[i] += now_s() - t0;
			}
	}
	for (int i = 0; i < g->n_ops; i++) {
		double n = g->ops[i].layers > 0 ? g->ops[i].layers : 1;
		if (op_s)
			op_s[i] = t[i] / n;
		if (counts) {
			counts[i].mflops = cnt[i].mflops / n;
			counts[i].vflops = cnt[i].vflops / n;
		}
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int ar_exec_measure(struct ar_exec *ex, const struct ar_graph *g, int warmup, int repeats,
		    double *op_s, double *total_s, struct ar_err *err)
{
	enum { MAX_REP = 64 };
	static double runs[MAX_REP][AR_GRAPH_MAX_OPS];
	double tot[MAX_REP], col[MAX_REP];

	if (repeats < 1)
		repeats = 1;
	if (repeats > MAX_REP)
		repeats = MAX_REP;
	for (int w = 0; w < warmup; w++)
		if (ar_exec_phase(ex, g, NULL, NULL, err))
			return -1;
	for (int r = 0; r < repeats; r++) {
		if (ar_exec_phase(ex, g, runs[r], NULL, err))
			return -1;
		tot[r] = 0;
		for (int i = 0; i < g->n_ops; i++)
			tot[r] += runs[r][i] * g->ops[i].layers;
	}
	for (int i = 0; i < g->n_ops; i++) {
		for (int r = 0; r < repeats; r++)
			col[r] = runs[r][i];
		op_s[i] = median(col, repeats);
	}
	*total_s = median(tot, repeats);
	return 0;
}
