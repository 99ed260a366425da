/* ar_analyze and the table, CSV and JSON writers.  JSON is written by hand
 * (stable key order) and only after every number was checked to be finite. */
#include "report.h"

#include <math.h>
#include <string.h>

const char *const ar_format_names[AR_FMT_COUNT] = { "table", "csv", "json" };

static int check_finite(const struct ar_analysis *an, struct ar_err *err)
{
	/* costs are non-negative, so a NaN or Inf anywhere reaches the totals */
	for (int p = 0; p < AR_PHASE_COUNT; p++) {
		const struct ar_graph *g = &an->graph[p];
		if (isfinite(an->time[p].time_s + an->time[p].flops + an->time[p].bytes))
			continue;
		for (int i = 0; i < g->n_ops; i++) {
			const struct ar_op *op = &g->ops[i];
			const struct ar_op_time *t = &an->time[p].ops[i];
			if (!isfinite(op->mflops + op->vflops + ar_op_bytes(op) + t->time_s))
				return ar_errf(err, NULL, 0, 0, "%s op '%s' has a non-finite cost",
					       ar_phase_names[p], ar_op_names[op->id]);
		}
		if (!isfinite(an->time[p].time_s))
			return ar_errf(err, NULL, 0, 0, "%s time is not finite", ar_phase_names[p]);
	}
	if (!isfinite(an->gen.time_s) || !isfinite(an->params) ||
	    !isfinite(an->kv_cache_bytes) || !isfinite(an->activation_bytes))
		return ar_errf(err, NULL, 0, 0, "the analysis produced a non-finite result");
	return 0;
}

int ar_analyze(struct ar_analysis *an, const struct ar_model *m, const struct ar_hw *hw,
	       const struct ar_workload *wl, struct ar_err *err)
{
	struct ar_model shard;

	if (ar_workload_check(m, wl, err))
		return -1;
	an->model = m;
	an->hw = hw;
	an->wl = *wl;
	for (int p = 0; p < AR_PHASE_COUNT; p++) {
		ar_graph_build(&an->graph[p], m, wl, hw->onchip_bytes_per_unit, (enum ar_phase)p);
		if (ar_roofline_eval(&an->graph[p], hw, &an->time[p], err))
			return -1;
	}
	memset(&an->gen, 0, sizeof(an->gen));
	if (wl->gen > 0 &&
	    ar_roofline_generate(m, wl, hw, an->time[AR_PHASE_PREFILL].time_s, &an->gen, err))
		return -1;
	if (wl->tp > 1)
		ar_model_shard(&shard, m, wl->tp);
	an->params = ar_model_params(m);
	an->kv_elems_per_token_layer = ar_model_kv_elems(m);
	an->kv_bytes_per_token = an->kv_elems_per_token_layer * (double)m->layers * wl->kvbits / 8.0;
	an->weights_bytes = an->graph[AR_PHASE_PREFILL].weight_bytes;
	an->kv_cache_bytes = ar_model_kv_elems(wl->tp > 1 ? &shard : m) * (double)m->layers * (double)wl->batch *
			     (double)(wl->seq + wl->gen) * wl->kvbits / 8.0;
	an->activation_bytes = an->graph[AR_PHASE_PREFILL].act_peak_bytes;
	return check_finite(an, err);
}

const char *ar_fmt_si(char *buf, size_t n, double v, const char *unit)
{
	static const char *const pre[] = { "", "k", "M", "G", "T", "P", "E" };
	static const char *const small[] = { "", "m", "u", "n", "p" };
	int i = 0;
	double a = fabs(v);

	if (v == 0) {
		snprintf(buf, n, "0 %s", unit);
	} else if (a < 1) {
		while (a < 1 && i < 4) {
			a *= 1000;
			v *= 1000;
			i++;
		}
		snprintf(buf, n, "%.3g %s%s", v, small[i], unit);
	} else {
		while (a >= 1000 && i < 6) {
			a /= 1000;
			v /= 1000;
			i++;
		}
		snprintf(buf, n, "%.3g %s%s", v, pre[i], unit);
	}
	return buf;
}

/* ---- table ---- */

static void table_phase(FILE *f, const struct ar_analysis *an, enum ar_phase p)
{
	const struct ar_graph *g = &an->graph[p];
	const struct ar_phase_time *t = &an->time[p];
	char b1[32], b2[32], b3[32], b4[32];

	fprintf(f, "\n%s (%s, batch %ld, %s %ld):\n", ar_phase_names[p],
		p == AR_PHASE_PREFILL ? "prompt" : "one step", an->wl.batch,
		p == AR_PHASE_PREFILL ? "tokens" : "KV length", an->wl.seq);
	fprintf(f, "  %-15s %-11s %6s %12s %12s %12s %8s %8s\n", "op", "kind", "layers",
		"FLOPs", "bytes", "time", "share", "bound");
	for (int i = 0; i < g->n_ops; i++) {
		const struct ar_op *op = &g->ops[i];
		const struct ar_op_time *r = &t->ops[i];
		double tt = r->time_s * op->layers;
		fprintf(f, "  %-15s %-11s %6.0f %12s %12s %12s %7.1f%% %8s\n",
			ar_op_names[op->id], ar_kind_names[ar_op_kind(op->id)], op->layers,
			ar_fmt_si(b1, sizeof(b1), (op->mflops + op->vflops) * op->layers, "FLOP"),
			ar_fmt_si(b2, sizeof(b2), ar_op_bytes(op) * op->layers, "B"),
			ar_fmt_si(b3, sizeof(b3), tt, "s"),
			t->time_s > 0 ? 100 * tt / t->time_s : 0, ar_bound_names[r->bound]);
	}
	fprintf(f, "  %-15s %-11s %6s %12s %12s %12s\n", "total", "", "",
		ar_fmt_si(b1, sizeof(b1), t->flops, "FLOP"), ar_fmt_si(b2, sizeof(b2), t->bytes, "B"),
		ar_fmt_si(b3, sizeof(b3), t->time_s, "s"));
	(void)b4;
}

int ar_write_table(FILE *f, const struct ar_analysis *an)
{
	const struct ar_model *m = an->model;
	const struct ar_workload *wl = &an->wl;
	char b1[32], b2[32], b3[32], b4[32];

	fprintf(f, "model    %s (%s), %ld layers, %s parameters\n", m->name, m->attn.label,
		m->layers, ar_fmt_si(b1, sizeof(b1), an->params, ""));
	fprintf(f, "hardware %s%s%s\n", an->hw->name, an->hw->description[0] ? ": " : "",
		an->hw->description);
	fprintf(f, "workload batch %ld, seq %ld, gen %ld, attention %s, W%d A%d KV%d, tp %ld\n",
		wl->batch, wl->seq, wl->gen, ar_attn_impl_names[wl->attn], wl->wbits, wl->abits,
		wl->kvbits, wl->tp);
	fprintf(f, "KV cache %.0f elements per token per layer, %s per token\n",
		an->kv_elems_per_token_layer, ar_fmt_si(b2, sizeof(b2), an->kv_bytes_per_token, "B"));
	fprintf(f, "memory   weights %s, KV cache %s, activations %s (per device)\n",
		ar_fmt_si(b1, sizeof(b1), an->weights_bytes, "B"),
		ar_fmt_si(b2, sizeof(b2), an->kv_cache_bytes, "B"),
		ar_fmt_si(b3, sizeof(b3), an->activation_bytes, "B"));
	table_phase(f, an, AR_PHASE_PREFILL);
	table_phase(f, an, AR_PHASE_DECODE);
	if (wl->gen > 0)
		fprintf(f, "\ngenerate %ld tokens after %ld: TTFT %s, TPOT %s, total %s, %.1f tokens/s\n",
			wl->gen, wl->seq, ar_fmt_si(b1, sizeof(b1), an->gen.ttft_s, "s"),
			ar_fmt_si(b2, sizeof(b2), an->gen.tpot_s, "s"),
			ar_fmt_si(b3, sizeof(b3), an->gen.time_s, "s"),
			an->gen.time_s > 0 ? (double)(wl->batch * wl->gen) / an->gen.time_s : 0);
	(void)b4;
	return ferror(f) ? -1 : 0;
}

/* ---- CSV ---- */

int ar_write_csv(FILE *f, const struct ar_analysis *an)
{
	fprintf(f, "model,arch,hardware,phase,batch,seq,op,kind,layers,flops,weight_bytes,"
		   "act_in_bytes,act_out_bytes,kv_read_bytes,kv_write_bytes,reread_bytes,"
		   "link_bytes,bytes,compute_s,memory_s,link_s,time_s,bound\n");
	for (int p = 0; p < AR_PHASE_COUNT; p++) {
		const struct ar_graph *g = &an->graph[p];
		for (int i = 0; i < g->n_ops; i++) {
			const struct ar_op *op = &g->ops[i];
			const struct ar_op_time *t = &an->time[p].ops[i];
			double L = op->layers;
			fprintf(f, "%s,%s,%s,%s,%ld,%ld,%s,%s,%.0f,%.17g", an->model->name,
				an->model->attn.arch, an->hw->name, ar_phase_names[p], an->wl.batch,
				an->wl.seq, ar_op_names[op->id], ar_kind_names[ar_op_kind(op->id)], L,
				(op->mflops + op->vflops) * L);
			for (int c = 0; c < AR_B_COUNT; c++)
				fprintf(f, ",%.17g", op->bytes[c] * L);
			fprintf(f, ",%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%s\n", op->link_bytes * L,
				ar_op_bytes(op) * L, t->compute_s * L, t->memory_s * L, t->link_s * L,
				t->time_s * L, ar_bound_names[t->bound]);
		}
	}
	return ferror(f) ? -1 : 0;
}

int ar_write_sweep_header(FILE *f)
{
	fprintf(f, "model,arch,hardware,batch,seq,gen,attn,wbits,abits,kvbits,tp,params,"
		   "kv_elems_per_token_layer,kv_bytes_per_token,prefill_flops,prefill_bytes,"
		   "prefill_s,decode_flops,decode_bytes,decode_s,ttft_s,tpot_s,generate_s,"
		   "weights_bytes,kv_cache_bytes,activation_bytes\n");
	return ferror(f) ? -1 : 0;
}

int ar_write_sweep_row(FILE *f, const struct ar_analysis *an)
{
	const struct ar_workload *w = &an->wl;
	const struct ar_phase_time *p = &an->time[AR_PHASE_PREFILL], *d = &an->time[AR_PHASE_DECODE];

	fprintf(f, "%s,%s,%s,%ld,%ld,%ld,%s,%d,%d,%d,%ld,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,"
		   "%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n",
		an->model->name, an->model->attn.arch, an->hw->name, w->batch, w->seq, w->gen,
		ar_attn_impl_names[w->attn], w->wbits, w->abits, w->kvbits, w->tp, an->params,
		an->kv_elems_per_token_layer, an->kv_bytes_per_token, p->flops, p->bytes, p->time_s,
		d->flops, d->bytes, d->time_s, an->gen.ttft_s, an->gen.tpot_s, an->gen.time_s,
		an->weights_bytes, an->kv_cache_bytes, an->activation_bytes);
	return ferror(f) ? -1 : 0;
}

/* ---- JSON ---- */

void ar_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_phase(FILE *f, const struct ar_analysis *an, enum ar_phase p)
{
	const struct ar_graph *g = &an->graph[p];
	const struct ar_phase_time *t = &an->time[p];

	fprintf(f, "  \"%s\": {\"time_s\": %.17g, \"flops\": %.17g, \"bytes\": %.17g, \"ops\": [\n",
		ar_phase_names[p], t->time_s, t->flops, t->bytes);
	for (int i = 0; i < g->n_ops; i++) {
		const struct ar_op *op = &g->ops[i];
		const struct ar_op_time *r = &t->ops[i];
		double L = op->layers;
		fprintf(f, "    {\"name\": \"%s\", \"kind\": \"%s\", \"layers\": %.0f, "
			   "\"flops\": %.17g, \"bytes\": %.17g, \"bytes_by_class\": {",
			ar_op_names[op->id], ar_kind_names[ar_op_kind(op->id)], L,
			(op->mflops + op->vflops) * L, ar_op_bytes(op) * L);
		for (int c = 0; c < AR_B_COUNT; c++)
			fprintf(f, "%s\"%s\": %.17g", c ? ", " : "", ar_bytes_names[c], op->bytes[c] * L);
		fprintf(f, "}, \"link_bytes\": %.17g, \"time_s\": %.17g, \"bound\": \"%s\"}%s\n",
			op->link_bytes * L, r->time_s * L, ar_bound_names[r->bound],
			i + 1 < g->n_ops ? "," : "");
	}
	fprintf(f, "  ]}");
}

int ar_write_json(FILE *f, const struct ar_analysis *an)
{
	const struct ar_model *m = an->model;
	const struct ar_attn *a = &m->attn;
	const struct ar_workload *w = &an->wl;

	fprintf(f, "{\n  \"model\": {\"name\": ");
	ar_json_str(f, m->name);
	fprintf(f, ", \"arch\": ");
	ar_json_str(f, a->arch);
	fprintf(f, ", \"layers\": %ld, \"params\": %.17g, \"kv_elems_per_token_layer\": %.17g, "
		   "\"kv_bytes_per_token\": %.17g,\n    \"attn\": {\"n_h\": %ld, \"d_h\": %ld, "
		   "\"n_q\": %ld, \"n_k\": %ld, \"d_k\": %ld, \"n_v\": %ld, \"d_v\": %ld, "
		   "\"d_c\": %ld, \"d_rope\": %ld}},\n",
		m->layers, an->params, an->kv_elems_per_token_layer, an->kv_bytes_per_token,
		a->n_h, a->d_h, a->n_q, a->n_k, a->d_k, a->n_v, a->d_v, a->d_c, a->d_rope);
	fprintf(f, "  \"hardware\": {\"name\": ");
	ar_json_str(f, an->hw->name);
	fprintf(f, "},\n  \"workload\": {\"batch\": %ld, \"seq\": %ld, \"gen\": %ld, "
		   "\"attn\": \"%s\", \"wbits\": %d, \"abits\": %d, \"kvbits\": %d, \"tp\": %ld},\n",
		w->batch, w->seq, w->gen, ar_attn_impl_names[w->attn], w->wbits, w->abits,
		w->kvbits, w->tp);
	json_phase(f, an, AR_PHASE_PREFILL);
	fprintf(f, ",\n");
	json_phase(f, an, AR_PHASE_DECODE);
	fprintf(f, ",\n");
	if (w->gen > 0)
		fprintf(f, "  \"generate\": {\"ttft_s\": %.17g, \"tpot_s\": %.17g, \"time_s\": %.17g},\n",
			an->gen.ttft_s, an->gen.tpot_s, an->gen.time_s);
	fprintf(f, "  \"memory\": {\"weights_bytes\": %.17g, \"kv_cache_bytes\": %.17g, "
		   "\"activation_bytes\": %.17g}\n}\n",
		an->weights_bytes, an->kv_cache_bytes, an->activation_bytes);
	return ferror(f) ? -1 : 0;
}
