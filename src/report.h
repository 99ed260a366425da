/* A whole analysis (both phases, generation, memory) and the writers that turn
 * it into a human table, CSV or JSON.  Writers never parse and never compute
 * costs; they print what ar_analyze put in struct ar_analysis. */
#ifndef AR_REPORT_H
#define AR_REPORT_H

#include <stdio.h>

#include "graph.h"
#include "hw.h"
#include "model.h"
#include "roofline.h"

struct ar_analysis {
	/* the descriptors analysed: the caller's, which must outlive the
	 * analysis's use (not copied: an analysis is made a million times a
	 * second in sweeps) */
	const struct ar_model *model;
	const struct ar_hw *hw;
	struct ar_workload wl;
	struct ar_graph graph[AR_PHASE_COUNT];
	struct ar_phase_time time[AR_PHASE_COUNT];
	struct ar_gen_time gen;          /* when wl.gen > 0 */
	double params;                   /* whole model */
	double kv_elems_per_token_layer; /* unsharded */
	double kv_bytes_per_token;       /* whole model, unsharded */
	double weights_bytes;            /* one device */
	double kv_cache_bytes;           /* one device, at S + G tokens */
	double activation_bytes;         /* one device: largest live activations */
};

/* Analyse model m on hw under wl: build and evaluate both phases and, when
 * wl->gen > 0, the generation.  -1 with err on a bad workload or a non-finite
 * result (never printed as a number). */
int ar_analyze(struct ar_analysis *an, const struct ar_model *m, const struct ar_hw *hw,
	       const struct ar_workload *wl, struct ar_err *err);

enum ar_format { AR_FMT_TABLE, AR_FMT_CSV, AR_FMT_JSON, AR_FMT_COUNT };
extern const char *const ar_format_names[AR_FMT_COUNT];

/* Writers: return 0, or -1 when the stream reports an error. */
int ar_write_table(FILE *f, const struct ar_analysis *an);
int ar_write_csv(FILE *f, const struct ar_analysis *an);
int ar_write_json(FILE *f, const struct ar_analysis *an);

/* One summary row per analysis for `sweep` (header first). */
int ar_write_sweep_header(FILE *f);
int ar_write_sweep_row(FILE *f, const struct ar_analysis *an);

/* Write s as a JSON string literal (quotes and control characters escaped). */
void ar_json_str(FILE *f, const char *s);

/* "1.23 ms", "4.56 GB", "7.89 TFLOP": engineering formatting for tables. */
const char *ar_fmt_si(char *buf, size_t n, double v, const char *unit);

#endif
