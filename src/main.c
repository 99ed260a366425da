/* attnroof command line: parses argv, calls the library, prints, exits.
 * Exit codes: 0 success, 1 bad input or failed run, 2 usage error. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doc.h"
#include "graph.h"
#include "hw.h"
#include "model.h"
#include "report.h"
#include "roofline.h"

#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: attnroof COMMAND [options]\n"
	"\n"
	"commands:\n"
	"  analyze   --model M --hw H [--batch B] [--seq S] [--gen G] [--attn flash|naive]\n"
	"            [--wbits 16] [--abits 16] [--kvbits 16] [--tp N] [--set KEY=VALUE ...]\n"
	"            [--format table|csv|json] [--output FILE]\n"
	"  sweep     --model M [--model M2 ...] --hw H [--hw H2 ...] --batch LIST --seq LIST\n"
	"            [--gen G] [--attn flash|naive] [bits, --tp, --set as analyze] [--output FILE]\n"
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
};

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
	char buf[512], *tok, *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return usage_error("%s: list too long", flag);
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int rc;
		if (*n >= MAX_LIST)
			return usage_error("%s: more than 64 values", flag);
		if ((rc = parse_count(flag, tok, &out[*n])))
			return rc;
		(*n)++;
	}
	if (*n == 0)
		return usage_error("%s: empty list", flag);
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
		if (!v)
			return usage_error("%s needs a value", f);
		i++;
		if (!strcmp(f, "--model")) {
			if (o->n_models == MAX_LIST || (!multi && o->n_models))
				return usage_error("%s given too often", f);
			o->models[o->n_models++] = v;
		} else if (!strcmp(f, "--hw")) {
			if (o->n_hws == MAX_LIST || (!multi && o->n_hws))
				return usage_error("%s given too often", f);
			o->hws[o->n_hws++] = v;
		} else if (!strcmp(f, "--set")) {
			if (o->n_sets == MAX_LIST)
				return usage_error("%s given too often", f);
			o->sets[o->n_sets++] = v;
		} else if (!strcmp(f, "--batch") || !strcmp(f, "--seq")) {
			int is_b = f[2] == 'b';
			if (multi) {
				if ((rc = parse_list(f, v, is_b ? o->batches : o->seqs,
						     is_b ? &o->n_batches : &o->n_seqs)))
					return rc;
			} else {
				if ((rc = parse_count(f, v, &x)))
					return rc;
				*(is_b ? &o->wl.batch : &o->wl.seq) = x;
			}
		} else if (!strcmp(f, "--gen") || !strcmp(f, "--tp")) {
			if ((rc = parse_count(f, v, &x)))
				return rc;
			*(f[2] == 'g' ? &o->wl.gen : &o->wl.tp) = x;
		} else if (!strcmp(f, "--wbits") || !strcmp(f, "--abits") || !strcmp(f, "--kvbits")) {
			if ((rc = parse_count(f, v, &x)))
				return rc;
			if (x < 0 || x > 64) {
				fprintf(stderr, "attnroof: error: %s must be 4, 8, 16 or 32, not %s\n", f, v);
				return 1;
			}
			*(f[2] == 'w' ? &o->wl.wbits : f[2] == 'a' ? &o->wl.abits : &o->wl.kvbits) = (int)x;
		} else if (!strcmp(f, "--attn")) {
			if (!strcmp(v, "flash"))
				o->wl.attn = AR_ATTN_FLASH;
			else if (!strcmp(v, "naive"))
				o->wl.attn = AR_ATTN_NAIVE;
			else
				return usage_error("--attn must be flash or naive, not '%s'", v);
		} else if (!strcmp(f, "--format")) {
			int k;
			for (k = 0; k < AR_FMT_COUNT; k++)
				if (!strcmp(v, ar_format_names[k]))
					break;
			if (k == AR_FMT_COUNT)
				return usage_error("--format must be table, csv or json, not '%s'", v);
			o->format = (enum ar_format)k;
		} else if (!strcmp(f, "--output")) {
			o->output = v;
		} else {
			return usage_error("unknown option '%s'", f);
		}
	}
	return 0;
}

/* ---- output: a temporary file renamed into place, so that nothing is
 * half-written on error ---- */

struct out {
	FILE *f;
	char tmp[600];
	const char *path;
};

static int out_open(struct out *o, const char *path)
{
	o->path = path;
	o->tmp[0] = 0;
	if (!path || !strcmp(path, "-")) {
		o->f = stdout;
		return 0;
	}
	snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.XXXXXX", path);
	int fd = mkstemp(o->tmp);
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		fprintf(stderr, "attnroof: error: cannot write '%s': %s\n", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(o->tmp);
		}
		return 1;
	}
	return 0;
}

/* Finish the output: ok != 0 commits it, else discards it.  Returns 0 or 1. */
static int out_close(struct out *o, int ok)
{
	if (o->f == stdout) {
		if (fflush(stdout) != 0 && ok) {
			fprintf(stderr, "attnroof: error: cannot write to standard output\n");
			return 1;
		}
		return ok ? 0 : 1;
	}
	int bad = ferror(o->f) | (fclose(o->f) != 0);
	if (ok && !bad && rename(o->tmp, o->path) == 0)
		return 0;
	if (ok)
		fprintf(stderr, "attnroof: error: cannot write '%s': %s\n", o->path, strerror(errno));
	unlink(o->tmp);
	return 1;
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

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("%s", "no command given");
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(cmd, "analyze"))
		return cmd_analyze(argc - 2, argv + 2);
	if (!strcmp(cmd, "sweep"))
		return cmd_sweep(argc - 2, argv + 2);
	return usage_error("unknown command '%s'", cmd);
}
