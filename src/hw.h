/* Hardware descriptors: struct ar_hw, loaded from hw/NAME.yaml, plus what-if
 * edits (--set).  Values are SI base units.  Knows nothing of models. */
#ifndef AR_HW_H
#define AR_HW_H

#include <stddef.h>

#include "err.h"

enum ar_dtype {
	AR_DT_FP32, AR_DT_TF32, AR_DT_BF16, AR_DT_FP16, AR_DT_FP8, AR_DT_INT8,
	AR_DT_INT4, AR_DT_COUNT
};
extern const char *const ar_dtype_names[AR_DT_COUNT];

enum ar_hw_kind { AR_HW_GPU, AR_HW_CPU, AR_HW_SOC, AR_HW_KIND_COUNT };
extern const char *const ar_hw_kind_names[AR_HW_KIND_COUNT];

enum { AR_HW_MAX_LEVELS = 8, AR_HW_MAX_EFF = 16, AR_HW_MAX_SWEEP = 32 };
/* The product shape the efficiency curves are stated at when a descriptor
 * declares the shape half-points (matrix_inner_half, matrix_cols_half):
 * inner dimension K and columns N, those `attnroof calibrate` measures at */
enum { AR_HW_EFF_K = 1024, AR_HW_EFF_N = 2048 };
/* ... and the rows the shape half-points are stated at */
enum { AR_HW_SHAPE_ROWS = 128 };
/* the rows the cold inner-dimension factors (matrix_inner_cold) are stated
 * at, and the most of them */
enum { AR_HW_COLD_ROWS = 32, AR_HW_MAX_COLD_K = 4 };

struct ar_mem_level {
	char name[32];
	double capacity_bytes;
	double bw_bytes_per_s; /* 0: not known; the level is not used for time */
};

/* One point of the matrix efficiency curve: the fraction of the matrix peak
 * that products with `rows` rows (the smaller GEMM dimension: tokens, or the
 * batch in decode) attain. */
struct ar_eff_point {
	double rows, value;
};

/* One point of matrix_inner_cold: the share of the curve's efficiency a
 * product of inner dimension k attains through weights from main memory. */
struct ar_k_point {
	double k, value;
};

/* One point of a read sweep: a working set read over and over, and the
 * bandwidth it was read at. */
struct ar_sweep_point {
	double bytes, bw;
};

struct ar_hw {
	char name[64];
	char description[160];
	enum ar_hw_kind kind;
	double matrix_flops_per_s[AR_DT_COUNT]; /* dense peaks; 0 = the part lacks it */
	double vector_flops_per_s[AR_DT_COUNT];
	struct ar_mem_level mem[AR_HW_MAX_LEVELS]; /* mem[0] is main memory */
	int n_mem;
	double onchip_bytes_per_unit; /* on-chip memory of one compute unit */
	long units;                   /* SMs or cores */
	double link_bw_bytes_per_s;      /* device-to-device, per direction; 0 = none */
	double host_link_bw_bytes_per_s; /* per direction; 0 = none (unified memory) */
	double overhead_s;               /* added to every op; 0 = none declared */
	/* optional `read_bandwidth_by_set: [{bytes, value, source}, ...]`, bytes
	 * increasing: the read bandwidth of working sets read over and over.  A
	 * resident set from the fastest point's bytes up to the last-level
	 * cache's capacity (and the last point) reads at the bandwidth
	 * interpolated there (log-log) in place of the level's: a set a little
	 * larger than a cache still finds much of itself there.  Below the
	 * fastest point the probe's own loop, not the memory, bounds the
	 * reading.  An edit of a cache level (--set L2.bandwidth=...) drops it.
	 * n 0 = none */
	int n_read_sweep;
	struct ar_sweep_point read_sweep[AR_HW_MAX_SWEEP];
	/* optional `matrix_efficiency: [{rows, value, source}, ...]`, rows
	 * increasing, values in (0, 1]; none (n 0) means the peak at every shape */
	int n_matrix_eff;
	struct ar_eff_point matrix_eff[AR_HW_MAX_EFF];
	/* optional `matrix_efficiency_cached`, the same for products whose
	 * weights a cache holds (the graph's weights and KV cache fit a level
	 * below main memory); none: matrix_efficiency serves both */
	int n_matrix_eff_cached;
	struct ar_eff_point matrix_eff_cached[AR_HW_MAX_EFF];
	/* optional `matrix_efficiency_near`, the same for products whose
	 * weights the level below the last-level cache holds (the cores' own
	 * caches): a row through weights in L2 streams them faster than from
	 * the L3.  none: matrix_efficiency_cached serves there too */
	int n_matrix_eff_near;
	struct ar_eff_point matrix_eff_near[AR_HW_MAX_EFF];
	/* optional `matrix_efficiency_cached_bytes`: the working set the
	 * cached curve was measured over.  With it and the near curve, a
	 * resident set between half the near level's capacity (the set
	 * calibrate measures the near curve over) and it takes an efficiency
	 * between the two curves' (log-linear in both the bytes and the
	 * efficiency): the near level holds a shrinking part of it.
	 * 0 = none (the cached curve from the near level's capacity on) */
	double matrix_eff_cached_bytes;
	/* optional `matrix_inner_half` (k0) and `matrix_cols_half` (n0): a
	 * product bound by its FLOPs (rows at least 2 x the fp32 matrix peak /
	 * main memory's bandwidth, m/2 FLOPs per weight byte) of inner
	 * dimension K and N columns attains the curve's efficiency times
	 * K/(K + k0) and N/(N + n0), each relative to its value at the shape
	 * the curves are stated at (AR_HW_EFF_K, AR_HW_EFF_N) and at most 1:
	 * every column of packed weights and every inner step has a cost of
	 * its own beside its multiply-adds.  0 = none (the curve at every
	 * shape).  The half-points are those of AR_HW_SHAPE_ROWS rows; with
	 * optional `matrix_inner_half_power` (p) and `matrix_cols_half_power`,
	 * a product of more rows has k0 · (AR_HW_SHAPE_ROWS / rows)^p (that
	 * cost is shared by more rows); 0 = the same half-points at any rows */
	double matrix_inner_half, matrix_cols_half;
	double matrix_inner_half_power, matrix_cols_half_power;
	/* optional `matrix_inner_cold: [{k, value, source}, ...]`, k increasing
	 * below AR_HW_EFF_K: where a FLOP-bound product's weights come from
	 * main memory, its inner dimension k costs this factor (in place of
	 * the half-point k0, which warm products measure): BLAS packs short
	 * weight rows as short streams from memory.  Log-linear in k between
	 * the points and 1 at AR_HW_EFF_K, below the first point the power of
	 * k through the first two (or the first and AR_HW_EFF_K).  Stated at
	 * AR_HW_COLD_ROWS rows; with optional `matrix_inner_cold_power` (q)
	 * the shortfall 1 − factor falls as (AR_HW_COLD_ROWS / rows)^q past
	 * them (0: the same at any rows) */
	int n_matrix_inner_cold;
	struct ar_k_point matrix_inner_cold[AR_HW_MAX_COLD_K];
	double matrix_inner_cold_power;
	/* optional `decode_attention_flops_per_s`: what the decode attention
	 * kernel attains, matrix and vector FLOPs together as the graph counts
	 * them; the decode flash op's compute time is its FLOPs over it (in place
	 * of the matrix and vector peaks).  0 = none declared */
	double decode_attn_flops_per_s;
	/* optional `prefill_attention_flops_per_s`: the same for the prefill
	 * flash op (causal, the tiles the graph counts) */
	double prefill_attn_flops_per_s;
	/* optional `decode_attention_cached_flops_per_s`: the decode kernel's
	 * rate over K/V held in a cache (used when the graph's weights and KV
	 * cache fit a level below main memory); 0 = the rate above serves both */
	double decode_attn_cached_flops_per_s;
	/* optional `decode_attention_near_flops_per_s`: the same over K/V the
	 * level below the last-level cache holds, used when the resident set
	 * fits it; with `decode_attention_cached_bytes` (the K/V the cached
	 * rate was measured over), a resident set between half that level's
	 * capacity and those bytes takes a rate between the two (log-linear,
	 * as the products' band).  0 = none */
	double decode_attn_near_flops_per_s, decode_attn_cached_bytes;
	/* optional `decode_attention_head_dim_half`: d0 of the decode kernel's
	 * rate at key head dimension d, rate·d/(d + d0) (each score has a cost
	 * of its own beside its d multiply-adds: the sum across lanes, the
	 * exponential); the rates above are then those of long heads.  0 = none */
	double decode_attn_head_dim_half;
	/* optional `prefill_attention_head_dim_half`: the same d0 for the
	 * prefill rate; 0 = none */
	double prefill_attn_head_dim_half;
	/* optional `prefill_attention_seq_half`: s0 of the prefill rate at S
	 * query positions, rate·S/(S + s0) (every query row has a cost of its
	 * own beside its keys: loading it, rescaling and writing its output);
	 * the prefill rate is then that of long sequences.  0 = none */
	double prefill_attn_seq_half;
	/* optional `prefill_attention_output_share` (φ, 0 … 1): with it, the
	 * head-dim cost d0 of the prefill rate is a cost per score of each map
	 * (its softmax, the rescale of its output), of which each further
	 * output on the same map adds the share φ (its own product and
	 * rescale): a flash op of F FLOPs, Fm of them were there one output per
	 * map, a outputs per map, takes (F + Fm·(d0/d)·(1 + φ(a − 1))) /
	 * (rate·S/(S + s0)).  At a = 1 that is F/(rate·d/(d + d0)·S/(S + s0)),
	 * the form without it, which serves every output at the full cost */
	double prefill_attn_output_share;
	int has_prefill_attn_output_share;
	/* optional `decode_attention_intensity_half`: I0 of the decode rate at
	 * I FLOPs per K/V element read, rate·I/(I + I0) (each key and value row
	 * read costs its own share, which the maps and value heads that use it
	 * divide: MHA has one map per key head, GQA four; a row read in both
	 * passes, as MLA's latent, counts twice); the decode rates are then
	 * those of high intensity.  0 = none */
	double decode_attn_intensity_half;
	/* optional `decode_attention_fixed_s`: the decode attention kernel's
	 * time beside its rate and the dispatch (set-up, the merge of key
	 * ranges split over threads), added to the decode flash op; 0 = none */
	double decode_attn_fixed_s;
	/* optional `decode_attention_near_fixed_s`: the same over K/V the level
	 * below the last-level cache holds (no streams to start from the L3),
	 * used as the near rate is, and across the same band, linearly */
	double decode_attn_near_fixed_s;
	int has_decode_attn_near_fixed;
	/* optional `decode_attention_memory_fixed_s`: the same over K/V from
	 * main memory, whose streams all start there; used, where declared,
	 * for a resident set in main memory */
	double decode_attn_memory_fixed_s;
	int has_decode_attn_memory_fixed;
	/* optional `prefill_attention_fixed_s`: the flash prefill kernel's time
	 * beyond its FLOPs at that rate and the dispatch (its items' start and
	 * join across threads), added to the prefill flash op; 0 when absent */
	double prefill_attn_fixed_s;
	/* optional `decode_attention_memory_share`: the decode attention
	 * kernel's read of K/V from main memory as a share of main memory's
	 * bandwidth; the decode flash op's K/V bytes from main memory take at
	 * least their bytes at that share.  0 when absent (the full bandwidth) */
	double decode_attn_memory_share;
	/* optional `decode_attention_memory_share_one`: the same share with one
	 * map per key head (the kernel's arithmetic per K/V byte a fourth of
	 * the 4-maps probe's); with both, a flash op's share lies between them,
	 * log-linear in its intensity from AR_HW_SHARE_I_ONE to
	 * AR_HW_SHARE_I_FOUR and at the nearer one outside.  0 when absent */
	double decode_attn_memory_share_one;
	/* optional `handoff_bw_bytes_per_s`: the rate at which an op's threads
	 * read and write activations the threads of the op before wrote in
	 * another split (a product's output written by columns, read by rows),
	 * caches of other cores between them; an op's activation bytes go at
	 * no more than it.  0 when absent (their cache level's bandwidth) */
	double handoff_bw_bytes_per_s;
	/* optional `exp_per_s`: exponentials per second on the vector units.
	 * When declared, the exponentials among an op's vector FLOPs (softmax,
	 * SiLU, sigmoid, GELU's tanh; each counted as one FLOP) take their own
	 * time at this rate and the other vector FLOPs go at the vector peak;
	 * 0 = none declared (every vector FLOP at the vector peak) */
	double exp_per_s;
	/* optional `probe_matrix_flops_per_s`, `probe_dram_bytes_per_s`,
	 * `probe_overhead_s`: what validate's tracking probe (ar_probe_run) read
	 * when the descriptor was calibrated; validate holds its own readings
	 * against these (ar_ceilings_of_hw).  0 when absent */
	double probe_matrix_flops_per_s, probe_dram_bytes_per_s, probe_overhead_s;
};

/* Load hw from a YAML file.  hw need not be initialised.  Every number must be
 * {value, source}.  0, or -1 with err at the offending node. */
int ar_hw_load(struct ar_hw *hw, const char *path, struct ar_err *err);
/* The same from YAML text in memory (len bytes, need not be NUL-terminated);
 * name is used as the path in errors. */
int ar_hw_parse(struct ar_hw *hw, const char *name, const char *text, size_t len,
		struct ar_err *err);

/* Peak FLOP/s for an op whose operands are `bits` wide, on the matrix units
 * (matrix != 0) or the vector units.  32 → fp32; 16 → fp16, else bf16; 8 →
 * int8, else fp8; 4 → int4.  A dtype the part lacks falls back to the next
 * wider one it has (the operands are widened before compute).  Never 0 for a
 * loaded descriptor. */
double ar_hw_peak(const struct ar_hw *hw, int matrix, int bits);

/* Where a resident set of `bytes` (a graph's weights and KV cache) lives,
 * among the levels with a known bandwidth: AR_IN_MAIN (none of the caches
 * holds it), AR_IN_LLC (the largest holds it), AR_IN_NEAR (a smaller one
 * does). */
enum ar_residence { AR_IN_MAIN, AR_IN_LLC, AR_IN_NEAR };
enum ar_residence ar_hw_residence(const struct ar_hw *hw, double bytes);

/* The attention kernel's fixed time (decode_attention_fixed_s and its near
 * value across the band, prefill_attention_fixed_s) for a resident set of
 * `resident` bytes */
double ar_hw_attention_fixed_for(const struct ar_hw *hw, int decode, double resident);

/* The smallest level with a known bandwidth that holds `bytes`; 0 (main
 * memory) when none does. */
int ar_hw_level_for(const struct ar_hw *hw, double bytes);

/* Bandwidth at which a resident set (weights and KV cache) of `bytes` is
 * read: the read sweep's where it applies (read_bandwidth_by_set), else that
 * of the smallest level with a known bandwidth that holds it, main memory's
 * when none does. */
double ar_hw_resident_bw(const struct ar_hw *hw, double bytes);

/* Fraction of the matrix peak a product of `rows` rows attains: the curve
 * of where its weights live (`cached`, an ar_residence: matrix_efficiency_near,
 * else matrix_efficiency_cached, for AR_IN_NEAR; matrix_efficiency_cached for
 * AR_IN_LLC; matrix_efficiency whenever the descriptor lacks the one named)
 * interpolated linearly in log(rows), held at its end values outside it; 1
 * when the descriptor has no curve (or rows <= 0). */
double ar_hw_matrix_efficiency(const struct ar_hw *hw, double rows, int cached);

/* The same for a product whose weights are part of a resident set of
 * `resident` bytes: ar_hw_matrix_efficiency at its residence, or between
 * the near and the cached curve in the band matrix_efficiency_cached_bytes
 * describes. */
double ar_hw_matrix_efficiency_for(const struct ar_hw *hw, double rows, double resident);

/* The factor in (0, 1] on that efficiency for a product of `rows` rows,
 * inner dimension k and n columns (matrix_inner_half, matrix_cols_half;
 * cold != 0, weights from main memory: matrix_inner_cold for k where the
 * descriptor has it); 1 below the rows bound by reading their weights and
 * when the descriptor declares no shape. */
double ar_hw_matrix_shape(const struct ar_hw *hw, double rows, double k, double n, int cold);
/* The cold inner-dimension factor alone (matrix_inner_cold at k and rows;
 * 1 without it) */
double ar_hw_matrix_inner_cold(const struct ar_hw *hw, double rows, double k);

/* The FLOPs a prefill flash op of `flops` counts for at the prefill rate
 * (ar_hw_attention_rate, which holds d/(d + d0)): with
 * prefill_attention_output_share, (flops + map_flops·(d0/d)·(1 + φ(a − 1)))
 * · d/(d + d0) for a = per_map outputs per map; else, or at a <= 1, flops */
double ar_hw_prefill_attention_flops(const struct ar_hw *hw, double head_dim, double flops,
				     double map_flops, double per_map);

/* The rate of the flash op (FLOPs as the graph counts them) in the decode
 * (decode != 0) or prefill phase, for key heads of head_dim elements, over
 * K/V in a cache (cached != 0) or main memory; 0 when the descriptor
 * declares none (the op then goes at the matrix and vector peaks). */
double ar_hw_attention_rate(const struct ar_hw *hw, int decode, double head_dim, double rows,
			    double intensity, int cached);
/* The same for K/V that are part of a resident set of `resident` bytes:
 * at its residence, or in the band between the near and the cached
 * decode rates. */
double ar_hw_attention_rate_for(const struct ar_hw *hw, int decode, double head_dim, double rows,
				double intensity, double resident);

/* The FLOPs per K/V element (the op's attn_intensity) of the two decode
 * probes whose shares of main memory the descriptor gives: one and four maps
 * per key head of 64 ((4·64 + 5) / (2·64) per map) */
#define AR_HW_SHARE_I_ONE (261.0 / 128)
#define AR_HW_SHARE_I_FOUR (4 * 261.0 / 128)

/* The decode attention kernel's share of main memory's bandwidth for a
 * flash op of `intensity` (0: unknown, the 4-maps share); 0 when the
 * descriptor gives none. */
double ar_hw_decode_memory_share(const struct ar_hw *hw, double intensity);

/* Apply one what-if edit "KEY=VALUE" where VALUE is a number or "<f>x" (scale).
 * Keys: bandwidth, capacity, <level>.bandwidth, <level>.capacity, peak (every
 * compute rate: matrix and vector peaks, attention rates, exp), matrix.<dtype>,
 * vector.<dtype>, exp, link, host_link, overhead, onchip, units.  -1 with err (no path) on a bad key or value. */
int ar_hw_set(struct ar_hw *hw, const char *assignment, struct ar_err *err);

/* Names accepted by ar_hw_set, for --help and suggestions. */
extern const char *const ar_hw_set_keys[];

#endif
