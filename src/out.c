/* Output files: written whole or not at all (a temporary file beside the
 * target, renamed over it), devices and descriptors written in place. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "out.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *ar_short(const char *s, char *buf, size_t size)
{
	if (strlen(s) < size)
		return s;
	snprintf(buf, size, "%.*s...", (int)(size - 4), s);
	return buf;
}

int ar_copy_stream(FILE *in, FILE *out)
{
	char buf[65536];
	size_t n;

	errno = 0;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			break;
	return ferror(in) | ferror(out) | (fflush(out) != 0) ? -1 : 0;
}

/* Whether path names an open descriptor (/dev/stdout, /dev/fd/N,
 * /proc/.../fd/N) rather than a file */
static int names_descriptor(const char *path)
{
	return !strncmp(path, "/dev/std", 8) || !strncmp(path, "/dev/fd/", 8) ||
	       (!strncmp(path, "/proc/", 6) && strstr(path, "/fd/"));
}

int ar_out_in_place(const char *path)
{
	struct stat st;

	return (!stat(path, &st) && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) ||
	       names_descriptor(path);
}

/* Where a write to path lands: path, or the file its symbolic link names.
 * -1 when that name does not fit in size. */
static int out_target(const char *path, char *buf, size_t size)
{
	struct stat st;
	char *real;
	int n;

	if (names_descriptor(path)) {
		/* never resolved to the file behind the descriptor (a rename
		 * would replace it) */
		n = snprintf(buf, size, "%s", path);
	} else if (!lstat(path, &st) && S_ISLNK(st.st_mode) && (real = realpath(path, NULL))) {
		n = snprintf(buf, size, "%s", real);
		free(real);
	} else {
		n = snprintf(buf, size, "%s", path);
	}
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int ar_out_temp(const char *path, char *tmp, size_t size, struct ar_err *err)
{
	char target[AR_OUT_PATH_MAX], sp[160];
	struct stat st;
	int fd, n;

	tmp[0] = 0;
	if (out_target(path, target, sizeof(target)) ||
	    (n = snprintf(tmp, size, "%s.tmp.XXXXXX", target)) < 0 || (size_t)n >= size) {
		tmp[0] = 0;
		return ar_errf(err, NULL, 0, 0, "cannot write '%s': %s", ar_short(path, sp, sizeof(sp)),
			       strerror(ENAMETOOLONG));
	}
	/* renamed into place, the temporary file would replace a device, a
	 * FIFO or a descriptor's file with a plain file */
	if (!stat(target, &st) && S_ISDIR(st.st_mode)) {
		tmp[0] = 0;
		return ar_errf(err, NULL, 0, 0, "cannot write '%s': %s", ar_short(path, sp, sizeof(sp)),
			       strerror(EISDIR));
	}
	if (ar_out_in_place(target)) {
		tmp[0] = 0;
		return ar_errf(err, NULL, 0, 0, "cannot write '%s': not a regular file",
			       ar_short(path, sp, sizeof(sp)));
	}
	if ((fd = mkstemp(tmp)) < 0) {
		tmp[0] = 0;
		ar_errf(err, NULL, 0, 0, "cannot write '%s': %s", ar_short(path, sp, sizeof(sp)),
			strerror(errno));
	}
	return fd;
}

int ar_out_commit(const char *tmp, const char *path, struct ar_err *err)
{
	char target[AR_OUT_PATH_MAX], sp[160];
	struct stat st;
	mode_t mode;

	/* where ar_out_temp resolved path to: tmp less its ".tmp.XXXXXX" */
	snprintf(target, sizeof(target), "%.*s", (int)(strlen(tmp) - strlen(".tmp.XXXXXX")), tmp);
	if (!stat(target, &st) && S_ISREG(st.st_mode)) {
		mode = st.st_mode & 07777;
	} else {
		mode_t mask = umask(0);
		umask(mask);
		mode = 0666 & ~mask;
	}
	if (chmod(tmp, mode) || rename(tmp, target)) {
		ar_errf(err, NULL, 0, 0, "cannot write '%s': %s", ar_short(path, sp, sizeof(sp)),
			strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
