/* Tests of sizing against hand-computed values: memory fit, the largest batch
 * and context, the tensor-parallel degree, the latency-target search, replicas,
 * elasticities and KV offloading.
 *
 * Hand arithmetic used below (16-bit weights, activations and KV):
 *   gqa-1b: 54 layers, H 1280, 20 heads of 64, 5 KV heads, MLP 3584, vocab
 *   128256 tied.  Per layer 1280·(1280+320+320+1280) + 3·1280·3584 + 2·1280
 *   = 17 861 120 params; ×54 + 128256·1280 + 1280 = 1 128 669 440 params,
 *   W = 2 257 338 880 B.  KV per token 5·2·64·54·2 = 69 120 B.  Peak
 *   activations per prompt token: the SwiGLU product reads 2·3584 and writes
 *   3584 values, plus the residual 1280: (3·3584 + 1280)·2 = 24 064 B.
 *   gta-1b: KV per token (64 + 128)·54·2 = 20 736 B. */
#include "testutil.h"

#include <stdlib.h>

#include "size.h"

static const double W_GQA = 2257338880.0;
static const double KV_TOK_GQA = 69120.0, KV_TOK_GTA = 20736.0, ACT_TOK = 24064.0;

static struct ar_model load(const char *name)
{
	struct ar_model m;
	struct ar_err err = { 0 };

	if (ar_model_open(&m, name, &err)) {
		print_error("%s\n", err.msg);
		fail();
	}
	return m;
}

/* One memory level of `cap` bytes at `bw` B/s, compute so fast that it never
 * binds, a host link of 1e10 B/s, no device link, no overhead. */
static struct ar_hw test_hw(double cap, double bw)
{
	struct ar_hw h;

	memset(&h, 0, sizeof(h));
	strcpy(h.name, "test");
	h.kind = AR_HW_GPU;
	for (int d = 0; d < AR_DT_COUNT; d++)
		h.matrix_flops_per_s[d] = h.vector_flops_per_s[d] = 1e17;
	h.n_mem = 1;
	strcpy(h.mem[0].name, "DRAM");
	h.mem[0].capacity_bytes = cap;
	h.mem[0].bw_bytes_per_s = bw;
	h.onchip_bytes_per_unit = 1 << 20;
	h.units = 100;
	h.host_link_bw_bytes_per_s = 1e10;
	return h;
}

static struct ar_size_req request(long batch, long seq)
{
	struct ar_size_req r = { .max_tp = 64 };

	r.wl = (struct ar_workload){ .batch = batch, .seq = seq, .gen = 0, .attn = AR_ATTN_FLASH,
				     .wbits = 16, .abits = 16, .kvbits = 16, .tp = 1 };
	return r;
}

static void test_size__memory_fit_and_max_batch(void **state)
{
	struct ar_model m = load("gqa-1b");
	struct ar_hw hw = test_hw(12e9, 1e12);
	struct ar_size_req req = request(1, 32768);
	struct ar_err err = { 0 };
	static struct ar_size_result r;

	(void)state;
	assert_int_equal(ar_size_run(&r, &m, &hw, &req, &err), 0);
	assert_close(r.weights_bytes, W_GQA, 0, 0.5);
	assert_close(r.kv_bytes_per_token, KV_TOK_GQA, 0, 0);
	assert_close(r.kv_bytes_per_seq, 32768 * KV_TOK_GQA, 0, 0.5);
	assert_close(r.act_bytes_per_seq, 32768 * ACT_TOK, 0, 0.5);
	/* (12e9 − 2 257 338 880) / (32768·(69 120 + 24 064)) = 3.19 → 3 */
	assert_int_equal(r.max_batch, 3);
	/* (12e9 − W) / 93 184 = 104 552.6 → 104 552 tokens at batch 1 */
	assert_int_equal(r.max_context, 104552);
	assert_true(r.fits);

	/* a 10 % reserve: (10.8e9 − W) / 3 053 453 312 = 2.80 → 2 */
	req.reserve_frac = 0.1;
	assert_int_equal(ar_size_run(&r, &m, &hw, &req, &err), 0);
	assert_close(r.usable_bytes, 10.8e9, 1e-12, 0);
	assert_int_equal(r.max_batch, 2);
	/* and 3e9 bytes on top: (7.8e9 − W) / 3 053 453 312 = 1.82 → 1 */
	req.reserve_bytes = 3e9;
	assert_int_equal(ar_size_run(&r, &m, &hw, &req, &err), 0);
	assert_int_equal(r.max_batch, 1);
}

static void test_size__gta_fits_more_than_gqa(void **state)
{
	struct ar_model gta = load("gta-1b"), gqa = load("gqa-1b");
	struct ar_hw hw = test_hw(12e9, 1e12);
	struct ar_workload wl = request(1, 32768).wl;
	struct ar_err err = { 0 };
	long bg, bq;
	double tot;
	int fits;

	(void)state;
	assert_int_equal(ar_size_max_batch(&gta, &hw, &wl, 12e9, &bg, &err), 0);
	assert_int_equal(ar_size_max_batch(&gqa, &hw, &wl, 12e9, &bq, &err), 0);
	/* GTA: W + B·32768·(20 736 + 24 064) ≤ 12e9, W by hand: 54 layers of
	 * q, k, latent v, gate (1281 × 320, 64, 128, 1280 with biases), v_b
	 * (128 × 1280), o (1280²), the MLP (3 · 1280 · 3584) and two norms,
	 * plus the tied embedding (128256 × 1280) and the final norm =
	 * 1 128 766 208 parameters at 2 bytes */
	const double w_gta = 2.0 * (54 * (1281.0 * 320 + 1281.0 * 64 + 1281.0 * 128 + 128.0 * 1280 +
					   1281.0 * 1280 + 1280.0 * 1280 + 3 * 1280.0 * 3584 +
					   2 * 1280.0) +
				    128256.0 * 1280 + 1280);
	assert_close(w_gta, 2257532416.0, 0, 0);
	wl.batch = 1;
	assert_int_equal(ar_size_fits(&gta, &hw, &wl, 12e9, &fits, &tot, &err), 0);
	assert_close(tot, w_gta + 32768 * (KV_TOK_GTA + ACT_TOK), 0, 0.5);
	assert_int_equal(bg, (long)floor((12e9 - w_gta) / (32768 * (KV_TOK_GTA + ACT_TOK))));
	assert_int_equal(bg, 6);
	assert_int_equal(bq, 3);
	assert_true(bg > bq);
	/* the check at B and B + 1 */
	wl.batch = bg;
	assert_int_equal(ar_size_fits(&gta, &hw, &wl, 12e9, &fits, &tot, &err), 0);
	assert_true(fits);
	wl.batch = bg + 1;
	assert_int_equal(ar_size_fits(&gta, &hw, &wl, 12e9, &fits, &tot, &err), 0);
	assert_false(fits);
}

/* Decode on the test device is memory-bound: TPOT(B) ≈ (W + B·S·69 120)/bw,
 * plus a few MB of activations.  S = 32768, bw = 1e12:
 *   TPOT(B) ≈ 2.257 ms + B·2.265 ms;  TPOT ≤ 12 ms  ⇒  B ≤ 4.30  ⇒  B = 4. */
static void test_size__latency_target_search(void **state)
{
	struct ar_model m = load("gqa-1b");
	struct ar_hw hw = test_hw(100e9, 1e12);
	struct ar_size_req req = request(1, 32768);
	struct ar_err err = { 0 };
	static struct ar_size_result r;
	long b;

	(void)state;
	assert_int_equal(ar_size_best_batch(&m, &hw, &req.wl, 1000, 0, 12e-3, &b, &err), 0);
	assert_int_equal(b, 4);
	/* a target batch 1 misses */
	assert_int_equal(ar_size_best_batch(&m, &hw, &req.wl, 1000, 0, 2e-3, &b, &err), 0);
	assert_int_equal(b, 0);
	/* no target: the memory limit, (100e9 − W)/3 053 453 312 = 32.01 → 32 */
	assert_int_equal(ar_size_best_batch(&m, &hw, &req.wl, 32, 0, 0, &b, &err), 0);
	assert_int_equal(b, 32);

	/* the whole run: batch 4, throughput 4/TPOT(4), replicas for 1000 tok/s */
	req.tpot_s = 12e-3;
	req.throughput = 1000;
	assert_int_equal(ar_size_run(&r, &m, &hw, &req, &err), 0);
	assert_int_equal(r.n_configs, 1); /* tp 2 does not divide 5 KV heads; no link anyway */
	assert_int_equal(r.max_batch, 32);
	const struct ar_size_config *c = &r.configs[0];
	double tpot4 = (W_GQA + 4 * 32768 * KV_TOK_GQA) / 1e12;
	assert_int_equal(c->batch, 4);
	assert_close(c->tpot_s, tpot4, 0.005, 0);
	assert_close(c->throughput, 4 / tpot4, 0.005, 0);
	/* ⌈1000 / 353⌉ = 3 replicas of one device */
	assert_int_equal(c->replicas, 3);
	assert_int_equal(c->devices, 3);
	assert_int_equal(r.best, 0);

	/* TTFT: the batch found meets it, one more does not */
	struct ar_workload w = req.wl;
	double ttft, tpot;
	w.batch = 1;
	assert_int_equal(ar_size_latency(&m, &hw, &w, &ttft, &tpot, &err), 0);
	double target = 2.5 * ttft;
	assert_int_equal(ar_size_best_batch(&m, &hw, &req.wl, 32, target, 0, &b, &err), 0);
	assert_true(b >= 2);
	w.batch = b;
	assert_int_equal(ar_size_latency(&m, &hw, &w, &ttft, &tpot, &err), 0);
	assert_true(ttft <= target);
	w.batch = b + 1;
	assert_int_equal(ar_size_latency(&m, &hw, &w, &ttft, &tpot, &err), 0);
	assert_true(ttft > target);
}

/* llama-3.1-8b (32 layers, H 4096, 32 heads of 128, 8 KV heads, MLP 14336,
 * vocab 128256 untied): 8 030 261 248 params, 16.06 GB, which a 12 GB device
 * cannot hold.  At tp 2: per layer 4096·10240/2 + 3·4096·14336/2 + 2·4096 =
 * 109 060 096, ×32 + 2·128256·4096/2 + 4096 = 4 015 263 744 params,
 * W = 8 030 527 488 B per device. */
static void test_size__tensor_parallel_degree(void **state)
{
	struct ar_model m = load("llama-3.1-8b");
	struct ar_hw hw = test_hw(12e9, 1e12);
	struct ar_size_req req = request(1, 1024);
	struct ar_err err = { 0 };
	static struct ar_size_result r;

	(void)state;
	hw.link_bw_bytes_per_s = 1e11;
	req.wl.tp = 2;
	assert_int_equal(ar_size_run(&r, &m, &hw, &req, &err), 0);
	assert_close(r.weights_bytes, 8030527488.0, 0, 0.5);
	/* tp 1, 2, 4, 8, 16, 32 divide 32 heads and 8 KV heads (or are divided by them) */
	assert_int_equal(r.n_configs, 6);
	assert_int_equal(r.configs[0].tp, 1);
	assert_false(r.configs[0].fits);
	assert_int_equal(r.configs[0].max_batch, 0);
	assert_true(r.configs[1].fits);
	assert_int_equal(r.best, 1);
	assert_int_equal(r.configs[1].devices, 2);
	/* all-reduce: 2 per layer, each sends 2·(tp−1)/tp·B·H·2 bytes:
	 * decode 64 ops · 8192·B bytes / 1e11 B/s */
	const struct ar_size_config *c = &r.configs[1];
	assert_close(c->allreduce_decode_s, 64 * 8192.0 * (double)c->batch / 1e11, 1e-9, 0);
	assert_close(c->allreduce_prefill_s, 64 * 8192.0 * 1024 * (double)c->batch / 1e11, 1e-9, 0);
	/* link elasticity is that share of the step, with a minus sign */
	assert_true(r.elasticity[AR_PHASE_DECODE][AR_KNOB_LINK] < 0);

	/* no device link: only tp 1 is tried, and nothing fits */
	hw.link_bw_bytes_per_s = 0;
	req.wl.tp = 1;
	assert_int_equal(ar_size_run(&r, &m, &hw, &req, &err), 0);
	assert_int_equal(r.n_configs, 1);
	assert_int_equal(r.best, -1);
}

static void test_size__elasticity_of_a_memory_bound_step(void **state)
{
	struct ar_model m = load("gqa-1b");
	struct ar_hw hw = test_hw(100e9, 1e12);
	struct ar_size_req req = request(1, 4096);
	struct ar_err err = { 0 };
	static struct ar_size_result r;

	(void)state;
	assert_int_equal(ar_size_run(&r, &m, &hw, &req, &err), 0);
	assert_close(r.elasticity[AR_PHASE_DECODE][AR_KNOB_BANDWIDTH], -1, 0, 1e-9);
	assert_close(r.elasticity[AR_PHASE_DECODE][AR_KNOB_PEAK], 0, 0, 1e-9);
	assert_close(r.elasticity[AR_PHASE_DECODE][AR_KNOB_LINK], 0, 0, 0);
}

/* Offloaded decode of gqa-1b, B = 1, S = 32768, host link 1e10 B/s:
 *   KV read 32768·69 120 = 2 264 924 160 B → 0.2265 s over the host link,
 *   far above the ~2.3 ms of device work, so the step is 0.2265 s;
 *   device memory W + A + 2·(32768·640·2) = 2 257 338 880 + 788 529 152 +
 *   83 886 080 = 3 129 754 112 B.
 * Crossover at B = 1: the device keeps winning while one sequence fits
 * ((12e9 − W)/93 184 → 104 552 tokens); from 104 553 only offloading runs. */
static void test_size__offloading(void **state)
{
	struct ar_model m = load("gqa-1b");
	struct ar_hw hw = test_hw(12e9, 1e12);
	struct ar_size_req req = request(1, 32768);
	struct ar_err err = { 0 };
	static struct ar_size_result r;
	double step, host, dev;

	(void)state;
	assert_int_equal(ar_size_offload_step(&m, &hw, &req.wl, &step, &host, &dev, &err), 0);
	assert_close(host, 32768 * KV_TOK_GQA / 1e10, 1e-12, 0);
	assert_close(step, host, 1e-12, 0);
	assert_close(dev, 3129754112.0, 0, 0.5);

	req.offload = 1;
	assert_int_equal(ar_size_run(&r, &m, &hw, &req, &err), 0);
	assert_true(r.off.available);
	assert_true(r.off.fits);
	/* offloaded: W + B·32768·(24 064 + 2·1280) ≤ 12e9 → B = 11 */
	assert_int_equal(r.off.max_batch, 11);
	assert_int_equal(r.off.crossover_context, 104553);
	assert_int_equal(r.off.crossover_device_batch, 0);

	/* no host link: an error from the step, "not available" from the run */
	hw.host_link_bw_bytes_per_s = 0;
	assert_int_equal(ar_size_offload_step(&m, &hw, &req.wl, &step, &host, &dev, &err), -1);
	assert_string_equal(err.msg, "device 'test' has no host link (host_link_bw_bytes_per_s), "
				     "so offloading cannot be modelled");
	assert_int_equal(ar_size_run(&r, &m, &hw, &req, &err), 0);
	assert_false(r.off.available);
}

static void test_size__ranking_fewest_devices_first(void **state)
{
	static struct ar_size_result r[2];
	int idx[4][2];

	(void)state;
	memset(r, 0, sizeof(r));
	r[0].n_configs = 2;
	r[0].configs[0] = (struct ar_size_config){ .tp = 1, .meets = 1, .throughput = 100,
						   .replicas = 4, .devices = 4 };
	r[0].configs[1] = (struct ar_size_config){ .tp = 2, .meets = 1, .throughput = 300,
						   .replicas = 2, .devices = 4 };
	r[1].n_configs = 2;
	r[1].configs[0] = (struct ar_size_config){ .tp = 1, .meets = 1, .throughput = 50,
						   .replicas = 2, .devices = 2 };
	r[1].configs[1] = (struct ar_size_config){ .tp = 2, .meets = 0 };
	assert_int_equal(ar_size_rank(r, 2, idx, 4), 3);
	assert_int_equal(idx[0][0], 1); /* 2 devices */
	assert_int_equal(idx[0][1], 0);
	assert_int_equal(idx[1][0], 0); /* 4 devices, 600 tokens/s */
	assert_int_equal(idx[1][1], 1);
	assert_int_equal(idx[2][0], 0); /* 4 devices, 400 tokens/s */
	assert_int_equal(idx[2][1], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size__memory_fit_and_max_batch),
		cmocka_unit_test(test_size__gta_fits_more_than_gqa),
		cmocka_unit_test(test_size__latency_target_search),
		cmocka_unit_test(test_size__tensor_parallel_degree),
		cmocka_unit_test(test_size__elasticity_of_a_memory_bound_step),
		cmocka_unit_test(test_size__offloading),
		cmocka_unit_test(test_size__ranking_fewest_devices_first),
	};
	return cmocka_run_group_tests_name("size", tests, NULL, NULL);
}
