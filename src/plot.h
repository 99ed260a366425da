/* Plots: analyses turned into gnuplot data files, drawn by the committed
 * scripts in plots/ with gnuplot run as an external program.  Also reads the
 * measured-versus-predicted JSON of `attnroof validate`.  Computes no costs of
 * its own: every number comes from ar_analyze. */
#ifndef AR_PLOT_H
#define AR_PLOT_H

#include <stdio.h>

#include "err.h"
#include "graph.h"
#include "hw.h"
#include "model.h"

enum ar_plot_kind {
	AR_PLOT_ROOFLINE, /* the device's roofs with every op as a point */
	AR_PLOT_LATENCY,  /* prefill and decode time against S and against B */
	AR_PLOT_SPEEDUP,  /* time(model 1) / time(model 2) over B × S */
	AR_PLOT_KV,       /* KV-cache bytes against context length, device memory as a line */
	AR_PLOT_MEASURED, /* measured against predicted time */
	AR_PLOT_COUNT
};
extern const char *const ar_plot_kind_names[AR_PLOT_COUNT];

enum ar_plot_term { AR_PLOT_PNG, AR_PLOT_SVG, AR_PLOT_DUMB, AR_PLOT_TERM_COUNT };
extern const char *const ar_plot_term_names[AR_PLOT_TERM_COUNT];

struct ar_plot {
	enum ar_plot_kind kind;
	enum ar_plot_term term;
	const char *output;             /* the output's name (its kind by extension); NULL or "-": stdout (dumb only) */
	const struct ar_model *models;  /* n_models of them */
	int n_models;
	const struct ar_hw *hw;         /* all kinds but measured */
	struct ar_workload wl;          /* bits, attention, tp; roofline: batch and seq */
	const long *batches;            /* latency, speedup: the grid; kv: batch[0] */
	int n_batches;
	const long *seqs;               /* latency, speedup: the grid; kv: context lengths */
	int n_seqs;
	const char *input;              /* measured: the validate JSON */
};

/* One point of `attnroof validate --format json`. */
struct ar_measured_point {
	char model[64];
	char arch[16];          /* "arch" (the label, e.g. GQA); the model's name when absent */
	enum ar_phase phase;
	long batch, seq;
	double predicted_s, measured_s;
};

struct ar_measured {
	int has_summary;
	double median_abs_err, p90_abs_err;
	int n_points;
	struct ar_measured_point *points; /* heap, freed by ar_measured_release */
};

/* Load {"summary": {"median_abs_err", "p90_abs_err"}, "points": [{"model",
 * optional "arch", "phase", "batch", "seq", "predicted_s", "measured_s",
 * ...}]} from path.
 * Unknown keys are ignored; times must be > 0.  m need not be initialised;
 * release it in both cases.  -1 with err at the offending node. */
int ar_measured_load(struct ar_measured *m, const char *path, struct ar_err *err);
void ar_measured_release(struct ar_measured *m);

/* Check that p has what its kind needs (models, device, grid, input) and that
 * every workload of the grid is valid.  -1 with err (no path). */
int ar_plot_check(const struct ar_plot *p, struct ar_err *err);

/* Write the data files of p into the existing directory dir and the gnuplot
 * variable assignments that describe them ("nser=2; hwname='h100-sxm'; ...")
 * into vars (size n).  -1 with err. */
int ar_plot_write_data(const struct ar_plot *p, const char *dir, char *vars, size_t n,
		       struct ar_err *err);

/* Draw p: check it, write its data to a temporary directory, run gnuplot on
 * plots/KIND.gp (found like the other data files) and copy what it drew onto
 * out, only once gnuplot has succeeded (the caller makes out a file that
 * replaces the old output when complete).  0; -1 with err, "gnuplot not
 * found" when the program is missing; 1 when writing to out failed (out's
 * error flag set, err untouched: the caller names the output). */
int ar_plot_render(const struct ar_plot *p, FILE *out, struct ar_err *err);

/* Run `gnuplot -e setup script` as an external program with its stderr in
 * errpath (and stdout discarded when to_null).  -1 with err when gnuplot is
 * missing or fails (its last message line is quoted). */
int ar_plot_gnuplot(const char *script, const char *setup, const char *errpath,
		    int to_null, struct ar_err *err);

#endif
