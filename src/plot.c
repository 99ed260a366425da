/* Plot data and the gnuplot run.  Data files are whitespace tables, one block
 * per series (blocks separated by two blank lines, each opening with a quoted
 * title line for columnheader); the scripts in plots/ take everything else as
 * variables on gnuplot's command line.  gnuplot's stderr is kept in the
 * temporary directory and its last line becomes the error message. */
#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "doc.h"
#include "out.h"
#include "report.h"

const char *const ar_plot_kind_names[AR_PLOT_COUNT] = {
	"roofline", "latency", "speedup", "kv", "measured",
};
const char *const ar_plot_term_names[AR_PLOT_TERM_COUNT] = { "png", "svg", "dumb" };
_Static_assert(sizeof(ar_plot_kind_names) / sizeof(*ar_plot_kind_names) == AR_PLOT_COUNT, "kinds");
_Static_assert(sizeof(ar_plot_term_names) / sizeof(*ar_plot_term_names) == AR_PLOT_TERM_COUNT, "terms");

/* Data files a plot may write (removed with the temporary directory). */
static const char *const data_files[] = {
	"roofline.dat", "latency_seq.dat", "latency_batch.dat", "speedup.dat", "kv.dat",
	"measured.dat", "gnuplot.err", NULL
};

/* ---- measured JSON ---- */

static int get_num(const struct ar_doc *d, const struct ar_node *map, const char *key,
		   double *out, struct ar_err *err)
{
	const struct ar_node *n = ar_node_get(map, key);

	if (!n)
		return ar_node_errf(d, map, err, "missing required key '%s'", key);
	return ar_node_num(d, n, key, 1, 1e30, out, err);
}

int ar_measured_load(struct ar_measured *m, const char *path, struct ar_err *err)
{
	struct ar_doc doc = { 0 };
	const struct ar_node *r, *s, *pts, *e;
	int rc = -1, i = 0;

	memset(m, 0, sizeof(*m));
	if (ar_doc_load_json(&doc, path, err))
		goto cleanup;
	r = doc.root;
	if (ar_node_expect(&doc, r, AR_NODE_MAP, "validate output", err))
		goto cleanup;
	if ((s = ar_node_get(r, "summary"))) {
		if (ar_node_expect(&doc, s, AR_NODE_MAP, "summary", err) ||
		    get_num(&doc, s, "median_abs_err", &m->median_abs_err, err) ||
		    get_num(&doc, s, "p90_abs_err", &m->p90_abs_err, err))
			goto cleanup;
		m->has_summary = 1;
	}
	if (!(pts = ar_node_get(r, "points"))) {
		ar_node_errf(&doc, r, err, "missing required key 'points'");
		goto cleanup;
	}
	if (ar_node_expect(&doc, pts, AR_NODE_SEQ, "points", err))
		goto cleanup;
	if (pts->n_children == 0) {
		ar_node_errf(&doc, pts, err, "'points' is empty");
		goto cleanup;
	}
	m->points = calloc((size_t)pts->n_children, sizeof(*m->points));
	if (!m->points) {
		ar_errf(err, path, 0, 0, "out of memory");
		goto cleanup;
	}
	for (e = pts->child; e; e = e->next, i++) {
		struct ar_measured_point *p = &m->points[i];
		const struct ar_node *n;
		char phase[16];
		double b, sq;

		if (ar_node_expect(&doc, e, AR_NODE_MAP, "point", err))
			goto cleanup;
		if (!(n = ar_node_get(e, "model"))) {
			ar_node_errf(&doc, e, err, "missing required key 'model'");
			goto cleanup;
		}
		if (ar_node_str(&doc, n, "model", p->model, sizeof(p->model), err))
			goto cleanup;
		snprintf(p->arch, sizeof(p->arch), "%.15s", p->model);
		if ((n = ar_node_get(e, "arch")) &&
		    ar_node_str(&doc, n, "arch", p->arch, sizeof(p->arch), err))
			goto cleanup;
		if (!(n = ar_node_get(e, "phase"))) {
			ar_node_errf(&doc, e, err, "missing required key 'phase'");
			goto cleanup;
		}
		if (ar_node_str(&doc, n, "phase", phase, sizeof(phase), err))
			goto cleanup;
		if (!strcmp(phase, "prefill"))
			p->phase = AR_PHASE_PREFILL;
		else if (!strcmp(phase, "decode"))
			p->phase = AR_PHASE_DECODE;
		else {
			ar_node_errf(&doc, n, err, "unknown phase '%s' (expected prefill, decode)", phase);
			goto cleanup;
		}
		if (get_num(&doc, e, "batch", &b, err) || get_num(&doc, e, "seq", &sq, err) ||
		    get_num(&doc, e, "predicted_s", &p->predicted_s, err) ||
		    get_num(&doc, e, "measured_s", &p->measured_s, err))
			goto cleanup;
		if (p->predicted_s <= 0 || p->measured_s <= 0) {
			ar_node_errf(&doc, e, err, "predicted_s and measured_s must be > 0");
			goto cleanup;
		}
		p->batch = (long)b;
		p->seq = (long)sq;
		m->n_points++;
	}
	rc = 0;
cleanup:
	ar_doc_release(&doc);
	return rc;
}

void ar_measured_release(struct ar_measured *m)
{
	free(m->points);
	memset(m, 0, sizeof(*m));
}

/* ---- checks ---- */

static int check_grid(const struct ar_plot *p, const long *b, int nb, const long *s, int ns,
		      struct ar_err *err)
{
	for (int i = 0; i < p->n_models; i++)
		for (int x = 0; x < nb; x++)
			for (int y = 0; y < ns; y++) {
				struct ar_workload wl = p->wl;
				wl.batch = b[x];
				wl.seq = s[y];
				if (ar_workload_check(&p->models[i], &wl, err))
					return -1;
			}
	return 0;
}

int ar_plot_check(const struct ar_plot *p, struct ar_err *err)
{
	const char *k = ar_plot_kind_names[p->kind];

	if (p->term == AR_PLOT_PNG || p->term == AR_PLOT_SVG)
		if (!p->output || !strcmp(p->output, "-"))
			return ar_errf(err, NULL, 0, 0, "a %s image needs an output file",
				       ar_plot_term_names[p->term]);
	if (p->kind == AR_PLOT_MEASURED)
		return p->input ? 0 : ar_errf(err, NULL, 0, 0, "plot measured needs --input FILE");
	if (!p->hw)
		return ar_errf(err, NULL, 0, 0, "plot %s needs --hw", k);
	if (p->n_models < 1)
		return ar_errf(err, NULL, 0, 0, "plot %s needs --model", k);
	if (p->kind == AR_PLOT_SPEEDUP && p->n_models != 2)
		return ar_errf(err, NULL, 0, 0,
			       "plot speedup needs exactly two --model (the baseline first), not %d",
			       p->n_models);
	if (p->kind == AR_PLOT_LATENCY || p->kind == AR_PLOT_SPEEDUP) {
		if (p->n_batches < 1 || p->n_seqs < 1)
			return ar_errf(err, NULL, 0, 0, "plot %s needs --batch LIST and --seq LIST", k);
		return check_grid(p, p->batches, p->n_batches, p->seqs, p->n_seqs, err);
	}
	if (p->kind == AR_PLOT_KV) {
		long b = p->n_batches ? p->batches[0] : p->wl.batch;
		if (p->n_seqs)
			return check_grid(p, &b, 1, p->seqs, p->n_seqs, err);
		return check_grid(p, &b, 1, &p->wl.seq, 1, err);
	}
	return check_grid(p, &p->wl.batch, 1, &p->wl.seq, 1, err);
}

/* ---- data ---- */

static FILE *open_data(const char *dir, const char *name, struct ar_err *err)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "w")))
		ar_errf(err, path, 0, 0, "cannot write: %s", strerror(errno));
	return f;
}

static int close_data(FILE *f, const char *name, struct ar_err *err)
{
	int bad = ferror(f) | (fclose(f) != 0);

	return bad ? ar_errf(err, name, 0, 0, "cannot write plot data") : 0;
}

/* Append "name='value'; " (gnuplot single quotes: ' doubled) to vars. */
static void var_str(char *vars, size_t n, const char *name, const char *value)
{
	size_t o = strlen(vars);

	o += (size_t)snprintf(vars + o, o < n ? n - o : 0, "%s='", name);
	for (const char *s = value; *s && o + 3 < n; s++) {
		if (*s == '\'')
			vars[o++] = '\'';
		vars[o++] = *s;
	}
	if (o + 3 < n) {
		memcpy(vars + o, "'; ", 4);
	}
}

static void var_num(char *vars, size_t n, const char *name, double v)
{
	size_t o = strlen(vars);

	snprintf(vars + o, o < n ? n - o : 0, "%s=%.10g; ", name, v);
}

static void block_title(FILE *f, int first, const char *fmt, const char *a, const char *b)
{
	if (!first)
		fprintf(f, "\n\n");
	fputc('"', f);
	fprintf(f, fmt, a, b);
	fprintf(f, "\"\n");
}

static int analyze_at(struct ar_analysis *an, const struct ar_plot *p, int model, long batch,
		      long seq, struct ar_err *err)
{
	struct ar_workload wl = p->wl;

	wl.batch = batch;
	wl.seq = seq;
	wl.gen = 0;
	return ar_analyze(an, &p->models[model], p->hw, &wl, err);
}

static void hw_vars(const struct ar_plot *p, char *vars, size_t n)
{
	char desc[200];

	var_str(vars, n, "hwname", p->hw->name);
	snprintf(desc, sizeof(desc), "%s, %s attention, W%d A%d KV%d", p->hw->name,
		 ar_attn_impl_names[p->wl.attn], p->wl.wbits, p->wl.abits, p->wl.kvbits);
	var_str(vars, n, "setting", desc);
}

/* Roofline: per (model, phase) block the ops with FLOPs and bytes: arithmetic
 * intensity (FLOP/B), attained FLOP/s = FLOPs / time, the op name. */
static int data_roofline(const struct ar_plot *p, struct ar_analysis *an, const char *dir,
			 char *vars, size_t n, struct ar_err *err)
{
	FILE *f = open_data(dir, "roofline.dat", err);
	char names[256] = "", bws[256] = "";
	int first = 1;

	if (!f)
		return -1;
	for (int i = 0; i < p->n_models; i++) {
		if (analyze_at(an, p, i, p->wl.batch, p->wl.seq, err)) {
			fclose(f);
			return -1;
		}
		for (int ph = 0; ph < AR_PHASE_COUNT; ph++) {
			const struct ar_graph *g = &an->graph[ph];
			block_title(f, first, "%s %s", p->models[i].name, ar_phase_names[ph]);
			first = 0;
			for (int k = 0; k < g->n_ops; k++) {
				const struct ar_op *op = &g->ops[k];
				double fl = op->mflops + op->vflops, by = ar_op_bytes(op);
				double t = an->time[ph].ops[k].time_s;
				if (fl <= 0 || by <= 0 || t <= 0)
					continue;
				fprintf(f, "%.6g %.6g %s\n", fl / by, fl / t, ar_op_names[op->id]);
			}
		}
	}
	if (close_data(f, "roofline.dat", err))
		return -1;
	for (int i = 0; i < p->hw->n_mem; i++) {
		const struct ar_mem_level *l = &p->hw->mem[i];
		size_t o = strlen(names), q = strlen(bws);
		if (l->bw_bytes_per_s <= 0)
			continue;
		snprintf(names + o, sizeof(names) - o, "%s%s", o ? " " : "", l->name);
		snprintf(bws + q, sizeof(bws) - q, "%s%.6g", q ? " " : "", l->bw_bytes_per_s);
	}
	for (char *c = names; *c; c++)
		if (*c == '\'' || *c == '"')
			*c = '_';
	var_num(vars, n, "nser", 2.0 * p->n_models);
	var_num(vars, n, "peak_m", ar_hw_peak(p->hw, 1, p->wl.wbits > p->wl.abits ? p->wl.wbits
									      : p->wl.abits));
	var_num(vars, n, "peak_v", ar_hw_peak(p->hw, 0, p->wl.abits));
	var_str(vars, n, "lvl_names", names);
	var_str(vars, n, "lvl_bws", bws);
	var_num(vars, n, "batch", (double)p->wl.batch);
	var_num(vars, n, "seq", (double)p->wl.seq);
	hw_vars(p, vars, n);
	return 0;
}

/* Latency: per model, time in ms against S at B = batches[0] and against B
 * at S = the last of seqs. */
static int data_latency(const struct ar_plot *p, struct ar_analysis *an, const char *dir,
			char *vars, size_t n, struct ar_err *err)
{
	long at_b = p->batches[0], at_s = p->seqs[p->n_seqs - 1];

	for (int which = 0; which < 2; which++) {
		const char *name = which ? "latency_batch.dat" : "latency_seq.dat";
		FILE *f = open_data(dir, name, err);
		if (!f)
			return -1;
		for (int i = 0; i < p->n_models; i++) {
			block_title(f, i == 0, "%s%s", p->models[i].name, "");
			int cnt = which ? p->n_batches : p->n_seqs;
			for (int j = 0; j < cnt; j++) {
				long b = which ? p->batches[j] : at_b, s = which ? at_s : p->seqs[j];
				if (analyze_at(an, p, i, b, s, err)) {
					fclose(f);
					return -1;
				}
				fprintf(f, "%ld %.6g %.6g\n", which ? b : s,
					an->time[AR_PHASE_PREFILL].time_s * 1e3,
					an->time[AR_PHASE_DECODE].time_s * 1e3);
			}
		}
		if (close_data(f, name, err))
			return -1;
	}
	var_num(vars, n, "nser", p->n_models);
	var_num(vars, n, "at_batch", (double)at_b);
	var_num(vars, n, "at_seq", (double)at_s);
	hw_vars(p, vars, n);
	return 0;
}

/* Speed-up: per phase a block of "seq-index batch-index speedup" rows, with
 * speedup = time(models[0]) / time(models[1]). */
static int data_speedup(const struct ar_plot *p, struct ar_analysis *an, const char *dir,
			char *vars, size_t n, struct ar_err *err)
{
	FILE *f = open_data(dir, "speedup.dat", err);
	char tics[1024];
	double lo = INFINITY, hi = 0;

	if (!f)
		return -1;
	for (int ph = 0; ph < AR_PHASE_COUNT; ph++) {
		block_title(f, ph == 0, "%s%s", ar_phase_names[ph], "");
		for (int y = 0; y < p->n_batches; y++) {
			for (int x = 0; x < p->n_seqs; x++) {
				double t[2];
				for (int i = 0; i < 2; i++) {
					if (analyze_at(an, p, i, p->batches[y], p->seqs[x], err)) {
						fclose(f);
						return -1;
					}
					t[i] = an->time[ph].time_s;
				}
				double s = t[0] / t[1];
				lo = fmin(lo, s);
				hi = fmax(hi, s);
				fprintf(f, "%d %d %.6g\n", x, y, s);
			}
			fprintf(f, "\n"); /* a scan line per batch */
		}
	}
	if (close_data(f, "speedup.dat", err))
		return -1;
	for (int axis = 0; axis < 2; axis++) {
		const long *v = axis ? p->batches : p->seqs;
		int cnt = axis ? p->n_batches : p->n_seqs;
		size_t o = 0;
		tics[0] = 0;
		for (int i = 0; i < cnt && o < sizeof(tics) - 40; i++)
			o += (size_t)snprintf(tics + o, sizeof(tics) - o, "%s\"%ld\" %d", i ? ", " : "",
					      v[i], i);
		var_str(vars, n, axis ? "ytics_s" : "xtics_s", tics);
	}
	var_num(vars, n, "nx", p->n_seqs);
	var_num(vars, n, "ny", p->n_batches);
	var_num(vars, n, "smin", lo);
	var_num(vars, n, "smax", hi);
	var_str(vars, n, "base", p->models[0].name);
	var_str(vars, n, "new", p->models[1].name);
	hw_vars(p, vars, n);
	return 0;
}

/* KV cache: per model the whole cache (all layers, batch B) in bytes against
 * the context length; default lengths 2^7 ... 2^17. */
static int data_kv(const struct ar_plot *p, struct ar_analysis *an, const char *dir,
		   char *vars, size_t n, struct ar_err *err)
{
	FILE *f = open_data(dir, "kv.dat", err);
	long b = p->n_batches ? p->batches[0] : p->wl.batch, def[11];
	const long *seqs = p->seqs;
	int ns = p->n_seqs;

	if (!f)
		return -1;
	if (!ns) {
		for (int i = 0; i < 11; i++)
			def[i] = 128L << i;
		seqs = def;
		ns = 11;
	}
	for (int i = 0; i < p->n_models; i++) {
		char label[128];
		struct ar_workload wl = p->wl;
		snprintf(label, sizeof(label), "%s (%.0f elements/token/layer)", p->models[i].name,
			 ar_model_kv_elems(&p->models[i]));
		block_title(f, i == 0, "%s%s", label, "");
		for (int j = 0; j < ns; j++) {
			wl.batch = b;
			wl.seq = seqs[j];
			wl.gen = 0;
			if (ar_analyze(an, &p->models[i], p->hw, &wl, err)) {
				fclose(f);
				return -1;
			}
			fprintf(f, "%ld %.6g %.6g\n", seqs[j], an->kv_cache_bytes,
				an->kv_cache_bytes + an->weights_bytes);
		}
	}
	if (close_data(f, "kv.dat", err))
		return -1;
	var_num(vars, n, "nser", p->n_models);
	var_num(vars, n, "capacity", p->hw->mem[0].capacity_bytes);
	var_str(vars, n, "memname", p->hw->mem[0].name);
	var_num(vars, n, "batch", (double)b);
	var_num(vars, n, "kvbits", p->wl.kvbits);
	hw_vars(p, vars, n);
	return 0;
}

/* Measured: per (arch, phase) block "measured_ms predicted_ms batch seq
 * point_type colour"
 * (one colour per arch, one point shape per phase: the models of an arch at
 * different sizes sit apart on the axes). */
static int data_measured(const struct ar_plot *p, const char *dir, char *vars, size_t n,
			 struct ar_err *err)
{
	struct ar_measured m;
	FILE *f;
	int first = 1, nser = 0;

	if (ar_measured_load(&m, p->input, err)) {
		ar_measured_release(&m);
		return -1;
	}
	if (!(f = open_data(dir, "measured.dat", err))) {
		ar_measured_release(&m);
		return -1;
	}
	/* series in order of first appearance; columns 5 and 6 are the point
	 * type (prefill 7, decode 9) and the colour (one per arch) */
	char archs[16][16], ptypes[512] = "", colours[512] = "";
	int n_arch = 0;
	for (int i = 0; i < m.n_points; i++) {
		int seen = 0, colour = 0;
		while (colour < n_arch && strcmp(archs[colour], m.points[i].arch))
			colour++;
		if (colour == 16) {
			ar_errf(err, p->input, 0, 0,
				"points of more than 16 architectures ('%s' is the 17th); the plot tells at most 16 apart",
				m.points[i].arch);
			fclose(f);
			ar_measured_release(&m);
			return -1;
		}
		if (colour == n_arch)
			snprintf(archs[n_arch++], sizeof(archs[0]), "%s", m.points[i].arch);
		for (int j = 0; j < i && !seen; j++)
			seen = !strcmp(m.points[j].arch, m.points[i].arch) &&
			       m.points[j].phase == m.points[i].phase;
		if (seen)
			continue;
		block_title(f, first, "%s %s", m.points[i].arch, ar_phase_names[m.points[i].phase]);
		first = 0;
		nser++;
		/* the series' shape and colour again, for the key's samples */
		size_t lp = strlen(ptypes), lc = strlen(colours);
		snprintf(ptypes + lp, sizeof(ptypes) - lp, "%s%d", lp ? " " : "",
			 m.points[i].phase == AR_PHASE_PREFILL ? 7 : 9);
		snprintf(colours + lc, sizeof(colours) - lc, "%s%d", lc ? " " : "", colour % 16 + 1);
		for (int j = i; j < m.n_points; j++)
			if (!strcmp(m.points[j].arch, m.points[i].arch) &&
			    m.points[j].phase == m.points[i].phase)
				fprintf(f, "%.6g %.6g %ld %ld %d %d\n", m.points[j].measured_s * 1e3,
					m.points[j].predicted_s * 1e3, m.points[j].batch, m.points[j].seq,
					m.points[i].phase == AR_PHASE_PREFILL ? 7 : 9, colour % 16 + 1);
	}
	var_num(vars, n, "nser", nser);
	var_str(vars, n, "ptypes", ptypes);
	var_str(vars, n, "colours", colours);
	var_num(vars, n, "has_summary", m.has_summary);
	var_num(vars, n, "median_err", m.median_abs_err);
	var_num(vars, n, "p90_err", m.p90_abs_err);
	ar_measured_release(&m);
	return close_data(f, "measured.dat", err);
}

int ar_plot_write_data(const struct ar_plot *p, const char *dir, char *vars, size_t n,
		       struct ar_err *err)
{
	struct ar_analysis *an;
	int rc;

	vars[0] = 0;
	var_str(vars, n, "datadir", dir);
	if (p->kind == AR_PLOT_MEASURED)
		return data_measured(p, dir, vars, n, err);
	if (!(an = malloc(sizeof(*an))))
		return ar_errf(err, NULL, 0, 0, "out of memory");
	switch (p->kind) {
	case AR_PLOT_ROOFLINE: rc = data_roofline(p, an, dir, vars, n, err); break;
	case AR_PLOT_LATENCY: rc = data_latency(p, an, dir, vars, n, err); break;
	case AR_PLOT_SPEEDUP: rc = data_speedup(p, an, dir, vars, n, err); break;
	case AR_PLOT_KV: rc = data_kv(p, an, dir, vars, n, err); break;
	default: AR_ASSERT(0);
	}
	free(an);
	if (!rc && strlen(vars) + 8 >= n)
		return ar_errf(err, NULL, 0, 0, "too many plot settings");
	return rc;
}

/* ---- running gnuplot ---- */

#ifndef AR_DATADIR
#define AR_DATADIR "."
#endif

static int find_script(const char *kind, char *out, size_t n, struct ar_err *err)
{
	const char *roots[3] = { getenv("ATTNROOF_DATA"), ".", AR_DATADIR };

	for (int i = 0; i < 3; i++) {
		if (!roots[i] || !roots[i][0])
			continue;
		if ((size_t)snprintf(out, n, "%s/plots/%s.gp", roots[i], kind) < n &&
		    access(out, R_OK) == 0)
			return 0;
	}
	return ar_errf(err, NULL, 0, 0, "cannot find the gnuplot script plots/%s.gp", kind);
}

/* Last non-empty line of gnuplot's stderr, for the error message. */
static void last_line(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "r");
	char line[512];

	out[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (line[strspn(line, " \t^")])
			snprintf(out, n, "%s", line + strspn(line, " \t"));
	}
	fclose(f);
}

extern char **environ;

int ar_plot_gnuplot(const char *script, const char *setup, const char *errpath,
		    int to_null, struct ar_err *err)
{
	const char *argv[] = { "gnuplot", "-e", setup, script, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc, status;
	char msg[400];

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (to_null)
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc == ENOENT)
		return ar_errf(err, NULL, 0, 0, "gnuplot not found (apt-get install gnuplot-nox)");
	if (rc)
		return ar_errf(err, NULL, 0, 0, "cannot run gnuplot: %s", strerror(rc));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return ar_errf(err, NULL, 0, 0, "cannot wait for gnuplot: %s", strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return ar_errf(err, NULL, 0, 0, "gnuplot not found (apt-get install gnuplot-nox)");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		last_line(errpath, msg, sizeof(msg));
		return ar_errf(err, script, 0, 0, "gnuplot failed: %s", msg[0] ? msg : "no message");
	}
	return 0;
}

/* The plot gnuplot drew in path, onto out: 0, 1 when writing out failed
 * (its error flag set), -1 with err when there is no plot */
static int copy_out(const char *path, FILE *out, struct ar_err *err)
{
	FILE *f = fopen(path, "rb");
	struct stat st;

	if (!f || fstat(fileno(f), &st) || st.st_size == 0) {
		if (f)
			fclose(f);
		return ar_errf(err, NULL, 0, 0, "gnuplot wrote no plot");
	}
	int bad = ar_copy_stream(f, out), e = errno;
	fclose(f);
	errno = e; /* the failed write's reason, for the caller */
	return bad ? 1 : 0;
}

int ar_plot_render(const struct ar_plot *p, FILE *out, struct ar_err *err)
{
	char dir[512], script[600], tmpout[600] = "", errpath[600], *vars = NULL, *setup = NULL;
	const char *tmpdir = getenv("TMPDIR");
	size_t nv = 16384;
	int rc = -1, e = 0;

	if (ar_plot_check(p, err) || find_script(ar_plot_kind_names[p->kind], script,
						 sizeof(script), err))
		return -1;
	snprintf(dir, sizeof(dir), "%s/attnroof-plot.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(dir))
		return ar_errf(err, NULL, 0, 0, "cannot make a temporary directory: %s",
			       strerror(errno));
	snprintf(errpath, sizeof(errpath), "%s/gnuplot.err", dir);
	if (!(vars = malloc(nv)) || !(setup = malloc(nv + 2048))) {
		ar_errf(err, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	if (ar_plot_write_data(p, dir, vars, nv, err))
		goto cleanup;
	/* gnuplot draws into the directory; the plot goes out only whole */
	snprintf(tmpout, sizeof(tmpout), "%s/plot.out", dir);
	setup[0] = 0;
	snprintf(errpath, sizeof(errpath), "%s", script);
	*strrchr(errpath, '/') = 0;
	var_str(setup, nv + 2048, "dir", errpath);
	snprintf(errpath, sizeof(errpath), "%s/gnuplot.err", dir);
	var_str(setup, nv + 2048, "term", ar_plot_term_names[p->term]);
	var_str(setup, nv + 2048, "out", tmpout);
	strncat(setup, vars, nv);
	if (ar_plot_gnuplot(script, setup, errpath, 1, err))
		goto cleanup;
	rc = copy_out(tmpout, out, err);
	e = errno;
cleanup:
	if (tmpout[0])
		unlink(tmpout);
	for (int i = 0; data_files[i]; i++) {
		char path[1100];
		snprintf(path, sizeof(path), "%s/%s", dir, data_files[i]);
		unlink(path);
	}
	rmdir(dir);
	free(vars);
	free(setup);
	errno = e; /* the removals above leave their own */
	return rc;
}
