/* The roofline evaluator: a time per op from a hardware descriptor, phase
 * totals, and generation (prefill + G−1 decode steps) in closed form.
 * time = max(mflops/(matrix peak·eff(rows)) + vflops/vector peak,
 *            Σ_class bytes_class / bandwidth of the level holding that class)
 *        + link bytes / link bandwidth + the device's per-op overhead.
 * A class's level is the smallest memory level with a known bandwidth whose
 * capacity holds its working set: weights and KV → all weights plus the whole
 * KV cache; activations → the op's own inputs and outputs; flash re-reads →
 * one layer's K/V.  eff(rows) is the descriptor's optional matrix efficiency
 * curve at a product's rows (shape.m: tokens, or the batch in decode); 1 for
 * descriptors without one and for ops that are not products.  A descriptor
 * that declares exp_per_s takes the exponentials among the vector FLOPs out
 * of vflops/vector peak and adds exponentials / exp_per_s.  The flash op
 * goes at the descriptor's attention rate of its phase where it declares
 * one: (mflops + vflops) / rate in place of the compute term. */
#ifndef AR_ROOFLINE_H
#define AR_ROOFLINE_H

#include "graph.h"
#include "hw.h"

enum ar_bound { AR_BOUND_COMPUTE, AR_BOUND_MEMORY, AR_BOUND_LINK, AR_BOUND_COUNT };
extern const char *const ar_bound_names[AR_BOUND_COUNT];

struct ar_op_time {
	double time_s;     /* one repeat */
	double compute_s, memory_s, link_s;
	enum ar_bound bound;
};

struct ar_phase_time {
	double time_s, flops, bytes;  /* whole model */
	struct ar_op_time ops[AR_GRAPH_MAX_OPS];
};

/* Evaluate graph g on hw.  Fails (-1, err without path) when the graph needs
 * a device link the descriptor lacks (--tp > 1). */
int ar_roofline_eval(const struct ar_graph *g, const struct ar_hw *hw,
		     struct ar_phase_time *out, struct ar_err *err);

struct ar_gen_time {
	double ttft_s;    /* prefill of the prompt: the first token */
	double decode_s;  /* the G−1 decode steps after it */
	double tpot_s;    /* mean decode step (0 when G < 2) */
	double time_s;    /* ttft + decode */
};

/* Generation of wl->gen tokens after a prompt of wl->seq: prefill(P), then
 * decode steps attending over P+1 ... P+G−1 keys.  The sum over steps is
 * closed-form (independent of G): each op's time is the max of two piecewise
 * affine functions of the KV length, summed segment by segment.  prefill is
 * the already evaluated prefill of the same workload. */
int ar_roofline_generate(const struct ar_model *m, const struct ar_workload *wl,
			 const struct ar_hw *hw, double prefill_s,
			 struct ar_gen_time *out, struct ar_err *err);

/* The same sum by stepping through every decode step (for tests). */
int ar_roofline_generate_steps(const struct ar_model *m, const struct ar_workload *wl,
			       const struct ar_hw *hw, double prefill_s,
			       struct ar_gen_time *out, struct ar_err *err);

#endif
