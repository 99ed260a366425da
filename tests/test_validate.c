/* The validation grid's choice of models and layer counts against the
 * last-level cache (ar_validate_models).  The executor is not run here. */
#include "testutil.h"

#include <math.h>
#include <unistd.h>

#include "validate.h"
#include "calibrate.h"
#include "plot.h"

static const long q_pre[] = { 32, 128 }, q_dec[] = { 256, 1024 }, q_b[] = { 1, 2 };
static const long f_pre[] = { 64, 256, 1024 }, f_dec[] = { 256, 1024, 4096 }, f_b[] = { 1, 4, 16 };

static void load_hw(struct ar_hw *hw, double llc)
{
	struct ar_err err = { 0 };

	assert_int_equal(ar_hw_load(hw, "tests/data/good/hw-two-level.yaml", &err), 0);
	hw->mem[1].capacity_bytes = llc;
}

static double resident(const struct ar_model *m, const struct ar_hw *hw, int decode, long B,
		       long S)
{
	struct ar_graph g;
	struct ar_workload wl = { .batch = B, .seq = S, .attn = AR_ATTN_FLASH, .wbits = 32,
				  .abits = 32, .kvbits = 32, .tp = 1 };

	ar_graph_build(&g, m, &wl, hw->onchip_bytes_per_unit,
		       decode ? AR_PHASE_DECODE : AR_PHASE_PREFILL);
	return ar_graph_resident(&g);
}

/* Oracle: points of the grid (prefill of at most 4096 tokens) and how many
 * are clear of C (<= C/3 or >= 3C). */
static int count_clear(const struct ar_model *m, const struct ar_hw *hw, int quick, int *total)
{
	const long *pre = quick ? q_pre : f_pre, *dec = quick ? q_dec : f_dec;
	const long *bs = quick ? q_b : f_b;
	int n = quick ? 2 : 3, clear = 0;
	double c = hw->mem[1].capacity_bytes;

	*total = 0;
	for (int b = 0; b < n; b++)
		for (int d = 0; d < 2; d++)
			for (int s = 0; s < n; s++) {
				long S = d ? dec[s] : pre[s];
				if (!d && bs[b] * S > 4096)
					continue;
				double r = resident(m, hw, d, bs[b], S);
				clear += r <= c / 3 || r >= 3 * c;
				(*total)++;
			}
	return clear;
}

/* Another state: the dispatch ×1.5 off the reference, either way; main
 * memory and the matrix rate, which tracking follows, do not count */
static void test_validate__state_distance(void **state)
{
	(void)state;
	struct ar_ceilings ref = { .n_mem = 2, .matrix_flops_per_s = 2.5e11,
				   .bw_bytes_per_s = { 5e10 }, .overhead_s = 0.6e-6 };
	struct ar_ceilings now = ref;
	assert_true(ar_validate_state_distance(&ref, &now) == 0);
	now.overhead_s = 0.9e-6; /* x1.5: on the gate */
	assert_close(ar_validate_state_distance(&ref, &now), 1, 1e-9, 0);
	now.overhead_s = 1.6e-6; /* the host's other state */
	assert_close(ar_validate_state_distance(&ref, &now), log(1.6 / 0.6) / log(1.5), 1e-9, 0);
	assert_true(ar_validate_state_distance(&now, &ref) > 2);
	now.overhead_s = 0.5e-6; /* x0.83: inside */
	assert_close(ar_validate_state_distance(&ref, &now), log(0.6 / 0.5) / log(1.5), 1e-9, 0);
	assert_true(ar_validate_state_distance(&ref, &now) < 1);
	/* main memory x1.7 and the matrix rate x0.4 alone: the same state; a
	 * missing dispatch reading counts as unmoved */
	now = ref;
	now.bw_bytes_per_s[0] = 8.5e10;
	now.matrix_flops_per_s = 1e11;
	assert_true(ar_validate_state_distance(&ref, &now) == 0);
	now.overhead_s = 0;
	assert_true(ar_validate_state_distance(&ref, &now) == 0);
}

static void test_validate__quick_grid_clear_of_cache(void **state)
{
	struct ar_hw hw;
	struct ar_model ms[16];
	struct ar_err err = { 0 };
	char notes[4096];
	const long small_layers[6] = { 1, 3, 2, 2, 2, 3 }; /* mha gqa mla gta gva gha */

	(void)state;
	load_hw(&hw, 16777216);
	assert_int_equal(ar_validate_models(ms, 16, 4, &hw, 1, notes, sizeof(notes), &err), 12);
	for (int i = 0; i < 12; i++) {
		int total, clear = count_clear(&ms[i], &hw, 1, &total);
		assert_int_equal(total, 8);
		assert_int_equal(clear, 8);
		assert_int_equal(ms[i].layers, i < 6 ? 4 : small_layers[i - 6]);
	}
	assert_string_equal(ms[6].name, "mha-small");
	assert_non_null(strstr(notes, "mha-small: 4 layers -> 1, 8 of 8 points clear"));
	/* with one layer more, MHA-small's largest point (KV 1024, batch 2:
	 * 2·4·32 floats per token = 1 KiB, 2 MiB per layer) is past C/3 */
	ms[6].layers = 2;
	assert_true(resident(&ms[6], &hw, 1, 2, 1024) > 16777216 / 3.0);
}

static void test_validate__full_grid_most_points_clear(void **state)
{
	struct ar_hw hw;
	struct ar_model ms[16];
	struct ar_err err = { 0 };
	char notes[4096], line[160];

	(void)state;
	load_hw(&hw, 16777216);
	assert_int_equal(ar_validate_models(ms, 16, 8, &hw, 0, notes, sizeof(notes), &err), 12);
	for (int i = 0; i < 12; i++) {
		int total, clear = count_clear(&ms[i], &hw, 0, &total);
		/* 3 batches × (3 decode + the prefill points of <= 4096 tokens: 3, 3, 2) */
		assert_int_equal(total, 17);
		if (i < 6) { /* 160M shapes: every point in main memory */
			assert_int_equal(ms[i].layers, 8);
			assert_int_equal(clear, 17);
			continue;
		}
		/* no layer count keeps more points clear; among equals the most layers */
		struct ar_model m = ms[i];
		for (long l = 1; l <= 8; l++) {
			m.layers = l;
			int t, c = count_clear(&m, &hw, 0, &t);
			assert_true(c < clear || (c == clear && l <= ms[i].layers));
		}
		snprintf(line, sizeof(line), "%.60s: 8 layers -> %ld, %d of 17 points clear", ms[i].name,
			 ms[i].layers, clear);
		assert_non_null(strstr(notes, line));
	}
	/* MHA-small at batch 16 and 4096 KV positions: 64 MiB of cache per
	 * layer, in main memory (>= 3C) whatever the layer count */
	assert_true(resident(&ms[6], &hw, 1, 16, 4096) >= 3 * 16777216.0);
}

/* C = 64 MiB (the Intel Xeon guest's usable L3): at 4 layers the 160M
 * models' quick points (193-257 MB) straddle 3C = 201 MB; all but MHA-160M
 * take a fifth layer, the fewest that puts every point in main memory */
static void test_validate__more_layers_reach_main_memory(void **state)
{
	struct ar_hw hw;
	struct ar_model ms[16];
	struct ar_err err = { 0 };
	char notes[4096], line[160];

	(void)state;
	load_hw(&hw, 67108864);
	assert_int_equal(ar_validate_models(ms, 16, 4, &hw, 1, notes, sizeof(notes), &err), 12);
	for (int i = 0; i < 6; i++) {
		int total, clear = count_clear(&ms[i], &hw, 1, &total);
		assert_int_equal(clear, 8);
		assert_int_equal(ms[i].layers, i == 0 ? 4 : 5);
		/* one layer fewer leaves a point short of 3C */
		struct ar_model m = ms[i];
		m.layers--;
		assert_true(count_clear(&m, &hw, 1, &total) < 8);
		if (i == 0)
			continue;
		snprintf(line, sizeof(line), "%.60s: 4 layers -> 5, 8 of 8 points clear", ms[i].name);
		assert_non_null(strstr(notes, line));
	}
	assert_null(strstr(notes, "mha-160m"));
	assert_string_equal(ms[6].name, "mha-small");
	/* the small models only ever lose layers */
	for (int i = 6; i < 12; i++)
		assert_true(ms[i].layers <= 4);
}

/* C = 128 MiB: 3C is 403 MB, past GTA1-160M's quick points even at 8 layers
 * (291-303 MB), and C/3 short of them at 1 (122-124 MB): left out.  MHA-160M
 * at 8 layers (317-416 MB) keeps the points that reach 3C. */
static void test_validate__no_point_clear_left_out(void **state)
{
	struct ar_hw hw;
	struct ar_model ms[16];
	struct ar_err err = { 0 };
	char notes[4096];

	(void)state;
	load_hw(&hw, 134217728);
	int n = ar_validate_models(ms, 16, 4, &hw, 1, notes, sizeof(notes), &err);
	assert_true(n >= 7 && n < 12);
	assert_non_null(strstr(notes, "gta1-160m: left out, no point's resident set <= 44.7 MB or >= 402.7 MB at any layer count (last-level cache 134.2 MB)"));
	for (int i = 0; i < n; i++) {
		assert_true(strcmp(ms[i].name, "gta1-160m"));
		int total, clear = count_clear(&ms[i], &hw, 1, &total);
		assert_true(clear > 0);
		if (!strcmp(ms[i].name, "mha-160m")) {
			assert_int_equal(ms[i].layers, 8);
			assert_true(clear < 8);
		}
	}
}

/* C = 3 MB: at H 128 GQA-, GTA- and GHA-small keep no quick point clear at
 * any layer count, and MHA-small 1 of 8; the small models take H 64 (4
 * heads of 16, vocabulary 1024), where each keeps more than half */
static void test_validate__narrower_width_small_cache(void **state)
{
	struct ar_hw hw;
	struct ar_model ms[16];
	struct ar_err err = { 0 };
	char notes[4096], line[200];
	static const char *const arch[6] = { "mha", "gqa", "mla", "gta", "gva", "gha" };

	(void)state;
	load_hw(&hw, 3e6);
	assert_int_equal(ar_validate_models(ms, 16, 4, &hw, 1, notes, sizeof(notes), &err), 12);
	for (int i = 6; i < 12; i++) {
		int total, clear = count_clear(&ms[i], &hw, 1, &total);
		assert_int_equal(ms[i].hidden, 64);
		assert_int_equal(ms[i].vocab, 1024);
		assert_int_equal(ms[i].attn.n_h, 4);
		assert_int_equal(ms[i].attn.d_h, 16);
		assert_true(2 * clear > total);
		snprintf(line, sizeof(line), "%s-small: width 64 (4 heads of 16, vocabulary 1024), 4 layers -> %ld, %d of 8 points clear",
			 arch[i - 6], ms[i].layers, clear);
		assert_non_null(strstr(notes, line));
	}
	/* the H 128 MHA-small at 4 layers: one point (KV 1024, batch 2: 4 x 2
	 * MiB of cache) >= 3C, the rest in the band */
	struct ar_model base, wide;
	char path[512];
	assert_int_equal(ar_model_open(&base, "mha-160m", &err), 0);
	base.hidden = 128;
	base.intermediate = 344;
	base.vocab = 2048;
	base.attn.n_h = 4;
	base.attn.d_h = 32;
	assert_int_equal(ar_resolve("archs", "mha", path, sizeof(path), &err), 0);
	assert_int_equal(ar_model_with_arch(&wide, &base, path, &err), 0);
	ar_model_set_layers(&wide, 4, 0);
	int total;
	assert_int_equal(count_clear(&wide, &hw, 1, &total), 1);
	assert_true(resident(&wide, &hw, 1, 2, 1024) >= 9e6);
}

/* The summary statistics, on points whose errors are known: medians of odd
 * and even counts, the 90th percentile as the ceil(0.9 n)-th smallest, ops
 * under 5 % of their point's time left out, the static predictions apart */
static void test_validate__summary_statistics(void **state)
{
	static struct ar_vpoint pts[5];
	struct ar_validation v = { .n_points = 5, .points = pts };
	/* phase, predicted, measured: |error| 0.1, 0.3 (static 0), 0.25, 0.05, 0.5 */
	const struct { enum ar_phase ph; double pred, meas; } p[5] = {
		{ AR_PHASE_PREFILL, 1.1, 1.0 }, { AR_PHASE_PREFILL, 0.7, 1.0 },
		{ AR_PHASE_DECODE, 2.0, 1.6 }, { AR_PHASE_DECODE, 0.95, 1.0 },
		{ AR_PHASE_DECODE, 1.5, 1.0 },
	};

	(void)state;
	for (int i = 0; i < 5; i++) {
		pts[i] = (struct ar_vpoint){ .phase = p[i].ph, .predicted_s = p[i].pred,
					     .predicted_static_s = p[i].pred,
					     .measured_s = p[i].meas };
	}
	pts[1].predicted_static_s = 1.0;
	/* point 0: an op with 90 % of the time (error 0.1) and one with 1 %
	 * (error 1, left out); point 2: 2 layers of 0.4 s (error 0.25) */
	pts[0].n_ops = 2;
	pts[0].ops[0] = (struct ar_vop){ .layers = 1, .predicted_s = 0.99, .measured_s = 0.9,
					 .predicted_static_s = 0.99 };
	pts[0].ops[1] = (struct ar_vop){ .layers = 1, .predicted_s = 0.02, .measured_s = 0.01,
					 .predicted_static_s = 0.02 };
	pts[2].n_ops = 1;
	pts[2].ops[0] = (struct ar_vop){ .layers = 2, .predicted_s = 0.5, .measured_s = 0.4,
					 .predicted_static_s = 0.5 };
	ar_validate_summarise(&v);
	assert_int_equal(v.all.n, 5);
	assert_close(v.all.median_abs_err, 0.25, 1e-12, 0);
	assert_close(v.all.p90_abs_err, 0.5, 1e-12, 0);
	assert_int_equal(v.phase[AR_PHASE_PREFILL].n, 2);
	assert_close(v.phase[AR_PHASE_PREFILL].median_abs_err, 0.2, 1e-12, 0);
	assert_close(v.phase[AR_PHASE_PREFILL].p90_abs_err, 0.3, 1e-12, 0);
	assert_close(v.phase[AR_PHASE_DECODE].median_abs_err, 0.25, 1e-12, 0);
	assert_close(v.phase[AR_PHASE_DECODE].p90_abs_err, 0.5, 1e-12, 0);
	assert_int_equal(v.ops[AR_PHASE_PREFILL].n, 1);
	assert_close(v.ops[AR_PHASE_PREFILL].median_abs_err, 0.1, 1e-12, 0);
	assert_int_equal(v.ops[AR_PHASE_DECODE].n, 1);
	assert_close(v.ops[AR_PHASE_DECODE].p90_abs_err, 0.25, 1e-12, 0);
	/* static: 0.1, 0, 0.25, 0.05, 0.5 */
	assert_close(v.all_static.median_abs_err, 0.1, 1e-12, 0);
	assert_close(v.phase_static[AR_PHASE_PREFILL].median_abs_err, 0.05, 1e-12, 0);
}

/* The JSON the plot reads back: every point's numbers as written, a label
 * with a quote and a backslash escaped (it is free text in an arch file) */
static void test_validate__json_round_trip(void **state)
{
	static struct ar_vpoint pts[2];
	struct ar_validation v = { .n_points = 2, .points = pts, .n_descriptors = 1,
				   .desc_dram_bw = { 5e10 }, .desc_overhead_s = { 1e-6 } };
	struct ar_measured m;
	struct ar_err err = { 0 };
	char path[] = "/tmp/attnroof-test-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	pts[0] = (struct ar_vpoint){ .model = "gqa-160m", .arch = "GQA", .phase = AR_PHASE_PREFILL,
				     .batch = 2, .seq = 128, .predicted_s = 0.011, .measured_s = 0.01,
				     .predicted_static_s = 0.011 };
	pts[1] = (struct ar_vpoint){ .model = "odd-1", .arch = "A\"B\\C", .phase = AR_PHASE_DECODE,
				     .batch = 1, .seq = 1024, .predicted_s = 2e-3, .measured_s = 2.5e-3,
				     .predicted_static_s = 2e-3 };
	ar_validate_summarise(&v);
	assert_true(fd >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	assert_int_equal(ar_validate_write_json(f, &v), 0);
	fclose(f);
	assert_int_equal(ar_measured_load(&m, path, &err), 0);
	assert_int_equal(m.n_points, 2);
	assert_string_equal(m.points[0].model, "gqa-160m");
	assert_string_equal(m.points[1].arch, "A\"B\\C");
	assert_int_equal(m.points[1].phase, AR_PHASE_DECODE);
	assert_int_equal(m.points[0].batch, 2);
	assert_int_equal(m.points[1].seq, 1024);
	assert_close(m.points[0].predicted_s, 0.011, 1e-6, 0);
	assert_close(m.points[1].measured_s, 2.5e-3, 1e-6, 0);
	/* |error| 0.1 and 0.2 */
	assert_close(m.median_abs_err, 0.15, 1e-6, 0);
	assert_close(m.p90_abs_err, 0.2, 1e-6, 0);
	ar_measured_release(&m);
	unlink(path);
}

/* buf = what write (the table or the JSON writer) prints of v */
static void written(char *buf, size_t size, int (*write)(FILE *, const struct ar_validation *),
		    const struct ar_validation *v)
{
	FILE *f = fmemopen(buf, size, "w");

	assert_non_null(f);
	assert_int_equal(write(f, v), 0);
	assert_int_equal(fclose(f), 0);
}

/* The quantile as the ceil(p n)-th smallest; the probe's spread in the
 * table (a warning past AR_VALIDATE_PROBE_SPREAD) and in the JSON */
static void test_validate__probe_spread(void **state)
{
	double v[10] = { 1.3, 0.7, 1.0, 0.9, 1.1, 1.2, 0.8, 1.4, 0.6, 0.5 };
	static struct ar_vpoint pts[1];
	struct ar_validation val = { .n_points = 1, .points = pts, .n_descriptors = 1 };
	char buf[8192];

	(void)state;
	assert_true(ar_validate_quantile(v, 10, 0.1) == 0.5);
	assert_true(ar_validate_quantile(v, 10, 0.9) == 1.3);
	assert_true(ar_validate_quantile(v, 10, 0.5) == 0.9);
	assert_true(ar_validate_quantile(v, 10, 0) == 0.5);
	assert_true(ar_validate_quantile(v, 10, 1) == 1.4);
	assert_true(ar_validate_quantile(v, 0, 0.5) == 0);
	pts[0] = (struct ar_vpoint){ .model = "gqa-160m", .arch = "GQA", .phase = AR_PHASE_PREFILL,
				     .batch = 1, .seq = 32, .predicted_s = 0.011, .measured_s = 0.01,
				     .predicted_static_s = 0.011 };
	ar_validate_summarise(&val);
	/* 0.62 to 1.41: a spread of 2.3, told */
	val.probe_matrix_p10 = 0.62;
	val.probe_matrix_p90 = 1.41;
	written(buf, sizeof(buf), ar_validate_write_table, &val);
	assert_non_null(strstr(buf, "tracking probe's product over the points: 0.62 to 1.41 of its reference (p10 to p90): the host moves faster than a pass"));
	/* 0.9 to 1.3 (1.44): the line alone */
	val.probe_matrix_p10 = 0.9;
	val.probe_matrix_p90 = 1.3;
	written(buf, sizeof(buf), ar_validate_write_table, &val);
	assert_non_null(strstr(buf, "tracking probe's product over the points: 0.90 to 1.30 of its reference (p10 to p90)\n"));
	written(buf, sizeof(buf), ar_validate_write_json, &val);
	assert_non_null(strstr(buf, "\"probe_matrix\": {\"p10\": 0.9, \"p90\": 1.3}"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate__state_distance),
		cmocka_unit_test(test_validate__summary_statistics),
		cmocka_unit_test(test_validate__json_round_trip),
		cmocka_unit_test(test_validate__probe_spread),
		cmocka_unit_test(test_validate__quick_grid_clear_of_cache),
		cmocka_unit_test(test_validate__full_grid_most_points_clear),
		cmocka_unit_test(test_validate__more_layers_reach_main_memory),
		cmocka_unit_test(test_validate__no_point_clear_left_out),
		cmocka_unit_test(test_validate__narrower_width_small_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
