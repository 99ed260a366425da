/* Host calibration: measures this machine's ceilings with the executor's own
 * kernels and BLAS (matrix peak, the fraction of it that products of few
 * rows attain, vector throughput, bandwidth of every memory level, per-op
 * overhead) and writes them as a hardware descriptor (the
 * schema of hw/NAME.yaml, every value "measured DATE: attnroof calibrate").
 * It does not predict anything. */
#ifndef AR_CALIBRATE_H
#define AR_CALIBRATE_H

#include <stdio.h>

#include "err.h"
#include "hw.h"

enum { AR_CAL_MAX_LEVELS = 4, AR_CAL_MAX_SWEEP = 32 };
/* the model-shaped products of the matrix efficiency curve: rows m = 1, 2,
 * 4, ... 512 through K_EFF → N_EFF projections, weights in turn that add up
 * to four times the last-level cache, at least COPIES_EFF of them (beyond
 * the caches, as a model's weights) */
enum { AR_CAL_K_EFF = AR_HW_EFF_K, AR_CAL_N_EFF = AR_HW_EFF_N, AR_CAL_MAX_ROWS_EFF = 512,
       AR_CAL_COPIES_EFF = 8 };
/* the most rows measured through weights from main memory; products of
 * more go through two copies (held in the cache), as fast as cold ones
 * there */
enum { AR_CAL_ROWS_COLD = 256 };
/* the shape probes: ROWS_SHAPE-row products with an inner dimension or
 * columns of SHAPE_SHORT beside the curve's shape */
enum { AR_CAL_ROWS_SHAPE = AR_HW_SHAPE_ROWS, AR_CAL_SHAPE_SHORT = 128,
       AR_CAL_ROWS_SHAPE_MANY = 512 };
/* the cold inner-dimension probes: products of COLD_ROWS and
 * COLD_ROWS_MANY rows with inner dimensions COLD_K_SHORT and COLD_K_MID
 * beside the curve's K_EFF, N_EFF columns, through weights from main memory */
enum { AR_CAL_COLD_ROWS = AR_HW_COLD_ROWS, AR_CAL_COLD_ROWS_MANY = 128, AR_CAL_COLD_K_SHORT = 256,
       AR_CAL_COLD_K_MID = 512 };
/* the largest power of the rows a half-point is stated to fall with */
#define AR_CAL_HALF_POWER_MAX 2.0
/* the cache-resident curve: K_EFF_CACHED → up to N_EFF_CACHED, one weight
 * matrix of at most a third of the usable last-level cache */
enum { AR_CAL_K_EFF_CACHED = 512, AR_CAL_N_EFF_CACHED = 1024 };
/* the curve in the cores' caches: K_EFF_NEAR → up to N_EFF_NEAR, weight
 * matrices in turn filling half of their L2 together */
enum { AR_CAL_K_EFF_NEAR = 256, AR_CAL_N_EFF_NEAR = 512 };

/* the decode attention probe: one sequence of KEYS_ATTN keys, MAPS_ATTN maps
 * over KH_ATTN key heads of D_ATTN (a GQA shape, 4 maps per key head), K/V
 * caches of 8.4 MB in turn, at least COPIES_ATTN and four times the
 * last-level cache in all (main memory) */
enum { AR_CAL_KEYS_ATTN = 4096, AR_CAL_MAPS_ATTN = 8, AR_CAL_KH_ATTN = 2, AR_CAL_D_ATTN = 64,
       AR_CAL_COPIES_ATTN = 8 };
/* ... and over K/V caches of KEYS_ATTN_CACHED keys in turn that fill half
 * the last-level cache, at head dims 32, 64 and 128; and of KEYS_ATTN_SHORT
 * keys, the fewest the kernel splits across threads as it does longer ones
 * (two blocks of 64: the fixed time then holds the threads' start, their
 * barrier and the merge, which a one-block call runs without) */
enum { AR_CAL_KEYS_ATTN_CACHED = 1024, AR_CAL_KEYS_ATTN_SHORT = 128 };
/* the from-memory decode probe with one map per key head: AR_CAL_MAPS_ATTN
 * key heads of AR_CAL_D_ATTN, this many keys (4 MB of K/V a call, as the
 * 4-maps probe's), and again at AR_CAL_KEYS_ATTN_SHORT keys for the fixed
 * time from main memory (the two lengths of decode_t0) */
enum { AR_CAL_KEYS_ATTN_ONE = AR_CAL_KEYS_ATTN_CACHED };
/* the prefill attention probe: a causal prompt of SEQ_PREFILL positions, the
 * maps and heads of the decode probe, tiles from the on-chip memory per core
 * as the graph sizes them */
enum { AR_CAL_SEQ_PREFILL = 1024, AR_CAL_SEQ_PREFILL_SHORT = 128, AR_CAL_SEQ_PREFILL_TINY = 32 };
/* ... and that probe with PER_MAP outputs on each of its maps
 * (ar_calibrate_output_share) */
enum { AR_CAL_PREFILL_PER_MAP = 4 };
/* calibrations at most, until the probes of one agree (ar_calibrate_run) */
enum { AR_CAL_ATTEMPTS = 3 };
/* a half-rate point (d0, I0, s0) past this says its two probes read nearly
 * alike, one of them disturbed (here d0 is 20-100, I0 9-24, s0 13-31): the
 * rate stated "for long heads" then extrapolates hundreds of times over */
#define AR_CAL_HALF_SANE 1000.0
/* runs at most of a cold efficiency point measured in another state than
 * the calibration's main memory reading */
enum { AR_CAL_EFF_RUNS = 3 };
/* readings of each cold efficiency point bound by reading its weights, whose
 * median it keeps: the first in the calibration's sweep, AR_CAL_EFF_MID
 * after the decode attention probes, the others at its end (a 1-row product
 * once read 0.88 of its rate in the runs before and after while main memory
 * beside it read as usual; on the AMD EPYC guest, whose state moves within
 * seconds, 1-row products read 18-29 GB/s over 20 s and medians of three
 * readings one second apart put the point anywhere in 20-28) */
enum { AR_CAL_EFF_READINGS = 5, AR_CAL_EFF_MID = 2 };
/* the activation the handoff probe passes between the threads: rows x width */
enum { AR_CAL_HANDOFF_ROWS = 16, AR_CAL_HANDOFF_WIDTH = 768 };
/* readings of main memory whose median is its bandwidth */
enum { AR_CAL_DRAM_READS = 5 };
/* runs of the tracking probe at the end of a calibration */
enum { AR_CAL_PROBE_RUNS = 5 };
/* Dispatch or main memory off by more than these factors: another state of
 * the machine (this host: x2.7 and x1.7 between its two, +-20 % within one) */
#define AR_STATE_GATE_OVERHEAD 1.5
#define AR_STATE_GATE_MEMORY 1.3
/* The tracking probe's product against the matrix peak: over this factor
 * apart, one was read with a core held by another tenant (this host: FMA
 * chains and the probe at 0.53-0.57 of the rest while the peak read whole) */
#define AR_STATE_GATE_MATRIX 1.3

struct ar_calib {
	char date[16];             /* YYYY-MM-DD */
	char cpu[128];             /* model name */
	int threads;
	double matrix_flops_per_s; /* best of the products below */
	double gemm_large_flops_per_s, gemm_model_flops_per_s, gemm_thin_flops_per_s;
	double fma_flops_per_s;    /* vector FMA, every thread */
	double exp_per_s;          /* exponentials per second, every thread */
	double softmax_flops_per_s; /* in-cache softmax, 5 counted FLOPs per element */
	double vector_flops_per_s; /* what the descriptor states: the FMA rate */
	int n_levels;              /* memory levels, main memory first */
	char level_name[AR_CAL_MAX_LEVELS][16];
	double level_bytes[AR_CAL_MAX_LEVELS];
	double level_bw[AR_CAL_MAX_LEVELS];
	double dram_read_bw, dram_gemv_bw; /* main memory: plain read, 1-row product */
	double dram_read_bw_end;   /* the plain read again after every other probe */
	/* validate's tracking probe (ar_probe_run) at the end, median of
	 * AR_CAL_PROBE_RUNS: the reference its later readings are held against */
	double probe_matrix_flops_per_s, probe_dram_bytes_per_s, probe_overhead_s;
	int attempts;              /* calibrations run until the probes agreed (at most
				    * AR_CAL_ATTEMPTS) */
	const char *disagreement;  /* why the last calibration but one was run again, or why
				    * the last still disagrees (NULL: it agrees) */
	double decode_attn_probe_flops_per_s; /* the decode probe's own reading (K/V from
					       * memory), before it is stated for long heads */
	double onchip_bytes;       /* per core: its L2 */
	double llc_nominal_bytes;  /* the last-level cache as the system states it */
	double llc_probe_bytes;    /* its usable capacity as the first sweep read it, which
				    * sizes the sets beyond and inside it */
	double overhead_s;         /* time of a tiny op in a chain of them (dispatch to every thread) */
	double round_trip_s;       /* a cache line from one thread to another and back (0: 1 thread) */
	int n_eff;                 /* matrix efficiency by rows: (m, K_EFF, N_EFF) products */
	int eff_copies;            /* weights in turn below 16 rows (4x the last-level cache) */
	int attn_copies;           /* K/V caches in turn of the decode probe */
	double attn_between_bytes; /* read before each call of the probes from main memory */
	double eff_rows[AR_CAL_MAX_SWEEP], eff_value[AR_CAL_MAX_SWEEP]; /* fraction of the peak */
	/* main memory read (as for dram_read_bw) just before and after each
	 * point's products (mean; 0: not read), and the factor the point was
	 * scaled by to the DRAM reading (ar_calibrate_normalise_eff) */
	double eff_dram[AR_CAL_MAX_SWEEP], eff_scaled[AR_CAL_MAX_SWEEP];
	int eff_runs[AR_CAL_MAX_SWEEP];           /* times each was measured */
	int eff_readings[AR_CAL_MAX_SWEEP];       /* readings in its median */
	/* the cold points' readings in the calibration's middle (FLOP/s, 0:
	 * none), for those then bound by reading their weights */
	double eff_mid[AR_CAL_MAX_SWEEP][AR_CAL_EFF_MID];
	/* the same through one weight matrix held in the last-level cache
	 * (K_EFF_CACHED × n_eff_cached_cols, at most a third of its capacity) */
	int n_eff_cached;
	long eff_cached_cols;
	int eff_cached_copies;     /* weight matrices in turn (a third of the cache in all) */
	double eff_cached_value[AR_CAL_MAX_SWEEP];
	/* per point: the K_EFF × N_EFF matrices in turn it was measured
	 * through (rows from the bound to AR_CAL_ROWS_COLD), 0 for the K_EFF_CACHED ones */
	int eff_cached_warm[AR_CAL_MAX_SWEEP];
	/* the same through weight matrices in the cores' L2 (K_EFF_NEAR ×
	 * eff_near_cols, eff_near_copies in turn filling half of it) */
	int n_eff_near;
	long eff_near_cols;
	int eff_near_copies;
	double eff_near_value[AR_CAL_MAX_SWEEP];
	/* the cached and near points' own readings below the bound (FLOP/s,
	 * 0: none), whose median of AR_CAL_EFF_READINGS they keep */
	double eff_cached_reading[AR_CAL_MAX_SWEEP][AR_CAL_EFF_READINGS];
	double eff_near_reading[AR_CAL_MAX_SWEEP][AR_CAL_EFF_READINGS];
	double decode_attn_flops_per_s; /* decode attention kernel, FLOPs as the graph counts */
	double decode_attn_cached_flops_per_s; /* the same over K/V held in a cache */
	double decode_attn_near_flops_per_s;   /* ... in the cores' L2 (0: not measured) */
	int decode_attn_near_copies;           /* its K/V caches in turn */
	double decode_attn_cached_bytes;       /* the K/V of the cached rate's probe */
	double decode_attn_head_dim_half;      /* d0: the rate at head dim d is rate·d/(d + d0) */
	double decode_attn_intensity_half;     /* I0: at I FLOPs per K/V element, rate·I/(I + I0) */
	double decode_attn_t0_s;               /* the kernel's time at no keys (dispatch included) */
	double decode_attn_fixed_s;            /* t0 less the per-op overhead */
	double decode_attn_near_t0_s;          /* t0 over K/V in the cores' L2 */
	double decode_attn_near_fixed_s;       /* ... less the per-op overhead (0: not measured) */
	int decode_attn_near_short_copies;     /* the short probe's K/V caches there */
	double prefill_attn_fixed_s;           /* the tiny prefill probe's time beyond its FLOPs at the
					        * stated rate, less the per-op overhead */
	double handoff_add_s;                  /* the handoff probe's add (handoff_add_s()) */
	double handoff_bw;                     /* its activations' bytes per second beyond the dispatch */
	double decode_attn_memory_share;       /* the from-memory decode probe's K/V bytes per
					        * second / dram_read_bw */
	double decode_attn_one_flops_per_s;    /* the same probe with one map per key head ... */
	double decode_attn_memory_share_one;   /* ... and its share */
	double decode_attn_one_short_flops_per_s; /* ... at AR_CAL_KEYS_ATTN_SHORT keys */
	double decode_attn_memory_t0_s;        /* t0 of K/V from main memory, from the two */
	double decode_attn_memory_fixed_s;     /* ... less the per-op overhead */
	double prefill_attn_tiny_s;            /* that probe's time, and its FLOPs */
	double prefill_attn_tiny_flops;
	double prefill_attn_flops_per_s; /* causal flash prefill, FLOPs as the graph counts */
	double prefill_attn_head_dim_half; /* d0 of the prefill rate */
	double prefill_attn_seq_half;    /* s0: the rate at S query positions is rate·S/(S + s0) */
	long prefill_attn_tile;          /* its tiles (rows = keys) */
	/* the probe with AR_CAL_PREFILL_PER_MAP outputs per map at head dim
	 * D_ATTN and SEQ_PREFILL positions: its time and FLOPs, and φ from it */
	double prefill_attn_per_map_s, prefill_attn_per_map_flops;
	double prefill_attn_output_share;
	/* warm ROWS_SHAPE-row products at (K_EFF, N_EFF), (SHAPE_SHORT, N_EFF)
	 * and (K_EFF, SHAPE_SHORT), then the same of ROWS_SHAPE_MANY rows,
	 * FLOP/s; the half points k0, n0 from the first three, their powers of
	 * the rows from both */
	double shape_rate[6];
	double matrix_inner_half, matrix_cols_half;
	double matrix_inner_half_power, matrix_cols_half_power;
	/* cold products of COLD_ROWS rows at K COLD_K_SHORT, COLD_K_MID and
	 * K_EFF (N_EFF columns), then of COLD_ROWS_MANY rows, FLOP/s (0: not
	 * measured), through cold_copies weights in turn of each shape; the
	 * factors at the two short K (rate / the K_EFF rate, at most 1) and
	 * the power of the rows their shortfall falls with */
	double cold_rate[6];
	int cold_copies[3];
	double inner_cold[2], inner_cold_power;
	int n_sweep;               /* read bandwidth by working set */
	double sweep_bytes[AR_CAL_MAX_SWEEP], sweep_bw[AR_CAL_MAX_SWEEP];
	double wall_s;
};

/* Measure this machine with `threads` threads (0: every core).  Takes well
 * under a minute.  -1 with err when memory for the probes is missing. */
int ar_calibrate_run(struct ar_calib *c, int threads, struct ar_err *err);
/* The cold efficiency points bound by reading their weights (rows below
 * 2·peak / main memory's bandwidth) scaled to main memory's reading of the
 * calibration: by dram_read_bw / eff_dram where those differ by more than
 * AR_TRACK_GATE (the host's memory had changed state between the two
 * probes), as tracking scales them later; sets eff_scaled.  Then, from 32
 * rows on, no point below the one before it (a dip is noise).  Part of
 * ar_calibrate_run, once every point is measured. */
void ar_calibrate_normalise_eff(struct ar_calib *c);
/* The flash prefill's fixed time: the AR_CAL_SEQ_PREFILL_TINY probe's time
 * less its FLOPs at the stated rate (scaled for d 64 and its positions)
 * and the per-op overhead, at least 0.  Part of ar_calibrate_run. */
double ar_calibrate_prefill_fixed(const struct ar_calib *c);
/* φ of the prefill rate (prefill_attention_output_share) from the probe with
 * AR_CAL_PREFILL_PER_MAP outputs per map: the share of the per-score cost
 * d0 of each map that each further output adds, in [0, 1]; 0 without it */
double ar_calibrate_output_share(const struct ar_calib *c);
/* NULL when the probes of c agree with each other, else what disagrees (a
 * probe that another tenant interrupted reads far below what the others
 * allow): main memory reading more than 20 % apart at the start and the
 * end; FMA chains and the matrix peak more than 2.5x apart (fp32 products
 * run on the FMA units); the decode attention probe below a quarter of the rate
 * main memory's bandwidth allows it (its FLOPs per K/V byte times the
 * bandwidth). */
const char *ar_calibrate_disagreement(const struct ar_calib *c);

/* The half-rate point h of a rate that goes as x/(x + h), from its ratio
 * q = rate(a)/rate(b) at a < b: a·b·(1 − q)/(q·b − a); 1e4 where q·b <= a
 * (the reading does not fit the form). */
double ar_calibrate_half(double q, double a, double b);
/* The power p of a half-point that goes as h · (a / rows)^p, from its
 * values h_a at a rows and h_b at b > a: log(h_a / h_b) / log(b / a), at
 * most AR_CAL_HALF_POWER_MAX; 0 when it does not fall (or either is 0). */
double ar_calibrate_half_power(double h_a, double h_b, double a, double b);

/* Write c as a hardware descriptor named `name`.  0, or -1 on a stream error. */
int ar_calibrate_write_yaml(FILE *f, const struct ar_calib *c, const char *name);

/* hw = the descriptor c makes, as ar_calibrate_write_yaml writes it and the
 * loader reads it back (named `label` in messages).  -1 with err on failure. */
int ar_calibrate_descriptor(struct ar_hw *hw, const struct ar_calib *c, const char *label,
			    struct ar_err *err);

/* ---- ceilings that drift ----
 * On a shared machine other tenants move the ceilings within seconds (the
 * matrix rate when a neighbour shares a core, main memory's bandwidth when
 * it streams).  A probe measures them again in a few milliseconds with the
 * probes of ar_calibrate_run cut short; ar_calibrate_track scales a
 * descriptor by how far they have moved since a reference probe, so that a
 * prediction meets a measurement under the ceilings of its own moment. */
struct ar_ceilings {
	int n_mem;                               /* levels of the descriptor probed */
	double matrix_flops_per_s;               /* a 512x1024x1024 product */
	double bw_bytes_per_s[AR_HW_MAX_LEVELS]; /* read bandwidth of hw->mem[i]: main memory only
						  * (0: not probed) */
	double overhead_s;                       /* the tiny-op chain of calibrate, cut short */
	double round_trip_s;                     /* ar_kernels_round_trip (0: one thread) */
};

/* Buffers of the probe: a main-memory working set (4x the largest cache of
 * the descriptor, at least 64 MB) and the product's operands. */
struct ar_probe {
	int n_mem; /* the descriptor's levels */
	float *buf;
	size_t buf_floats;
	float *a, *w, *c;
};

/* 0, or -1 with err when the buffers cannot be allocated.  ar_probe_release
 * frees the buffers (a zeroed probe is fine). */
int ar_probe_init(struct ar_probe *p, const struct ar_hw *hw, struct ar_err *err);
void ar_probe_release(struct ar_probe *p);
/* Measure the ceilings now (a product of about a GFLOP, one read of the
 * main-memory set, a chain of tiny ops: 5-10 ms). */
void ar_probe_run(struct ar_probe *p, struct ar_ceilings *out);
/* The element-wise median of n ceilings (n <= 16). */
void ar_ceilings_median(struct ar_ceilings *out, const struct ar_ceilings *c, int n);
/* The best of n ceilings, field by field: the highest rates, the shortest
 * times (n >= 1).  A probe another tenant or the op before disturbs reads
 * low, never high. */
void ar_ceilings_best(struct ar_ceilings *out, const struct ar_ceilings *c, int n);
/* The ceilings the descriptor's calibration read with the same probe
 * (probe_matrix_flops_per_s, probe_dram_bytes_per_s, probe_overhead_s):
 * 1 and out filled when it states all three, else 0.  A reference from the
 * moment the descriptor was measured follows a change of the machine's
 * state between the calibration and a later run, which a reference read at
 * the start of that run would take for the descriptor's own. */
int ar_ceilings_of_hw(struct ar_ceilings *out, const struct ar_hw *hw);
/* out = base with every compute rate (matrix and vector peaks, attention
 * rates, exp) scaled by now/ref of the matrix probe, each level's bandwidth
 * by its own ratio, the points of the efficiency curves where products are
 * bound by reading weights by the ratio of their level (main memory; the
 * last-level cache for the cached curve), and the overhead and the decode
 * kernel's fixed time by the ratio of the dispatch probe; ratios inside the
 * gate below count as 1.  out may alias base. */
void ar_calibrate_track(struct ar_hw *out, const struct ar_hw *base,
			const struct ar_ceilings *ref, const struct ar_ceilings *now);
/* A ratio within (1/AR_TRACK_GATE, AR_TRACK_GATE) is taken as 1: the probe
 * is short, and on a steady host its readings scatter by up to ~18 % (the
 * matrix peak and the dispatch time), while a shared host's changes of state
 * move them far more (main memory x0.6 and x1.6, the dispatch time x0.35
 * and x2.7); following the scatter made the predictions worse than not
 * tracking at all.  Main memory's readings scatter further within one state
 * (0.73-1.30 of the reference over validations of one state) and take
 * AR_TRACK_GATE_MEMORY, the gate of a new state: over the earlier
 * validations, decode points whose main memory read 1.2-1.3 or 0.77-0.83 of
 * the reference were predicted worse tracked than not in most runs
 * (mha-160m's decode attention off by -24 % tracked, -5 % not). */
#define AR_TRACK_GATE 1.2
#define AR_TRACK_GATE_MEMORY AR_STATE_GATE_MEMORY

#endif
