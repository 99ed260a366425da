/* Calibration: the descriptor calibrate writes reads back with every value it
 * measured (made-up measurements, not a run), the ceilings of a point are
 * tracked by exact ratios, and the probes return finite positive ceilings. */
#include "testutil.h"

#include <stddef.h>
#include <stdlib.h>

#include "calibrate.h"
#include "hw.h"

/* A calibration as ar_calibrate_run would fill it, with round numbers. */
static void made_up(struct ar_calib *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->date, sizeof(c->date), "2026-12-01");
	snprintf(c->cpu, sizeof(c->cpu), "Test CPU");
	c->threads = 2;
	c->matrix_flops_per_s = 2e11;
	c->fma_flops_per_s = c->vector_flops_per_s = 2.5e11;
	c->exp_per_s = 5e9;
	c->dram_read_bw = c->dram_gemv_bw = c->dram_read_bw_end = 5e10;
	c->attempts = 1;
	c->softmax_flops_per_s = 2e10;
	c->n_levels = 3;
	const char *names[] = { "DRAM", "L3", "L2" };
	const double bytes[] = { 8e9, 32e6, 2e6 }, bw[] = { 5e10, 2e11, 4e11 };
	for (int i = 0; i < 3; i++) {
		snprintf(c->level_name[i], sizeof(c->level_name[i]), "%s", names[i]);
		c->level_bytes[i] = bytes[i];
		c->level_bw[i] = bw[i];
	}
	c->llc_nominal_bytes = 32e6;
	c->onchip_bytes = 1e6;
	c->overhead_s = 1e-6;
	c->n_eff = 2;
	c->eff_rows[0] = 1;
	c->eff_rows[1] = 512;
	c->eff_value[0] = 0.125;
	c->eff_value[1] = 0.9;
	c->n_eff_near = 2;
	c->eff_near_value[0] = 0.3;
	c->eff_near_value[1] = 0.9;
	c->eff_near_cols = 512;
	c->eff_near_copies = 4;
	c->decode_attn_flops_per_s = c->decode_attn_probe_flops_per_s = 8e10;
	c->decode_attn_cached_flops_per_s = 1.2e11;
	c->decode_attn_near_flops_per_s = 1.6e11;
	c->decode_attn_near_copies = 2;
	c->decode_attn_cached_bytes = 16e6;
	c->decode_attn_head_dim_half = 40;
	c->decode_attn_intensity_half = 2;
	c->decode_attn_t0_s = 1.5e-6;
	c->decode_attn_fixed_s = 0.5e-6;
	c->decode_attn_near_t0_s = 1.25e-6;
	c->decode_attn_near_fixed_s = 0.25e-6;
	c->decode_attn_memory_t0_s = 5e-6;
	c->decode_attn_memory_fixed_s = 4e-6;
	c->decode_attn_near_short_copies = 16;
	c->prefill_attn_fixed_s = 2.5e-6;
	c->decode_attn_memory_share = 0.875;
	c->decode_attn_memory_share_one = 0.9375;
	c->probe_matrix_flops_per_s = 2.25e11;
	c->probe_dram_bytes_per_s = 4.75e10;
	c->probe_overhead_s = 0.875e-6;
	c->prefill_attn_tiny_s = 13.5e-6;
	c->prefill_attn_tiny_flops = 6.4e5;
	c->prefill_attn_flops_per_s = 1.6e11;
	c->prefill_attn_head_dim_half = 16;
	c->prefill_attn_seq_half = 32;
	c->prefill_attn_tile = 1024;
	c->prefill_attn_per_map_s = 0.02;
	c->prefill_attn_per_map_flops = 4e9;
	c->prefill_attn_output_share = 0.25;
	c->shape_rate[0] = 1.6e11;
	c->shape_rate[1] = 1.2e11;
	c->shape_rate[2] = 1.0e11;
	c->matrix_inner_half = 48;
	c->matrix_cols_half = 80;
	c->shape_rate[3] = 3.2e11;
	c->shape_rate[4] = 2.8e11;
	c->shape_rate[5] = 2.4e11;
	c->matrix_inner_half_power = 0.625;
	c->matrix_cols_half_power = 0;
	/* cold products at K 256, 512, 1024: 0.5 and 0.875 of the K 1024 rate
	 * at 32 rows, 0.75 and 0.9375 at 128 (shortfalls 0.5 -> 0.25: q 0.5) */
	const double cr[6] = { 5e10, 8.75e10, 1e11, 1.5e11, 1.875e11, 2e11 };
	for (int i = 0; i < 6; i++)
		c->cold_rate[i] = cr[i];
	c->cold_copies[0] = 128;
	c->cold_copies[1] = 64;
	c->cold_copies[2] = 32;
	c->inner_cold[0] = 0.5;
	c->inner_cold[1] = 0.875;
	c->inner_cold_power = 0.5;
	/* a read sweep: 1 MB in the L2, 4 MB in the L3, 64 MB from main memory */
	c->n_sweep = 3;
	const double sb[] = { 1 << 20, 4 << 20, 64 << 20 }, sbw[] = { 4e11, 1.6e11, 5e10 };
	for (int i = 0; i < 3; i++) {
		c->sweep_bytes[i] = sb[i];
		c->sweep_bw[i] = sbw[i];
	}
}

/* c as ar_calibrate_write_yaml writes it (free the text) */
static char *yaml_of(const struct ar_calib *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(f = open_memstream(&text, &len));
	assert_int_equal(ar_calibrate_write_yaml(f, c, "host"), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* c written as hw/host.yaml is, and read back */
static void descriptor_of(struct ar_hw *hw, const struct ar_calib *c)
{
	struct ar_err err = { 0 };

	if (ar_calibrate_descriptor(hw, c, "host", &err)) {
		print_error("%s:%d:%d: %s\n", err.path, err.line, err.col, err.msg);
		fail();
	}
}

static void test_calibrate__descriptor_reads_back(void **state)
{
	struct ar_calib c;
	struct ar_hw hw;

	(void)state;
	made_up(&c);
	descriptor_of(&hw, &c);
	assert_string_equal(hw.name, "host");
	assert_int_equal(hw.kind, AR_HW_CPU);
	assert_close(hw.matrix_flops_per_s[AR_DT_FP32], 2e11, 1e-6, 0);
	/* the vector peak is the FMA rate; exponentials have their own */
	assert_close(hw.vector_flops_per_s[AR_DT_FP32], 2.5e11, 1e-6, 0);
	assert_close(hw.exp_per_s, 5e9, 1e-6, 0);
	assert_int_equal(hw.n_mem, 3);
	assert_string_equal(hw.mem[1].name, "L3");
	assert_close(hw.mem[0].bw_bytes_per_s, 5e10, 1e-6, 0);
	assert_close(hw.mem[2].capacity_bytes, 2e6, 1e-6, 0);
	assert_int_equal(hw.units, 2);
	assert_close(hw.onchip_bytes_per_unit, 1e6, 1e-6, 0);
	assert_close(hw.overhead_s, 1e-6, 1e-3, 0);
	assert_int_equal(hw.n_matrix_eff, 2);
	assert_int_equal(hw.n_matrix_eff_near, 2);
	assert_close(hw.matrix_eff_near[0].value, 0.3, 1e-4, 0);
	assert_close(hw.matrix_eff_near[1].rows, 512, 0, 0);
	assert_close(hw.matrix_eff[0].value, 0.125, 1e-4, 0);
	assert_close(hw.decode_attn_flops_per_s, 8e10, 1e-6, 0);
	assert_close(hw.decode_attn_cached_flops_per_s, 1.2e11, 1e-6, 0);
	assert_close(hw.decode_attn_near_flops_per_s, 1.6e11, 1e-6, 0);
	assert_close(hw.decode_attn_cached_bytes, 16e6, 1e-6, 0);
	assert_close(hw.decode_attn_head_dim_half, 40, 1e-4, 0);
	assert_close(hw.prefill_attn_flops_per_s, 1.6e11, 1e-6, 0);
	assert_close(hw.prefill_attn_head_dim_half, 16, 1e-4, 0);
	assert_close(hw.prefill_attn_seq_half, 32, 1e-4, 0);
	assert_close(hw.matrix_inner_half, 48, 1e-4, 0);
	assert_close(hw.matrix_cols_half, 80, 1e-4, 0);
	assert_close(hw.matrix_inner_half_power, 0.625, 1e-4, 0);
	assert_close(hw.matrix_cols_half_power, 0, 0, 0);
	assert_int_equal(hw.has_prefill_attn_output_share, 1);
	assert_close(hw.prefill_attn_output_share, 0.25, 0, 0);
	/* φ from the probe: with d 64, d0 16, s0 32 and rate 1.6e11 at 1024
	 * positions 1.6e11·1024/1056; F 4e9 over 4 outputs per map, Fm =
	 * F·261/645; the time that puts φ at 0.5: (F + Fm·0.25·2.5)/rate */
	{
		struct ar_calib d = c;
		double rate = 1.6e11 * 1024 / 1056, Fm = 4e9 * 261.0 / 645;
		d.prefill_attn_per_map_s = (4e9 + Fm * 0.25 * 2.5) / rate;
		assert_close(ar_calibrate_output_share(&d), 0.5, 1e-12, 0);
		d.prefill_attn_per_map_s = 4e9 / rate; /* no cost beyond F: 0 */
		assert_close(ar_calibrate_output_share(&d), 0, 0, 0);
		d.prefill_attn_per_map_s = 0;
		assert_close(ar_calibrate_output_share(&d), 0, 0, 0);
	}
	assert_int_equal(hw.n_matrix_inner_cold, 2);
	assert_close(hw.matrix_inner_cold[0].k, 256, 0, 0);
	assert_close(hw.matrix_inner_cold[0].value, 0.5, 0, 0);
	assert_close(hw.matrix_inner_cold[1].k, 512, 0, 0);
	assert_close(hw.matrix_inner_cold[1].value, 0.875, 0, 0);
	assert_close(hw.matrix_inner_cold_power, 0.5, 0, 0);
	/* K 256 at 128 rows: 1 - 0.5 x (32/128)^0.5 */
	assert_close(ar_hw_matrix_inner_cold(&hw, 128, 256), 0.75, 1e-12, 0);
	char *text = yaml_of(&c);
	assert_non_null(strstr(text, "  - {k: 256, value: 0.5000, source: \"measured 2026-12-01: attnroof calibrate "
				     "(32x256x2048 products through 128 weight matrices in turn from main memory / "
				     "the rate of 32x1024x2048 ones through 32)\"}\n"));
	assert_non_null(strstr(text, "matrix_inner_cold_power: {value: 0.5, source: \"measured 2026-12-01: attnroof "
				     "calibrate (the same at 128 rows read 0.75 and 0.9375: the shortfall 1 - value "
				     "falls as (32 / rows)^q past 32 rows, q from K 256)\"}\n"));
	free(text);
	assert_int_equal(hw.n_read_sweep, 3);
	assert_close(hw.read_sweep[1].bytes, 4 << 20, 0, 0);
	assert_close(hw.read_sweep[1].bw, 1.6e11, 1e-4, 0);
	/* 2 MB, half way in log from 1 to 4 MB: √(4e11 · 1.6e11) = 2.53e11;
	 * 64 MB is past the L3's 32 MB: main memory's 5e10 */
	assert_close(ar_hw_resident_bw(&hw, 2 << 20), sqrt(4e11 * 1.6e11), 1e-4, 0);
	assert_close(ar_hw_resident_bw(&hw, 64 << 20), 5e10, 1e-6, 0);
	/* 40 at 128 rows, 10 at 512: (512/128)^p = 4, p = 1; rising: 0 */
	assert_close(ar_calibrate_half_power(40, 10, 128, 512), 1, 1e-12, 0);
	assert_close(ar_calibrate_half_power(10, 40, 128, 512), 0, 0, 0);
	assert_close(ar_calibrate_half_power(40, 0, 128, 512), 0, 0, 0);
	assert_close(ar_calibrate_half_power(1e4, 1, 128, 512), 2, 0, 0);
	/* the prefill rate at head dim 48, 96 query rows: 1.6e11 · 48/64 · 96/128 */
	assert_close(ar_hw_attention_rate(&hw, 0, 48, 96, 4, 0), 0.9e11, 1e-6, 0);
	/* rows unknown (0): no sequence factor */
	assert_close(ar_hw_attention_rate(&hw, 0, 48, 0, 4, 0), 1.2e11, 1e-6, 0);
	/* decode ignores the rows; 2 FLOPs per K/V element at I0 = 2: 8e10 · 48/88 · 2/4 */
	assert_close(hw.decode_attn_intensity_half, 2, 1e-4, 0);
	assert_close(hw.decode_attn_fixed_s, 0.5e-6, 1e-4, 0);
	assert_int_equal(hw.has_decode_attn_near_fixed, 1);
	assert_close(hw.decode_attn_near_fixed_s, 0.25e-6, 1e-4, 0);
	assert_int_equal(hw.has_decode_attn_memory_fixed, 1);
	assert_close(hw.decode_attn_memory_fixed_s, 4e-6, 1e-4, 0);
	assert_close(hw.prefill_attn_fixed_s, 2.5e-6, 1e-4, 0);
	assert_close(hw.decode_attn_memory_share, 0.875, 1e-4, 0);
	assert_close(hw.decode_attn_memory_share_one, 0.9375, 1e-4, 0);
	/* the tracking probe's readings: validate's reference */
	struct ar_ceilings ref;
	assert_int_equal(ar_ceilings_of_hw(&ref, &hw), 1);
	assert_int_equal(ref.n_mem, hw.n_mem);
	assert_close(ref.matrix_flops_per_s, 2.25e11, 1e-6, 0);
	assert_close(ref.bw_bytes_per_s[0], 4.75e10, 1e-6, 0);
	assert_close(ref.overhead_s, 0.875e-6, 1e-4, 0);
	/* ... none unless the descriptor states all three */
	hw.probe_overhead_s = 0;
	assert_int_equal(ar_ceilings_of_hw(&ref, &hw), 0);
	assert_true(ref.matrix_flops_per_s == 0 && ref.n_mem == 0);
	/* ... and none from a calibration kept while the probe disagreed with
	 * it (its product at 0.7 of the 2e11 peak): validate reads its own */
	{
		struct ar_calib odd;
		struct ar_hw hw2;
		made_up(&odd);
		odd.probe_matrix_flops_per_s = 1.4e11;
		odd.attempts = AR_CAL_ATTEMPTS;
		odd.disagreement = "the tracking probe's product read another state";
		char *otext = yaml_of(&odd);
		assert_non_null(strstr(otext, "(the tracking probe's product read another state): the last is kept, without the tracking probe's readings.\n"));
		assert_null(strstr(otext, "probe_matrix_flops_per_s"));
		free(otext);
		descriptor_of(&hw2, &odd);
		assert_int_equal(ar_ceilings_of_hw(&ref, &hw2), 0);
		/* another disagreement keeps them */
		made_up(&odd);
		odd.dram_read_bw_end = 8.5e10;
		odd.attempts = AR_CAL_ATTEMPTS;
		otext = yaml_of(&odd);
		assert_non_null(strstr(otext, "probe_matrix_flops_per_s"));
		free(otext);
	}
	assert_close(ar_hw_attention_rate(&hw, 1, 48, 96, 2, 0), 8e10 * 48 / 88 / 2, 1e-6, 0);
	/* intensity unknown (0): no such factor; prefill has none */
	assert_close(ar_hw_attention_rate(&hw, 1, 48, 96, 0, 0), 8e10 * 48 / 88, 1e-6, 0);
	assert_close(ar_hw_attention_rate(&hw, 0, 48, 96, 1, 0), 0.9e11, 1e-6, 0);
}

/* The flash prefill's fixed time from its 32-position probe: made_up's
 * rate 1.6e11 at d 64 (d0 16) and 32 positions (s0 32) is 1.6e11 · 64/80 ·
 * 32/64 = 6.4e10, so 6.4e5 FLOPs take 10 µs; of the probe's 13.5 µs, 2.5 are
 * fixed beyond the 1 µs overhead; a probe at or under 11 µs gives 0 */
static void test_calibrate__prefill_fixed_time(void **state)
{
	struct ar_calib c;

	(void)state;
	made_up(&c);
	assert_close(ar_calibrate_prefill_fixed(&c), 2.5e-6, 1e-12, 0);
	c.prefill_attn_tiny_s = 10.5e-6;
	assert_close(ar_calibrate_prefill_fixed(&c), 0, 0, 0);
	c.prefill_attn_tiny_s = 0; /* no probe */
	assert_close(ar_calibrate_prefill_fixed(&c), 0, 0, 0);
}

/* h from two readings of a rate that goes as x/(x + h) */
static void test_calibrate__half_point_from_two_rates(void **state)
{
	(void)state;
	/* h = 40: rate(32)/rate(128) = (32/72)/(128/168) = 7/12 */
	assert_close(ar_calibrate_half(7.0 / 12, 32, 128), 40, 1e-12, 0);
	/* s0 = 39 from 128 and 1024 positions */
	double q = (128.0 / 167) / (1024.0 / 1063);
	assert_close(ar_calibrate_half(q, 128, 1024), 39, 1e-12, 0);
	/* equal rates: no per-row cost */
	assert_close(ar_calibrate_half(1, 128, 1024), 0, 0, 0);
	/* a short rate at or below a/b of the long one does not fit the form */
	assert_close(ar_calibrate_half(0.125, 128, 1024), 1e4, 0, 0);
	assert_close(ar_calibrate_half(0.01, 32, 128), 1e4, 0, 0);
}

/* The descriptor's comment says whether the probes agreed, and how many
 * calibrations that took */
static void test_calibrate__comment_tells_the_state_check(void **state)
{
	struct ar_calib c;

	(void)state;
	made_up(&c);
	for (int k = 0; k < 3; k++) {
		if (k == 1) {
			c.attempts = 2;
			c.disagreement = "main memory read differently at the end";
		}
		if (k == 2) {
			c.attempts = AR_CAL_ATTEMPTS;
			c.dram_read_bw_end = 8.5e10; /* 1.7x the first read */
		}
		char *text = yaml_of(&c);
		const char *want[] = {
			"; read again after the other probes: 5e+10 B/s.\n# read bandwidth by working set",
			"; read again after the other probes: 5e+10 B/s.\n# calibration 2 of 2: the one before it disagreed (main memory read differently at the end).\n",
			"; read again after the other probes: 8.5e+10 B/s.\n# the probes still disagree after 3 calibrations (main memory read differently at the end): the last is kept.\n",
		};
		if (!strstr(text, want[k])) {
			print_error("missing: %s\nin:\n%s", want[k], text);
			fail();
		}
		free(text);
	}
}

/* Cold efficiency points bound by main memory are scaled to the DRAM reading
 * where main memory read beside them differed by more than the tracking gate;
 * the YAML says by how much. */
static void test_calibrate__cold_points_follow_dram(void **state)
{
	struct ar_calib c;

	(void)state;
	made_up(&c); /* matrix 2e11, DRAM 5e10: rows below 2 * 2e11 / 5e10 = 8 */
	const double rows[] = { 1, 2, 4, 4, 8, 64 };
	const double value[] = { 0.2, 0.2, 0.8, 0.3, 0.6, 0.7 };
	const double dram[] = { 8.5e10, 5.5e10, 3e10, 0, 2e10, 8.5e10 };
	/* 5/8.5 scales; 5/5.5 is inside the gate; 5/3 caps at 1; no reading;
	 * 8 rows and 64 rows are not bound by memory */
	const double want[] = { 0.2 * 5 / 8.5, 0.2, 1.0, 0.3, 0.6, 0.7 };
	const double scaled[] = { 5 / 8.5, 1, 5.0 / 3, 1, 1, 1 };
	c.n_eff = 6;
	for (int i = 0; i < 6; i++) {
		c.eff_rows[i] = rows[i];
		c.eff_value[i] = value[i];
		c.eff_dram[i] = dram[i];
	}
	ar_calibrate_normalise_eff(&c);
	for (int i = 0; i < 6; i++) {
		assert_true(fabs(c.eff_value[i] - want[i]) < 1e-12);
		assert_true(fabs(c.eff_scaled[i] - scaled[i]) < 1e-12);
	}
	/* from 32 rows on a dip below the point before is lifted to it */
	const double rows2[] = { 16, 32, 64, 128, 256 }, value2[] = { 0.6, 0.5, 0.7, 0.55, 0.8 };
	const double want2[] = { 0.6, 0.6, 0.7, 0.7, 0.8 };
	struct ar_calib d = c;
	d.n_eff = 5;
	for (int i = 0; i < 5; i++) {
		d.eff_rows[i] = rows2[i];
		d.eff_value[i] = value2[i];
		d.eff_dram[i] = 0;
	}
	ar_calibrate_normalise_eff(&d);
	for (int i = 0; i < 5; i++)
		assert_true(fabs(d.eff_value[i] - want2[i]) < 1e-12);
	char *text = yaml_of(&c);
	const char *line = "  - {rows: 1, value: 0.1176, source: \"measured 2026-12-01: attnroof calibrate "
			   "(1x1024x2048 products over 0 weights in turn / matrix peak, x 0.59 to the DRAM "
			   "reading: main memory read 8.5e+10 B/s beside them)\"}\n";
	if (!strstr(text, line)) {
		print_error("missing: %s\nin:\n%s", line, text);
		fail();
	}
	assert_non_null(strstr(text, "  - {rows: 2, value: 0.2000, source: \"measured 2026-12-01: attnroof calibrate "
				     "(2x1024x2048 products over 0 weights in turn / matrix peak)\"}\n"));
	free(text);
}

/* A calibration whose probes disagree is run again: each check on its own,
 * one field of made_up moved just inside its bound, then just outside */
static void test_calibrate__disagreement(void **state)
{
	/* the decode probe does 8·(4·64 + 5) FLOPs per 2·2·64 floats of K/V:
	 * 2.0391 FLOP/B, so 5e10 B/s allows 1.02e11 FLOP/s; a quarter is
	 * 2.549e10 */
	const struct {
		size_t field;
		double inside, outside;
		const char *why;
	} cases[] = {
		/* main memory 19 % apart, then 21 % */
		{ offsetof(struct ar_calib, dram_read_bw_end), 5.95e10, 6.05e10,
		  "main memory read differently at the end" },
		/* FMA chains at 41 % and 39 % of the matrix peak (2e11) */
		{ offsetof(struct ar_calib, fma_flops_per_s), 0.82e11, 0.78e11,
		  "the FMA chains read far below the matrix peak" },
		/* the matrix peak (2e11) at 41 % and 39 % of the FMA chains */
		{ offsetof(struct ar_calib, fma_flops_per_s), 4.87e11, 5.13e11,
		  "the matrix products read far below the FMA chains" },
		{ offsetof(struct ar_calib, decode_attn_probe_flops_per_s), 2.56e10, 2.54e10,
		  "the decode attention probe read far below main memory's bandwidth" },
		/* the 1-row cold point's weights at 0.508 and 0.492 of main memory
		 * (0.125 of the 2e11 peak is 5e10 B/s, all of it) */
		{ offsetof(struct ar_calib, eff_value), 0.0635, 0.0615,
		  "a cold product read its weights far below main memory's bandwidth" },
		/* a half-rate point past 1000: its two probes read nearly alike */
		{ offsetof(struct ar_calib, decode_attn_head_dim_half), 1000, 1001,
		  "the decode attention probes at head dims 32 and 128 read nearly alike" },
		{ offsetof(struct ar_calib, decode_attn_intensity_half), 1000, 1e4,
		  "the decode attention probes at 1 and 4 maps per key head read nearly alike" },
		{ offsetof(struct ar_calib, prefill_attn_head_dim_half), 999, 1e4,
		  "the prefill attention probes at head dims 32 and 128 read nearly alike" },
		{ offsetof(struct ar_calib, prefill_attn_seq_half), 1000, 2000,
		  "the prefill attention probes at 128 and 1024 positions read nearly alike" },
		{ offsetof(struct ar_calib, matrix_inner_half), 1000, 1e4,
		  "the products with a short inner dimension read nearly as fast as long ones" },
		{ offsetof(struct ar_calib, matrix_cols_half), 999, 1001,
		  "the products with few columns read nearly as fast as wide ones" },
		/* the tracking probe against the calibration's dispatch (1 us) at
		 * x1.45 and x1.55, and its main memory (5e10 at the end) at x0.78
		 * and x0.76 */
		{ offsetof(struct ar_calib, probe_overhead_s), 1.45e-6, 1.55e-6,
		  "the tracking probe's dispatch read another state" },
		{ offsetof(struct ar_calib, probe_dram_bytes_per_s), 3.9e10, 3.8e10,
		  "the tracking probe's main memory read another state" },
		/* its product against the 2e11 peak at x0.78 and x0.75, then
		 * x1.28 and x1.32 */
		{ offsetof(struct ar_calib, probe_matrix_flops_per_s), 1.56e11, 1.5e11,
		  "the tracking probe's product read another state" },
		{ offsetof(struct ar_calib, probe_matrix_flops_per_s), 2.56e11, 2.64e11,
		  "the tracking probe's product read another state" },
		/* the 512-row point at 0.78 and 0.76 of the peak (2e11, below the
		 * probe's 2.25e11): x1.3 reaches it, then falls short */
		{ offsetof(struct ar_calib, eff_value) + sizeof(double), 0.78, 0.76,
		  "the products of many rows read far below the tracking probe's product" },
	};
	struct ar_calib c;

	(void)state;
	made_up(&c);
	assert_null(ar_calibrate_disagreement(&c));
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		made_up(&c);
		double *f = (double *)((char *)&c + cases[k].field);
		*f = cases[k].inside;
		assert_null(ar_calibrate_disagreement(&c));
		*f = cases[k].outside;
		assert_string_equal(ar_calibrate_disagreement(&c), cases[k].why);
	}
}

static void test_calibrate__tracking_scales_by_ratios(void **state)
{
	struct ar_calib c;
	struct ar_hw base, out;

	(void)state;
	made_up(&c);
	descriptor_of(&base, &c);
	struct ar_ceilings ref = { .n_mem = 3, .matrix_flops_per_s = 1e11,
				   .bw_bytes_per_s = { 4e10, 1e11, 0 }, .overhead_s = 2e-6 };
	struct ar_ceilings now = { .n_mem = 3, .matrix_flops_per_s = 0.8e11,
				   .bw_bytes_per_s = { 6e10, 1e11, 5e11 }, .overhead_s = 3e-6 };
	ar_calibrate_track(&out, &base, &ref, &now);
	/* compute rates × 0.8 */
	assert_close(out.matrix_flops_per_s[AR_DT_FP32], 1.6e11, 1e-12, 0);
	assert_close(out.vector_flops_per_s[AR_DT_FP32], 2e11, 1e-12, 0);
	assert_close(out.exp_per_s, 4e9, 1e-12, 0);
	assert_close(out.decode_attn_flops_per_s, 6.4e10, 1e-12, 0);
	assert_close(out.decode_attn_cached_flops_per_s, 0.96e11, 1e-12, 0);
	assert_close(out.decode_attn_near_flops_per_s, 1.28e11, 1e-12, 0);
	assert_close(out.decode_attn_head_dim_half, 40, 0, 0);
	assert_close(out.decode_attn_intensity_half, 2, 0, 0);
	/* the decode kernel's fixed time with the dispatch: × 1.5 */
	assert_close(out.decode_attn_fixed_s, 0.75e-6, 1e-12, 0);
	assert_close(out.decode_attn_near_fixed_s, base.decode_attn_near_fixed_s * 1.5, 1e-12, 0);
	assert_close(out.decode_attn_memory_fixed_s, 6e-6, 1e-12, 0);
	assert_close(out.prefill_attn_fixed_s, 3.75e-6, 1e-12, 0);
	assert_close(out.prefill_attn_flops_per_s, 1.28e11, 1e-12, 0);
	assert_close(out.prefill_attn_seq_half, 32, 0, 0);
	/* main memory × 1.5, L3 unchanged, L2 not probed at the reference: unchanged */
	assert_close(out.mem[0].bw_bytes_per_s, 7.5e10, 1e-12, 0);
	assert_close(out.mem[1].bw_bytes_per_s, 2e11, 1e-12, 0);
	assert_close(out.mem[2].bw_bytes_per_s, 4e11, 1e-12, 0);
	/* the sweep's points follow the level that holds them: 1 MB the L2's
	 * (unprobed), 4 MB the L3's (x1), 64 MB main memory's (x1.5) */
	assert_close(out.read_sweep[0].bw, base.read_sweep[0].bw, 0, 0);
	assert_close(out.read_sweep[1].bw, base.read_sweep[1].bw, 0, 0);
	assert_close(out.read_sweep[2].bw, base.read_sweep[2].bw * 1.5, 1e-12, 0);
	assert_close(out.overhead_s, base.overhead_s * 1.5, 1e-12, 0);
	/* capacities are not ceilings that drift; the curve's point of 512 rows
	 * (compute-bound: 512 > 2·peak/DRAM = 8) stays a fraction of the peak,
	 * its point of 1 row (bound by reading weights from DRAM) follows DRAM:
	 * 0.125 × 1.5 / 0.8 of the (tracked) peak */
	assert_close(out.mem[1].capacity_bytes, base.mem[1].capacity_bytes, 0, 0);
	assert_close(out.matrix_eff[1].value, base.matrix_eff[1].value, 0, 0);
	assert_close(out.matrix_eff[0].value, 0.125 * 1.5 / 0.8, 1e-12, 0);
	/* the near curve's level is not probed, and its 1 row is not below
	 * 2·peak / its 4e11 B/s: it stays a fraction of the peak */
	assert_close(out.matrix_eff_near[0].value, base.matrix_eff_near[0].value, 0, 0);
	/* moves inside the gates (matrix x1.19, main memory x0.78 and L3 x1.25
	 * inside the memory gate of 1.3, dispatch x1.1) change nothing */
	struct ar_ceilings near = { .n_mem = 3, .matrix_flops_per_s = 1.19e11,
				    .bw_bytes_per_s = { 3.12e10, 1.25e11, 0 }, .overhead_s = 2.2e-6 };
	ar_calibrate_track(&out, &base, &ref, &near);
	assert_close(out.matrix_flops_per_s[AR_DT_FP32], base.matrix_flops_per_s[AR_DT_FP32], 0, 0);
	assert_close(out.mem[0].bw_bytes_per_s, base.mem[0].bw_bytes_per_s, 0, 0);
	assert_close(out.mem[1].bw_bytes_per_s, base.mem[1].bw_bytes_per_s, 0, 0);
	assert_close(out.overhead_s, base.overhead_s, 0, 0);
	assert_close(out.decode_attn_fixed_s, base.decode_attn_fixed_s, 0, 0);
	assert_close(out.matrix_eff[0].value, base.matrix_eff[0].value, 0, 0);
	/* just outside them it follows: main memory x0.75, the matrix peak x1.21 */
	near.bw_bytes_per_s[0] = 3e10;
	near.matrix_flops_per_s = 1.21e11;
	ar_calibrate_track(&out, &base, &ref, &near);
	assert_close(out.mem[0].bw_bytes_per_s, base.mem[0].bw_bytes_per_s * 0.75, 1e-12, 0);
	assert_close(out.matrix_flops_per_s[AR_DT_FP32], base.matrix_flops_per_s[AR_DT_FP32] * 1.21,
		     1e-12, 0);
	/* in place */
	ar_calibrate_track(&base, &base, &ref, &now);
	assert_close(base.mem[0].bw_bytes_per_s, 7.5e10, 1e-12, 0);
}

static void test_calibrate__median_of_ceilings(void **state)
{
	struct ar_ceilings c[3] = {
		{ .n_mem = 2, .matrix_flops_per_s = 3, .bw_bytes_per_s = { 10, 7 }, .overhead_s = 1 },
		{ .n_mem = 2, .matrix_flops_per_s = 1, .bw_bytes_per_s = { 30, 9 }, .overhead_s = 5 },
		{ .n_mem = 2, .matrix_flops_per_s = 2, .bw_bytes_per_s = { 20, 8 }, .overhead_s = 4 },
	};
	struct ar_ceilings m;

	(void)state;
	ar_ceilings_median(&m, c, 3);
	assert_close(m.matrix_flops_per_s, 2, 0, 0);
	assert_close(m.bw_bytes_per_s[0], 20, 0, 0);
	assert_close(m.bw_bytes_per_s[1], 8, 0, 0);
	assert_close(m.overhead_s, 4, 0, 0);
	/* the inputs are left as they were */
	assert_close(c[1].matrix_flops_per_s, 1, 0, 0);
	ar_ceilings_median(&m, c, 2);
	assert_close(m.matrix_flops_per_s, 2, 0, 0);
	/* the best, field by field: highest rates, shortest times */
	c[0].round_trip_s = 3e-7;
	c[1].round_trip_s = 1e-7;
	c[2].round_trip_s = 2e-7;
	ar_ceilings_best(&m, c, 3);
	assert_close(m.matrix_flops_per_s, 3, 0, 0);
	assert_close(m.bw_bytes_per_s[0], 30, 0, 0);
	assert_close(m.bw_bytes_per_s[1], 9, 0, 0);
	assert_close(m.overhead_s, 1, 0, 0);
	assert_close(m.round_trip_s, 1e-7, 0, 0);
	ar_ceilings_best(&m, c + 2, 1);
	assert_close(m.matrix_flops_per_s, 2, 0, 0);
}

/* The probes on a made-up descriptor: main memory, the product and the
 * overhead get finite positive readings; cache levels are not probed. */
static void test_calibrate__probes_read_main_memory(void **state)
{
	struct ar_hw hw;
	struct ar_probe p;
	struct ar_ceilings c;
	struct ar_err err = { 0 };

	(void)state;
	memset(&hw, 0, sizeof(hw));
	hw.n_mem = 3;
	hw.mem[0] = (struct ar_mem_level){ "DRAM", 8e9, 1e10 };
	hw.mem[1] = (struct ar_mem_level){ "L2", 1e6, 1e11 };
	hw.mem[2] = (struct ar_mem_level){ "L1", 32768, 0 };
	assert_int_equal(ar_probe_init(&p, &hw, &err), 0);
	ar_probe_run(&p, &c);
	assert_int_equal(c.n_mem, 3);
	assert_true(c.matrix_flops_per_s > 0 && isfinite(c.matrix_flops_per_s));
	assert_true(c.bw_bytes_per_s[0] > 0 && isfinite(c.bw_bytes_per_s[0]));
	assert_true(c.bw_bytes_per_s[1] == 0 && c.bw_bytes_per_s[2] == 0);
	assert_true(c.overhead_s > 0 && isfinite(c.overhead_s));
	ar_probe_release(&p);
	ar_probe_release(&p); /* released twice: a zeroed probe */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calibrate__descriptor_reads_back),
		cmocka_unit_test(test_calibrate__half_point_from_two_rates),
		cmocka_unit_test(test_calibrate__prefill_fixed_time),
		cmocka_unit_test(test_calibrate__comment_tells_the_state_check),
		cmocka_unit_test(test_calibrate__disagreement),
		cmocka_unit_test(test_calibrate__cold_points_follow_dram),
		cmocka_unit_test(test_calibrate__tracking_scales_by_ratios),
		cmocka_unit_test(test_calibrate__median_of_ceilings),
		cmocka_unit_test(test_calibrate__probes_read_main_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
