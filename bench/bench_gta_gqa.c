/* The GTA paper's claim on real kernels: GTA-1B-shaped against GQA-1B-shaped
 * layers at long context on this CPU, measured by the executor and predicted
 * by the roofline model for the same runs from this machine calibrated at
 * the start.  Fewer layers than the real models (4) keep it quick; the
 * per-layer shapes and the head are the real ones.  Speed-up = GQA time /
 * GTA time. */
#include <stdio.h>
#include <stdlib.h>

#include "bench_host.h"
#include "exec.h"
#include "graph.h"
#include "hw.h"
#include "kernels.h"
#include "model.h"
#include "roofline.h"

enum { LAYERS = 4 };

static void die(const struct ar_err *err)
{
	char buf[1200];

	ar_err_format(err, buf, sizeof(buf));
	fprintf(stderr, "%s\n", buf);
	exit(1);
}

struct res {
	double meas, pred, attn_meas, attn_pred; /* whole phase; the attention op alone */
};

static struct res one(const struct ar_hw *hw, const char *name, enum ar_phase ph, long B, long S)
{
	struct ar_err err = { 0 };
	struct ar_model m;
	struct ar_exec ex;
	struct ar_graph g;
	struct ar_phase_time pt;
	struct ar_workload wl = { .batch = B, .seq = S, .attn = AR_ATTN_FLASH, .wbits = 32,
				  .abits = 32, .kvbits = 32, .tp = 1 };
	double op_s[AR_GRAPH_MAX_OPS];
	struct res r = { 0 };

	if (ar_model_open(&m, name, &err))
		die(&err);
	m.layers = LAYERS;
	if (ar_exec_init(&ex, &m, B, ph == AR_PHASE_PREFILL ? S : 1, S, AR_ATTN_FLASH,
			 hw->onchip_bytes_per_unit, 1, 0, &err))
		die(&err);
	ar_graph_build(&g, &m, &wl, hw->onchip_bytes_per_unit, ph);
	if (ar_exec_measure(&ex, &g, 1, 3, op_s, &r.meas, &err) || ar_roofline_eval(&g, hw, &pt, &err))
		die(&err);
	r.pred = pt.time_s;
	for (int i = 0; i < g.n_ops; i++)
		if (g.ops[i].id == AR_OP_FLASH) {
			r.attn_meas = op_s[i] * g.ops[i].layers;
			r.attn_pred = pt.ops[i].time_s * g.ops[i].layers;
		}
	ar_exec_release(&ex);
	return r;
}

static void compare(const struct ar_hw *hw, enum ar_phase ph, long B, long S)
{
	struct res q = one(hw, "gqa-1b", ph, B, S), t = one(hw, "gta-1b", ph, B, S);

	printf("%-7s B %2ld S %6ld | GQA %9.2f ms (pred %9.2f) | GTA %9.2f ms (pred %9.2f) | "
	       "speed-up measured %.2fx, predicted %.2fx | attention alone %.2fx, predicted %.2fx\n",
	       ar_phase_names[ph], B, S, q.meas * 1e3, q.pred * 1e3, t.meas * 1e3, t.pred * 1e3,
	       q.meas / t.meas, q.pred / t.pred, q.attn_meas / t.attn_meas, q.attn_pred / t.attn_pred);
}

int main(void)
{
	struct ar_hw hw;

	ar_kernels_set_threads(0);
	bench_host(&hw);
	ar_kernels_set_threads(hw.kind == AR_HW_CPU ? (int)hw.units : 0); /* as calibrated */
	printf("GTA-1B vs GQA-1B shapes, %d layers, fp32, flash attention, %d threads, predictions on "
	       "this host calibrated now (matrix %.1f GFLOP/s, DRAM %.1f GB/s)\n", LAYERS,
	       ar_kernels_threads(), hw.matrix_flops_per_s[AR_DT_FP32] / 1e9,
	       hw.mem[0].bw_bytes_per_s / 1e9);
	compare(&hw, AR_PHASE_PREFILL, 1, 2048);
	compare(&hw, AR_PHASE_PREFILL, 1, 4096);
	compare(&hw, AR_PHASE_DECODE, 1, 16384);
	compare(&hw, AR_PHASE_DECODE, 8, 8192);
	compare(&hw, AR_PHASE_DECODE, 1, 65536);
	return 0;
}
