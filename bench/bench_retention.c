/* How long this machine's caches keep what a pass left in them.  A set is
 * read until it is warm, the threads then wait (busy, touching nothing) for a
 * gap, and the set is read again; beside it the same read right after a
 * stream far larger than the last-level cache (cold: eight times the cache
 * the calibration found and at least 256 MB, as bench_kernels').  The share
 * still cached after the gap is (t_cold - t) / (t_cold - t_warm).  The
 * roofline model takes a resident set below the last-level cache to be read
 * from it on every pass, however long the pass; on a host whose caches other
 * guests share, what a pass of a few milliseconds left behind may be gone
 * when the next pass comes back to it, which this shows.  Measured only,
 * never asserted. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_host.h"
#include "bench_time.h"
#include "exec.h"

enum { REPEATS = 9, N_GAPS = 6 };
static const double gaps_s[N_GAPS] = { 0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2 };

/* every 16th float of a[0, n): one load per 64-byte line */
static float touch(const float *a, long n)
{
	float s[4] = { 0 };

	for (long i = 0; i + 15 < n; i += 16) {
		s[0] += a[i];
		s[1] += a[i + 4];
		s[2] += a[i + 8];
		s[3] += a[i + 12];
	}
	return s[0] + s[1] + s[2] + s[3];
}

/* n floats for a stream (ar_exec_alloc: huge pages where offered); exits
 * when out of memory */
static float *floats(long n)
{
	float *p = ar_exec_alloc(sizeof(float) * (size_t)n);

	if (!p) {
		fprintf(stderr, "bench_retention: out of memory\n");
		exit(1);
	}
	return p;
}

/* Median time of reading `set` (n floats, each thread its share) after the
 * threads waited gap_s since their last read of it, or, with flush, after
 * each streamed its share of flush (nf floats) instead of waiting. */
static double read_after(const float *set, long n, const float *flush, long nf, double gap_s,
			 int nt, float *sink)
{
	double t[REPEATS];

	for (int r = 0; r < REPEATS; r++) {
		double t0 = 0, t1 = 0;
#pragma omp parallel num_threads(nt)
		{
			int id = omp_get_thread_num();
			long c = n / nt, cf = nf / nt;
			float s = touch(set + id * c, c);
			if (flush)
				s += touch(flush + id * cf, cf);
			for (double w0 = now(); now() - w0 < gap_s;)
				;
#pragma omp barrier
#pragma omp master
			t0 = now();
			s += touch(set + id * c, c);
#pragma omp barrier
#pragma omp master
			t1 = now();
#pragma omp atomic
			*sink += s;
		}
		t[r] = t1 - t0;
	}
	qsort(t, REPEATS, sizeof(*t), cmp_double);
	return t[REPEATS / 2];
}

int main(void)
{
	struct ar_hw hw;
	float sink = 0;

	bench_host(&hw);
	const int nt = hw.units > 0 ? (int)hw.units : 1;
	const double llc = hw.n_mem > 1 ? hw.mem[1].capacity_bytes : 32e6;
	const double l2 = hw.onchip_bytes_per_unit > 0 ? hw.onchip_bytes_per_unit * nt : 1e6;
	const long nf = (long)(fmax(8 * llc, 256e6) / sizeof(float));
	float *flush = floats(nf);
	for (long i = 0; i < nf; i++)
		flush[i] = 1;
	printf("cache retention, %d threads: a set read warm, then again after the threads wait\n"
	       "(busy, touching nothing); GB/s of the second read and the share still cached\n",
	       nt);
	const double sets[] = { l2 / 2, llc / 4 };
	const char *const where[] = { "half the cores' L2", "a quarter of the last-level cache" };
	for (int k = 0; k < 2; k++) {
		long n = (long)(sets[k] / sizeof(float)) / (16 * nt) * (16 * nt);
		float *set = floats(n);
		for (long i = 0; i < n; i++)
			set[i] = (float)(i & 255);
		double bytes = (double)n * sizeof(float);
		double cold = read_after(set, n, flush, nf, 0, nt, &sink);
		double warm = read_after(set, n, NULL, 0, 0, nt, &sink);
		printf("  %-34s %7.2f MB: cold %6.1f GB/s\n", where[k], bytes / 1e6, bytes / cold / 1e9);
		for (int g = 0; g < N_GAPS; g++) {
			double t = g ? read_after(set, n, NULL, 0, gaps_s[g], nt, &sink) : warm;
			double kept = cold > warm ? (cold - t) / (cold - warm) : NAN;
			printf("    after %6.2f ms: %6.1f GB/s, %5.1f %% still cached\n", gaps_s[g] * 1e3,
			       bytes / t / 1e9, 100 * fmin(fmax(kept, 0), 1));
		}
		free(set);
	}
	free(flush);
	printf("(checksum %.3g)\n", (double)sink);
	return 0;
}
