/* Shared test helpers: cmocka includes and a double comparison with relative
 * and absolute tolerances (cmocka 1.1 has no double assertion). */
#ifndef AR_TESTUTIL_H
#define AR_TESTUTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define assert_close(got, want, rel, abs_) \
	assert_close_at((double)(got), (double)(want), (rel), (abs_), #got, __FILE__, __LINE__)

static inline void assert_close_at(double got, double want, double rel, double abs_,
				   const char *expr, const char *file, int line)
{
	double d = fabs(got - want);
	if (!(d <= abs_ || d <= rel * fabs(want))) {
		print_error("%s:%d: %s = %.17g, want %.17g (diff %.3g, rel %.3g)\n", file, line,
			    expr, got, want, d, want != 0 ? d / fabs(want) : d);
		fail();
	}
}

#endif
