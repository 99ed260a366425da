/* Output files, written whole or not at all, and the helpers every writer
 * of them shares. */
#ifndef AR_OUT_H
#define AR_OUT_H

#include <stdio.h>

#include "err.h"

/* a path's longest resolved name, and room for it with the temporary suffix */
enum { AR_OUT_PATH_MAX = 4096, AR_OUT_TMP_MAX = AR_OUT_PATH_MAX + 104 };

/* Output files are written whole or not at all: ar_out_temp makes a private
 * temporary file beside where `path` ends (a symbolic link is followed) and
 * returns its descriptor, its name in tmp (size >= AR_OUT_TMP_MAX); ar_out_commit
 * gives that tmp the mode of the file it replaces (a new file: 0666 less
 * the umask) and renames it into place, the place read off tmp's name
 * (path is for messages).  Both return -1 with err set on failure
 * (ar_out_commit then removes tmp). */
int ar_out_temp(const char *path, char *tmp, size_t size, struct ar_err *err);
int ar_out_commit(const char *tmp, const char *path, struct ar_err *err);
/* Whether path is written in place, not replaced: a device, a FIFO or a
 * descriptor's file (a file renamed over it would replace it) */
int ar_out_in_place(const char *path);
/* The rest of `in` onto `out`, flushed: 0, or -1 with errno as the failing
 * call left it (0 for a stream's earlier, sticky error) */
int ar_copy_stream(FILE *in, FILE *out);
/* s for a message: itself, or its first size - 4 bytes and "..." */
const char *ar_short(const char *s, char *buf, size_t size);

#endif
