/* What every benchmark times with: the monotonic clock in seconds, and the
 * comparison that sorts its readings (qsort) for a median or a best. */
#ifndef ATTNROOF_BENCH_TIME_H
#define ATTNROOF_BENCH_TIME_H

#include <time.h>

static inline double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#endif
