/* Roofline evaluation of an op graph (formulas in roofline.h). */
#include "roofline.h"

#include <math.h>
#include <string.h>

const char *const ar_bound_names[AR_BOUND_COUNT] = { "compute", "memory", "link" };
_Static_assert(AR_BOUND_COMPUTE == AR_BOUND_MEMORY - 1, "bound flags");

/* Working set that decides the level of each byte class. */
static void class_footprints(const struct ar_graph *g, const struct ar_op *op,
			     double fp[AR_B_COUNT])
{
	double resident = ar_graph_resident(g);

	fp[AR_B_WEIGHT] = fp[AR_B_KV_READ] = fp[AR_B_KV_WRITE] = resident;
	fp[AR_B_ACT_IN] = fp[AR_B_ACT_OUT] = op->bytes[AR_B_ACT_IN] + op->bytes[AR_B_ACT_OUT];
	fp[AR_B_REREAD] = op->reread_footprint_bytes;
}

/* Fraction of the matrix peak an op's products attain: the descriptor's
 * curve at the op's rows for products (its cache-resident curve when the
 * weights sit in a cache) times its shape factor (cold: its weights come
 * from main memory), 1 for everything else. */
static double matrix_eff(const struct ar_op *op, const struct ar_hw *hw, double resident,
			 int cold)
{
	if (ar_op_kind(op->id) != AR_KIND_MATMUL)
		return 1;
	double m = (double)op->shape.m;
	return ar_hw_matrix_efficiency_for(hw, m, resident) *
	       ar_hw_matrix_shape(hw, m, (double)op->shape.k, (double)op->shape.n, cold);
}

/* Vector time: every vector FLOP at the vector peak, or, when the device
 * declares an exp rate (has_exp), the exponentials among them at that rate
 * and the rest at the peak. */
static inline double vector_time(const struct ar_op *op, double vpeak_inv, int has_exp,
				 double exp_inv)
{
	return (op->vflops - has_exp * op->vexp) * vpeak_inv + op->vexp * exp_inv;
}

/* The FLOPs the flash op counts for at its phase's attention rate */
static double attention_flops(const struct ar_op *op, enum ar_phase ph, const struct ar_hw *hw)
{
	double f = op->mflops + op->vflops;

	return ph == AR_PHASE_DECODE ? f
		: ar_hw_prefill_attention_flops(hw, (double)op->shape.k, f, op->attn_map_flops,
						op->attn_per_map);
}

/* Compute time of one op, as ar_roofline_eval computes it: matrix FLOPs at
 * the matrix peak of the op's width times the efficiency curve, vector FLOPs
 * at the vector peak; the flash op at the descriptor's decode or prefill
 * attention rate when it declares one (matrix and vector FLOPs together). */
static double compute_time(const struct ar_op *op, enum ar_phase ph, const struct ar_hw *hw,
			   double resident)
{
	double attn = op->id == AR_OP_FLASH
		? ar_hw_attention_rate_for(hw, ph == AR_PHASE_DECODE, (double)op->shape.k,
					   (double)op->shape.m, op->attn_intensity, resident) : 0;

	if (op->id == AR_OP_FLASH && attn > 0)
		return attention_flops(op, ph, hw) * (1 / attn);
	return op->mflops * (1 / ar_hw_peak(hw, 1, op->mbits)) * (1 / matrix_eff(op, hw, resident, ar_hw_residence(hw, resident) == AR_IN_MAIN)) +
	       vector_time(op, 1 / ar_hw_peak(hw, 0, op->vbits), hw->exp_per_s > 0,
			   hw->exp_per_s > 0 ? 1 / hw->exp_per_s : 0);
}

static int link_time(const struct ar_op *op, const struct ar_hw *hw, double *t,
		     struct ar_err *err)
{
	*t = 0;
	if (op->link_bytes <= 0)
		return 0;
	if (hw->link_bw_bytes_per_s <= 0)
		return ar_errf(err, NULL, 0, 0,
			       "device '%s' has no device link (link_bw_bytes_per_s), so --tp > 1 cannot be modelled",
			       hw->name);
	*t = op->link_bytes * (1 / hw->link_bw_bytes_per_s);
	return 0;
}

/* Inverse bandwidth of the first of n levels, capacities increasing, that
 * holds `bytes`; inv[n] (main memory) when none does.  Counted without
 * branches: which level an op lands in changes from op to op, and a
 * mispredicted branch costs more than the whole count. */
static inline double level_inv(const double *cap, const double *inv, int n, double bytes)
{
	int j = 0;

	for (int k = 0; k < n; k++)
		j += bytes > cap[k];
	return inv[j];
}

int ar_roofline_eval(const struct ar_graph *g, const struct ar_hw *hw,
		     struct ar_phase_time *out, struct ar_err *err)
{
	/* 1 / peak by operand width, indexed by bits / 4 (widths 4, 8, 16, 32) */
	double mpeak_inv[9] = { 0 }, vpeak_inv[9] = { 0 };
	double eff_inv[AR_GRAPH_MAX_OPS];
	/* the cached levels with a known bandwidth, smallest first, then main
	 * memory: an op's working set is served by the first that holds it */
	double cap[AR_HW_MAX_LEVELS], lvl_inv[AR_HW_MAX_LEVELS];
	int n_cached = 0;
	unsigned mwidths = 0, vwidths = 0;
	const double overhead = hw->overhead_s;
	/* the attention kernels' own fixed time (decode: its set-up and the
	 * merge of key ranges across threads; prefill: its items' start and
	 * join), beside the dispatch */
	const double attn_fixed = ar_hw_attention_fixed_for(hw, g->phase == AR_PHASE_DECODE,
							    ar_graph_resident(g));
	const double link_inv = hw->link_bw_bytes_per_s > 0 ? 1 / hw->link_bw_bytes_per_s : 0;
	const double handoff_inv = hw->handoff_bw_bytes_per_s > 0 ? 1 / hw->handoff_bw_bytes_per_s : 0;
	double attn_inv = 0, kv_share_inv = 0;
	const int has_exp = hw->exp_per_s > 0;
	const double exp_inv = has_exp ? 1 / hw->exp_per_s : 0;
	const int curve = hw->n_matrix_eff > 0 || hw->n_matrix_eff_cached > 0 ||
			  hw->n_matrix_eff_near > 0 ||
			  hw->matrix_inner_half > 0 || hw->matrix_cols_half > 0 ||
			  hw->n_matrix_inner_cold > 0;
	const double resident = ar_graph_resident(g);
	double time = 0, flops = 0, bytes = 0, link_bytes = 0;

	for (int l = hw->n_mem - 1; l > 0; l--)
		if (hw->mem[l].bw_bytes_per_s > 0) {
			cap[n_cached] = hw->mem[l].capacity_bytes;
			lvl_inv[n_cached++] = 1 / hw->mem[l].bw_bytes_per_s;
		}
	lvl_inv[n_cached] = hw->mem[0].bw_bytes_per_s > 0 ? 1 / hw->mem[0].bw_bytes_per_s : 0;
	/* the calls first (peaks of the widths used, the efficiency curve), so
	 * that the loop over ops does arithmetic only and keeps its sums in
	 * registers */
	for (int i = 0; i < g->n_ops; i++) {
		AR_ASSERT(g->ops[i].mbits >> 2 <= 8 && g->ops[i].vbits >> 2 <= 8);
		mwidths |= (unsigned)g->ops[i].mbits;
		vwidths |= (unsigned)g->ops[i].vbits;
		link_bytes += g->ops[i].link_bytes;
	}
	for (int bits = 4; bits <= 32; bits *= 2) {
		if (mwidths & (unsigned)bits)
			mpeak_inv[bits >> 2] = 1 / ar_hw_peak(hw, 1, bits);
		if (vwidths & (unsigned)bits)
			vpeak_inv[bits >> 2] = 1 / ar_hw_peak(hw, 0, bits);
	}
	if (link_bytes > 0 && link_inv == 0)
		return ar_errf(err, NULL, 0, 0,
			       "device '%s' has no device link (link_bw_bytes_per_s), so --tp > 1 cannot be modelled",
			       hw->name);
	/* weights (with the KV cache) held by a level below main memory */
	const int cached = (int)ar_hw_residence(hw, resident);
	/* the flash op at the descriptor's measured attention kernel rate for
	 * its phase, head dimension, query rows and where its K/V are */
	for (int i = 0; i < g->n_ops; i++)
		if (g->ops[i].id == AR_OP_FLASH) {
			double rate = ar_hw_attention_rate_for(hw, g->phase == AR_PHASE_DECODE,
							       (double)g->ops[i].shape.k,
							       (double)g->ops[i].shape.m,
							       g->ops[i].attn_intensity, resident);
			attn_inv = rate > 0 ? 1 / rate : 0;
			/* over K/V in main memory in decode, at the kernel's
			 * share of the bandwidth for the op's intensity */
			if (g->phase == AR_PHASE_DECODE && !cached && hw->decode_attn_memory_share > 0)
				kv_share_inv = 1 / ar_hw_decode_memory_share(hw, g->ops[i].attn_intensity);
		}
	for (int i = 0; curve && i < g->n_ops; i++)
		eff_inv[i] = 1 / matrix_eff(&g->ops[i], hw, resident, cached == AR_IN_MAIN);

	const double resident_bw = ar_hw_resident_bw(hw, resident);
	const double resident_inv = resident_bw > 0 ? 1 / resident_bw : 0;
	for (int i = 0; i < g->n_ops; i++) {
		const struct ar_op *op = &g->ops[i];
		const double *b = op->bytes;
		double act = b[AR_B_ACT_IN] + b[AR_B_ACT_OUT];
		double act_inv = fmax(level_inv(cap, lvl_inv, n_cached, act), handoff_inv);
		double reread_inv = level_inv(cap, lvl_inv, n_cached, op->reread_footprint_bytes);
		double compute;

		if (attn_inv > 0 && op->id == AR_OP_FLASH)
			compute = attention_flops(op, g->phase, hw) * attn_inv;
		else
			compute = op->mflops * mpeak_inv[op->mbits >> 2] * (curve ? eff_inv[i] : 1) +
				  vector_time(op, vpeak_inv[op->vbits >> 2], has_exp, exp_inv);
		double memory = (b[AR_B_WEIGHT] + b[AR_B_KV_READ] + b[AR_B_KV_WRITE]) * resident_inv +
				act * act_inv + b[AR_B_REREAD] * reread_inv;
		/* decode attention over K/V in main memory reads it at the
		 * kernel's share of the bandwidth */
		if (op->id == AR_OP_FLASH && kv_share_inv > 0)
			memory += b[AR_B_KV_READ] * resident_inv * (kv_share_inv - 1);
		double link = op->link_bytes * link_inv;
		double busy = compute > memory ? compute : memory;
		double t = busy + link + overhead + (op->id == AR_OP_FLASH) * attn_fixed;
		struct ar_op_time *r = &out->ops[i];

		r->compute_s = compute;
		r->memory_s = memory;
		r->link_s = link;
		r->time_s = t;
		/* compute-bound when compute time is positive and not below memory
		 * time, link-bound when the link takes longer than both; as flags,
		 * not branches (they change from op to op) */
		int by_compute = (compute >= memory) & (compute > 0), by_link = link > busy;
		r->bound = (enum ar_bound)(by_link ? AR_BOUND_LINK : AR_BOUND_MEMORY - by_compute);
		time += t * op->layers;
		flops += (op->mflops + op->vflops) * op->layers;
		bytes += (b[0] + b[1] + b[2] + b[3] + b[4] + b[5]) * op->layers;
	}
	out->time_s = time;
	out->flops = flops;
	out->bytes = bytes;
	return 0;
}

/* ---- generation ---- */

/* Σ_{s=lo}^{hi} (a0 + a1·s) */
static double sum_affine(double a0, double a1, double lo, double hi)
{
	double n = hi - lo + 1;

	return n <= 0 ? 0 : n * a0 + a1 * (lo + hi) * n / 2;
}

/* Σ_{s=lo}^{hi} max(a0 + a1·s, b0 + b1·s) over integers s */
static double sum_max_affine(double a0, double a1, double b0, double b1, double lo, double hi)
{
	double d0 = a0 - b0, d1 = a1 - b1; /* a − b = d0 + d1·s */

	if (hi < lo)
		return 0;
	if (d1 == 0)
		return d0 >= 0 ? sum_affine(a0, a1, lo, hi) : sum_affine(b0, b1, lo, hi);
	double x = -d0 / d1; /* where a = b */
	if (d1 > 0) { /* a wins from x on */
		double k = fmin(fmax(ceil(x), lo), hi + 1);
		return sum_affine(b0, b1, lo, k - 1) + sum_affine(a0, a1, k, hi);
	}
	double k = fmax(fmin(floor(x), hi), lo - 1); /* a wins up to x */
	return sum_affine(a0, a1, lo, k) + sum_affine(b0, b1, k + 1, hi);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Cuts of the generation's steps where the bandwidth of the read sweep
 * changes along the resident set: at most SWEEP_CUTS, the bandwidth changing
 * by SWEEP_STEP in log (2 %) or less between two; the sum over a segment,
 * at its middle's bandwidth, is then within ~SWEEP_STEP^2 / 24 of the steps' */
enum { SWEEP_CUTS = 512 };
#define SWEEP_STEP 0.02

/* The first steps s in (s1, s2] where the resident set r1 + slope·(s - s1)
 * passes those points; returns how many, into cuts */
static int sweep_cuts(const struct ar_hw *hw, double r1, double slope, double s1, double s2,
		      double *cuts)
{
	const struct ar_sweep_point *p = hw->read_sweep;
	double r2 = r1 + slope * (s2 - s1), lo = fmin(r1, r2), hi = fmax(r1, r2), range = 0;
	int n = 0;

	if (slope == 0 || hw->n_read_sweep < 2)
		return 0;
	/* the change in log bandwidth over the resident sets passed */
	for (int j = 1; j < hw->n_read_sweep; j++) {
		double a = fmax(lo, p[j - 1].bytes), b = fmin(hi, p[j].bytes);
		if (b > a)
			range += fabs(log(p[j].bw / p[j - 1].bw)) * log(b / a) /
				 log(p[j].bytes / p[j - 1].bytes);
	}
	double step = fmax(SWEEP_STEP, range / (SWEEP_CUTS - AR_HW_MAX_SWEEP));
	for (int j = 1; j < hw->n_read_sweep; j++) {
		double a = p[j - 1].bytes, b = p[j].bytes;
		if (b <= lo || a >= hi)
			continue;
		int q = (int)ceil(fabs(log(p[j].bw / p[j - 1].bw)) / step);
		q = q < 1 ? 1 : q;
		for (int k = 0; k < q && n < SWEEP_CUTS; k++) {
			double at = a * pow(b / a, (double)k / q);
			double s = s1 + (at - r1) / slope;
			if (s > s1 && s <= s2)
				cuts[n++] = floor(s) + 1;
		}
	}
	return n;
}

int ar_roofline_generate(const struct ar_model *m, const struct ar_workload *wl,
			 const struct ar_hw *hw, double prefill_s,
			 struct ar_gen_time *out, struct ar_err *err)
{
	struct ar_workload w = *wl;
	struct ar_graph g1, g2;
	double s1 = (double)wl->seq + 1, s2 = (double)(wl->seq + wl->gen - 1);
	double total = 0;

	memset(out, 0, sizeof(*out));
	out->ttft_s = prefill_s;
	out->time_s = prefill_s;
	if (wl->gen < 2)
		return 0;
	/* The decode graph is affine in the KV length s: read it off two points. */
	w.seq = (long)s1;
	ar_graph_build(&g1, m, &w, hw->onchip_bytes_per_unit, AR_PHASE_DECODE);
	w.seq = (long)s2;
	ar_graph_build(&g2, m, &w, hw->onchip_bytes_per_unit, AR_PHASE_DECODE);
	double span = s2 > s1 ? s2 - s1 : 1;
	/* the resident set is the graph's, the same for every op */
	double rcuts[SWEEP_CUTS];
	const int n_rcuts = sweep_cuts(hw, ar_graph_resident(&g1),
				       (ar_graph_resident(&g2) - ar_graph_resident(&g1)) / span, s1, s2,
				       rcuts);

	for (int i = 0; i < g1.n_ops; i++) {
		const struct ar_op *o1 = &g1.ops[i], *o2 = &g2.ops[i];
		double f1[AR_B_COUNT], f2[AR_B_COUNT], fixed;
		double cuts[2 + AR_B_COUNT * AR_HW_MAX_LEVELS + SWEEP_CUTS];
		int nc = 0;

		AR_ASSERT(o1->id == o2->id);
		if (link_time(o1, hw, &fixed, err))
			return -1;
		fixed += hw->overhead_s;
		class_footprints(&g1, o1, f1);
		class_footprints(&g2, o2, f2);
		/* breakpoints: where a class's working set crosses a level's capacity */
		cuts[nc++] = s1;
		for (int c = 0; c < AR_B_COUNT; c++) {
			double slope = (f2[c] - f1[c]) / span;
			if (slope == 0)
				continue;
			for (int l = 1; l < hw->n_mem; l++) {
				double s = s1 + (hw->mem[l].capacity_bytes - f1[c]) / slope;
				if (s > s1 && s <= s2)
					cuts[nc++] = floor(s) + 1; /* first s past the capacity */
			}
		}
		for (int k = 0; k < n_rcuts; k++)
			cuts[nc++] = rcuts[k];
		qsort(cuts, (size_t)nc, sizeof(*cuts), cmp_double);
		cuts[nc] = s2 + 1;
		double sum = 0;
		for (int k = 0; k < nc; k++) {
			double lo = cuts[k], hi = cuts[k + 1] - 1, mid;
			if (hi < lo)
				continue;
			mid = (lo + hi) / 2;
			/* compute: affine in s within the segment, whose weights stay
			 * in one level (the resident set's crossings are cuts); in
			 * the band between the near and the cached curves, the
			 * efficiency of the segment's middle */
			double res = f1[AR_B_WEIGHT] + (f2[AR_B_WEIGHT] - f1[AR_B_WEIGHT]) / span * (mid - s1);
			double ct1 = compute_time(o1, AR_PHASE_DECODE, hw, res);
			double c_slope = (compute_time(o2, AR_PHASE_DECODE, hw, res) - ct1) / span;
			double c0 = ct1 - c_slope * s1;
			double m0 = 0, m1 = 0;
			for (int c = 0; c < AR_B_COUNT; c++) {
				double b_slope = (o2->bytes[c] - o1->bytes[c]) / span;
				double b0 = o1->bytes[c] - b_slope * s1;
				double fpm = f1[c] + (f2[c] - f1[c]) / span * (mid - s1);
				double bw = c == AR_B_WEIGHT || c == AR_B_KV_READ || c == AR_B_KV_WRITE
					? ar_hw_resident_bw(hw, fpm) : hw->mem[ar_hw_level_for(hw, fpm)].bw_bytes_per_s;
				if ((c == AR_B_ACT_IN || c == AR_B_ACT_OUT) && hw->handoff_bw_bytes_per_s > 0)
					bw = fmin(bw, hw->handoff_bw_bytes_per_s);
				m0 += b0 / bw;
				m1 += b_slope / bw;
			}
			double attn_fixed = o1->id == AR_OP_FLASH
				? ar_hw_attention_fixed_for(hw, 1, res) : 0;
			sum += sum_max_affine(c0, c_slope, m0, m1, lo, hi) +
			       (fixed + attn_fixed) * (hi - lo + 1);
		}
		total += sum * o1->layers;
	}
	out->decode_s = total;
	out->tpot_s = total / (double)(wl->gen - 1);
	out->time_s = prefill_s + total;
	return 0;
}

int ar_roofline_generate_steps(const struct ar_model *m, const struct ar_workload *wl,
			       const struct ar_hw *hw, double prefill_s,
			       struct ar_gen_time *out, struct ar_err *err)
{
	struct ar_workload w = *wl;
	struct ar_graph g;
	struct ar_phase_time t;

	memset(out, 0, sizeof(*out));
	out->ttft_s = out->time_s = prefill_s;
	for (long s = wl->seq + 1; s <= wl->seq + wl->gen - 1; s++) {
		w.seq = s;
		ar_graph_build(&g, m, &w, hw->onchip_bytes_per_unit, AR_PHASE_DECODE);
		if (ar_roofline_eval(&g, hw, &t, err))
			return -1;
		out->decode_s += t.time_s;
	}
	if (wl->gen >= 2)
		out->tpot_s = out->decode_s / (double)(wl->gen - 1);
	out->time_s = prefill_s + out->decode_s;
	return 0;
}
