/* Measuring the host (see calibrate.h).  Every probe states the median of a
 * few repeats (median_of). */
#include "calibrate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"
#include "graph.h"
#include "kernels.h"

static int probe_alloc(struct ar_probe *p, int n_mem, double cache, struct ar_err *err);

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fill(float *p, long n)
{
	for (long i = 0; i < n; i++)
		p[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
}

/* The median of n timings (sorted in place).  Every probe states the median
 * of its passes, not the best: the executor's measurements are medians, and
 * on a shared machine the best pass is a moment the runs rarely see. */
static double median_of(double *t, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
			double x = t[j];
			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* Products go through the executor's matmul with its weight layout: W
 * stored (N, K), rows ar_kernels_row_stride(K) apart, out (M,N) = in (M,K) ·
 * Wᵀ.  FLOP/s of one such product. */
static double gemm_rate(long M, long K, long N, int reps, struct ar_err *err, int *fail)
{
	long ldb = ar_kernels_row_stride(K);
	float *a = malloc(sizeof(float) * M * K), *b = ar_exec_alloc(sizeof(float) * ldb * N);
	float *c = malloc(sizeof(float) * M * N);
	double ts[16];
	int nt = 0;

	if (!a || !b || !c) {
		*fail = ar_errf(err, NULL, 0, 0, "cannot allocate the calibration products");
		free(a); free(b); free(c);
		return 0;
	}
	fill(a, M * K);
	fill(b, ldb * N);
	ar_kernels_matmul(c, N, 0, a, K, 0, b, ldb, 0, 1, NULL, M, K, N, 1);
	for (int r = 0; r < reps && nt < 16; r++) {
		double t0 = now_s();
		ar_kernels_matmul(c, N, 0, a, K, 0, b, ldb, 0, 1, NULL, M, K, N, 1);
		ts[nt++] = now_s() - t0;
	}
	free(a); free(b); free(c);
	return 2.0 * M * K * N / median_of(ts, nt);
}

/* now / ref, or 1 inside (1/gate, gate): what tracking follows and what it
 * leaves to the probes' scatter */
static double gated_ratio(double now, double ref, double gate)
{
	double r = now > 0 && ref > 0 ? now / ref : 1;

	return r < 1 / gate || r > gate ? r : 1;
}

static double ratio(double now, double ref)
{
	return gated_ratio(now, ref, AR_TRACK_GATE);
}

static double read_bw(float *buf, double bytes);

/* FLOPs per byte of K/V the from-memory decode probe reads: per key,
 * maps·(4d + 5) FLOPs over key heads·d floats of K and as many of V */
static double decode_probe_flops_per_byte(long kh)
{
	return AR_CAL_MAPS_ATTN * (4.0 * AR_CAL_D_ATTN + 5) /
	       (2.0 * sizeof(float) * kh * AR_CAL_D_ATTN);
}

/* FLOP/s of products of M rows through `copies` different (K, N) weights in
 * turn, as the layers of a model use theirs: with enough copies to overflow
 * the caches each product reads its weight from main memory.  probe
 * (probe_bytes; NULL: none) is read as main memory's bandwidth is, just
 * before and after the timed products, into *dram (the mean): the state the
 * host's memory was in while they ran. */
static double gemm_rate_cold(long M, long K, long N, int copies, int reps, float *probe,
			     double probe_bytes, double *dram, struct ar_err *err, int *fail)
{
	long ldb = ar_kernels_row_stride(K);
	float *a = malloc(sizeof(float) * M * K), *c = malloc(sizeof(float) * M * N);
	float *b = ar_exec_alloc(sizeof(float) * ldb * N * (size_t)copies);
	double ts[16];
	int nt = 0;

	if (!a || !b || !c) {
		*fail = ar_errf(err, NULL, 0, 0, "cannot allocate the calibration products");
		free(a); free(b); free(c);
		return 0;
	}
	fill(a, M * K);
	fill(b, ldb * N * copies);
	double read[2] = { 0, 0 };
	for (int r = 0; r < reps + 1; r++) { /* the first pass only warms up */
		if (r == 1 && probe)
			read[0] = read_bw(probe, probe_bytes);
		double t0 = now_s();
		for (int i = 0; i < copies; i++)
			ar_kernels_matmul(c, N, 0, a, K, 0, b + (size_t)i * ldb * N, ldb, 0, 1, NULL, M,
					  K, N, 1);
		if (r > 0 && nt < 16)
			ts[nt++] = (now_s() - t0) / copies;
	}
	if (probe) {
		read[1] = read_bw(probe, probe_bytes);
		*dram = (read[0] + read[1]) / 2;
	}
	free(a); free(b); free(c);
	return 2.0 * M * K * N / median_of(ts, nt);
}

/* Read bandwidth over a working set of `bytes`: sums it until ~0.1 s has
 * passed, the median of three. */
static double read_bw(float *buf, double bytes)
{
	long n = (long)(bytes / sizeof(float));
	double bw[3];
	volatile double sink = 0;

	sink += ar_kernels_sum(buf, n, 1);
	long iters = (long)fmax(1, 2e8 / bytes);
	for (int r = 0; r < 3; r++) {
		double t0 = now_s();
		sink += ar_kernels_sum(buf, n, iters);
		bw[r] = bytes * iters / (now_s() - t0);
	}
	(void)sink;
	return median_of(bw, 3);
}

/* Read bandwidth of main memory as the decode products see it: a row times
 * a (bytes/16 KiB, 4096) matrix through the executor's matmul, median of three */
static double gemv_bw(float *buf, double bytes, struct ar_err *err, int *fail)
{
	long N = 4096, K = (long)(bytes / sizeof(float)) / N;
	float *x = malloc(sizeof(float) * K), *y = malloc(sizeof(float) * N);
	double ts[3];

	if (!x || !y) {
		*fail = ar_errf(err, NULL, 0, 0, "cannot allocate the bandwidth probe");
		free(x); free(y);
		return 0;
	}
	fill(x, K);
	for (int r = 0; r < 3; r++) {
		double t0 = now_s();
		ar_kernels_matmul(y, N, 0, x, K, 0, buf, K, 0, 1, NULL, 1, K, N, 1);
		ts[r] = now_s() - t0;
	}
	free(x); free(y);
	return (double)K * N * sizeof(float) / median_of(ts, 3);
}

/* FLOP/s of warm m-row products at n shapes (K[i], N[i]), measured in turn
 * within each of `reps` rounds so that all see the machine in one state,
 * each after an untimed call and over at least 1e8 FLOPs, the median of each
 * over the rounds (at most 15) into rate[i].  Without that call a product of
 * 512 rows found its 4 MB output evicted by the one before it and read 0.76
 * of the reference rate where it reads 0.84-0.92 alone, as in a model, and
 * calls of 0.15 ms spread k0 over 19-45 between calibrations */
static int shape_rates(long m, const long *K, const long *N, int n, int reps, double *rate,
		       struct ar_err *err)
{
	float *a[4] = { 0 }, *b[4] = { 0 }, *c[4] = { 0 };
	double ts[4][15];
	long ldb[4] = { 0 };
	int ok = n <= 4 && reps <= 15;

	for (int i = 0; ok && i < n; i++) {
		ldb[i] = ar_kernels_row_stride(K[i]);
		a[i] = malloc(sizeof(float) * m * K[i]);
		b[i] = ar_exec_alloc(sizeof(float) * ldb[i] * N[i]);
		c[i] = malloc(sizeof(float) * m * N[i]);
		ok = a[i] && b[i] && c[i];
		if (ok) {
			fill(a[i], m * K[i]);
			fill(b[i], ldb[i] * N[i]);
		}
	}
	for (int r = 0; ok && r <= reps; r++) /* round 0 warms up */
		for (int i = 0; i < n; i++) {
			/* a few calls, so that a small product's time is not the clock's */
			long calls = (long)fmax(1, 1e8 / (2.0 * m * K[i] * N[i]));
			/* one call untimed first: the product before it in the round
			 * took the caches, which a product running after the ops
			 * that feed it does not find taken */
			ar_kernels_matmul(c[i], N[i], 0, a[i], K[i], 0, b[i], ldb[i], 0, 1, NULL, m,
					  K[i], N[i], 1);
			double t0 = now_s();
			for (long k = 0; k < calls; k++)
				ar_kernels_matmul(c[i], N[i], 0, a[i], K[i], 0, b[i], ldb[i], 0, 1,
						  NULL, m, K[i], N[i], 1);
			if (r > 0)
				ts[i][r - 1] = (now_s() - t0) / (double)calls;
		}
	for (int i = 0; i < n; i++) {
		if (ok)
			rate[i] = 2.0 * m * K[i] * N[i] / median_of(ts[i], reps);
		free(a[i]); free(b[i]); free(c[i]);
	}
	return ok ? 0 : ar_errf(err, NULL, 0, 0, "cannot allocate the calibration products");
}

/* FLOP/s of products of rows[r] rows at inner dimensions K[i] (N_EFF
 * columns) through weights from main memory: copies[i] of each, beyond
 * bytes in all, read in turn; at each row count the shapes take turns within
 * each of `reps` rounds (after one that warms up), the median over the
 * rounds into rate[r·n + i] */
static int cold_inner_rates(const long *rows, int nr, const long *K, int n, double beyond,
			    int reps, int *copies, double *rate, struct ar_err *err)
{
	long most = rows[0];
	for (int r = 1; r < nr; r++)
		most = rows[r] > most ? rows[r] : most;
	float *a[3] = { 0 }, *b[3] = { 0 }, *c = malloc(sizeof(float) * most * AR_CAL_N_EFF);
	long ldb[3] = { 0 };
	double ts[3][9];
	int ok = c && n <= 3 && reps <= 9;

	for (int i = 0; ok && i < n; i++) {
		ldb[i] = ar_kernels_row_stride(K[i]);
		copies[i] = (int)fmax(AR_CAL_COPIES_EFF, ceil(beyond / (4.0 * K[i] * AR_CAL_N_EFF)));
		a[i] = malloc(sizeof(float) * most * K[i]);
		b[i] = ar_exec_alloc(sizeof(float) * ldb[i] * AR_CAL_N_EFF * (size_t)copies[i]);
		ok = a[i] && b[i];
		if (ok) {
			fill(a[i], most * K[i]);
			fill(b[i], ldb[i] * AR_CAL_N_EFF * copies[i]);
		}
	}
	for (int q = 0; ok && q < nr; q++) {
		long m = rows[q];
		for (int r = 0; r <= reps; r++)
			for (int i = 0; i < n; i++) {
				double t0 = now_s();
				for (int j = 0; j < copies[i]; j++)
					ar_kernels_matmul(c, AR_CAL_N_EFF, 0, a[i], K[i], 0,
							  b[i] + (size_t)j * ldb[i] * AR_CAL_N_EFF, ldb[i],
							  0, 1, NULL, m, K[i], AR_CAL_N_EFF, 1);
				if (r > 0)
					ts[i][r - 1] = (now_s() - t0) / copies[i];
			}
		for (int i = 0; i < n; i++)
			rate[q * n + i] = 2.0 * m * K[i] * AR_CAL_N_EFF / median_of(ts[i], reps);
	}
	for (int i = 0; i < n; i++) {
		free(a[i]);
		free(b[i]);
	}
	free(c);
	return ok ? 0 : ar_errf(err, NULL, 0, 0, "cannot allocate the calibration products");
}

/* What the decode probes over K/V from main memory read before each call:
 * `per` of the `floats` of buf, from where the last read stopped (`at`),
 * back to its start where the next would pass its end */
struct ar_between {
	const float *buf;
	long floats, per, at;
};

static void between_read(struct ar_between *b)
{
	volatile double sink = ar_kernels_sum(b->buf + b->at, b->per, 1);

	(void)sink;
	b->at = b->at + 2 * b->per <= b->floats ? b->at + b->per : 0;
}

/* FLOPs per second of the executor's decode attention kernel, counted as the
 * graph counts the decode flash op: per map 2·Sk·(d_k + d_v) matrix and 5·Sk
 * vector FLOPs.  One query against S keys of AR_CAL_MAPS_ATTN maps over
 * AR_CAL_KH_ATTN key heads of d, in each of `copies` K/V caches in turn
 * (8 of 4096 keys at d 64: 67 MB, from main memory; one: from a cache),
 * the median of `passes` after a warm-up.  With `between` (K/V from main
 * memory), each call comes after a read of between->per floats, as a
 * model's attention comes after its layer's products have streamed their
 * weights, and only the calls are timed: 12 maps over 3 key heads at 128
 * and 256 keys took 1.5-5 us longer each after a read of 4-32 MB than
 * back to back on the AMD EPYC Zen 4 guest, where the 160M models' flash
 * decode at 256 keys had run 20-40 % over its prediction. */
static double decode_attn_rate(long S, long d, long kh, long copies, int passes,
			       struct ar_between *between, struct ar_err *err, int *fail)
{
	const long maps = AR_CAL_MAPS_ATTN;
	size_t per = (size_t)(S * kh * d); /* floats of one K (or V) cache */
	struct ar_attn_args a = { .B = 1, .Sq = 1, .Sk = S, .maps = maps, .kh = kh,
				  .heads = maps, .vh = kh, .dk1 = d, .dk2 = 0, .dv = d,
				  .scale = 1.0f / sqrtf((float)d), .k1_bs = S * kh * d,
				  .k1_ps = d, .k1_hs = S * d, .v_bs = S * kh * d, .v_ps = d,
				  .v_hs = S * d }; /* head-major, as the executor's cache */
	float *kv = ar_exec_alloc(sizeof(float) * per * 2 * (size_t)copies);
	float *q = malloc(sizeof(float) * (size_t)(maps * d));
	float *out = malloc(sizeof(float) * (size_t)(maps * d));
	float *scratch = NULL;
	double ts[16];

	if (passes > 16)
		passes = 16;
	if (kv && q && out)
		scratch = malloc(sizeof(float) * (ar_kernels_decode_attn_scratch(&a, 0) + 1));
	if (!kv || !q || !out || !scratch) {
		*fail = ar_errf(err, NULL, 0, 0, "cannot allocate the decode attention probe");
		free(kv); free(q); free(out); free(scratch);
		return 0;
	}
	fill(kv, (long)(per * 2 * (size_t)copies));
	fill(q, maps * d);
	a.q = q;
	a.out = out;
	for (int r = 0; r <= passes; r++) { /* the first pass only warms up */
		double t0 = now_s(), busy = 0;
		for (long i = 0; i < copies; i++) {
			a.k1 = kv + (size_t)(2 * i) * per;
			a.v = a.k1 + per;
			if (between) {
				between_read(between);
				double t1 = now_s();
				ar_kernels_decode_attn(&a, 0, scratch);
				busy += now_s() - t1;
			} else {
				ar_kernels_decode_attn(&a, 0, scratch);
			}
		}
		if (r > 0)
			ts[r - 1] = (between ? busy : now_s() - t0) / copies;
	}
	free(kv); free(q); free(out); free(scratch);
	return (double)maps * S * (2.0 * (d + d) + 5.0) / median_of(ts, passes);
}

/* decode_attn_rate with one map per key head (AR_CAL_MAPS_ATTN key heads
 * of AR_CAL_D_ATTN) at `keys` keys, its K/V caches in turn `beyond` bytes
 * (at least AR_CAL_COPIES_ATTN of them), each call after a read */
static double one_map_rate(long keys, double beyond, int passes, struct ar_between *between,
			   struct ar_err *err, int *fail)
{
	double call = 8.0 * keys * AR_CAL_MAPS_ATTN * AR_CAL_D_ATTN;

	return decode_attn_rate(keys, AR_CAL_D_ATTN, AR_CAL_MAPS_ATTN,
				(int)fmax(AR_CAL_COPIES_ATTN, ceil(beyond / call)), passes, between,
				err, fail);
}

/* The decode kernel's time t0 at no keys from its seconds per key at
 * AR_CAL_KEYS_ATTN_SHORT (u_s) and AR_CAL_KEYS_ATTN_CACHED keys (u_l): the
 * time is t0 + keys x c; at least 0, at most half the short probe's time */
static double decode_t0(double u_s, double u_l)
{
	double t_s = AR_CAL_KEYS_ATTN_SHORT * u_s, t_l = AR_CAL_KEYS_ATTN_CACHED * u_l;
	double t0 = (AR_CAL_KEYS_ATTN_CACHED * t_s - AR_CAL_KEYS_ATTN_SHORT * t_l) /
		    (AR_CAL_KEYS_ATTN_CACHED - AR_CAL_KEYS_ATTN_SHORT);

	return fmin(fmax(0, t0), 0.5 * t_s);
}

double ar_calibrate_half_power(double h_a, double h_b, double a, double b)
{
	if (h_a <= 0 || h_b <= 0 || h_b >= h_a)
		return 0;
	return fmin(AR_CAL_HALF_POWER_MAX, log(h_a / h_b) / log(b / a));
}

double ar_calibrate_half(double q, double a, double b)
{
	/* a/(a + h) = q·b/(b + h)  =>  h = a·b·(1 − q)/(q·b − a) */
	return q * b > a ? a * b * (1 - q) / (q * b - a) : 1e4;
}

double ar_calibrate_output_share(const struct ar_calib *c)
{
	const double d = AR_CAL_D_ATTN, a = AR_CAL_PREFILL_PER_MAP, d0 = c->prefill_attn_head_dim_half;
	double F = c->prefill_attn_per_map_flops;

	if (F <= 0 || c->prefill_attn_per_map_s <= 0 || d0 <= 0 || c->prefill_attn_flops_per_s <= 0)
		return 0;
	/* the same positions' scores with one output per map: matrix 2(d + d)
	 * of the probe's 2(d + a·d) per score, the 5 vector FLOPs alike */
	double Fm = F * (4 * d + 5) / (2 * d * (1 + a) + 5);
	double rate = c->prefill_attn_flops_per_s * AR_CAL_SEQ_PREFILL /
		      (AR_CAL_SEQ_PREFILL + c->prefill_attn_seq_half);
	double per_score = c->prefill_attn_per_map_s * rate - F; /* FLOP-times beyond F */
	return fmin(1, fmax(0, (per_score / (Fm * d0 / d) - 1) / (a - 1)));
}

/* FLOPs per second of the executor's causal flash prefill, counted as the
 * graph counts the prefill flash op (matrix 2·pairs·(d_k + d_v) and vector
 * 5·pairs per key head over the computed tiles).  The decode probe's maps and
 * key heads at head dim d, S positions, tiles sized from onchip bytes per
 * core as the graph sizes them; median of `passes` (at most 15) after a
 * warm-up. */
static double prefill_attn_rate(double onchip, long S, long d, long hpm, int passes, long *tile,
				double *flops, struct ar_err *err, int *fail)
{
	const long kh = AR_CAL_KH_ATTN;
	/* hpm outputs on each map */
	const long maps = AR_CAL_MAPS_ATTN, heads = maps * hpm, g = maps / kh;
	/* graph.c's tiles: half the on-chip memory for the Q tile and its fp32
	 * accumulators, half for the K and V tiles, at least 16 */
	long t = (long)fmax(16, floor(onchip / 2 / (2.0 * d * sizeof(float))));
	long Br = t, Bc = t < S ? t : S;
	struct ar_attn_args a = { .B = 1, .Sq = S, .Sk = S, .maps = maps, .kh = kh,
				  .heads = heads, .vh = kh, .dk1 = d, .dk2 = 0, .dv = d, .causal = 1,
				  .scale = 1.0f / sqrtf((float)d), .k1_bs = S * kh * d,
				  .k1_ps = d, .k1_hs = S * d, .v_bs = S * kh * d, .v_ps = d,
				  .v_hs = S * d }; /* head-major, as the executor's cache */
	float *q = malloc(sizeof(float) * (size_t)(S * maps * d));
	float *kv = malloc(sizeof(float) * (size_t)(2 * S * kh * d));
	float *out = malloc(sizeof(float) * (size_t)(S * heads * d));
	float *scratch = malloc(sizeof(float) * (ar_kernels_flash_scratch(&a, Br, Bc) + 1));
	double ts[15], pairs, keys;

	passes = passes < 1 ? 1 : passes > 15 ? 15 : passes;
	*tile = t;
	if (!q || !kv || !out || !scratch) {
		*fail = ar_errf(err, NULL, 0, 0, "cannot allocate the prefill attention probe");
		free(q); free(kv); free(out); free(scratch);
		return 0;
	}
	fill(q, S * maps * d);
	fill(kv, 2 * S * kh * d);
	a.q = q;
	a.k1 = kv;
	a.v = kv + S * kh * d;
	a.out = out;
	for (int r = 0; r <= passes; r++) { /* the first pass only warms up */
		double t0 = now_s();
		ar_kernels_flash(&a, Br, Bc, scratch);
		if (r > 0)
			ts[r - 1] = now_s() - t0;
	}
	free(q); free(kv); free(out); free(scratch);
	ar_flash_causal_tiles(S, S, Br / g < 1 ? 1 : Br / g, Bc, &pairs, &keys);
	pairs *= (double)g;
	double f = (double)kh * pairs * (2.0 * (d + hpm * d) + 5.0);
	if (flops)
		*flops = f;
	return f / median_of(ts, passes);
}

static double cache_size(int name, int index, const char *fallback_level)
{
	long v = sysconf(name);
	char path[128], buf[64];
	FILE *f;
	double kb = 0;

	/* sysfs first (/sys/devices/system/cpu/cpu0/cache/indexN/size, "32K"):
	 * under some hypervisors sysconf reports a last-level cache that is not there */
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/size", index);
	(void)fallback_level;
	if ((f = fopen(path, "r"))) {
		if (fgets(buf, sizeof(buf), f))
			kb = atof(buf) * (strchr(buf, 'M') ? 1024 : 1);
		fclose(f);
	}
	return kb > 0 ? kb * 1024 : v > 0 ? (double)v : 0;
}

static void cpu_name(char *out, size_t n)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(out, n, "unknown CPU");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');
		if (!strncmp(line, "model name", 10) && c) {
			c += 2;
			c[strcspn(c, "\n")] = 0;
			snprintf(out, n, "%s", c);
			break;
		}
	}
	fclose(f);
}

static double phys_bytes(void)
{
	long p = sysconf(_SC_PHYS_PAGES), s = sysconf(_SC_PAGESIZE);

	return p > 0 && s > 0 ? (double)p * s : 0;
}

/* The per-op overhead: the median time of tiny ops in a chain, each reading
 * what the one before wrote and timed on its own, as the executor runs and
 * times a graph: a norm of one 128-wide row, an add and a 1x64x64 product,
 * `rounds` times over (every op on every thread).  Tried before it: the
 * median of one tiny product called in a tight loop, which read 0.6 or
 * 1.4 us from run to run while such ops took 2 us in a model's graph. */
static double op_chain(int rounds)
{
	enum { C = 128, D = 64 };
	float x[C], y[C], wn[C], w[D * D];
	double ts[3 * 67];

	if (rounds > 67)
		rounds = 67;
	fill(x, C);
	fill(w, D * D);
	for (int i = 0; i < C; i++)
		wn[i] = 1;
	for (int r = 0; r < rounds; r++) {
		double t0 = now_s();
		ar_kernels_rmsnorm(y, x, wn, 1, C, 1e-5f);
		double t1 = now_s();
		ar_kernels_add(x, x, y, C);
		double t2 = now_s();
		ar_kernels_matmul(y, D, 0, x, D, 0, w, D, 0, 1, NULL, 1, D, D, 1);
		double t3 = now_s();
		ts[3 * r] = t1 - t0;
		ts[3 * r + 1] = t2 - t1;
		ts[3 * r + 2] = t3 - t2;
		for (int i = 0; i < C; i++) /* keep the values bounded */
			x[i] = x[i] * 0.5f + 0.001f * (float)i;
	}
	return median_of(ts, 3 * rounds);
}

/* The handoff of activations between the threads: a chain of a product
 * of AR_CAL_HANDOFF_ROWS rows through a square weight of
 * AR_CAL_HANDOFF_WIDTH (threads take its columns) and an add that reads its
 * output and the residual and writes the residual (threads take rows), as
 * a model's layers alternate;
 * the add's median time, `rounds` of them (at most 67).  Its three
 * activations' bytes over that time less the dispatch is the rate at
 * which an op reads and writes what the op before wrote in another split:
 * in cache where the cores share one, across the chiplets where not (an
 * add of 16 x 768 there 4.1 us against a dispatch of 1.8, 1.5 against 0.7
 * on one chiplet). */
static double handoff_add_s(int rounds)
{
	enum { T = AR_CAL_HANDOFF_ROWS, H = AR_CAL_HANDOFF_WIDTH };
	float *x = malloc(sizeof(float) * T * H), *y = malloc(sizeof(float) * T * H);
	float *w = malloc(sizeof(float) * H * H);
	double ts[67];

	if (!x || !y || !w) {
		free(x); free(y); free(w);
		return 0;
	}
	if (rounds > 67)
		rounds = 67;
	fill(x, T * H);
	fill(w, H * H);
	for (long i = 0; i < (long)H * H; i++) /* keep the values bounded */
		w[i] *= 1.0f / H;
	for (int r = 0; r < rounds; r++) {
		ar_kernels_matmul(y, H, 0, x, H, 0, w, H, 0, 1, NULL, T, H, H, 1);
		double t0 = now_s();
		ar_kernels_add(x, x, y, T * H);
		ts[r] = now_s() - t0;
	}
	free(x); free(y); free(w);
	return median_of(ts, rounds);
}

double ar_calibrate_prefill_fixed(const struct ar_calib *c)
{
	double rate = c->prefill_attn_flops_per_s;

	if (rate <= 0 || c->prefill_attn_tiny_s <= 0)
		return 0;
	rate *= AR_CAL_D_ATTN / (AR_CAL_D_ATTN + c->prefill_attn_head_dim_half);
	rate *= AR_CAL_SEQ_PREFILL_TINY / (AR_CAL_SEQ_PREFILL_TINY + c->prefill_attn_seq_half);
	return fmin(1, fmax(0, c->prefill_attn_tiny_s - c->prefill_attn_tiny_flops / rate -
			       c->overhead_s));
}

/* Rows below which a product is bound by reading its weights: 2 · peak /
 * main memory's bandwidth (0 when that is unknown) */
static double weight_bound(const struct ar_calib *c)
{
	return c->dram_read_bw > 0 ? 2 * c->matrix_flops_per_s / c->dram_read_bw : 0;
}

void ar_calibrate_normalise_eff(struct ar_calib *c)
{
	double bound = weight_bound(c);

	for (int i = 0; i < c->n_eff; i++) {
		c->eff_scaled[i] = 1;
		if (c->eff_rows[i] < bound && c->eff_dram[i] > 0)
			c->eff_scaled[i] = ratio(c->dram_read_bw, c->eff_dram[i]);
		c->eff_value[i] = fmin(1.0, c->eff_value[i] * c->eff_scaled[i]);
	}
	/* From 32 rows on (BLAS's products) more rows of the same product never
	 * lower its efficiency: a lower reading than at half the rows is the
	 * machine's noise, one dip of which (0.55 at 128 rows) made every
	 * 128-row product 60 % too slow */
	for (int i = 1; i < c->n_eff; i++)
		if (c->eff_rows[i] >= 32 && c->eff_value[i] < c->eff_value[i - 1])
			c->eff_value[i] = c->eff_value[i - 1];
}

/* The last-level cache's usable capacity from a sweep of n working sets:
 * the largest in (l2, l3] that still reads at no less than √(the best rate
 * there · main memory's), the midpoint in log; 2·l2 when none does.  The
 * cache is shared with whatever else runs on the machine, and a guest may
 * be told of its whole socket's cache (480 MB) and get 64 MB of it. */
static double usable_llc(const double *bytes, const double *bw, int n, double l2, double l3,
			 double dram)
{
	double top = 0, usable = 0;

	for (int i = 0; i < n; i++)
		if (bytes[i] > l2 && bytes[i] <= l3)
			top = fmax(top, bw[i]);
	for (int i = 0; i < n && bytes[i] <= l3; i++)
		if (bytes[i] > l2 && bw[i] >= sqrt(top * dram))
			usable = bytes[i];
	return usable > 0 ? usable : l2 * 2;
}

/* usable_llc from a sweep of its own: working sets from 2·l2 to l3 (at most
 * AR_CAL_MAX_SWEEP), main memory read over the whole buffer (twice l3, at
 * least 256 MB, at most 1 GB).  The calibration sizes its sets "beyond the
 * cache" and "in the cache" from it; 0 when the buffer cannot be had. */
static double usable_llc_probe(double l2, double l3)
{
	double ws_max = fmin(1e9, fmax(256e6, 2 * l3));
	float *buf = ar_exec_alloc((size_t)ws_max);
	double bytes[AR_CAL_MAX_SWEEP], bw[AR_CAL_MAX_SWEEP];
	int n = 0;

	if (!buf)
		return 0;
	fill(buf, (long)(ws_max / sizeof(float)));
	for (double ws = 2 * l2; ws <= fmin(l3, ws_max / 2) && n < AR_CAL_MAX_SWEEP; ws *= 2) {
		bytes[n] = ws;
		bw[n++] = read_bw(buf, ws);
	}
	double dram = read_bw(buf, ws_max);
	free(buf);
	return usable_llc(bytes, bw, n, l2, l3, dram);
}

/* The cold efficiency point of m rows (matrix_efficiency), in FLOP/s, with
 * main memory's read bandwidth beside it in *dram up to 64 rows (beside 0:
 * none) */
static double cold_point(long m, int cold, float *buf, double dram_ws, int beside, double *dram,
			 struct ar_err *err, int *fail)
{
	return gemm_rate_cold(m, AR_CAL_K_EFF, AR_CAL_N_EFF, m <= AR_CAL_ROWS_COLD ? cold : 2,
			      m < 128 ? 9 : 5, m <= 64 && beside ? buf : NULL, dram_ws, dram, err,
			      fail);
}

/* The readings of the cold points in the calibration's middle
 * (AR_CAL_EFF_MID each), for those below the weight bound that the lowest
 * main memory read beside them gives (main memory's own reading comes
 * later): the readings of a point spread over the calibration, not taken
 * in one state of the host */
static int mid_cold_readings(struct ar_calib *c, int cold, float *buf, double dram_ws,
			     struct ar_err *err)
{
	double low = 0, unused = 0;
	int fail = 0;

	for (int i = 0; i < c->n_eff; i++)
		if (c->eff_dram[i] > 0 && (low == 0 || c->eff_dram[i] < low))
			low = c->eff_dram[i];
	for (int i = 0; low > 0 && i < c->n_eff && c->eff_rows[i] < 2 * c->matrix_flops_per_s / low;
	     i++)
		for (int k = 0; k < AR_CAL_EFF_MID; k++) {
			c->eff_mid[i][k] = cold_point((long)c->eff_rows[i], cold, buf, dram_ws, 0,
						      &unused, err, &fail);
			if (fail)
				return -1;
		}
	return 0;
}

/* Cold points bound by reading their weights are read AR_CAL_EFF_READINGS
 * times in all (the first in the sweep, those of mid_cold_readings, the
 * others at the calibration's end), and keep the median.
 * Those whose main memory read beside the first reading off the
 * calibration's main memory reading by more than the tracking gate (the
 * host changed state in between) are measured again, up to AR_CAL_EFF_RUNS
 * times in all, keeping the reading whose main memory is nearest the
 * calibration's: the product's rate moves with the state but not in
 * proportion to main memory's (1-row products reach 0.73 of main memory in
 * the 88 GB/s state and all of it in the 50 GB/s one), so scaling
 * (ar_calibrate_normalise_eff) is left for what still disagrees. */
static int remeasure_cold_points(struct ar_calib *c, int cold, float *buf, double dram_ws,
				 struct ar_err *err)
{
	double bound = weight_bound(c);
	int fail = 0;

	for (int i = 0; i < c->n_eff && c->eff_rows[i] < bound; i++) {
		double r[AR_CAL_EFF_READINGS], unused = 0;
		int k = 1;
		r[0] = c->eff_value[i] * c->matrix_flops_per_s;
		for (int j = 0; j < AR_CAL_EFF_MID; j++)
			if (c->eff_mid[i][j] > 0)
				r[k++] = c->eff_mid[i][j];
		for (; k < AR_CAL_EFF_READINGS && !fail; k++)
			r[k] = cold_point((long)c->eff_rows[i], cold, buf, dram_ws, 0, &unused, err,
					  &fail);
		if (fail)
			return -1;
		c->eff_value[i] = fmin(1.0, median_of(r, AR_CAL_EFF_READINGS) / c->matrix_flops_per_s);
		c->eff_readings[i] = AR_CAL_EFF_READINGS;
	}
	for (int i = 0; i < c->n_eff && c->eff_rows[i] < bound; i++) {
		double off = c->eff_dram[i] > 0 ? fabs(log(c->eff_dram[i] / c->dram_read_bw)) : 0;
		while (off > log(AR_TRACK_GATE) && c->eff_runs[i] < AR_CAL_EFF_RUNS) {
			double dram = 0, r = cold_point((long)c->eff_rows[i], cold, buf, dram_ws, 1,
							&dram, err, &fail);
			if (fail)
				return -1;
			c->eff_runs[i]++;
			if (dram > 0 && fabs(log(dram / c->dram_read_bw)) < off) {
				off = fabs(log(dram / c->dram_read_bw));
				c->eff_dram[i] = dram;
				c->eff_value[i] = fmin(1.0, r / c->matrix_flops_per_s);
				c->eff_readings[i] = 1;
			}
		}
	}
	return 0;
}

/* r[1 ..] of AR_CAL_EFF_READINGS readings of m x K x N products through
 * `copies` weight matrices in turn beside r[0]; *frac = the median reading
 * as a share of `peak`, at most 1 */
static int more_readings(double *r, long m, long K, long N, int copies, double peak,
			 double *frac, struct ar_err *err)
{
	double med[AR_CAL_EFF_READINGS];
	int fail = 0;

	for (int k = 1; k < AR_CAL_EFF_READINGS; k++)
		r[k] = gemm_rate_cold(m, K, N, copies, 9, NULL, 0, NULL, err, &fail);
	if (fail)
		return -1;
	memcpy(med, r, sizeof(med));
	*frac = fmin(1.0, median_of(med, AR_CAL_EFF_READINGS) / peak);
	return 0;
}

/* The cached and near points bound by reading their weights, read
 * AR_CAL_EFF_READINGS times in all as the cold ones are (the others near the
 * calibration's end), keep the median reading, or the curve below them
 * where it is higher: a full grid had its small models' 1-row products
 * predicted 45-80 % slow, the near curve's 1-row point, read once, the
 * likely cause */
static int reread_cache_points(struct ar_calib *c, struct ar_err *err)
{
	double f;

	for (int i = 0; i < c->n_eff_cached; i++) {
		if (c->eff_cached_reading[i][0] <= 0)
			continue;
		if (more_readings(c->eff_cached_reading[i], (long)c->eff_rows[i], AR_CAL_K_EFF_CACHED,
				  c->eff_cached_cols, c->eff_cached_copies, c->matrix_flops_per_s, &f,
				  err))
			return -1;
		c->eff_cached_value[i] = fmax(c->eff_value[i], f);
	}
	for (int i = 0; i < c->n_eff_near; i++) {
		f = 0;
		if (c->eff_near_reading[i][0] > 0 &&
		    more_readings(c->eff_near_reading[i], (long)c->eff_rows[i], AR_CAL_K_EFF_NEAR,
				  c->eff_near_cols, c->eff_near_copies, c->matrix_flops_per_s, &f, err))
			return -1;
		c->eff_near_value[i] = fmax(c->eff_cached_value[i],
					    c->eff_near_reading[i][0] > 0 ? f : c->eff_near_value[i]);
	}
	return 0;
}

static int calibrate_once(struct ar_calib *c, int threads, struct ar_err *err)
{
	double t_start = now_s();
	int fail = 0;
	time_t tt = time(NULL);
	struct tm tm;

	memset(c, 0, sizeof(*c));
	localtime_r(&tt, &tm);
	strftime(c->date, sizeof(c->date), "%Y-%m-%d", &tm);
	cpu_name(c->cpu, sizeof(c->cpu));
	c->threads = ar_kernels_set_threads(threads);

	/* 1. matrix peak: a large square product, a model-shaped one (prefill of
	 * 512 tokens through a 1280 → 3584 projection) and a thin one */
	c->gemm_large_flops_per_s = gemm_rate(2048, 2048, 2048, 3, err, &fail);
	c->gemm_model_flops_per_s = gemm_rate(512, 1280, 3584, 3, err, &fail);
	c->gemm_thin_flops_per_s = gemm_rate(64, 768, 2304, 5, err, &fail);
	if (fail)
		return -1;
	c->matrix_flops_per_s = fmax(c->gemm_large_flops_per_s, c->gemm_model_flops_per_s);
	/* efficiency by rows: products of m rows through model-sized weights
	 * (8 MB each) that come from main memory as a model's do, as a fraction
	 * of the peak: what the kernels make of few rows, stalls included.  The
	 * weights in turn add up to four times the usable last-level cache (at least
	 * AR_CAL_COPIES_EFF of them): a victim cache keeps part of a set twice
	 * its size, and 2-row products read a 64 MB cycle 15 % faster than a
	 * model's 98 MB head.  Up to 64 rows BLAS's packing of the weights
	 * still waits on main memory (16 rows through two copies the cache held
	 * read 0.69 of the peak where a model's cold 16-row products reach
	 * 0.52), and still up to 256 rows (128 rows through two copies 224
	 * GFLOP/s, cold 204; 256 rows 239 and 227 on the Xeon guest); from
	 * 512 rows on two copies serve. */
	double l3_nominal = cache_size(_SC_LEVEL3_CACHE_SIZE, 3, "L3");
	double l2_all = cache_size(_SC_LEVEL2_CACHE_SIZE, 2, "L2") * c->threads;
	/* "beyond the cache": four times its usable capacity (at least 32 MB),
	 * not the capacity the system states, which a guest may not get */
	double llc_use = l3_nominal;
	if (l3_nominal > l2_all && l2_all > 0 &&
	    (llc_use = usable_llc_probe(l2_all, l3_nominal)) <= 0)
		return ar_errf(err, NULL, 0, 0, "cannot allocate the bandwidth probe");
	c->llc_probe_bytes = llc_use;
	double beyond = 4 * fmax(llc_use, 32e6);
	/* main memory's probe buffer (step 3), read beside the cold points too */
	double dram_ws = fmax(256e6, 2 * beyond);
	float *buf = ar_exec_alloc((size_t)dram_ws);
	if (!buf)
		return ar_errf(err, NULL, 0, 0, "cannot allocate %.0f MB for the bandwidth probe",
			       dram_ws / 1e6);
	fill(buf, (long)(dram_ws / sizeof(float)));
	int cold = (int)fmax(AR_CAL_COPIES_EFF, ceil(beyond / (4.0 * AR_CAL_K_EFF * AR_CAL_N_EFF)));
	c->eff_copies = cold;
	for (long m = 1; m <= AR_CAL_MAX_ROWS_EFF && c->n_eff < AR_CAL_MAX_SWEEP; m *= 2) {
		double r = cold_point(m, cold, buf, dram_ws, 1, &c->eff_dram[c->n_eff], err, &fail);
		if (fail) {
			free(buf);
			return -1;
		}
		c->eff_rows[c->n_eff] = (double)m;
		c->eff_value[c->n_eff] = fmin(1.0, r / c->matrix_flops_per_s);
		c->eff_runs[c->n_eff] = 1;
		c->eff_readings[c->n_eff] = 1;
		c->n_eff++;
	}

	/* decode attention: the kernel's own rate over K/V from memory */
	/* (its K/V caches in turn, four times the last-level cache in all) */
	int cold_kv = (int)fmax(AR_CAL_COPIES_ATTN,
				ceil(beyond / (8.0 * AR_CAL_KEYS_ATTN * AR_CAL_KH_ATTN * AR_CAL_D_ATTN)));
	c->attn_copies = cold_kv;
	/* each call after a read of the usable last-level cache (at least 8 MB) */
	struct ar_between between = { .buf = buf, .floats = (long)(dram_ws / sizeof(float)),
				      .per = (long)(fmin(dram_ws / 2, fmax(8e6, llc_use)) /
						    sizeof(float)) };
	c->attn_between_bytes = (double)between.per * sizeof(float);
	c->decode_attn_flops_per_s = decode_attn_rate(AR_CAL_KEYS_ATTN, AR_CAL_D_ATTN, AR_CAL_KH_ATTN,
						      cold_kv, 3, &between, err, &fail);
	c->decode_attn_probe_flops_per_s = c->decode_attn_flops_per_s;
	/* ... and with one map per key head, whose kernel does a fourth of the
	 * arithmetic per K/V byte and reads main memory faster (8 maps over 8
	 * key heads at 1024 keys 22-24 GB/s, over 2 at 4096 keys 21.6-22 on
	 * the Xeon guest) */
	c->decode_attn_one_flops_per_s =
		fail ? 0 : one_map_rate(AR_CAL_KEYS_ATTN_ONE, beyond, 3, &between, err, &fail);
	/* ... and at AR_CAL_KEYS_ATTN_SHORT keys: t0 of K/V from main memory,
	 * whose streams all start there (8 maps over 8 or 3 key heads of 64 at
	 * 128-1024 keys: t0 8.7-9.4 us, where K/V in the L3 give 3) */
	c->decode_attn_one_short_flops_per_s =
		fail ? 0 : one_map_rate(AR_CAL_KEYS_ATTN_SHORT, beyond, 5, &between, err, &fail);
	/* ... over K/V a cache holds, at head dims 32, 64 and 128: each score
	 * costs a share of its own (the sum across lanes, the exponential)
	 * besides its d multiply-adds, so that the rate at d is rate·d/(d + d0);
	 * d0 from the rates at 32 and 128, both rates stated for long heads */
	double r_d[3];
	for (int i = 0; i < 3; i++) {
		/* K/V caches in turn that fill half the last-level cache, as a
		 * model's K/V there are (one alone would stay in a core's L2) */
		long d = 32L << i;
		double per = 8.0 * AR_CAL_KEYS_ATTN_CACHED * AR_CAL_KH_ATTN * d;
		int n = (int)fmax(1, floor(llc_use / 2 / per));
		r_d[i] = decode_attn_rate(AR_CAL_KEYS_ATTN_CACHED, d, AR_CAL_KH_ATTN, n, 9, NULL, err,
					  &fail);
	}
	/* ... and with one map per key head (the 8 maps over 8 key heads, head
	 * dim 64): every K/V row read has a cost of its own that the maps and
	 * value heads using it divide, so that the rate at I FLOPs per K/V
	 * element read is rate·I/(I + I0); I0 from the two probes' intensities
	 * (g maps per key head: g·(4d + 5)/(2d)), the rates stated for high
	 * intensity */
	double per1 = 8.0 * AR_CAL_KEYS_ATTN_CACHED * AR_CAL_MAPS_ATTN * AR_CAL_D_ATTN;
	double r_g1 = fail ? 0
		: decode_attn_rate(AR_CAL_KEYS_ATTN_CACHED, AR_CAL_D_ATTN, AR_CAL_MAPS_ATTN,
				   (int)fmax(1, floor(llc_use / 2 / per1)), 9, NULL, err, &fail);
	/* ... and over AR_CAL_KEYS_ATTN_SHORT keys: the kernel's time is
	 * t0 + (keys)·c, and t0 (its set-up, the merge of key ranges split over
	 * threads) from the two lengths; every rate is then that of the keys
	 * alone */
	double per_short = 8.0 * AR_CAL_KEYS_ATTN_SHORT * AR_CAL_KH_ATTN * AR_CAL_D_ATTN;
	double r_s = fail ? 0
		: decode_attn_rate(AR_CAL_KEYS_ATTN_SHORT, AR_CAL_D_ATTN, AR_CAL_KH_ATTN,
				   (int)fmax(1, floor(llc_use / 2 / per_short)), 15, NULL, err,
				   &fail);
	/* ... and the head dim 64 probe again over K/V caches in turn filling
	 * half of the cores' L2 together, as a small model's K/V there are */
	double per_near = 8.0 * AR_CAL_KEYS_ATTN_CACHED * AR_CAL_KH_ATTN * AR_CAL_D_ATTN;
	int n_near = (int)floor(l2_all / 2 / per_near);
	double r_near = fail || n_near < 1 ? 0
		: decode_attn_rate(AR_CAL_KEYS_ATTN_CACHED, AR_CAL_D_ATTN, AR_CAL_KH_ATTN, n_near, 9,
				   NULL, err, &fail);
	/* ... and over AR_CAL_KEYS_ATTN_SHORT keys there too: the fixed time
	 * of K/V in the L2, without the start of streams from the L3 */
	int n_near_short = (int)floor(l2_all / 2 / per_short);
	double r_near_s = fail || r_near <= 0 || n_near_short < 1 ? 0
		: decode_attn_rate(AR_CAL_KEYS_ATTN_SHORT, AR_CAL_D_ATTN, AR_CAL_KH_ATTN,
				   n_near_short, 15, NULL, err, &fail);
	if (fail) {
		free(buf);
		return -1;
	}
	c->decode_attn_near_copies = n_near;
	c->decode_attn_near_short_copies = n_near_short;
	c->decode_attn_cached_bytes = per_near * fmax(1, floor(llc_use / 2 / per_near));
	const double f_key = AR_CAL_MAPS_ATTN * (4.0 * AR_CAL_D_ATTN + 5); /* FLOPs per key */
	double t_fix = c->decode_attn_t0_s = decode_t0(f_key / r_s, f_key / r_d[1]);
	c->decode_attn_memory_t0_s =
		c->decode_attn_one_short_flops_per_s > 0 && c->decode_attn_one_flops_per_s > 0
			? decode_t0(f_key / c->decode_attn_one_short_flops_per_s,
				    f_key / c->decode_attn_one_flops_per_s)
			: 0;
	double t_fix_near = c->decode_attn_near_t0_s =
		r_near_s > 0 ? decode_t0(f_key / r_near_s, f_key / r_near) : t_fix;
	/* rate of the keys alone: FLOPs / (time − t0) */
	double *rs[] = { &r_d[0], &r_d[1], &r_d[2], &r_g1, &r_near, &c->decode_attn_flops_per_s };
	for (int i = 0; i < 6; i++)
		if (*rs[i] > 0) {
			double t_i = 1.0 / *rs[i]; /* seconds per FLOP */
			long keys = i == 5 ? AR_CAL_KEYS_ATTN : AR_CAL_KEYS_ATTN_CACHED;
			double d = i < 3 ? (double)(32L << i) : AR_CAL_D_ATTN;
			double flops = AR_CAL_MAPS_ATTN * keys * (4.0 * d + 5);
			double t = flops * t_i;
			double fix = i == 4 ? t_fix_near : t_fix;
			*rs[i] = flops / fmax(0.5 * t, t - fix);
		}
	double r32 = r_d[0], r64 = r_d[1], r128 = r_d[2];
	const double i1 = (4.0 * AR_CAL_D_ATTN + 5) / (2.0 * AR_CAL_D_ATTN),
		     i_probe = i1 * AR_CAL_MAPS_ATTN / AR_CAL_KH_ATTN;
	c->decode_attn_head_dim_half = fmin(1e4, fmax(0, ar_calibrate_half(r32 / r128, 32, 128)));
	c->decode_attn_intensity_half =
		fmin(1e4, fmax(0, ar_calibrate_half(r_g1 / r64, i1, i_probe)));
	double long_head = (AR_CAL_D_ATTN + c->decode_attn_head_dim_half) / AR_CAL_D_ATTN *
			   (i_probe + c->decode_attn_intensity_half) / i_probe;
	c->decode_attn_cached_flops_per_s = r64 * long_head;
	/* a cache nearer the cores does not slow the kernel down */
	c->decode_attn_near_flops_per_s = r_near > 0 ? fmax(r_near, r64) * long_head : 0;
	c->decode_attn_flops_per_s *= long_head;
	if (fail || mid_cold_readings(c, cold, buf, dram_ws, err)) {
		free(buf);
		return -1;
	}

	/* 2. vector unit: FMA chains, exp and softmax on in-cache data */
	double ts[5];
	for (int r = 0; r < 3; r++) {
		double t0 = now_s();
		volatile float s = ar_kernels_fma_probe(2000000);
		(void)s;
		ts[r] = now_s() - t0;
	}
	c->fma_flops_per_s = 2.0 * 64 * 2000000 * c->threads / median_of(ts, 3);
	enum { NV = 16384 }; /* per thread: large enough that the softmax runs in parallel */
	float *v = malloc(sizeof(float) * NV * c->threads * 2);
	if (!v) {
		free(buf);
		return ar_errf(err, NULL, 0, 0, "cannot allocate the vector probes");
	}
	long nv = (long)NV * c->threads;
	fill(v, nv);
	for (int r = 0; r < 5; r++) {
		double t0 = now_s();
		for (int i = 0; i < 200; i++)
			ar_kernels_exp(v + nv, v, nv);
		ts[r] = now_s() - t0;
	}
	c->exp_per_s = 200.0 * nv / median_of(ts, 5);
	for (int r = 0; r < 5; r++) {
		fill(v, nv);
		double t0 = now_s();
		for (int i = 0; i < 200; i++)
			ar_kernels_softmax(v, nv / 1024, 1, 1024, 0);
		ts[r] = now_s() - t0;
	}
	free(v);
	c->softmax_flops_per_s = 5.0 * 200 * nv / median_of(ts, 5);
	/* the vector peak is what arithmetic attains, the exponentials go at
	 * their own rate (exp_per_s); the softmax rate is kept for the record */
	c->vector_flops_per_s = c->fma_flops_per_s;

	/* 3. memory: read bandwidth over growing working sets; each cache level
	 * is measured at half its capacity (all cores' private caches together) */
	double l1 = cache_size(_SC_LEVEL1_DCACHE_SIZE, 0, "L1") * c->threads;
	double l2 = l2_all, l3 = l3_nominal;
	/* Main memory, read between every fourth working set and after them:
	 * the median of AR_CAL_DRAM_READS readings over a quarter of a second.
	 * On a shared host main memory dips by 20 % for 50-120 ms every second
	 * or two; one reading caught in a dip (42 GB/s where the products
	 * beside it read 51) had put every decode point 10-27 % slow. */
	double dram[AR_CAL_DRAM_READS];
	int n_dram = 0;
	for (double ws = 8192; ws <= dram_ws && c->n_sweep < AR_CAL_MAX_SWEEP; ws *= 2) {
		if (c->n_sweep % 4 == 0 && n_dram < AR_CAL_DRAM_READS)
			dram[n_dram++] = read_bw(buf, dram_ws);
		c->sweep_bytes[c->n_sweep] = ws;
		c->sweep_bw[c->n_sweep] = read_bw(buf, ws);
		c->n_sweep++;
	}
	while (n_dram < AR_CAL_DRAM_READS)
		dram[n_dram++] = read_bw(buf, dram_ws);
	c->onchip_bytes = l2 / c->threads;
	snprintf(c->level_name[0], 16, "DRAM");
	c->level_bytes[0] = phys_bytes();
	/* the plain reads' median is the level's bandwidth; a 1-row product through the
	 * same bytes is recorded beside it (OpenBLAS's matrix-vector kernel can
	 * read faster than the executor's other kernels do) */
	c->dram_read_bw = median_of(dram, n_dram);
	c->dram_gemv_bw = gemv_bw(buf, dram_ws, err, &fail);
	if (fail) {
		free(buf);
		return -1;
	}
	c->level_bw[0] = c->dram_read_bw;
	if (remeasure_cold_points(c, cold, buf, dram_ws, err)) {
		free(buf);
		return -1;
	}
	ar_calibrate_normalise_eff(c);
	c->n_levels = 1;
	const char *names[3] = { "L3", "L2", "L1" };
	double caps[3] = { l3, l2, l1 };
	/* The last-level cache is shared with whatever else runs: its usable
	 * capacity is the largest swept working set that still reads at no less
	 * than √(its best rate · main memory's rate), the midpoint in log. */
	c->llc_nominal_bytes = l3;
	if (l3 > l2 && l2 > 0)
		caps[0] = usable_llc(c->sweep_bytes, c->sweep_bw, c->n_sweep, l2, l3, c->level_bw[0]);
	for (int i = 0; i < 3; i++)
		if (caps[i] > 0 && caps[i] < c->level_bytes[c->n_levels - 1]) {
			snprintf(c->level_name[c->n_levels], 16, "%s", names[i]);
			c->level_bytes[c->n_levels] = caps[i];
			c->level_bw[c->n_levels] = read_bw(buf, caps[i] / 2);
			c->n_levels++;
		}

	/* 4. the matrix efficiency curve again, through weight matrices that
	 * stay in the last-level cache (a third of its usable capacity in all,
	 * in turn: one alone would stay in the cores' L2, where a model's
	 * weights are not), as a small model's weights do: what few rows attain
	 * when the weights do not come from main memory.  Where the weights live matters only
	 * while a product is bound by reading them: m rows do m/2 FLOPs per fp32
	 * weight byte, so below m = 2·peak / main memory bandwidth.  From there
	 * up to AR_CAL_ROWS_COLD rows, where the cold curve's packing still waits
	 * on main memory, the curve's own shape through weights in the cache (a third
	 * of it, at least one matrix): 32 and 64 rows read 10-25 % faster
	 * there.  Beyond, and wherever the cached reading is the lower (the
	 * machine's noise: a cache does not slow a product down), the
	 * main-memory curve stands. */
	double llc = c->n_levels > 1 ? c->level_bytes[1] : 0;
	double m_bound = 2 * c->matrix_flops_per_s / c->level_bw[0];
	long cols = (long)fmin(AR_CAL_N_EFF_CACHED, llc / 3 / (4.0 * AR_CAL_K_EFF_CACHED)) / 64 * 64;
	if (cols >= 64 && c->n_eff > 0) {
		int copies = (int)fmax(2, floor(llc / 3 / (4.0 * AR_CAL_K_EFF_CACHED * cols)));
		c->eff_cached_cols = cols;
		c->eff_cached_copies = copies;
		for (int i = 0; i < c->n_eff; i++) {
			double m = c->eff_rows[i], e = c->eff_value[i];
			if (m < m_bound || m <= AR_CAL_ROWS_COLD) {
				int warm = (int)fmax(1, floor(llc / 3 / (4.0 * AR_CAL_K_EFF * AR_CAL_N_EFF)));
				double r = m < m_bound
					? gemm_rate_cold((long)m, AR_CAL_K_EFF_CACHED, cols, copies, 9,
							 NULL, 0, NULL, err, &fail)
					: gemm_rate_cold((long)m, AR_CAL_K_EFF, AR_CAL_N_EFF, warm, 9,
							 NULL, 0, NULL, err, &fail);
				if (fail) {
					free(buf);
					return -1;
				}
				e = fmax(e, fmin(1.0, r / c->matrix_flops_per_s));
				c->eff_cached_warm[c->n_eff_cached] = m < m_bound ? 0 : warm;
				if (m < m_bound)
					c->eff_cached_reading[c->n_eff_cached][0] = r;
			}
			c->eff_cached_value[c->n_eff_cached++] = e;
		}
	}
	/* ... and through weights the cores' own caches hold (half of their L2
	 * together, in turn), as a model small enough for them has its: one row
	 * streams them at twice its rate from the L3 here, while four rows and
	 * more are bound by the kernel's arithmetic wherever the weights are.
	 * The cached curve stands wherever it reads higher. */
	long near_n = (long)fmin(AR_CAL_N_EFF_NEAR, l2 / 2 / (4.0 * AR_CAL_K_EFF_NEAR)) / 64 * 64;
	if (near_n >= 64 && c->n_eff_cached > 0 && c->n_levels > 2) {
		int copies = (int)fmax(1, floor(l2 / 2 / (4.0 * AR_CAL_K_EFF_NEAR * near_n)));
		c->eff_near_cols = near_n;
		c->eff_near_copies = copies;
		for (int i = 0; i < c->n_eff_cached; i++) {
			double m = c->eff_rows[i], e = c->eff_cached_value[i];
			if (m < m_bound) {
				double r = gemm_rate_cold((long)m, AR_CAL_K_EFF_NEAR, near_n, copies, 9,
							  NULL, 0, NULL, err, &fail);
				if (fail) {
					free(buf);
					return -1;
				}
				e = fmax(e, fmin(1.0, r / c->matrix_flops_per_s));
				c->eff_near_reading[c->n_eff_near][0] = r;
			}
			c->eff_near_value[c->n_eff_near++] = e;
		}
	}

	/* 4b. the products' shape: warm products of AR_CAL_ROWS_SHAPE rows at
	 * the curve's shape (K_EFF, N_EFF), with a short inner dimension and
	 * with few columns (AR_CAL_SHAPE_SHORT each): a product's rate at K is
	 * rate·K/(K + k0), at N rate·N/(N + n0), each taken relative to the
	 * curve's shape (ar_hw_matrix_shape) */
	/* ... and the same at AR_CAL_ROWS_SHAPE_MANY rows: the half-points there
	 * against those of ROWS_SHAPE rows give their power of the rows */
	{
		const long K[3] = { AR_CAL_K_EFF, AR_CAL_SHAPE_SHORT, AR_CAL_K_EFF };
		const long N[3] = { AR_CAL_N_EFF, AR_CAL_N_EFF, AR_CAL_SHAPE_SHORT };
		const long rows[2] = { AR_CAL_ROWS_SHAPE, AR_CAL_ROWS_SHAPE_MANY };
		double k0[2], n0[2];
		for (int r = 0; r < 2; r++) {
			double *rate = c->shape_rate + 3 * r;
			if (shape_rates(rows[r], K, N, 3, 15, rate, err)) {
				free(buf);
				return -1;
			}
			k0[r] = fmin(1e4, fmax(0, ar_calibrate_half(rate[1] / rate[0],
								    AR_CAL_SHAPE_SHORT, AR_CAL_K_EFF)));
			n0[r] = fmin(1e4, fmax(0, ar_calibrate_half(rate[2] / rate[0],
								    AR_CAL_SHAPE_SHORT, AR_CAL_N_EFF)));
		}
		c->matrix_inner_half = k0[0];
		c->matrix_cols_half = n0[0];
		c->matrix_inner_half_power = ar_calibrate_half_power(k0[0], k0[1], rows[0], rows[1]);
		c->matrix_cols_half_power = ar_calibrate_half_power(n0[0], n0[1], rows[0], rows[1]);
	}

	/* 4c. short inner dimensions through weights from main memory: BLAS
	 * packs each weight row as a stream of its own, and short rows are
	 * short streams, so cold products lose far more to a short K than warm
	 * ones (on the Xeon guest 32 x 256 x 2048 at 0.58 of the 1024 rate
	 * cold, 0.94 warm); the factors at COLD_ROWS rows, and from COLD_ROWS_MANY
	 * rows the power of the rows their shortfall falls with, that of the
	 * shorter K (at COLD_K_MID the shortfall is a few hundredths, within the
	 * noise: 0.05-0.08 at both row counts in two calibrations) */
	{
		const long K[3] = { AR_CAL_COLD_K_SHORT, AR_CAL_COLD_K_MID, AR_CAL_K_EFF };
		const long rows[2] = { AR_CAL_COLD_ROWS, AR_CAL_COLD_ROWS_MANY };
		if (cold_inner_rates(rows, 2, K, 3, beyond, 3, c->cold_copies, c->cold_rate, err)) {
			free(buf);
			return -1;
		}
		for (int i = 0; i < 2; i++)
			c->inner_cold[i] = fmax(1e-4, fmin(1, c->cold_rate[i] / c->cold_rate[2]));
		c->inner_cold_power = ar_calibrate_half_power(
			1 - c->inner_cold[0], 1 - fmin(1, c->cold_rate[3] / c->cold_rate[5]), rows[0],
			rows[1]);
	}

	/* causal flash prefill, its tiles sized from the on-chip memory per core,
	 * at head dims 32, 64 and 128: the rate at d is rate·d/(d + d0) as in
	 * decode (its products' inner dimension is the head dim); and at
	 * AR_CAL_SEQ_PREFILL_SHORT positions, head dim 64: the rate at S
	 * positions is rate·S/(S + s0).  Stated for long heads and sequences */
	long tile_d[3], tile_s;
	double rp[3];
	for (int i = 0; i < 3; i++)
		rp[i] = prefill_attn_rate(c->onchip_bytes, AR_CAL_SEQ_PREFILL, 32L << i, 1, 3, &tile_d[i],
					  NULL, err, &fail);
	double r_short = fail ? 0
		: prefill_attn_rate(c->onchip_bytes, AR_CAL_SEQ_PREFILL_SHORT, AR_CAL_D_ATTN, 1, 15,
				    &tile_s, NULL, err, &fail);
	/* ... and at AR_CAL_SEQ_PREFILL_TINY positions: what it takes beyond its
	 * FLOPs at the rate so stated is the kernel's fixed time (step 5) */
	double r_tiny = fail ? 0
		: prefill_attn_rate(c->onchip_bytes, AR_CAL_SEQ_PREFILL_TINY, AR_CAL_D_ATTN, 1, 15,
				    &tile_s, &c->prefill_attn_tiny_flops, err, &fail);
	c->prefill_attn_tiny_s = r_tiny > 0 ? c->prefill_attn_tiny_flops / r_tiny : 0;
	/* ... and with AR_CAL_PREFILL_PER_MAP outputs on each map (as GVA, GHA
	 * and GTA have several): what each output beyond the first adds */
	long tile_a;
	double r_a = fail ? 0
		: prefill_attn_rate(c->onchip_bytes, AR_CAL_SEQ_PREFILL, AR_CAL_D_ATTN,
				    AR_CAL_PREFILL_PER_MAP, 3, &tile_a, &c->prefill_attn_per_map_flops,
				    err, &fail);
	if (fail) {
		free(buf);
		return -1;
	}
	c->prefill_attn_head_dim_half = fmin(1e4, fmax(0, ar_calibrate_half(rp[0] / rp[2], 32, 128)));
	c->prefill_attn_seq_half = fmin(1e4, fmax(0, ar_calibrate_half(r_short / rp[1],
								       AR_CAL_SEQ_PREFILL_SHORT,
								       AR_CAL_SEQ_PREFILL)));
	c->prefill_attn_tile = tile_d[1];
	c->prefill_attn_flops_per_s = rp[1] *
		(AR_CAL_D_ATTN + c->prefill_attn_head_dim_half) / AR_CAL_D_ATTN *
		(AR_CAL_SEQ_PREFILL + c->prefill_attn_seq_half) / AR_CAL_SEQ_PREFILL;
	c->prefill_attn_per_map_s = r_a > 0 ? c->prefill_attn_per_map_flops / r_a : 0;
	c->prefill_attn_output_share = ar_calibrate_output_share(c);

	/* 5. per-op overhead (op_chain); the decode kernel's fixed time beyond it */
	c->overhead_s = op_chain(67);
	c->round_trip_s = ar_kernels_round_trip(2048);
	c->handoff_add_s = handoff_add_s(67);
	c->handoff_bw = c->handoff_add_s > c->overhead_s
		? 3.0 * sizeof(float) * AR_CAL_HANDOFF_ROWS * AR_CAL_HANDOFF_WIDTH /
			  (c->handoff_add_s - c->overhead_s)
		: 0;
	c->decode_attn_fixed_s = fmax(0, c->decode_attn_t0_s - c->overhead_s);
	c->decode_attn_near_fixed_s = c->decode_attn_near_flops_per_s > 0
		? fmax(0, c->decode_attn_near_t0_s - c->overhead_s) : 0;
	c->prefill_attn_fixed_s = ar_calibrate_prefill_fixed(c);
	/* the decode probe's K/V bytes per second against main memory's read */
	if (c->dram_read_bw > 0) {
		c->decode_attn_memory_share = c->decode_attn_probe_flops_per_s /
					      decode_probe_flops_per_byte(AR_CAL_KH_ATTN) /
					      c->dram_read_bw;
		c->decode_attn_memory_share_one = c->decode_attn_one_flops_per_s /
						  decode_probe_flops_per_byte(AR_CAL_MAPS_ATTN) /
						  c->dram_read_bw;
		/* with the fixed time of K/V from main memory (the model adds it
		 * to the op), the shares are those of the keys' time alone */
		if (c->decode_attn_memory_t0_s > 0) {
			double f4 = AR_CAL_MAPS_ATTN * (4.0 * AR_CAL_D_ATTN + 5) * AR_CAL_KEYS_ATTN;
			double f1 = AR_CAL_MAPS_ATTN * (4.0 * AR_CAL_D_ATTN + 5) * AR_CAL_KEYS_ATTN_ONE;
			double t4 = f4 / c->decode_attn_probe_flops_per_s;
			double t1 = f1 / c->decode_attn_one_flops_per_s;
			c->decode_attn_memory_share *= t4 / (t4 - fmin(c->decode_attn_memory_t0_s, 0.5 * t4));
			c->decode_attn_memory_share_one *=
				t1 / (t1 - fmin(c->decode_attn_memory_t0_s, 0.5 * t1));
		}
	}
	c->decode_attn_memory_fixed_s = c->decode_attn_memory_t0_s > 0
		? fmax(0, c->decode_attn_memory_t0_s - c->overhead_s) : 0;

	if (reread_cache_points(c, err)) {
		free(buf);
		return -1;
	}
	/* 6. main memory read again (step 3's buffer): the check that the
	 * machine stayed in one state while the probes ran */
	c->dram_read_bw_end = read_bw(buf, dram_ws);
	free(buf);

	/* 7. validate's tracking probe, sized as it will be for this
	 * descriptor (its largest cache): the reference for later readings */
	struct ar_probe probe;
	struct ar_ceilings seen[AR_CAL_PROBE_RUNS], med;
	double cache = 0;
	for (int i = 1; i < c->n_levels; i++)
		cache = fmax(cache, c->level_bytes[i]);
	if (probe_alloc(&probe, c->n_levels, cache, err))
		return -1;
	for (int i = 0; i < AR_CAL_PROBE_RUNS; i++)
		ar_probe_run(&probe, &seen[i]);
	ar_probe_release(&probe);
	ar_ceilings_median(&med, seen, AR_CAL_PROBE_RUNS);
	c->probe_matrix_flops_per_s = med.matrix_flops_per_s;
	c->probe_dram_bytes_per_s = med.bw_bytes_per_s[0];
	c->probe_overhead_s = med.overhead_s;
	c->wall_s = now_s() - t_start;
	return 0;
}

const char *ar_calibrate_disagreement(const struct ar_calib *c)
{
	const double per_byte = decode_probe_flops_per_byte(AR_CAL_KH_ATTN);
	const double per_byte_one = decode_probe_flops_per_byte(AR_CAL_MAPS_ATTN);

	if (c->dram_read_bw > 0 && fabs(log(c->dram_read_bw_end / c->dram_read_bw)) > log(1.2))
		return "main memory read differently at the end";
	if (c->fma_flops_per_s < 0.4 * c->matrix_flops_per_s)
		return "the FMA chains read far below the matrix peak";
	if (c->matrix_flops_per_s < 0.4 * c->fma_flops_per_s)
		return "the matrix products read far below the FMA chains";
	if (c->decode_attn_probe_flops_per_s > 0 &&
	    c->decode_attn_probe_flops_per_s < 0.25 * per_byte * c->dram_read_bw)
		return "the decode attention probe read far below main memory's bandwidth";
	if (c->decode_attn_one_flops_per_s > 0 &&
	    c->decode_attn_one_flops_per_s < 0.25 * per_byte_one * c->dram_read_bw)
		return "the decode attention probe with one map per key head read far below main memory's bandwidth";
	/* a cold product well inside the bound of its weights (rows below half
	 * of 2·peak / bandwidth: m rows do m/2 FLOPs per weight byte) reads them
	 * at 0.7–1 of main memory here; one interrupted point at 0.37 put a
	 * validation's 1-row products 2.7x slow */
	for (int i = 0; i < c->n_eff && c->dram_read_bw > 0; i++)
		if (c->eff_rows[i] < c->matrix_flops_per_s / c->dram_read_bw &&
		    c->eff_value[i] * c->matrix_flops_per_s * 2 / c->eff_rows[i] <
			    0.5 * c->dram_read_bw)
			return "a cold product read its weights far below main memory's bandwidth";
	/* each attention rate's half-rate points from two probes */
	if (c->decode_attn_head_dim_half > AR_CAL_HALF_SANE)
		return "the decode attention probes at head dims 32 and 128 read nearly alike";
	if (c->decode_attn_intensity_half > AR_CAL_HALF_SANE)
		return "the decode attention probes at 1 and 4 maps per key head read nearly alike";
	if (c->prefill_attn_head_dim_half > AR_CAL_HALF_SANE)
		return "the prefill attention probes at head dims 32 and 128 read nearly alike";
	if (c->matrix_inner_half > AR_CAL_HALF_SANE)
		return "the products with a short inner dimension read nearly as fast as long ones";
	if (c->matrix_cols_half > AR_CAL_HALF_SANE)
		return "the products with few columns read nearly as fast as wide ones";
	if (c->prefill_attn_seq_half > AR_CAL_HALF_SANE)
		return "the prefill attention probes at 128 and 1024 positions read nearly alike";
	/* the tracking probe at the end is the reference of every later
	 * reading: it must see the state the rest was measured in */
	if (c->probe_overhead_s > 0 && c->overhead_s > 0 &&
	    fabs(log(c->probe_overhead_s / c->overhead_s)) > log(AR_STATE_GATE_OVERHEAD))
		return "the tracking probe's dispatch read another state";
	if (c->probe_matrix_flops_per_s > 0 && c->matrix_flops_per_s > 0 &&
	    fabs(log(c->probe_matrix_flops_per_s / c->matrix_flops_per_s)) > log(AR_STATE_GATE_MATRIX))
		return "the tracking probe's product read another state";
	if (c->probe_dram_bytes_per_s > 0 && c->dram_read_bw_end > 0 &&
	    fabs(log(c->probe_dram_bytes_per_s / c->dram_read_bw_end)) > log(AR_STATE_GATE_MEMORY))
		return "the tracking probe's main memory read another state";
	/* the sweep's product of the most rows (512, weights in the cache)
	 * does what the tracking probe's 512-row product does, or the peak
	 * where that is lower (0.97 of the peak each on the AMD EPYC guest);
	 * a sweep another tenant disturbed read 0.55 from 32 rows up while the
	 * probe at the end read 0.87, and put a validation's small models'
	 * prefill products 20-55 % slow */
	if (c->n_eff > 0 && c->eff_rows[c->n_eff - 1] >= AR_CAL_ROWS_COLD &&
	    c->probe_matrix_flops_per_s > 0 &&
	    c->eff_value[c->n_eff - 1] * c->matrix_flops_per_s * AR_STATE_GATE_MATRIX <
		    fmin(c->probe_matrix_flops_per_s, c->matrix_flops_per_s))
		return "the products of many rows read far below the tracking probe's product";
	return NULL;
}

int ar_calibrate_run(struct ar_calib *c, int threads, struct ar_err *err)
{
	/* A shared host can switch between states whose main-memory bandwidth
	 * differs by 1.7x within seconds, and another tenant can hold the cores
	 * for a while: a descriptor whose probes straddle a switch is at odds
	 * with itself (a bandwidth from one state, the efficiency of few-row
	 * products from the other), and one whose probe was interrupted states
	 * a rate tens of times too low (a decode attention rate of 2.7e9 FLOP/s
	 * beside 34 GB/s of main memory predicted decode 100x slow).  Calibrate
	 * again while the probes disagree, at most AR_CAL_ATTEMPTS times in all. */
	double wall = 0;
	const char *why = NULL;
	for (int attempt = 1;; attempt++) {
		if (calibrate_once(c, threads, err))
			return -1;
		wall += c->wall_s;
		c->attempts = attempt;
		c->wall_s = wall;
		const char *now = ar_calibrate_disagreement(c);
		if (!now || attempt == AR_CAL_ATTEMPTS) {
			c->disagreement = now ? now : why;
			return 0;
		}
		why = now;
	}
}

int ar_calibrate_descriptor(struct ar_hw *hw, const struct ar_calib *c, const char *label,
			    struct ar_err *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return ar_errf(err, NULL, 0, 0, "out of memory");
	int ok = ar_calibrate_write_yaml(f, c, "host") == 0;
	if (fclose(f) || !ok) {
		free(text);
		return ar_errf(err, NULL, 0, 0, "out of memory");
	}
	int rc = ar_hw_parse(hw, label, text, len, err);
	free(text);
	return rc;
}

/* A disagreement of the tracking probe with the rest: its readings are no
 * reference for validate, which then reads its own when it starts (a probe
 * read while another tenant held a core, at 0.55 of the peak, had every
 * point of a quick run tracked 1.8x fast: prefill 38 % off, 5.5 % as
 * calibrated) */
static int probe_at_odds(const char *why)
{
	static const char tp[] = "the tracking probe's";

	return why && !strncmp(why, tp, sizeof(tp) - 1);
}

int ar_calibrate_write_yaml(FILE *f, const struct ar_calib *c, const char *name)
{
	char src[160];

	snprintf(src, sizeof(src), "measured %s: attnroof calibrate", c->date);
	fprintf(f, "# This machine, measured by `attnroof calibrate` with %d threads (%.1f s).\n",
		c->threads, c->wall_s);
	fprintf(f, "# matrix: best of a 2048^3 product (%.4g FLOP/s) and a 512x1280x3584 one (%.4g);\n"
		   "#   a thin 64x768x2304 product reaches %.4g.  OpenBLAS, one thread inside each OpenMP thread.\n",
		c->gemm_large_flops_per_s, c->gemm_model_flops_per_s, c->gemm_thin_flops_per_s);
	fprintf(f, "# vector: FMA chains reach %.4g FLOP/s, exp %.4g /s; an in-cache softmax %.4g FLOP/s\n"
		   "#   (5 counted FLOPs per element, one of them the exp).\n",
		c->fma_flops_per_s, c->exp_per_s, c->softmax_flops_per_s);
	const char *off = ar_calibrate_disagreement(c);
	fprintf(f, "# main memory: a plain read reaches %.4g B/s (median of %d over the cache sweep),\n"
		"#   a 1-row product %.4g B/s; read again after the other probes: %.4g B/s.\n",
		c->dram_read_bw, AR_CAL_DRAM_READS, c->dram_gemv_bw, c->dram_read_bw_end);
	if (off)
		fprintf(f, "# the probes still disagree after %d calibrations (%s): the last is kept%s.\n",
			c->attempts, off,
			probe_at_odds(off) ? ", without the tracking probe's readings" : "");
	else if (c->attempts > 1)
		fprintf(f, "# calibration %d of %d: the one before it disagreed (%s).\n", c->attempts,
			c->attempts, c->disagreement ? c->disagreement : "its probes");
	if (c->round_trip_s > 0)
		fprintf(f, "# threads: a cache line goes from one to another and back in %.0f ns (beside a\n"
			   "#   tiny op's %.0f ns: cores sharing a cache take tens of ns, across chiplets hundreds).\n",
			c->round_trip_s * 1e9, c->overhead_s * 1e9);
	if (c->llc_probe_bytes > 0)
		fprintf(f, "# sets beyond the last-level cache: four times the %.0f bytes a first sweep found\n"
			   "#   usable (at least 128 MB); the cached decode probes fill half of it.\n",
			c->llc_probe_bytes);
	fprintf(f, "# read bandwidth by working set (bytes: B/s):");
	for (int i = 0; i < c->n_sweep; i++)
		fprintf(f, "%s %.0f: %.3g", i % 4 ? "," : "\n#  ", c->sweep_bytes[i], c->sweep_bw[i]);
	fprintf(f, "\nname: %s\n", name);
	fprintf(f, "description: \"%s, %d threads (measured)\"\n", c->cpu, c->threads);
	fprintf(f, "kind: cpu\n");
	fprintf(f, "matrix_flops_per_s:\n  fp32: {value: %.6g, source: \"%s (OpenBLAS sgemm, best of 2048^3 and 512x1280x3584)\"}\n",
		c->matrix_flops_per_s, src);
	fprintf(f, "vector_flops_per_s:\n  fp32: {value: %.6g, source: \"%s (chains of 8-wide FMAs, every thread)\"}\n",
		c->vector_flops_per_s, src);
	fprintf(f, "exp_per_s: {value: %.6g, source: \"%s (the executor's exp over in-cache vectors, every thread)\"}\n",
		c->exp_per_s, src);
	fprintf(f, "memory:\n");
	for (int i = 0; i < c->n_levels; i++) {
		fprintf(f, "  - name: %s\n", c->level_name[i]);
		char how[160];
		if (i == 0)
			snprintf(how, sizeof(how), "physical memory");
		else if (!strcmp(c->level_name[i], "L3"))
			snprintf(how, sizeof(how),
				 "largest working set read at >= the log midpoint of its and DRAM bandwidth; nominal %.0f",
				 c->llc_nominal_bytes);
		else
			snprintf(how, sizeof(how), "sysconf, every core's share");
		fprintf(f, "    capacity_bytes: {value: %.0f, source: \"%s (%s)\"}\n", c->level_bytes[i],
			src, how);
		if (i == 0)
			fprintf(f, "    bw_bytes_per_s: {value: %.6g, source: \"%s (read, median of %d, working set far beyond the caches)\"}\n",
				c->level_bw[i], src, AR_CAL_DRAM_READS);
		else
			fprintf(f, "    bw_bytes_per_s: {value: %.6g, source: \"%s (read, working set half the capacity)\"}\n",
				c->level_bw[i], src);
	}
	fprintf(f, "onchip:\n  bytes_per_unit: {value: %.0f, source: \"%s (L2 of one core)\"}\n",
		c->onchip_bytes, src);
	fprintf(f, "  units: {value: %d, source: \"%s (threads used)\"}\n", c->threads, src);
	fprintf(f, "overhead_s: {value: %.4g, source: \"%s (median time of tiny ops in a chain: a norm of 128, an add of 128, a 1x64x64 product)\"}\n",
		c->overhead_s, src);
	if (c->decode_attn_flops_per_s > 0)
		fprintf(f, "decode_attention_flops_per_s: {value: %.6g, source: \"%s (decode attention kernel, 1 query x %d keys, %d maps over %d key heads of %d, %d K/V caches in turn, each call after a read of %.3g MB; stated for long heads and high intensity)\"}\n",
			c->decode_attn_flops_per_s, src, AR_CAL_KEYS_ATTN, AR_CAL_MAPS_ATTN, AR_CAL_KH_ATTN,
			AR_CAL_D_ATTN, c->attn_copies, c->attn_between_bytes / 1e6);
	if (c->decode_attn_cached_flops_per_s > 0)
		fprintf(f, "decode_attention_cached_flops_per_s: {value: %.6g, source: \"%s (the same kernel over K/V caches of %d keys in turn filling half the last-level cache; stated for long heads and high intensity)\"}\n",
			c->decode_attn_cached_flops_per_s, src, AR_CAL_KEYS_ATTN_CACHED);
	if (c->decode_attn_near_flops_per_s > 0)
		fprintf(f, "decode_attention_near_flops_per_s: {value: %.6g, source: \"%s (the same kernel over %d K/V caches of %d keys in turn filling half the cores' L2, at least the cached rate; stated for long heads and high intensity)\"}\n"
			   "decode_attention_cached_bytes: {value: %.0f, source: \"%s (the K/V caches of the cached rate's probe at head dim %d)\"}\n",
			c->decode_attn_near_flops_per_s, src, c->decode_attn_near_copies,
			AR_CAL_KEYS_ATTN_CACHED, c->decode_attn_cached_bytes, src, AR_CAL_D_ATTN);
	if (c->decode_attn_flops_per_s > 0)
		fprintf(f, "decode_attention_head_dim_half: {value: %.4g, source: \"%s (from the cached rates at head dims 32 and 128: rate x d / (d + d0))\"}\n",
			c->decode_attn_head_dim_half, src);
	if (c->decode_attn_flops_per_s > 0)
		fprintf(f, "decode_attention_fixed_s: {value: %.4g, source: \"%s (the kernel's time at %d and %d keys is t0 + keys x c: t0 = %.3g s, less the per-op overhead)\"}\n",
			c->decode_attn_fixed_s, src, AR_CAL_KEYS_ATTN_SHORT, AR_CAL_KEYS_ATTN_CACHED,
			c->decode_attn_t0_s);
	if (c->decode_attn_memory_t0_s > 0)
		fprintf(f, "decode_attention_memory_fixed_s: {value: %.4g, source: \"%s (the same over K/V from main memory, %d maps over %d key heads of %d at %d and %d keys, each call after the same read: t0 = %.3g s, less the per-op overhead)\"}\n",
			c->decode_attn_memory_fixed_s, src, AR_CAL_MAPS_ATTN, AR_CAL_MAPS_ATTN,
			AR_CAL_D_ATTN, AR_CAL_KEYS_ATTN_SHORT, AR_CAL_KEYS_ATTN_ONE,
			c->decode_attn_memory_t0_s);
	if (c->decode_attn_near_flops_per_s > 0)
		fprintf(f, "decode_attention_near_fixed_s: {value: %.4g, source: \"%s (the same over K/V in the cores' L2, %d caches of %d keys and %d of %d in turn: t0 = %.3g s, less the per-op overhead)\"}\n",
			c->decode_attn_near_fixed_s, src, c->decode_attn_near_short_copies,
			AR_CAL_KEYS_ATTN_SHORT, c->decode_attn_near_copies, AR_CAL_KEYS_ATTN_CACHED,
			c->decode_attn_near_t0_s);
	if (c->handoff_bw > 0)
		fprintf(f, "handoff_bw_bytes_per_s: {value: %.4g, source: \"%s (an add of %dx%d reading a product's output written by the other threads: 3 x %d bytes in %.3g s less the per-op overhead)\"}\n",
			c->handoff_bw, src, AR_CAL_HANDOFF_ROWS, AR_CAL_HANDOFF_WIDTH,
			(int)(AR_CAL_HANDOFF_ROWS * AR_CAL_HANDOFF_WIDTH * sizeof(float)), c->handoff_add_s);
	if (c->decode_attn_memory_share > 0)
		fprintf(f, "decode_attention_memory_share: {value: %.4g, source: \"%s (the decode probe over K/V from main memory read its K/V at this share of main memory's read bandwidth, its keys' time beside its fixed time)\"}\n",
			c->decode_attn_memory_share, src);
	if (c->decode_attn_memory_share_one > 0)
		fprintf(f, "decode_attention_memory_share_one: {value: %.4g, source: \"%s (the same with one map per key head: %d maps over %d key heads of %d, %d keys)\"}\n",
			c->decode_attn_memory_share_one, src, AR_CAL_MAPS_ATTN, AR_CAL_MAPS_ATTN,
			AR_CAL_D_ATTN, AR_CAL_KEYS_ATTN_ONE);
	if (c->probe_matrix_flops_per_s > 0 && c->probe_dram_bytes_per_s > 0 && c->probe_overhead_s > 0 &&
	    !probe_at_odds(off))
		fprintf(f, "probe_matrix_flops_per_s: {value: %.6g, source: \"%s (validate's tracking probe at the end: one 512x1024x1024 product, median of %d)\"}\n"
			   "probe_dram_bytes_per_s: {value: %.6g, source: \"%s (the same probe: one read of four times the last-level cache)\"}\n"
			   "probe_overhead_s: {value: %.4g, source: \"%s (the same probe: the tiny-op chain, 11 rounds)\"}\n",
			c->probe_matrix_flops_per_s, src, AR_CAL_PROBE_RUNS, c->probe_dram_bytes_per_s, src,
			c->probe_overhead_s, src);
	if (c->decode_attn_flops_per_s > 0 && c->decode_attn_intensity_half > 0)
		fprintf(f, "decode_attention_intensity_half: {value: %.4g, source: \"%s (from the cached rates at %d maps over %d and over %d key heads, head dim %d: rate x I / (I + I0) at I FLOPs per K/V element read)\"}\n",
			c->decode_attn_intensity_half, src, AR_CAL_MAPS_ATTN, AR_CAL_KH_ATTN,
			AR_CAL_MAPS_ATTN, AR_CAL_D_ATTN);
	if (c->prefill_attn_flops_per_s > 0) {
		fprintf(f, "prefill_attention_flops_per_s: {value: %.6g, source: \"%s (causal flash prefill of %d positions, %d maps over %d key heads of %d, tiles %ldx%ld; stated for long heads and sequences)\"}\n",
			c->prefill_attn_flops_per_s, src, AR_CAL_SEQ_PREFILL, AR_CAL_MAPS_ATTN,
			AR_CAL_KH_ATTN, AR_CAL_D_ATTN, c->prefill_attn_tile, c->prefill_attn_tile);
		fprintf(f, "prefill_attention_head_dim_half: {value: %.4g, source: \"%s (from the prefill rates at head dims 32 and 128: rate x d / (d + d0))\"}\n",
			c->prefill_attn_head_dim_half, src);
		if (c->prefill_attn_seq_half > 0)
			fprintf(f, "prefill_attention_seq_half: {value: %.4g, source: \"%s (from the prefill rates at %d and %d positions, head dim %d: rate x S / (S + s0))\"}\n",
				c->prefill_attn_seq_half, src, AR_CAL_SEQ_PREFILL_SHORT,
				AR_CAL_SEQ_PREFILL, AR_CAL_D_ATTN);
		if (c->prefill_attn_tiny_s > 0)
			fprintf(f, "prefill_attention_fixed_s: {value: %.4g, source: \"%s (the same kernel at %d positions took %.3g s; less its FLOPs at the rate stated and the per-op overhead)\"}\n",
				c->prefill_attn_fixed_s, src, AR_CAL_SEQ_PREFILL_TINY,
				c->prefill_attn_tiny_s);
		if (c->prefill_attn_per_map_s > 0)
			fprintf(f, "prefill_attention_output_share: {value: %.4g, source: \"%s (the probe of %d positions, head dim %d, with %d outputs on each map took %.3g s: each output beyond a map's first adds this share of its cost per score d0 / d)\"}\n",
				c->prefill_attn_output_share, src, AR_CAL_SEQ_PREFILL, AR_CAL_D_ATTN,
				AR_CAL_PREFILL_PER_MAP, c->prefill_attn_per_map_s);
	}
	if (c->shape_rate[0] > 0) {
		fprintf(f, "matrix_inner_half: {value: %.4g, source: \"%s (warm %dx%dx%d products at %.4g of the rate of %dx%dx%d ones: the curve's efficiency x K / (K + k0), relative to K %d)\"}\n",
			c->matrix_inner_half, src, AR_CAL_ROWS_SHAPE, AR_CAL_SHAPE_SHORT, AR_CAL_N_EFF,
			c->shape_rate[1] / c->shape_rate[0], AR_CAL_ROWS_SHAPE, AR_CAL_K_EFF,
			AR_CAL_N_EFF, AR_CAL_K_EFF);
		fprintf(f, "matrix_cols_half: {value: %.4g, source: \"%s (warm %dx%dx%d products at %.4g of the rate of %dx%dx%d ones: the curve's efficiency x N / (N + n0), relative to N %d)\"}\n",
			c->matrix_cols_half, src, AR_CAL_ROWS_SHAPE, AR_CAL_K_EFF, AR_CAL_SHAPE_SHORT,
			c->shape_rate[2] / c->shape_rate[0], AR_CAL_ROWS_SHAPE, AR_CAL_K_EFF,
			AR_CAL_N_EFF, AR_CAL_N_EFF);
		fprintf(f, "matrix_inner_half_power: {value: %.4g, source: \"%s (the same at %d rows read %.4g: k0 x (%d / rows)^p past %d rows)\"}\n",
			c->matrix_inner_half_power, src, AR_CAL_ROWS_SHAPE_MANY,
			c->shape_rate[3] > 0 ? c->shape_rate[4] / c->shape_rate[3] : 0,
			AR_CAL_ROWS_SHAPE, AR_CAL_ROWS_SHAPE);
		fprintf(f, "matrix_cols_half_power: {value: %.4g, source: \"%s (the same at %d rows read %.4g: n0 x (%d / rows)^p past %d rows)\"}\n",
			c->matrix_cols_half_power, src, AR_CAL_ROWS_SHAPE_MANY,
			c->shape_rate[3] > 0 ? c->shape_rate[5] / c->shape_rate[3] : 0,
			AR_CAL_ROWS_SHAPE, AR_CAL_ROWS_SHAPE);
	}
	if (c->cold_rate[2] > 0) {
		const long K[2] = { AR_CAL_COLD_K_SHORT, AR_CAL_COLD_K_MID };
		fprintf(f, "matrix_inner_cold:\n");
		for (int i = 0; i < 2; i++)
			fprintf(f, "  - {k: %ld, value: %.4f, source: \"%s (%dx%ldx%d products through %d weight matrices in turn from main memory / the rate of %dx%dx%d ones through %d)\"}\n",
				K[i], c->inner_cold[i], src, AR_CAL_COLD_ROWS, K[i], AR_CAL_N_EFF,
				c->cold_copies[i], AR_CAL_COLD_ROWS, AR_CAL_K_EFF, AR_CAL_N_EFF,
				c->cold_copies[2]);
		fprintf(f, "matrix_inner_cold_power: {value: %.4g, source: \"%s (the same at %d rows read %.4g and %.4g: the shortfall 1 - value falls as (%d / rows)^q past %d rows, q from K %d)\"}\n",
			c->inner_cold_power, src, AR_CAL_COLD_ROWS_MANY,
			c->cold_rate[5] > 0 ? c->cold_rate[3] / c->cold_rate[5] : 0,
			c->cold_rate[5] > 0 ? c->cold_rate[4] / c->cold_rate[5] : 0, AR_CAL_COLD_ROWS,
			AR_CAL_COLD_ROWS, AR_CAL_COLD_K_SHORT);
	}
	if (c->n_eff)
		fprintf(f, "matrix_efficiency:\n");
	for (int i = 0; i < c->n_eff; i++) {
		char scaled[240] = "", runs[160] = "";
		if (c->eff_runs[i] > 1 && c->eff_readings[i] == 1)
			snprintf(runs, sizeof(runs),
				 "; of %d runs, the one with main memory nearest the DRAM reading",
				 c->eff_runs[i]);
		else if (c->eff_readings[i] > 1)
			snprintf(runs, sizeof(runs),
				 "; the median of %d readings, the first in the sweep, %d in the middle, the others at the end",
				 c->eff_readings[i], AR_CAL_EFF_MID);
		if (c->eff_scaled[i] != 1 && c->eff_scaled[i] > 0)
			snprintf(scaled, sizeof(scaled),
				 "%s, x %.2f to the DRAM reading: main memory read %.3g B/s beside them",
				 runs, c->eff_scaled[i], c->eff_dram[i]);
		else
			snprintf(scaled, sizeof(scaled), "%s", runs);
		fprintf(f, "  - {rows: %.0f, value: %.4f, source: \"%s (%.0fx%dx%d products over %d weights in turn / matrix peak%s)\"}\n",
			c->eff_rows[i], fmax(1e-4, c->eff_value[i]), src, c->eff_rows[i], AR_CAL_K_EFF,
			AR_CAL_N_EFF, c->eff_rows[i] <= AR_CAL_ROWS_COLD ? c->eff_copies : 2, scaled);
	}
	char readings[48];
	snprintf(readings, sizeof(readings), "; the median of %d readings", AR_CAL_EFF_READINGS);
	if (c->n_eff_cached)
		fprintf(f, "matrix_efficiency_cached:\n");
	for (int i = 0; i < c->n_eff_cached; i++)
		if (c->eff_cached_warm[i])
			fprintf(f, "  - {rows: %.0f, value: %.4f, source: \"%s (the larger of matrix_efficiency and %.0fx%dx%d products through %d weight matrices in turn held in the last-level cache / matrix peak)\"}\n",
				c->eff_rows[i], fmax(1e-4, c->eff_cached_value[i]), src, c->eff_rows[i],
				AR_CAL_K_EFF, AR_CAL_N_EFF, c->eff_cached_warm[i]);
		else
			fprintf(f, "  - {rows: %.0f, value: %.4f, source: \"%s (the larger of matrix_efficiency and %.0fx%dx%ld products through %d weight matrices in turn held in the last-level cache / matrix peak, below 2 x peak / DRAM bandwidth rows%s)\"}\n",
				c->eff_rows[i], fmax(1e-4, c->eff_cached_value[i]), src, c->eff_rows[i],
				AR_CAL_K_EFF_CACHED, c->eff_cached_cols, c->eff_cached_copies,
				c->eff_cached_reading[i][1] > 0 ? readings : "");
	if (c->n_eff_cached && c->n_eff_near)
		fprintf(f, "matrix_efficiency_cached_bytes: {value: %.0f, source: \"%s (the cached curve's %d weight matrices of %dx%ld)\"}\n",
			4.0 * c->eff_cached_copies * AR_CAL_K_EFF_CACHED * c->eff_cached_cols, src,
			c->eff_cached_copies, AR_CAL_K_EFF_CACHED, c->eff_cached_cols);
	if (c->n_eff_near)
		fprintf(f, "matrix_efficiency_near:\n");
	for (int i = 0; i < c->n_eff_near; i++)
		fprintf(f, "  - {rows: %.0f, value: %.4f, source: \"%s (the larger of matrix_efficiency_cached and %.0fx%dx%ld products through %d weight matrices in turn held in the cores' L2 / matrix peak, below 2 x peak / DRAM bandwidth rows%s)\"}\n",
			c->eff_rows[i], fmax(1e-4, c->eff_near_value[i]), src, c->eff_rows[i],
			AR_CAL_K_EFF_NEAR, c->eff_near_cols, c->eff_near_copies,
			c->eff_near_reading[i][1] > 0 ? readings : "");
	if (c->n_sweep >= 2)
		fprintf(f, "read_bandwidth_by_set:\n");
	for (int i = 0; c->n_sweep >= 2 && i < c->n_sweep; i++)
		fprintf(f, "  - {bytes: %.0f, value: %.4g, source: \"%s (read over and over, every thread its share)\"}\n",
			c->sweep_bytes[i], c->sweep_bw[i], src);
	return ferror(f) ? -1 : 0;
}

/* ---- ceilings that drift ---- */

enum { PROBE_M = 512, PROBE_K = 1024, PROBE_N = 1024 };

/* The probe's buffers for n_mem levels whose largest cache holds `cache`
 * bytes: main memory's set is 4x that, at least 64 MB */
static int probe_alloc(struct ar_probe *p, int n_mem, double cache, struct ar_err *err)
{
	memset(p, 0, sizeof(*p));
	p->n_mem = n_mem;
	p->buf_floats = (size_t)(fmax(64e6, 4 * fmin(cache, 1e9)) / sizeof(float));
	p->buf = ar_exec_alloc(p->buf_floats * sizeof(float));
	p->a = malloc(sizeof(float) * PROBE_M * PROBE_K);
	p->w = ar_exec_alloc(sizeof(float) * ar_kernels_row_stride(PROBE_K) * PROBE_N);
	p->c = malloc(sizeof(float) * PROBE_M * PROBE_N);
	if (!p->buf || !p->a || !p->w || !p->c) {
		ar_probe_release(p);
		return ar_errf(err, NULL, 0, 0, "cannot allocate %.0f MB for the ceiling probes",
			       (double)p->buf_floats * sizeof(float) / 1e6);
	}
	fill(p->buf, (long)p->buf_floats);
	fill(p->a, PROBE_M * PROBE_K);
	fill(p->w, ar_kernels_row_stride(PROBE_K) * PROBE_N);
	return 0;
}

int ar_probe_init(struct ar_probe *p, const struct ar_hw *hw, struct ar_err *err)
{
	double cache = 0;

	for (int i = 1; i < hw->n_mem; i++)
		cache = fmax(cache, hw->mem[i].capacity_bytes);
	return probe_alloc(p, hw->n_mem, cache, err);
}

void ar_probe_release(struct ar_probe *p)
{
	free(p->buf);
	free(p->a);
	free(p->w);
	free(p->c);
	memset(p, 0, sizeof(*p));
}

void ar_probe_run(struct ar_probe *p, struct ar_ceilings *out)
{
	memset(out, 0, sizeof(*out));
	out->n_mem = p->n_mem;
	/* the product: one call of about a GFLOP (milliseconds: long enough that
	 * the threads' start and join do not show, as in the calibration's
	 * large products; its 4 MB of weights cost about 2 % when they come
	 * from main memory) */
	double t0 = now_s();
	ar_kernels_matmul(p->c, PROBE_N, 0, p->a, PROBE_K, 0, p->w, ar_kernels_row_stride(PROBE_K),
			  0, 1, NULL, PROBE_M, PROBE_K, PROBE_N, 1);
	out->matrix_flops_per_s = 2.0 * PROBE_M * PROBE_K * PROBE_N / (now_s() - t0);
	/* main memory by one pass over the whole buffer, which no cache holds.
	 * The cache levels are not probed: their bandwidth is the cores' own,
	 * and the readings of a half-cache set moved by ±20 % from probe to
	 * probe where the executor's in-cache ops did not move at all */
	double start = now_s();
	volatile double sink = ar_kernels_sum(p->buf, (long)p->buf_floats, 1);
	(void)sink;
	out->bw_bytes_per_s[0] = (double)p->buf_floats * sizeof(float) / (now_s() - start);
	/* the overhead probe of calibrate, cut to 11 rounds; where the threads
	 * sit */
	out->overhead_s = op_chain(11);
	out->round_trip_s = ar_kernels_round_trip(512);
}

void ar_ceilings_median(struct ar_ceilings *out, const struct ar_ceilings *c, int n)
{
	double v[16];

	AR_ASSERT(n >= 1 && n <= 16);
	*out = c[0];
#define MEDIAN_OF(field)                               \
	do {                                           \
		for (int k_ = 0; k_ < n; k_++)         \
			v[k_] = c[k_].field;           \
		out->field = median_of(v, n);          \
	} while (0)
	MEDIAN_OF(matrix_flops_per_s);
	MEDIAN_OF(overhead_s);
	MEDIAN_OF(round_trip_s);
	for (int i = 0; i < c[0].n_mem && i < AR_HW_MAX_LEVELS; i++)
		MEDIAN_OF(bw_bytes_per_s[i]);
#undef MEDIAN_OF
}

void ar_ceilings_best(struct ar_ceilings *out, const struct ar_ceilings *c, int n)
{
	AR_ASSERT(n >= 1);
	*out = c[0];
	for (int k = 1; k < n; k++) {
		out->matrix_flops_per_s = fmax(out->matrix_flops_per_s, c[k].matrix_flops_per_s);
		out->overhead_s = fmin(out->overhead_s, c[k].overhead_s);
		out->round_trip_s = fmin(out->round_trip_s, c[k].round_trip_s);
		for (int i = 0; i < c[0].n_mem && i < AR_HW_MAX_LEVELS; i++)
			out->bw_bytes_per_s[i] = fmax(out->bw_bytes_per_s[i], c[k].bw_bytes_per_s[i]);
	}
}

int ar_ceilings_of_hw(struct ar_ceilings *out, const struct ar_hw *hw)
{
	memset(out, 0, sizeof(*out));
	if (hw->probe_matrix_flops_per_s <= 0 || hw->probe_dram_bytes_per_s <= 0 ||
	    hw->probe_overhead_s <= 0 || hw->n_mem < 1)
		return 0;
	out->n_mem = hw->n_mem;
	out->matrix_flops_per_s = hw->probe_matrix_flops_per_s;
	out->bw_bytes_per_s[0] = hw->probe_dram_bytes_per_s;
	out->overhead_s = hw->probe_overhead_s;
	return 1;
}

void ar_calibrate_track(struct ar_hw *out, const struct ar_hw *base,
			const struct ar_ceilings *ref, const struct ar_ceilings *now)
{
	double fm = ratio(now->matrix_flops_per_s, ref->matrix_flops_per_s);

	*out = *base;
	for (int d = 0; d < AR_DT_COUNT; d++) {
		out->matrix_flops_per_s[d] *= fm;
		out->vector_flops_per_s[d] *= fm;
	}
	/* The efficiency curves are fractions of the matrix peak; where products
	 * of few rows are bound by reading their weights (rows below 2·peak /
	 * bandwidth: m rows do m/2 FLOPs per fp32 weight byte), what they attain
	 * follows the bandwidth of the level the curve was measured from (main
	 * memory, the last-level cache for the cached curve), not the peak. */
	double peak = base->matrix_flops_per_s[AR_DT_FP32];
	for (int c = 0; c < 3 && peak > 0; c++) {
		/* the near curve's level (the cores' caches) is not probed: its
		 * points bound by reading weights keep their rate */
		int lvl = c;
		int n = c == 0 ? out->n_matrix_eff : c == 1 ? out->n_matrix_eff_cached
							    : out->n_matrix_eff_near;
		struct ar_eff_point *pts = c == 0 ? out->matrix_eff
				       : c == 1 ? out->matrix_eff_cached : out->matrix_eff_near;
		if (lvl >= base->n_mem || lvl >= ref->n_mem || lvl >= now->n_mem ||
		    base->mem[lvl].bw_bytes_per_s <= 0)
			continue;
		double fb = gated_ratio(now->bw_bytes_per_s[lvl], ref->bw_bytes_per_s[lvl],
					AR_TRACK_GATE_MEMORY);
		double bound = 2 * peak / base->mem[lvl].bw_bytes_per_s;
		for (int i = 0; i < n; i++)
			if (pts[i].rows < bound)
				pts[i].value = fmin(1.0, pts[i].value * fb / fm);
	}
	out->decode_attn_flops_per_s *= fm;
	out->prefill_attn_flops_per_s *= fm;
	out->exp_per_s *= fm;
	out->decode_attn_cached_flops_per_s *= fm;
	out->decode_attn_near_flops_per_s *= fm;
	for (int i = 0; i < out->n_mem && i < ref->n_mem && i < now->n_mem; i++)
		out->mem[i].bw_bytes_per_s *= gated_ratio(now->bw_bytes_per_s[i], ref->bw_bytes_per_s[i],
							  AR_TRACK_GATE_MEMORY);
	/* each point of the read sweep follows the level that holds its set */
	for (int j = 0; j < out->n_read_sweep; j++) {
		int l = ar_hw_level_for(base, out->read_sweep[j].bytes);
		if (l < ref->n_mem && l < now->n_mem)
			out->read_sweep[j].bw *= gated_ratio(now->bw_bytes_per_s[l],
							     ref->bw_bytes_per_s[l],
							     AR_TRACK_GATE_MEMORY);
	}
	out->overhead_s *= ratio(now->overhead_s, ref->overhead_s);
	out->decode_attn_fixed_s *= ratio(now->overhead_s, ref->overhead_s);
	out->decode_attn_near_fixed_s *= ratio(now->overhead_s, ref->overhead_s);
	out->decode_attn_memory_fixed_s *= ratio(now->overhead_s, ref->overhead_s);
	out->prefill_attn_fixed_s *= ratio(now->overhead_s, ref->overhead_s);
}
