/* Loading models and their attention descriptors.  Arch files give each
 * attention parameter as an integer expression over the model's dimensions
 * (H, n_h, d_h) and the parameters before it; a config may override any of
 * them.  Cross-field rules live in ar_model_check. */
#include "model.h"

#include <ctype.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "doc.h"

const char *const ar_av_names[AR_AV_COUNT] = { "per_head", "per_map" };
const char *const ar_decoder_names[AR_DEC_COUNT] = { "none", "linear", "gated" };
const char *const ar_mlp_names[AR_MLP_COUNT] = { "swiglu", "gelu" };
const char *const ar_norm_names[AR_NORM_COUNT] = { "rmsnorm", "layernorm" };
_Static_assert(sizeof(ar_av_names) / sizeof(*ar_av_names) == AR_AV_COUNT, "av");
_Static_assert(sizeof(ar_decoder_names) / sizeof(*ar_decoder_names) == AR_DEC_COUNT, "dec");
_Static_assert(sizeof(ar_mlp_names) / sizeof(*ar_mlp_names) == AR_MLP_COUNT, "mlp");
_Static_assert(sizeof(ar_norm_names) / sizeof(*ar_norm_names) == AR_NORM_COUNT, "norm");

/* Dimension limits: every product the op graph forms stays far below 2^53. */
#define MAX_DIM 1048576L   /* hidden, intermediate, head dims, latent dims */
#define MAX_HEADS 65536L
#define MAX_LAYERS 10000L
#define MAX_VOCAB 16777216L

/* ---- data directory ---- */

#ifndef AR_DATADIR
#define AR_DATADIR "."
#endif

int ar_resolve(const char *dir, const char *name, char *out, size_t n,
	       struct ar_err *err)
{
	const char *roots[3] = { getenv("ATTNROOF_DATA"), ".", AR_DATADIR };
	const char *what = !strcmp(dir, "hw") ? "device" : !strcmp(dir, "archs") ? "arch" : "model";
	size_t len = strlen(name);

	if (!len)
		return ar_errf(err, NULL, 0, 0, "empty %s name", what);
	if (strchr(name, '/') || (len > 5 && !strcmp(name + len - 5, ".yaml")) ||
	    (len > 5 && !strcmp(name + len - 5, ".json")) ||
	    (len > 4 && !strcmp(name + len - 4, ".yml"))) {
		if ((size_t)snprintf(out, n, "%s", name) >= n)
			return ar_errf(err, NULL, 0, 0, "path too long");
		return 0;
	}
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
			return ar_errf(err, NULL, 0, 0, "invalid %s name '%s'", what, name);
	for (int i = 0; i < 3; i++) {
		if (!roots[i] || !roots[i][0])
			continue;
		if ((size_t)snprintf(out, n, "%s/%s/%s.yaml", roots[i], dir, name) >= n)
			continue;
		if (access(out, R_OK) == 0)
			return 0;
	}
	return ar_errf(err, NULL, 0, 0, "unknown %s '%s' (no %s/%s.yaml)", what, name, dir, name);
}

/* ---- integer expressions ---- */

struct sym { const char *name; long value; };

struct expr {
	const char *s, *p;
	const struct sym *syms;
	int nsyms;
	int depth; /* open parentheses: bounded, the parser recurses */
	char msg[160];
};

static int expr_sum(struct expr *e, long *out);

static void skip(struct expr *e)
{
	while (*e->p == ' ')
		e->p++;
}

static int expr_atom(struct expr *e, long *out)
{
	skip(e);
	if (*e->p == '(') {
		if (++e->depth > 32) {
			snprintf(e->msg, sizeof(e->msg), "parentheses nested deeper than 32");
			return -1;
		}
		e->p++;
		if (expr_sum(e, out))
			return -1;
		e->depth--;
		skip(e);
		if (*e->p != ')') {
			snprintf(e->msg, sizeof(e->msg), "missing ')'");
			return -1;
		}
		e->p++;
		return 0;
	}
	if (isdigit((unsigned char)*e->p)) {
		long v = 0;
		while (isdigit((unsigned char)*e->p)) {
			v = v * 10 + (*e->p++ - '0');
			if (v > MAX_DIM * 1024) {
				snprintf(e->msg, sizeof(e->msg), "number too large");
				return -1;
			}
		}
		*out = v;
		return 0;
	}
	if (isalpha((unsigned char)*e->p) || *e->p == '_') {
		const char *b = e->p;
		while (isalnum((unsigned char)*e->p) || *e->p == '_')
			e->p++;
		for (int i = 0; i < e->nsyms; i++)
			if (strlen(e->syms[i].name) == (size_t)(e->p - b) &&
			    !strncmp(e->syms[i].name, b, (size_t)(e->p - b))) {
				*out = e->syms[i].value;
				return 0;
			}
		snprintf(e->msg, sizeof(e->msg), "unknown name '%.*s'", (int)(e->p - b), b);
		return -1;
	}
	snprintf(e->msg, sizeof(e->msg), "expected a number or a name at '%s'", e->p);
	return -1;
}

static int expr_prod(struct expr *e, long *out)
{
	long v, r;

	if (expr_atom(e, &v))
		return -1;
	for (;;) {
		skip(e);
		char op = *e->p;
		if (op != '*' && op != '/')
			break;
		e->p++;
		if (expr_atom(e, &r))
			return -1;
		if (op == '*') {
			if (r != 0 && labs(v) > MAX_DIM * 1024 / labs(r)) {
				snprintf(e->msg, sizeof(e->msg), "value too large");
				return -1;
			}
			v *= r;
		} else {
			if (r == 0) {
				snprintf(e->msg, sizeof(e->msg), "division by zero");
				return -1;
			}
			if (v % r) {
				snprintf(e->msg, sizeof(e->msg), "%ld / %ld is not a whole number", v, r);
				return -1;
			}
			v /= r;
		}
	}
	*out = v;
	return 0;
}

static int expr_sum(struct expr *e, long *out)
{
	long v, r;

	if (expr_prod(e, &v))
		return -1;
	for (;;) {
		skip(e);
		char op = *e->p;
		if (op != '+' && op != '-')
			break;
		e->p++;
		if (expr_prod(e, &r))
			return -1;
		v = op == '+' ? v + r : v - r;
	}
	*out = v;
	return 0;
}

/* Evaluate a node holding an integer or an expression. */
static int eval_node(const struct ar_doc *doc, const struct ar_node *n, const char *what,
		     const struct sym *syms, int nsyms, long *out, struct ar_err *err)
{
	struct expr e = { .syms = syms, .nsyms = nsyms };
	long v;

	if (n->kind != AR_NODE_SCALAR || n->is_null)
		return ar_node_errf(doc, n, err, "'%s' must be an integer or an expression", what);
	e.s = e.p = n->value;
	if (expr_sum(&e, &v))
		return ar_node_errf(doc, n, err, "'%s': %s", what, e.msg);
	skip(&e);
	if (*e.p)
		return ar_node_errf(doc, n, err, "'%s': unexpected '%s'", what, e.p);
	if (v < 0)
		return ar_node_errf(doc, n, err, "'%s' must be >= 0, not %ld", what, v);
	if (v > MAX_DIM)
		return ar_node_errf(doc, n, err, "'%s' is too large (%ld; the limit is %ld)",
				    what, v, MAX_DIM);
	*out = v;
	return 0;
}

/* ---- arch and config ---- */

static const char *const param_names[] = {
	"n_q", "n_k", "d_k", "n_v", "d_v", "d_c", "d_rope", "d_nope", "q_rank", NULL
};
enum { NPARAM = 9 };

static long *param_slot(struct ar_attn *a, int i)
{
	long *slots[NPARAM] = { &a->n_q, &a->n_k, &a->d_k, &a->n_v, &a->d_v,
				&a->d_c, &a->d_rope, &a->d_nope, &a->q_rank };
	return slots[i];
}

/* Default of parameter i when neither arch nor config sets it, as an expression.
 * A latent arch has one latent head (n_k) unless it says otherwise. */
static const char *const param_defaults[NPARAM] = {
	"n_h", "n_q", "d_h", "n_k", "d_h", "0", "0", "d_h", "0"
};

static const char *param_default(const struct ar_attn *a, int i)
{
	return a->latent && !strcmp(param_names[i], "n_k") ? "1" : param_defaults[i];
}

static int pick_enum(const struct ar_doc *doc, const struct ar_node *n, const char *what,
		     const char *const *names, int count, int *out, struct ar_err *err)
{
	char buf[32];

	if (ar_node_str(doc, n, what, buf, sizeof(buf), err))
		return -1;
	for (int i = 0; i < count; i++)
		if (!strcmp(buf, names[i])) {
			*out = i;
			return 0;
		}
	char list[160] = "";
	for (int i = 0; i < count; i++) {
		strcat(list, i ? ", " : "");
		strcat(list, names[i]);
	}
	return ar_node_errf(doc, n, err, "unknown %s '%s' (expected %s)", what, buf, list);
}

struct arch_file {
	struct ar_doc doc;
};

/* Read the arch's labels and kinds; parameters are evaluated later. */
static int load_arch_header(struct ar_attn *a, const struct ar_doc *doc, struct ar_err *err)
{
	static const char *const keys[] = {
		"name", "label", "expressivity", "description", "av", "decoder", "latent",
		"tied", "absorb", "n_q", "n_k", "d_k", "n_v", "d_v", "d_c", "d_rope", "d_nope",
		"q_rank", NULL
	};
	const struct ar_node *r = doc->root, *n;
	int v;

	if (r->kind != AR_NODE_MAP)
		return ar_node_errf(doc, r, err, "an arch descriptor must be a mapping of keys, not %s",
				    r->kind == AR_NODE_SEQ ? "a list" : "a scalar");
	if (ar_node_check_keys(doc, r, keys, err))
		return -1;
	if (!(n = ar_node_get(r, "name")))
		return ar_node_errf(doc, r, err, "missing required key 'name'");
	if (ar_node_name(doc, n, "name", a->arch, sizeof(a->arch), err))
		return -1;
	snprintf(a->label, sizeof(a->label), "%.15s", a->arch);
	if ((n = ar_node_get(r, "label")) &&
	    ar_node_str(doc, n, "label", a->label, sizeof(a->label), err))
		return -1;
	if ((n = ar_node_get(r, "expressivity")) &&
	    ar_node_str(doc, n, "expressivity", a->expressivity, sizeof(a->expressivity), err))
		return -1;
	if ((n = ar_node_get(r, "description")) && n->kind != AR_NODE_SCALAR)
		return ar_node_errf(doc, n, err, "'description' must be a string");
	a->av = AR_AV_PER_HEAD;
	if ((n = ar_node_get(r, "av"))) {
		if (pick_enum(doc, n, "av", ar_av_names, AR_AV_COUNT, &v, err))
			return -1;
		a->av = (enum ar_av)v;
	}
	a->decoder = AR_DEC_NONE;
	if ((n = ar_node_get(r, "decoder"))) {
		if (pick_enum(doc, n, "decoder", ar_decoder_names, AR_DEC_COUNT, &v, err))
			return -1;
		a->decoder = (enum ar_decoder)v;
	}
	if ((n = ar_node_get(r, "latent")) && ar_node_bool(doc, n, "latent", &a->latent, err))
		return -1;
	if ((n = ar_node_get(r, "tied")) && ar_node_bool(doc, n, "tied", &a->tied, err))
		return -1;
	a->absorb = 1;
	if ((n = ar_node_get(r, "absorb")) && ar_node_bool(doc, n, "absorb", &a->absorb, err))
		return -1;
	return 0;
}

/* Evaluate every attention parameter: config override, else arch, else default. */
static int eval_params(struct ar_model *m, const struct ar_doc *cfg, const struct ar_node *over,
		       const struct ar_doc *arch, struct ar_err *err)
{
	struct sym syms[3 + NPARAM] = {
		{ "H", m->hidden }, { "n_h", m->attn.n_h }, { "d_h", m->attn.d_h },
	};
	int ns = 3;

	for (int i = 0; i < NPARAM; i++) {
		const struct ar_node *n = over ? ar_node_get(over, param_names[i]) : NULL;
		const struct ar_doc *d = cfg;
		long *slot = param_slot(&m->attn, i);

		if (!n) {
			n = ar_node_get(arch->root, param_names[i]);
			d = arch;
		}
		if (n) {
			if (eval_node(d, n, param_names[i], syms, ns, slot, err))
				return -1;
		} else {
			struct ar_node tmp = { .kind = AR_NODE_SCALAR,
					       .value = param_default(&m->attn, i) };
			if (eval_node(arch, &tmp, param_names[i], syms, ns, slot, err))
				return -1;
		}
		syms[ns].name = param_names[i];
		syms[ns].value = *slot;
		ns++;
	}
	return 0;
}

static int get_long(const struct ar_doc *doc, const struct ar_node *map, const char *key,
		    long min, long max, int required, long *out, struct ar_err *err)
{
	const struct ar_node *n = ar_node_get(map, key);

	if (!n) {
		if (required)
			return ar_node_errf(doc, map, err, "missing required key '%s'", key);
		return 0;
	}
	return ar_node_int(doc, n, key, min, max, out, err);
}

static int get_bool(const struct ar_doc *doc, const struct ar_node *map, const char *key,
		    int *out, struct ar_err *err)
{
	const struct ar_node *n = ar_node_get(map, key);

	return n ? ar_node_bool(doc, n, key, out, err) : 0;
}

/* The experts' counts against each other and the layers, whichever format
 * named them: the keys as the file spells them, the error at the count
 * that is too large. */
static int moe_consistent(const struct ar_model *m, const struct ar_doc *doc,
			  const struct ar_node *active, const struct ar_node *dense,
			  const char *const names[4], struct ar_err *err)
{
	if (m->moe.active > m->moe.experts)
		return ar_node_errf(doc, active, err, "'%s' (%ld) exceeds '%s' (%ld)", names[0],
				    m->moe.active, names[1], m->moe.experts);
	if (m->moe.dense_layers > m->layers)
		return ar_node_errf(doc, dense, err, "'%s' (%ld) exceeds '%s' (%ld)", names[2],
				    m->moe.dense_layers, names[3], m->layers);
	return 0;
}

static int load_moe(struct ar_model *m, const struct ar_doc *doc, const struct ar_node *n,
		    struct ar_err *err)
{
	static const char *const names[4] = { "active", "experts", "dense_layers", "layers" };
	static const char *const keys[] = {
		"experts", "active", "shared", "intermediate", "dense_layers", NULL
	};

	if (ar_node_expect(doc, n, AR_NODE_MAP, "moe", err) ||
	    ar_node_check_keys(doc, n, keys, err) ||
	    get_long(doc, n, "experts", 1, 65536, 1, &m->moe.experts, err) ||
	    get_long(doc, n, "active", 1, 65536, 1, &m->moe.active, err) ||
	    get_long(doc, n, "shared", 0, 65536, 0, &m->moe.shared, err) ||
	    get_long(doc, n, "intermediate", 1, MAX_DIM, 1, &m->moe.intermediate, err) ||
	    get_long(doc, n, "dense_layers", 0, MAX_LAYERS, 0, &m->moe.dense_layers, err))
		return -1;
	return moe_consistent(m, doc, ar_node_get(n, "active"), ar_node_get(n, "dense_layers"),
			      names, err);
}

/* Attach a position in doc to an error that has none (ar_model_check's). */
static int at_node(const struct ar_doc *doc, const struct ar_node *n, struct ar_err *err)
{
	char msg[sizeof(err->msg)];

	if (!err)
		return -1;
	snprintf(msg, sizeof(msg), "%s", err->msg);
	return ar_node_errf(doc, n, err, "%s", msg);
}

static int load_arch_doc(const char *name, struct ar_doc *arch, const struct ar_doc *cfg,
			 const struct ar_node *at, struct ar_err *err)
{
	char path[512];

	if (ar_resolve("archs", name, path, sizeof(path), err))
		return at ? at_node(cfg, at, err) : -1;
	/* a file that cannot be read is reported where the config names it */
	if (ar_doc_load_yaml(arch, path, err))
		return at && err && err->line == 0 ? at_node(cfg, at, err) : -1;
	return 0;
}


static int load_config(struct ar_model *m, const struct ar_doc *doc, struct ar_err *err)
{
	static const char *const keys[] = {
		"name", "arch", "source", "layers", "hidden", "heads", "head_dim",
		"intermediate", "mlp", "vocab", "tie_embeddings", "norm", "attn_bias",
		"o_bias", "mlp_bias", "attn", "moe", NULL
	};
	const struct ar_node *r = doc->root, *n, *arch_node, *over;
	struct ar_doc arch = { 0 };
	char arch_name[64];
	int v, rc = -1;

	if (r->kind != AR_NODE_MAP)
		return ar_node_errf(doc, r, err, "a model descriptor must be a mapping of keys, not %s",
				    r->kind == AR_NODE_SEQ ? "a list" : "a scalar");
	if (ar_node_check_keys(doc, r, keys, err))
		return -1;
	if (!(n = ar_node_get(r, "name")))
		return ar_node_errf(doc, r, err, "missing required key 'name'");
	if (ar_node_name(doc, n, "name", m->name, sizeof(m->name), err))
		return -1;
	if ((n = ar_node_get(r, "source")) && n->kind != AR_NODE_SCALAR)
		return ar_node_errf(doc, n, err, "'source' must be a string");
	if (get_long(doc, r, "layers", 1, MAX_LAYERS, 1, &m->layers, err) ||
	    get_long(doc, r, "hidden", 1, MAX_DIM, 1, &m->hidden, err) ||
	    get_long(doc, r, "heads", 1, MAX_HEADS, 1, &m->attn.n_h, err) ||
	    get_long(doc, r, "intermediate", 1, MAX_DIM, 1, &m->intermediate, err) ||
	    get_long(doc, r, "vocab", 1, MAX_VOCAB, 1, &m->vocab, err))
		return -1;
	m->attn.d_h = m->hidden / m->attn.n_h;
	if (!ar_node_get(r, "head_dim") && m->hidden % m->attn.n_h)
		return ar_node_errf(doc, ar_node_get(r, "heads"), err,
				    "hidden (%ld) is not divisible by heads (%ld); give head_dim",
				    m->hidden, m->attn.n_h);
	if (get_long(doc, r, "head_dim", 1, MAX_DIM, 0, &m->attn.d_h, err))
		return -1;
	m->mlp = AR_MLP_SWIGLU;
	if ((n = ar_node_get(r, "mlp"))) {
		if (pick_enum(doc, n, "mlp", ar_mlp_names, AR_MLP_COUNT, &v, err))
			return -1;
		m->mlp = (enum ar_mlp_kind)v;
	}
	m->norm = AR_NORM_RMS;
	if ((n = ar_node_get(r, "norm"))) {
		if (pick_enum(doc, n, "norm", ar_norm_names, AR_NORM_COUNT, &v, err))
			return -1;
		m->norm = (enum ar_norm_kind)v;
	}
	if (get_bool(doc, r, "tie_embeddings", &m->tie_embeddings, err) ||
	    get_bool(doc, r, "attn_bias", &m->attn_bias, err) ||
	    get_bool(doc, r, "o_bias", &m->o_bias, err) ||
	    get_bool(doc, r, "mlp_bias", &m->mlp_bias, err))
		return -1;
	if ((n = ar_node_get(r, "moe")) && load_moe(m, doc, n, err))
		return -1;

	if (!(arch_node = ar_node_get(r, "arch")))
		return ar_node_errf(doc, r, err, "missing required key 'arch'");
	if (ar_node_str(doc, arch_node, "arch", arch_name, sizeof(arch_name), err))
		return -1;
	over = ar_node_get(r, "attn");
	if (over) {
		static const char *const okeys[] = {
			"n_q", "n_k", "d_k", "n_v", "d_v", "d_c", "d_rope", "d_nope",
			"q_rank", "absorb", NULL
		};
		if (ar_node_expect(doc, over, AR_NODE_MAP, "attn", err) ||
		    ar_node_check_keys(doc, over, okeys, err))
			return -1;
	}
	if (load_arch_doc(arch_name, &arch, doc, arch_node, err))
		goto cleanup;
	if (load_arch_header(&m->attn, &arch, err) ||
	    eval_params(m, doc, over, &arch, err))
		goto cleanup;
	if (over && (n = ar_node_get(over, "absorb")) &&
	    ar_node_bool(doc, n, "absorb", &m->attn.absorb, err))
		goto cleanup;
	if (ar_model_check(m, err)) {
		at_node(doc, over ? over : arch_node, err);
		goto cleanup;
	}
	rc = 0;
cleanup:
	ar_doc_release(&arch);
	return rc;
}

int ar_model_parse(struct ar_model *m, const char *name, const char *text, size_t len,
		   struct ar_err *err)
{
	struct ar_doc doc = { 0 };
	int rc;

	memset(m, 0, sizeof(*m));
	rc = ar_doc_parse_yaml(&doc, name, text, len, err);
	if (!rc)
		rc = load_config(m, &doc, err);
	ar_doc_release(&doc);
	return rc;
}

int ar_model_load(struct ar_model *m, const char *path, struct ar_err *err)
{
	char *text;
	size_t len;
	int rc;

	memset(m, 0, sizeof(*m));
	if (ar_read_file(path, &text, &len, err))
		return -1;
	rc = ar_model_parse(m, path, text, len, err);
	free(text);
	return rc;
}

/* ---- Hugging Face config.json ---- */

static int hf_long(const struct ar_doc *doc, const char *key, long min, long max,
		   int required, long *out, struct ar_err *err)
{
	const struct ar_node *n = ar_node_get(doc->root, key);

	if (n && n->is_null && !required)
		return 0;
	return get_long(doc, doc->root, key, min, max, required, out, err);
}

static int load_hf(struct ar_model *m, const struct ar_doc *doc, struct ar_err *err)
{
	const struct ar_node *r = doc->root;
	const char *arch_name;
	struct ar_doc arch = { 0 };
	long kv_heads = 0, v;
	int rc = -1;

	if (r->kind != AR_NODE_MAP)
		return ar_node_errf(doc, r, err, "a config.json must be a JSON object, not %s",
				    r->kind == AR_NODE_SEQ ? "an array" : "a single value");
	if (hf_long(doc, "num_hidden_layers", 1, MAX_LAYERS, 1, &m->layers, err) ||
	    hf_long(doc, "hidden_size", 1, MAX_DIM, 1, &m->hidden, err) ||
	    hf_long(doc, "num_attention_heads", 1, MAX_HEADS, 1, &m->attn.n_h, err) ||
	    hf_long(doc, "intermediate_size", 1, MAX_DIM, 1, &m->intermediate, err) ||
	    hf_long(doc, "vocab_size", 1, MAX_VOCAB, 1, &m->vocab, err))
		return -1;
	if (!ar_node_get(r, "head_dim") && m->hidden % m->attn.n_h)
		return ar_node_errf(doc, ar_node_get(r, "num_attention_heads"), err,
				    "hidden_size (%ld) is not divisible by num_attention_heads (%ld)",
				    m->hidden, m->attn.n_h);
	m->attn.d_h = m->hidden / m->attn.n_h;
	if (hf_long(doc, "head_dim", 1, MAX_DIM, 0, &m->attn.d_h, err))
		return -1;
	if (get_bool(doc, r, "tie_word_embeddings", &m->tie_embeddings, err) ||
	    get_bool(doc, r, "attention_bias", &m->attn_bias, err) ||
	    get_bool(doc, r, "mlp_bias", &m->mlp_bias, err))
		return -1;

	if (ar_node_get(r, "num_query_heads"))
		arch_name = "gta";
	else if (ar_node_get(r, "kv_lora_rank"))
		arch_name = "mla";
	else
		arch_name = "gqa";
	if (load_arch_doc(arch_name, &arch, doc, NULL, err) ||
	    load_arch_header(&m->attn, &arch, err) ||
	    eval_params(m, doc, NULL, &arch, err))
		goto cleanup;

	struct ar_attn *a = &m->attn;
	if (!strcmp(arch_name, "gta")) {
		/* the GTA authors' config: separate query, key and latent-value groups */
		m->attn_bias = 1;
		if (hf_long(doc, "num_query_heads", 1, MAX_HEADS, 1, &a->n_q, err) ||
		    hf_long(doc, "num_key_heads", 1, MAX_HEADS, 1, &a->n_k, err) ||
		    hf_long(doc, "num_value_heads", 1, MAX_HEADS, 1, &a->n_v, err) ||
		    hf_long(doc, "key_dim", 1, MAX_DIM, 0, &a->d_k, err) ||
		    hf_long(doc, "value_dim", 1, MAX_DIM, 0, &a->d_v, err))
			goto cleanup;
		if (hf_long(doc, "query_dim", 1, MAX_DIM, 0, &v, err))
			goto cleanup;
	} else if (!strcmp(arch_name, "mla")) {
		long rope = 0, nope = 0, vd = 0;
		if (hf_long(doc, "kv_lora_rank", 1, MAX_DIM, 1, &a->d_c, err) ||
		    hf_long(doc, "q_lora_rank", 0, MAX_DIM, 0, &a->q_rank, err) ||
		    hf_long(doc, "qk_rope_head_dim", 0, MAX_DIM, 1, &rope, err) ||
		    hf_long(doc, "qk_nope_head_dim", 1, MAX_DIM, 1, &nope, err) ||
		    hf_long(doc, "v_head_dim", 1, MAX_DIM, 1, &vd, err))
			goto cleanup;
		a->d_rope = rope;
		a->d_nope = nope;
		a->d_v = vd;
		a->d_k = nope + rope;
		if (ar_node_get(r, "n_routed_experts") &&
		    !ar_node_get(r, "n_routed_experts")->is_null) {
			m->moe.active = 1;
			if (hf_long(doc, "n_routed_experts", 1, 65536, 1, &m->moe.experts, err) ||
			    hf_long(doc, "num_experts_per_tok", 1, 65536, 1, &m->moe.active, err) ||
			    hf_long(doc, "n_shared_experts", 0, 65536, 0, &m->moe.shared, err) ||
			    hf_long(doc, "moe_intermediate_size", 1, MAX_DIM, 1,
				    &m->moe.intermediate, err) ||
			    hf_long(doc, "first_k_dense_replace", 0, MAX_LAYERS, 0,
				    &m->moe.dense_layers, err))
				goto cleanup;
			static const char *const names[4] = { "num_experts_per_tok", "n_routed_experts",
							      "first_k_dense_replace",
							      "num_hidden_layers" };
			if (moe_consistent(m, doc, ar_node_get(r, "num_experts_per_tok"),
					   ar_node_get(r, "first_k_dense_replace"), names, err))
				goto cleanup;
		}
	} else {
		kv_heads = a->n_h;
		if (hf_long(doc, "num_key_value_heads", 1, MAX_HEADS, 0, &kv_heads, err))
			goto cleanup;
		if (a->n_h % kv_heads) {
			ar_node_errf(doc, ar_node_get(r, "num_key_value_heads"), err,
				     "num_attention_heads (%ld) is not divisible by num_key_value_heads (%ld)",
				     a->n_h, kv_heads);
			goto cleanup;
		}
		a->n_q = a->n_h;
		a->n_k = a->n_v = kv_heads;
		a->d_k = a->d_v = a->d_h;
		m->o_bias = m->attn_bias; /* Llama's attention_bias covers o_proj too */
		if (kv_heads == a->n_h)
			snprintf(a->label, sizeof(a->label), "MHA");
	}
	if (ar_model_check(m, err)) {
		at_node(doc, r, err);
		goto cleanup;
	}
	rc = 0;
cleanup:
	ar_doc_release(&arch);
	return rc;
}

int ar_model_parse_hf(struct ar_model *m, const char *path, const char *text, size_t len,
		      struct ar_err *err)
{
	struct ar_doc doc = { 0 };
	const char *slash, *base;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = ar_doc_parse_json(&doc, path, text, len, err);
	if (!rc)
		rc = load_hf(m, &doc, err);
	ar_doc_release(&doc);
	/* name: the folder of a config.json, else the file stem */
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (!strcmp(base, "config.json") && slash) {
		const char *b = slash;
		while (b > path && b[-1] != '/')
			b--;
		snprintf(m->name, sizeof(m->name), "%.*s", (int)(slash - b), b);
	} else {
		snprintf(m->name, sizeof(m->name), "%.*s",
			 (int)(strlen(base) > 5 ? strlen(base) - 5 : strlen(base)), base);
	}
	/* a name every format prints bare (as ar_node_name asks of YAML) */
	for (char *c = m->name; *c; c++)
		if (!ar_name_char(*c))
			*c = '_';
	if (!m->name[0])
		snprintf(m->name, sizeof(m->name), "config");
	return rc;
}

int ar_model_load_hf(struct ar_model *m, const char *path, struct ar_err *err)
{
	char *text;
	size_t len;
	int rc;

	memset(m, 0, sizeof(*m));
	if (ar_read_file(path, &text, &len, err))
		return -1;
	rc = ar_model_parse_hf(m, path, text, len, err);
	free(text);
	return rc;
}

int ar_model_open(struct ar_model *m, const char *arg, struct ar_err *err)
{
	char path[512];
	size_t len = strlen(arg);

	if (ar_resolve("configs", arg, path, sizeof(path), err))
		return -1;
	if (len > 5 && !strcmp(arg + len - 5, ".json"))
		return ar_model_load_hf(m, path, err);
	return ar_model_load(m, path, err);
}

int ar_model_with_arch(struct ar_model *out, const struct ar_model *base,
		       const char *arch_path, struct ar_err *err)
{
	struct ar_doc arch = { 0 };
	char msg[sizeof(err->msg)];
	int rc = -1;

	*out = *base;
	memset(&out->attn, 0, sizeof(out->attn));
	out->attn.n_h = base->attn.n_h;
	out->attn.d_h = base->attn.d_h;
	if (ar_doc_load_yaml(&arch, arch_path, err) ||
	    load_arch_header(&out->attn, &arch, err) ||
	    eval_params(out, NULL, NULL, &arch, err))
		goto cleanup;
	if (ar_model_check(out, err)) {
		snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
		ar_errf(err, arch_path, 0, 0, "does not fit %s's dimensions: %s", base->name, msg);
		goto cleanup;
	}
	rc = 0;
cleanup:
	ar_doc_release(&arch);
	return rc;
}

/* ---- derived quantities and rules ---- */

void ar_model_set_layers(struct ar_model *m, long l, long dense)
{
	m->layers = l;
	m->moe.dense_layers = dense < l ? dense : l;
}

int ar_model_check(const struct ar_model *m, struct ar_err *err)
{
	const struct ar_attn *a = &m->attn;

	if (m->moe.experts && (m->moe.active > m->moe.experts || m->moe.dense_layers > m->layers))
		return ar_errf(err, NULL, 0, 0,
			       "the experts do not fit: %ld active of %ld, %ld dense layers of %ld",
			       m->moe.active, m->moe.experts, m->moe.dense_layers, m->layers);
	if (a->latent && a->tied)
		return ar_errf(err, NULL, 0, 0, "an arch is latent or tied, not both");
	if (a->latent) {
		if (a->d_c < 1)
			return ar_errf(err, NULL, 0, 0, "an MLA arch needs d_c >= 1");
		if (a->d_nope + a->d_rope < 1 || a->d_v < 1)
			return ar_errf(err, NULL, 0, 0, "an MLA arch needs d_nope + d_rope >= 1 and d_v >= 1");
		/* each latent head serves n_h / n_k query heads */
		if (a->n_k < 1 || a->n_h % a->n_k)
			return ar_errf(err, NULL, 0, 0,
				       "n_h (%ld) is not divisible by the latent heads (n_k = %ld)",
				       a->n_h, a->n_k);
		return 0;
	}
	if (a->n_q < 1 || a->n_k < 1 || a->n_v < 1 || a->d_k < 1 || a->d_v < 1)
		return ar_errf(err, NULL, 0, 0,
			       "n_q, n_k, n_v, d_k and d_v must be >= 1 (got %ld, %ld, %ld, %ld, %ld)",
			       a->n_q, a->n_k, a->n_v, a->d_k, a->d_v);
	if (a->n_h % a->n_q)
		return ar_errf(err, NULL, 0, 0, "n_h (%ld) is not divisible by n_q (%ld)",
			       a->n_h, a->n_q);
	if (a->n_q % a->n_k)
		return ar_errf(err, NULL, 0, 0, "n_q (%ld) is not divisible by n_k (%ld)",
			       a->n_q, a->n_k);
	if (a->av == AR_AV_PER_HEAD && a->n_h % a->n_v)
		return ar_errf(err, NULL, 0, 0, "n_h (%ld) is not divisible by n_v (%ld)",
			       a->n_h, a->n_v);
	if (a->av == AR_AV_PER_MAP && a->n_q % a->n_v)
		return ar_errf(err, NULL, 0, 0, "n_q (%ld) is not divisible by n_v (%ld)",
			       a->n_q, a->n_v);
	if (a->av == AR_AV_PER_MAP && a->decoder == AR_DEC_NONE && a->n_q != a->n_h)
		return ar_errf(err, NULL, 0, 0,
			       "maps applied per group (av: per_map) with n_q (%ld) < n_h (%ld) need a decoder",
			       a->n_q, a->n_h);
	if (a->tied) {
		/* one state per key head: V is all of it, K its first d_k − d_rope
		 * elements followed by the shared RoPE key */
		if (a->n_v != a->n_k)
			return ar_errf(err, NULL, 0, 0,
				       "a tied arch caches one state per key head: n_v (%ld) must equal n_k (%ld)",
				       a->n_v, a->n_k);
		if (a->d_rope < 1 || a->d_rope > a->d_k)
			return ar_errf(err, NULL, 0, 0,
				       "a tied arch needs 1 <= d_rope <= d_k (d_rope %ld, d_k %ld)",
				       a->d_rope, a->d_k);
		if (a->d_k - a->d_rope > a->d_v)
			return ar_errf(err, NULL, 0, 0,
				       "the tied key's unrotated part d_k - d_rope (%ld) is wider than the tied state d_v (%ld)",
				       a->d_k - a->d_rope, a->d_v);
	}
	if (a->decoder == AR_DEC_GATED) {
		long out = a->n_h * a->d_h / a->n_q;
		if ((a->n_h * a->d_h) % a->n_q || out % a->d_v)
			return ar_errf(err, NULL, 0, 0,
				       "GTA's direct tiling needs n_h·d_h / n_q (%ld·%ld / %ld) to be a multiple of d_v (%ld)",
				       a->n_h, a->d_h, a->n_q, a->d_v);
	}
	return 0;
}

double ar_model_kv_elems(const struct ar_model *m)
{
	const struct ar_attn *a = &m->attn;

	if (a->latent)
		return (double)a->n_k * a->d_c + (double)a->d_rope;
	if (a->tied)
		return (double)a->n_k * a->d_v + (double)a->d_rope;
	return (double)a->n_k * a->d_k + (double)a->n_v * a->d_v;
}
