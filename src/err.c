/* ar_err helpers: formatting of library errors.  No I/O besides snprintf. */
#include "err.h"

#include <stdarg.h>
#include <string.h>

int ar_errf(struct ar_err *err, const char *path, int line, int col,
	    const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	snprintf(err->path, sizeof(err->path), "%s", path ? path : "");
	err->line = line;
	err->col = col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void ar_err_format(const struct ar_err *err, char *buf, size_t n)
{
	if (!err->path[0])
		snprintf(buf, n, "attnroof: error: %s", err->msg);
	else if (err->line > 0)
		snprintf(buf, n, "%s:%d:%d: error: %s", err->path, err->line,
			 err->col > 0 ? err->col : 1, err->msg);
	else
		snprintf(buf, n, "%s: error: %s", err->path, err->msg);
}
