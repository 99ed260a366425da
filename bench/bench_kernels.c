/* Quality of the executor's kernels against this machine's ceilings,
 * calibrated at the start of the run:
 *   - matrix products at large and model shapes, % of the matrix peak;
 *   - decode attention at long context, % of DRAM bandwidth (KV bytes / time)
 *     against the bandwidth probed at the same moment, both builds of the
 *     kernel (8 and 16 lanes) where the processor runs them;
 *   - causal flash prefill, % of the matrix peak (FLOPs of the computed tiles).
 * Attention is timed as the executor runs it (one-layer GQA-1B / GTA-1B / MHA
 * shapes), so the FLOPs and bytes are the op graph's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_host.h"
#include "bench_time.h"
#include "calibrate.h"
#include "exec.h"
#include "graph.h"
#include "hw.h"
#include "kernels.h"
#include "model.h"

static void die(const struct ar_err *err)
{
	char buf[1200];

	ar_err_format(err, buf, sizeof(buf));
	fprintf(stderr, "%s\n", buf);
	exit(1);
}

static void gemm(const struct ar_hw *hw, long M, long K, long N)
{
	float *a = calloc((size_t)(M * K), 4), *b = calloc((size_t)(K * N), 4), *c = calloc((size_t)(M * N), 4);
	double best = 1e30;

	for (long i = 0; i < M * K; i++)
		a[i] = (float)(i % 7) * 0.1f;
	for (long i = 0; i < K * N; i++)
		b[i] = (float)(i % 5) * 0.1f;
	ar_kernels_matmul(c, N, 0, a, K, 0, b, N, 0, 0, NULL, M, K, N, 1);
	for (int r = 0; r < 5; r++) {
		double t0 = now();
		ar_kernels_matmul(c, N, 0, a, K, 0, b, N, 0, 0, NULL, M, K, N, 1);
		double t = now() - t0;
		best = t < best ? t : best;
	}
	double rate = 2.0 * M * K * N / best;
	printf("  matmul %5ld x %5ld x %5ld  %7.1f GFLOP/s  %5.1f %% of matrix peak\n", M, K, N,
	       rate / 1e9, 100 * rate / hw->matrix_flops_per_s[AR_DT_FP32]);
	free(a); free(b); free(c);
}

/* Bytes that no cache holds: 8x the largest level the calibration found, and
 * at least 256 MB (the usable L3 it reports is less than the two L3s the
 * threads may each have; 4x it had let a stream read 60 % past main memory) */
static double beyond_caches(const struct ar_hw *hw)
{
	double cache = 0;

	for (int i = 1; i < hw->n_mem; i++)
		cache = fmax(cache, hw->mem[i].capacity_bytes);
	return fmax(8 * cache, 256e6);
}

/* What one core's stream of main memory keeps when it does work on what it
 * reads: every thread reads its own buffer (beyond_caches in all) in
 * 64-byte vectors and does f fused multiply-adds on each, into 16
 * accumulators (so that their latency never binds), with the decode kernel's
 * software prefetch distance.  The decode attention kernel does 4
 * multiply-adds per vector read at 4 maps per key head (GQA-1B), plus its
 * tiles' loads and sums (about 7 vector operations per vector read); this
 * is the ceiling such a loop reaches on this machine, whatever the kernel.
 * AVX-512 only (the lines are skipped elsewhere). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define STREAM_TARGET 1
/* f is a constant in each copy (stream_fma's switch), so that the 16
 * accumulators stay in registers: with f a variable they lived on the
 * stack and every multiply-add waited on the store of the one before it
 * (from f 4 on, the loop and not the memory set the rate). */
__attribute__((target("avx512f"), always_inline)) static inline float
stream_fma_f(const float *p, long n, const int f)
{
	__m512 acc[16], q = _mm512_set1_ps(1.0001f);

	for (int a = 0; a < 16; a++)
		acc[a] = _mm512_setzero_ps();
	for (long i = 0; i + 128 <= n; i += 128) {
		for (int u = 0; u < 8; u++)
			__builtin_prefetch(p + i + 1024 + 16 * u, 0, 1); /* 4 KiB ahead into the L2, as the kernel */
		for (int u = 0; u < 8; u++) {
			__m512 v = _mm512_loadu_ps(p + i + 16 * u);
			if (!f)
				acc[u] = _mm512_add_ps(acc[u], v);
			for (int k = 0; k < f; k++)
				acc[(u * f + k) & 15] = _mm512_fmadd_ps(v, q, acc[(u * f + k) & 15]);
		}
	}
	for (int a = 1; a < 16; a++)
		acc[0] = _mm512_add_ps(acc[0], acc[a]);
	return _mm512_reduce_add_ps(acc[0]);
}

__attribute__((target("avx512f"))) static float stream_fma(const float *p, long n, int f)
{
	switch (f) {
	case 0: return stream_fma_f(p, n, 0);
	case 2: return stream_fma_f(p, n, 2);
	case 4: return stream_fma_f(p, n, 4);
	case 6: return stream_fma_f(p, n, 6);
	default: return stream_fma_f(p, n, 8);
	}
}
#endif

static void stream_ceiling(const struct ar_hw *hw)
{
#ifdef STREAM_TARGET
	int nt = ar_kernels_threads();

	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx512f"))
		return;
	long n = (long)(beyond_caches(hw) / 4 / nt) / 128 * 128 + 128; /* floats per thread */
	float *buf = ar_exec_alloc(sizeof(float) * (size_t)(n * nt));
	if (!buf)
		return;
	for (long i = 0; i < n * nt; i++)
		buf[i] = 1e-3f;
	printf("  main memory read with f multiply-adds per 64-byte vector, %d threads:\n", nt);
	for (int f = 0; f <= 8; f += 2) {
		double best = 1e30;
		float sink = 0;
		for (int r = 0; r < 5; r++) {
			double t0 = now();
#pragma omp parallel for schedule(static, 1) reduction(+ : sink)
			for (int t = 0; t < nt; t++)
				sink += stream_fma(buf + t * n, n, f);
			best = fmin(best, now() - t0);
		}
		printf("    f %d: %6.2f GB/s, %5.1f %% of calibrated DRAM (checksum %.3g)\n", f,
		       4.0 * n * nt / best / 1e9, 100 * 4.0 * n * nt / best / hw->mem[0].bw_bytes_per_s,
		       sink);
	}
	free(buf);
#else
	(void)hw;
#endif
}

/* The flash op of `name` at (B, S) in `phase`: median time per layer.
 * Decode runs enough layers that their K/V are beyond_caches
 * (each step streams them from main memory, as at long context), and is
 * held against main memory's read bandwidth probed just before and after
 * it: a shared machine's bandwidth moves within seconds, so the calibration
 * at the start of the run is only a second reference. */
static void attention(const struct ar_hw *hw, const char *name, enum ar_phase ph, long B, long S)
{
	struct ar_err err = { 0 };
	struct ar_model m;
	struct ar_exec ex;
	struct ar_graph g;
	struct ar_workload wl = { .batch = B, .seq = S, .attn = AR_ATTN_FLASH, .wbits = 32,
				  .abits = 32, .kvbits = 32, .tp = 1 };
	double op_s[AR_GRAPH_MAX_OPS], total;

	if (ar_model_open(&m, name, &err))
		die(&err);
	m.layers = 1;
	m.vocab = 1024; /* the head is not what is measured */
	ar_graph_build(&g, &m, &wl, hw->onchip_bytes_per_unit, ph);
	if (ph == AR_PHASE_DECODE)
		m.layers = (long)fmax(1, ceil(beyond_caches(hw) / g.kv_layer_bytes));
	if (ar_exec_init(&ex, &m, B, ph == AR_PHASE_PREFILL ? S : 1, S, AR_ATTN_FLASH,
			 hw->onchip_bytes_per_unit, 1, 0, &err))
		die(&err);
	ar_graph_build(&g, &m, &wl, hw->onchip_bytes_per_unit, ph);
	for (int lanes = 8; lanes <= 16; lanes *= 2) {
		/* decode at each width the host runs; prefill once, at its own */
		if (ph == AR_PHASE_PREFILL ? lanes != 8 : ar_kernels_decode_lanes(lanes) != lanes)
			continue;
		struct ar_probe probe;
		struct ar_ceilings before, after;
		if (ph == AR_PHASE_DECODE) {
			if (ar_probe_init(&probe, hw, &err))
				die(&err);
			ar_probe_run(&probe, &before);
		}
		if (ar_exec_measure(&ex, &g, 1, 5, op_s, &total, &err))
			die(&err);
		for (int i = 0; i < g.n_ops; i++) {
			const struct ar_op *op = &g.ops[i];
			if (op->id != AR_OP_FLASH)
				continue;
			double t = op_s[i];
			if (ph == AR_PHASE_DECODE) {
				ar_probe_run(&probe, &after);
				double bytes = op->bytes[AR_B_KV_READ], now = (before.bw_bytes_per_s[0] + after.bw_bytes_per_s[0]) / 2;
				printf("  decode  %-9s B %ld, KV %6ld, %2ld layers, %2d lanes: %7.3f ms, %6.2f GB/s KV, "
				       "%5.1f %% of DRAM now (%.1f GB/s), %5.1f %% of calibrated\n",
				       name, B, S, m.layers, lanes, t * 1e3, bytes / t / 1e9, 100 * bytes / t / now,
				       now / 1e9, 100 * bytes / t / hw->mem[0].bw_bytes_per_s);
				ar_probe_release(&probe);
			} else {
				printf("  prefill %-9s B %ld, S %6ld: %8.3f ms, %6.1f GFLOP/s  %5.1f %% of matrix peak (tiles %ldx%ld)\n",
				       name, B, S, t * 1e3, op->mflops / t / 1e9,
				       100 * op->mflops / t / hw->matrix_flops_per_s[AR_DT_FP32], g.tile_rows, g.tile_cols);
			}
		}
	}
	ar_kernels_decode_lanes(0);
	ar_exec_release(&ex);
}

int main(void)
{
	struct ar_hw hw;

	ar_kernels_set_threads(0);
	bench_host(&hw);
	ar_kernels_set_threads(hw.kind == AR_HW_CPU ? (int)hw.units : 0); /* as calibrated */
	printf("ceilings (%s): matrix %.1f GFLOP/s, DRAM %.2f GB/s, %d threads\n", hw.name,
	       hw.matrix_flops_per_s[AR_DT_FP32] / 1e9, hw.mem[0].bw_bytes_per_s / 1e9,
	       ar_kernels_threads());
	gemm(&hw, 2048, 2048, 2048);
	gemm(&hw, 3072, 3072, 3072);
	gemm(&hw, 2048, 1280, 3584);
	gemm(&hw, 2048, 3584, 1280);
	gemm(&hw, 512, 1280, 1280);
	stream_ceiling(&hw);
	attention(&hw, "gqa-1b", AR_PHASE_DECODE, 1, 32768);
	attention(&hw, "gta-1b", AR_PHASE_DECODE, 1, 65536);
	attention(&hw, "mha-500m", AR_PHASE_DECODE, 1, 16384);
	attention(&hw, "gqa-1b", AR_PHASE_DECODE, 8, 4096);
	attention(&hw, "gqa-1b", AR_PHASE_PREFILL, 1, 2048);
	attention(&hw, "gta-1b", AR_PHASE_PREFILL, 1, 2048);
	attention(&hw, "mha-500m", AR_PHASE_PREFILL, 1, 2048);
	return 0;
}
