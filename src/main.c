/* attnroof command line: parses argv, calls the library, prints, exits.
 * Exit codes: 0 success, 1 bad input or failed run, 2 usage error. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calibrate.h"
#include "doc.h"
#include "exec.h"
#include "graph.h"
#include "hw.h"
#include "model.h"
#include "out.h"
#include "plot.h"
#include "report.h"
#include "roofline.h"
#include "size.h"
#include "table.h"
#include "validate.h"

#define EXIT_USAGE 2
#define MAX_THREADS 4096 /* --threads, and a CPU descriptor's units for run and validate */

static const char usage_text[] =
	"usage: attnroof COMMAND [options]\n"
	"\n"
	"commands:\n"
	"  analyze   --model M --hw H [--batch B] [--seq S] [--gen G] [--attn flash|naive]\n"
	"            [--wbits 16] [--abits 16] [--kvbits 16] [--tp N] [--set KEY=VALUE ...]\n"
	"            [--format table|csv|json] [--output FILE]\n"
	"  sweep     --model M [--model M2 ...] --hw H [--hw H2 ...] --batch LIST --seq LIST\n"
	"            [--gen G] [--attn flash|naive] [bits, --tp, --set as analyze] [--output FILE]\n"
	"  table     [--model M] [--format md|csv|json|latex] [--output FILE]\n"
	"            the GTA paper's complexity table for M's dimensions (default gta-1b)\n"
	"  plot      KIND [--output FILE.png|.svg|.txt] [--term png|svg|dumb] ...\n"
	"            roofline --model M [--model M2 ...] --hw H [--batch B] [--seq S]\n"
	"            latency  --model M [...] --hw H --batch LIST --seq LIST\n"
	"                     (time against S at the first batch, against B at the last S)\n"
	"            speedup  --model BASE --model NEW --hw H --batch LIST --seq LIST\n"
	"            kv       --model M [...] --hw H [--batch B] [--seq LIST of contexts]\n"
	"            measured --input VALIDATE.json\n"
	"            also --attn and the bit widths as analyze; no --output: text on stdout\n"
	"  size      --model M [--model M2 ...] --hw H [--hw H2 ...] [--context S] [--batch B]\n"
	"            [--gen G] [--reserve F] [--ttft S] [--tpot S] [--throughput TOK_PER_S]\n"
	"            [--offload] [--plot DIR] [bits, --attn, --tp, --set as analyze] [--format ...]\n"
	"            what fits (weights + KV + activations + reserve <= capacity), the largest\n"
	"            batch at context S (default 4096) and the longest context at batch B\n"
	"            (default 1), the fewest devices (tp x replicas) meeting the targets, the\n"
	"            elasticity of each phase to bandwidth, peak and link, and with --offload\n"
	"            the KV cache in host memory.  --reserve: a share below 1 (0.1) or bytes\n"
	"            (2e9).  --plot DIR draws DIR/size-latency.png and DIR/size-context.png\n"
	"  run       --model M [--batch B] [--seq S] [--gen G] [--attn flash|naive] [--hw H]\n"
	"            [--format table|json] [--output FILE]\n"
	"            runs M on this CPU (fp32, random weights, real KV cache): time per op\n"
	"            (warm-up, then the median of repeats) beside the prediction on H\n"
	"            (default hw/host.yaml when it exists), totals per phase, memory used\n"
	"  calibrate [--output hw/host.yaml] [--threads N]\n"
	"            measures this machine (matrix and vector peaks, bandwidth of each\n"
	"            memory level, per-op overhead) and writes its hardware descriptor\n"
	"  validate  [--model M ...] [--quick] [--attn flash|naive] [--hw H] [--threads N]\n"
	"            [--format table|json] [--output FILE]\n"
	"            measured against predicted over a grid (six archs, in and over the\n"
	"            last-level cache, two prefill and two decode lengths, batch 1 and 2);\n"
	"            models are cut to 4 layers (--quick) or 8 (the 160M ones take up to\n"
	"            twice that where it puts their points in main memory, beyond a large\n"
	"            last-level cache); without --hw it first\n"
	"            calibrates this machine afresh (not written to hw/) with the threads\n"
	"            of hw/host.yaml (or --threads), so that ceilings and measurements\n"
	"            are of one moment (H: a CPU descriptor); run and validate use as\n"
	"            many threads as H was calibrated with (validate: or --threads)\n"
	"\n"
	"M is a name in configs/ (gta-1b), a YAML path or a Hugging Face config.json;\n"
	"H is a name in hw/ (h100-sxm) or a path.  LIST is comma-separated (1,8,32).\n"
	"--set edits the device for what-if questions: bandwidth=6.7e12, peak=2x, L2.bandwidth=...\n";

static void report(const struct ar_err *err)
{
	char buf[1200];

	ar_err_format(err, buf, sizeof(buf));
	fprintf(stderr, "%s\n", buf);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "attnroof: error: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(run 'attnroof --help' for usage)\n");
	return EXIT_USAGE;
}

/* ---- options ---- */

enum { MAX_LIST = 64 };

struct opts {
	const char *models[MAX_LIST];
	int n_models;
	const char *hws[MAX_LIST];
	int n_hws;
	const char *sets[MAX_LIST];
	int n_sets;
	long batches[MAX_LIST];
	int n_batches;
	long seqs[MAX_LIST];
	int n_seqs;
	struct ar_workload wl;
	enum ar_format format;
	const char *output;
	unsigned given; /* OPT_* of the flags given */
};

/* The common flags, in the order of opt_names */
enum {
	OPT_MODEL = 1u << 0, OPT_HW = 1u << 1, OPT_SET = 1u << 2, OPT_BATCH = 1u << 3,
	OPT_SEQ = 1u << 4, OPT_GEN = 1u << 5, OPT_TP = 1u << 6, OPT_WBITS = 1u << 7,
	OPT_ABITS = 1u << 8, OPT_KVBITS = 1u << 9, OPT_ATTN = 1u << 10, OPT_FORMAT = 1u << 11,
	OPT_OUTPUT = 1u << 12,
	OPT_BITS = OPT_WBITS | OPT_ABITS | OPT_KVBITS,
};
static const char *const opt_names[] = {
	"--model", "--hw", "--set", "--batch", "--seq", "--gen", "--tp", "--wbits", "--abits",
	"--kvbits", "--attn", "--format", "--output", NULL
};

/* A command's own flag f, bit `bit` of *given: a usage error the second time */
static int once(unsigned *given, unsigned bit, const char *f)
{
	if (*given & bit)
		return usage_error("%s given twice", f);
	*given |= bit;
	return 0;
}

/* A usage error for the first flag in `not` that o was given: `cmd` does not
 * take it */
static int refuse(const struct opts *o, unsigned not, const char *cmd)
{
	char msg[128];

	for (int k = 0; opt_names[k]; k++)
		if (o->given & not & (1u << k)) {
			snprintf(msg, sizeof(msg), "%s is not an option of %s", opt_names[k], cmd);
			return usage_error("%s", msg);
		}
	return 0;
}

/* Parse a whole number for flag `flag`.  Syntax errors are usage errors (2);
 * range is checked later as bad input (1). */
static int parse_count(const char *flag, const char *s, long *out)
{
	double v;

	if (ar_parse_double(s, &v) || v != floor(v)) {
		fprintf(stderr, "attnroof: error: %s: '%s' is not a whole number\n", flag, s);
		return EXIT_USAGE;
	}
	if (fabs(v) > 9.0e15) {
		fprintf(stderr, "attnroof: error: %s: %s is too large\n", flag, s);
		return 1;
	}
	*out = (long)v;
	return 0;
}

static int parse_list(const char *flag, const char *s, long *out, int *n)
{
	char buf[512], *tok = buf, *comma;

	if (strlen(s) >= sizeof(buf))
		return usage_error("%s: list too long", flag);
	strcpy(buf, s);
	/* every item between commas, empty ones included (1,,2 is a mistake) */
	do {
		int rc;
		if ((comma = strchr(tok, ',')))
			*comma = 0;
		if (!*tok)
			return usage_error("%s: an empty item in the list", flag);
		if (*n >= MAX_LIST)
			return usage_error("%s: more than 64 values", flag);
		if ((rc = parse_count(flag, tok, &out[*n])))
			return rc;
		(*n)++;
		if (comma)
			tok = comma + 1;
	} while (comma);
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o, int multi)
{
	o->wl = (struct ar_workload){ .batch = 1, .seq = 1024, .gen = 0, .attn = AR_ATTN_FLASH,
				      .wbits = 16, .abits = 16, .kvbits = 16, .tp = 1 };
	o->format = AR_FMT_TABLE;
	for (int i = 0; i < argc; i++) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		long x;
		int rc;

		if (!strcmp(f, "-h") || !strcmp(f, "--help")) {
			fputs(usage_text, stdout);
			exit(0);
		}
		if (strncmp(f, "--", 2))
			return usage_error("unexpected argument '%s'", f);
		int k = 0;
		while (opt_names[k] && strcmp(f, opt_names[k]))
			k++;
		if (!opt_names[k])
			return usage_error("unknown option '%s'", f);
		if (!v)
			return usage_error("%s needs a value", f);
		/* one value each, but for --set and, where several are compared,
		 * --model, --hw and the lists */
		unsigned bit = 1u << k;
		unsigned lists = OPT_SET | (multi ? OPT_MODEL | OPT_HW | OPT_BATCH | OPT_SEQ : 0);
		if (bit & lists)
			o->given |= bit;
		else if ((rc = once(&o->given, bit, f)))
			return rc;
		i++;
		switch (bit) {
		case OPT_MODEL:
			if (o->n_models == MAX_LIST)
				return usage_error("%s given too often", f);
			o->models[o->n_models++] = v;
			break;
		case OPT_HW:
			if (o->n_hws == MAX_LIST)
				return usage_error("%s given too often", f);
			o->hws[o->n_hws++] = v;
			break;
		case OPT_SET:
			if (o->n_sets == MAX_LIST)
				return usage_error("%s given too often", f);
			o->sets[o->n_sets++] = v;
			break;
		case OPT_BATCH:
		case OPT_SEQ: {
			int is_b = bit == OPT_BATCH;
			if (multi) {
				if ((rc = parse_list(f, v, is_b ? o->batches : o->seqs,
						     is_b ? &o->n_batches : &o->n_seqs)))
					return rc;
			} else {
				if ((rc = parse_count(f, v, &x)))
					return rc;
				*(is_b ? &o->wl.batch : &o->wl.seq) = x;
			}
			break;
		}
		case OPT_GEN:
		case OPT_TP:
			if ((rc = parse_count(f, v, &x)))
				return rc;
			*(bit == OPT_GEN ? &o->wl.gen : &o->wl.tp) = x;
			break;
		case OPT_WBITS:
		case OPT_ABITS:
		case OPT_KVBITS:
			if ((rc = parse_count(f, v, &x)))
				return rc;
			if (x < 0 || x > 64) {
				fprintf(stderr, "attnroof: error: %s must be 4, 8, 16 or 32, not %s\n", f, v);
				return 1;
			}
			*(bit == OPT_WBITS ? &o->wl.wbits : bit == OPT_ABITS ? &o->wl.abits
									: &o->wl.kvbits) = (int)x;
			break;
		case OPT_ATTN:
			if (!strcmp(v, "flash"))
				o->wl.attn = AR_ATTN_FLASH;
			else if (!strcmp(v, "naive"))
				o->wl.attn = AR_ATTN_NAIVE;
			else
				return usage_error("--attn must be flash or naive, not '%s'", v);
			break;
		case OPT_FORMAT: {
			int fk;
			for (fk = 0; fk < AR_FMT_COUNT; fk++)
				if (!strcmp(v, ar_format_names[fk]))
					break;
			if (fk == AR_FMT_COUNT)
				return usage_error("--format must be table, csv or json, not '%s'", v);
			o->format = (enum ar_format)fk;
			break;
		}
		default: /* OPT_OUTPUT */
			o->output = v;
		}
	}
	return 0;
}

/* ---- output: a temporary file renamed into place, so that nothing is
 * half-written on error ---- */

struct out {
	FILE *f;
	char tmp[AR_OUT_TMP_MAX];
	const char *path;
	int to_stdout; /* f is a temporary file that goes to stdout when committed */
	int direct;    /* f is path itself: a device, a FIFO or /dev/stdout */
	int write_errno; /* why a write to f failed, where the writer knew (else 0) */
};

/* stdout, by name */
static int is_stdout(const char *path)
{
	return !path || !strcmp(path, "-") || !strcmp(path, "/dev/stdout") ||
	       !strcmp(path, "/dev/fd/1") || !strcmp(path, "/proc/self/fd/1");
}

/* Whether `path` can be written, before a long measurement: a temporary file
 * made and removed again (none is left if the measurement is interrupted) */
static int out_check(const char *path)
{
	struct ar_err err = { 0 };
	char tmp[AR_OUT_TMP_MAX];
	int fd;

	if (is_stdout(path) || ar_out_in_place(path))
		return 0;
	if ((fd = ar_out_temp(path, tmp, sizeof(tmp), &err)) < 0) {
		report(&err);
		return 1;
	}
	close(fd);
	unlink(tmp);
	return 0;
}

static int out_open(struct out *o, const char *path)
{
	struct ar_err err = { 0 };
	char sp[160];
	int fd;

	o->path = path;
	o->tmp[0] = 0;
	o->to_stdout = o->direct = o->write_errno = 0;
	if (is_stdout(path)) {
		/* held until the command has succeeded (a sweep that fails
		 * half-way prints no rows); straight to stdout where no
		 * temporary file can be made */
		o->f = tmpfile();
		o->to_stdout = o->f != NULL;
		if (!o->f)
			o->f = stdout;
		return 0;
	}
	if (ar_out_in_place(path)) {
		if (!(o->f = fopen(path, "w"))) {
			fprintf(stderr, "attnroof: error: cannot write '%s': %s\n", ar_short(path, sp, sizeof(sp)),
				strerror(errno));
			return 1;
		}
		o->direct = 1;
		return 0;
	}
	if ((fd = ar_out_temp(path, o->tmp, sizeof(o->tmp), &err)) < 0) {
		report(&err);
		return 1;
	}
	if (!(o->f = fdopen(fd, "w"))) {
		fprintf(stderr, "attnroof: error: cannot write '%s': %s\n", ar_short(path, sp, sizeof(sp)),
				strerror(errno));
		close(fd);
		unlink(o->tmp);
		return 1;
	}
	return 0;
}

/* The reason for a failed write: errno as the failing call left it, else
 * (a stream's sticky error flag from an earlier write) EIO */
static const char *why(int e)
{
	return strerror(e ? e : EIO);
}

/* Finish the output: ok != 0 commits it, else discards it.  A failed write
 * is reported here (the writers only return non-zero); an error the writer
 * reported itself (ok == 0 with the stream intact) is not repeated.
 * Returns 0 or 1. */
static int out_close(struct out *o, int ok)
{
	struct ar_err err = { 0 };
	char sp[160];
	int bad, e;

	if (o->to_stdout) {
		errno = 0;
		bad = ferror(o->f) | (fflush(o->f) != 0) | (fseek(o->f, 0, SEEK_SET) != 0);
		e = errno;
		if (bad) {
			fprintf(stderr, "attnroof: error: cannot hold the output: %s\n", why(e));
		} else if (ok) {
			bad = ar_copy_stream(o->f, stdout) != 0;
			e = errno;
			if (bad)
				fprintf(stderr, "attnroof: error: cannot write to standard output: %s\n",
					why(e));
		}
		fclose(o->f);
		return ok && !bad ? 0 : 1;
	}
	if (o->f == stdout) {
		errno = 0;
		bad = ferror(stdout) | (fflush(stdout) != 0);
		if (bad)
			fprintf(stderr, "attnroof: error: cannot write to standard output: %s\n",
				why(errno));
		return ok && !bad ? 0 : 1;
	}
	errno = 0;
	bad = ferror(o->f);
	bad |= fclose(o->f) != 0;
	e = errno ? errno : o->write_errno;
	if (bad) {
		fprintf(stderr, "attnroof: error: cannot write '%s': %s\n",
			ar_short(o->path, sp, sizeof(sp)), why(e));
		if (!o->direct)
			unlink(o->tmp);
		return 1;
	}
	if (o->direct)
		return ok ? 0 : 1;
	if (!ok) {
		unlink(o->tmp);
		return 1;
	}
	if (ar_out_commit(o->tmp, o->path, &err)) {
		report(&err);
		return 1;
	}
	return 0;
}

/* ---- loading ---- */

static int load_hw(const char *arg, const struct opts *o, struct ar_hw *hw)
{
	struct ar_err err = { 0 };
	char path[512];

	if (ar_resolve("hw", arg, path, sizeof(path), &err) || ar_hw_load(hw, path, &err)) {
		report(&err);
		return 1;
	}
	for (int i = 0; i < o->n_sets; i++)
		if (ar_hw_set(hw, o->sets[i], &err)) {
			report(&err);
			return 1;
		}
	return 0;
}

static int load_model(const char *arg, struct ar_model *m)
{
	struct ar_err err = { 0 };

	if (ar_model_open(m, arg, &err)) {
		report(&err);
		return 1;
	}
	return 0;
}

/* ---- commands ---- */

static int cmd_analyze(int argc, char **argv)
{
	struct opts o = { 0 };
	struct ar_model m;
	struct ar_hw hw;
	struct ar_err err = { 0 };
	struct out out;
	int rc;
	static struct ar_analysis an;

	if ((rc = parse_opts(argc, argv, &o, 0)))
		return rc;
	if (!o.n_models)
		return usage_error("%s", "analyze needs --model");
	if (!o.n_hws)
		return usage_error("%s", "analyze needs --hw");
	if (load_model(o.models[0], &m) || load_hw(o.hws[0], &o, &hw))
		return 1;
	if (ar_analyze(&an, &m, &hw, &o.wl, &err)) {
		report(&err);
		return 1;
	}
	if (out_open(&out, o.output))
		return 1;
	rc = o.format == AR_FMT_JSON ? ar_write_json(out.f, &an)
	   : o.format == AR_FMT_CSV ? ar_write_csv(out.f, &an)
	   : ar_write_table(out.f, &an);
	return out_close(&out, rc == 0);
}

static int cmd_sweep(int argc, char **argv)
{
	static struct ar_model models[MAX_LIST];
	static struct ar_hw hws[MAX_LIST];
	static struct ar_analysis an;
	struct opts o = { 0 };
	struct ar_err err = { 0 };
	struct out out;
	int rc, ok = 1;

	if ((rc = parse_opts(argc, argv, &o, 1)))
		return rc;
	if (!o.n_models || !o.n_hws || !o.n_batches || !o.n_seqs)
		return usage_error("%s", "sweep needs --model, --hw, --batch and --seq");
	if (o.format == AR_FMT_JSON)
		return usage_error("%s", "sweep writes csv or table (CSV rows)");
	for (int i = 0; i < o.n_models; i++)
		if (load_model(o.models[i], &models[i]))
			return 1;
	for (int i = 0; i < o.n_hws; i++)
		if (load_hw(o.hws[i], &o, &hws[i]))
			return 1;
	/* check every point before writing anything */
	for (int i = 0; i < o.n_models; i++)
		for (int b = 0; b < o.n_batches; b++)
			for (int s = 0; s < o.n_seqs; s++) {
				struct ar_workload wl = o.wl;
				wl.batch = o.batches[b];
				wl.seq = o.seqs[s];
				if (ar_workload_check(&models[i], &wl, &err)) {
					report(&err);
					return 1;
				}
			}
	if (out_open(&out, o.output))
		return 1;
	ok = ar_write_sweep_header(out.f) == 0;
	for (int i = 0; ok && i < o.n_models; i++)
		for (int h = 0; ok && h < o.n_hws; h++)
			for (int b = 0; ok && b < o.n_batches; b++)
				for (int s = 0; ok && s < o.n_seqs; s++) {
					struct ar_workload wl = o.wl;
					wl.batch = o.batches[b];
					wl.seq = o.seqs[s];
					if (ar_analyze(&an, &models[i], &hws[h], &wl, &err)) {
						report(&err);
						ok = 0;
						break;
					}
					ok = ar_write_sweep_row(out.f, &an) == 0;
				}
	return out_close(&out, ok);
}

static int cmd_table(int argc, char **argv)
{
	static struct ar_table t;
	static char paths[AR_TABLE_MAX_ROWS][512];
	const char *model = "gta-1b", *output = NULL;
	enum ar_table_format fmt = AR_TABLE_MD;
	struct ar_err err = { 0 };
	struct ar_model base;
	struct out out;
	int n = 0, rc;
	unsigned given = 0;

	for (int i = 0; i < argc; i++) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(f, "-h") || !strcmp(f, "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (strncmp(f, "--", 2))
			return usage_error("unexpected argument '%s'", f);
		if (strcmp(f, "--model") && strcmp(f, "--output") && strcmp(f, "--format"))
			return usage_error("unknown option '%s'", f);
		if (!v)
			return usage_error("%s needs a value", f);
		if ((rc = once(&given, f[2] == 'm' ? 1 : f[2] == 'o' ? 2 : 4, f)))
			return rc;
		i++;
		if (!strcmp(f, "--model")) {
			model = v;
		} else if (!strcmp(f, "--output")) {
			output = v;
		} else if (!strcmp(f, "--format")) {
			int k;
			for (k = 0; k < AR_TABLE_FMT_COUNT; k++)
				if (!strcmp(v, ar_table_format_names[k]))
					break;
			if (k == AR_TABLE_FMT_COUNT)
				return usage_error("--format must be md, csv, json or latex, not '%s'", v);
			fmt = (enum ar_table_format)k;
		} else {
			return usage_error("unknown option '%s'", f);
		}
	}
	if (load_model(model, &base))
		return 1;
	if (ar_table_find_archs(paths, AR_TABLE_MAX_ROWS, &n, &err) ||
	    ar_table_build(&t, &base, paths, n, &err)) {
		report(&err);
		return 1;
	}
	if (out_open(&out, output))
		return 1;
	rc = ar_table_write(out.f, &t, fmt);
	return out_close(&out, rc == 0);
}

static int cmd_plot(int argc, char **argv)
{
	static struct ar_model models[MAX_LIST];
	static struct ar_hw hw;
	struct opts o = { 0 };
	struct ar_plot p = { 0 };
	struct ar_err err = { 0 };
	char *rest[2 * MAX_LIST + 64];
	const char *term = NULL;
	unsigned own = 0;
	int n = 0, rc, k;

	if (argc < 1 || !strncmp(argv[0], "-", 1)) {
		if (argc >= 1 && (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help"))) {
			fputs(usage_text, stdout);
			return 0;
		}
		return usage_error("%s", "plot needs a kind: roofline, latency, speedup, kv or measured");
	}
	for (k = 0; k < AR_PLOT_COUNT; k++)
		if (!strcmp(argv[0], ar_plot_kind_names[k]))
			break;
	if (k == AR_PLOT_COUNT)
		return usage_error("unknown plot '%s' (roofline, latency, speedup, kv, measured)", argv[0]);
	p.kind = (enum ar_plot_kind)k;
	/* plot's own flags; the rest are analyze's */
	for (int i = 1; i < argc; i++) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(f, "--input") || !strcmp(f, "--term")) {
			if (!v)
				return usage_error("%s needs a value", f);
			if ((rc = once(&own, f[2] == 'i' ? 1 : 2, f)))
				return rc;
			*(f[2] == 'i' ? &p.input : &term) = v;
			i++;
		} else if (n < (int)(sizeof(rest) / sizeof(*rest))) {
			rest[n++] = argv[i];
		} else {
			return usage_error("%s", "too many arguments");
		}
	}
	if ((rc = parse_opts(n, rest, &o, 1)) ||
	    (rc = refuse(&o, OPT_FORMAT | OPT_GEN, "plot")) ||
	    (p.kind == AR_PLOT_MEASURED &&
	     (rc = refuse(&o, OPT_MODEL | OPT_HW | OPT_SET | OPT_BATCH | OPT_SEQ | OPT_TP | OPT_BITS |
				  OPT_ATTN, "plot measured"))))
		return rc;
	if (p.input && p.kind != AR_PLOT_MEASURED)
		return usage_error("--input is for plot measured, not plot %s", ar_plot_kind_names[p.kind]);
	/* one point: the roofline at one batch and length, the KV plot at one batch */
	if (p.kind == AR_PLOT_ROOFLINE && (o.n_batches > 1 || o.n_seqs > 1))
		return usage_error("%s", "plot roofline takes one --batch and one --seq");
	if (p.kind == AR_PLOT_KV && o.n_batches > 1)
		return usage_error("%s", "plot kv takes one --batch");
	p.output = o.output;
	if (term) {
		for (k = 0; k < AR_PLOT_TERM_COUNT; k++)
			if (!strcmp(term, ar_plot_term_names[k]))
				break;
		if (k == AR_PLOT_TERM_COUNT)
			return usage_error("--term must be png, svg or dumb, not '%s'", term);
		p.term = (enum ar_plot_term)k;
	} else {
		size_t len = p.output ? strlen(p.output) : 0;
		p.term = len > 4 && !strcmp(p.output + len - 4, ".png") ? AR_PLOT_PNG
		       : len > 4 && !strcmp(p.output + len - 4, ".svg") ? AR_PLOT_SVG : AR_PLOT_DUMB;
	}
	if (o.n_hws > 1)
		return usage_error("%s", "plot takes one --hw");
	if (p.kind == AR_PLOT_MEASURED && !p.input)
		return usage_error("%s", "plot measured needs --input FILE");
	if (p.kind != AR_PLOT_MEASURED && (!o.n_models || !o.n_hws))
		return usage_error("plot %s needs --model and --hw", ar_plot_kind_names[p.kind]);
	if (p.kind == AR_PLOT_SPEEDUP && o.n_models != 2)
		return usage_error("%s", "plot speedup needs exactly two --model (the baseline first)");
	for (int i = 0; i < o.n_models; i++)
		if (load_model(o.models[i], &models[i]))
			return 1;
	if (o.n_hws && load_hw(o.hws[0], &o, &hw))
		return 1;
	p.models = models;
	p.n_models = o.n_models;
	p.hw = o.n_hws ? &hw : NULL;
	p.wl = o.wl;
	p.wl.batch = o.n_batches ? o.batches[0] : 1;
	p.wl.seq = o.n_seqs ? o.seqs[0] : 1024;
	p.batches = o.batches;
	p.n_batches = o.n_batches;
	p.seqs = o.seqs;
	p.n_seqs = o.n_seqs;
	struct out out;
	if (out_open(&out, o.output))
		return 1;
	if ((rc = ar_plot_render(&p, out.f, &err)) < 0)
		report(&err);
	else if (rc)
		out.write_errno = errno;
	return out_close(&out, rc == 0);
}

/* A positive number for flag f: syntax → 2, range → 1. */
static int parse_positive(const char *f, const char *v, double *out)
{
	if (ar_parse_double(v, out)) {
		fprintf(stderr, "attnroof: error: %s: '%s' is not a number\n", f, v);
		return EXIT_USAGE;
	}
	if (!(*out > 0) || !isfinite(*out)) {
		fprintf(stderr, "attnroof: error: %s must be > 0, not %s\n", f, v);
		return 1;
	}
	return 0;
}

static int cmd_size(int argc, char **argv)
{
	static struct ar_model models[MAX_LIST];
	static struct ar_hw hws[MAX_LIST];
	struct ar_size_result *res;
	struct ar_size_req req = { .max_tp = 64 };
	struct opts o = { 0 };
	struct ar_err err = { 0 };
	struct out out;
	char *rest[2 * MAX_LIST + 64];
	const char *context = NULL, *plot_dir = NULL;
	/* size's own flags (the rest are analyze's): the index is the flag's
	 * bit for the repeat check; all but --offload take a value */
	enum { F_CONTEXT, F_PLOT, F_RESERVE, F_TTFT, F_TPOT, F_THROUGHPUT, F_OFFLOAD, F_OWN };
	static const char *const own_flags[F_OWN] = { "--context", "--plot", "--reserve", "--ttft",
						      "--tpot", "--throughput", "--offload" };
	unsigned own = 0;
	int n = 0, rc, nr = 0;

	for (int i = 0; i < argc; i++) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int k = 0;
		while (k < F_OWN && strcmp(f, own_flags[k]))
			k++;
		if (k == F_OWN) {
			if (n >= (int)(sizeof(rest) / sizeof(*rest)))
				return usage_error("%s", "too many arguments");
			rest[n++] = argv[i];
			continue;
		}
		if (k != F_OFFLOAD && !v)
			return usage_error("%s needs a value", f);
		if ((rc = once(&own, 1u << k, f)))
			return rc;
		i += k != F_OFFLOAD;
		switch (k) {
		case F_OFFLOAD:
			req.offload = 1;
			break;
		case F_CONTEXT:
			context = v;
			break;
		case F_PLOT:
			plot_dir = v;
			break;
		case F_RESERVE: {
			double r;
			if (ar_parse_double(v, &r))
				return usage_error("--reserve: '%s' is not a number", v);
			if (!(r >= 0) || !isfinite(r)) {
				fprintf(stderr, "attnroof: error: --reserve must be a share below 1 "
						"(0.1) or bytes (2e9), not %s\n", v);
				return 1;
			}
			*(r < 1 ? &req.reserve_frac : &req.reserve_bytes) = r;
			break;
		}
		default:
			if ((rc = parse_positive(f, v, k == F_TTFT ? &req.ttft_s
						       : k == F_TPOT ? &req.tpot_s : &req.throughput)))
				return rc;
		}
	}
	if ((rc = parse_opts(n, rest, &o, 1)))
		return rc;
	if (!o.n_models || !o.n_hws)
		return usage_error("%s", "size needs --model and --hw");
	if (o.n_batches > 1 || o.n_seqs > 1)
		return usage_error("%s", "size takes one --batch and one --context");
	if (context && o.n_seqs)
		return usage_error("%s", "give --context or --seq, not both");
	req.wl = o.wl;
	req.wl.batch = o.n_batches ? o.batches[0] : 1;
	req.wl.seq = o.n_seqs ? o.seqs[0] : 4096;
	if (context) {
		long s;
		if ((rc = parse_count("--context", context, &s)))
			return rc;
		if (s < 1 || s > 1L << 24) {
			fprintf(stderr, "attnroof: error: --context must be between 1 and %ld, not %s\n",
				1L << 24, context);
			return 1;
		}
		req.wl.seq = s;
	}
	for (int i = 0; i < o.n_models; i++)
		if (load_model(o.models[i], &models[i]))
			return 1;
	for (int i = 0; i < o.n_hws; i++)
		if (load_hw(o.hws[i], &o, &hws[i]))
			return 1;
	if (!(res = calloc((size_t)(o.n_models * o.n_hws), sizeof(*res)))) {
		fprintf(stderr, "attnroof: error: out of memory\n");
		return 1;
	}
	/* every result before any output */
	for (int h = 0; h < o.n_hws; h++)
		for (int i = 0; i < o.n_models; i++)
			if (ar_size_run(&res[nr++], &models[i], &hws[h], &req, &err)) {
				report(&err);
				free(res);
				return 1;
			}
	if (out_open(&out, o.output)) {
		free(res);
		return 1;
	}
	rc = o.format == AR_FMT_JSON ? ar_size_write_json(out.f, res, nr, &req)
	   : o.format == AR_FMT_CSV ? ar_size_write_csv(out.f, res, nr, &req)
	   : ar_size_write_table(out.f, res, nr, &req);
	/* the plots once the report is written, the report kept only with them */
	if (rc == 0 && plot_dir &&
	    (rc = ar_size_plot(plot_dir, res, models, o.n_models, hws, o.n_hws, &err)))
		report(&err);
	free(res);
	return out_close(&out, rc == 0);
}

/* ---- run, calibrate, validate: the executor on this machine ---- */

/* The descriptor run and validate predict from (--hw, else hw/host.yaml if
 * there is one: 0 with *have = 0 when there is none), --set applied; a CPU's
 * units are the threads they run, so at most MAX_THREADS of them */
static int host_hw(const struct opts *o, struct ar_hw *hw, int *have)
{
	struct ar_err err = { 0 };
	char path[512];

	*have = 0;
	if (o->n_hws) {
		if (load_hw(o->hws[0], o, hw))
			return 1;
		*have = 1;
	} else if (ar_resolve("hw", "host", path, sizeof(path), &err) == 0) {
		if (load_hw(path, o, hw))
			return 1;
		*have = 1;
	}
	if (*have && hw->kind == AR_HW_CPU && hw->units > MAX_THREADS) {
		fprintf(stderr, "attnroof: error: '%s' has %ld units, more threads than the executor runs (at most %d)\n",
			hw->name, hw->units, MAX_THREADS);
		return 1;
	}
	return 0;
}

struct run_phase {
	const char *what;
	int n_ops;
	enum ar_op_id ids[AR_GRAPH_MAX_OPS];
	double layers[AR_GRAPH_MAX_OPS], meas[AR_GRAPH_MAX_OPS], pred[AR_GRAPH_MAX_OPS];
	double meas_s, pred_s;
};

static void run_phase_from(struct run_phase *r, const struct ar_graph *g)
{
	r->n_ops = g->n_ops;
	for (int i = 0; i < g->n_ops; i++) {
		r->ids[i] = g->ops[i].id;
		r->layers[i] = g->ops[i].layers;
	}
}

static void run_write(FILE *f, const struct opts *o, const struct ar_model *m,
		      const struct ar_exec *ex, const struct run_phase *ph, int have_hw,
		      const char *hw_name)
{
	const struct ar_exec_plan *p = &ex->plan;

	if (o->format == AR_FMT_JSON) {
		fprintf(f, "{\n  \"model\": \"%s\", \"batch\": %ld, \"seq\": %ld, \"gen\": %ld, \"attn\": \"%s\", \"threads\": %d,\n",
			m->name, o->wl.batch, o->wl.seq, o->wl.gen, ar_attn_impl_names[o->wl.attn],
			ar_kernels_threads());
		fprintf(f, "  \"hardware\": %s%s%s,\n", have_hw ? "\"" : "", have_hw ? hw_name : "null",
			have_hw ? "\"" : "");
		fprintf(f, "  \"memory\": {\"weights_bytes\": %.0f, \"kv_cache_bytes\": %.0f, \"activation_bytes\": %.0f, \"scratch_bytes\": %.0f, \"total_bytes\": %.0f},\n",
			p->weight_bytes, p->kv_bytes, p->act_bytes, p->scratch_bytes, p->total_bytes);
		for (int k = 0; k < 2; k++) {
			const struct run_phase *r = &ph[k];
			fprintf(f, "  \"%s\": {\"what\": \"%s\", \"measured_s\": %.6g, \"predicted_s\": ",
				ar_phase_names[k], r->what, r->meas_s);
			have_hw ? fprintf(f, "%.6g", r->pred_s) : fprintf(f, "null");
			fprintf(f, ", \"ops\": [\n");
			for (int i = 0; i < r->n_ops; i++) {
				fprintf(f, "    {\"name\": \"%s\", \"layers\": %g, \"measured_s\": %.6g, \"predicted_s\": ",
					ar_op_names[r->ids[i]], r->layers[i], r->meas[i]);
				have_hw ? fprintf(f, "%.6g", r->pred[i]) : fprintf(f, "null");
				fprintf(f, "}%s\n", i + 1 < r->n_ops ? "," : "");
			}
			fprintf(f, "  ]}%s\n", k ? "" : ",");
		}
		fprintf(f, "}\n");
		return;
	}
	char b1[32], b2[32], b3[32], b4[32];
	fprintf(f, "run %s: batch %ld, prompt %ld, gen %ld, attention %s, %d threads, fp32; predictions: %s\n",
		m->name, o->wl.batch, o->wl.seq, o->wl.gen, ar_attn_impl_names[o->wl.attn],
		ar_kernels_threads(), have_hw ? hw_name : "none (run attnroof calibrate)");
	fprintf(f, "memory: weights %s, KV cache %s, activations %s, scratch %s\n",
		ar_fmt_si(b1, sizeof(b1), p->weight_bytes, "B"), ar_fmt_si(b2, sizeof(b2), p->kv_bytes, "B"),
		ar_fmt_si(b3, sizeof(b3), p->act_bytes, "B"), ar_fmt_si(b4, sizeof(b4), p->scratch_bytes, "B"));
	for (int k = 0; k < 2; k++) {
		const struct run_phase *r = &ph[k];
		fprintf(f, "\n%s (%s): measured %s", ar_phase_names[k], r->what,
			ar_fmt_si(b1, sizeof(b1), r->meas_s, "s"));
		if (have_hw)
			fprintf(f, ", predicted %s (%+.1f%%)", ar_fmt_si(b2, sizeof(b2), r->pred_s, "s"),
				100 * (r->pred_s - r->meas_s) / r->meas_s);
		fprintf(f, "\n  %-16s %6s %14s %14s %8s\n", "op", "layers", "measured_us", "predicted_us", "error");
		for (int i = 0; i < r->n_ops; i++) {
			fprintf(f, "  %-16s %6g %14.2f ", ar_op_names[r->ids[i]], r->layers[i], r->meas[i] * 1e6);
			if (have_hw)
				fprintf(f, "%14.2f %+7.1f%%\n", r->pred[i] * 1e6,
					r->meas[i] > 0 ? 100 * (r->pred[i] - r->meas[i]) / r->meas[i] : 0);
			else
				fprintf(f, "%14s %8s\n", "-", "-");
		}
	}
}

static int cmd_run(int argc, char **argv)
{
	struct opts o = { 0 };
	struct ar_model m;
	struct ar_hw hw;
	struct ar_err err = { 0 };
	static struct ar_exec ex;
	static struct run_phase ph[2];
	struct ar_graph g;
	struct ar_phase_time pt;
	struct out out;
	int rc, have_hw;

	/* the executor computes in fp32 on one device */
	if ((rc = parse_opts(argc, argv, &o, 0)) || (rc = refuse(&o, OPT_BITS | OPT_TP, "run")))
		return rc;
	if (!o.n_models)
		return usage_error("%s", "run needs --model");
	if (o.format == AR_FMT_CSV)
		return usage_error("%s", "run writes table or json");
	o.wl.wbits = o.wl.abits = o.wl.kvbits = 32;
	if (load_model(o.models[0], &m) || host_hw(&o, &hw, &have_hw))
		return 1;
	if (o.n_sets && !have_hw)
		return usage_error("%s", "--set edits the device run predicts from: give --hw, or calibrate hw/host.yaml first");
	if (ar_workload_check(&m, &o.wl, &err)) {
		report(&err);
		return 1;
	}
	double onchip = have_hw ? hw.onchip_bytes_per_unit : 524288;
	long S = o.wl.seq, G = o.wl.gen, cap = S + G;
	/* the output can be written (or the run is not worth making) */
	if (out_check(o.output))
		return 1;
	/* as many threads as the descriptor was measured with, else every core */
	ar_kernels_set_threads(have_hw && hw.kind == AR_HW_CPU ? (int)hw.units : 0);
	if (ar_exec_init(&ex, &m, o.wl.batch, S, cap, o.wl.attn, onchip, 1, 0, &err)) {
		report(&err);
		return 1;
	}
	/* prefill: warm-up, then the median of 3 */
	struct ar_workload wl = o.wl;
	ar_graph_build(&g, &m, &wl, onchip, AR_PHASE_PREFILL);
	run_phase_from(&ph[0], &g);
	ph[0].what = "prompt, median of 3 after a warm-up";
	if (ar_exec_measure(&ex, &g, 1, 3, ph[0].meas, &ph[0].meas_s, &err) ||
	    (have_hw && ar_roofline_eval(&g, &hw, &pt, &err)))
		goto fail;
	for (int i = 0; have_hw && i < g.n_ops; i++)
		ph[0].pred[i] = pt.ops[i].time_s;
	ph[0].pred_s = have_hw ? pt.time_s : 0;
	/* decode: the G−1 steps after the prompt (KV S+1 .. S+G−1), or one step at S */
	long first = G >= 2 ? S + 1 : S, last = G >= 2 ? S + G - 1 : S, steps = last - first + 1;
	wl.seq = first;
	ar_graph_build(&g, &m, &wl, onchip, AR_PHASE_DECODE);
	run_phase_from(&ph[1], &g);
	ph[1].what = G >= 2 ? "mean step of the generation" : "one step at the prompt length, median of 3";
	if (G < 2) {
		if (ar_exec_measure(&ex, &g, 1, 3, ph[1].meas, &ph[1].meas_s, &err) ||
		    (have_hw && ar_roofline_eval(&g, &hw, &pt, &err)))
			goto fail;
		for (int i = 0; have_hw && i < g.n_ops; i++)
			ph[1].pred[i] = pt.ops[i].time_s;
		ph[1].pred_s = have_hw ? pt.time_s : 0;
	} else {
		double t[AR_GRAPH_MAX_OPS];
		if (ar_exec_phase(&ex, &g, NULL, NULL, &err)) /* warm-up */
			goto fail;
		for (long s = first; s <= last; s++) {
			wl.seq = s;
			ar_graph_build(&g, &m, &wl, onchip, AR_PHASE_DECODE);
			if (ar_exec_phase(&ex, &g, t, NULL, &err) ||
			    (have_hw && ar_roofline_eval(&g, &hw, &pt, &err)))
				goto fail;
			for (int i = 0; i < g.n_ops; i++) {
				ph[1].meas[i] += t[i] / steps;
				ph[1].meas_s += t[i] * g.ops[i].layers / steps;
				if (have_hw)
					ph[1].pred[i] += pt.ops[i].time_s / steps;
			}
			ph[1].pred_s += have_hw ? pt.time_s / steps : 0;
		}
	}
	if (out_open(&out, o.output))
		goto fail_quiet;
	run_write(out.f, &o, &m, &ex, ph, have_hw, have_hw ? hw.name : "");
	ar_exec_release(&ex);
	return out_close(&out, 1);
fail:
	report(&err);
fail_quiet:
	ar_exec_release(&ex);
	return 1;
}

/* The summary's note when calibration had to run again. */
static const char *again(const struct ar_calib *c, char *buf, size_t size)
{
	if (!c->disagreement)
		return "";
	if (ar_calibrate_disagreement(c))
		snprintf(buf, size, "; calibrated %d times, still off: %s", c->attempts,
			 c->disagreement);
	else
		snprintf(buf, size, "; calibrated again: %s", c->disagreement);
	return buf;
}

/* Calibrate into `path` (temporary file, then rename) and print a summary. */
static int calibrate_to(const char *path, int threads, int quiet)
{
	struct ar_calib c;
	struct ar_err err = { 0 };
	char note[160];
	struct out out;

	if (out_check(path))
		return 1;
	if (ar_calibrate_run(&c, threads, &err)) {
		report(&err);
		return 1;
	}
	if (out_open(&out, path))
		return 1;
	int ok = ar_calibrate_write_yaml(out.f, &c, "host") == 0;
	if (out_close(&out, ok))
		return 1;
	if (!quiet)
		printf("%s: %d threads, matrix %.1f GFLOP/s, vector %.1f GFLOP/s, exp %.2f G/s, "
		       "DRAM %.1f GB/s, overhead %.1f us (%.1f s%s)\n",
		       path && strcmp(path, "-") ? path : "host", c.threads, c.matrix_flops_per_s / 1e9,
		       c.vector_flops_per_s / 1e9, c.exp_per_s / 1e9, c.level_bw[0] / 1e9,
		       c.overhead_s * 1e6, c.wall_s, again(&c, note, sizeof(note)));
	return 0;
}

/* Calibrate this machine into hw (the descriptor calibrate would write, read
 * back from memory); a one-line summary on stderr. */
static int calibrate_into(struct ar_hw *hw, int threads)
{
	struct ar_calib c;
	struct ar_err err = { 0 };
	char note[160];

	if (ar_calibrate_run(&c, threads, &err) ||
	    ar_calibrate_descriptor(hw, &c, "host (calibrated now)", &err)) {
		report(&err);
		return 1;
	}
	fprintf(stderr, "calibrated now: %d threads, matrix %.1f GFLOP/s, vector %.1f GFLOP/s, "
		"exp %.2f G/s, DRAM %.1f GB/s, overhead %.1f us (%.1f s%s)\n", c.threads,
		c.matrix_flops_per_s / 1e9, c.vector_flops_per_s / 1e9, c.exp_per_s / 1e9,
		c.level_bw[0] / 1e9, c.overhead_s * 1e6, c.wall_s, again(&c, note, sizeof(note)));
	return 0;
}

/* --threads of calibrate and validate: no more than this machine's
 * processors (more would measure threads queueing for a core, and spin
 * barriers with more threads than cores take minutes) */
static int check_threads(long threads)
{
	int procs = ar_kernels_procs(), most = procs < MAX_THREADS ? procs : MAX_THREADS;

	if (threads >= 1 && threads <= most)
		return 0;
	fprintf(stderr, "attnroof: error: --threads must be between 1 and %d (the processors of this machine), not %ld\n",
		most, threads);
	return 1;
}

static int cmd_calibrate(int argc, char **argv)
{
	const char *output = "hw/host.yaml";
	long threads = 0;
	int rc;
	unsigned given = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
		int is_out = !strcmp(argv[i], "--output");
		if (!is_out && strcmp(argv[i], "--threads"))
			return usage_error("unknown option '%s'", argv[i]);
		if (i + 1 >= argc)
			return usage_error("%s needs a value", argv[i]);
		if ((rc = once(&given, 1u << is_out, argv[i])))
			return rc;
		if (is_out)
			output = argv[++i];
		else if ((rc = parse_count("--threads", argv[++i], &threads)) ||
			 (rc = check_threads(threads)))
			return rc;
	}
	return calibrate_to(output, (int)threads, !strcmp(output, "-"));
}

static int cmd_validate(int argc, char **argv)
{
	static struct ar_model models[MAX_LIST];
	struct opts o = { 0 };
	struct ar_hw hw;
	struct ar_err err = { 0 };
	struct ar_validation v;
	struct out out;
	int quick = 0, n = 0, rc, have_hw;
	long threads = 0;
	char *rest[2 * MAX_LIST + 16];
	int nrest = 0;
	unsigned own = 0;

	/* --quick takes no value, --threads is validate's own; everything else
	 * goes to the common parser */
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			if ((rc = once(&own, 1, argv[i])))
				return rc;
			quick = 1;
		} else if (!strcmp(argv[i], "--threads")) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", argv[i]);
			if ((rc = once(&own, 2, argv[i])))
				return rc;
			if ((rc = parse_count("--threads", argv[++i], &threads)))
				return rc;
			if ((rc = check_threads(threads)))
				return rc;
		} else if (nrest < (int)(sizeof(rest) / sizeof(*rest)))
			rest[nrest++] = argv[i];
		else
			return usage_error("%s", "too many arguments");
	}
	/* the grid's own batches, lengths and widths; --set edits a --hw */
	if ((rc = parse_opts(nrest, rest, &o, 1)) ||
	    (rc = refuse(&o, OPT_BATCH | OPT_SEQ | OPT_GEN | OPT_TP | OPT_BITS, "validate")) ||
	    (!o.n_hws && (rc = refuse(&o, OPT_SET, "validate without --hw"))))
		return rc;
	if (o.format == AR_FMT_CSV)
		return usage_error("%s", "validate writes table or json");
	if (out_check(o.output)) /* before the calibration, not minutes after */
		return 1;
	if (host_hw(&o, &hw, &have_hw))
		return 1;
	/* the grid runs on this machine's cores: another kind of device's
	 * predictions beside them would measure nothing of the model */
	if (o.n_hws && hw.kind != AR_HW_CPU) {
		fprintf(stderr, "attnroof: error: validate measures this machine's CPU, and '%s' is a %s descriptor (give a CPU one with --hw, or none to calibrate this machine)\n",
			hw.name, ar_hw_kind_names[hw.kind]);
		return 1;
	}
	/* the models named first: a bad one fails before the calibration */
	long layers = quick ? 4 : 8;
	for (int i = 0; i < o.n_models; i++) {
		if (load_model(o.models[i], &models[n]))
			return 1;
		if (models[n].layers > layers)
			ar_model_set_layers(&models[n], layers, models[n].moe.dense_layers);
		n++;
	}
	if (!o.n_hws) {
		/* this machine now, with --threads, else the threads hw/host.yaml
		 * was measured with (every core without it): a shared host's
		 * ceilings drift by tens of percent within the hour */
		int t = threads ? (int)threads : have_hw && hw.kind == AR_HW_CPU ? (int)hw.units : 0;
		if (calibrate_into(&hw, t))
			return 1;
	}
	/* --threads, else as many as the (CPU) descriptor was measured with */
	ar_kernels_set_threads(threads ? (int)threads : (int)hw.units);
	if (!o.n_models) {
		char notes[2048];
		if ((n = ar_validate_models(models, MAX_LIST, layers, &hw, quick, notes,
					    sizeof(notes), &err)) < 0) {
			report(&err);
			return 1;
		}
		fputs(notes, stderr); /* models resized or left out of the grid */
	}
	/* a descriptor calibrated just now may be calibrated again when the
	 * machine changes state during the grid; one given stays as given */
	if (ar_validate_run(&v, models, n, &hw, quick, o.wl.attn, !o.n_hws, &err)) {
		report(&err);
		return 1;
	}
	for (int i = 1; i < v.n_descriptors; i++)
		fprintf(stderr, "calibrated again after %s: DRAM %.1f GB/s, overhead %.1f us\n",
			v.desc_after[i], v.desc_dram_bw[i] / 1e9, v.desc_overhead_s[i] * 1e6);
	for (int i = 0; i < v.n_left_out; i++)
		fprintf(stderr, "calibrated again after %s: descriptor %d's state, left out\n",
			v.left_out_after[i], v.left_out_like[i]);
	if (out_open(&out, o.output)) {
		ar_validation_release(&v);
		return 1;
	}
	rc = o.format == AR_FMT_JSON ? ar_validate_write_json(out.f, &v)
	   : ar_validate_write_table(out.f, &v);
	ar_validation_release(&v);
	return out_close(&out, rc == 0);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("%s", "no command given");
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} commands[] = {
		{ "analyze", cmd_analyze }, { "sweep", cmd_sweep }, { "table", cmd_table },
		{ "plot", cmd_plot }, { "size", cmd_size }, { "run", cmd_run },
		{ "calibrate", cmd_calibrate }, { "validate", cmd_validate },
	};
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].run(argc - 2, argv + 2);
	return usage_error("unknown command '%s'", cmd);
}
