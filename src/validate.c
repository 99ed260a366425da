/* The validation grid (see validate.h).  Relative error is
 * (predicted − measured) / measured; summaries use its absolute value. */
#include "validate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calibrate.h"
#include "exec.h"
#include "kernels.h"
#include "report.h"
#include "roofline.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The grid: prefill lengths, decode KV lengths and batches (quick and full). */
struct grid {
	const long *pre, *dec, *bs;
	int npre, ndec, nb;
};

static struct grid grid_of(int quick)
{
	static const long q_pre[] = { 32, 128 }, q_dec[] = { 256, 1024 }, q_b[] = { 1, 2 };
	static const long f_pre[] = { 64, 256, 1024 }, f_dec[] = { 256, 1024, 4096 },
			  f_b[] = { 1, 4, 16 };

	if (quick)
		return (struct grid){ q_pre, q_dec, q_b, 2, 2, 2 };
	return (struct grid){ f_pre, f_dec, f_b, 3, 3, 3 };
}

/* The usable capacity C of the level above main memory (0: none). */
static double llc_bytes(const struct ar_hw *hw)
{
	return hw->n_mem > 1 ? hw->mem[1].capacity_bytes : 0;
}

/* A resident set r (ar_graph_resident of a point's graph, the sum
 * the roofline uses to pick a level) clear of the last-level cache C: r <= C/3
 * (in the cache) or r >= 3C (in main memory).  Points in between are where
 * the real cache holds part of the set, as much as other tenants leave it. */
static int clear_of(double r, double c)
{
	return c <= 0 || r <= c / 3 || r >= 3 * c;
}

/* Prefill points of more than this many tokens (B·S) are not in the grid:
 * they would take minutes each on a CPU and add nothing the smaller ones do
 * not show. */
enum { MAX_PREFILL_TOKENS = 4096 };

static int in_grid(enum ar_phase ph, long B, long S)
{
	return ph == AR_PHASE_DECODE || B * S <= MAX_PREFILL_TOKENS;
}

static double resident(const struct ar_model *m, const struct ar_hw *hw, enum ar_phase ph,
		       long B, long S)
{
	struct ar_graph g;
	struct ar_workload wl = { .batch = B, .seq = S, .attn = AR_ATTN_FLASH, .wbits = 32,
				  .abits = 32, .kvbits = 32, .tp = 1 };

	ar_graph_build(&g, m, &wl, hw->onchip_bytes_per_unit, ph);
	return ar_graph_resident(&g);
}

/* Points of the grid for model m, and how many of them are clear of the
 * last-level cache; *hi is the largest resident set. */
static int clear_points(const struct ar_model *m, const struct ar_hw *hw, const struct grid *gr,
			int *total, double *hi)
{
	double c = llc_bytes(hw);
	int n = 0;

	*total = 0;
	*hi = 0;
	for (int b = 0; b < gr->nb; b++)
		for (int ph = 0; ph < 2; ph++) {
			const long *ss = ph ? gr->dec : gr->pre;
			for (int s = 0; s < (ph ? gr->ndec : gr->npre); s++) {
				if (!in_grid((enum ar_phase)ph, gr->bs[b], ss[s]))
					continue;
				double r = resident(m, hw, (enum ar_phase)ph, gr->bs[b], ss[s]);
				*hi = fmax(*hi, r);
				n += clear_of(r, c);
				(*total)++;
			}
		}
	return n;
}

/* Free space at the end of the notes buffer (its text is kept). */
static char *notes_end(char *notes, size_t size, size_t *left)
{
	size_t used = size ? strlen(notes) : 0;

	*left = size - used;
	return notes + used;
}

/* The layer count that keeps the most grid points clear of the last-level
 * cache C: the most layers among equals up to m's, or, where more layers (up
 * to `most`) clear strictly more points, the fewest that clear the most.
 * m is left at it, *n is how many of its *total points are clear, *hi the
 * largest resident set. */
static void best_layers(struct ar_model *m, long most, const struct ar_hw *hw,
			const struct grid *gr, int *n, int *total, double *hi)
{
	long l0 = m->layers, d0 = m->moe.dense_layers, best = l0;
	int best_n = -1;

	for (long l = l0; l >= 1; l--) {
		ar_model_set_layers(m, l, d0);
		*n = clear_points(m, hw, gr, total, hi);
		if (*n > best_n) {
			best_n = *n;
			best = l;
		}
		if (*n == *total)
			break;
	}
	/* a model over C but short of 3C reaches main memory with more layers */
	for (long l = l0 + 1; l <= most && best_n < *total; l++) {
		ar_model_set_layers(m, l, d0);
		*n = clear_points(m, hw, gr, total, hi);
		if (*n > best_n) {
			best_n = *n;
			best = l;
		}
	}
	ar_model_set_layers(m, best, d0);
	*n = clear_points(m, hw, gr, total, hi);
}

/* m at best_layers, told in notes (`width`: how the width was chosen, or
 * ""); ar_validate_run skips the points left in the band.  1 = kept, 0 = no
 * point clear (left out, m's layers as they were). */
static int clear_of_llc(struct ar_model *m, long most, const struct ar_hw *hw,
			const struct grid *gr, const char *width, char *notes, size_t size)
{
	double c = llc_bytes(hw), hi;
	long l0 = m->layers, d0 = m->moe.dense_layers;
	int total, n;
	size_t left;

	if (c <= 0)
		return 1;
	best_layers(m, most, hw, gr, &n, &total, &hi);
	if (m->layers == l0 && n == total && !width[0])
		return 1;
	char *p = notes_end(notes, size, &left);
	if (n == 0) {
		ar_model_set_layers(m, l0, d0);
		if (left)
			snprintf(p, left, "%s: left out, no point's resident set <= %.1f MB or >= %.1f MB at any layer count (last-level cache %.1f MB)\n",
				 m->name, c / 3e6, 3 * c / 1e6, c / 1e6);
		return 0;
	}
	char layers[48];
	if (m->layers == l0)
		snprintf(layers, sizeof(layers), "%ld layers", l0);
	else
		snprintf(layers, sizeof(layers), "%ld layers -> %ld", l0, m->layers);
	if (left)
		snprintf(p, left, "%s: %s%s, %d of %d points clear of the last-level cache (%.1f MB: <= 1/3 or >= 3x; largest %.1f MB), %d skipped\n",
			 m->name, width, layers, n, total, c / 1e6, hi / 1e6, total - n);
	return 1;
}

/* The small widths, widest first: H, MLP, vocabulary, heads of d_h (4 of
 * them).  A last-level cache too small for the first to keep more than half
 * its points clear (a guest given 4 MB of a chiplet's L3, where H 128 keeps
 * 1 of 8) takes the first narrower one that does, or else the one that
 * keeps the most. */
static const struct small_width {
	long hidden, intermediate, vocab, d_h;
} small_widths[] = { { 128, 344, 2048, 32 }, { 64, 172, 1024, 16 }, { 32, 86, 512, 8 } };
enum { N_SMALL_WIDTHS = sizeof(small_widths) / sizeof(small_widths[0]) };

/* m (a 160M shape) at small width w, named ARCH-small; 0, or -1 with err */
static int small_model(struct ar_model *m, const struct small_width *w, struct ar_err *err)
{
	/* each arch's own defaults at that width; GTA: 2 maps over the 4 heads */
	struct ar_model base = *m;
	char path[512];

	base.hidden = w->hidden;
	base.intermediate = w->intermediate;
	base.vocab = w->vocab;
	base.attn.n_h = 4;
	base.attn.d_h = w->d_h;
	if (ar_resolve("archs", m->attn.arch, path, sizeof(path), err) ||
	    ar_model_with_arch(m, &base, path, err))
		return -1;
	if (m->attn.decoder == AR_DEC_GATED)
		m->attn.n_q = 2;
	if (ar_model_check(m, err))
		return -1;
	char nm[64];
	snprintf(nm, sizeof(nm), "%s-small", m->attn.arch);
	snprintf(m->name, sizeof(m->name), "%s", nm);
	return 0;
}

/* m at its small width (small_widths) and what was chosen, for the notes:
 * "" for the first width.  0, or -1 with err. */
static int small_of(struct ar_model *m, const struct ar_hw *hw, const struct grid *gr,
		    char *width, size_t size, struct ar_err *err)
{
	struct ar_model best = *m, t;
	int best_n = -1, best_i = 0;

	for (int i = 0; i < N_SMALL_WIDTHS; i++) {
		int n, total;
		double hi;
		t = *m;
		if (small_model(&t, &small_widths[i], err))
			return -1;
		struct ar_model counted = t;
		best_layers(&counted, counted.layers, hw, gr, &n, &total, &hi);
		if (n > best_n) {
			best_n = n;
			best_i = i;
			best = t;
		}
		if (llc_bytes(hw) <= 0 || 2 * n > total)
			break;
	}
	*m = best;
	width[0] = 0;
	if (best_i > 0)
		snprintf(width, size, "width %ld (4 heads of %ld, vocabulary %ld), ",
			 small_widths[best_i].hidden, small_widths[best_i].d_h,
			 small_widths[best_i].vocab);
	return 0;
}

int ar_validate_models(struct ar_model *out, int max, long layers, const struct ar_hw *hw,
		       int quick, char *notes, size_t notes_size, struct ar_err *err)
{
	static const char *const bases[] = { "mha-160m", "gqa-160m", "mla-160m", "gta1-160m" };
	static const char *const derived[] = { "gva", "gha" };
	struct grid gr = grid_of(quick);
	int n = 0;

	if (notes_size)
		notes[0] = 0;
	for (int small = 0; small < 2; small++) {
		struct ar_model mha;
		for (int i = 0; i < 6 && n < max; i++) {
			struct ar_model *m = &out[n];
			if (i < 4) {
				if (ar_model_open(m, bases[i], err))
					return -1;
			} else {
				char path[512];
				if (ar_resolve("archs", derived[i - 4], path, sizeof(path), err) ||
				    ar_model_with_arch(m, &mha, path, err))
					return -1;
				snprintf(m->name, sizeof(m->name), "%s-160m", derived[i - 4]);
			}
			if (i == 0)
				mha = *m;
			/* the 160M shapes may take up to twice the cut (at most
			 * their own layers) to reach main memory; the small ones,
			 * the grid's models in the cache, only fewer */
			long most = small ? layers : m->layers < 2 * layers ? m->layers : 2 * layers;
			if (m->layers > layers)
				ar_model_set_layers(m, layers, m->moe.dense_layers);
			char width[96] = "";
			if (small && small_of(m, hw, &gr, width, sizeof(width), err))
				return -1;
			if (clear_of_llc(m, small ? m->layers : most, hw, &gr, width, notes, notes_size))
				n++;
		}
	}
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double ar_validate_quantile(double *v, int n, double p)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	int i = (int)ceil(p * n) - 1;
	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static struct ar_err_stats stats(double *e, int n)
{
	struct ar_err_stats s = { .n = n };

	if (n == 0)
		return s;
	s.p90_abs_err = ar_validate_quantile(e, n, 0.9);
	s.median_abs_err = n % 2 ? e[n / 2] : (e[n / 2 - 1] + e[n / 2]) / 2;
	return s;
}

static double rel(double pred, double meas)
{
	return meas > 0 ? (pred - meas) / meas : 0;
}

static double pred_of(const struct ar_vpoint *p, int tracked)
{
	return tracked ? p->predicted_s : p->predicted_static_s;
}

static double op_pred_of(const struct ar_vop *o, int tracked)
{
	return tracked ? o->predicted_s : o->predicted_static_s;
}

/* Statistics of |error| end to end and per op (ops carrying >= 5 % of their
 * point's measured time), of the tracked or the static predictions. */
static void summarise_one(const struct ar_validation *v, int tracked, double *e,
			  struct ar_err_stats *all, struct ar_err_stats *phase,
			  struct ar_err_stats *ops)
{
	int n = 0;

	for (int i = 0; i < v->n_points; i++)
		e[n++] = fabs(rel(pred_of(&v->points[i], tracked), v->points[i].measured_s));
	*all = stats(e, n);
	for (int ph = 0; ph < AR_PHASE_COUNT; ph++) {
		n = 0;
		for (int i = 0; i < v->n_points; i++)
			if (v->points[i].phase == (enum ar_phase)ph)
				e[n++] = fabs(rel(pred_of(&v->points[i], tracked),
						  v->points[i].measured_s));
		phase[ph] = stats(e, n);
		n = 0;
		for (int i = 0; i < v->n_points; i++) {
			const struct ar_vpoint *p = &v->points[i];
			if (p->phase != (enum ar_phase)ph)
				continue;
			for (int k = 0; k < p->n_ops; k++)
				if (p->ops[k].measured_s * p->ops[k].layers >= 0.05 * p->measured_s)
					e[n++] = fabs(rel(op_pred_of(&p->ops[k], tracked),
							  p->ops[k].measured_s));
		}
		ops[ph] = stats(e, n);
	}
}

void ar_validate_summarise(struct ar_validation *v)
{
	int cap = v->n_points * AR_GRAPH_MAX_OPS + 1;
	double *e = malloc(sizeof(double) * (size_t)cap);

	if (!e)
		return;
	summarise_one(v, 1, e, &v->all, v->phase, v->ops);
	summarise_one(v, 0, e, &v->all_static, v->phase_static, v->ops_static);
	free(e);
}

/* Each point is measured in PASSES passes over the whole grid, each over
 * MIN_SPAN_S / PASSES of repeats, and its times are the medians over the
 * passes: a shared machine's slow spells (another tenant's burst lasting
 * seconds) then fall into one pass of a point, not into all of its
 * repeats, and the median sets them aside.  The ceilings are probed before
 * and after each pass's repeats (ar_calibrate_track), so that a pass is
 * predicted under the ceilings of its own moment. */
enum { PASSES = 3 };
#define MIN_SPAN_S 0.25

/* One point of the grid and what each pass read of it. */
struct slot {
	const struct ar_model *m;
	int model, batch;       /* indices into the models and the grid's batches */
	enum ar_phase ph;
	long B, S;
	struct {
		double op_s[AR_GRAPH_MAX_OPS], total_s;       /* medians of the pass's repeats */
		double pred_op_s[AR_GRAPH_MAX_OPS], pred_s;   /* tracked prediction */
		double drift[3];                              /* matrix, memory, overhead */
		double probe_matrix[2];                       /* each probe's product / reference */
		double round_trip_s;                          /* the threads' */
		int descriptor;                               /* predicted from (struct states) */
	} pass[PASSES];
};

static double median3(double a, double b, double c)
{
	return a > b ? (b > c ? b : a > c ? c : a) : (a > c ? a : b > c ? c : b);
}

/* The descriptors a run predicts from and the tracking probe's readings
 * each is held against. */
struct states {
	struct ar_hw hw[AR_VALIDATE_MAX_DESCRIPTORS];
	struct ar_ceilings ref[AR_VALIDATE_MAX_DESCRIPTORS];
	int n, recalibrate;
};

double ar_validate_state_distance(const struct ar_ceilings *ref, const struct ar_ceilings *now)
{
	return ref->overhead_s > 0 && now->overhead_s > 0
		? fabs(log(now->overhead_s / ref->overhead_s)) / log(AR_STATE_GATE_OVERHEAD) : 0;
}

/* The nearest of st's descriptors to a pass's two readings, and its
 * distance: the nearer of the two, so that a single reading off its state
 * (a probe caught by another tenant's burst) moves nothing */
static int nearest_state(const struct states *st, const struct ar_ceilings seen[2], double *dist)
{
	int best = 0;

	*dist = INFINITY;
	for (int i = 0; i < st->n; i++) {
		double d = fmin(ar_validate_state_distance(&st->ref[i], &seen[0]),
				ar_validate_state_distance(&st->ref[i], &seen[1]));
		if (d < *dist) {
			*dist = d;
			best = i;
		}
	}
	return best;
}

/* "model phase B b S s, pass p": the point after which a calibration ran */
static void slot_label(char *buf, size_t size, const struct slot *sl, int pass)
{
	snprintf(buf, size, "%s %s B %ld S %ld, pass %d", sl->m->name, ar_phase_names[sl->ph],
		 sl->B, sl->S, pass + 1);
}

/* The descriptor for pass `pass` of slot sl, which read `seen` before and
 * after its repeats: the nearest so far, or, when both readings are beyond
 * the gates of every one and calibrations are left, the nearest after
 * calibrating the machine as it is now (what it read, and after which
 * point, is kept in v).  -1 with err when calibration fails. */
static int state_for(struct states *st, const struct ar_ceilings seen[2], const struct slot *sl,
		     int pass, struct ar_validation *v, struct ar_err *err)
{
	double dist;
	int best = nearest_state(st, seen, &dist);

	if (dist <= 1 || st->recalibrate <= 0 || st->n >= AR_VALIDATE_MAX_DESCRIPTORS)
		return best;
	struct ar_calib c;
	struct ar_hw *hw = &st->hw[st->n];
	if (ar_calibrate_run(&c, ar_kernels_threads(), err) ||
	    ar_calibrate_descriptor(hw, &c, "host (calibrated during validate)", err))
		return -1;
	st->recalibrate--;
	if (!ar_ceilings_of_hw(&st->ref[st->n], hw))
		return best; /* cannot be told apart: keep the nearest */
	/* A calibration that reads a state already described (its own probe's
	 * dispatch inside the gate of a descriptor's) says the pass caught a
	 * burst, not a new state: it is left out, and the pass keeps the
	 * nearest.  Kept beside the first, a second descriptor of one state
	 * split the passes between two calibrations' noise (one, calibrated
	 * in a moment of slow products, put a full grid's prefill 20 % slow). */
	const struct ar_ceilings both[2] = { st->ref[st->n], st->ref[st->n] };
	double d_new;
	int same = nearest_state(st, both, &d_new);
	if (d_new <= 1) {
		if (v->n_left_out < AR_VALIDATE_MAX_DESCRIPTORS) {
			slot_label(v->left_out_after[v->n_left_out], sizeof(v->left_out_after[0]), sl,
				   pass);
			v->left_out_like[v->n_left_out++] = same;
		}
		return best;
	}
	v->desc_dram_bw[st->n] = c.level_bw[0];
	v->desc_overhead_s[st->n] = c.overhead_s;
	slot_label(v->desc_after[st->n], sizeof(v->desc_after[st->n]), sl, pass);
	v->n_descriptors = ++st->n;
	/* the machine may have moved again while it was measured */
	return nearest_state(st, seen, &dist);
}

/* One pass of slot sl on ex: the probes, a warm-up, the repeats.  The
 * pass is predicted under the better of the two probes' readings (field by
 * field): on a guest the probe right after a 200 MB model was written read
 * the matrix rate at 0.45-0.7 of the calibration's, and the one right after
 * a large prefill main memory at half (its activations' dirty lines written
 * back under the probe's read), while the point itself ran at full speed;
 * the mean of the two had put the 160M models' first prefill point of
 * every batch 40-100 % slow. */
static int run_pass(struct slot *sl, int pass, struct ar_exec *ex, struct states *st,
		    struct ar_probe *probe, struct ar_validation *v, enum ar_attn_impl attn,
		    int reps, struct ar_err *err)
{
	const struct ar_hw *hw = &st->hw[0];
	struct ar_workload wl = { .batch = sl->B, .seq = sl->S, .attn = attn, .wbits = 32,
				  .abits = 32, .kvbits = 32, .tp = 1 };
	struct ar_graph g;
	struct ar_phase_time pt;
	struct ar_ceilings seen[2], now;
	struct ar_hw tracked;
	double t;

	ar_graph_build(&g, sl->m, &wl, hw->onchip_bytes_per_unit, sl->ph);
	/* Repeats: at least `reps`, and enough to span the pass's share of
	 * MIN_SPAN_S (at most 64), timed by a first run after a warm-up: a
	 * point of a few milliseconds could otherwise fall wholly inside a
	 * burst.  The probe evicts the caches, so the warm-up follows it. */
	ar_probe_run(probe, &seen[0]);
	if (ar_exec_measure(ex, &g, 1, 1, sl->pass[pass].op_s, &t, err))
		return -1;
	/* the first run stands for the pass when it alone spans the pass's
	 * share (the median over the passes is then one of three runs) */
	double span = MIN_SPAN_S / PASSES;
	reps = (reps + PASSES - 1) / PASSES;
	sl->pass[pass].total_s = t;
	if (t < span) {
		if (t > 0 && t * reps < span)
			reps = t * 64 < span ? 64 : (int)ceil(span / t);
		if (ar_exec_measure(ex, &g, 0, reps, sl->pass[pass].op_s, &sl->pass[pass].total_s,
				    err))
			return -1;
	}
	ar_probe_run(probe, &seen[1]);
	ar_ceilings_best(&now, seen, 2);
	int d = state_for(st, seen, sl, pass, v, err);
	if (d < 0)
		return -1;
	const struct ar_ceilings *ref = &st->ref[d];
	sl->pass[pass].descriptor = d;
	ar_calibrate_track(&tracked, &st->hw[d], ref, &now);
	if (ar_roofline_eval(&g, &tracked, &pt, err))
		return -1;
	for (int i = 0; i < g.n_ops; i++)
		sl->pass[pass].pred_op_s[i] = pt.ops[i].time_s;
	sl->pass[pass].pred_s = pt.time_s;
	sl->pass[pass].drift[0] = now.matrix_flops_per_s / ref->matrix_flops_per_s;
	sl->pass[pass].drift[1] = now.bw_bytes_per_s[0] / ref->bw_bytes_per_s[0];
	sl->pass[pass].drift[2] = now.overhead_s / ref->overhead_s;
	sl->pass[pass].round_trip_s = now.round_trip_s;
	for (int i = 0; i < 2; i++)
		sl->pass[pass].probe_matrix[i] = seen[i].matrix_flops_per_s / ref->matrix_flops_per_s;
	return 0;
}

/* The point of slot sl: medians over the passes, and the static prediction. */
static int fill_point(struct ar_vpoint *p, const struct slot *sl, const struct ar_hw *hw,
		      enum ar_attn_impl attn, struct ar_err *err)
{
	struct ar_workload wl = { .batch = sl->B, .seq = sl->S, .attn = attn, .wbits = 32,
				  .abits = 32, .kvbits = 32, .tp = 1 };
	struct ar_graph g;
	struct ar_phase_time ps;
	const struct ar_model *m = sl->m;

	_Static_assert(PASSES == 3, "fill_point takes medians of three passes");
	ar_graph_build(&g, m, &wl, hw->onchip_bytes_per_unit, sl->ph);
	if (ar_roofline_eval(&g, hw, &ps, err))
		return -1;
	memset(p, 0, sizeof(*p));
	snprintf(p->model, sizeof(p->model), "%s", m->name);
	snprintf(p->arch, sizeof(p->arch), "%s", m->attn.label);
	p->phase = sl->ph;
	p->batch = sl->B;
	p->seq = sl->S;
	p->weight_bytes = g.weight_bytes;
	p->n_ops = g.n_ops;
#define MED(f) median3(sl->pass[0].f, sl->pass[1].f, sl->pass[2].f)
	for (int i = 0; i < g.n_ops; i++) {
		p->ops[i].id = g.ops[i].id;
		p->ops[i].layers = g.ops[i].layers;
		p->ops[i].predicted_s = MED(pred_op_s[i]);
		p->ops[i].predicted_static_s = ps.ops[i].time_s;
		p->ops[i].measured_s = MED(op_s[i]);
	}
	p->predicted_s = MED(pred_s);
	p->predicted_static_s = ps.time_s;
	p->measured_s = MED(total_s);
	p->drift_matrix = MED(drift[0]);
	p->drift_memory = MED(drift[1]);
	p->drift_overhead = MED(drift[2]);
	p->round_trip_s = MED(round_trip_s);
#undef MED
	for (int i = 0; i < PASSES; i++)
		p->descriptor[i] = sl->pass[i].descriptor;
	return 0;
}

int ar_validate_run(struct ar_validation *v, const struct ar_model *models, int n_models,
		    const struct ar_hw *hw, int quick, enum ar_attn_impl attn, int recalibrate,
		    struct ar_err *err)
{
	struct grid gr = grid_of(quick);
	int reps = quick ? 3 : 5, n_slots = 0;
	double t0 = now_s();
	struct ar_probe probe;
	struct ar_ceilings ref, seen[5];
	struct slot *slots;
	struct states *st = calloc(1, sizeof(*st));

	memset(v, 0, sizeof(*v));
	slots = calloc((size_t)(n_models * gr.nb * (gr.npre + gr.ndec)) + 1, sizeof(*slots));
	v->points = calloc((size_t)(n_models * gr.nb * (gr.npre + gr.ndec)) + 1, sizeof(*v->points));
	if (!slots || !v->points || !st) {
		free(st);
		free(slots);
		ar_validation_release(v);
		return ar_errf(err, NULL, 0, 0, "out of memory");
	}
	/* the points of the grid, in the order they are reported */
	for (int i = 0; i < n_models; i++)
		for (int b = 0; b < gr.nb; b++)
			for (int ph = 0; ph < AR_PHASE_COUNT; ph++) {
				const long *ss = ph ? gr.dec : gr.pre;
				for (int s = 0; s < (ph ? gr.ndec : gr.npre); s++) {
					struct ar_workload wl = { .batch = gr.bs[b], .seq = ss[s],
								  .attn = attn, .wbits = 32, .abits = 32,
								  .kvbits = 32, .tp = 1 };
					struct ar_graph g;
					ar_graph_build(&g, &models[i], &wl, hw->onchip_bytes_per_unit,
						       (enum ar_phase)ph);
					if (!in_grid((enum ar_phase)ph, gr.bs[b], ss[s]) ||
					    !clear_of(ar_graph_resident(&g), llc_bytes(hw)))
						continue; /* see clear_of_llc */
					slots[n_slots++] = (struct slot){ .m = &models[i], .model = i,
									  .batch = b, .ph = (enum ar_phase)ph,
									  .B = gr.bs[b], .S = ss[s] };
				}
			}
	if (ar_probe_init(&probe, hw, err)) {
		free(st);
		free(slots);
		ar_validation_release(v);
		return -1;
	}
	/* the reference the points' ceilings are tracked against: what the
	 * same probe read when the descriptor was calibrated, else now, as
	 * close to the calibration as the run gets (a descriptor calibrated
	 * with its threads in one place and used with them in another was
	 * tracked as if it described the second: dispatch ×2.5 over a
	 * calibration that had already measured it there) */
	v->ref_from_descriptor = ar_ceilings_of_hw(&ref, hw);
	if (!v->ref_from_descriptor) {
		for (int i = 0; i < 5; i++)
			ar_probe_run(&probe, &seen[i]);
		ar_ceilings_median(&ref, seen, 5);
	}
	st->hw[0] = *hw;
	st->ref[0] = ref;
	st->n = v->n_descriptors = 1;
	st->recalibrate = recalibrate ? AR_VALIDATE_MAX_DESCRIPTORS - 1 : 0;
	v->desc_dram_bw[0] = hw->n_mem > 0 ? hw->mem[0].bw_bytes_per_s : 0;
	v->desc_overhead_s[0] = hw->overhead_s;
	for (int pass = 0; pass < PASSES; pass++)
		for (int k = 0; k < n_slots;) {
			/* the slots of one model and batch share an executor */
			struct ar_exec ex;
			int end = k;
			long maxpre = 1, cap = 1;
			while (end < n_slots && slots[end].model == slots[k].model &&
			       slots[end].batch == slots[k].batch) {
				if (slots[end].ph == AR_PHASE_PREFILL)
					maxpre = slots[end].S > maxpre ? slots[end].S : maxpre;
				cap = slots[end].S > cap ? slots[end].S : cap;
				end++;
			}
			if (ar_exec_init(&ex, slots[k].m, slots[k].B, maxpre, cap, attn,
					 hw->onchip_bytes_per_unit,
					 (unsigned long)(slots[k].model * 31 + slots[k].batch), 0, err))
				goto fail;
			for (; k < end; k++)
				if (run_pass(&slots[k], pass, &ex, st, &probe, v, attn, reps, err)) {
					ar_exec_release(&ex);
					goto fail;
				}
			ar_exec_release(&ex);
		}
	for (int k = 0; k < n_slots; k++)
		if (fill_point(&v->points[v->n_points++], &slots[k], hw, attn, err))
			goto fail;
	double *pm = malloc(sizeof(double) * 2 * PASSES * (size_t)(n_slots + 1));
	if (!pm) {
		ar_errf(err, NULL, 0, 0, "cannot allocate the probe's readings");
		goto fail;
	}
	int n_pm = 0;
	for (int k = 0; k < n_slots; k++)
		for (int pass = 0; pass < PASSES; pass++)
			for (int i = 0; i < 2; i++)
				pm[n_pm++] = slots[k].pass[pass].probe_matrix[i];
	v->probe_matrix_p10 = ar_validate_quantile(pm, n_pm, 0.1);
	v->probe_matrix_p90 = ar_validate_quantile(pm, n_pm, 0.9);
	free(pm);
	ar_probe_release(&probe);
	free(st);
	free(slots);
	ar_validate_summarise(v);
	v->wall_s = now_s() - t0;
	return 0;
fail:
	ar_probe_release(&probe);
	free(st);
	free(slots);
	ar_validation_release(v);
	return -1;
}

void ar_validation_release(struct ar_validation *v)
{
	free(v->points);
	memset(v, 0, sizeof(*v));
}

int ar_validate_write_table(FILE *f, const struct ar_validation *v)
{
	fprintf(f, "%-14s %-7s %5s %6s %12s %12s %8s   top ops (measured ms, error)\n", "model",
		"phase", "batch", "seq", "predicted_ms", "measured_ms", "error");
	for (int i = 0; i < v->n_points; i++) {
		const struct ar_vpoint *p = &v->points[i];
		fprintf(f, "%-14s %-7s %5ld %6ld %12.3f %12.3f %+7.1f%%  ", p->model,
			ar_phase_names[p->phase], p->batch, p->seq, p->predicted_s * 1e3,
			p->measured_s * 1e3, 100 * rel(p->predicted_s, p->measured_s));
		/* the three ops that carry the most measured time */
		int used[AR_GRAPH_MAX_OPS] = { 0 };
		for (int r = 0; r < 3; r++) {
			int best = -1;
			for (int k = 0; k < p->n_ops; k++)
				if (!used[k] && (best < 0 || p->ops[k].measured_s * p->ops[k].layers >
							   p->ops[best].measured_s * p->ops[best].layers))
					best = k;
			if (best < 0)
				break;
			used[best] = 1;
			const struct ar_vop *o = &p->ops[best];
			fprintf(f, " %s %.2f %+.0f%%", ar_op_names[o->id], o->measured_s * o->layers * 1e3,
				100 * rel(o->predicted_s, o->measured_s));
		}
		fprintf(f, "\n");
	}
	for (int tracked = 1; tracked >= 0; tracked--) {
		const struct ar_err_stats *all = tracked ? &v->all : &v->all_static;
		const struct ar_err_stats *phase = tracked ? v->phase : v->phase_static;
		const struct ar_err_stats *ops = tracked ? v->ops : v->ops_static;
		fprintf(f, "\n%s\n|error| end to end: median %.1f%%, p90 %.1f%% over %d points\n",
			tracked ? v->ref_from_descriptor
				? "ceilings tracked over each point against the calibration's (the model's error):"
				: "ceilings tracked over each point against the run's start (the model's error):"
				: "descriptor as given, no tracking (the model's error and the machine's drift):",
			100 * all->median_abs_err, 100 * all->p90_abs_err, all->n);
		for (int ph = 0; ph < AR_PHASE_COUNT; ph++)
			fprintf(f, "  %-7s end to end: median %.1f%%, p90 %.1f%% (%d points); ops carrying >= 5%%: median %.1f%%, p90 %.1f%% (%d ops)\n",
				ar_phase_names[ph], 100 * phase[ph].median_abs_err,
				100 * phase[ph].p90_abs_err, phase[ph].n, 100 * ops[ph].median_abs_err,
				100 * ops[ph].p90_abs_err, ops[ph].n);
	}
	/* where the threads sat: a change of placement moves dispatch and
	 * bandwidth together */
	double lo = 0, hi = 0;
	for (int i = 0; i < v->n_points; i++) {
		double rt = v->points[i].round_trip_s;
		if (rt > 0 && (lo == 0 || rt < lo))
			lo = rt;
		hi = fmax(hi, rt);
	}
	if (hi > 0)
		fprintf(f, "threads' round trip over the points: %.0f to %.0f ns%s\n", lo * 1e9, hi * 1e9,
			hi > 2 * lo ? " (they moved: the ceilings tracked follow, docs/validation.md)" : "");
	if (v->probe_matrix_p10 > 0) {
		double spread = v->probe_matrix_p90 / v->probe_matrix_p10;
		fprintf(f, "tracking probe's product over the points: %.2f to %.2f of its reference (p10 to p90)%s\n",
			v->probe_matrix_p10, v->probe_matrix_p90,
			spread > AR_VALIDATE_PROBE_SPREAD
				? ": the host moves faster than a pass, which tracking cannot follow; the errors carry its noise (docs/validation.md)"
				: "");
	}
	for (int i = 1; i < v->n_descriptors; i++)
		fprintf(f, "descriptor %d, calibrated after %s (its dispatch off every earlier one's): DRAM %.1f GB/s, overhead %.2f us\n",
			i, v->desc_after[i], v->desc_dram_bw[i] / 1e9, v->desc_overhead_s[i] * 1e6);
	for (int i = 0; i < v->n_left_out; i++)
		fprintf(f, "calibrated again after %s: descriptor %d's state, left out\n",
			v->left_out_after[i], v->left_out_like[i]);
	fprintf(f, "(%.1f s)\n", v->wall_s);
	return ferror(f) ? -1 : 0;
}

static void json_stats(FILE *f, const char *key, const struct ar_err_stats *s, const char *end)
{
	fprintf(f, "\"%s\": {\"n\": %d, \"median_abs_err\": %.6g, \"p90_abs_err\": %.6g}%s", key, s->n,
		s->median_abs_err, s->p90_abs_err, end);
}

int ar_validate_write_json(FILE *f, const struct ar_validation *v)
{
	fprintf(f, "{\n  \"summary\": {\"median_abs_err\": %.6g, \"p90_abs_err\": %.6g, \"n\": %d,\n",
		v->all.median_abs_err, v->all.p90_abs_err, v->all.n);
	for (int ph = 0; ph < AR_PHASE_COUNT; ph++) {
		fprintf(f, "    ");
		json_stats(f, ar_phase_names[ph], &v->phase[ph], ",\n");
		char key[32];
		snprintf(key, sizeof(key), "%s_ops", ar_phase_names[ph]);
		fprintf(f, "    ");
		json_stats(f, key, &v->ops[ph], ",\n");
	}
	/* the same of the predictions on the descriptor as given */
	fprintf(f, "    \"static\": {\"median_abs_err\": %.6g, \"p90_abs_err\": %.6g, \"n\": %d,\n",
		v->all_static.median_abs_err, v->all_static.p90_abs_err, v->all_static.n);
	for (int ph = 0; ph < AR_PHASE_COUNT; ph++) {
		fprintf(f, "      ");
		json_stats(f, ar_phase_names[ph], &v->phase_static[ph], ",\n");
		char key[32];
		snprintf(key, sizeof(key), "%s_ops", ar_phase_names[ph]);
		fprintf(f, "      ");
		json_stats(f, key, &v->ops_static[ph], ph + 1 < AR_PHASE_COUNT ? ",\n" : "\n");
	}
	fprintf(f, "    },\n    \"probe_matrix\": {\"p10\": %.4g, \"p90\": %.4g}\n  },\n",
		v->probe_matrix_p10, v->probe_matrix_p90);
	fprintf(f, "  \"wall_s\": %.3f,\n  \"tracked_against\": \"%s\",\n  \"descriptors\": [",
		v->wall_s, v->ref_from_descriptor ? "calibration" : "start");
	for (int i = 0; i < v->n_descriptors; i++)
		fprintf(f, "%s{\"dram_bw_bytes_per_s\": %.4g, \"overhead_s\": %.4g, \"calibrated_after\": \"%s\"}",
			i ? ", " : "", v->desc_dram_bw[i], v->desc_overhead_s[i],
			i ? v->desc_after[i] : "");
	fprintf(f, "],\n  \"calibrations_left_out\": [");
	for (int i = 0; i < v->n_left_out; i++)
		fprintf(f, "%s{\"calibrated_after\": \"%s\", \"state_of\": %d}", i ? ", " : "",
			v->left_out_after[i], v->left_out_like[i]);
	fprintf(f, "],\n  \"points\": [\n");
	for (int i = 0; i < v->n_points; i++) {
		const struct ar_vpoint *p = &v->points[i];
		/* the label is free text: escaped */
		fprintf(f, "    {\"model\": ");
		ar_json_str(f, p->model);
		fprintf(f, ", \"arch\": ");
		ar_json_str(f, p->arch);
		fprintf(f, ", \"phase\": \"%s\", \"batch\": %ld, \"seq\": %ld, "
			   "\"weight_bytes\": %.0f, \"predicted_s\": %.6g, \"measured_s\": %.6g, \"rel_err\": %.6g, "
			   "\"predicted_static_s\": %.6g, \"rel_err_static\": %.6g, "
			   "\"drift\": {\"matrix\": %.4g, \"memory\": %.4g, \"overhead\": %.4g}, "
			   "\"round_trip_ns\": %.0f, \"descriptor\": [%d, %d, %d], \"ops\": [\n",
			ar_phase_names[p->phase], p->batch, p->seq, p->weight_bytes,
			p->predicted_s, p->measured_s, rel(p->predicted_s, p->measured_s),
			p->predicted_static_s, rel(p->predicted_static_s, p->measured_s),
			p->drift_matrix, p->drift_memory, p->drift_overhead, p->round_trip_s * 1e9,
			p->descriptor[0], p->descriptor[1], p->descriptor[2]);
		for (int k = 0; k < p->n_ops; k++) {
			const struct ar_vop *o = &p->ops[k];
			fprintf(f, "      {\"name\": \"%s\", \"layers\": %g, \"predicted_s\": %.6g, \"measured_s\": %.6g, \"rel_err\": %.6g, \"predicted_static_s\": %.6g}%s\n",
				ar_op_names[o->id], o->layers, o->predicted_s, o->measured_s,
				rel(o->predicted_s, o->measured_s), o->predicted_static_s,
				k + 1 < p->n_ops ? "," : "");
		}
		fprintf(f, "    ]}%s\n", i + 1 < v->n_points ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	return ferror(f) ? -1 : 0;
}
