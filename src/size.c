/* Sizing (formulas in size.h and beside each function): memory fit, largest
 * batch and context, tensor-parallel degree and replicas for latency and
 * throughput targets, elasticities, KV offloading, the writers for them and
 * the size plots (data files drawn by plots/size-*.gp in an external gnuplot).
 * Searches are bisections over quantities that are monotone in the searched
 * variable; every point they test is an ar_analyze of that workload. */
#include "size.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doc.h"
#include "out.h"
#include "plot.h"

#ifndef AR_DATADIR
#define AR_DATADIR "."
#endif

const char *const ar_size_knob_names[AR_KNOB_COUNT] = { "bandwidth", "peak", "link" };
_Static_assert(sizeof(ar_size_knob_names) / sizeof(*ar_size_knob_names) == AR_KNOB_COUNT,
	       "knob names");

enum { MAX_BATCH = 1 << 20, MAX_SEQ = 1 << 24 };

double ar_size_usable(const struct ar_hw *hw, const struct ar_size_req *req)
{
	return hw->mem[0].capacity_bytes * (1 - req->reserve_frac) - req->reserve_bytes;
}

/* ---- memory fit ---- */

/* Per device: weights W, KV cache K = B·(S + G)·kv bytes per token, peak
 * activations A (the largest live set of the prefill of B·S tokens). */
static int memory(const struct ar_model *m, const struct ar_hw *hw,
		  const struct ar_workload *wl, double *w, double *kv, double *act,
		  struct ar_err *err)
{
	struct ar_analysis an;

	if (ar_analyze(&an, m, hw, wl, err))
		return -1;
	*w = an.weights_bytes;
	*kv = an.kv_cache_bytes;
	*act = an.activation_bytes;
	return 0;
}

int ar_size_fits(const struct ar_model *m, const struct ar_hw *hw,
		 const struct ar_workload *wl, double usable, int *fits,
		 double *total_bytes, struct ar_err *err)
{
	double w, kv, act;

	if (memory(m, hw, wl, &w, &kv, &act, err))
		return -1;
	*total_bytes = w + kv + act;
	*fits = *total_bytes <= usable;
	return 0;
}

/* ---- bisection ---- */

struct probe {
	const struct ar_model *m;
	const struct ar_hw *hw;
	struct ar_workload wl;
	double usable;
	double ttft_s, tpot_s;
	long batch_off;         /* crossover: the offloaded batch */
};

typedef int (*pred_fn)(struct probe *p, long x, int *yes, struct ar_err *err);

/* Largest x in [lo, hi] with pred(x), given that pred(lo) holds and that pred
 * is true up to some x and false after it. */
static int bisect(pred_fn f, struct probe *p, long lo, long hi, long *out, struct ar_err *err)
{
	while (lo < hi) {
		long mid = lo + (hi - lo + 1) / 2;
		int yes;
		if (f(p, mid, &yes, err))
			return -1;
		if (yes)
			lo = mid;
		else
			hi = mid - 1;
	}
	*out = lo;
	return 0;
}

static int fits_at_batch(struct probe *p, long b, int *yes, struct ar_err *err)
{
	double tot;

	p->wl.batch = b;
	return ar_size_fits(p->m, p->hw, &p->wl, p->usable, yes, &tot, err);
}

static int fits_at_seq(struct probe *p, long s, int *yes, struct ar_err *err)
{
	double tot;

	p->wl.seq = s;
	return ar_size_fits(p->m, p->hw, &p->wl, p->usable, yes, &tot, err);
}

int ar_size_max_batch(const struct ar_model *m, const struct ar_hw *hw,
		      const struct ar_workload *wl, double usable, long *out,
		      struct ar_err *err)
{
	struct probe p = { .m = m, .hw = hw, .wl = *wl, .usable = usable };
	double w, kv1, act1;
	int yes, next;

	*out = 0;
	p.wl.batch = 1;
	if (memory(m, hw, &p.wl, &w, &kv1, &act1, err))
		return -1;
	if (w + kv1 + act1 > usable)
		return 0;
	/* W + B·(K₁ + A₁) ≤ usable  ⇒  B = ⌊(usable − W) / (K₁ + A₁)⌋ */
	double guess = floor((usable - w) / (kv1 + act1));
	long g = guess >= MAX_BATCH ? MAX_BATCH : guess < 1 ? 1 : (long)guess;
	if (fits_at_batch(&p, g, &yes, err))
		return -1;
	if (yes && g == MAX_BATCH) {
		*out = g;
		return 0;
	}
	if (yes) {
		if (fits_at_batch(&p, g + 1, &next, err))
			return -1;
		if (!next) {
			*out = g;
			return 0;
		}
	}
	/* the linear model missed (rounding at the edge): search instead */
	return bisect(fits_at_batch, &p, 1, MAX_BATCH, out, err);
}

int ar_size_max_context(const struct ar_model *m, const struct ar_hw *hw,
			const struct ar_workload *wl, double usable, long *out,
			struct ar_err *err)
{
	struct probe p = { .m = m, .hw = hw, .wl = *wl, .usable = usable };
	int yes;

	*out = 0;
	if (fits_at_seq(&p, 1, &yes, err))
		return -1;
	if (!yes)
		return 0;
	return bisect(fits_at_seq, &p, 1, MAX_SEQ - wl->gen, out, err);
}

/* ---- latency ---- */

int ar_size_latency(const struct ar_model *m, const struct ar_hw *hw,
		    const struct ar_workload *wl, double *ttft_s, double *tpot_s,
		    struct ar_err *err)
{
	struct ar_analysis an;

	if (ar_analyze(&an, m, hw, wl, err))
		return -1;
	*ttft_s = an.time[AR_PHASE_PREFILL].time_s;
	*tpot_s = wl->gen >= 2 ? an.gen.tpot_s : an.time[AR_PHASE_DECODE].time_s;
	return 0;
}

static int meets_at_batch(struct probe *p, long b, int *yes, struct ar_err *err)
{
	double ttft, tpot;

	p->wl.batch = b;
	if (ar_size_latency(p->m, p->hw, &p->wl, &ttft, &tpot, err))
		return -1;
	*yes = (p->ttft_s <= 0 || ttft <= p->ttft_s) && (p->tpot_s <= 0 || tpot <= p->tpot_s);
	return 0;
}

int ar_size_best_batch(const struct ar_model *m, const struct ar_hw *hw,
		       const struct ar_workload *wl, long max_batch, double ttft_s,
		       double tpot_s, long *out, struct ar_err *err)
{
	struct probe p = { .m = m, .hw = hw, .wl = *wl, .ttft_s = ttft_s, .tpot_s = tpot_s };
	int yes;

	*out = 0;
	if (max_batch < 1)
		return 0;
	if (meets_at_batch(&p, 1, &yes, err))
		return -1;
	if (!yes)
		return 0;
	return bisect(meets_at_batch, &p, 1, max_batch, out, err);
}

/* Link time spent in the all-reduce ops of each phase, whole model. */
static int allreduce(const struct ar_model *m, const struct ar_hw *hw,
		     const struct ar_workload *wl, double *prefill_s, double *decode_s,
		     struct ar_err *err)
{
	struct ar_analysis an;
	double *out[AR_PHASE_COUNT] = { prefill_s, decode_s };

	if (ar_analyze(&an, m, hw, wl, err))
		return -1;
	for (int p = 0; p < AR_PHASE_COUNT; p++) {
		*out[p] = 0;
		for (int i = 0; i < an.graph[p].n_ops; i++) {
			const struct ar_op *op = &an.graph[p].ops[i];
			if (ar_op_kind(op->id) == AR_KIND_COMM)
				*out[p] += an.time[p].ops[i].time_s * op->layers;
		}
	}
	return 0;
}

/* ---- offloading ---- */

/* Decode step with the KV cache in host memory.  Each layer's K/V comes over
 * the host link while the device works on the layers before it (a prefetching
 * offloaded cache, as the GTA paper's OffloadedStaticCache benchmark uses):
 *   t_dev  = roofline time of the decode graph with its KV-read bytes removed
 *            and only two layers of K/V (the prefetch buffers) on the device
 *   t_host = Σ_ops kv_read_bytes · layers / host_link_bw
 *   t_step = max(t_dev, t_host)          (transfer and compute overlap fully)
 * The new token's K/V is written to the device buffer and copied back in the
 * link's other direction, which is not the bottleneck.  Device memory holds
 * W + A + 2·(one layer's K/V for the batch). */
int ar_size_offload_step(const struct ar_model *m, const struct ar_hw *hw,
			 const struct ar_workload *wl, double *step_s, double *host_kv_s,
			 double *device_bytes, struct ar_err *err)
{
	struct ar_analysis an;
	struct ar_phase_time t;
	double kv_read = 0;

	if (hw->host_link_bw_bytes_per_s <= 0)
		return ar_errf(err, NULL, 0, 0,
			       "device '%s' has no host link (host_link_bw_bytes_per_s), so offloading cannot be modelled",
			       hw->name);
	if (ar_analyze(&an, m, hw, wl, err))
		return -1;
	struct ar_graph *g = &an.graph[AR_PHASE_DECODE];
	for (int i = 0; i < g->n_ops; i++) {
		kv_read += g->ops[i].bytes[AR_B_KV_READ] * g->ops[i].layers;
		g->ops[i].bytes[AR_B_KV_READ] = 0;
	}
	g->kv_cache_bytes = 2 * g->kv_layer_bytes;
	if (ar_roofline_eval(g, hw, &t, err))
		return -1;
	*host_kv_s = kv_read / hw->host_link_bw_bytes_per_s;
	*step_s = fmax(t.time_s, *host_kv_s);
	*device_bytes = an.weights_bytes + an.activation_bytes + 2 * g->kv_layer_bytes;
	return 0;
}

static int offload_fits_at_batch(struct probe *p, long b, int *yes, struct ar_err *err)
{
	double step, host, dev;

	p->wl.batch = b;
	if (ar_size_offload_step(p->m, p->hw, &p->wl, &step, &host, &dev, err))
		return -1;
	*yes = dev <= p->usable;
	return 0;
}

static int offload_fits_at_seq(struct probe *p, long s, int *yes, struct ar_err *err)
{
	p->wl.seq = s;
	return offload_fits_at_batch(p, p->wl.batch, yes, err);
}

/* Decode tokens/s at context s: on the device with the largest batch that fits
 * (0 when none does), and offloaded with batch p->batch_off. */
static int tps_at_seq(struct probe *p, long s, double *dev_tps, long *dev_b, double *off_tps,
		      struct ar_err *err)
{
	struct ar_workload w = p->wl;
	double step, host, dev, ttft, tpot;

	w.seq = s;
	w.batch = 1;
	if (ar_size_max_batch(p->m, p->hw, &w, p->usable, dev_b, err))
		return -1;
	*dev_tps = 0;
	if (*dev_b > 0) {
		w.batch = *dev_b;
		if (ar_size_latency(p->m, p->hw, &w, &ttft, &tpot, err))
			return -1;
		*dev_tps = (double)*dev_b / tpot;
	}
	w.batch = p->batch_off;
	if (ar_size_offload_step(p->m, p->hw, &w, &step, &host, &dev, err))
		return -1;
	*off_tps = (double)p->batch_off / step;
	return 0;
}

static int offload_wins_at_seq(struct probe *p, long s, int *yes, struct ar_err *err)
{
	double dt, ot;
	long db;

	if (tps_at_seq(p, s, &dt, &db, &ot, err))
		return -1;
	*yes = ot > dt;
	return 0;
}

/* "Not yet winning" as a predicate that is true up to the crossover, so that
 * bisect finds the last losing context. */
static int offload_loses_at_seq(struct probe *p, long s, int *yes, struct ar_err *err)
{
	if (offload_wins_at_seq(p, s, yes, err))
		return -1;
	*yes = !*yes;
	return 0;
}

/* The crossover context: contexts 1, 2, 4, ... up to the longest at which the
 * offloaded batch fits are tried until offloading wins, then the bracket
 * (last loss, first win] is bisected (taken as monotone inside it). */
static int offload_crossover(struct ar_size_offload *o, struct probe *p, struct ar_err *err)
{
	struct probe q = *p;
	long s_max, s, prev = 0;
	int yes;

	q.wl.gen = 0;
	q.wl.batch = p->batch_off;
	if (offload_fits_at_seq(&q, 1, &yes, err))
		return -1;
	if (!yes)
		return 0;
	if (bisect(offload_fits_at_seq, &q, 1, MAX_SEQ, &s_max, err))
		return -1;
	q.wl.batch = p->batch_off;
	for (s = 1;; s = s * 2 > s_max ? s_max : s * 2) {
		if (offload_wins_at_seq(&q, s, &yes, err))
			return -1;
		if (yes)
			break;
		if (s == s_max)
			return 0;
		prev = s;
	}
	if (prev > 0 && bisect(offload_loses_at_seq, &q, prev, s - 1, &prev, err))
		return -1;
	o->crossover_context = prev + 1;
	return tps_at_seq(&q, prev + 1, &o->crossover_device_tps, &o->crossover_device_batch,
			  &o->crossover_offload_tps, err);
}

static int offload(struct ar_size_offload *o, const struct ar_model *m, const struct ar_hw *hw,
		   const struct ar_workload *wl, double usable, struct ar_err *err)
{
	struct probe p = { .m = m, .hw = hw, .wl = *wl, .usable = usable, .batch_off = wl->batch };
	double ttft;
	int yes;

	memset(o, 0, sizeof(*o));
	if (hw->host_link_bw_bytes_per_s <= 0)
		return 0;
	o->available = 1;
	p.wl.gen = 0;
	if (ar_size_latency(m, hw, &p.wl, &ttft, &o->device_step_s, err) ||
	    ar_size_offload_step(m, hw, &p.wl, &o->step_s, &o->host_kv_s, &o->device_bytes, err))
		return -1;
	o->fits = o->device_bytes <= usable;
	if (offload_fits_at_batch(&p, 1, &yes, err))
		return -1;
	if (yes && bisect(offload_fits_at_batch, &p, 1, MAX_BATCH, &o->max_batch, err))
		return -1;
	return offload_crossover(o, &p, err);
}

/* ---- sensitivity ---- */

/* Elasticity of each phase's time t to a knob x: d ln t / d ln x, by a
 * central difference with x scaled by 1.01 and 0.99:
 *   e = ln(t₊ / t₋) / ln(1.01 / 0.99)
 * (exactly −1 for t ∝ 1/x, 0 for t independent of x).  −1 means time
 * falls in proportion (fully bound by x), 0 that x does not matter.  The
 * decode phase is one step at KV length S.  A knob the device lacks (no link)
 * has elasticity 0. */
static int elasticities(double e[AR_PHASE_COUNT][AR_KNOB_COUNT], const struct ar_model *m,
			const struct ar_hw *hw, const struct ar_workload *wl, struct ar_err *err)
{
	struct ar_analysis an;
	struct ar_hw h;
	double t0[AR_PHASE_COUNT], tp[AR_PHASE_COUNT];
	char set[64];

	if (ar_analyze(&an, m, hw, wl, err))
		return -1;
	for (int p = 0; p < AR_PHASE_COUNT; p++)
		t0[p] = an.time[p].time_s;
	for (int k = 0; k < AR_KNOB_COUNT; k++) {
		for (int p = 0; p < AR_PHASE_COUNT; p++)
			e[p][k] = 0;
		if (k == AR_KNOB_LINK && hw->link_bw_bytes_per_s <= 0)
			continue;
		for (int sign = 1; sign >= -1; sign -= 2) {
			h = *hw;
			snprintf(set, sizeof(set), "%s=%.2fx", ar_size_knob_names[k], 1 + 0.01 * sign);
			if (ar_hw_set(&h, set, err) || ar_analyze(&an, m, &h, wl, err))
				return -1;
			for (int p = 0; p < AR_PHASE_COUNT; p++) {
				if (sign > 0)
					tp[p] = an.time[p].time_s;
				else if (t0[p] > 0)
					e[p][k] = log(tp[p] / an.time[p].time_s) / log(1.01 / 0.99);
			}
		}
	}
	return 0;
}

/* ---- the whole run ---- */

static int config(struct ar_size_config *c, const struct ar_model *m, const struct ar_hw *hw,
		  const struct ar_size_req *req, double usable, long tp, struct ar_err *err)
{
	struct ar_workload w = req->wl;

	memset(c, 0, sizeof(*c));
	c->tp = tp;
	w.tp = tp;
	if (ar_size_max_batch(m, hw, &w, usable, &c->max_batch, err) ||
	    ar_size_best_batch(m, hw, &w, c->max_batch, req->ttft_s, req->tpot_s, &c->batch, err))
		return -1;
	c->fits = c->max_batch >= req->wl.batch;
	c->meets = c->fits && c->batch >= req->wl.batch;
	if (c->batch < 1)
		return 0;
	w.batch = c->batch;
	if (ar_size_latency(m, hw, &w, &c->ttft_s, &c->tpot_s, err) ||
	    allreduce(m, hw, &w, &c->allreduce_prefill_s, &c->allreduce_decode_s, err))
		return -1;
	c->throughput = (double)c->batch / c->tpot_s;
	/* replicas R = ⌈target / throughput of one⌉, devices = tp·R */
	c->replicas = 1;
	if (req->throughput > 0) {
		double r = ceil(req->throughput / c->throughput);
		c->replicas = r > 1e12 ? (long)1e12 : (long)r;
	}
	c->devices = tp * c->replicas;
	return 0;
}

/* Does config a beat config b: fewer devices, then more total tokens/s. */
static int cheaper(const struct ar_size_config *a, const struct ar_size_config *b)
{
	if (a->devices != b->devices)
		return a->devices < b->devices;
	return a->throughput * (double)a->replicas > b->throughput * (double)b->replicas;
}

int ar_size_run(struct ar_size_result *r, const struct ar_model *m, const struct ar_hw *hw,
		const struct ar_size_req *req, struct ar_err *err)
{
	struct ar_analysis an;
	struct ar_workload one = req->wl;
	struct ar_err probe_err;
	double usable = ar_size_usable(hw, req);

	memset(r, 0, sizeof(*r));
	r->best = -1;
	snprintf(r->model, sizeof(r->model), "%s", m->name);
	snprintf(r->arch, sizeof(r->arch), "%s", m->attn.arch);
	snprintf(r->hw, sizeof(r->hw), "%s", hw->name);
	r->wl = req->wl;
	r->capacity_bytes = hw->mem[0].capacity_bytes;
	r->reserve_bytes = r->capacity_bytes - usable;
	r->usable_bytes = usable;
	if (!(req->reserve_frac >= 0 && req->reserve_frac < 1 && req->reserve_bytes >= 0))
		return ar_errf(err, NULL, 0, 0, "--reserve must be a share in [0, 1) or bytes >= 1");
	if (usable <= 0)
		return ar_errf(err, NULL, 0, 0,
			       "--reserve %g bytes leaves nothing of %s's %g bytes of memory",
			       req->reserve_bytes, hw->name, r->capacity_bytes);

	if (ar_analyze(&an, m, hw, &req->wl, err))
		return -1;
	r->weights_bytes = an.weights_bytes;
	r->kv_bytes_per_token = an.kv_bytes_per_token;
	r->kv_cache_bytes = an.kv_cache_bytes;
	r->activation_bytes = an.activation_bytes;
	r->total_bytes = an.weights_bytes + an.kv_cache_bytes + an.activation_bytes;
	r->fits = r->total_bytes <= usable;
	one.batch = 1;
	if (memory(m, hw, &one, &r->weights_bytes, &r->kv_bytes_per_seq, &r->act_bytes_per_seq,
		   err))
		return -1;
	if (ar_size_max_batch(m, hw, &req->wl, usable, &r->max_batch, err) ||
	    ar_size_max_context(m, hw, &req->wl, usable, &r->max_context, err) ||
	    ar_size_latency(m, hw, &req->wl, &r->ttft_s, &r->tpot_s, err))
		return -1;

	/* tp = 1, 2, 4, ... that divide the model; > 1 only over a device link */
	for (long tp = 1; tp <= req->max_tp && r->n_configs < AR_SIZE_MAX_CONFIGS; tp *= 2) {
		struct ar_workload w = req->wl;
		w.tp = tp;
		if (tp > 1 && hw->link_bw_bytes_per_s <= 0)
			break;
		if (tp > m->attn.n_h)
			break;
		if (ar_workload_check(m, &w, &probe_err))
			continue;
		struct ar_size_config *c = &r->configs[r->n_configs];
		if (config(c, m, hw, req, usable, tp, err))
			return -1;
		if (c->meets && (r->best < 0 || cheaper(c, &r->configs[r->best])))
			r->best = r->n_configs;
		r->n_configs++;
	}
	if (elasticities(r->elasticity, m, hw, &req->wl, err))
		return -1;
	if (req->offload && offload(&r->off, m, hw, &req->wl, usable, err))
		return -1;
	return 0;
}

/* ---- ranking ---- */

int ar_size_rank(const struct ar_size_result *r, int n_results, int (*idx)[2], int n)
{
	int k = 0;

	/* insertion sort: a handful of configurations per result */
	for (int i = 0; i < n_results; i++)
		for (int c = 0; c < r[i].n_configs && k < n; c++) {
			const struct ar_size_config *x = &r[i].configs[c];
			if (!x->meets)
				continue;
			int j = k++;
			while (j > 0 && cheaper(x, &r[idx[j - 1][0]].configs[idx[j - 1][1]])) {
				idx[j][0] = idx[j - 1][0];
				idx[j][1] = idx[j - 1][1];
				j--;
			}
			idx[j][0] = i;
			idx[j][1] = c;
		}
	return k;
}

/* ---- writers ---- */

static const char *yesno(int b)
{
	return b ? "yes" : "no";
}

static void table_one(FILE *f, const struct ar_size_result *r, const struct ar_size_req *req)
{
	const struct ar_workload *w = &r->wl;
	char b1[32], b2[32], b3[32], b4[32];

	fprintf(f, "%s (%s) on %s: capacity %s, reserve %s, usable %s\n", r->model, r->arch, r->hw,
		ar_fmt_si(b1, sizeof(b1), r->capacity_bytes, "B"),
		ar_fmt_si(b2, sizeof(b2), r->reserve_bytes, "B"),
		ar_fmt_si(b3, sizeof(b3), r->usable_bytes, "B"));
	fprintf(f, "  workload   context %ld, batch %ld, gen %ld, tp %ld, W%d A%d KV%d\n", w->seq,
		w->batch, w->gen, w->tp, w->wbits, w->abits, w->kvbits);
	fprintf(f, "  memory     weights %s + KV cache %s + activations %s = %s per device: %s\n",
		ar_fmt_si(b1, sizeof(b1), r->weights_bytes, "B"),
		ar_fmt_si(b2, sizeof(b2), r->kv_cache_bytes, "B"),
		ar_fmt_si(b3, sizeof(b3), r->activation_bytes, "B"),
		ar_fmt_si(b4, sizeof(b4), r->total_bytes, "B"), r->fits ? "fits" : "does not fit");
	fprintf(f, "  per seq    KV cache %s (%s per token), activations %s\n",
		ar_fmt_si(b1, sizeof(b1), r->kv_bytes_per_seq, "B"),
		ar_fmt_si(b2, sizeof(b2), r->kv_bytes_per_seq / (double)(w->seq + w->gen), "B"),
		ar_fmt_si(b3, sizeof(b3), r->act_bytes_per_seq, "B"));
	fprintf(f, "  max batch  %ld at context %ld\n", r->max_batch, w->seq);
	fprintf(f, "  max context %ld at batch %ld\n", r->max_context, w->batch);
	fprintf(f, "  latency    TTFT %s, TPOT %s at batch %ld\n",
		ar_fmt_si(b1, sizeof(b1), r->ttft_s, "s"), ar_fmt_si(b2, sizeof(b2), r->tpot_s, "s"),
		w->batch);
	fprintf(f, "  configurations (batch: the largest meeting the targets):\n");
	fprintf(f, "    %4s %9s %6s %10s %10s %12s %8s %7s %10s %10s %5s\n", "tp", "max_batch",
		"batch", "TTFT", "TPOT", "tokens/s", "replicas", "devices", "AR prefill",
		"AR decode", "meets");
	for (int i = 0; i < r->n_configs; i++) {
		const struct ar_size_config *c = &r->configs[i];
		fprintf(f, "    %4ld %9ld %6ld %10s %10s %12.1f %8ld %7ld %10s %10s %5s%s\n", c->tp,
			c->max_batch, c->batch, ar_fmt_si(b1, sizeof(b1), c->ttft_s, "s"),
			ar_fmt_si(b2, sizeof(b2), c->tpot_s, "s"), c->throughput, c->replicas,
			c->devices, ar_fmt_si(b3, sizeof(b3), c->allreduce_prefill_s, "s"),
			ar_fmt_si(b4, sizeof(b4), c->allreduce_decode_s, "s"), yesno(c->meets),
			i == r->best ? "  <- fewest devices" : "");
	}
	if (r->best < 0)
		fprintf(f, "  devices    none of the tried configurations meets the request\n");
	else
		fprintf(f, "  devices    %ld (tp %ld x %ld replicas)\n", r->configs[r->best].devices,
			r->configs[r->best].tp, r->configs[r->best].replicas);
	fprintf(f, "  sensitivity (%% time change per %% change of the knob):\n");
	fprintf(f, "    %-8s %10s %10s %10s\n", "phase", "bandwidth", "peak", "link");
	for (int p = 0; p < AR_PHASE_COUNT; p++)
		fprintf(f, "    %-8s %10.3f %10.3f %10.3f\n", ar_phase_names[p],
			r->elasticity[p][AR_KNOB_BANDWIDTH], r->elasticity[p][AR_KNOB_PEAK],
			r->elasticity[p][AR_KNOB_LINK]);
	if (!req->offload)
		return;
	const struct ar_size_offload *o = &r->off;
	if (!o->available) {
		fprintf(f, "  offload    the device has no host link\n");
		return;
	}
	fprintf(f, "  offload    decode step %s with the KV cache in host memory (host link %s), "
		   "%s on the device; needs %s on the device: %s\n",
		ar_fmt_si(b1, sizeof(b1), o->step_s, "s"), ar_fmt_si(b2, sizeof(b2), o->host_kv_s, "s"),
		ar_fmt_si(b3, sizeof(b3), o->device_step_s, "s"),
		ar_fmt_si(b4, sizeof(b4), o->device_bytes, "B"), o->fits ? "fits" : "does not fit");
	fprintf(f, "             max batch %ld offloaded at context %ld\n", o->max_batch, w->seq);
	if (o->crossover_context > 0)
		fprintf(f, "             from context %ld, batch %ld offloaded (%.1f tokens/s) beats "
			   "the largest batch on the device (%ld, %.1f tokens/s)\n",
			o->crossover_context, w->batch, o->crossover_offload_tps,
			o->crossover_device_batch, o->crossover_device_tps);
	else
		fprintf(f, "             batch %ld offloaded never beats the largest batch on the device\n",
			w->batch);
}

int ar_size_write_table(FILE *f, const struct ar_size_result *r, int n,
			const struct ar_size_req *req)
{
	char b1[32];

	for (int i = 0; i < n; i++) {
		if (i)
			fputc('\n', f);
		table_one(f, &r[i], req);
	}
	if (n > 1) {
		fprintf(f, "\nside by side (context %ld, batch %ld):\n", req->wl.seq, req->wl.batch);
		fprintf(f, "  %-16s %-8s %-12s %10s %11s %10s %7s\n", "model", "arch", "hardware",
			"max_batch", "max_context", "KV/token", "devices");
		for (int i = 0; i < n; i++) {
			fprintf(f, "  %-16s %-8s %-12s %10ld %11ld %10s ", r[i].model, r[i].arch,
				r[i].hw, r[i].max_batch, r[i].max_context,
				ar_fmt_si(b1, sizeof(b1), r[i].kv_bytes_per_token, "B"));
			if (r[i].best < 0)
				fprintf(f, "%7s\n", "-");
			else
				fprintf(f, "%7ld\n", r[i].configs[r[i].best].devices);
		}
	}
	if (n > 1 || req->ttft_s > 0 || req->tpot_s > 0 || req->throughput > 0) {
		int (*idx)[2] = malloc(sizeof(*idx) * (size_t)n * AR_SIZE_MAX_CONFIGS);
		if (!idx)
			return -1;
		int k = ar_size_rank(r, n, idx, n * AR_SIZE_MAX_CONFIGS);
		fprintf(f, "\nmeeting the request, fewest devices first:\n");
		if (!k)
			fprintf(f, "  none\n");
		for (int j = 0; j < k; j++) {
			const struct ar_size_result *x = &r[idx[j][0]];
			const struct ar_size_config *c = &x->configs[idx[j][1]];
			fprintf(f, "  %2d. %-16s %-12s tp %-3ld x %ld replicas = %ld devices, batch %ld, "
				   "%.1f tokens/s\n", j + 1, x->model, x->hw, c->tp, c->replicas,
				c->devices, c->batch, c->throughput * (double)c->replicas);
		}
		free(idx);
	}
	return ferror(f) ? -1 : 0;
}

int ar_size_write_csv(FILE *f, const struct ar_size_result *r, int n,
		      const struct ar_size_req *req)
{
	(void)req;
	fprintf(f, "model,arch,hardware,context,batch,gen,capacity_bytes,usable_bytes,"
		   "weights_bytes,kv_bytes_per_token,kv_cache_bytes,activation_bytes,total_bytes,"
		   "fits,max_batch,max_context,tp,tp_max_batch,tp_batch,ttft_s,tpot_s,"
		   "throughput_tok_per_s,replicas,devices,meets,fewest_devices,allreduce_prefill_s,"
		   "allreduce_decode_s");
	for (int p = 0; p < AR_PHASE_COUNT; p++)
		for (int k = 0; k < AR_KNOB_COUNT; k++)
			fprintf(f, ",elasticity_%s_%s", ar_phase_names[p], ar_size_knob_names[k]);
	fprintf(f, ",offload_step_s,offload_max_batch,offload_crossover_context\n");
	for (int i = 0; i < n; i++) {
		const struct ar_size_result *x = &r[i];
		for (int j = 0; j < x->n_configs; j++) {
			const struct ar_size_config *c = &x->configs[j];
			fprintf(f, "%s,%s,%s,%ld,%ld,%ld,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,"
				   "%d,%ld,%ld,%ld,%ld,%ld,%.17g,%.17g,%.17g,%ld,%ld,%d,%d,%.17g,%.17g",
				x->model, x->arch, x->hw, x->wl.seq, x->wl.batch, x->wl.gen,
				x->capacity_bytes, x->usable_bytes, x->weights_bytes,
				x->kv_bytes_per_token, x->kv_cache_bytes, x->activation_bytes,
				x->total_bytes, x->fits, x->max_batch, x->max_context, c->tp,
				c->max_batch, c->batch, c->ttft_s, c->tpot_s, c->throughput,
				c->replicas, c->devices, c->meets, j == x->best,
				c->allreduce_prefill_s, c->allreduce_decode_s);
			for (int p = 0; p < AR_PHASE_COUNT; p++)
				for (int k = 0; k < AR_KNOB_COUNT; k++)
					fprintf(f, ",%.17g", x->elasticity[p][k]);
			if (x->off.available)
				fprintf(f, ",%.17g,%ld,%ld\n", x->off.step_s, x->off.max_batch,
					x->off.crossover_context);
			else
				fprintf(f, ",,,\n");
		}
	}
	return ferror(f) ? -1 : 0;
}

/* JSON numbers: non-finite values become null. */
static void jnum(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.17g", v);
	else
		fputs("null", f);
}

static void json_request(FILE *f, const struct ar_size_req *q, const char *ind)
{
	const struct ar_workload *w = &q->wl;

	fprintf(f, "%s\"request\": {\"context\": %ld, \"batch\": %ld, \"gen\": %ld, \"tp\": %ld, "
		   "\"attn\": \"%s\", \"wbits\": %d, \"abits\": %d, \"kvbits\": %d, "
		   "\"reserve_frac\": ", ind, w->seq, w->batch, w->gen, w->tp,
		ar_attn_impl_names[w->attn], w->wbits, w->abits, w->kvbits);
	jnum(f, q->reserve_frac);
	fprintf(f, ", \"reserve_bytes\": ");
	jnum(f, q->reserve_bytes);
	fprintf(f, ", \"ttft_s\": ");
	q->ttft_s > 0 ? jnum(f, q->ttft_s) : (void)fputs("null", f);
	fprintf(f, ", \"tpot_s\": ");
	q->tpot_s > 0 ? jnum(f, q->tpot_s) : (void)fputs("null", f);
	fprintf(f, ", \"throughput_tok_per_s\": ");
	q->throughput > 0 ? jnum(f, q->throughput) : (void)fputs("null", f);
	fprintf(f, ", \"offload\": %s}", q->offload ? "true" : "false");
}

/* The fields of one result, each line starting with ind. */
static void json_fields(FILE *f, const struct ar_size_result *r, const struct ar_size_req *req,
			const char *ind)
{
	const struct ar_size_config *b = r->best >= 0 ? &r->configs[r->best] : NULL;

	fprintf(f, "%s\"model\": {\"name\": ", ind);
	ar_json_str(f, r->model);
	fprintf(f, ", \"arch\": ");
	ar_json_str(f, r->arch);
	fprintf(f, "},\n%s\"hardware\": {\"name\": ", ind);
	ar_json_str(f, r->hw);
	fprintf(f, ", \"capacity_bytes\": ");
	jnum(f, r->capacity_bytes);
	fprintf(f, "},\n%s\"max_batch\": %ld,\n%s\"max_context\": %ld,\n", ind, r->max_batch, ind,
		r->max_context);
	if (b)
		fprintf(f, "%s\"devices\": %ld,\n%s\"tp\": %ld,\n%s\"replicas\": %ld,\n", ind,
			b->devices, ind, b->tp, ind, b->replicas);
	else
		fprintf(f, "%s\"devices\": null,\n%s\"tp\": null,\n%s\"replicas\": null,\n", ind, ind,
			ind);
	fprintf(f, "%s\"fits\": %s,\n%s\"memory\": {", ind, r->fits ? "true" : "false", ind);
	const char *mk[] = { "usable_bytes", "reserve_bytes", "weights_bytes", "kv_bytes_per_token",
			     "kv_bytes_per_seq", "activation_bytes_per_seq", "kv_cache_bytes",
			     "activation_bytes", "total_bytes" };
	double mv[] = { r->usable_bytes, r->reserve_bytes, r->weights_bytes, r->kv_bytes_per_token,
			r->kv_bytes_per_seq, r->act_bytes_per_seq, r->kv_cache_bytes,
			r->activation_bytes, r->total_bytes };
	for (size_t i = 0; i < sizeof(mv) / sizeof(*mv); i++) {
		fprintf(f, "%s\"%s\": ", i ? ", " : "", mk[i]);
		jnum(f, mv[i]);
	}
	fprintf(f, "},\n%s\"latency\": {\"ttft_s\": ", ind);
	jnum(f, r->ttft_s);
	fprintf(f, ", \"tpot_s\": ");
	jnum(f, r->tpot_s);
	fprintf(f, "},\n%s\"configs\": [", ind);
	for (int i = 0; i < r->n_configs; i++) {
		const struct ar_size_config *c = &r->configs[i];
		fprintf(f, "%s\n%s  {\"tp\": %ld, \"fits\": %s, \"max_batch\": %ld, \"batch\": %ld, "
			   "\"meets\": %s, \"ttft_s\": ", i ? "," : "", ind, c->tp,
			c->fits ? "true" : "false", c->max_batch, c->batch, c->meets ? "true" : "false");
		jnum(f, c->ttft_s);
		fprintf(f, ", \"tpot_s\": ");
		jnum(f, c->tpot_s);
		fprintf(f, ", \"throughput_tok_per_s\": ");
		jnum(f, c->throughput);
		fprintf(f, ", \"replicas\": %ld, \"devices\": %ld, \"allreduce_prefill_s\": ",
			c->replicas, c->devices);
		jnum(f, c->allreduce_prefill_s);
		fprintf(f, ", \"allreduce_decode_s\": ");
		jnum(f, c->allreduce_decode_s);
		fputc('}', f);
	}
	fprintf(f, "\n%s],\n%s\"sensitivity\": {", ind, ind);
	for (int p = 0; p < AR_PHASE_COUNT; p++) {
		fprintf(f, "%s\"%s\": {", p ? ", " : "", ar_phase_names[p]);
		for (int k = 0; k < AR_KNOB_COUNT; k++) {
			fprintf(f, "%s\"%s\": ", k ? ", " : "", ar_size_knob_names[k]);
			jnum(f, r->elasticity[p][k]);
		}
		fputc('}', f);
	}
	fputc('}', f);
	if (req->offload) {
		const struct ar_size_offload *o = &r->off;
		fprintf(f, ",\n%s\"offload\": ", ind);
		if (!o->available) {
			fputs("null", f);
		} else {
			fprintf(f, "{\"step_s\": ");
			jnum(f, o->step_s);
			fprintf(f, ", \"host_kv_s\": ");
			jnum(f, o->host_kv_s);
			fprintf(f, ", \"device_step_s\": ");
			jnum(f, o->device_step_s);
			fprintf(f, ", \"device_bytes\": ");
			jnum(f, o->device_bytes);
			fprintf(f, ", \"fits\": %s, \"max_batch\": %ld, \"crossover_context\": ",
				o->fits ? "true" : "false", o->max_batch);
			if (o->crossover_context > 0) {
				fprintf(f, "%ld, \"crossover_device_batch\": %ld, "
					   "\"crossover_device_tok_per_s\": ", o->crossover_context,
					o->crossover_device_batch);
				jnum(f, o->crossover_device_tps);
				fprintf(f, ", \"crossover_offload_tok_per_s\": ");
				jnum(f, o->crossover_offload_tps);
				fputc('}', f);
			} else {
				fputs("null}", f);
			}
		}
	}
	fputc('\n', f);
}

int ar_size_write_json(FILE *f, const struct ar_size_result *r, int n,
		       const struct ar_size_req *req)
{
	fprintf(f, "{\n");
	json_request(f, req, "  ");
	fprintf(f, ",\n");
	if (n == 1) {
		json_fields(f, r, req, "  ");
		fprintf(f, "}\n");
		return ferror(f) ? -1 : 0;
	}
	fprintf(f, "  \"results\": [");
	for (int i = 0; i < n; i++) {
		fprintf(f, "%s\n    {\n", i ? "," : "");
		json_fields(f, &r[i], req, "      ");
		fprintf(f, "    }");
	}
	fprintf(f, "\n  ],\n  \"ranking\": [");
	int (*idx)[2] = malloc(sizeof(*idx) * (size_t)n * AR_SIZE_MAX_CONFIGS);
	if (!idx)
		return -1;
	int k = ar_size_rank(r, n, idx, n * AR_SIZE_MAX_CONFIGS);
	for (int j = 0; j < k; j++) {
		const struct ar_size_result *x = &r[idx[j][0]];
		const struct ar_size_config *c = &x->configs[idx[j][1]];
		fprintf(f, "%s\n    {\"model\": ", j ? "," : "");
		ar_json_str(f, x->model);
		fprintf(f, ", \"hardware\": ");
		ar_json_str(f, x->hw);
		fprintf(f, ", \"tp\": %ld, \"replicas\": %ld, \"devices\": %ld, \"batch\": %ld, "
			   "\"throughput_tok_per_s\": ", c->tp, c->replicas, c->devices, c->batch);
		jnum(f, c->throughput * (double)c->replicas);
		fputc('}', f);
	}
	free(idx);
	fprintf(f, "%s]\n}\n", k ? "\n  " : "");
	return ferror(f) ? -1 : 0;
}

/* ---- plots ---- */

/* gnuplot single-quoted assignment "name='value'; " ('' doubles a quote). */
static void var_str(char *buf, size_t n, const char *name, const char *v)
{
	size_t l = strlen(buf);

	l += (size_t)snprintf(buf + l, l < n ? n - l : 0, "%s='", name);
	for (; *v && l + 4 < n; v++) {
		if (*v == '\'')
			buf[l++] = '\'';
		buf[l++] = *v;
	}
	if (l + 4 < n)
		snprintf(buf + l, n - l, "'; ");
}

static int find_script(const char *name, char *out, size_t n, struct ar_err *err)
{
	const char *roots[3] = { getenv("ATTNROOF_DATA"), ".", AR_DATADIR };

	for (int i = 0; i < 3; i++)
		if (roots[i] && roots[i][0] &&
		    (size_t)snprintf(out, n, "%s/plots/%s.gp", roots[i], name) < n &&
		    access(out, R_OK) == 0)
			return 0;
	return ar_errf(err, NULL, 0, 0, "cannot find the gnuplot script plots/%s.gp", name);
}

/* size-latency.dat: one block per result, rows "batch tpot_ms tokens_per_s" for
 * B = 1, 2, 4, ... and the largest batch that fits.  size-context.dat: one
 * row per model, one column of longest contexts per device. */
static int plot_data(const char *dir, const struct ar_size_result *r,
		     const struct ar_model *models, int n_models, const struct ar_hw *hws,
		     int n_hws, struct ar_err *err)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/size-latency.dat", dir);
	if (!(f = fopen(path, "w")))
		return ar_errf(err, path, 0, 0, "cannot write: %s", strerror(errno));
	for (int h = 0; h < n_hws; h++)
		for (int i = 0; i < n_models; i++) {
			const struct ar_size_result *x = &r[h * n_models + i];
			struct ar_workload w = x->wl;
			double ttft, tpot;
			fprintf(f, "%s\"%s on %s\"\n", h || i ? "\n\n" : "", x->model, x->hw);
			if (x->max_batch < 1)
				fprintf(f, "? ? ?\n");
			for (long b = 1; b <= x->max_batch; b = b * 2 > x->max_batch && b < x->max_batch
						     ? x->max_batch : b * 2) {
				w.batch = b;
				if (ar_size_latency(&models[i], &hws[h], &w, &ttft, &tpot, err)) {
					fclose(f);
					return -1;
				}
				fprintf(f, "%ld %.9g %.9g\n", b, tpot * 1e3, (double)b / tpot);
			}
		}
	if (fclose(f))
		return ar_errf(err, path, 0, 0, "cannot write: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/size-context.dat", dir);
	if (!(f = fopen(path, "w")))
		return ar_errf(err, path, 0, 0, "cannot write: %s", strerror(errno));
	fprintf(f, "\"model\"");
	for (int h = 0; h < n_hws; h++)
		fprintf(f, " \"%s\"", hws[h].name);
	for (int i = 0; i < n_models; i++) {
		fprintf(f, "\n\"%s\"", models[i].name);
		for (int h = 0; h < n_hws; h++)
			fprintf(f, " %ld", r[h * n_models + i].max_context);
	}
	fputc('\n', f);
	if (fclose(f))
		return ar_errf(err, path, 0, 0, "cannot write: %s", strerror(errno));
	return 0;
}

int ar_size_plot(const char *outdir, const struct ar_size_result *r,
		 const struct ar_model *models, int n_models, const struct ar_hw *hws,
		 int n_hws, struct ar_err *err)
{
	static const char *const names[] = { "size-latency", "size-context" };
	static const char *const data[] = { "size-latency.dat", "size-context.dat", "gnuplot.err" };
	const char *tmpdir = getenv("TMPDIR");
	char dir[512], script[600], sdir[600], errpath[600], tmpout[2][AR_OUT_TMP_MAX] = { "", "" };
	char img[2][AR_OUT_PATH_MAX], setup[4096];
	int rc = -1, made = 0;

	snprintf(dir, sizeof(dir), "%s/attnroof-size.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(dir))
		return ar_errf(err, NULL, 0, 0, "cannot make a temporary directory: %s",
			       strerror(errno));
	snprintf(errpath, sizeof(errpath), "%s/gnuplot.err", dir);
	/* DIR is made when it is not there (and removed again if the plots fail) */
	made = mkdir(outdir, 0777) == 0;
	if (plot_data(dir, r, models, n_models, hws, n_hws, err))
		goto cleanup;
	/* both images drawn before either replaces what is there */
	for (int k = 0; k < 2; k++) {
		int fd;
		if (find_script(names[k], script, sizeof(script), err))
			goto cleanup;
		snprintf(sdir, sizeof(sdir), "%s", script);
		*strrchr(sdir, '/') = 0;
		int len = snprintf(img[k], sizeof(img[k]), "%s/%s.png", outdir, names[k]);
		if (len < 0 || (size_t)len >= sizeof(img[k])) { /* before ar_out_temp sees it cut */
			char sp[160];
			ar_errf(err, NULL, 0, 0, "cannot write '%s': %s",
				ar_short(outdir, sp, sizeof(sp)), strerror(ENAMETOOLONG));
			goto cleanup;
		}
		if ((fd = ar_out_temp(img[k], tmpout[k], sizeof(tmpout[k]), err)) < 0)
			goto cleanup;
		close(fd);
		setup[0] = 0;
		var_str(setup, sizeof(setup), "dir", sdir);
		var_str(setup, sizeof(setup), "datadir", dir);
		var_str(setup, sizeof(setup), "term", "png");
		var_str(setup, sizeof(setup), "out", tmpout[k]);
		snprintf(setup + strlen(setup), sizeof(setup) - strlen(setup),
			 "nser=%d; nhw=%d; context=%ld; batch=%ld;", n_models * n_hws, n_hws,
			 r[0].wl.seq, r[0].wl.batch);
		if (ar_plot_gnuplot(script, setup, errpath, 0, err))
			goto cleanup;
	}
	for (int k = 0; k < 2; k++) {
		int bad = ar_out_commit(tmpout[k], img[k], err);
		tmpout[k][0] = 0; /* committed, or removed */
		if (bad)
			goto cleanup;
	}
	rc = 0;
cleanup:
	for (int k = 0; k < 2; k++)
		if (tmpout[k][0])
			unlink(tmpout[k]);
	if (rc && made)
		rmdir(outdir);
	for (size_t i = 0; i < sizeof(data) / sizeof(*data); i++) {
		char path[600];
		snprintf(path, sizeof(path), "%s/%s", dir, data[i]);
		unlink(path);
	}
	rmdir(dir);
	return rc;
}
