/* Error reporting for the library: a caller-owned struct ar_err filled by the
 * failing function.  The library never prints and never exits; main.c turns an
 * ar_err into "path:line:col: error: message" on stderr. */
#ifndef AR_ERR_H
#define AR_ERR_H

#include <stdio.h>
#include <stdlib.h>

struct ar_err {
	char path[512];  /* file the error is about, "" when none */
	int line, col;   /* 1-based; 0 when unknown */
	char msg[512];
};

/* Fill err (which may be NULL) and return -1, so that callers can write
 * `return ar_errf(err, path, line, col, "unknown key '%s'", key);`. */
int ar_errf(struct ar_err *err, const char *path, int line, int col,
	    const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Format err as one line: "path:line:col: error: msg", "path: error: msg" or
 * "attnroof: error: msg" when no path is set.  Writes into buf of size n. */
void ar_err_format(const struct ar_err *err, char *buf, size_t n);

/* For broken invariants only, never for user input. */
#define AR_ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

#endif
