/* The roofline evaluator on a made-up two-level device
 * (tests/data/good/hw-two-level.yaml: DRAM 1 GB at 1 TB/s, cache 1 MB at
 * 10 TB/s; matrix fp32 10, fp16 100, int8 200 TFLOP/s; vector fp32 5, fp16 20
 * TFLOP/s; link 100 GB/s): level choice per byte class, compute peaks by bit
 * width, bound labels, overhead and link time, and generation in closed form
 * against the step-by-step sum. */
#include "testutil.h"

#include <stdlib.h>

#include "graph.h"
#include "hw.h"
#include "model.h"
#include "report.h"
#include "roofline.h"

static const char *root(void)
{
	const char *r = getenv("ATTNROOF_DATA");

	return r && *r ? r : ".";
}

static void load_hw(struct ar_hw *hw, const char *file)
{
	struct ar_err err = { 0 };
	char path[1024];

	if (strchr(file, '/'))
		snprintf(path, sizeof(path), "%s/tests/data/good/%s", root(), strchr(file, '/') + 1);
	else
		snprintf(path, sizeof(path), "%s/hw/%s.yaml", root(), file);
	if (ar_hw_load(hw, path, &err)) {
		print_error("%s: %s\n", path, err.msg);
		fail();
	}
}

static void load_model(struct ar_model *m, const char *name)
{
	struct ar_err err = { 0 };
	char path[1024];

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s/tests/data/good/%s", root(), strchr(name, '/') + 1);
	else
		snprintf(path, sizeof(path), "%s/configs/%s.yaml", root(), name);
	if (ar_model_load(m, path, &err)) {
		print_error("%s: %s\n", path, err.msg);
		fail();
	}
}

static void eval(const struct ar_graph *g, const struct ar_hw *hw, struct ar_phase_time *t)
{
	struct ar_err err = { 0 };

	if (ar_roofline_eval(g, hw, t, &err)) {
		print_error("eval: %s\n", err.msg);
		fail();
	}
}

/* A one-op graph with the given bytes by class (weight, act_in, act_out,
 * kv_read, kv_write, reread) and working sets. */
static void one_op(struct ar_graph *g, const double bytes[AR_B_COUNT], double weights,
		   double kv_cache, double kv_layer)
{
	memset(g, 0, sizeof(*g));
	g->n_ops = 1;
	g->ops[0].id = AR_OP_QK;
	g->ops[0].layers = 1;
	g->ops[0].mbits = g->ops[0].vbits = 16;
	memcpy(g->ops[0].bytes, bytes, sizeof(double) * AR_B_COUNT);
	g->weight_bytes = g->weight_read_bytes = weights;
	g->kv_cache_bytes = kv_cache;
	g->kv_layer_bytes = kv_layer;
	g->ops[0].reread_footprint_bytes = kv_layer;
}

static void test_roofline__level_per_byte_class(void **state)
{
	const double b[AR_B_COUNT] = { 1e6, 2e5, 1e5, 3e5, 1e3, 4e5 };
	struct ar_hw hw;
	struct ar_graph g;
	struct ar_phase_time t;

	(void)state;
	load_hw(&hw, "good/hw-two-level.yaml");
	/* weights + whole cache 1.1 MB: DRAM for weight and KV bytes; the op's
	 * activations (300 kB) and one layer's K/V (200 kB) fit the cache */
	one_op(&g, b, 8e5, 3e5, 2e5);
	eval(&g, &hw, &t);
	assert_close(t.ops[0].memory_s, (1e6 + 3e5 + 1e3) / 1e12 + 3e5 / 10e12 + 4e5 / 10e12, 1e-15, 0);
	assert_close(t.ops[0].compute_s, 0, 0, 0);
	assert_int_equal(t.ops[0].bound, AR_BOUND_MEMORY);
	assert_close(t.time_s, t.ops[0].memory_s, 1e-15, 0);
	assert_close(t.bytes, 1e6 + 2e5 + 1e5 + 3e5 + 1e3 + 4e5, 0, 0);
	/* a working set equal to the capacity fits: everything from the cache */
	one_op(&g, b, 8e5, 2e5, 2e5);
	eval(&g, &hw, &t);
	assert_close(t.ops[0].memory_s, (1e6 + 2e5 + 1e5 + 3e5 + 1e3 + 4e5) / 10e12, 1e-15, 0);
	/* activations larger than the cache go to DRAM; so do re-reads of a layer's
	 * K/V larger than the cache, while the weights stay in the cache */
	const double big_act[AR_B_COUNT] = { 1e6, 9e5 + 1, 1e5, 3e5, 1e3, 4e5 };
	one_op(&g, big_act, 8e5, 1e5, 2e5);
	g.ops[0].reread_footprint_bytes = 2e6;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].memory_s,
		     (1e6 + 3e5 + 1e3) / 10e12 + (9e5 + 1 + 1e5 + 4e5) / 1e12, 1e-15, 0);
	/* a handoff rate of 2 TB/s: the activations held by the cache go at it,
	 * those in DRAM at DRAM's 1 TB/s; other classes keep their level's */
	load_hw(&hw, "good/hw-handoff.yaml");
	assert_close(hw.handoff_bw_bytes_per_s, 2e12, 0, 0);
	one_op(&g, b, 8e5, 3e5, 2e5);
	eval(&g, &hw, &t);
	assert_close(t.ops[0].memory_s, (1e6 + 3e5 + 1e3) / 1e12 + 3e5 / 2e12 + 4e5 / 10e12, 1e-15, 0);
	one_op(&g, big_act, 8e5, 1e5, 2e5);
	g.ops[0].reread_footprint_bytes = 2e6;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].memory_s,
		     (1e6 + 3e5 + 1e3) / 10e12 + (9e5 + 1 + 1e5 + 4e5) / 1e12, 1e-15, 0);
}

/* A read sweep in place of the levels' steps, for resident sets from its
 * fastest point to the cache's capacity (hw-sweep.yaml) */
static void test_roofline__read_sweep_for_resident_sets(void **state)
{
	struct ar_hw hw;
	struct ar_graph g;
	struct ar_phase_time t;
	struct ar_err err = { 0 };
	double b[AR_B_COUNT] = { 0 };
	const double mid = sqrt(1e5 * 1e6); /* half way in log from 100 kB to 1 MB */

	(void)state;
	load_hw(&hw, "good/hw-sweep.yaml");
	assert_int_equal(hw.n_read_sweep, 4);
	/* below the fastest point (100 kB) the cache's own 10 TB/s */
	assert_close(ar_hw_resident_bw(&hw, 5e4), 10e12, 0, 0);
	assert_close(ar_hw_resident_bw(&hw, 1e5), 12e12, 1e-15, 0);
	/* √(12e12 · 3e12) */
	assert_close(ar_hw_resident_bw(&hw, mid), 6e12, 1e-12, 0);
	assert_close(ar_hw_resident_bw(&hw, 1e6), 3e12, 1e-12, 0);
	/* past the 1 MB cache: main memory, though the sweep goes on to 4 MB */
	assert_close(ar_hw_resident_bw(&hw, 2e6), 1e12, 0, 0);
	/* the op's weights at the sweep's bandwidth for the resident set; its
	 * activations at their level's, the cache's */
	b[AR_B_WEIGHT] = 2e5;
	b[AR_B_ACT_IN] = 1e3;
	one_op(&g, b, mid, 0, 0);
	eval(&g, &hw, &t);
	assert_close(t.ops[0].memory_s, 2e5 / 6e12 + 1e3 / 10e12, 1e-12, 0);
	/* an edit of main memory keeps the sweep, one of the cache drops it */
	assert_int_equal(ar_hw_set(&hw, "bandwidth=2x", &err), 0);
	assert_close(ar_hw_resident_bw(&hw, mid), 6e12, 1e-12, 0);
	assert_int_equal(ar_hw_set(&hw, "cache.bandwidth=2x", &err), 0);
	assert_int_equal(hw.n_read_sweep, 0);
	assert_close(ar_hw_resident_bw(&hw, mid), 20e12, 0, 0);
}

static void test_roofline__compute_peak_by_bit_width(void **state)
{
	struct ar_hw hw, h;
	struct ar_graph g;
	struct ar_phase_time t;
	const double zero[AR_B_COUNT] = { 0 };

	(void)state;
	load_hw(&hw, "good/hw-two-level.yaml");
	/* matrix: 32 → fp32; 16 → fp16; 8 → int8; 4 → no int4, widened to int8 */
	assert_close(ar_hw_peak(&hw, 1, 32), 10e12, 0, 0);
	assert_close(ar_hw_peak(&hw, 1, 16), 100e12, 0, 0);
	assert_close(ar_hw_peak(&hw, 1, 8), 200e12, 0, 0);
	assert_close(ar_hw_peak(&hw, 1, 4), 200e12, 0, 0);
	/* vector: no int8/fp8/int4, so 8 and 4 bits widen to fp16 */
	assert_close(ar_hw_peak(&hw, 0, 32), 5e12, 0, 0);
	assert_close(ar_hw_peak(&hw, 0, 16), 20e12, 0, 0);
	assert_close(ar_hw_peak(&hw, 0, 8), 20e12, 0, 0);
	assert_close(ar_hw_peak(&hw, 0, 4), 20e12, 0, 0);
	/* 16 bits: fp16, else bf16, else fp32 */
	h = hw;
	h.matrix_flops_per_s[AR_DT_FP16] = 0;
	assert_close(ar_hw_peak(&h, 1, 16), 10e12, 0, 0);
	h.matrix_flops_per_s[AR_DT_BF16] = 50e12;
	assert_close(ar_hw_peak(&h, 1, 16), 50e12, 0, 0);
	/* 8 bits without int8: fp8, else fp16 */
	h = hw;
	h.matrix_flops_per_s[AR_DT_INT8] = 0;
	assert_close(ar_hw_peak(&h, 1, 8), 100e12, 0, 0);
	h.matrix_flops_per_s[AR_DT_FP8] = 150e12;
	assert_close(ar_hw_peak(&h, 1, 8), 150e12, 0, 0);
	/* 32 bits on a part with only 16-bit matrix units: its 16-bit peak */
	h = hw;
	h.matrix_flops_per_s[AR_DT_FP32] = 0;
	h.matrix_flops_per_s[AR_DT_INT8] = 0;
	assert_close(ar_hw_peak(&h, 1, 32), 100e12, 0, 0);
	/* no matrix units at all: the vector units */
	memset(h.matrix_flops_per_s, 0, sizeof(h.matrix_flops_per_s));
	assert_close(ar_hw_peak(&h, 1, 16), 20e12, 0, 0);
	/* the real H100 descriptor: int4 widens to int8; vector 16-bit to fp32 */
	load_hw(&h, "h100-sxm");
	assert_close(ar_hw_peak(&h, 1, 4), 1978.9e12, 0, 0);
	assert_close(ar_hw_peak(&h, 0, 16), 66.9e12, 0, 0);

	/* the evaluator: matrix FLOPs at the peak for mbits, vector FLOPs at the
	 * peak for vbits, added */
	one_op(&g, zero, 0, 0, 0);
	g.ops[0].mflops = 1e9;
	g.ops[0].vflops = 2e8;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 1e9 / 100e12 + 2e8 / 20e12, 1e-15, 0);
	assert_int_equal(t.ops[0].bound, AR_BOUND_COMPUTE);
	assert_close(t.flops, 1.2e9, 0, 0);
	g.ops[0].mbits = 8;
	g.ops[0].vbits = 32;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 1e9 / 200e12 + 2e8 / 5e12, 1e-15, 0);
	g.ops[0].mbits = 32;
	g.ops[0].vbits = 8;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 1e9 / 10e12 + 2e8 / 20e12, 1e-15, 0);
}

static void test_roofline__bound_overhead_and_link(void **state)
{
	struct ar_hw hw;
	struct ar_graph g;
	struct ar_phase_time t;
	struct ar_err err = { 0 };
	const double b[AR_B_COUNT] = { 1e6, 0, 0, 0, 0, 0 }; /* 1 µs at 1 TB/s */

	(void)state;
	load_hw(&hw, "good/hw-two-level.yaml");
	one_op(&g, b, 1e9, 0, 0);
	g.ops[0].layers = 3;
	/* compute 2 µs > memory 1 µs: compute bound */
	g.ops[0].mflops = 2e8;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].memory_s, 1e-6, 1e-15, 0);
	assert_close(t.ops[0].compute_s, 2e-6, 1e-15, 0);
	assert_close(t.ops[0].time_s, 2e-6, 1e-15, 0);
	assert_int_equal(t.ops[0].bound, AR_BOUND_COMPUTE);
	assert_close(t.time_s, 3 * 2e-6, 1e-15, 0);
	/* compute 0.5 µs < memory: memory bound */
	g.ops[0].mflops = 5e7;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].time_s, 1e-6, 1e-15, 0);
	assert_int_equal(t.ops[0].bound, AR_BOUND_MEMORY);
	/* a declared per-op overhead is added to every repeat */
	assert_int_equal(ar_hw_set(&hw, "overhead=4e-6", &err), 0);
	eval(&g, &hw, &t);
	assert_close(t.ops[0].time_s, 5e-6, 1e-15, 0);
	assert_int_equal(t.ops[0].bound, AR_BOUND_MEMORY);
	assert_close(t.time_s, 15e-6, 1e-15, 0);
	hw.overhead_s = 0;
	/* link time is added after the roofline max: 1 MB at 100 GB/s = 10 µs */
	g.ops[0].link_bytes = 1e6;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].link_s, 10e-6, 1e-15, 0);
	assert_close(t.ops[0].time_s, 11e-6, 1e-15, 0);
	assert_int_equal(t.ops[0].bound, AR_BOUND_LINK);
	/* link bytes but no link on the device */
	hw.link_bw_bytes_per_s = 0;
	assert_int_equal(ar_roofline_eval(&g, &hw, &t, &err), -1);
	assert_string_equal(err.msg, "device 'two-level' has no device link (link_bw_bytes_per_s), "
				     "so --tp > 1 cannot be modelled");
	/* an op with nothing to do is memory bound at zero time */
	const double none[AR_B_COUNT] = { 0 };
	one_op(&g, none, 0, 0, 0);
	eval(&g, &hw, &t);
	assert_close(t.ops[0].time_s, 0, 0, 0);
	assert_int_equal(t.ops[0].bound, AR_BOUND_MEMORY);
}

static void test_roofline__real_graph_totals(void **state)
{
	struct ar_hw hw;
	struct ar_model m;
	struct ar_graph g;
	struct ar_phase_time t;
	struct ar_workload wl = { .batch = 2, .seq = 64, .attn = AR_ATTN_NAIVE, .wbits = 16,
				  .abits = 16, .kvbits = 16, .tp = 1 };
	double time = 0, flops = 0;

	(void)state;
	load_hw(&hw, "lv-h100");
	load_model(&m, "good/tiny-gqa.yaml");
	ar_graph_build(&g, &m, &wl, hw.onchip_bytes_per_unit, AR_PHASE_DECODE);
	eval(&g, &hw, &t);
	/* one level (3072 GB/s), one peak (989.5 TFLOP/s): max(FLOPs/peak, bytes/bw) */
	for (int i = 0; i < g.n_ops; i++) {
		const struct ar_op *op = &g.ops[i];
		double want = fmax((op->mflops + op->vflops) / 989.5e12, ar_op_bytes(op) / 3072e9);
		assert_close(t.ops[i].time_s, want, 1e-15, 0);
		time += want * op->layers;
		flops += (op->mflops + op->vflops) * op->layers;
	}
	assert_close(t.time_s, time, 1e-14, 0);
	assert_close(t.flops, flops, 1e-15, 0);
	assert_close(t.bytes, ar_graph_bytes(&g), 1e-15, 0);
	/* one op by hand: lm_head of 2 rows, H 64, vocab 100 at 16 bits reads
	 * 100·64·2 + 2·64·2 and writes 2·100·2 = 13 456 bytes: 4.38 ns at
	 * 3072 GB/s, where its 2·2·64·100 FLOPs take 0.026 ns */
	int lm = 0;
	while (g.ops[lm].id != AR_OP_LM_HEAD)
		lm++;
	assert_close(ar_op_bytes(&g.ops[lm]), 13456, 0, 0);
	assert_close(t.ops[lm].time_s, 13456 / 3072e9, 1e-15, 0);
	assert_int_equal(t.ops[lm].bound, AR_BOUND_MEMORY);
}

/* Matrix efficiency curves (log-interpolated in rows, the cache-resident one
 * when weights and KV cache fit the cache) and the decode attention rate. */
/* the first op's memory time with decode attention's share of main memory
 * set to share (0: none); leaves the share at 0 */
static double flash_memory_s(const struct ar_graph *g, struct ar_hw *hw, double share)
{
	struct ar_phase_time t;

	hw->decode_attn_memory_share = share;
	eval(g, hw, &t);
	hw->decode_attn_memory_share = 0;
	return t.ops[0].memory_s;
}

static void test_roofline__efficiency_curves_and_attention_rate(void **state)
{
	struct ar_hw hw;
	struct ar_graph g;
	struct ar_phase_time t;
	const double zero[AR_B_COUNT] = { 0 };

	(void)state;
	load_hw(&hw, "good/hw-curves.yaml");
	/* rows 10 is halfway between 1 and 100 in log: 0.1 + 0.5·0.4, 0.4 + 0.5·0.6 */
	assert_close(ar_hw_matrix_efficiency(&hw, 10, 0), 0.3, 1e-15, 0);
	assert_close(ar_hw_matrix_efficiency(&hw, 10, 1), 0.7, 1e-15, 0);
	assert_close(ar_hw_matrix_efficiency(&hw, 0.5, 0), 0.1, 0, 0);
	assert_close(ar_hw_matrix_efficiency(&hw, 1000, 1), 1.0, 0, 0);
	/* a product of 10 rows, 1 GFLOP at the fp32 peak of 10 TFLOP/s: weights
	 * and KV cache of 1.1 MB are in DRAM, then 0.9 MB in the 1 MB cache */
	one_op(&g, zero, 8e5, 3e5, 1e5);
	g.ops[0].id = AR_OP_Q_PROJ;
	g.ops[0].mbits = g.ops[0].vbits = 32;
	g.ops[0].shape = (struct ar_shape){ 10, 64, 64, 1 };
	g.ops[0].mflops = 1e9;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 1e9 / (10e12 * 0.3), 1e-15, 0);
	g.kv_cache_bytes = 1e5;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 1e9 / (10e12 * 0.7), 1e-15, 0);
	/* a level below the cache, 0.1 MB, with a curve of its own (0.9): a
	 * resident set of 0.05 MB is near, 0.9 MB in the cache, 1.1 MB in main
	 * memory; without the near curve the cached one serves it */
	struct ar_hw three = hw;
	three.mem[2] = (struct ar_mem_level){ "near", 1e5, 20e12 };
	three.n_mem = 3;
	assert_int_equal(ar_hw_residence(&three, 1.1e6), AR_IN_MAIN);
	assert_int_equal(ar_hw_residence(&three, 1e6), AR_IN_LLC);
	assert_int_equal(ar_hw_residence(&three, 1e5), AR_IN_NEAR);
	assert_int_equal(ar_hw_residence(&hw, 1e5), AR_IN_LLC);
	eval(&g, &three, &t);
	assert_close(t.ops[0].compute_s, 1e9 / (10e12 * 0.7), 1e-15, 0);
	three.n_matrix_eff_near = 1;
	three.matrix_eff_near[0] = (struct ar_eff_point){ 1, 0.9 };
	eval(&g, &three, &t);
	assert_close(t.ops[0].compute_s, 1e9 / (10e12 * 0.7), 1e-15, 0);
	struct ar_graph small = g;
	small.weight_bytes = small.weight_read_bytes = 4e4;
	small.kv_cache_bytes = 1e4;
	eval(&small, &three, &t);
	assert_close(t.ops[0].compute_s, 1e9 / (10e12 * 0.9), 1e-15, 0);
	assert_close(ar_hw_matrix_efficiency(&three, 10, AR_IN_NEAR), 0.9, 0, 0);
	assert_close(ar_hw_matrix_efficiency(&hw, 10, AR_IN_NEAR), 0.7, 1e-15, 0);
	/* the band: the cached curve measured over 0.4 MB, the near level
	 * 0.1 MB, whose half (0.05 MB) the near curve is measured over; 0.1414
	 * MB is halfway in log, sqrt(0.9 x 0.7); 0.08 MB, inside the near level
	 * but past its half, log(1.6)/log(8) of the way */
	const double mid = sqrt(5e4 * 4e5);
	three.matrix_eff_cached_bytes = 4e5;
	assert_close(ar_hw_matrix_efficiency_for(&three, 10, mid), sqrt(0.9 * 0.7), 1e-12, 0);
	assert_close(ar_hw_matrix_efficiency_for(&three, 10, 8e4),
		     pow(0.9, 1 - log(1.6) / log(8)) * pow(0.7, log(1.6) / log(8)), 1e-12, 0);
	assert_close(ar_hw_matrix_efficiency_for(&three, 10, 5e5), 0.7, 1e-15, 0);
	assert_close(ar_hw_matrix_efficiency_for(&three, 10, 5e4), 0.9, 0, 0);
	assert_close(ar_hw_matrix_efficiency_for(&three, 10, 2e6), 0.3, 1e-15, 0);
	/* the decode rates the same way: near 8e12, cached 2e12 over 0.4 MB */
	three.decode_attn_cached_flops_per_s = 2e12;
	three.decode_attn_near_flops_per_s = 8e12;
	three.decode_attn_cached_bytes = 4e5;
	three.decode_attn_intensity_half = 0;
	assert_close(ar_hw_attention_rate_for(&three, 1, 64, 1, 0, 5e4), 8e12, 0, 0);
	assert_close(ar_hw_attention_rate_for(&three, 1, 64, 1, 0, mid), 4e12, 1e-12, 0);
	/* the fixed times: linear across the band, the near one only where
	 * the descriptor states it */
	three.decode_attn_fixed_s = 3e-6;
	three.decode_attn_near_fixed_s = 1e-6;
	three.prefill_attn_fixed_s = 5e-6;
	assert_close(ar_hw_attention_fixed_for(&three, 1, mid), 3e-6, 0, 0);
	three.has_decode_attn_near_fixed = 1;
	assert_close(ar_hw_attention_fixed_for(&three, 1, 5e4), 1e-6, 0, 0);
	assert_close(ar_hw_attention_fixed_for(&three, 1, mid), 2e-6, 1e-12, 0);
	assert_close(ar_hw_attention_fixed_for(&three, 1, 5e5), 3e-6, 0, 0);
	assert_close(ar_hw_attention_fixed_for(&three, 1, 2e6), 3e-6, 0, 0);
	assert_close(ar_hw_attention_fixed_for(&three, 0, 5e4), 5e-6, 0, 0);
	/* from main memory (2 MB is beyond the 1 MB cache), where stated, its
	 * own; not in the cache, nor in prefill */
	three.decode_attn_memory_fixed_s = 7e-6;
	assert_close(ar_hw_attention_fixed_for(&three, 1, 2e6), 3e-6, 0, 0);
	three.has_decode_attn_memory_fixed = 1;
	assert_close(ar_hw_attention_fixed_for(&three, 1, 2e6), 7e-6, 0, 0);
	assert_close(ar_hw_attention_fixed_for(&three, 1, 5e5), 3e-6, 0, 0);
	assert_close(ar_hw_attention_fixed_for(&three, 1, 5e4), 1e-6, 0, 0);
	assert_close(ar_hw_attention_fixed_for(&three, 0, 2e6), 5e-6, 0, 0);
	three.has_decode_attn_memory_fixed = 0;
	assert_close(ar_hw_attention_rate_for(&three, 1, 64, 1, 0, 5e5), 2e12, 0, 0);
	assert_close(ar_hw_attention_rate_for(&three, 1, 64, 1, 0, 2e6), 1e12, 0, 0);
	assert_close(ar_hw_attention_rate_for(&three, 0, 64, 10, 0, 2e5), 8e12, 0, 0);
	/* without a cached curve the main one serves both */
	struct ar_hw one = hw;
	one.n_matrix_eff_cached = 0;
	eval(&g, &one, &t);
	assert_close(t.ops[0].compute_s, 1e9 / (10e12 * 0.3), 1e-15, 0);
	/* the shape factor at k0 = 32, n0 = 64, relative to K 1024 and N 2048,
	 * from the rows bound by FLOPs on (2 x 10e12 / 1e12 = 20): a short
	 * inner dimension of 128 gives 128/160 x 1056/1024 = 0.825, 512
	 * columns 512/576 x 2112/2048 = 11/12; at least the reference shape 1 */
	hw.matrix_inner_half = 32;
	hw.matrix_cols_half = 64;
	assert_close(ar_hw_matrix_shape(&hw, 10, 128, 512, 0), 1, 0, 0);
	assert_close(ar_hw_matrix_shape(&hw, 128, 128, 2048, 0), 0.825, 1e-15, 0);
	assert_close(ar_hw_matrix_shape(&hw, 128, 1024, 512, 0), 11.0 / 12, 1e-15, 0);
	assert_close(ar_hw_matrix_shape(&hw, 128, 128, 512, 0), 0.825 * 11 / 12, 1e-15, 0);
	assert_close(ar_hw_matrix_shape(&hw, 20, 4096, 8192, 0), 1, 0, 0);
	/* past 128 rows with powers 0.5 and 0: k0 at 512 rows is 32 x (1/4)^0.5
	 * = 16, 128/144 x 1040/1024; n0 stays 64 */
	hw.matrix_inner_half_power = 0.5;
	assert_close(ar_hw_matrix_shape(&hw, 512, 128, 2048, 0), 128.0 * 1040 / (144 * 1024), 1e-15, 0);
	assert_close(ar_hw_matrix_shape(&hw, 512, 1024, 512, 0), 11.0 / 12, 1e-15, 0);
	assert_close(ar_hw_matrix_shape(&hw, 64, 128, 2048, 0), 0.825, 1e-15, 0);
	hw.matrix_inner_half_power = 0;
	/* the cold inner-dimension factors (weights from main memory): 0.6 at
	 * K 256 and 0.9 at 512, stated at 32 rows; log-linear in K up to 1 at
	 * 1024 (√(512 · 1024) = 724: 0.95), below 256 the power of K through
	 * the first two points (log2 1.5: K 128 gives 0.6 / 1.5 = 0.4); past 32
	 * rows the shortfall falls as (32 / rows)^0.5 (K 256 at 128 rows: 1 −
	 * 0.4 × 0.5 = 0.8) */
	hw.n_matrix_inner_cold = 2;
	hw.matrix_inner_cold[0] = (struct ar_k_point){ 256, 0.6 };
	hw.matrix_inner_cold[1] = (struct ar_k_point){ 512, 0.9 };
	assert_close(ar_hw_matrix_inner_cold(&hw, 32, 256), 0.6, 1e-15, 0);
	assert_close(ar_hw_matrix_inner_cold(&hw, 20, 512), 0.9, 1e-15, 0);
	assert_close(ar_hw_matrix_inner_cold(&hw, 32, sqrt(512.0 * 1024)), 0.95, 1e-12, 0);
	assert_close(ar_hw_matrix_inner_cold(&hw, 32, 384), 0.6 + 0.3 * log(1.5) / log(2), 1e-12, 0);
	assert_close(ar_hw_matrix_inner_cold(&hw, 32, 128), 0.4, 1e-12, 0);
	assert_close(ar_hw_matrix_inner_cold(&hw, 32, 1024), 1, 0, 0);
	assert_close(ar_hw_matrix_inner_cold(&hw, 32, 4096), 1, 0, 0);
	assert_close(ar_hw_matrix_inner_cold(&hw, 128, 256), 0.6, 1e-15, 0);
	hw.matrix_inner_cold_power = 0.5;
	assert_close(ar_hw_matrix_inner_cold(&hw, 128, 256), 0.8, 1e-12, 0);
	assert_close(ar_hw_matrix_inner_cold(&hw, 16, 256), 0.6, 1e-15, 0);
	/* in the shape factor, beside n0 (512 columns: 11/12); warm products
	 * keep k0 (256/288 x 1056/1024); below the rows bound by reading their
	 * weights (20) none */
	assert_close(ar_hw_matrix_shape(&hw, 32, 256, 512, 1), 0.6 * 11 / 12, 1e-12, 0);
	assert_close(ar_hw_matrix_shape(&hw, 32, 256, 512, 0), 256.0 / 288 * 1056 / 1024 * 11 / 12,
		     1e-12, 0);
	assert_close(ar_hw_matrix_shape(&hw, 10, 256, 2048, 1), 1, 0, 0);
	/* one point: the power of K through it and (1024, 1); 0.5 at 256 gives
	 * K 64 0.25 and K 512 0.75 */
	struct ar_hw single = hw;
	single.n_matrix_inner_cold = 1;
	single.matrix_inner_cold[0] = (struct ar_k_point){ 256, 0.5 };
	single.matrix_inner_cold_power = 0;
	assert_close(ar_hw_matrix_inner_cold(&single, 32, 64), 0.25, 1e-12, 0);
	assert_close(ar_hw_matrix_inner_cold(&single, 32, 512), 0.75, 1e-12, 0);
	/* a 32-row product with K 256 and N 2048 through weights in main memory
	 * (1.1 MB) goes at the main curve (0.1 + 0.4·log 32 / log 100) x 0.6,
	 * in the cache (0.9 MB) at the cached one x k0's factor */
	g.ops[0].shape = (struct ar_shape){ 32, 2048, 256, 1 };
	g.kv_cache_bytes = 3e5;
	eval(&g, &hw, &t);
	const double e32 = 0.1 + 0.4 * log(32) / log(100), c32 = 0.4 + 0.6 * log(32) / log(100);
	assert_close(t.ops[0].compute_s, 1e9 / (10e12 * e32 * 0.6), 1e-12, 0);
	g.kv_cache_bytes = 1e5;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 1e9 / (10e12 * c32 * 256 / 288 * 1056 / 1024), 1e-12, 0);
	hw.n_matrix_inner_cold = 0;
	hw.matrix_inner_cold_power = 0;
	/* the prefill rate's head-dim cost per map with several outputs on it:
	 * d 32, d0 16, F 600 FLOPs of which 200 with one output per map, 4
	 * outputs per map: φ 0 gives (600 + 200·0.5)·32/48 = 466.7, φ 1
	 * (600 + 200·0.5·4)·32/48 = 666.7 = 600·48/32 less 233.3; one output
	 * per map, or no φ declared, counts F */
	struct ar_hw ph = hw;
	ph.prefill_attn_head_dim_half = 16;
	assert_close(ar_hw_prefill_attention_flops(&ph, 32, 600, 200, 4), 600, 0, 0);
	ph.has_prefill_attn_output_share = 1;
	ph.prefill_attn_output_share = 0;
	assert_close(ar_hw_prefill_attention_flops(&ph, 32, 600, 200, 4), 700.0 * 32 / 48, 1e-12, 0);
	ph.prefill_attn_output_share = 1;
	assert_close(ar_hw_prefill_attention_flops(&ph, 32, 600, 200, 4), 1000.0 * 32 / 48, 1e-12, 0);
	ph.prefill_attn_output_share = 0.5;
	assert_close(ar_hw_prefill_attention_flops(&ph, 32, 600, 200, 4), 850.0 * 32 / 48, 1e-12, 0);
	assert_close(ar_hw_prefill_attention_flops(&ph, 32, 200, 200, 1), 200, 1e-12, 0);
	g.ops[0].shape = (struct ar_shape){ 128, 512, 128, 1 };
	eval(&g, &hw, &t); /* cached: the curve's 1.0 at 128 rows */
	assert_close(t.ops[0].compute_s, 1e9 / (10e12 * 0.825 * 11 / 12), 1e-15, 0);
	hw.matrix_inner_half = hw.matrix_cols_half = 0;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 1e9 / 10e12, 1e-15, 0);
	g.ops[0].shape = (struct ar_shape){ 10, 64, 64, 1 };
	/* vector FLOPs and non-product ops are not scaled */
	g.ops[0].vflops = 5e8;
	g.ops[0].id = AR_OP_QK;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 1e9 / 10e12 + 5e8 / 5e12, 1e-15, 0);
	/* the flash op at the decode and prefill attention rates (matrix and
	 * vector FLOPs together) */
	g.ops[0].id = AR_OP_FLASH;
	g.ops[0].mflops = 3e9;
	g.ops[0].vflops = 1e9;
	g.phase = AR_PHASE_DECODE;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 4e9 / 1e12, 1e-15, 0);
	g.phase = AR_PHASE_PREFILL;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 4e9 / 8e12, 1e-15, 0);
	/* with a per-row cost: 10 query rows at s0 = 30 go at 8e12 · 10/40 */
	hw.prefill_attn_seq_half = 30;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 4e9 / 2e12, 1e-15, 0);
	assert_close(ar_hw_attention_rate(&hw, 0, 64, 10, 1, 0), 2e12, 1e-15, 0);
	hw.prefill_attn_seq_half = 0;
	/* without the prefill rate: the peaks */
	hw.prefill_attn_flops_per_s = 0;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 3e9 / 10e12 + 1e9 / 5e12, 1e-15, 0);
	/* decode over K/V in the cache (resident 0.9 MB <= 1 MB) at the cached
	 * rate, both scaled by d/(d + d0) for key heads of d = 32 with d0 = 96:
	 * 4e12·32/128 = 1e12; in main memory 1e12·32/128 */
	g.phase = AR_PHASE_DECODE;
	g.ops[0].shape.k = 32;
	hw.decode_attn_cached_flops_per_s = 4e12;
	hw.decode_attn_head_dim_half = 96;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 4e9 / 1e12, 1e-15, 0);
	assert_close(ar_hw_attention_rate(&hw, 1, 32, 1, 0, 0), 0.25e12, 1e-15, 0);
	g.kv_cache_bytes = 3e5; /* 1.1 MB: main memory */
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 4e9 / 0.25e12, 1e-15, 0);
	assert_close(ar_hw_attention_rate(&hw, 0, 32, 64, 1, 1), 0, 0, 0); /* prefill rate cleared above */
	/* 1 FLOP per K/V element at I0 = 3: a quarter of the rate (the op says
	 * its intensity; 0 means no such factor) */
	hw.decode_attn_intensity_half = 3;
	g.ops[0].attn_intensity = 1;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 4 * 4e9 / 0.25e12, 1e-15, 0);
	assert_close(ar_hw_attention_rate(&hw, 1, 32, 1, 1, 0), 0.25e12 / 4, 1e-15, 0);
	g.ops[0].attn_intensity = 0;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 4e9 / 0.25e12, 1e-15, 0);
	/* the decode kernel's fixed time (2 µs in the fixture) is added to the
	 * decode flash op beside its compute, and to no other op or phase */
	assert_close(t.ops[0].time_s, 4e9 / 0.25e12 + 2e-6, 1e-15, 0);
	g.ops[0].id = AR_OP_QK;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].time_s, t.ops[0].compute_s, 1e-15, 0);
	g.ops[0].id = AR_OP_FLASH;
	g.phase = AR_PHASE_PREFILL;
	hw.prefill_attn_flops_per_s = 8e12;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].time_s, t.ops[0].compute_s, 1e-15, 0);
	/* decode attention over K/V in main memory at the kernel's share of its
	 * bandwidth: the op's 3e5 K/V bytes (1.1 MB resident: main memory) at a
	 * share of 0.25 take 4x their time at the full bandwidth (3 times it
	 * more); in the cache (0.9 MB resident) the share is not used */
	g.phase = AR_PHASE_DECODE;
	g.ops[0].bytes[AR_B_KV_READ] = 3e5;
	g.kv_cache_bytes = 3e5;
	assert_close(flash_memory_s(&g, &hw, 0.25) - flash_memory_s(&g, &hw, 0),
		     3e5 / hw.mem[0].bw_bytes_per_s * 3, 1e-12, 0);
	g.kv_cache_bytes = 1e5;
	assert_close(flash_memory_s(&g, &hw, 0.25), flash_memory_s(&g, &hw, 0), 0, 0);
	/* with the one-map share too (0.5), the op's share follows its
	 * intensity, log-linear from I 261/128 (one map per key head of 64) to
	 * four times it: 0.5 at the first, √(0.5 · 0.25) halfway in log, 0.25
	 * at the second and beyond, 0.5 below; no intensity: the 4-maps share */
	g.kv_cache_bytes = 3e5;
	hw.decode_attn_memory_share_one = 0.5;
	const double i1 = 261.0 / 128, full = 3e5 / hw.mem[0].bw_bytes_per_s;
	const struct { double intensity, share; } sh[] = {
		{ i1, 0.5 }, { 2 * i1, sqrt(0.125) }, { 4 * i1, 0.25 }, { 40, 0.25 }, { 1, 0.5 }, { 0, 0.25 },
	};
	for (size_t k = 0; k < sizeof(sh) / sizeof(sh[0]); k++) {
		g.ops[0].attn_intensity = sh[k].intensity;
		hw.decode_attn_memory_share = 0.25;
		assert_close(ar_hw_decode_memory_share(&hw, sh[k].intensity), sh[k].share, 1e-12, 0);
		assert_close(flash_memory_s(&g, &hw, 0.25) - flash_memory_s(&g, &hw, 0),
			     full * (1 / sh[k].share - 1), 1e-12, 0);
	}
	/* the one-map share alone is not used */
	g.ops[0].attn_intensity = i1;
	hw.decode_attn_memory_share = 0;
	assert_close(ar_hw_decode_memory_share(&hw, i1), 0, 0, 0);
	double with_one = flash_memory_s(&g, &hw, 0);
	hw.decode_attn_memory_share_one = 0;
	assert_close(with_one, flash_memory_s(&g, &hw, 0), 0, 0);
	g.ops[0].attn_intensity = 0;
	g.kv_cache_bytes = 1e5;
	g.ops[0].bytes[AR_B_KV_READ] = 0;
	g.kv_cache_bytes = 3e5;
	g.phase = AR_PHASE_PREFILL;
	/* the prefill kernel's own fixed time goes to the prefill flash op only */
	hw.prefill_attn_fixed_s = 3e-6;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].time_s, t.ops[0].compute_s + 3e-6, 1e-15, 0);
	g.phase = AR_PHASE_DECODE;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].time_s, 4e9 / 0.25e12 + 2e-6, 1e-15, 0);
}

static void test_roofline__exponentials_at_their_own_rate(void **state)
{
	struct ar_hw hw;
	struct ar_graph g;
	struct ar_phase_time t;
	struct ar_err err = { 0 };
	const double zero[AR_B_COUNT] = { 0 };

	(void)state;
	load_hw(&hw, "good/hw-curves.yaml");
	/* 5e8 vector FLOPs of which 1e8 are exponentials (a softmax of 1e8
	 * scores): without an exp rate all go at the fp32 vector peak of 5e12 */
	one_op(&g, zero, 1e3, 0, 0);
	g.ops[0].id = AR_OP_SOFTMAX;
	g.ops[0].mbits = g.ops[0].vbits = 32;
	g.ops[0].vflops = 5e8;
	g.ops[0].vexp = 1e8;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 5e8 / 5e12, 1e-15, 0);
	/* with 1e11 exp/s: 4e8 FLOPs at the peak and 1e8 exponentials at their rate */
	hw.exp_per_s = 1e11;
	eval(&g, &hw, &t);
	assert_close(t.ops[0].compute_s, 4e8 / 5e12 + 1e8 / 1e11, 1e-15, 0);
	/* --set exp and --set peak scale the rate; peak also the attention rates */
	assert_int_equal(ar_hw_set(&hw, "exp=2x", &err), 0);
	assert_close(hw.exp_per_s, 2e11, 1e-15, 0);
	assert_int_equal(ar_hw_set(&hw, "peak=3x", &err), 0);
	assert_close(hw.exp_per_s, 6e11, 1e-15, 0);
	assert_close(hw.decode_attn_flops_per_s, 3e12, 1e-15, 0);
	assert_close(hw.prefill_attn_flops_per_s, 24e12, 1e-15, 0);
	assert_close(hw.vector_flops_per_s[AR_DT_FP32], 15e12, 1e-15, 0);
	/* the graph counts one exponential per softmax score, SiLU and sigmoid:
	 * tiny-gta at B 2, S 8 has 2·2 maps·8·8 = 256 scores, 16 tokens × 128
	 * MLP features and 16 × 64 gated features; flash computes whole tiles
	 * that hold a visible key (here the one 8 × 8 tile: the same 256) */
	struct ar_model m;
	load_model(&m, "good/tiny-gta.yaml");
	struct ar_workload wl = { .batch = 2, .seq = 8, .attn = AR_ATTN_NAIVE, .wbits = 16,
				  .abits = 16, .kvbits = 16, .tp = 1 };
	for (int impl = 0; impl < 2; impl++) {
		wl.attn = impl ? AR_ATTN_FLASH : AR_ATTN_NAIVE;
		ar_graph_build(&g, &m, &wl, hw.onchip_bytes_per_unit, AR_PHASE_PREFILL);
		double total = 0;
		for (int i = 0; i < g.n_ops; i++) {
			const struct ar_op *op = &g.ops[i];
			double want = op->id == AR_OP_SOFTMAX ? 256 : op->id == AR_OP_FLASH ? 256
				    : op->id == AR_OP_MLP_ACT ? 2048 : op->id == AR_OP_GATE ? 1024 : 0;
			assert_close(op->vexp, want, 1e-15, 0);
			total += op->vexp;
		}
		assert_close(total, 256 + 2048 + 1024, 1e-15, 0);
	}
}

/* ---- generation ---- */

struct gen_case {
	const char *model, *hw;
	long B, P, G;
	enum ar_attn_impl attn;
	long tp;
	int absorb;       /* -1: the model's own */
	double overhead;  /* added with --set when > 0 */
};

static void run_generate(const struct gen_case *c, struct ar_gen_time *closed,
			 struct ar_gen_time *steps, struct ar_model *m, struct ar_hw *hw,
			 struct ar_workload *wl)
{
	struct ar_err err = { 0 };
	struct ar_graph g;
	struct ar_phase_time t;

	load_model(m, c->model);
	load_hw(hw, c->hw);
	if (c->absorb >= 0)
		m->attn.absorb = c->absorb;
	hw->overhead_s = c->overhead;
	*wl = (struct ar_workload){ .batch = c->B, .seq = c->P, .gen = c->G, .attn = c->attn,
				    .wbits = 16, .abits = 16, .kvbits = 16, .tp = c->tp };
	assert_int_equal(ar_workload_check(m, wl, &err), 0);
	ar_graph_build(&g, m, wl, hw->onchip_bytes_per_unit, AR_PHASE_PREFILL);
	eval(&g, hw, &t);
	assert_int_equal(ar_roofline_generate(m, wl, hw, t.time_s, closed, &err), 0);
	assert_int_equal(ar_roofline_generate_steps(m, wl, hw, t.time_s, steps, &err), 0);
	assert_close(closed->ttft_s, t.time_s, 0, 0);
}

/* |closed form − steps| / steps of case c's decode time */
static double gen_gap(const struct gen_case *c, struct ar_gen_time *closed,
		      struct ar_gen_time *steps, struct ar_hw *hw)
{
	struct ar_model m;
	struct ar_workload wl;

	run_generate(c, closed, steps, &m, hw, &wl);
	return fabs(closed->decode_s - steps->decode_s) / steps->decode_s;
}

/* Resident working set (weights + the whole cache) of the decode step at KV
 * length s, and one layer's K/V. */
static void working_sets(const struct ar_model *m, const struct ar_hw *hw,
			 struct ar_workload wl, long s, double *resident, double *layer)
{
	struct ar_graph g;

	wl.seq = s;
	ar_graph_build(&g, m, &wl, hw->onchip_bytes_per_unit, AR_PHASE_DECODE);
	*resident = ar_graph_resident(&g);
	*layer = g.kv_layer_bytes;
}

static void test_roofline__closed_form_generation_equals_steps(void **state)
{
	static const struct gen_case cases[] = {
		{ "gta-1b", "lv-h100", 8, 2048, 128, AR_ATTN_NAIVE, 1, -1, 0 },
		{ "gqa-1b", "lv-h100", 8, 2048, 128, AR_ATTN_NAIVE, 1, -1, 0 },
		{ "gqa-1b", "h100-sxm", 32, 512, 200, AR_ATTN_FLASH, 1, -1, 0 },
		{ "llama-3.1-8b", "h100-sxm", 1, 100, 77, AR_ATTN_FLASH, 2, -1, 2e-6 },
		{ "mla-500m", "h100-sxm", 4, 100, 300, AR_ATTN_FLASH, 1, -1, 0 },
		{ "mla-500m", "h100-sxm", 4, 100, 300, AR_ATTN_NAIVE, 1, 0, 0 },
		{ "deepseek-v2-lite", "h100-sxm", 2, 64, 50, AR_ATTN_FLASH, 2, -1, 0 },
		{ "llama-3.1-8b", "a100-80g", 16, 1000, 2, AR_ATTN_FLASH, 1, -1, 0 },
		/* the crossings below are checked in the next test */
		{ "good/tiny-gqa.yaml", "good/hw-two-level.yaml", 4, 700, 300, AR_ATTN_NAIVE, 1, -1, 0 },
		{ "good/tiny-gqa.yaml", "good/hw-two-level.yaml", 64, 1900, 200, AR_ATTN_NAIVE, 1, -1, 0 },
		{ "good/tiny-gqa.yaml", "good/hw-two-level.yaml", 1, 1900, 200, AR_ATTN_FLASH, 1, -1, 1e-7 },
		{ "good/tiny-gta.yaml", "good/hw-two-level.yaml", 4, 600, 500, AR_ATTN_FLASH, 2, -1, 0 },
		{ "good/tiny-mla.yaml", "good/hw-two-level.yaml", 4, 500, 400, AR_ATTN_NAIVE, 1, 0, 0 },
		{ "good/tiny-moe.yaml", "good/hw-two-level.yaml", 8, 900, 300, AR_ATTN_FLASH, 2, -1, 0 },
		{ "good/tiny-gqa.yaml", "good/hw-handoff.yaml", 64, 1900, 200, AR_ATTN_NAIVE, 1, -1, 0 },
		{ "good/tiny-gta.yaml", "good/hw-handoff.yaml", 4, 600, 500, AR_ATTN_FLASH, 2, -1, 0 },
		/* curves and the attention rate; weights and KV leave the cache
		 * mid-generation, so the products change curve there */
		{ "good/tiny-gqa.yaml", "good/hw-curves.yaml", 4, 700, 300, AR_ATTN_NAIVE, 1, -1, 0 },
		{ "good/tiny-gqa.yaml", "good/hw-curves.yaml", 1, 3000, 600, AR_ATTN_FLASH, 1, -1, 1e-7 },
	};
	double worst = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct ar_gen_time closed, steps;
		struct ar_hw hw;
		double rel = gen_gap(&cases[i], &closed, &steps, &hw);

		assert_true(steps.decode_s > 0);
		assert_close(closed.decode_s, steps.decode_s, 1e-9, 0);
		assert_close(closed.tpot_s, steps.tpot_s, 1e-9, 0);
		assert_close(closed.time_s, steps.time_s, 1e-9, 0);
		worst = rel > worst ? rel : worst;
	}
	print_message("closed form vs steps: largest relative difference %.3g\n", worst);
	/* with a read sweep the bandwidth changes within a segment; cut where it
	 * has changed by 2 %, the closed form stays within 1e-4 of the steps (B
	 * 4: the resident set grows from 0.26 to 1.18 MB, across the sweep's
	 * span from 100 kB to 1 MB and past the cache; B 1: 0.19 to 0.95 MB) */
	static const struct gen_case swept[] = {
		{ "good/tiny-gqa.yaml", "good/hw-sweep.yaml", 4, 100, 900, AR_ATTN_NAIVE, 1, -1, 0 },
		{ "good/tiny-gqa.yaml", "good/hw-sweep.yaml", 1, 100, 3000, AR_ATTN_FLASH, 1, -1, 1e-7 },
	};
	worst = 0;
	for (size_t i = 0; i < sizeof(swept) / sizeof(*swept); i++) {
		struct ar_gen_time closed, steps;
		struct ar_hw hw;
		double rel = gen_gap(&swept[i], &closed, &steps, &hw);

		assert_int_equal(hw.n_read_sweep, 4);
		assert_true(rel < 1e-4);
		worst = rel > worst ? rel : worst;
	}
	print_message("with a read sweep: largest relative difference %.3g\n", worst);
}

static void test_roofline__generation_crosses_cache_levels(void **state)
{
	struct ar_gen_time closed, steps;
	struct ar_model m;
	struct ar_hw hw;
	struct ar_workload wl;
	double r1, r2, l1, l2;

	(void)state;
	/* B 4: weights 160896 B + 1024 B per cached token cross the 1 MB cache
	 * near token 820, inside 701 ... 999 */
	struct gen_case c1 = { "good/tiny-gqa.yaml", "good/hw-two-level.yaml", 4, 700, 300,
			       AR_ATTN_NAIVE, 1, -1, 0 };
	run_generate(&c1, &closed, &steps, &m, &hw, &wl);
	working_sets(&m, &hw, wl, 701, &r1, &l1);
	working_sets(&m, &hw, wl, 999, &r2, &l2);
	assert_true(r1 <= 1e6 && r2 > 1e6);
	assert_close(closed.decode_s, steps.decode_s, 1e-9, 0);
	/* the crossing matters: the same steps all from DRAM take longer */
	struct ar_hw flat = hw;
	struct ar_gen_time dram;
	flat.n_mem = 1;
	assert_int_equal(ar_roofline_generate(&m, &wl, &flat, 0, &dram, NULL), 0);
	assert_true(dram.decode_s > closed.decode_s * 1.01);
	/* flash, B 1: one layer's K/V (128 B per token) stays in the cache; the
	 * whole cache (256 B per token) plus the weights crosses 1 MB near token 3278 */
	struct gen_case c2 = { "good/tiny-gqa.yaml", "good/hw-two-level.yaml", 1, 3000, 600,
			       AR_ATTN_FLASH, 1, -1, 0 };
	run_generate(&c2, &closed, &steps, &m, &hw, &wl);
	working_sets(&m, &hw, wl, 3001, &r1, &l1);
	working_sets(&m, &hw, wl, 3599, &r2, &l2);
	assert_true(r1 <= 1e6 && r2 > 1e6);
	assert_close(closed.decode_s, steps.decode_s, 1e-9, 0);
	/* B 64: the score matrix of naive decode (64·4·S·2 B) crosses 1 MB near S 1950 */
	struct gen_case c3 = { "good/tiny-gqa.yaml", "good/hw-two-level.yaml", 64, 1900, 200,
			       AR_ATTN_NAIVE, 1, -1, 0 };
	run_generate(&c3, &closed, &steps, &m, &hw, &wl);
	assert_close(closed.decode_s, steps.decode_s, 1e-9, 0);
}

static void test_roofline__ttft_and_tpot_definitions(void **state)
{
	struct ar_model m;
	struct ar_hw hw;
	struct ar_graph g;
	struct ar_phase_time t, d1, d2;
	struct ar_gen_time gen;
	struct ar_analysis an;
	struct ar_err err = { 0 };
	struct ar_workload wl = { .batch = 2, .seq = 50, .gen = 3, .attn = AR_ATTN_FLASH,
				  .wbits = 16, .abits = 16, .kvbits = 16, .tp = 1 };

	(void)state;
	load_model(&m, "good/tiny-gta.yaml");
	load_hw(&hw, "good/hw-two-level.yaml");
	/* G = 3 after P = 50: TTFT is prefill(50); then decode steps over 51 and 52
	 * keys (the first token comes from the prefill) */
	ar_graph_build(&g, &m, &wl, hw.onchip_bytes_per_unit, AR_PHASE_PREFILL);
	eval(&g, &hw, &t);
	wl.seq = 51;
	ar_graph_build(&g, &m, &wl, hw.onchip_bytes_per_unit, AR_PHASE_DECODE);
	eval(&g, &hw, &d1);
	wl.seq = 52;
	ar_graph_build(&g, &m, &wl, hw.onchip_bytes_per_unit, AR_PHASE_DECODE);
	eval(&g, &hw, &d2);
	wl.seq = 50;
	assert_int_equal(ar_roofline_generate(&m, &wl, &hw, t.time_s, &gen, &err), 0);
	assert_close(gen.ttft_s, t.time_s, 0, 0);
	assert_close(gen.decode_s, d1.time_s + d2.time_s, 1e-12, 0);
	assert_close(gen.tpot_s, (d1.time_s + d2.time_s) / 2, 1e-12, 0);
	assert_close(gen.time_s, t.time_s + d1.time_s + d2.time_s, 1e-12, 0);
	/* the whole analysis reports the same */
	assert_int_equal(ar_analyze(&an, &m, &hw, &wl, &err), 0);
	assert_close(an.gen.ttft_s, an.time[AR_PHASE_PREFILL].time_s, 0, 0);
	assert_close(an.gen.time_s, gen.time_s, 1e-12, 0);
	/* one token: only the prefill; no decode step, TPOT 0 */
	wl.gen = 1;
	assert_int_equal(ar_roofline_generate(&m, &wl, &hw, t.time_s, &gen, &err), 0);
	assert_close(gen.decode_s, 0, 0, 0);
	assert_close(gen.tpot_s, 0, 0, 0);
	assert_close(gen.time_s, t.time_s, 0, 0);
	/* two tokens: one step over 51 keys */
	wl.gen = 2;
	assert_int_equal(ar_roofline_generate(&m, &wl, &hw, t.time_s, &gen, &err), 0);
	assert_close(gen.tpot_s, d1.time_s, 1e-12, 0);
	assert_close(gen.time_s, t.time_s + d1.time_s, 1e-12, 0);
}

/* The report's small formatters: engineering units, and JSON strings with
 * their quotes, backslashes and control characters escaped */
static void test_roofline__report_formatters(void **state)
{
	char b[64], text[64] = "";
	FILE *f;

	(void)state;
	assert_string_equal(ar_fmt_si(b, sizeof(b), 0, "s"), "0 s");
	assert_string_equal(ar_fmt_si(b, sizeof(b), 1.572e-3, "s"), "1.57 ms");
	assert_string_equal(ar_fmt_si(b, sizeof(b), 12.2e-9, "s"), "12.2 ns");
	assert_string_equal(ar_fmt_si(b, sizeof(b), 2.26e9, "B"), "2.26 GB");
	assert_string_equal(ar_fmt_si(b, sizeof(b), 999, "FLOP"), "999 FLOP");
	assert_string_equal(ar_fmt_si(b, sizeof(b), 1000, "FLOP"), "1 kFLOP");
	assert_string_equal(ar_fmt_si(b, sizeof(b), -4.5e6, "B"), "-4.5 MB");
	f = fmemopen(text, sizeof(text), "w");
	assert_non_null(f);
	ar_json_str(f, "a\"b\\c\n\x01");
	fclose(f);
	assert_string_equal(text, "\"a\\\"b\\\\c\\u000a\\u0001\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roofline__report_formatters),
		cmocka_unit_test(test_roofline__level_per_byte_class),
		cmocka_unit_test(test_roofline__read_sweep_for_resident_sets),
		cmocka_unit_test(test_roofline__compute_peak_by_bit_width),
		cmocka_unit_test(test_roofline__bound_overhead_and_link),
		cmocka_unit_test(test_roofline__real_graph_totals),
		cmocka_unit_test(test_roofline__efficiency_curves_and_attention_rate),
		cmocka_unit_test(test_roofline__exponentials_at_their_own_rate),
		cmocka_unit_test(test_roofline__closed_form_generation_equals_steps),
		cmocka_unit_test(test_roofline__generation_crosses_cache_levels),
		cmocka_unit_test(test_roofline__ttft_and_tpot_definitions),
	};
	return cmocka_run_group_tests_name("roofline", tests, NULL, NULL);
}
