/* Tests of the complexity table (values from the op graph, exact against
 * printed forms), its formula language, and the plot data behind it. */
#include "testutil.h"

#include <stdlib.h>
#include <unistd.h>

#include "plot.h"
#include "report.h"
#include "table.h"

static struct ar_table table;
static char paths[AR_TABLE_MAX_ROWS][512];

static void build(const char *model)
{
	struct ar_model base;
	struct ar_err err = { 0 };
	int n = 0;

	if (ar_model_open(&base, model, &err) ||
	    ar_table_find_archs(paths, AR_TABLE_MAX_ROWS, &n, &err) ||
	    ar_table_build(&table, &base, paths, n, &err)) {
		print_error("%s\n", err.msg);
		fail();
	}
}

static const struct ar_table_row *row(const char *arch)
{
	for (int i = 0; i < table.n_rows; i++)
		if (!strcmp(table.rows[i].model.attn.arch, arch))
			return &table.rows[i];
	print_error("no row for %s\n", arch);
	fail();
	return NULL;
}

static void test_table__gta_1b_matches_the_paper(void **state)
{
	static const struct { const char *arch; double kv, attn, lin; } want[] = {
		{ "mha", 2560, 2560, 6553600 },
		{ "gqa", 640, 2560, 4096000 },
		{ "gta", 192, 960, 4096000 },
		{ "gva", 1600, 1600, 4096000 },
		{ "gha", 640, 1600, 2867200 },
		{ "mla", 288, 2560, 4136960 },
	};

	(void)state;
	build("gta-1b");
	assert_string_equal(table.rows[0].model.attn.arch, "mha"); /* the paper's order */
	assert_string_equal(table.rows[5].model.attn.arch, "gta");
	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
		const struct ar_table_row *r = row(want[i].arch);
		assert_string_equal(r->error, "");
		assert_close(r->cell[AR_TERM_KV].c[1], want[i].kv, 0, 0);
		assert_close(r->cell[AR_TERM_ATTN].c[2], want[i].attn, 0, 0);
		assert_close(r->cell[AR_TERM_LINEAR].c[1], want[i].lin, 0, 0);
	}
	/* GTA's own overrides, GQA's defaults at n_h / 4 */
	assert_int_equal(row("gta")->own, 1);
	assert_int_equal(row("gqa")->model.attn.n_k, 5);
}

static void test_table__errata_are_shown_with_a_note(void **state)
{
	(void)state;
	build("gta-1b");
	const struct ar_cell *gta_dec = &row("gta")->cell[AR_TERM_DECODE];
	assert_true(gta_dec->show_paper && gta_dec->note > 0);
	assert_close(gta_dec->paper_c[1], 2560, 0, 0); /* printed 2 n_h d_h N */
	assert_close(gta_dec->c[1], 960, 0, 0);        /* n_q (d_h + d_l) N */
	const struct ar_cell *gva_lin = &row("gva")->cell[AR_TERM_LINEAR];
	assert_true(gva_lin->show_paper && gva_lin->note > 0); /* erratum, equal values */
	assert_close(gva_lin->paper_c[1], gva_lin->c[1], 0, 0);
	const struct ar_cell *mla_lin = &row("mla")->cell[AR_TERM_LINEAR];
	assert_true(mla_lin->show_paper);
	assert_non_null(strstr(mla_lin->paper, "d_l"));
	assert_false(row("gqa")->cell[AR_TERM_DECODE].show_paper);
	assert_false(row("mha")->cell[AR_TERM_KV].show_paper);
}

/* Exact forms hold for other dimensions too (fill_row asserts that each
 * shown form evaluates to the op graph's count); check a few by hand. */
static void test_table__other_models(void **state)
{
	(void)state;
	build("llama-3.1-8b");
	assert_close(row("gqa")->cell[AR_TERM_KV].c[1], 2 * 8 * 128, 0, 0);
	assert_close(row("mha")->cell[AR_TERM_LINEAR].c[1], 4.0 * 4096 * 4096, 0, 0);
	build("deepseek-v2-lite");
	assert_int_equal(row("mla")->own, 1);
	assert_close(row("mla")->cell[AR_TERM_KV].c[1], 512 + 64, 0, 0);
	for (int i = 0; i < table.n_rows; i++) {
		const struct ar_table_row *r = &table.rows[i];
		double v;
		if (r->error[0])
			continue;
		assert_int_equal(ar_formula_eval(r->cell[AR_TERM_DECODE].exact, &r->model, 1000, &v, NULL), 0);
		assert_close(v, r->cell[AR_TERM_DECODE].c[0] + 1000 * r->cell[AR_TERM_DECODE].c[1], 1e-12, 0);
	}
}

/* Rows of arXiv 2505.21487's variants: exact forms only (no printed table) */
static void test_table__tied_and_gla_rows(void **state)
{
	struct ar_model base;
	struct ar_err err = { 0 };
	int n = 0;

	(void)state;
	build("gta-1b");
	/* gta-tied: 5 tied states of 64 + the RoPE key 32; GQA's attention;
	 * linear 2 H² + (n_k d_h + d_rope) H */
	const struct ar_table_row *r = row("gta-tied");
	assert_string_equal(r->cell[AR_TERM_KV].exact, "(n_k*d_h + d_rope)*N");
	assert_close(r->cell[AR_TERM_KV].c[1], 5 * 64 + 32, 0, 0);
	assert_close(r->cell[AR_TERM_ATTN].c[2], 2 * 20 * 64, 0, 0);
	assert_close(r->cell[AR_TERM_LINEAR].c[1], 2 * 1280.0 * 1280 + 352 * 1280, 0, 0);
	assert_close(r->cell[AR_TERM_DECODE].c[1], 2 * 20 * 64, 0, 0);
	for (int t = 0; t < AR_TERM_COUNT; t++)
		assert_false(r->cell[t].show_paper);
	/* gla: 2 latents of 128 + 32; q 20·(64 + 32), kv_b 20·128·(64 + 64);
	 * absorbed decode n_h (2 d_c + d_rope) N, half of MLA's d_c = 4 d_h */
	r = row("gla");
	assert_string_equal(r->cell[AR_TERM_KV].exact, "(n_c*d_c + d_rope)*N");
	assert_close(r->cell[AR_TERM_KV].c[1], 2 * 128 + 32, 0, 0);
	assert_close(r->cell[AR_TERM_ATTN].c[2], 20 * (64 + 32 + 64), 0, 0);
	assert_close(r->cell[AR_TERM_LINEAR].c[1],
		     288 * 1280 + 20 * 96 * 1280 + 20 * 128 * 128 + 1280.0 * 1280, 0, 0);
	assert_close(r->cell[AR_TERM_DECODE].c[1], 20 * (2 * 128 + 32), 0, 0);
	assert_close(row("mla")->cell[AR_TERM_DECODE].c[1], 20 * (2 * 256 + 32), 0, 0);

	/* dimensions the short forms do not fit: the forms built from the
	 * descriptor (fill_row asserts that they equal the op graph) */
	build("deepseek-v2-lite"); /* n_h·d_h = 3072, H = 2048 */
	r = row("gta-tied");
	assert_string_equal(r->cell[AR_TERM_KV].exact, "(n_k*d_h + d_rope)*N");
	assert_close(r->cell[AR_TERM_KV].c[1], 4 * 192 + 96, 0, 0);
	assert_string_equal(r->cell[AR_TERM_LINEAR].exact, "(H*(n_q*d_k + n_k*d_v + d_rope) + n_h*d_v*H)*N");
	assert_close(r->cell[AR_TERM_LINEAR].c[1], 2048.0 * (3072 + 864) + 3072.0 * 2048, 0, 0);
	/* a GLA model of its own with a query latent and no absorption */
	assert_int_equal(ar_model_open(&base, "gla-1b", &err), 0);
	base.attn.q_rank = 256;
	base.attn.absorb = 0;
	assert_int_equal(ar_table_find_archs(paths, AR_TABLE_MAX_ROWS, &n, &err), 0);
	assert_int_equal(ar_table_build(&table, &base, paths, n, &err), 0);
	r = row("gla");
	assert_int_equal(r->own, 1);
	assert_non_null(strstr(r->cell[AR_TERM_DECODE].exact, "H*(n_c*d_c + d_rope)"));
	/* q 256·(1280 + 20·96), kv_a 288·1280, o 20·64·1280; every step
	 * decompresses 20·128·128 per key and attends with 20·(64 + 32 + 64) */
	assert_close(r->cell[AR_TERM_DECODE].c[0], 256 * 3200 + 288 * 1280 + 1280.0 * 1280, 0, 0);
	assert_close(r->cell[AR_TERM_DECODE].c[1], 20 * 128 * 128 + 20 * 160, 0, 0);
}

static void test_formula__eval_and_render(void **state)
{
	struct ar_model m;
	struct ar_err err = { 0 };
	char buf[256];
	double v;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.hidden = 1280;
	m.attn.n_h = 20;
	m.attn.d_h = 64;
	assert_int_equal(ar_formula_eval("2*n_h*d_h*N^2 + 4*N*H^2", &m, 3, &v, &err), 0);
	assert_close(v, 2 * 20 * 64 * 9 + 4 * 3 * 1280.0 * 1280, 0, 0);
	assert_string_equal(ar_formula_render("2*n_h*d_h*N^2", 0, buf, sizeof(buf)), "2 n_h d_h N²");
	assert_string_equal(ar_formula_render("(d_c + d_rope)*N", 1, buf, sizeof(buf)),
			    "(d_c + d_{rope}) N");
	assert_int_equal(ar_formula_eval("2*x", &m, 1, &v, &err), -1);
	assert_string_equal(err.msg, "formula '2*x': unknown symbol at 'x'");
}

static void test_measured__fixture_and_errors(void **state)
{
	struct ar_measured m;
	struct ar_err err = { 0 };
	char path[] = "/tmp/attnroof-test-XXXXXX";
	const char *bad = "{\"points\": [{\"model\": \"x\", \"phase\": \"warmup\"}]}\n";
	int fd;

	(void)state;
	assert_int_equal(ar_measured_load(&m, "tests/data/validate_small.json", &err), 0);
	assert_int_equal(m.n_points, 5);
	assert_int_equal(m.has_summary, 1);
	assert_close(m.p90_abs_err, 0.31, 1e-12, 0);
	assert_int_equal(m.points[3].phase, AR_PHASE_DECODE);
	assert_int_equal(m.points[3].seq, 512);
	ar_measured_release(&m);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bad, strlen(bad)), (int)strlen(bad));
	close(fd);
	assert_int_equal(ar_measured_load(&m, path, &err), -1);
	assert_string_equal(err.msg, "unknown phase 'warmup' (expected prefill, decode)");
	assert_int_equal(err.line, 1);
	ar_measured_release(&m);
	unlink(path);
}

static void test_plot__speedup_data(void **state)
{
	struct ar_model models[2];
	struct ar_hw hw;
	struct ar_err err = { 0 };
	char dir[] = "/tmp/attnroof-test-XXXXXX", hwpath[512], vars[4096], file[600], line[256];
	long batches[] = { 1, 8 }, seqs[] = { 128, 1024, 4096 };
	int rows = 0;
	FILE *f;

	(void)state;
	assert_int_equal(ar_model_open(&models[0], "gqa-1b", &err), 0);
	assert_int_equal(ar_model_open(&models[1], "gta-1b", &err), 0);
	assert_int_equal(ar_resolve("hw", "lv-h100", hwpath, sizeof(hwpath), &err), 0);
	assert_int_equal(ar_hw_load(&hw, hwpath, &err), 0);
	struct ar_plot p = {
		.kind = AR_PLOT_SPEEDUP, .term = AR_PLOT_DUMB, .models = models, .n_models = 2,
		.hw = &hw, .batches = batches, .n_batches = 2, .seqs = seqs, .n_seqs = 3,
		.wl = { .batch = 1, .seq = 128, .attn = AR_ATTN_NAIVE, .wbits = 16, .abits = 16,
			.kvbits = 16, .tp = 1 },
	};
	assert_int_equal(ar_plot_check(&p, &err), 0);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ar_plot_write_data(&p, dir, vars, sizeof(vars), &err), 0);
	assert_non_null(strstr(vars, "nx=3; ny=2;"));
	snprintf(file, sizeof(file), "%s/speedup.dat", dir);
	assert_non_null(f = fopen(file, "r"));
	while (fgets(line, sizeof(line), f)) {
		int x, y;
		double s;
		if (sscanf(line, "%d %d %lf", &x, &y, &s) == 3) {
			/* in order: per phase, per batch, per length; each cell
			 * time(GQA-1B) / time(GTA-1B) as analyze gives them */
			int ph = rows / 6;
			static struct ar_analysis an;
			struct ar_workload wl = p.wl;
			double t[2];
			assert_int_equal(x, rows % 3);
			assert_int_equal(y, rows % 6 / 3);
			wl.batch = batches[y];
			wl.seq = seqs[x];
			for (int i = 0; i < 2; i++) {
				assert_int_equal(ar_analyze(&an, &models[i], &hw, &wl, &err), 0);
				t[i] = an.time[ph].time_s;
			}
			assert_close(s, t[0] / t[1], 1e-5, 0);
			rows++;
		}
	}
	fclose(f);
	assert_int_equal(rows, 2 * 2 * 3);
	unlink(file);
	rmdir(dir);

	p.n_models = 1;
	assert_int_equal(ar_plot_check(&p, &err), -1);
	assert_string_equal(err.msg,
			    "plot speedup needs exactly two --model (the baseline first), not 1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table__gta_1b_matches_the_paper),
		cmocka_unit_test(test_table__errata_are_shown_with_a_note),
		cmocka_unit_test(test_table__other_models),
		cmocka_unit_test(test_table__tied_and_gla_rows),
		cmocka_unit_test(test_formula__eval_and_render),
		cmocka_unit_test(test_measured__fixture_and_errors),
		cmocka_unit_test(test_plot__speedup_data),
	};
	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
