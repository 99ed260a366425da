/* What-if hardware sizing: does a model fit on a device (weights, KV cache and
 * peak activations against capacity), the largest batch and the longest
 * context, how many devices a latency and throughput target needs, how each
 * phase reacts to bandwidth, peak and link speed, and decoding with the KV
 * cache in host memory.  Every cost comes from ar_analyze; nothing here parses
 * or prints to the terminal (the writers take a stream; plots run gnuplot). */
#ifndef AR_SIZE_H
#define AR_SIZE_H

#include <stdio.h>

#include "graph.h"
#include "hw.h"
#include "model.h"
#include "report.h"

/* A sizing request.  wl.seq is the context S (prompt tokens held in the KV
 * cache), wl.batch the batch B the memory report, the longest context, the
 * sensitivity and offloading are taken at, wl.tp the degree of those.  When
 * wl.gen ≥ 2 the cache holds S + G tokens and TPOT is the mean step of the
 * generation; otherwise TPOT is one decode step at KV length S. */
struct ar_size_req {
	struct ar_workload wl;
	double reserve_frac;     /* share of capacity kept free, 0 ≤ f < 1 */
	double reserve_bytes;    /* bytes kept free on top of the share */
	double ttft_s, tpot_s;   /* latency targets; 0 = none */
	double throughput;       /* decode tokens/s target over all replicas; 0 = none */
	long max_tp;             /* largest tensor-parallel degree tried (a power of 2) */
	int offload;             /* also model the KV cache in host memory */
};

/* One tensor-parallel degree of one model on one device kind. */
struct ar_size_config {
	long tp;
	int fits;             /* batch wl.batch at the context fits on each of tp devices */
	long max_batch;       /* largest batch at the context on tp devices (0: none fits) */
	int meets;            /* fits, and wl.batch meets the latency targets */
	long batch;           /* largest batch ≤ max_batch meeting the targets (0: none) */
	double ttft_s, tpot_s;     /* at `batch` */
	double throughput;         /* batch / tpot_s: decode tokens/s of one replica */
	long replicas;             /* data-parallel copies for req.throughput (1 without) */
	long devices;              /* tp · replicas */
	double allreduce_prefill_s, allreduce_decode_s; /* link time inside those phases */
};

enum ar_size_knob { AR_KNOB_BANDWIDTH, AR_KNOB_PEAK, AR_KNOB_LINK, AR_KNOB_COUNT };
extern const char *const ar_size_knob_names[AR_KNOB_COUNT];

/* Decoding with the KV cache in host memory (see ar_size_offload_step). */
struct ar_size_offload {
	int available;          /* the device has a host link */
	double device_step_s;   /* decode step at B, S with the KV cache on the device */
	double step_s;          /* the same step with the KV cache streamed from the host */
	double host_kv_s;       /* of which: KV read over the host link */
	double device_bytes;    /* weights + activations + two layers of KV (+ reserve) */
	int fits;               /* B fits with offloading */
	long max_batch;         /* largest batch at S with offloading */
	/* Smallest context at which decoding B sequences offloaded gives more
	 * tokens/s than the largest batch whose KV cache fits on the device
	 * (0: none up to the longest context B fits at when offloaded). */
	long crossover_context;
	double crossover_device_tps, crossover_offload_tps; /* tokens/s there */
	long crossover_device_batch;                         /* device batch there */
};

enum { AR_SIZE_MAX_CONFIGS = 13 }; /* tp = 1, 2, 4, ..., 4096 */

struct ar_size_result {
	char model[64], arch[32], hw[64];
	struct ar_workload wl;
	double capacity_bytes, reserve_bytes, usable_bytes;
	/* at B, S on one of wl.tp devices */
	double weights_bytes, kv_bytes_per_token, kv_cache_bytes, activation_bytes, total_bytes;
	double act_bytes_per_seq;   /* activation_bytes at batch 1 */
	double kv_bytes_per_seq;    /* kv_cache_bytes at batch 1 */
	int fits;
	long max_batch;             /* at S, tp = wl.tp */
	long max_context;           /* at B, tp = wl.tp (0: not even 1 token fits) */
	double ttft_s, tpot_s;      /* at B, S (0 when it does not fit) */
	struct ar_size_config configs[AR_SIZE_MAX_CONFIGS];
	int n_configs;
	int best;                   /* index of the fewest devices meeting everything; -1 none */
	double elasticity[AR_PHASE_COUNT][AR_KNOB_COUNT];
	struct ar_size_offload off;
};

/* Capacity minus the reserve: capacity·(1 − reserve_frac) − reserve_bytes. */
double ar_size_usable(const struct ar_hw *hw, const struct ar_size_req *req);

/* Whether workload wl (batch, seq, gen, tp) fits in `usable` bytes:
 * weights + KV(B, S + G) + activations ≤ usable, all per device.  Sets *fits
 * and *total_bytes.  -1 with err when wl is bad for m. */
int ar_size_fits(const struct ar_model *m, const struct ar_hw *hw,
		 const struct ar_workload *wl, double usable, int *fits,
		 double *total_bytes, struct ar_err *err);

/* Largest batch at wl->seq (and wl->gen, wl->tp) that fits in `usable`: KV and
 * activations grow linearly in B, so B = ⌊(usable − W) / (KV₁ + A₁)⌋ from the
 * batch-1 bytes, checked at B and B + 1 (bisection should the check fail).
 * *out = 0 when batch 1 does not fit.  At most 2^20. */
int ar_size_max_batch(const struct ar_model *m, const struct ar_hw *hw,
		      const struct ar_workload *wl, double usable, long *out,
		      struct ar_err *err);

/* Longest context S at wl->batch (and wl->gen, wl->tp) that fits in `usable`,
 * by bisection (memory is non-decreasing in S).  0 when S = 1 does not fit. */
int ar_size_max_context(const struct ar_model *m, const struct ar_hw *hw,
			const struct ar_workload *wl, double usable, long *out,
			struct ar_err *err);

/* TTFT (prefill of B prompts of S tokens) and TPOT of workload wl: the mean
 * decode step when wl->gen ≥ 2, else one decode step at KV length S. */
int ar_size_latency(const struct ar_model *m, const struct ar_hw *hw,
		    const struct ar_workload *wl, double *ttft_s, double *tpot_s,
		    struct ar_err *err);

/* Largest batch in [1, max_batch] whose TTFT ≤ ttft_s and TPOT ≤ tpot_s
 * (targets of 0 are not checked), by bisection: both times are non-decreasing
 * in B.  *out = 0 when batch 1 misses a target. */
int ar_size_best_batch(const struct ar_model *m, const struct ar_hw *hw,
		       const struct ar_workload *wl, long max_batch, double ttft_s,
		       double tpot_s, long *out, struct ar_err *err);

/* One decode step of wl (KV length wl->seq) with the KV cache in host memory:
 * see the formula in size.c.  *step_s is the step, *host_kv_s its host-link
 * part, *device_bytes what stays on the device.  -1 when the device has no
 * host link. */
int ar_size_offload_step(const struct ar_model *m, const struct ar_hw *hw,
			 const struct ar_workload *wl, double *step_s, double *host_kv_s,
			 double *device_bytes, struct ar_err *err);

/* Everything above for model m on device hw.  r is filled; no allocation
 * survives the call.  -1 with err on a bad request. */
int ar_size_run(struct ar_size_result *r, const struct ar_model *m, const struct ar_hw *hw,
		const struct ar_size_req *req, struct ar_err *err);

/* Order of the ranking: every (result, config) pair meeting the targets,
 * fewest devices first, then highest total throughput.  Writes up to n pairs
 * (result index, config index) to idx and returns how many. */
int ar_size_rank(const struct ar_size_result *r, int n_results, int (*idx)[2], int n);

/* Writers for n results of one request: 0, or -1 when the stream fails.  JSON
 * puts the fields at the top level for a single result, else in "results". */
int ar_size_write_table(FILE *f, const struct ar_size_result *r, int n,
			const struct ar_size_req *req);
int ar_size_write_csv(FILE *f, const struct ar_size_result *r, int n,
		      const struct ar_size_req *req);
int ar_size_write_json(FILE *f, const struct ar_size_result *r, int n,
		       const struct ar_size_req *req);

/* Draw size-latency.png (decode tokens/s against TPOT as the batch grows from
 * 1 to the largest that fits, a line per model and device) and
 * size-context.png (the longest context per model, a bar per device) into the
 * existing directory outdir with gnuplot and plots/size-*.gp.  r holds
 * n_models·n_hws results, device-major (r[h·n_models + i]), from one request.
 * Each image is written to a temporary file and renamed into place.  -1 with
 * err; "gnuplot not found" when the program is missing. */
int ar_size_plot(const char *outdir, const struct ar_size_result *r,
		 const struct ar_model *models, int n_models, const struct ar_hw *hws,
		 int n_hws, struct ar_err *err);

#endif
