/* The complexity table: per arch, the op graph's counts beside the exact and
 * the printed symbolic forms.  Formulas are kept as strings in one small
 * syntax (2*n_h*d_h*N^2) that is both evaluated, to check it against the op
 * graph and to value the paper's printed forms, and rendered for people. */
#include "table.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <string.h>

#include "graph.h"
#include "report.h"

const char *const ar_term_names[AR_TERM_COUNT] = { "kv", "attn", "linear", "prefill", "decode" };
const char *const ar_table_format_names[AR_TABLE_FMT_COUNT] = { "md", "csv", "json", "latex" };
_Static_assert(sizeof(ar_term_names) / sizeof(*ar_term_names) == AR_TERM_COUNT, "terms");
_Static_assert(sizeof(ar_table_format_names) / sizeof(*ar_table_format_names) ==
	       AR_TABLE_FMT_COUNT, "formats");

/* ---- the paper's six mechanisms ----
 * exact: our count, written as the paper writes it; it assumes the relations
 * of the arch file's defaults (n_h·d_h = H, d_k = d_h, ...) and is checked
 * against the op graph for every row; where a model breaks them, the form
 * built from the descriptor (generic_forms) is used instead.
 * paper: Table 4 (kv, attn, linear) and Appendix B (prefill, decode) as
 * printed; App. B.1 writes n_v for n_c and d_c for d_l.
 * erratum: terms whose printed form is known to be wrong or undefined; both
 * are shown even where the values happen to agree. */
struct kind {
	const char *arch;
	const char *exact[AR_TERM_COUNT];
	const char *paper[AR_TERM_COUNT];
	const char *why[AR_TERM_COUNT];
	unsigned erratum; /* bit per term */
};

static const struct kind kinds[] = {
	{ "mha",
	  { "2*n_h*d_h*N", "2*n_h*d_h*N^2", "4*N*H^2",
	    "4*N*H^2 + 2*n_h*d_h*N^2", "4*H^2 + 2*n_h*d_h*N" },
	  { "2*n_h*d_h*N", "2*n_h*d_h*N^2", "4*N*H^2", NULL, NULL },
	  { NULL }, 0 },
	{ "gqa",
	  { "2*n_k*d_h*N", "2*n_h*d_h*N^2", "2*N*H^2 + 2*n_k*d_h*N*H",
	    "2*N*H^2 + 2*n_k*d_h*N*H + 2*n_h*d_h*N^2", "2*H^2 + 2*n_k*d_h*H + 2*n_h*d_h*N" },
	  { "2*n_k*d_h*N", "2*n_h*d_h*N^2", "2*N*H^2 + 2*n_k*d_h*N*H",
	    "2*N*H^2 + 2*n_k*d_h*N*H + 2*n_h*d_h*N^2", "2*H^2 + 2*n_k*d_h*H + 2*n_h*d_h*N" },
	  { NULL }, 0 },
	{ "mla",
	  { "(d_c + d_rope)*N", "n_h*(d_nope + d_rope + d_v)*N^2",
	    "((d_c + d_rope)*H + n_h*(d_nope + d_rope)*H + n_h*d_c*(d_nope + d_v) + H^2)*N",
	    "((d_c + d_rope)*H + n_h*(d_nope + d_rope)*H + n_h*d_c*(d_nope + d_v) + H^2)*N"
	    " + n_h*(d_nope + d_rope + d_v)*N^2",
	    "(d_c + d_rope)*H + n_h*(d_nope + d_rope)*H + n_h*d_c*(d_nope + d_v) + H^2"
	    " + n_h*(2*d_c + d_rope)*N" },
	  { "(d_c + d_rope)*N", "n_h*(d_rope + 2*d_nope)*N^2",
	    "((d_c + d_rope)*H + n_h*(d_rope + d_nope)*H + 2*n_h*d_l*d_nope + H^2)*N",
	    "(d_c + d_rope)*N*H + n_h*(d_nope + d_rope)*N*H + 2*n_h*d_c*d_nope*N + N*H^2"
	    " + n_h*(d_rope + 2*d_nope)*N^2",
	    "(d_c + d_rope)*H + n_h*(d_nope + d_rope)*H + 2*n_h*d_c*d_nope*N + H^2"
	    " + n_h*(d_rope + 2*d_nope)*N" },
	  { NULL,
	    "MLA attention: the paper charges A·V with d_nope per head, i.e. it takes d_v = d_nope; "
	    "QKᵀ uses d_nope + d_rope and A·V the value head d_v, so the exact term is "
	    "n_h (d_nope + d_rope + d_v) N².",
	    "MLA linear: Table 4 prints d_l, which MLA does not have; Appendix B.2 derives "
	    "2 n_h d_c d_nope, so d_l is read as d_c. Decompressing K_nope and V from the latent "
	    "costs n_h d_c (d_nope + d_v), which is 2 n_h d_c d_nope only when d_v = d_nope.",
	    "MLA prefill: Appendix B.2 takes d_v = d_nope in the decompression and in A·V.",
	    "MLA decode: Appendix B.2 decompresses K and V for the whole context at every step "
	    "(2 n_h d_c d_nope N). With weight absorption (absorb: true) W_UK and W_UV are applied "
	    "once per new token and attention runs over the cached latent: "
	    "n_h (2 d_c + d_rope) N." },
	  1u << AR_TERM_LINEAR },
	{ "gva",
	  { "(H + n_k*d_h)*N", "(n_q*d_h + n_h*d_h)*N^2", "2*N*H^2 + (n_q + n_k)*d_h*N*H",
	    "2*N*H^2 + (n_q + n_k)*d_h*N*H + (n_q*d_h + n_h*d_h)*N^2",
	    "2*H^2 + (n_q + n_k)*d_h*H + (n_q*d_h + n_h*d_h)*N" },
	  { "(H + n_k*d_h)*N", "(n_q*d_h + n_h*d_h)*N^2", "2*N*H^2 + 2*n_k*d_h*N*H", NULL, NULL },
	  { NULL, NULL,
	    "GVA linear: the paper prints GQA's term. GVA keeps one value per head (V projection "
	    "and o_proj H² each) and projects queries for its n_q maps only (n_q d_h N H), so the "
	    "exact term is 2 N H² + (n_q + n_k) d_h N H; it equals the printed one only when "
	    "n_q = n_k. With a query per head (n_q = n_h) it would be 3 N H² + n_k d_h N H." },
	  1u << AR_TERM_LINEAR },
	{ "gha",
	  { "(n_k*d_h + n_v*d_h)*N", "(n_q*d_h + n_h*d_h)*N^2",
	    "N*H^2 + n_q*d_h*N*H + n_k*d_h*N*H + n_v*d_h*N*H",
	    "N*H^2 + (n_q + n_k + n_v)*d_h*N*H + (n_q*d_h + n_h*d_h)*N^2",
	    "H^2 + (n_q + n_k + n_v)*d_h*H + (n_q*d_h + n_h*d_h)*N" },
	  { "(n_k*d_h + n_v*d_h)*N", "(n_q*d_h + n_h*d_h)*N^2",
	    "N*H^2 + n_q*d_h*N*H + n_k*d_h*N*H + n_v*d_h*N*H", NULL, NULL },
	  { NULL }, 0 },
	{ "gta",
	  { "(n_k*d_h + n_c*d_l)*N", "n_q*(d_h + d_l)*N^2",
	    "2*N*H^2 + (n_q*d_h + n_k*d_h + n_c*d_l + d_l)*N*H",
	    "2*N*H^2 + (n_q*d_h + n_k*d_h + n_c*d_l + d_l)*N*H + n_q*(d_h + d_l)*N^2",
	    "2*H^2 + (n_q*d_h + n_k*d_h + n_c*d_l + d_l)*H + n_q*(d_h + d_l)*N" },
	  { "(n_k*d_h + n_c*d_l)*N", "n_q*(d_k + d_l)*N^2",
	    "2*N*H^2 + (n_q*d_h + n_k*d_h + n_c*d_l + d_l)*N*H",
	    "2*N*H^2 + (n_q*d_h + n_k*d_h + n_v*d_c + d_c)*N*H + n_q*(d_h + d_c)*N^2",
	    "2*H^2 + (n_q*d_h + n_k*d_h + n_v*d_c + d_c)*H + 2*n_h*d_h*N" },
	  { NULL,
	    "GTA attention: Table 4 prints d_k, which the paper never defines; §5.1 writes "
	    "n_q (d_h + d_l) N², so d_k = d_h.",
	    NULL, NULL,
	    "GTA decode: Appendix B.1 prints GQA's attention term 2 n_h d_h N. Each new token's "
	    "n_q maps read the cached K (d_h) and latent C (d_l), so the term is "
	    "n_q (d_h + d_l) N, as in the prefill form." },
	  1u << AR_TERM_ATTN | 1u << AR_TERM_DECODE },
	/* arXiv 2505.21487, which prints no such table: exact forms only */
	{ "gta-tied",
	  { "(n_k*d_h + d_rope)*N", "2*n_h*d_h*N^2", "2*N*H^2 + (n_k*d_h + d_rope)*N*H",
	    "2*N*H^2 + (n_k*d_h + d_rope)*N*H + 2*n_h*d_h*N^2",
	    "2*H^2 + (n_k*d_h + d_rope)*H + 2*n_h*d_h*N" },
	  { NULL }, { NULL }, 0 },
	{ "gla",
	  { "(n_c*d_c + d_rope)*N", "n_h*(d_nope + d_rope + d_v)*N^2",
	    "((n_c*d_c + d_rope)*H + n_h*(d_nope + d_rope)*H + n_h*d_c*(d_nope + d_v) + H^2)*N",
	    "((n_c*d_c + d_rope)*H + n_h*(d_nope + d_rope)*H + n_h*d_c*(d_nope + d_v) + H^2)*N"
	    " + n_h*(d_nope + d_rope + d_v)*N^2",
	    "(n_c*d_c + d_rope)*H + n_h*(d_nope + d_rope)*H + n_h*d_c*(d_nope + d_v) + H^2"
	    " + n_h*(2*d_c + d_rope)*N" },
	  { NULL }, { NULL }, 0 },
};
enum { N_KINDS = sizeof(kinds) / sizeof(*kinds) };

static const struct kind *find_kind(const char *arch)
{
	for (int i = 0; i < N_KINDS; i++)
		if (!strcmp(kinds[i].arch, arch))
			return &kinds[i];
	return NULL;
}

/* ---- formulas ---- */

struct fsym { const char *name, *plain, *latex; };

static const struct fsym fsyms[] = {
	{ "H", "H", "H" }, { "N", "N", "N" }, { "n_h", "n_h", "n_h" }, { "d_h", "d_h", "d_h" },
	{ "n_q", "n_q", "n_q" }, { "n_k", "n_k", "n_k" }, { "d_k", "d_k", "d_k" },
	{ "n_v", "n_v", "n_v" }, { "d_v", "d_v", "d_v" }, { "n_c", "n_c", "n_c" },
	{ "d_l", "d_l", "d_l" }, { "d_c", "d_c", "d_c" }, { "d_rope", "d_rope", "d_{rope}" },
	{ "d_nope", "d_nope", "d_{nope}" }, { "q_rank", "d_c'", "d_c'" },
};
enum { N_FSYMS = sizeof(fsyms) / sizeof(*fsyms) };

/* Value of symbol i for model m at length N.  GTA's latent value is n_c = n_v
 * groups of d_l = d_v (App. B.1 also calls them n_v and d_c); MLA has no d_l
 * and Table 4's d_l in its row is read as d_c.  A latent arch's n_c latent
 * heads are its n_k (1 for MLA). */
static double sym_value(int i, const struct ar_model *m, double N)
{
	const struct ar_attn *a = &m->attn;
	double lat = a->latent ? (double)a->d_c : (double)a->d_v;
	double n_c = a->latent ? (double)a->n_k : (double)a->n_v;
	double v[N_FSYMS] = {
		(double)m->hidden, N, (double)a->n_h, (double)a->d_h, (double)a->n_q,
		(double)a->n_k, (double)a->d_k, (double)a->n_v, (double)a->d_v, n_c,
		lat, lat, (double)a->d_rope, (double)a->d_nope, (double)a->q_rank,
	};
	return v[i];
}

static int sym_at(const char *p, size_t *len)
{
	size_t n = 0;

	while (isalnum((unsigned char)p[n]) || p[n] == '_')
		n++;
	*len = n;
	for (int i = 0; i < N_FSYMS; i++)
		if (strlen(fsyms[i].name) == n && !strncmp(fsyms[i].name, p, n))
			return i;
	return -1;
}

struct feval {
	const char *s, *p;
	const struct ar_model *m;
	double N;
	char msg[160];
};

static int f_sum(struct feval *e, double *out);

static void f_skip(struct feval *e)
{
	while (*e->p == ' ')
		e->p++;
}

static int f_atom(struct feval *e, double *out)
{
	size_t len;
	int i;

	f_skip(e);
	if (*e->p == '(') {
		e->p++;
		if (f_sum(e, out))
			return -1;
		f_skip(e);
		if (*e->p != ')') {
			snprintf(e->msg, sizeof(e->msg), "missing ')'");
			return -1;
		}
		e->p++;
		return 0;
	}
	if (isdigit((unsigned char)*e->p)) {
		char *end;
		*out = strtod(e->p, &end);
		e->p = end;
		return 0;
	}
	if ((i = sym_at(e->p, &len)) >= 0) {
		*out = sym_value(i, e->m, e->N);
		e->p += len;
		return 0;
	}
	snprintf(e->msg, sizeof(e->msg), "unknown symbol at '%.20s'", e->p);
	return -1;
}

static int f_pow(struct feval *e, double *out)
{
	double x;

	if (f_atom(e, out))
		return -1;
	f_skip(e);
	if (*e->p != '^')
		return 0;
	e->p++;
	if (f_atom(e, &x))
		return -1;
	*out = pow(*out, x);
	return 0;
}

static int f_prod(struct feval *e, double *out)
{
	double x;

	if (f_pow(e, out))
		return -1;
	for (;;) {
		f_skip(e);
		char op = *e->p;
		if (op != '*' && op != '/')
			return 0;
		e->p++;
		if (f_pow(e, &x))
			return -1;
		*out = op == '*' ? *out * x : *out / x;
	}
}

static int f_sum(struct feval *e, double *out)
{
	double x;

	if (f_prod(e, out))
		return -1;
	for (;;) {
		f_skip(e);
		char op = *e->p;
		if (op != '+' && op != '-')
			return 0;
		e->p++;
		if (f_prod(e, &x))
			return -1;
		*out = op == '+' ? *out + x : *out - x;
	}
}

int ar_formula_eval(const char *formula, const struct ar_model *m, double N,
		    double *out, struct ar_err *err)
{
	struct feval e = { .s = formula, .p = formula, .m = m, .N = N };

	if (f_sum(&e, out))
		return ar_errf(err, NULL, 0, 0, "formula '%s': %s", formula, e.msg);
	f_skip(&e);
	if (*e.p)
		return ar_errf(err, NULL, 0, 0, "formula '%s': unexpected '%s'", formula, e.p);
	return 0;
}

const char *ar_formula_render(const char *f, int latex, char *buf, size_t n)
{
	size_t o = 0;
	int prev_num = 0;

#define PUT(str) do { const char *s_ = (str); size_t l_ = strlen(s_); \
	if (o + l_ < n) { memcpy(buf + o, s_, l_); o += l_; } } while (0)
	if (!n)
		return buf;
	for (const char *p = f; *p;) {
		size_t len;
		int i;

		if (*p == ' ') {
			p++;
		} else if (*p == '*') {
			/* juxtaposition, except between two numbers */
			const char *q = p + 1;
			while (*q == ' ')
				q++;
			PUT(prev_num && isdigit((unsigned char)*q) ? (latex ? " \\cdot " : "·") : " ");
			p++;
		} else if (*p == '^') {
			char sup[16];
			p++;
			len = 0;
			while (isdigit((unsigned char)p[len]) && len < 8)
				len++;
			if (!latex && len == 1 && (*p == '2' || *p == '3')) {
				PUT(*p == '2' ? "²" : "³");
			} else {
				snprintf(sup, sizeof(sup), latex ? "^{%.*s}" : "^%.*s", (int)len, p);
				PUT(sup);
			}
			p += len;
			prev_num = 0;
		} else if (*p == '+' || *p == '-') {
			PUT(*p == '+' ? " + " : " - ");
			p++;
			prev_num = 0;
		} else if (isdigit((unsigned char)*p)) {
			char num[32];
			len = 0;
			while ((isdigit((unsigned char)p[len]) || p[len] == '.') && len < 30)
				len++;
			snprintf(num, sizeof(num), "%.*s", (int)len, p);
			PUT(num);
			p += len;
			prev_num = 1;
		} else if ((i = sym_at(p, &len)) >= 0) {
			PUT(latex ? fsyms[i].latex : fsyms[i].plain);
			p += len;
			prev_num = 0;
		} else {
			char c[2] = { *p, 0 };
			PUT(c);
			p++;
			prev_num = 0;
		}
	}
	buf[o] = 0;
#undef PUT
	return buf;
}

/* c[0] + c[1]·N + c[2]·N² of a formula that is at most quadratic in N. */
static int poly(const char *f, const struct ar_model *m, double c[3], struct ar_err *err)
{
	double f0, f1, f2;

	if (ar_formula_eval(f, m, 0, &f0, err) || ar_formula_eval(f, m, 1, &f1, err) ||
	    ar_formula_eval(f, m, 2, &f2, err))
		return -1;
	c[0] = f0;
	c[2] = (f2 - 2 * f1 + f0) / 2;
	c[1] = f1 - f0 - c[2];
	return 0;
}

static int same(const double a[3], const double b[3])
{
	for (int i = 0; i < 3; i++)
		if (fabs(a[i] - b[i]) > 1e-9 * fmax(fabs(a[i]), fabs(b[i])))
			return 0;
	return 1;
}

/* ---- counts from the op graph ---- */

/* The projections of the attention block: every matmul from q_proj to o_proj. */
static int is_block_matmul(enum ar_op_id id)
{
	return id >= AR_OP_Q_PROJ && id <= AR_OP_O_PROJ && ar_op_kind(id) == AR_KIND_MATMUL;
}

/* MACs (mflops / 2) of one layer's attention block at batch 1, length N:
 * *lin from the projections, *att from QKᵀ and A·V (naive attention). */
static void block_macs(const struct ar_model *m, enum ar_phase phase, long N,
		       double *lin, double *att)
{
	struct ar_workload wl = { .batch = 1, .seq = N, .attn = AR_ATTN_NAIVE,
				  .wbits = 16, .abits = 16, .kvbits = 16, .tp = 1 };
	struct ar_graph g;

	ar_graph_build(&g, m, &wl, 0, phase);
	*lin = *att = 0;
	for (int i = 0; i < g.n_ops; i++) {
		const struct ar_op *op = &g.ops[i];
		if (is_block_matmul(op->id))
			*lin += op->mflops / 2;
		else if (op->id == AR_OP_QK || op->id == AR_OP_AV)
			*att += op->mflops / 2;
	}
}

/* Every term's coefficients from the graph: prefill(N) = lin·N + att·N² from
 * N = 1, 2; decode(N) = c0 + c1·N from N = 1, 2. */
static void graph_terms(const struct ar_model *m, struct ar_cell cell[AR_TERM_COUNT])
{
	double l1, a1, l2, a2, d1, d2;

	for (int t = 0; t < AR_TERM_COUNT; t++)
		memset(cell[t].c, 0, sizeof(cell[t].c));
	cell[AR_TERM_KV].c[1] = ar_model_kv_elems(m);
	block_macs(m, AR_PHASE_PREFILL, 1, &l1, &a1);
	block_macs(m, AR_PHASE_PREFILL, 2, &l2, &a2);
	double p1 = l1 + a1, p2 = l2 + a2;
	double c2 = (p2 - 2 * p1) / 2, c1 = p1 - c2;
	cell[AR_TERM_ATTN].c[2] = (a2 - 2 * a1) / 2;
	cell[AR_TERM_LINEAR].c[1] = l1 - (l2 - 2 * l1) / 2;
	cell[AR_TERM_PREFILL].c[1] = c1;
	cell[AR_TERM_PREFILL].c[2] = c2;
	block_macs(m, AR_PHASE_DECODE, 1, &l1, &a1);
	block_macs(m, AR_PHASE_DECODE, 2, &l2, &a2);
	d1 = l1 + a1;
	d2 = l2 + a2;
	cell[AR_TERM_DECODE].c[1] = d2 - d1;
	cell[AR_TERM_DECODE].c[0] = d1 - (d2 - d1);
}

/* The exact forms built from the descriptor, term for term as graph.c counts. */
static void generic_forms(const struct ar_attn *a, char out[AR_TERM_COUNT][384])
{
	char lin[160], att[64], dec[320];

	if (a->latent) {
		/* the cached width: one latent (MLA) or n_c latent heads */
		const char *c = a->n_k == 1 ? "d_c + d_rope" : "n_c*d_c + d_rope";
		char q[80];
		snprintf(q, sizeof(q), "%s", a->q_rank ? "q_rank*(H + n_h*(d_nope + d_rope))"
						       : "H*n_h*(d_nope + d_rope)");
		snprintf(out[AR_TERM_KV], 384, "(%s)*N", c);
		snprintf(att, sizeof(att), "n_h*(d_nope + d_rope + d_v)");
		snprintf(lin, sizeof(lin), "%s + H*(%s) + n_h*d_c*(d_nope + d_v) + n_h*d_v*H", q, c);
		if (a->absorb)
			snprintf(dec, sizeof(dec), "%s + n_h*(2*d_c + d_rope)*N", lin);
		else
			snprintf(dec, sizeof(dec),
				 "%s + H*(%s) + n_h*d_v*H + (n_h*d_c*(d_nope + d_v) + %s)*N",
				 q, c, att);
	} else {
		const char *o = a->decoder == AR_DEC_GATED ? " + d_v*n_h*d_h + 2*n_h*d_h*H"
			      : a->decoder == AR_DEC_LINEAR ? " + n_h*d_v*d_h + n_h*d_h*H"
			      : a->av == AR_AV_PER_MAP ? " + n_q*d_v*H" : " + n_h*d_v*H";
		/* what is cached is what the K/V projections make */
		const char *kv = a->tied ? "n_k*d_v + d_rope" : "n_k*d_k + n_v*d_v";
		snprintf(out[AR_TERM_KV], 384, "(%s)*N", kv);
		snprintf(att, sizeof(att), "%s",
			 a->av == AR_AV_PER_MAP ? "n_q*(d_k + d_v)" : "(n_q*d_k + n_h*d_v)");
		snprintf(lin, sizeof(lin), "H*(n_q*d_k + %s)%s", kv, o);
		snprintf(dec, sizeof(dec), "%s + %s*N", lin, att);
	}
	snprintf(out[AR_TERM_ATTN], 384, "%s*N^2", att);
	snprintf(out[AR_TERM_LINEAR], 384, "(%s)*N", lin);
	snprintf(out[AR_TERM_PREFILL], 384, "(%s)*N + %s*N^2", lin, att);
	snprintf(out[AR_TERM_DECODE], 384, "%s", dec);
}

/* ---- numbers for people ---- */

/* 6553600 → "6,553,600" (latex: "6{,}553{,}600"); non-integers with %.6g. */
static const char *group(double v, int latex, char *buf, size_t n)
{
	char raw[64];
	size_t o = 0;

	if (v != floor(v) || fabs(v) >= 1e15) {
		snprintf(buf, n, "%.6g", v);
		return buf;
	}
	snprintf(raw, sizeof(raw), "%.0f", fabs(v));
	size_t len = strlen(raw);
	if (v < 0 && o + 1 < n)
		buf[o++] = '-';
	for (size_t i = 0; i < len && o + 5 < n; i++) {
		if (i && (len - i) % 3 == 0) {
			const char *sep = latex ? "{,}" : ",";
			memcpy(buf + o, sep, strlen(sep));
			o += strlen(sep);
		}
		buf[o++] = raw[i];
	}
	buf[o] = 0;
	return buf;
}

/* "4,096,000 N + 960 N²" */
static const char *poly_str(const double c[3], int latex, char *buf, size_t n)
{
	static const char *const pw[2][3] = { { "", " N", " N²" }, { "", "\\,N", "\\,N^2" } };
	char num[64];
	size_t o = 0;

	buf[0] = 0;
	for (int i = 0; i < 3; i++) {
		if (c[i] == 0)
			continue;
		o += (size_t)snprintf(buf + o, o < n ? n - o : 0, "%s%s%s", o ? " + " : "",
				      group(c[i], latex, num, sizeof(num)), pw[latex][i]);
		if (o >= n)
			break;
	}
	if (!buf[0])
		snprintf(buf, n, "0");
	return buf;
}

/* ---- building ---- */

static int add_note(struct ar_table *t, const char *text)
{
	for (int i = 0; i < t->n_notes; i++)
		if (!strcmp(t->notes[i], text))
			return i + 1;
	if (t->n_notes == AR_TABLE_MAX_NOTES)
		return 0;
	snprintf(t->notes[t->n_notes], sizeof(t->notes[0]), "%s", text);
	return ++t->n_notes;
}

static int fill_row(struct ar_table *t, struct ar_table_row *r, struct ar_err *err)
{
	const struct kind *k = find_kind(r->model.attn.arch);
	char generic[AR_TERM_COUNT][384];
	struct ar_cell *cell = r->cell;

	graph_terms(&r->model, cell);
	generic_forms(&r->model.attn, generic);
	for (int tm = 0; tm < AR_TERM_COUNT; tm++) {
		struct ar_cell *c = &cell[tm];
		double ex[3];
		char v1[96], v2[96], text[640];

		/* the short form where it holds for these dimensions, else the general one */
		snprintf(c->exact, sizeof(c->exact), "%.383s", k ? k->exact[tm] : generic[tm]);
		if (poly(c->exact, &r->model, ex, err))
			return -1;
		if (!same(ex, c->c)) {
			snprintf(c->exact, sizeof(c->exact), "%.383s", generic[tm]);
			if (poly(c->exact, &r->model, ex, err))
				return -1;
			AR_ASSERT(same(ex, c->c)); /* generic_forms mirrors graph.c */
		}
		c->paper[0] = 0;
		c->show_paper = 0;
		c->note = 0;
		if (!k || !k->paper[tm])
			continue;
		snprintf(c->paper, sizeof(c->paper), "%.383s", k->paper[tm]);
		if (poly(c->paper, &r->model, c->paper_c, err))
			return -1;
		int agree = same(c->paper_c, c->c);
		c->show_paper = !agree || (k->erratum >> tm & 1);
		if (!c->show_paper)
			continue;
		poly_str(c->paper_c, 0, v1, sizeof(v1));
		poly_str(c->c, 0, v2, sizeof(v2));
		if (agree)
			snprintf(text, sizeof(text), "%s At these dimensions both give %s.",
				 k->why[tm] ? k->why[tm] : "", v2);
		else
			snprintf(text, sizeof(text), "%s%sAt these dimensions the printed form "
				 "gives %s, the op graph %s.", k->why[tm] ? k->why[tm] : "",
				 k->why[tm] ? " " : "", v1, v2);
		c->note = add_note(t, text);
	}
	return 0;
}

/* Number the notes in reading order: the first table row by row, then the
 * second. */
static void renumber_notes(struct ar_table *t)
{
	static const int order[AR_TERM_COUNT] = { AR_TERM_KV, AR_TERM_ATTN, AR_TERM_LINEAR,
						  AR_TERM_PREFILL, AR_TERM_DECODE };
	static char old[AR_TABLE_MAX_NOTES][640];
	int map[AR_TABLE_MAX_NOTES + 1] = { 0 }, next = 0;

	memcpy(old, t->notes, sizeof(old));
	for (int part = 0; part < 2; part++)
		for (int i = 0; i < t->n_rows; i++)
			for (int k = part ? 3 : 0; k < (part ? 5 : 3); k++) {
				struct ar_cell *c = &t->rows[i].cell[order[k]];
				if (!c->note)
					continue;
				if (!map[c->note]) {
					map[c->note] = ++next;
					memcpy(t->notes[next - 1], old[c->note - 1], sizeof(old[0]));
				}
				c->note = map[c->note];
			}
}

int ar_table_build(struct ar_table *t, const struct ar_model *base,
		   char (*paths)[512], int n_paths, struct ar_err *err)
{
	memset(t, 0, sizeof(*t));
	t->base = *base;
	for (int i = 0; i < n_paths && t->n_rows < AR_TABLE_MAX_ROWS; i++) {
		struct ar_table_row *r = &t->rows[t->n_rows++];
		struct ar_err e = { 0 };

		snprintf(r->path, sizeof(r->path), "%s", paths[i]);
		if (ar_model_with_arch(&r->model, base, paths[i], &e)) {
			ar_err_format(&e, r->error, sizeof(r->error));
			continue;
		}
		if (!strcmp(r->model.attn.arch, base->attn.arch)) {
			r->model = *base;
			r->own = 1;
		}
		if (fill_row(t, r, err))
			return -1;
	}
	renumber_notes(t);
	return 0;
}

/* ---- finding the arch files ---- */

#ifndef AR_DATADIR
#define AR_DATADIR "."
#endif

static int paper_rank(const char *file)
{
	static const char *const order[] = { "mha.yaml", "gqa.yaml", "mla.yaml", "gva.yaml",
					     "gha.yaml", "gta.yaml" };
	for (int i = 0; i < 6; i++)
		if (!strcmp(file, order[i]))
			return i;
	return 6;
}

int ar_table_find_archs(char (*paths)[512], int max, int *n, struct ar_err *err)
{
	const char *roots[3] = { getenv("ATTNROOF_DATA"), ".", AR_DATADIR };
	char dir[512], names[AR_TABLE_MAX_ROWS][256];
	int count = 0;
	DIR *d = NULL;

	for (int i = 0; i < 3 && !d; i++) {
		if (!roots[i] || !roots[i][0])
			continue;
		snprintf(dir, sizeof(dir), "%s/archs", roots[i]);
		d = opendir(dir);
	}
	if (!d)
		return ar_errf(err, NULL, 0, 0, "cannot find the archs/ directory");
	for (struct dirent *e; (e = readdir(d)) && count < AR_TABLE_MAX_ROWS;) {
		size_t len = strlen(e->d_name);
		if (len <= 5 || len >= sizeof(names[0]) || strcmp(e->d_name + len - 5, ".yaml") ||
		    e->d_name[0] == '.')
			continue;
		snprintf(names[count++], sizeof(names[0]), "%s", e->d_name);
	}
	closedir(d);
	/* insertion sort: the paper's order, then by name */
	for (int i = 1; i < count; i++)
		for (int j = i; j > 0; j--) {
			int ra = paper_rank(names[j - 1]), rb = paper_rank(names[j]);
			if (ra < rb || (ra == rb && strcmp(names[j - 1], names[j]) <= 0))
				break;
			char tmp[256];
			memcpy(tmp, names[j], sizeof(tmp));
			memcpy(names[j], names[j - 1], sizeof(tmp));
			memcpy(names[j - 1], tmp, sizeof(tmp));
		}
	*n = 0;
	for (int i = 0; i < count && *n < max; i++)
		snprintf(paths[(*n)++], 512, "%.200s/%.255s", dir, names[i]);
	return 0;
}

/* ---- writers ---- */

static const char *const col_titles[AR_TERM_COUNT] = {
	"KV cache per layer", "Attention computation", "Linear computation",
	"Prefill (N tokens)", "Decode (one token, context N)",
};

static void dims_line(FILE *f, const struct ar_table_row *r, const char *indent)
{
	const struct ar_attn *a = &r->model.attn;

	fprintf(f, "%s", indent);
	if (a->latent && a->n_k != 1)
		fprintf(f, "n_c = %ld, ", a->n_k);
	if (a->latent)
		fprintf(f, "d_c = %ld, d_rope = %ld, d_nope = %ld, d_v = %ld, q_rank = %ld, %s",
			a->d_c, a->d_rope, a->d_nope, a->d_v, a->q_rank,
			a->absorb ? "absorbed decode" : "no absorption");
	else
		fprintf(f, "n_q = %ld, n_k = %ld, d_k = %ld, n_v = %ld, d_v = %ld", a->n_q, a->n_k,
			a->d_k, a->n_v, a->d_v);
	if (a->tied)
		fprintf(f, ", d_rope = %ld, K/V tied", a->d_rope);
}

static void md_cell(FILE *f, const struct ar_cell *c)
{
	char fb[512], vb[160];

	fprintf(f, " %s = %s", ar_formula_render(c->exact, 0, fb, sizeof(fb)),
		poly_str(c->c, 0, vb, sizeof(vb)));
	if (c->show_paper)
		fprintf(f, "; paper: %s = %s [%d]", ar_formula_render(c->paper, 0, fb, sizeof(fb)),
			poly_str(c->paper_c, 0, vb, sizeof(vb)), c->note);
	fprintf(f, " |");
}

static void write_md(FILE *f, const struct ar_table *t)
{
	const struct ar_model *b = &t->base;

	fprintf(f, "## Complexity per layer at the dimensions of %s\n\n", b->name);
	fprintf(f, "Multiply-accumulates (1 MAC = 2 FLOPs) per layer, full N² (no causal "
		   "halving); KV cache in elements; N is the sequence length. Values are read "
		   "off the op graph.\n\n");
	fprintf(f, "| Mechanism | %s | %s | %s | Expressivity |\n|---|---|---|---|---|\n",
		col_titles[0], col_titles[1], col_titles[2]);
	for (int i = 0; i < t->n_rows; i++) {
		const struct ar_table_row *r = &t->rows[i];
		if (r->error[0])
			continue;
		fprintf(f, "| %s |", r->model.attn.label);
		for (int tm = AR_TERM_KV; tm <= AR_TERM_LINEAR; tm++)
			md_cell(f, &r->cell[tm]);
		fprintf(f, " %s |\n", r->model.attn.expressivity[0] ? r->model.attn.expressivity : "-");
	}
	fprintf(f, "\n## Prefill and decode per layer (Appendix B forms)\n\n");
	fprintf(f, "| Mechanism | %s | %s |\n|---|---|---|\n", col_titles[3], col_titles[4]);
	for (int i = 0; i < t->n_rows; i++) {
		const struct ar_table_row *r = &t->rows[i];
		if (r->error[0])
			continue;
		fprintf(f, "| %s |", r->model.attn.label);
		md_cell(f, &r->cell[AR_TERM_PREFILL]);
		md_cell(f, &r->cell[AR_TERM_DECODE]);
		fprintf(f, "\n");
	}
	if (t->n_notes) {
		fprintf(f, "\nNotes: \"paper\" is the form printed in the GTA paper (arXiv 2506.17286, "
			   "Table 4 and Appendix B), where it disagrees with the exact count or is a "
			   "known erratum.\n\n");
		for (int i = 0; i < t->n_notes; i++)
			fprintf(f, "[%d] %s\n", i + 1, t->notes[i]);
	}
	fprintf(f, "\nDimensions: %s, H = %ld, n_h = %ld, d_h = %ld. Each row uses its arch "
		   "file's defaults at these dimensions, except %s (the arch of %s), which keeps "
		   "%s's own settings.\n\n", b->name, b->hidden, b->attn.n_h, b->attn.d_h,
		b->attn.arch, b->name, b->name);
	for (int i = 0; i < t->n_rows; i++) {
		const struct ar_table_row *r = &t->rows[i];
		fprintf(f, "    %-6s %-20s ", r->error[0] ? "-" : r->model.attn.label, r->path);
		if (r->error[0])
			fprintf(f, "not shown: %s", r->error);
		else
			dims_line(f, r, "");
		fprintf(f, "\n");
	}
}

static void csv_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void write_csv(FILE *f, const struct ar_table *t)
{
	char fb[512];

	fprintf(f, "model,arch,label,expressivity,kv_elems_per_token_layer,attn_macs_per_n2,"
		   "linear_macs_per_n,prefill_macs_per_n,prefill_macs_per_n2,decode_macs,"
		   "decode_macs_per_n");
	for (int tm = 0; tm < AR_TERM_COUNT; tm++)
		fprintf(f, ",%s_formula,%s_paper,%s_note", ar_term_names[tm], ar_term_names[tm],
			ar_term_names[tm]);
	fprintf(f, ",error\n");
	for (int i = 0; i < t->n_rows; i++) {
		const struct ar_table_row *r = &t->rows[i];
		const struct ar_cell *c = r->cell;
		/* names are bare words; an arch's label and expressivity are its
		 * file's free text */
		fprintf(f, "%s,%s,", t->base.name, r->model.attn.arch);
		csv_str(f, r->model.attn.label);
		fputc(',', f);
		csv_str(f, r->model.attn.expressivity);
		if (r->error[0]) {
			fprintf(f, ",,,,,,,");
			for (int tm = 0; tm < AR_TERM_COUNT; tm++)
				fprintf(f, ",,,");
			fputc(',', f);
			csv_str(f, r->error);
			fputc('\n', f);
			continue;
		}
		fprintf(f, ",%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g", c[AR_TERM_KV].c[1],
			c[AR_TERM_ATTN].c[2], c[AR_TERM_LINEAR].c[1], c[AR_TERM_PREFILL].c[1],
			c[AR_TERM_PREFILL].c[2], c[AR_TERM_DECODE].c[0], c[AR_TERM_DECODE].c[1]);
		for (int tm = 0; tm < AR_TERM_COUNT; tm++) {
			fputc(',', f);
			csv_str(f, ar_formula_render(c[tm].exact, 0, fb, sizeof(fb)));
			fputc(',', f);
			csv_str(f, c[tm].show_paper ? ar_formula_render(c[tm].paper, 0, fb, sizeof(fb)) : "");
			if (c[tm].note)
				fprintf(f, ",%d", c[tm].note);
			else
				fputc(',', f);
		}
		fprintf(f, ",\n");
	}
}

static void write_json(FILE *f, const struct ar_table *t)
{
	const struct ar_model *b = &t->base;
	char fb[512];
	int first = 1;

	fprintf(f, "{\n  \"model\": {\"name\": ");
	ar_json_str(f, b->name);
	fprintf(f, ", \"arch\": ");
	ar_json_str(f, b->attn.arch);
	fprintf(f, ", \"H\": %ld, \"n_h\": %ld, \"d_h\": %ld},\n", b->hidden, b->attn.n_h,
		b->attn.d_h);
	fprintf(f, "  \"units\": {\"kv\": \"elements per token per layer\", \"compute\": "
		   "\"multiply-accumulates per layer (1 MAC = 2 FLOPs), full N^2\"},\n");
	fprintf(f, "  \"rows\": [");
	for (int i = 0; i < t->n_rows; i++) {
		const struct ar_table_row *r = &t->rows[i];
		const struct ar_attn *a = &r->model.attn;
		const struct ar_cell *c = r->cell;
		if (r->error[0])
			continue;
		fprintf(f, "%s\n    {\"arch\": ", first ? "" : ",");
		first = 0;
		ar_json_str(f, a->arch);
		fprintf(f, ", \"label\": ");
		ar_json_str(f, a->label);
		fprintf(f, ", \"path\": ");
		ar_json_str(f, r->path);
		fprintf(f, ", \"own\": %s,\n     \"dims\": {\"n_q\": %ld, \"n_k\": %ld, \"d_k\": %ld, "
			   "\"n_v\": %ld, \"d_v\": %ld, \"d_c\": %ld, \"d_rope\": %ld, \"d_nope\": %ld, "
			   "\"q_rank\": %ld, \"latent\": %s, \"absorb\": %s},\n",
			r->own ? "true" : "false", a->n_q, a->n_k, a->d_k, a->n_v, a->d_v, a->d_c,
			a->d_rope, a->d_nope, a->q_rank, a->latent ? "true" : "false",
			a->absorb ? "true" : "false");
		fprintf(f, "     \"kv_elems_per_token_layer\": %.17g, \"attn_macs_per_n2\": %.17g, "
			   "\"linear_macs_per_n\": %.17g,\n     \"prefill_macs_per_n\": %.17g, "
			   "\"prefill_macs_per_n2\": %.17g, \"decode_macs\": %.17g, "
			   "\"decode_macs_per_n\": %.17g,\n     \"expressivity\": ",
			c[AR_TERM_KV].c[1], c[AR_TERM_ATTN].c[2], c[AR_TERM_LINEAR].c[1],
			c[AR_TERM_PREFILL].c[1], c[AR_TERM_PREFILL].c[2], c[AR_TERM_DECODE].c[0],
			c[AR_TERM_DECODE].c[1]);
		ar_json_str(f, a->expressivity);
		fprintf(f, ",\n     \"formula\": {");
		for (int tm = 0; tm < AR_TERM_COUNT; tm++) {
			fprintf(f, "%s\n       \"%s\": {\"exact\": ", tm ? "," : "", ar_term_names[tm]);
			ar_json_str(f, ar_formula_render(c[tm].exact, 0, fb, sizeof(fb)));
			fprintf(f, ", \"paper\": ");
			if (c[tm].paper[0])
				ar_json_str(f, ar_formula_render(c[tm].paper, 0, fb, sizeof(fb)));
			else
				fprintf(f, "null");
			if (c[tm].paper[0])
				fprintf(f, ", \"paper_coeffs\": [%.17g, %.17g, %.17g], \"paper_agrees\": %s",
					c[tm].paper_c[0], c[tm].paper_c[1], c[tm].paper_c[2],
					same(c[tm].paper_c, c[tm].c) ? "true" : "false");
			if (c[tm].note)
				fprintf(f, ", \"note\": %d", c[tm].note);
			fprintf(f, "}");
		}
		fprintf(f, "}}");
	}
	fprintf(f, "\n  ],\n  \"skipped\": [");
	first = 1;
	for (int i = 0; i < t->n_rows; i++) {
		if (!t->rows[i].error[0])
			continue;
		fprintf(f, "%s\n    {\"path\": ", first ? "" : ",");
		first = 0;
		ar_json_str(f, t->rows[i].path);
		fprintf(f, ", \"error\": ");
		ar_json_str(f, t->rows[i].error);
		fprintf(f, "}");
	}
	fprintf(f, "%s],\n  \"notes\": [", first ? "" : "\n  ");
	for (int i = 0; i < t->n_notes; i++) {
		fprintf(f, "%s\n    ", i ? "," : "");
		ar_json_str(f, t->notes[i]);
	}
	fprintf(f, "%s]\n}\n", t->n_notes ? "\n  " : "");
}

static void tex_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (strchr("_&%#$", *s))
			fprintf(f, "\\%c", *s);
		else if (!strncmp(s, "ᵀ", strlen("ᵀ"))) {
			fputs("$^\\top$", f);
			s += strlen("ᵀ") - 1;
		} else if (!strncmp(s, "²", strlen("²"))) {
			fputs("$^2$", f);
			s += strlen("²") - 1;
		} else if (!strncmp(s, "·", strlen("·"))) {
			fputs("$\\cdot$", f);
			s += strlen("·") - 1;
		} else if (!strncmp(s, "§", strlen("§"))) {
			fputs("\\S", f);
			s += strlen("§") - 1;
		} else
			fputc(*s, f);
	}
}

static void tex_cell(FILE *f, const struct ar_cell *c)
{
	char fb[512], vb[160];

	fprintf(f, " & ");
	if (c->show_paper)
		fprintf(f, "\\begin{tabular}[t]{@{}l@{}}");
	fprintf(f, "$%s$ ($%s$)", ar_formula_render(c->exact, 1, fb, sizeof(fb)),
		poly_str(c->c, 1, vb, sizeof(vb)));
	if (c->show_paper)
		fprintf(f, " \\\\ paper: $%s$ ($%s$)\\textsuperscript{%d}\\end{tabular}",
			ar_formula_render(c->paper, 1, fb, sizeof(fb)),
			poly_str(c->paper_c, 1, vb, sizeof(vb)), c->note);
}

static void write_latex(FILE *f, const struct ar_table *t)
{
	const struct ar_model *b = &t->base;

	fprintf(f, "%% attnroof table --model %s --format latex (needs \\usepackage{booktabs})\n",
		b->name);
	for (int part = 0; part < 2; part++) {
		fprintf(f, "\\begin{table*}[t]\n\\centering\n\\small\n");
		if (!part)
			fprintf(f, "\\begin{tabular}{lllll}\n\\toprule\nMechanism & KV cache per layer & "
				   "Attention computation & Linear computation & Expressivity \\\\\n");
		else
			fprintf(f, "\\begin{tabular}{lll}\n\\toprule\nMechanism & Prefill ($N$ tokens) & "
				   "Decode (one token, context $N$) \\\\\n");
		fprintf(f, "\\midrule\n");
		for (int i = 0; i < t->n_rows; i++) {
			const struct ar_table_row *r = &t->rows[i];
			if (r->error[0])
				continue;
			tex_text(f, r->model.attn.label);
			if (!part) {
				for (int tm = AR_TERM_KV; tm <= AR_TERM_LINEAR; tm++)
					tex_cell(f, &r->cell[tm]);
				fprintf(f, " & ");
				tex_text(f, r->model.attn.expressivity);
			} else {
				tex_cell(f, &r->cell[AR_TERM_PREFILL]);
				tex_cell(f, &r->cell[AR_TERM_DECODE]);
			}
			fprintf(f, " \\\\\n");
		}
		fprintf(f, "\\bottomrule\n\\end{tabular}\n\\caption{%s at the dimensions of ",
			part ? "Prefill and decode cost per layer" : "KV cache and computation per layer");
		tex_text(f, b->name);
		fprintf(f, " ($H = %ld$, $n_h = %ld$, $d_h = %ld$), in multiply-accumulates with full "
			   "$N^2$; KV cache in elements. Values in parentheses.", b->hidden,
			b->attn.n_h, b->attn.d_h);
		int any = 0;
		for (int i = 0; i < t->n_rows; i++)
			for (int tm = part ? AR_TERM_PREFILL : AR_TERM_KV;
			     tm <= (part ? AR_TERM_DECODE : AR_TERM_LINEAR); tm++) {
				int n = t->rows[i].error[0] ? 0 : t->rows[i].cell[tm].note;
				if (!n)
					continue;
				/* each note once per table */
				int seen = 0;
				for (int j = 0; j <= i && !seen; j++)
					for (int u = part ? AR_TERM_PREFILL : AR_TERM_KV;
					     u <= (part ? AR_TERM_DECODE : AR_TERM_LINEAR); u++)
						if ((j < i || u < tm) && !t->rows[j].error[0] &&
						    t->rows[j].cell[u].note == n)
							seen = 1;
				if (seen)
					continue;
				fprintf(f, "%s\\textsuperscript{%d}", any ? " " : " ``paper'': the "
					"printed form of the GTA paper where it differs. ", n);
				tex_text(f, t->notes[n - 1]);
				any = 1;
			}
		fprintf(f, "}\n\\end{table*}\n");
	}
}

int ar_table_write(FILE *f, const struct ar_table *t, enum ar_table_format fmt)
{
	switch (fmt) {
	case AR_TABLE_MD: write_md(f, t); break;
	case AR_TABLE_CSV: write_csv(f, t); break;
	case AR_TABLE_JSON: write_json(f, t); break;
	case AR_TABLE_LATEX: write_latex(f, t); break;
	default: AR_ASSERT(0);
	}
	return ferror(f) ? -1 : 0;
}
