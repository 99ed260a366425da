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
#include "plot.h"
#include "report.h"
#include "roofline.h"
#include "size.h"
#include "table.h"

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
	"            [--offload] [bits, --attn, --tp, --set as analyze] [--format table|csv|json]\n"
	"            what fits (weights + KV + activations + reserve <= capacity), the largest\n"
	"            batch at context S (default 4096) and the longest context at batch B\n"
	"            (default 1), the fewest devices (tp x replicas) meeting the targets, the\n"
	"            elasticity of each phase to bandwidth, peak and link, and with --offload\n"
	"            the KV cache in host memory.  --reserve: a share below 1 (0.1) or bytes\n"
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

	for (int i = 0; i < argc; i++) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(f, "-h") || !strcmp(f, "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (strncmp(f, "--", 2))
			return usage_error("unexpected argument '%s'", f);
		if (!v)
			return usage_error("%s needs a value", f);
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
			*(f[2] == 'i' ? &p.input : &term) = v;
			i++;
		} else if (n < (int)(sizeof(rest) / sizeof(*rest))) {
			rest[n++] = argv[i];
		} else {
			return usage_error("%s", "too many arguments");
		}
	}
	if ((rc = parse_opts(n, rest, &o, 1)))
		return rc;
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
	if (ar_plot_render(&p, &err)) {
		report(&err);
		return 1;
	}
	return 0;
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
	const char *context = NULL;
	int n = 0, rc, nr = 0;

	/* size's own flags; the rest are analyze's */
	for (int i = 0; i < argc; i++) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(f, "--offload")) {
			req.offload = 1;
			continue;
		}
		if (strcmp(f, "--context") && strcmp(f, "--reserve") && strcmp(f, "--ttft") &&
		    strcmp(f, "--tpot") && strcmp(f, "--throughput")) {
			if (n >= (int)(sizeof(rest) / sizeof(*rest)))
				return usage_error("%s", "too many arguments");
			rest[n++] = argv[i];
			continue;
		}
		if (!v)
			return usage_error("%s needs a value", f);
		i++;
		if (!strcmp(f, "--context")) {
			context = v;
		} else if (!strcmp(f, "--reserve")) {
			double r;
			if (ar_parse_double(v, &r))
				return usage_error("--reserve: '%s' is not a number", v);
			if (!(r >= 0) || !isfinite(r)) {
				fprintf(stderr, "attnroof: error: --reserve must be a share below 1 "
						"(0.1) or bytes (2e9), not %s\n", v);
				return 1;
			}
			*(r < 1 ? &req.reserve_frac : &req.reserve_bytes) = r;
		} else if ((rc = parse_positive(f, v, !strcmp(f, "--ttft") ? &req.ttft_s
						   : !strcmp(f, "--tpot") ? &req.tpot_s
						   : &req.throughput))) {
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
	free(res);
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
	if (!strcmp(cmd, "analyze"))
		return cmd_analyze(argc - 2, argv + 2);
	if (!strcmp(cmd, "sweep"))
		return cmd_sweep(argc - 2, argv + 2);
	if (!strcmp(cmd, "table"))
		return cmd_table(argc - 2, argv + 2);
	if (!strcmp(cmd, "plot"))
		return cmd_plot(argc - 2, argv + 2);
	if (!strcmp(cmd, "size"))
		return cmd_size(argc - 2, argv + 2);
	return usage_error("unknown command '%s'", cmd);
}
