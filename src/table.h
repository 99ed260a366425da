/* The GTA paper's complexity table (Table 4) and its prefill/decode forms
 * (Appendix B), recomputed for any base model: one row per arch file, values
 * read off the op graph, the exact symbolic form beside the paper's printed
 * one where they disagree.  Writers for md, csv, json and latex.  Counts are
 * multiply-accumulates (MACs) per layer with full (non-causal) N², as the
 * paper counts; the KV cache is in elements. */
#ifndef AR_TABLE_H
#define AR_TABLE_H

#include <stdio.h>

#include "err.h"
#include "model.h"

/* The terms of a row.  Each is a polynomial c[0] + c[1]·N + c[2]·N² in the
 * sequence length N (context length for decode). */
enum ar_term {
	AR_TERM_KV,      /* cached elements per layer: c[1] per token */
	AR_TERM_ATTN,    /* QKᵀ and A·V of a prefill of N tokens: c[2] per N² */
	AR_TERM_LINEAR,  /* attention-block projections of N tokens: c[1] per token */
	AR_TERM_PREFILL, /* prefill of N tokens: linear·N + attention·N² */
	AR_TERM_DECODE,  /* one new token over a context of N: c[0] + c[1]·N */
	AR_TERM_COUNT
};
extern const char *const ar_term_names[AR_TERM_COUNT];

struct ar_cell {
	char exact[384];     /* exact symbolic form (formula syntax: 2*n_h*d_h*N^2) */
	char paper[384];     /* the paper's printed form, "" when it prints none */
	double c[3];         /* from the op graph (KV: from ar_model_kv_elems) */
	double paper_c[3];   /* the printed form evaluated at the row's dimensions */
	int show_paper;      /* the printed form disagrees (or is a known erratum) */
	int note;            /* 1-based footnote number, 0 for none */
};

enum { AR_TABLE_MAX_ROWS = 32, AR_TABLE_MAX_NOTES = 64 };

struct ar_table_row {
	char path[512];           /* the arch file */
	struct ar_model model;    /* base dimensions with this row's attention */
	int own;                  /* the base model's own arch: its overrides are kept */
	char error[600];          /* non-empty: the arch does not fit; no values */
	struct ar_cell cell[AR_TERM_COUNT];
};

struct ar_table {
	struct ar_model base;
	int n_rows;
	struct ar_table_row rows[AR_TABLE_MAX_ROWS];
	int n_notes;
	char notes[AR_TABLE_MAX_NOTES][640];
};

/* The arch files in the data directory's archs/ (the first of $ATTNROOF_DATA,
 * ".", the install directory that has one): the paper's six in its order (MHA,
 * GQA, MLA, GVA, GHA, GTA), then any others by name.  Writes at most max paths
 * of 512 bytes into paths and their count to n.  -1 with err when no archs/
 * directory can be read. */
int ar_table_find_archs(char (*paths)[512], int max, int *n, struct ar_err *err);

/* Fill t (which need not be initialised; it is large, keep it off the stack)
 * with one row per arch file for the dimensions of base.  A row's model is
 * base with that arch's defaults (ar_model_with_arch), except for base's own
 * arch, which is base itself.  An arch file that cannot be loaded or does not
 * fit base gets a row with `error` set (the formatted message) and no values.
 * -1 with err only when a formula cannot be evaluated (a broken invariant). */
int ar_table_build(struct ar_table *t, const struct ar_model *base,
		   char (*paths)[512], int n_paths, struct ar_err *err);

/* Evaluate a formula (numbers, the symbols of the GTA paper, + - * / ^ and
 * parentheses) for model m at sequence length N.  -1 with err on a syntax
 * error or an unknown symbol. */
int ar_formula_eval(const char *formula, const struct ar_model *m, double N,
		    double *out, struct ar_err *err);

/* Render a formula for people: "2 n_h d_h N²" (latex != 0: "2 n_h d_h N^2",
 * math mode).  Writes into buf of size n and returns buf. */
const char *ar_formula_render(const char *formula, int latex, char *buf, size_t n);

enum ar_table_format { AR_TABLE_MD, AR_TABLE_CSV, AR_TABLE_JSON, AR_TABLE_LATEX,
		       AR_TABLE_FMT_COUNT };
extern const char *const ar_table_format_names[AR_TABLE_FMT_COUNT];

/* Write t in format fmt.  0, or -1 when the stream reports an error. */
int ar_table_write(FILE *f, const struct ar_table *t, enum ar_table_format fmt);

#endif
