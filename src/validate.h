/* Validation: runs a grid of models and workloads on the executor, predicts
 * the same op graphs with the roofline evaluator on the host's descriptor,
 * and reports measured beside predicted, op by op, with summary statistics
 * of the relative error.  It fits nothing to the points it reports. */
#ifndef AR_VALIDATE_H
#define AR_VALIDATE_H

#include <stdio.h>

#include "graph.h"
#include "hw.h"
#include "model.h"

struct ar_vop {
	enum ar_op_id id;
	double layers;
	double predicted_s, measured_s; /* one repeat */
	double predicted_static_s;      /* on the descriptor as given (no tracking) */
};

struct ar_vpoint {
	char model[64];
	char arch[16];
	enum ar_phase phase;
	long batch, seq;
	double weight_bytes;     /* whether the model fits the last-level cache */
	int n_ops;
	struct ar_vop ops[AR_GRAPH_MAX_OPS];
	double predicted_s, measured_s; /* whole phase */
	/* predicted_s is made on the descriptor with its ceilings tracked over
	 * the point (ar_calibrate_track: probes before, amid and after its
	 * repeats, against probes at the start of the run); predicted_static_s on
	 * the descriptor as given.  drift_*: the tracked ceilings over those at
	 * the start (matrix rate, main memory's bandwidth, per-op overhead);
	 * round_trip_s: the threads' round trip over the point
	 * (ar_kernels_round_trip, 0 with one thread). */
	double predicted_static_s;
	double drift_matrix, drift_memory, drift_overhead;
	double round_trip_s;
	int descriptor[3];  /* the descriptor each pass was predicted from (see ar_validation) */
};

/* A run calibrates again at most AR_VALIDATE_MAX_DESCRIPTORS − 1 times, when
 * a pass finds the machine in a state no descriptor so far describes
 * (ar_validate_state_distance) */
enum { AR_VALIDATE_MAX_DESCRIPTORS = 3 };

struct ar_err_stats {
	int n;
	double median_abs_err, p90_abs_err;
};

struct ar_validation {
	int n_points;
	struct ar_vpoint *points;     /* owned; ar_validation_release frees */
	struct ar_err_stats all, phase[AR_PHASE_COUNT];
	struct ar_err_stats ops[AR_PHASE_COUNT]; /* ops that carry ≥ 5 % of their phase */
	/* the same for predicted_static_s */
	struct ar_err_stats all_static, phase_static[AR_PHASE_COUNT], ops_static[AR_PHASE_COUNT];
	double wall_s;
	/* the reference of the tracking: the descriptor's calibration
	 * (ar_ceilings_of_hw), else probes at the start of the run */
	int ref_from_descriptor;
	/* descriptors predicted from: 0 the one given, then those calibrated
	 * during the run (recalibrate > 0) when a pass found the machine's
	 * dispatch off every one so far (ar_validate_state_distance);
	 * what each read (DRAM, overhead) and the slot it was made after */
	int n_descriptors;
	double desc_dram_bw[AR_VALIDATE_MAX_DESCRIPTORS], desc_overhead_s[AR_VALIDATE_MAX_DESCRIPTORS];
	char desc_after[AR_VALIDATE_MAX_DESCRIPTORS][160];
	/* calibrations during the run that read a state already described,
	 * left out: the slot each was made after and the descriptor whose
	 * state it read */
	int n_left_out;
	int left_out_like[AR_VALIDATE_MAX_DESCRIPTORS];
	char left_out_after[AR_VALIDATE_MAX_DESCRIPTORS][160];
	/* the tracking probe's product over the run, each reading (two a pass)
	 * over its descriptor's reference: 10th and 90th percentiles (0 when
	 * no point ran).  A spread p90 / p10 past AR_VALIDATE_PROBE_SPREAD
	 * says the host moves faster than a pass, where tracking cannot follow
	 * it and the errors carry the host's noise. */
	double probe_matrix_p10, probe_matrix_p90;
};
#define AR_VALIDATE_PROBE_SPREAD 1.5

/* The p-th quantile (0..1) of n values as the ceil(p n)-th smallest (at
 * least the first); sorts v.  0 when n is 0. */
double ar_validate_quantile(double *v, int n, double p);

/* v's summaries (all, phase, ops and their _static twins) from its points:
 * median and 90th percentile (the ceil(0.9 n)-th smallest) of
 * |predicted − measured| / measured, per op over the ops that carry at least
 * 5 % of their point's measured time (measured_s × layers).  ar_validate_run
 * calls it. */
void ar_validate_summarise(struct ar_validation *v);

/* The default grid's models: the six archs at 160M shapes and at a small width
 * (H 128, or H 64 or 32 where a small cache leaves H 128 no more than half
 * its points clear), each cut to `layers` layers (the per-layer shapes
 * unchanged).  A point's resident set (ar_graph_resident of its graph) must be
 * clear of hw's last-level cache C (mem[1]): <= C/3 or >= 3C; ar_validate_run
 * skips the points that are not.  A model whose points are not all clear gets
 * the layer count (at most `layers`) that keeps the most of them clear; a
 * 160M shape may instead take more (up to 2·layers, at most its own count),
 * the fewest that clear strictly more, so that a large cache's main-memory
 * points are not lost.  One with no point clear is left out; either is told
 * in notes (one line each; notes_size 0 for none).  Fills up to max models; returns the count or -1 with err. */
int ar_validate_models(struct ar_model *out, int max, long layers, const struct ar_hw *hw,
		       int quick, char *notes, size_t notes_size, struct ar_err *err);

/* Run the grid over models: prefill at two or more lengths and decode at two
 * or more KV lengths, batch 1 and more than 1 (quick: prefill 32 and 128,
 * decode at 256 and 1024, batch 1 and 2; else 64/256/1024, 256/1024/4096 and
 * 1/4/16, prefill points of at most 4096 tokens).  Points whose resident set
 * is within a factor 3 of the last-level cache are skipped (see
 * ar_validate_models).  Predictions use hw, 32-bit weights, activations and KV,
 * once as given and once with its ceilings tracked (struct ar_vpoint).
 * recalibrate: when nonzero (hw was calibrated just before, on this
 * machine), a pass that finds the machine in a state none of the
 * descriptors so far describes calibrates it again (at most
 * AR_VALIDATE_MAX_DESCRIPTORS − 1 times) and the pass is predicted from the
 * descriptor nearest its probes.  -1 with err when a run fails.  v is
 * released with ar_validation_release. */
/* How far the machine has moved from the state of ref: |log| of the
 * dispatch's ratio now / ref over |log| AR_STATE_GATE_OVERHEAD; above 1,
 * another state.  The dispatch, not main memory: tracking follows main
 * memory's and the matrix rate's moves, and what it cannot follow comes with
 * where the threads sit, which the dispatch shows (x2.7 here between the
 * states, while the single-read memory probe scatters within one: five of
 * seven calibrations set off by either found the state they left).  A
 * reading missing from either (0) counts as unmoved. */
struct ar_ceilings;
double ar_validate_state_distance(const struct ar_ceilings *ref, const struct ar_ceilings *now);

int ar_validate_run(struct ar_validation *v, const struct ar_model *models, int n_models,
		    const struct ar_hw *hw, int quick, enum ar_attn_impl attn, int recalibrate,
		    struct ar_err *err);
void ar_validation_release(struct ar_validation *v);

/* Writers: 0, or -1 on a stream error. */
int ar_validate_write_table(FILE *f, const struct ar_validation *v);
int ar_validate_write_json(FILE *f, const struct ar_validation *v);

#endif
