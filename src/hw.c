/* Loading and editing hardware descriptors.  Every number in a descriptor
 * carries its source; the loader refuses one that does not. */
#include "hw.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#include "doc.h"

const char *const ar_dtype_names[AR_DT_COUNT] = {
	"fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4",
};
_Static_assert(sizeof(ar_dtype_names) / sizeof(ar_dtype_names[0]) == AR_DT_COUNT,
	       "dtype names");

const char *const ar_hw_kind_names[AR_HW_KIND_COUNT] = { "gpu", "cpu", "soc" };

/* Upper bounds that catch typos and keep products finite. */
#define MAX_FLOPS 1e18   /* 1 EFLOP/s on one device */
#define MAX_BW 1e16      /* 10 PB/s */
#define MAX_BYTES 1e15   /* 1 PB */
/* Rates below these are refused: no device is that slow, and a time over a
 * rate near zero is not a finite number */
#define MIN_RATE 1e3     /* FLOP/s, bytes/s, exponentials/s */
#define MIN_SHARE 1e-4   /* efficiencies and shares of a peak (calibrate writes >= 1e-4) */

/* The value of a {value, source} pair: 0 only where allowed, else within
 * [min, max] */
static int sourced(const struct ar_doc *doc, const struct ar_node *n,
		   const char *what, int allow_zero, double min, double max, double *out,
		   struct ar_err *err)
{
	static const char *const keys[] = { "value", "source", NULL };
	const struct ar_node *v, *s;

	if (n->kind != AR_NODE_MAP)
		return ar_node_errf(doc, n, err,
				    "'%s' must be {value: NUMBER, source: \"...\"}%s", what,
				    n->kind == AR_NODE_SCALAR ? " (every number carries its source)" : "");
	if (ar_node_check_keys(doc, n, keys, err))
		return -1;
	v = ar_node_get(n, "value");
	s = ar_node_get(n, "source");
	if (!v)
		return ar_node_errf(doc, n, err, "'%s' has no 'value'", what);
	if (!s)
		return ar_node_errf(doc, n, err,
				    "'%s' has no 'source' (a datasheet URL, or 'measured' with the date and command)",
				    what);
	if (s->kind != AR_NODE_SCALAR || s->is_null || !s->value[0])
		return ar_node_errf(doc, s, err, "'%s.source' must be a non-empty string", what);
	if (ar_node_num(doc, v, what, allow_zero, max, out, err))
		return -1;
	if (*out > 0 && *out < min)
		return ar_node_errf(doc, v, err, "'%s' is too small (%s; the least is %g)", what,
				    v->value, min);
	return 0;
}

/* ar_node_check_keys, with a hint for the words people write for the memory
 * fields: at the top level (top != 0) they belong in a memory level. */
static int check_keys(const struct ar_doc *doc, const struct ar_node *map,
		      const char *const *known, int top, struct ar_err *err)
{
	static const char *const words[] = { "bandwidth", "bw", "capacity", "size", NULL };
	static const char *const fields[] = {
		"bw_bytes_per_s", "bw_bytes_per_s", "capacity_bytes", "capacity_bytes"
	};

	for (const struct ar_node *c = map->child; c; c = c->next) {
		const char *const *k;
		for (k = known; *k && strcmp(*k, c->key); k++)
			;
		const char *w = *k ? NULL : ar_nearest(c->key, words);
		if (!w || ar_nearest(c->key, known))
			continue;
		const char *f = fields[0];
		for (int i = 0; words[i]; i++)
			if (words[i] == w)
				f = fields[i];
		return ar_errf(err, doc->path, c->key_line, c->key_col,
			       top ? "unknown key '%s' (did you mean '%s' in a 'memory' level?)"
				   : "unknown key '%s' (did you mean '%s'?)", c->key, f);
	}
	return ar_node_check_keys(doc, map, known, err);
}

static int load_peaks(const struct ar_doc *doc, const struct ar_node *map,
		      const char *what, double *out, struct ar_err *err)
{
	const char *keys[AR_DT_COUNT + 1] = { NULL }; /* NULL-terminated for check_keys */
	char name[64];

	for (int d = 0; d < AR_DT_COUNT; d++)
		keys[d] = ar_dtype_names[d];
	if (ar_node_expect(doc, map, AR_NODE_MAP, what, err) ||
	    ar_node_check_keys(doc, map, keys, err))
		return -1;
	for (int d = 0; d < AR_DT_COUNT; d++) {
		const struct ar_node *n = ar_node_get(map, ar_dtype_names[d]);
		snprintf(name, sizeof(name), "%s.%s", what, ar_dtype_names[d]);
		if (n && sourced(doc, n, name, 0, MIN_RATE, MAX_FLOPS, &out[d], err))
			return -1;
	}
	return 0;
}

static int load_level(const struct ar_doc *doc, const struct ar_node *n, int i,
		      struct ar_mem_level *lv, struct ar_err *err)
{
	static const char *const keys[] = { "name", "capacity_bytes", "bw_bytes_per_s", NULL };
	const struct ar_node *c;
	char what[64];

	snprintf(what, sizeof(what), "memory[%d]", i);
	if (ar_node_expect(doc, n, AR_NODE_MAP, what, err) || check_keys(doc, n, keys, 0, err))
		return -1;
	if (!(c = ar_node_get(n, "name")))
		return ar_node_errf(doc, n, err, "memory level %d has no 'name'", i);
	if (ar_node_name(doc, c, "name", lv->name, sizeof(lv->name), err))
		return -1;
	if (!(c = ar_node_get(n, "capacity_bytes")))
		return ar_node_errf(doc, n, err, "memory level '%s' has no 'capacity_bytes'",
				    lv->name);
	snprintf(what, sizeof(what), "%s.capacity_bytes", lv->name);
	if (sourced(doc, c, what, 0, 1, MAX_BYTES, &lv->capacity_bytes, err))
		return -1;
	c = ar_node_get(n, "bw_bytes_per_s");
	if (!c && i == 0)
		return ar_node_errf(doc, n, err,
				    "main memory '%s' has no 'bw_bytes_per_s'", lv->name);
	snprintf(what, sizeof(what), "%s.bw_bytes_per_s", lv->name);
	if (c && sourced(doc, c, what, 0, MIN_RATE, MAX_BW, &lv->bw_bytes_per_s, err))
		return -1;
	return 0;
}

/* A list of {X, value, source} points, X increasing: the efficiency curves
 * (X rows, the value a share of the peak) and the read sweep (X bytes, the
 * value a bandwidth) */
struct curve_spec {
	const char *key, *x;         /* the list's key, its points' X */
	int min_points, max_points;  /* min_points 1 or 2 */
	double x_max, v_min, v_max;
};

static int load_curve(const struct curve_spec *sp, double *xs, double *vs, int *count,
		      const struct ar_doc *doc, const struct ar_node *n, struct ar_err *err)
{
	const char *const keys[] = { sp->x, "value", "source", NULL };
	const char *key = sp->key;
	char what[96];
	int i = 0;

	if (ar_node_expect(doc, n, AR_NODE_SEQ, key, err))
		return -1;
	if (n->n_children < sp->min_points)
		return ar_node_errf(doc, n, err, "'%s' needs at least %s", key,
				    sp->min_points > 1 ? "two points" : "one point");
	if (n->n_children > sp->max_points)
		return ar_node_errf(doc, n, err, "'%s' has %d points; the limit is %d", key,
				    n->n_children, sp->max_points);
	for (const struct ar_node *c = n->child; c; c = c->next, i++) {
		const struct ar_node *x, *v, *s;
		snprintf(what, sizeof(what), "%s[]", key);
		if (ar_node_expect(doc, c, AR_NODE_MAP, what, err) ||
		    ar_node_check_keys(doc, c, keys, err))
			return -1;
		x = ar_node_get(c, sp->x);
		v = ar_node_get(c, "value");
		s = ar_node_get(c, "source");
		if (!x || !v || !s)
			return ar_node_errf(doc, c, err,
					    "a '%s' point needs '%s', 'value' and 'source'", key, sp->x);
		if (s->kind != AR_NODE_SCALAR || s->is_null || !s->value[0])
			return ar_node_errf(doc, s, err, "'%s.source' must be a non-empty string", key);
		snprintf(what, sizeof(what), "%s.%s", key, sp->x);
		if (ar_node_num(doc, x, what, 0, sp->x_max, &xs[i], err))
			return -1;
		snprintf(what, sizeof(what), "%s.value", key);
		if (ar_node_num(doc, v, what, 0, sp->v_max, &vs[i], err))
			return -1;
		if (vs[i] < sp->v_min)
			return ar_node_errf(doc, v, err, "'%s' is too small (%s; the least is %g)",
					    what, v->value, sp->v_min);
		if (i > 0 && xs[i] <= xs[i - 1])
			return ar_node_errf(doc, x, err, "'%s' %s must increase (%g after %g)", key,
					    sp->x, xs[i], xs[i - 1]);
	}
	*count = i;
	return 0;
}

/* matrix_efficiency, matrix_efficiency_cached and matrix_efficiency_near:
 * rows increasing, values shares of the peak, into pts / *count */
static int load_efficiency(struct ar_eff_point *pts, int *count, const char *key,
			   const struct ar_doc *doc, const struct ar_node *n, struct ar_err *err)
{
	const struct curve_spec sp = { key, "rows", 1, AR_HW_MAX_EFF, 1e9, MIN_SHARE, 1.0 };
	double x[AR_HW_MAX_EFF], v[AR_HW_MAX_EFF];

	if (load_curve(&sp, x, v, count, doc, n, err))
		return -1;
	for (int i = 0; i < *count; i++)
		pts[i] = (struct ar_eff_point){ x[i], v[i] };
	return 0;
}

/* read_bandwidth_by_set: bytes increasing, values bandwidths */
static int load_sweep(struct ar_hw *hw, const struct ar_doc *doc, const struct ar_node *n,
		      struct ar_err *err)
{
	const struct curve_spec sp = { "read_bandwidth_by_set", "bytes", 2, AR_HW_MAX_SWEEP,
				       MAX_BYTES, MIN_RATE, MAX_BW };
	double x[AR_HW_MAX_SWEEP], v[AR_HW_MAX_SWEEP];

	if (load_curve(&sp, x, v, &hw->n_read_sweep, doc, n, err))
		return -1;
	for (int i = 0; i < hw->n_read_sweep; i++)
		hw->read_sweep[i] = (struct ar_sweep_point){ x[i], v[i] };
	return 0;
}

/* matrix_inner_cold: k increasing below AR_HW_EFF_K, values shares */
static int load_inner_cold(struct ar_hw *hw, const struct ar_doc *doc, const struct ar_node *n,
			   struct ar_err *err)
{
	const struct curve_spec sp = { "matrix_inner_cold", "k", 1, AR_HW_MAX_COLD_K,
				       AR_HW_EFF_K - 1, MIN_SHARE, 1.0 };
	double x[AR_HW_MAX_COLD_K], v[AR_HW_MAX_COLD_K];

	if (load_curve(&sp, x, v, &hw->n_matrix_inner_cold, doc, n, err))
		return -1;
	for (int i = 0; i < hw->n_matrix_inner_cold; i++)
		hw->matrix_inner_cold[i] = (struct ar_k_point){ x[i], v[i] };
	return 0;
}

/* x/(x + h) relative to its value at the reference r, at most 1 */
static double half_factor(double x, double h, double r)
{
	return h > 0 && x > 0 && x < r ? x / (x + h) * (r + h) / r : 1;
}

double ar_hw_matrix_inner_cold(const struct ar_hw *hw, double rows, double k)
{
	const struct ar_k_point *p = hw->matrix_inner_cold;
	const int n = hw->n_matrix_inner_cold;

	if (n == 0 || k >= AR_HW_EFF_K || k <= 0)
		return 1;
	/* the points and (AR_HW_EFF_K, 1) after them */
	double f;
	if (k < p[0].k) {
		double k1 = n > 1 ? p[1].k : AR_HW_EFF_K, v1 = n > 1 ? p[1].value : 1;
		double s = fmax(0, log(v1 / p[0].value) / log(k1 / p[0].k));
		f = p[0].value * pow(k / p[0].k, s);
	} else {
		int i = 0;
		while (i + 1 < n && p[i + 1].k <= k)
			i++;
		double ka = p[i].k, va = p[i].value;
		double kb = i + 1 < n ? p[i + 1].k : AR_HW_EFF_K, vb = i + 1 < n ? p[i + 1].value : 1;
		f = va + (vb - va) * log(k / ka) / log(kb / ka);
	}
	f = fmin(1, fmax(MIN_SHARE, f));
	if (rows > AR_HW_COLD_ROWS && hw->matrix_inner_cold_power > 0)
		f = 1 - (1 - f) * pow(AR_HW_COLD_ROWS / rows, hw->matrix_inner_cold_power);
	return f;
}

double ar_hw_matrix_shape(const struct ar_hw *hw, double rows, double k, double n, int cold)
{
	cold = cold && hw->n_matrix_inner_cold > 0;
	if (hw->matrix_inner_half <= 0 && hw->matrix_cols_half <= 0 && !cold)
		return 1;
	/* the rows from which a product's FLOPs, not its weights, bound it */
	double bw = hw->mem[0].bw_bytes_per_s;
	if (bw <= 0 || rows < 2 * ar_hw_peak(hw, 1, 32) / bw)
		return 1;
	/* past the rows the half-points are stated at, each has less weight */
	double more = rows > AR_HW_SHAPE_ROWS ? AR_HW_SHAPE_ROWS / rows : 1;
	double k0 = hw->matrix_inner_half, n0 = hw->matrix_cols_half;
	if (more < 1 && hw->matrix_inner_half_power > 0)
		k0 *= pow(more, hw->matrix_inner_half_power);
	if (more < 1 && hw->matrix_cols_half_power > 0)
		n0 *= pow(more, hw->matrix_cols_half_power);
	return (cold ? ar_hw_matrix_inner_cold(hw, rows, k) : half_factor(k, k0, AR_HW_EFF_K)) *
	       half_factor(n, n0, AR_HW_EFF_N);
}

double ar_hw_attention_rate(const struct ar_hw *hw, int decode, double head_dim, double rows,
			    double intensity, int cached)
{
	if (!decode) {
		double p = hw->prefill_attn_flops_per_s;
		if (p > 0 && hw->prefill_attn_head_dim_half > 0 && head_dim > 0)
			p *= head_dim / (head_dim + hw->prefill_attn_head_dim_half);
		if (p > 0 && hw->prefill_attn_seq_half > 0 && rows > 0)
			p *= rows / (rows + hw->prefill_attn_seq_half);
		return p;
	}
	double r = cached == AR_IN_NEAR && hw->decode_attn_near_flops_per_s > 0
		? hw->decode_attn_near_flops_per_s
		: cached && hw->decode_attn_cached_flops_per_s > 0 ? hw->decode_attn_cached_flops_per_s
								   : hw->decode_attn_flops_per_s;
	if (r > 0 && hw->decode_attn_head_dim_half > 0 && head_dim > 0)
		r *= head_dim / (head_dim + hw->decode_attn_head_dim_half);
	if (r > 0 && hw->decode_attn_intensity_half > 0 && intensity > 0)
		r *= intensity / (intensity + hw->decode_attn_intensity_half);
	return r;
}

/* Where a resident set of `bytes` lives, among the levels with a known
 * bandwidth, and the capacity of the largest below the largest (the near
 * level; 0: none), in one walk of the levels */
static enum ar_residence residence_of(const struct ar_hw *hw, double bytes, double *near_cap)
{
	enum ar_residence r = AR_IN_MAIN;

	*near_cap = 0;
	for (int i = 1, largest = 1; i < hw->n_mem; i++)
		if (hw->mem[i].bw_bytes_per_s > 0) {
			if (!largest && *near_cap == 0)
				*near_cap = hw->mem[i].capacity_bytes;
			if (hw->mem[i].capacity_bytes >= bytes)
				r = largest ? AR_IN_LLC : AR_IN_NEAR;
			largest = 0;
		}
	return r;
}

enum ar_residence ar_hw_residence(const struct ar_hw *hw, double bytes)
{
	double near_cap;

	return residence_of(hw, bytes, &near_cap);
}

int ar_hw_level_for(const struct ar_hw *hw, double bytes)
{
	for (int i = hw->n_mem - 1; i > 0; i--)
		if (hw->mem[i].bw_bytes_per_s > 0 && hw->mem[i].capacity_bytes >= bytes)
			return i;
	return 0;
}

double ar_hw_resident_bw(const struct ar_hw *hw, double bytes)
{
	const struct ar_sweep_point *p = hw->read_sweep;
	const int n = hw->n_read_sweep, lvl = ar_hw_level_for(hw, bytes);

	/* a cache holds it (so the last-level cache does) and the sweep reaches it */
	if (n >= 2 && lvl > 0 && bytes <= p[n - 1].bytes) {
		int f = 0;
		for (int i = 1; i < n; i++)
			if (p[i].bw > p[f].bw)
				f = i;
		for (int i = f + 1; i < n && bytes >= p[f].bytes; i++)
			if (bytes <= p[i].bytes) {
				double t = log(bytes / p[i - 1].bytes) / log(p[i].bytes / p[i - 1].bytes);
				return exp((1 - t) * log(p[i - 1].bw) + t * log(p[i].bw));
			}
	}
	return hw->mem[lvl].bw_bytes_per_s;
}

/* *r = where `resident` lives; returns where it lies in the band from half
 * the near level's capacity (where calibrate's near probes hold their
 * weights and K/V: a set that fills the cores' L2 no longer stays there
 * whole) to `hi` bytes, in (0, 1) and log-linear, or -1 outside it (hi 0:
 * no band) */
static double band_position(const struct ar_hw *hw, double resident, double hi,
			    enum ar_residence *r)
{
	double lo;

	*r = residence_of(hw, resident, &lo);
	lo /= 2;
	if (*r == AR_IN_MAIN || lo <= 0 || hi <= lo || resident >= hi || resident <= lo)
		return -1;
	return log(resident / lo) / log(hi / lo);
}

/* At band position t, between the near level's value and the cache's,
 * log-linear */
static double across_band(double t, double near, double llc)
{
	return exp((1 - t) * log(near) + t * log(llc));
}

double ar_hw_matrix_efficiency_for(const struct ar_hw *hw, double rows, double resident)
{
	enum ar_residence r;
	double t = band_position(hw, resident,
				 hw->n_matrix_eff_near ? hw->matrix_eff_cached_bytes : 0, &r);

	if (t < 0)
		return ar_hw_matrix_efficiency(hw, rows, (int)r);
	return across_band(t, ar_hw_matrix_efficiency(hw, rows, AR_IN_NEAR),
			   ar_hw_matrix_efficiency(hw, rows, AR_IN_LLC));
}

double ar_hw_prefill_attention_flops(const struct ar_hw *hw, double head_dim, double flops,
				     double map_flops, double per_map)
{
	double d0 = hw->prefill_attn_head_dim_half;

	if (!hw->has_prefill_attn_output_share || d0 <= 0 || head_dim <= 0 || per_map <= 1 ||
	    map_flops <= 0)
		return flops;
	double per_score = map_flops * (d0 / head_dim) *
			   (1 + hw->prefill_attn_output_share * (per_map - 1));
	return (flops + per_score) * head_dim / (head_dim + d0);
}

double ar_hw_decode_memory_share(const struct ar_hw *hw, double intensity)
{
	double s4 = hw->decode_attn_memory_share, s1 = hw->decode_attn_memory_share_one;

	if (s4 <= 0 || s1 <= 0 || intensity <= 0)
		return s4;
	double t = log(intensity / AR_HW_SHARE_I_ONE) / log(AR_HW_SHARE_I_FOUR / AR_HW_SHARE_I_ONE);
	t = fmin(1, fmax(0, t));
	return exp((1 - t) * log(s1) + t * log(s4));
}

double ar_hw_attention_rate_for(const struct ar_hw *hw, int decode, double head_dim, double rows,
				double intensity, double resident)
{
	enum ar_residence r;
	double t = band_position(hw, resident,
				 decode && hw->decode_attn_near_flops_per_s > 0
					 ? hw->decode_attn_cached_bytes : 0, &r);

	if (t < 0)
		return ar_hw_attention_rate(hw, decode, head_dim, rows, intensity, (int)r);
	return across_band(t, ar_hw_attention_rate(hw, 1, head_dim, rows, intensity, AR_IN_NEAR),
			   ar_hw_attention_rate(hw, 1, head_dim, rows, intensity, AR_IN_LLC));
}

double ar_hw_attention_fixed_for(const struct ar_hw *hw, int decode, double resident)
{
	enum ar_residence r;

	if (!decode)
		return hw->prefill_attn_fixed_s;
	if (hw->has_decode_attn_memory_fixed && ar_hw_residence(hw, resident) == AR_IN_MAIN)
		return hw->decode_attn_memory_fixed_s;
	if (!hw->has_decode_attn_near_fixed || hw->decode_attn_near_flops_per_s <= 0)
		return hw->decode_attn_fixed_s;
	double t = band_position(hw, resident, hw->decode_attn_cached_bytes, &r);
	if (t < 0)
		return r == AR_IN_NEAR ? hw->decode_attn_near_fixed_s : hw->decode_attn_fixed_s;
	return (1 - t) * hw->decode_attn_near_fixed_s + t * hw->decode_attn_fixed_s;
}

double ar_hw_matrix_efficiency(const struct ar_hw *hw, double rows, int cached)
{
	const struct ar_eff_point *p = hw->matrix_eff;
	int n = hw->n_matrix_eff;

	if (cached == AR_IN_NEAR && hw->n_matrix_eff_near) {
		p = hw->matrix_eff_near;
		n = hw->n_matrix_eff_near;
	} else if (cached && hw->n_matrix_eff_cached) {
		p = hw->matrix_eff_cached;
		n = hw->n_matrix_eff_cached;
	}
	if (n == 0 || rows <= 0)
		return 1;
	if (rows <= p[0].rows)
		return p[0].value;
	for (int i = 1; i < n; i++)
		if (rows <= p[i].rows) {
			/* value(r) linear in log r between the two points */
			double t = log(rows / p[i - 1].rows) / log(p[i].rows / p[i - 1].rows);
			return p[i - 1].value + t * (p[i].value - p[i - 1].value);
		}
	return p[n - 1].value;
}

static int load_tree(struct ar_hw *hw, const struct ar_doc *doc, struct ar_err *err)
{
	static const char *const keys[] = {
		"name", "description", "kind", "matrix_flops_per_s", "vector_flops_per_s",
		"memory", "onchip", "link_bw_bytes_per_s", "host_link_bw_bytes_per_s",
		"overhead_s", "matrix_efficiency", "matrix_efficiency_cached", "matrix_efficiency_near",
		"decode_attention_flops_per_s", "prefill_attention_flops_per_s",
		"decode_attention_cached_flops_per_s", "decode_attention_near_flops_per_s",
		"decode_attention_cached_bytes", "decode_attention_head_dim_half",
		"prefill_attention_head_dim_half", "prefill_attention_seq_half",
		"decode_attention_intensity_half", "decode_attention_fixed_s",
		"decode_attention_near_fixed_s", "decode_attention_memory_fixed_s",
		"prefill_attention_fixed_s", "decode_attention_memory_share",
		"decode_attention_memory_share_one", "exp_per_s",
		"handoff_bw_bytes_per_s", "matrix_inner_half", "matrix_cols_half",
		"matrix_inner_half_power", "matrix_cols_half_power", "matrix_efficiency_cached_bytes",
		"matrix_inner_cold", "matrix_inner_cold_power", "prefill_attention_output_share",
		"probe_matrix_flops_per_s", "probe_dram_bytes_per_s", "probe_overhead_s",
		"read_bandwidth_by_set", NULL
	};
	static const char *const onchip_keys[] = { "bytes_per_unit", "units", NULL };
	const struct ar_node *root = doc->root, *n;
	char kind[16];
	double units;

	if (root->kind != AR_NODE_MAP)
		return ar_node_errf(doc, root, err,
				    "a hardware descriptor must be a mapping of keys, not %s",
				    root->kind == AR_NODE_SEQ ? "a list" : "a scalar");
	if (check_keys(doc, root, keys, 1, err))
		return -1;
	if (!(n = ar_node_get(root, "name")))
		return ar_node_errf(doc, root, err, "missing required key 'name'");
	if (ar_node_name(doc, n, "name", hw->name, sizeof(hw->name), err))
		return -1;
	if ((n = ar_node_get(root, "description")) &&
	    ar_node_str(doc, n, "description", hw->description, sizeof(hw->description), err))
		return -1;
	if (!(n = ar_node_get(root, "kind")))
		return ar_node_errf(doc, root, err, "missing required key 'kind'");
	if (ar_node_str(doc, n, "kind", kind, sizeof(kind), err))
		return -1;
	for (hw->kind = 0; hw->kind < AR_HW_KIND_COUNT; hw->kind++)
		if (!strcmp(kind, ar_hw_kind_names[hw->kind]))
			break;
	if (hw->kind == AR_HW_KIND_COUNT)
		return ar_node_errf(doc, n, err, "unknown kind '%s' (expected gpu, cpu or soc)",
				    kind);

	if (!(n = ar_node_get(root, "matrix_flops_per_s")))
		return ar_node_errf(doc, root, err, "missing required key 'matrix_flops_per_s'");
	if (load_peaks(doc, n, "matrix_flops_per_s", hw->matrix_flops_per_s, err))
		return -1;
	if (!hw->matrix_flops_per_s[AR_DT_FP32] && !hw->matrix_flops_per_s[AR_DT_FP16] &&
	    !hw->matrix_flops_per_s[AR_DT_BF16])
		return ar_node_errf(doc, n, err,
				    "'matrix_flops_per_s' needs at least one of fp32, fp16, bf16");
	if (!(n = ar_node_get(root, "vector_flops_per_s")))
		return ar_node_errf(doc, root, err, "missing required key 'vector_flops_per_s'");
	if (load_peaks(doc, n, "vector_flops_per_s", hw->vector_flops_per_s, err))
		return -1;
	if (!hw->vector_flops_per_s[AR_DT_FP32])
		return ar_node_errf(doc, n, err, "'vector_flops_per_s' needs fp32");

	if (!(n = ar_node_get(root, "memory")))
		return ar_node_errf(doc, root, err, "missing required key 'memory'");
	if (ar_node_expect(doc, n, AR_NODE_SEQ, "memory", err))
		return -1;
	if (n->n_children == 0)
		return ar_node_errf(doc, n, err, "'memory' needs at least one level");
	if (n->n_children > AR_HW_MAX_LEVELS)
		return ar_node_errf(doc, n, err, "'memory' has %d levels; the limit is %d",
				    n->n_children, AR_HW_MAX_LEVELS);
	int i = 0;
	for (const struct ar_node *c = n->child; c; c = c->next, i++) {
		if (load_level(doc, c, i, &hw->mem[i], err))
			return -1;
		if (i > 0 && hw->mem[i].capacity_bytes >= hw->mem[i - 1].capacity_bytes)
			return ar_node_errf(doc, c, err,
					    "memory level '%s' is not smaller than '%s' (list levels largest first)",
					    hw->mem[i].name, hw->mem[i - 1].name);
	}
	hw->n_mem = i;

	if (!(n = ar_node_get(root, "onchip")))
		return ar_node_errf(doc, root, err, "missing required key 'onchip'");
	if (ar_node_expect(doc, n, AR_NODE_MAP, "onchip", err) ||
	    ar_node_check_keys(doc, n, onchip_keys, err))
		return -1;
	const struct ar_node *b = ar_node_get(n, "bytes_per_unit");
	const struct ar_node *u = ar_node_get(n, "units");
	if (!b || !u)
		return ar_node_errf(doc, n, err, "'onchip' needs 'bytes_per_unit' and 'units'");
	if (sourced(doc, b, "onchip.bytes_per_unit", 0, 1, MAX_BYTES, &hw->onchip_bytes_per_unit, err) ||
	    sourced(doc, u, "onchip.units", 0, 1, 1e7, &units, err))
		return -1;
	if (units != floor(units))
		return ar_node_errf(doc, ar_node_get(u, "value"), err,
				    "'onchip.units' must be a whole number, not %s",
				    ar_node_get(u, "value")->value);
	hw->units = (long)units;
	/* the optional single numbers: key, zero allowed, least non-zero value,
	 * limit, field */
	const struct {
		const char *key;
		int allow_zero;
		double min, max;
		double *out;
	} opt[] = {
		{ "link_bw_bytes_per_s", 0, MIN_RATE, MAX_BW, &hw->link_bw_bytes_per_s },
		{ "host_link_bw_bytes_per_s", 0, MIN_RATE, MAX_BW, &hw->host_link_bw_bytes_per_s },
		{ "overhead_s", 1, 0, 1.0, &hw->overhead_s },
		{ "decode_attention_flops_per_s", 0, MIN_RATE, MAX_FLOPS, &hw->decode_attn_flops_per_s },
		{ "prefill_attention_flops_per_s", 0, MIN_RATE, MAX_FLOPS,
		  &hw->prefill_attn_flops_per_s },
		{ "decode_attention_cached_flops_per_s", 0, MIN_RATE, MAX_FLOPS,
		  &hw->decode_attn_cached_flops_per_s },
		{ "decode_attention_near_flops_per_s", 0, MIN_RATE, MAX_FLOPS,
		  &hw->decode_attn_near_flops_per_s },
		{ "decode_attention_cached_bytes", 0, 1, MAX_BYTES, &hw->decode_attn_cached_bytes },
		{ "decode_attention_head_dim_half", 1, 0, 1e6, &hw->decode_attn_head_dim_half },
		{ "prefill_attention_head_dim_half", 1, 0, 1e6, &hw->prefill_attn_head_dim_half },
		{ "decode_attention_fixed_s", 1, 0, 1, &hw->decode_attn_fixed_s },
		{ "decode_attention_near_fixed_s", 1, 0, 1, &hw->decode_attn_near_fixed_s },
		{ "decode_attention_memory_fixed_s", 1, 0, 1, &hw->decode_attn_memory_fixed_s },
		{ "prefill_attention_fixed_s", 1, 0, 1, &hw->prefill_attn_fixed_s },
		{ "decode_attention_memory_share", 0, MIN_SHARE, 4, &hw->decode_attn_memory_share },
		{ "decode_attention_memory_share_one", 0, MIN_SHARE, 4,
		  &hw->decode_attn_memory_share_one },
		{ "decode_attention_intensity_half", 1, 0, 1e6, &hw->decode_attn_intensity_half },
		{ "prefill_attention_seq_half", 1, 0, 1e6, &hw->prefill_attn_seq_half },
		{ "exp_per_s", 0, MIN_RATE, MAX_FLOPS, &hw->exp_per_s },
		{ "handoff_bw_bytes_per_s", 0, MIN_RATE, MAX_BW, &hw->handoff_bw_bytes_per_s },
		{ "matrix_inner_half", 1, 0, 1e6, &hw->matrix_inner_half },
		{ "matrix_cols_half", 1, 0, 1e6, &hw->matrix_cols_half },
		{ "matrix_efficiency_cached_bytes", 0, 1, MAX_BYTES, &hw->matrix_eff_cached_bytes },
		{ "matrix_inner_half_power", 1, 0, 4, &hw->matrix_inner_half_power },
		{ "matrix_cols_half_power", 1, 0, 4, &hw->matrix_cols_half_power },
		{ "matrix_inner_cold_power", 1, 0, 4, &hw->matrix_inner_cold_power },
		{ "prefill_attention_output_share", 1, 0, 1, &hw->prefill_attn_output_share },
		{ "probe_matrix_flops_per_s", 0, MIN_RATE, MAX_FLOPS, &hw->probe_matrix_flops_per_s },
		{ "probe_dram_bytes_per_s", 0, MIN_RATE, MAX_BW, &hw->probe_dram_bytes_per_s },
		{ "probe_overhead_s", 0, 0, 1, &hw->probe_overhead_s },
	};
	for (size_t k = 0; k < sizeof(opt) / sizeof(*opt); k++)
		if ((n = ar_node_get(root, opt[k].key)) &&
		    sourced(doc, n, opt[k].key, opt[k].allow_zero, opt[k].min, opt[k].max, opt[k].out,
			    err))
			return -1;
	if ((n = ar_node_get(root, "matrix_efficiency")) &&
	    load_efficiency(hw->matrix_eff, &hw->n_matrix_eff, "matrix_efficiency", doc, n, err))
		return -1;
	if ((n = ar_node_get(root, "matrix_efficiency_cached")) &&
	    load_efficiency(hw->matrix_eff_cached, &hw->n_matrix_eff_cached,
			    "matrix_efficiency_cached", doc, n, err))
		return -1;
	hw->has_decode_attn_near_fixed = ar_node_get(root, "decode_attention_near_fixed_s") != NULL;
	hw->has_decode_attn_memory_fixed =
		ar_node_get(root, "decode_attention_memory_fixed_s") != NULL;
	hw->has_prefill_attn_output_share =
		ar_node_get(root, "prefill_attention_output_share") != NULL;
	if ((n = ar_node_get(root, "read_bandwidth_by_set")) && load_sweep(hw, doc, n, err))
		return -1;
	if ((n = ar_node_get(root, "matrix_inner_cold")) && load_inner_cold(hw, doc, n, err))
		return -1;
	if ((n = ar_node_get(root, "matrix_efficiency_near")) &&
	    load_efficiency(hw->matrix_eff_near, &hw->n_matrix_eff_near, "matrix_efficiency_near",
			    doc, n, err))
		return -1;
	return 0;
}

int ar_hw_parse(struct ar_hw *hw, const char *name, const char *text, size_t len,
		struct ar_err *err)
{
	struct ar_doc doc = { 0 };
	int rc;

	memset(hw, 0, sizeof(*hw));
	rc = ar_doc_parse_yaml(&doc, name, text, len, err);
	if (!rc)
		rc = load_tree(hw, &doc, err);
	ar_doc_release(&doc);
	return rc;
}

int ar_hw_load(struct ar_hw *hw, const char *path, struct ar_err *err)
{
	char *text;
	size_t len;
	int rc;

	memset(hw, 0, sizeof(*hw));
	if (ar_read_file(path, &text, &len, err))
		return -1;
	rc = ar_hw_parse(hw, path, text, len, err);
	free(text);
	return rc;
}

double ar_hw_peak(const struct ar_hw *hw, int matrix, int bits)
{
	/* widening order per operand width */
	static const enum ar_dtype o32[] = { AR_DT_FP32, AR_DT_TF32 };
	static const enum ar_dtype o16[] = { AR_DT_FP16, AR_DT_BF16, AR_DT_FP32 };
	static const enum ar_dtype o8[] = { AR_DT_INT8, AR_DT_FP8, AR_DT_FP16, AR_DT_BF16, AR_DT_FP32 };
	static const enum ar_dtype o4[] = { AR_DT_INT4, AR_DT_INT8, AR_DT_FP8, AR_DT_FP16, AR_DT_BF16, AR_DT_FP32 };
	const double *p = matrix ? hw->matrix_flops_per_s : hw->vector_flops_per_s;
	const enum ar_dtype *o;
	size_t n;

	if (bits > 16) {
		o = o32; n = 2;
	} else if (bits > 8) {
		o = o16; n = 3;
	} else if (bits > 4) {
		o = o8; n = 5;
	} else {
		o = o4; n = 6;
	}
	for (size_t i = 0; i < n; i++)
		if (p[o[i]] > 0)
			return p[o[i]];
	/* a part with only 16-bit matrix units asked for fp32 */
	for (int d = 0; d < AR_DT_COUNT; d++)
		if (p[d] > 0)
			return p[d];
	return matrix ? ar_hw_peak(hw, 0, bits) : 0;
}

const char *const ar_hw_set_keys[] = {
	"bandwidth", "capacity", "peak", "exp", "link", "host_link", "overhead", "onchip",
	"units", "matrix.<dtype>", "vector.<dtype>", "<level>.bandwidth",
	"<level>.capacity", NULL
};

/* The loader's limits apply to edits too, so that an edited device is one a
 * descriptor could have declared. */
static int set_value(double *field, double v, int scale, int allow_zero, double min, double max,
		     const char *a, struct ar_err *err)
{
	double nv = scale ? *field * v : v;

	if (scale && *field == 0)
		return ar_errf(err, NULL, 0, 0,
			       "--set %s: cannot scale a field the device does not declare", a);
	if (!isfinite(nv) || nv > max)
		return ar_errf(err, NULL, 0, 0, "--set %s: the result is too large (the limit is %g)",
			       a, max);
	if (nv <= 0 && !(allow_zero && nv == 0))
		return ar_errf(err, NULL, 0, 0, "--set %s: the result must be > 0", a);
	if (nv > 0 && nv < min)
		return ar_errf(err, NULL, 0, 0, "--set %s: the result is too small (the least is %g)",
			       a, min);
	*field = nv;
	return 0;
}

/* A memory level's capacity, kept between its neighbours' as the loader
 * keeps it (levels largest first) */
static int set_capacity(struct ar_hw *hw, int i, double v, int scale, const char *a,
			struct ar_err *err)
{
	struct ar_mem_level *lv = &hw->mem[i];
	double old = lv->capacity_bytes;

	if (set_value(&lv->capacity_bytes, v, scale, 0, 1, MAX_BYTES, a, err))
		return -1;
	if (i > 0 && lv->capacity_bytes >= hw->mem[i - 1].capacity_bytes) {
		lv->capacity_bytes = old;
		return ar_errf(err, NULL, 0, 0, "--set %s: '%s' would not be smaller than '%s' (%g bytes)",
			       a, lv->name, hw->mem[i - 1].name, hw->mem[i - 1].capacity_bytes);
	}
	if (i + 1 < hw->n_mem && hw->mem[i + 1].capacity_bytes >= lv->capacity_bytes) {
		lv->capacity_bytes = old;
		return ar_errf(err, NULL, 0, 0, "--set %s: '%s' would not be larger than '%s' (%g bytes)",
			       a, lv->name, hw->mem[i + 1].name, hw->mem[i + 1].capacity_bytes);
	}
	return 0;
}

int ar_hw_set(struct ar_hw *hw, const char *a, struct ar_err *err)
{
	const char *eq = strchr(a, '=');
	char key[64], val[64];
	double v;
	int scale = 0;
	size_t kl;

	if (!eq || eq == a)
		return ar_errf(err, NULL, 0, 0, "--set '%s': expected KEY=VALUE", a);
	kl = (size_t)(eq - a);
	if (kl >= sizeof(key) || strlen(eq + 1) >= sizeof(val))
		return ar_errf(err, NULL, 0, 0, "--set: key or value too long");
	memcpy(key, a, kl);
	key[kl] = 0;
	strcpy(val, eq + 1);
	size_t vl = strlen(val);
	if (vl > 1 && (val[vl - 1] == 'x' || val[vl - 1] == 'X')) {
		scale = 1;
		val[vl - 1] = 0;
	}
	if (ar_parse_double(val, &v))
		return ar_errf(err, NULL, 0, 0, "--set %s: '%s' is not a number", a, eq + 1);
	const int may_be_zero = !strcmp(key, "overhead");
	if (v < 0 || (v == 0 && !may_be_zero))
		return ar_errf(err, NULL, 0, 0, "--set %s: value must be %s 0", a,
			       may_be_zero ? ">=" : ">");

	if (!strcmp(key, "bandwidth"))
		return set_value(&hw->mem[0].bw_bytes_per_s, v, scale, 0, MIN_RATE, MAX_BW, a, err);
	if (!strcmp(key, "capacity"))
		return set_capacity(hw, 0, v, scale, a, err);
	if (!strcmp(key, "link"))
		return set_value(&hw->link_bw_bytes_per_s, v, scale, 0, MIN_RATE, MAX_BW, a, err);
	if (!strcmp(key, "host_link"))
		return set_value(&hw->host_link_bw_bytes_per_s, v, scale, 0, MIN_RATE, MAX_BW, a, err);
	if (!strcmp(key, "overhead"))
		return scale ? ar_errf(err, NULL, 0, 0, "--set %s: give overhead in seconds", a)
			     : set_value(&hw->overhead_s, v, 0, 1, 0, 1.0, a, err);
	if (!strcmp(key, "onchip"))
		return set_value(&hw->onchip_bytes_per_unit, v, scale, 0, 1, MAX_BYTES, a, err);
	if (!strcmp(key, "exp"))
		return set_value(&hw->exp_per_s, v, scale, 0, MIN_RATE, MAX_FLOPS, a, err);
	if (!strcmp(key, "units")) {
		double u = (double)hw->units;
		if (set_value(&u, v, scale, 0, 1, 1e7, a, err))
			return -1;
		if (u != floor(u) || u > 1e7)
			return ar_errf(err, NULL, 0, 0, "--set %s: units must be a whole number", a);
		hw->units = (long)u;
		return 0;
	}
	if (!strcmp(key, "peak")) {
		if (!scale)
			return ar_errf(err, NULL, 0, 0,
				       "--set %s: 'peak' scales every peak; write e.g. peak=2x", a);
		for (int d = 0; d < AR_DT_COUNT; d++) {
			if (hw->matrix_flops_per_s[d] &&
			    set_value(&hw->matrix_flops_per_s[d], v, 1, 0, MIN_RATE, MAX_FLOPS, a, err))
				return -1;
			if (hw->vector_flops_per_s[d] &&
			    set_value(&hw->vector_flops_per_s[d], v, 1, 0, MIN_RATE, MAX_FLOPS, a, err))
				return -1;
		}
		/* the measured kernel rates are compute rates too */
		double *rates[] = { &hw->decode_attn_flops_per_s, &hw->prefill_attn_flops_per_s,
				    &hw->decode_attn_cached_flops_per_s, &hw->decode_attn_near_flops_per_s,
				    &hw->exp_per_s };
		for (size_t r = 0; r < sizeof(rates) / sizeof(*rates); r++)
			if (*rates[r] && set_value(rates[r], v, 1, 0, MIN_RATE, MAX_FLOPS, a, err))
				return -1;
		return 0;
	}
	const char *dot = strchr(key, '.');
	if (dot) {
		char head[32];
		size_t hl = (size_t)(dot - key);
		if (hl >= sizeof(head))
			return ar_errf(err, NULL, 0, 0, "--set %s: unknown key", a);
		memcpy(head, key, hl);
		head[hl] = 0;
		if (!strcmp(head, "matrix") || !strcmp(head, "vector")) {
			double *p = head[0] == 'm' ? hw->matrix_flops_per_s : hw->vector_flops_per_s;
			for (int d = 0; d < AR_DT_COUNT; d++)
				if (!strcmp(dot + 1, ar_dtype_names[d]))
					return set_value(&p[d], v, scale, 0, MIN_RATE, MAX_FLOPS, a, err);
			return ar_errf(err, NULL, 0, 0, "--set %s: unknown dtype '%s'", a, dot + 1);
		}
		for (int i = 0; i < hw->n_mem; i++) {
			if (strcasecmp(hw->mem[i].name, head))
				continue;
			/* the sweep measured the levels as they were */
			if (i > 0)
				hw->n_read_sweep = 0;
			if (!strcmp(dot + 1, "bandwidth"))
				return set_value(&hw->mem[i].bw_bytes_per_s, v, scale, 0, MIN_RATE, MAX_BW, a, err);
			if (!strcmp(dot + 1, "capacity"))
				return set_capacity(hw, i, v, scale, a, err);
			return ar_errf(err, NULL, 0, 0,
				       "--set %s: a memory level has 'bandwidth' and 'capacity'", a);
		}
		return ar_errf(err, NULL, 0, 0, "--set %s: '%s' has no memory level '%s'", a,
			       hw->name, head);
	}
	return ar_errf(err, NULL, 0, 0,
		       "--set %s: unknown key '%s' (known: bandwidth, capacity, peak, link, "
		       "host_link, overhead, onchip, units, matrix.DTYPE, vector.DTYPE, "
		       "LEVEL.bandwidth, LEVEL.capacity)", a, key);
}
