/* Building the op graph of one phase (see graph.h for the conventions).  Every
 * formula is written per repeat of the op (per layer for layer ops); T is the
 * number of tokens the phase processes: B·S for prefill, B for decode.  Byte
 * widths: w (weights), a (activations), kv (cache) = bits / 8. */
#include "graph.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

const char *const ar_op_names[AR_OP_COUNT] = {
	"embed", "attn_norm",
	"q_proj", "q_a_proj", "q_b_proj", "k_proj", "v_proj",
	"kv_proj", "k_rope_proj", "kv_a_proj", "kv_b_proj", "rope", "q_absorb",
	"qk", "softmax", "av", "flash_attn",
	"out_absorb", "w_p", "v_b_proj", "direct_add", "g_proj",
	"gate", "o_proj", "attn_allreduce", "attn_add",
	"mlp_norm", "router", "gate_proj", "up_proj", "mlp_act",
	"down_proj", "exp_gate_proj", "exp_up_proj", "exp_act",
	"exp_down_proj", "mlp_allreduce", "mlp_add",
	"final_norm", "lm_head",
};
_Static_assert(sizeof(ar_op_names) / sizeof(*ar_op_names) == AR_OP_COUNT, "op names");

static const enum ar_op_kind op_kinds[AR_OP_COUNT] = {
	AR_KIND_EMBEDDING, AR_KIND_NORM,
	AR_KIND_MATMUL, AR_KIND_MATMUL, AR_KIND_MATMUL, AR_KIND_MATMUL, AR_KIND_MATMUL,
	AR_KIND_MATMUL, AR_KIND_MATMUL, AR_KIND_MATMUL, AR_KIND_MATMUL, AR_KIND_ROPE,
	AR_KIND_MATMUL,
	AR_KIND_ATTENTION, AR_KIND_ATTENTION, AR_KIND_ATTENTION, AR_KIND_ATTENTION,
	AR_KIND_MATMUL, AR_KIND_MATMUL, AR_KIND_MATMUL, AR_KIND_ELEMENTWISE, AR_KIND_MATMUL,
	AR_KIND_ELEMENTWISE, AR_KIND_MATMUL, AR_KIND_COMM, AR_KIND_ELEMENTWISE,
	AR_KIND_NORM, AR_KIND_MATMUL, AR_KIND_MATMUL, AR_KIND_MATMUL, AR_KIND_ELEMENTWISE,
	AR_KIND_MATMUL, AR_KIND_MATMUL, AR_KIND_MATMUL, AR_KIND_ELEMENTWISE,
	AR_KIND_MATMUL, AR_KIND_COMM, AR_KIND_ELEMENTWISE,
	AR_KIND_NORM, AR_KIND_MATMUL,
};
_Static_assert(sizeof(op_kinds) / sizeof(*op_kinds) == AR_OP_COUNT, "op kinds");

const char *const ar_kind_names[AR_KIND_COUNT] = {
	"embedding", "norm", "matmul", "rope", "attention", "elementwise", "comm",
};
const char *const ar_bytes_names[AR_B_COUNT] = {
	"weight", "act_in", "act_out", "kv_read", "kv_write", "reread",
};
const char *const ar_phase_names[AR_PHASE_COUNT] = { "prefill", "decode" };
const char *const ar_attn_impl_names[AR_ATTN_IMPL_COUNT] = { "flash", "naive" };

enum ar_op_kind ar_op_kind(enum ar_op_id id)
{
	return op_kinds[id];
}

/* Cost constants of the vector ops, in FLOPs per element. */
#define NORM_FLOPS_RMS 4.0   /* square, sum, scale, weight */
#define NORM_FLOPS_LAYER 7.0 /* mean, subtract, square, sum, scale, weight, bias */
#define SOFTMAX_FLOPS 5.0    /* max, subtract, exp, sum, divide (as LLM-Viewer) */
#define ROPE_FLOPS 3.0       /* x·cos + rotate(x)·sin */
#define SWIGLU_FLOPS 5.0     /* SiLU (4) and the product with up (as the GTA authors' LLM-Viewer) */
#define GELU_FLOPS 8.0       /* tanh approximation */
#define GATE_FLOPS 5.0       /* sigmoid (4) and the product (as the GTA authors' LLM-Viewer) */

int ar_workload_check(const struct ar_model *m, const struct ar_workload *wl,
		      struct ar_err *err)
{
	const struct ar_attn *a = &m->attn;
	const int *bits[3] = { &wl->wbits, &wl->abits, &wl->kvbits };
	const char *flags[3] = { "--wbits", "--abits", "--kvbits" };
	long tp = wl->tp;

	if (wl->batch < 1 || wl->batch > 1L << 20)
		return ar_errf(err, NULL, 0, 0, "--batch must be between 1 and %ld, not %ld",
			       1L << 20, wl->batch);
	if (wl->seq < 1 || wl->seq > 1L << 24)
		return ar_errf(err, NULL, 0, 0, "--seq must be between 1 and %ld, not %ld",
			       1L << 24, wl->seq);
	if (wl->gen < 0 || wl->gen > 1L << 24 || wl->seq + wl->gen > 1L << 24)
		return ar_errf(err, NULL, 0, 0,
			       "--gen must be between 0 and %ld, and --seq + --gen at most %ld",
			       1L << 24, 1L << 24);
	for (int i = 0; i < 3; i++)
		if (*bits[i] != 4 && *bits[i] != 8 && *bits[i] != 16 && *bits[i] != 32)
			return ar_errf(err, NULL, 0, 0, "%s must be 4, 8, 16 or 32, not %d",
				       flags[i], *bits[i]);
	if (wl->attn < 0 || wl->attn >= AR_ATTN_IMPL_COUNT)
		return ar_errf(err, NULL, 0, 0, "--attn must be flash or naive");
	if (tp < 1 || tp > 4096)
		return ar_errf(err, NULL, 0, 0, "--tp must be between 1 and 4096, not %ld", tp);
	if (tp == 1)
		return 0;
	if (a->n_h % tp)
		return ar_errf(err, NULL, 0, 0, "--tp %ld does not divide the %ld heads", tp, a->n_h);
	if (!a->latent && a->n_q % tp)
		return ar_errf(err, NULL, 0, 0,
			       "--tp %ld does not divide the %ld attention maps (n_q)", tp, a->n_q);
	/* key heads (latent heads) are split, or each device holds whole ones */
	if ((a->n_k >= tp ? a->n_k % tp : tp % a->n_k))
		return ar_errf(err, NULL, 0, 0, "--tp %ld and the %ld %s heads: one must divide the other",
			       tp, a->n_k, a->latent ? "latent" : "key");
	if (!a->latent && (a->n_v >= tp ? a->n_v % tp : tp % a->n_v))
		return ar_errf(err, NULL, 0, 0,
			       "--tp %ld and the %ld value heads: one must divide the other", tp, a->n_v);
	if (m->intermediate % tp)
		return ar_errf(err, NULL, 0, 0, "--tp %ld does not divide the MLP width %ld",
			       tp, m->intermediate);
	if (m->moe.experts && m->moe.intermediate % tp)
		return ar_errf(err, NULL, 0, 0, "--tp %ld does not divide the expert width %ld",
			       tp, m->moe.intermediate);
	return 0;
}

void ar_model_shard(struct ar_model *out, const struct ar_model *m, long tp)
{
	struct ar_attn *a = &out->attn;

	*out = *m;
	if (tp <= 1)
		return;
	a->n_h /= tp;
	out->intermediate /= tp;
	out->moe.intermediate /= tp;
	out->vocab = (m->vocab + tp - 1) / tp;
	/* key and value heads (latent heads) fewer than tp are replicated, as is
	 * the RoPE key that tied and latent archs share across heads */
	a->n_k = a->n_k >= tp ? a->n_k / tp : 1;
	a->n_v = a->n_v >= tp ? a->n_v / tp : 1;
	if (!a->latent)
		a->n_q /= tp;
}

/* ---- parameters ---- */

static double norm_params(const struct ar_model *m, double width)
{
	return m->norm == AR_NORM_LAYER ? 2 * width : width;
}

/* Attention parameters of one layer of an (already sharded) model. */
static double attn_params(const struct ar_model *m)
{
	const struct ar_attn *a = &m->attn;
	double H = (double)m->hidden, p = 0, b = m->attn_bias;

	if (a->latent) {
		double qd = (double)a->n_h * (a->d_nope + a->d_rope), lat = (double)a->n_k * a->d_c;
		p += a->q_rank ? H * a->q_rank + a->q_rank + (double)a->q_rank * qd : H * qd;
		p += H * (lat + a->d_rope) + lat;                    /* kv_a + the latents' norms */
		/* kv_b: each of n_k latent heads d_c → (n_h/n_k)·(d_nope + d_v) */
		p += (double)a->d_c * a->n_h * (a->d_nope + a->d_v);
		p += (double)a->n_h * a->d_v * H + (m->o_bias ? H : 0);
		return p;
	}
	double nq = (double)a->n_q * a->d_k, hd = (double)a->n_h * a->d_h;
	/* the K/V projections (tied: the states and the shared RoPE key) make
	 * exactly what is cached */
	p += (H + b) * (nq + ar_model_kv_elems(m));
	double o_in = a->decoder != AR_DEC_NONE ? hd
		    : (a->av == AR_AV_PER_MAP ? (double)a->n_q * a->d_v : (double)a->n_h * a->d_v);
	if (a->decoder == AR_DEC_LINEAR)
		p += (double)a->n_h * a->d_v * a->d_h;
	if (a->decoder == AR_DEC_GATED)
		p += (double)a->d_v * hd + (H + b) * hd; /* v_b_proj, g_proj */
	p += o_in * H + (m->o_bias ? H : 0);
	return p;
}

static double mlp_params(const struct ar_model *m, double width)
{
	double H = (double)m->hidden, mats = m->mlp == AR_MLP_SWIGLU ? 3 : 2;

	return mats * H * width + (m->mlp_bias ? (mats - 1) * width + H : 0);
}

/* Parameters of an already sharded model (expert counts are never sharded). */
static double params_of(const struct ar_model *m)
{
	double H = (double)m->hidden, L = (double)m->layers, p;
	double moe_layers = m->moe.experts ? (double)(m->layers - m->moe.dense_layers) : 0;

	p = L * (attn_params(m) + 2 * norm_params(m, H));
	p += (L - moe_layers) * mlp_params(m, (double)m->intermediate);
	if (moe_layers)
		p += moe_layers * (H * m->moe.experts +
				   (double)(m->moe.experts + m->moe.shared) *
				   mlp_params(m, (double)m->moe.intermediate));
	p += (double)m->vocab * H * (m->tie_embeddings ? 1 : 2) + norm_params(m, H);
	return p;
}

double ar_model_params_sharded(const struct ar_model *full, long tp)
{
	struct ar_model m;

	ar_model_shard(&m, full, tp);
	return params_of(&m);
}

double ar_model_params(const struct ar_model *m)
{
	return params_of(m);
}

/* ---- building ---- */

struct ctx {
	struct ar_graph *g;
	const struct ar_model *m;    /* sharded */
	double w, a, kv;             /* bytes per element */
	double T;                    /* tokens this phase */
	double B, S;                 /* batch, sequence / KV length */
	double L;                    /* layers */
	int mbits, abits_mm;         /* compute widths: weights×acts, acts×cache */
	double onchip;
};

static inline struct ar_op *push(struct ctx *c, enum ar_op_id id, double layers)
{
	struct ar_graph *g = c->g;
	struct ar_op *op;

	AR_ASSERT(g->n_ops < AR_GRAPH_MAX_OPS);
	op = &g->ops[g->n_ops++];
	/* field by field: a whole-struct clear compiles to a slow string store */
	op->id = id;
	op->layers = layers;
	op->shape = (struct ar_shape){ 0, 0, 0, 1 };
	op->mflops = op->vflops = op->vexp = 0;
	for (int b = 0; b < AR_B_COUNT; b++)
		op->bytes[b] = 0;
	op->link_bytes = 0;
	op->mbits = c->mbits;
	op->vbits = g->wl.abits;
	op->reread_footprint_bytes = op->attn_intensity = 0;
	op->attn_per_map = op->attn_map_flops = 0;
	return op;
}

/* out[rows×n] = in[rows×k]·W[k×n] in `groups` independent products (weights
 * groups·k·n), plus a bias of groups·n when bias: 2·rows·k·n·groups FLOPs. */
static struct ar_op *matmul(struct ctx *c, enum ar_op_id id, double layers, double rows,
			    double k, double n, double groups, int bias)
{
	struct ar_op *op = push(c, id, layers);

	op->shape = (struct ar_shape){ (long)rows, (long)n, (long)k, (long)groups };
	op->mflops = 2 * rows * k * n * groups;
	op->vflops = bias ? rows * n * groups : 0;
	op->bytes[AR_B_WEIGHT] = (groups * k * n + (bias ? groups * n : 0)) * c->w;
	op->bytes[AR_B_ACT_IN] = rows * k * groups * c->a;
	op->bytes[AR_B_ACT_OUT] = rows * n * groups * c->a;
	return op;
}

/* The output of a K/V projection goes to the cache instead of activations:
 * T·n elements of kv bytes, written once per new token. */
static void to_cache(struct ctx *c, struct ar_op *op)
{
	op->bytes[AR_B_KV_WRITE] = op->bytes[AR_B_ACT_OUT] / c->a * c->kv;
	op->bytes[AR_B_ACT_OUT] = 0;
}

/* Elementwise op over rows×width outputs reading `ins` inputs of that size. */
static struct ar_op *eltwise(struct ctx *c, enum ar_op_id id, double layers, double rows,
			     double width, double flops_per_elem, double ins)
{
	struct ar_op *op = push(c, id, layers);

	op->shape = (struct ar_shape){ (long)rows, (long)width, 0, 1 };
	op->vflops = flops_per_elem * rows * width;
	op->bytes[AR_B_ACT_IN] = ins * rows * width * c->a;
	op->bytes[AR_B_ACT_OUT] = rows * width * c->a;
	return op;
}

static void norm(struct ctx *c, enum ar_op_id id, double layers, double rows)
{
	const struct ar_model *m = c->m;
	double f = m->norm == AR_NORM_LAYER ? NORM_FLOPS_LAYER : NORM_FLOPS_RMS;
	struct ar_op *op = eltwise(c, id, layers, rows, (double)m->hidden, f, 1);

	op->bytes[AR_B_WEIGHT] = norm_params(m, (double)m->hidden) * c->w;
}

/* Ring all-reduce of rows×H activations over tp devices: each device sends
 * 2·(tp−1)/tp of the message. */
static void allreduce(struct ctx *c, enum ar_op_id id, double rows)
{
	double tp = (double)c->g->wl.tp;
	struct ar_op *op;

	if (tp <= 1)
		return;
	op = push(c, id, c->L);
	op->shape = (struct ar_shape){ (long)rows, c->m->hidden, 0, 1 };
	op->link_bytes = 2 * (tp - 1) / tp * rows * (double)c->m->hidden * c->a;
}

/* Everything an attention op needs to know. */
struct aspec {
	double Sq, Sk;   /* query positions and key positions per sequence */
	int causal;      /* prefill: query i sees keys 0..i */
	double maps;     /* attention maps per position */
	double kh;       /* key heads; maps/kh maps share one */
	double dk;       /* dim of a key (incl. a part shared by all key heads) */
	double dk_shared;
	double vh, dv;   /* value heads and dim */
	int v_tied;      /* V is K's storage: a latent, or a tied state whose first
			  * dk − dk_shared elements are the key's own part */
	double av;       /* AV products per position: maps (per map) or heads (per head) */
	int cached;      /* K/V come from the cache (else from activations) */
};

static void naive_attention(struct ctx *c, const struct aspec *s)
{
	double B = c->B, kvb = s->cached ? c->kv : c->a;
	int kcls = s->cached ? AR_B_KV_READ : AR_B_ACT_IN;
	double scores = B * s->maps * s->Sq * s->Sk;
	double kelems = s->kh * (s->dk - s->dk_shared) + s->dk_shared;
	struct ar_op *op;

	/* QKᵀ: 2·B·maps·Sq·Sk·d_k FLOPs; reads Q and each key head once; writes the scores */
	op = push(c, AR_OP_QK, c->L);
	op->mbits = c->abits_mm;
	op->shape = (struct ar_shape){ (long)s->Sq, (long)s->Sk, (long)s->dk, (long)B };
	op->mflops = 2 * scores * s->dk;
	op->bytes[AR_B_ACT_IN] = B * s->Sq * s->maps * s->dk * c->a;
	op->bytes[kcls] += B * s->Sk * kelems * kvb;
	op->bytes[AR_B_ACT_OUT] = scores * c->a;

	/* softmax over the materialised scores: read and written once */
	op = push(c, AR_OP_SOFTMAX, c->L);
	op->shape = (struct ar_shape){ (long)(s->Sq * s->maps), (long)s->Sk, 0, (long)B };
	op->vflops = SOFTMAX_FLOPS * scores;
	op->vexp = scores;
	op->bytes[AR_B_ACT_IN] = op->bytes[AR_B_ACT_OUT] = scores * c->a;

	/* A·V: 2·B·av·Sq·Sk·d_v FLOPs; reads the scores and each value head once */
	op = push(c, AR_OP_AV, c->L);
	op->mbits = c->abits_mm;
	op->shape = (struct ar_shape){ (long)s->Sq, (long)s->dv, (long)s->Sk, (long)B };
	op->mflops = 2 * B * s->av * s->Sq * s->Sk * s->dv;
	op->bytes[AR_B_ACT_IN] = scores * c->a;
	op->bytes[kcls] += B * s->Sk * s->vh * s->dv * kvb;
	op->bytes[AR_B_ACT_OUT] = B * s->Sq * s->av * s->dv * c->a;
}

/* Elements a key head's tile holds per key position: its key and the values
 * of the vpk = max(1, vh/kh) value heads it serves, d_k + vpk·d_v; where V is
 * K's storage, the key's own part widened to d_v, plus the shared part:
 * max(d_k − d_shared, d_v) + d_shared. */
static double tile_elems(const struct aspec *s)
{
	if (s->v_tied)
		return fmax(s->dk - s->dk_shared, s->dv) + s->dk_shared;
	return s->dk + fmax(1, s->vh / s->kh) * s->dv;
}

/* Elements of K and V per key position as the decode kernel's two passes
 * walk them: the keys (every key head's own part, the shared part once) in
 * the score pass, the values in the value pass; where V is K's storage, that
 * storage is walked in both.  Each row walked has a cost of its own beside
 * the FLOPs (the decode attention rate's intensity term). */
static double kv_elems_walked(const struct aspec *s)
{
	return s->kh * (s->dk - s->dk_shared) + s->dk_shared + s->vh * s->dv;
}

/* Elements of K and V per key position, each read once: as walked, but
 * where V is K's storage a head's own part is the wider of its key part and
 * its value, read once. */
static double kv_elems_once(const struct aspec *s)
{
	if (s->v_tied)
		return s->kh * fmax(s->dk - s->dk_shared, s->dv) + s->dk_shared;
	return kv_elems_walked(s);
}

/* Flash tiles from the on-chip memory M of one compute unit: half holds the
 * K/V tile of one key head (Bc keys): Bc = ⌊(M/2) / (tile_elems·kv)⌋; half
 * the Q tile and the fp32 output accumulator of each row's av/maps value
 * products (Br rows): Br = ⌊(M/2) / (d_k·a + (av/maps)·d_v·4)⌋.  Both at
 * least 16. */
static void tiles(struct ctx *c, const struct aspec *s, double *Br, double *Bc)
{
	double half = c->onchip / 2, kvb = s->cached ? c->kv : c->a;
	double r = floor(half / (s->dk * c->a + s->av / s->maps * s->dv * 4));
	double k = floor(half / (tile_elems(s) * kvb));

	*Br = r < 16 ? 16 : r;
	*Bc = k < 16 ? 16 : k;
	if (*Bc > s->Sk)
		*Bc = s->Sk;
}

/* Σ_{i=0}^{n−1} floor((a·i + b) / m) for n, m >= 1 and a, b >= 0, in
 * O(log m) steps (Euclid-like reduction). */
static double floor_sum(long long n, long long m, long long a, long long b)
{
	double ans = 0;

	for (;;) {
		if (a >= m) {
			ans += (double)(n - 1) * (double)n / 2 * (double)(a / m);
			a %= m;
		}
		if (b >= m) {
			ans += (double)n * (double)(b / m);
			b %= m;
		}
		long long y = a * n + b;
		if (y < m)
			return ans;
		n = y / m;
		b = y % m;
		long long t = m;
		m = a;
		a = t;
	}
}

void ar_flash_causal_tiles(long Sq, long Sk, long P, long bc, double *pos_keys,
			   double *keys_loaded)
{
	/* Row block i covers positions [iP, e_i), e_i = min((i+1)P, Sq), and loads
	 * K_i = min(Sk, bc·ceil((off + e_i)/bc)) keys, off = Sk − Sq.  The blocks
	 * before the last load bc·ceil(...) keys until that reaches Sk. */
	long long R = (Sq + P - 1) / P, off = Sk - Sq, nkb = (Sk + bc - 1) / bc;
	long long last_rows = Sq - (R - 1) * P;
	long long klast = (off + Sq + bc - 1) / bc * bc;
	/* blocks i < R−1 with K_i < Sk: off + (i+1)P <= (nkb−1)·bc */
	long long n1 = ((nkb - 1) * bc - off) / P;
	double sum_full;

	if (klast > Sk)
		klast = Sk;
	if (n1 < 0)
		n1 = 0;
	if (n1 > R - 1)
		n1 = R - 1;
	sum_full = n1 > 0 ? (double)bc * floor_sum(n1, bc, P, off + P + bc - 1) : 0;
	sum_full += (double)(R - 1 - n1) * (double)Sk;
	*keys_loaded = sum_full + (double)klast;
	*pos_keys = (double)P * sum_full + (double)last_rows * (double)klast;
}

void ar_flash_causal_tiles_ref(long Sq, long Sk, long P, long bc, double *pos_keys,
			       double *keys_loaded)
{
	*pos_keys = *keys_loaded = 0;
	for (long start = 0; start < Sq; start += P) {
		long end = start + P < Sq ? start + P : Sq;
		long keys = (Sk - Sq + end + bc - 1) / bc * bc;
		if (keys > Sk)
			keys = Sk;
		*pos_keys += (double)(end - start) * (double)keys;
		*keys_loaded += (double)keys;
	}
}

static void flash_attention(struct ctx *c, const struct aspec *s)
{
	double B = c->B, Br, Bc, kvb = s->cached ? c->kv : c->a;
	int kcls = s->cached ? AR_B_KV_READ : AR_B_ACT_IN;
	double g = s->maps / s->kh; /* maps sharing one key head: their rows share K/V tiles */
	double pairs = 0, keys_loaded = 0;
	struct ar_op *op;

	tiles(c, s, &Br, &Bc);
	c->g->tile_rows = (long)Br;
	c->g->tile_cols = (long)Bc;
	if (!s->causal) {
		/* every row block sees all Sk keys */
		double rblocks = ceil(g * s->Sq / Br);
		pairs = g * s->Sq * s->Sk;
		keys_loaded = rblocks * s->Sk;
	} else {
		/* row blocks of P positions × g maps; block i sees the key tiles up to
		 * its last position (the diagonal tile is loaded and computed whole).
		 * Integer arithmetic: this loop runs once per row block. */
		long P = (long)(Br / g) < 1 ? 1 : (long)(Br / g);
		ar_flash_causal_tiles((long)s->Sq, (long)s->Sk, P, (long)Bc, &pairs, &keys_loaded);
		pairs *= g;
	}
	double per_map_av = s->av / s->maps; /* value products per score */
	op = push(c, AR_OP_FLASH, c->L);
	op->mbits = c->abits_mm;
	op->shape = (struct ar_shape){ (long)s->Sq, (long)s->Sk, (long)s->dk, (long)B };
	/* QKᵀ and A·V over the computed tiles; softmax on every computed score */
	op->mflops = 2 * B * s->kh * pairs * (s->dk + per_map_av * s->dv);
	op->vflops = SOFTMAX_FLOPS * B * s->kh * pairs;
	op->vexp = B * s->kh * pairs;
	op->attn_per_map = per_map_av;
	op->attn_map_flops = 2 * B * s->kh * pairs * (s->dk + s->dv) + op->vflops;
	op->bytes[AR_B_ACT_IN] = B * s->Sq * s->maps * s->dk * c->a;
	op->bytes[AR_B_ACT_OUT] = B * s->Sq * s->av * s->dv * c->a;
	/* first touch of K and V; the rest of the tile loads are re-reads */
	double first = B * s->Sk * kv_elems_once(s) * kvb;
	double loaded = B * s->kh * keys_loaded * tile_elems(s) * kvb;
	op->reread_footprint_bytes = first;
	op->attn_intensity = (op->mflops + op->vflops) / (B * s->Sk * kv_elems_walked(s));
	op->bytes[kcls] += first;
	op->bytes[AR_B_REREAD] = loaded > first ? loaded - first : 0;
}

static void attention(struct ctx *c, const struct aspec *s)
{
	if (c->g->wl.attn == AR_ATTN_NAIVE)
		naive_attention(c, s);
	else
		flash_attention(c, s);
}

static void rope(struct ctx *c, double q_elems, double k_elems)
{
	/* rotate q and k in place (k before its cache write, fused into the
	 * projection's epilogue); the cos/sin tables are small and stay on chip */
	eltwise(c, AR_OP_ROPE, c->L, c->T, q_elems + k_elems, ROPE_FLOPS, 1);
}

static void attn_standard(struct ctx *c)
{
	const struct ar_model *m = c->m;
	const struct ar_attn *at = &m->attn;
	double H = (double)m->hidden, T = c->T, L = c->L;
	double hd = (double)at->n_h * at->d_h;
	int b = m->attn_bias;

	matmul(c, AR_OP_Q_PROJ, L, T, H, (double)at->n_q * at->d_k, 1, b);
	if (at->tied) {
		/* the n_k tied states (d_v) and the one RoPE key (d_rope) go to the
		 * cache; only the last d_rope of each query and the RoPE key rotate */
		to_cache(c, matmul(c, AR_OP_KV_PROJ, L, T, H, (double)at->n_k * at->d_v, 1, b));
		to_cache(c, matmul(c, AR_OP_K_ROPE_PROJ, L, T, H, (double)at->d_rope, 1, b));
		rope(c, (double)at->n_q * at->d_rope, (double)at->d_rope);
	} else {
		to_cache(c, matmul(c, AR_OP_K_PROJ, L, T, H, (double)at->n_k * at->d_k, 1, b));
		to_cache(c, matmul(c, AR_OP_V_PROJ, L, T, H, (double)at->n_v * at->d_v, 1, b));
		rope(c, (double)at->n_q * at->d_k, (double)at->n_k * at->d_k);
	}

	/* tied: each key is [state[0, d_k − d_rope) | the shared RoPE key], its
	 * value the whole state */
	struct aspec s = {
		.Sq = c->g->phase == AR_PHASE_PREFILL ? c->S : 1, .Sk = c->S,
		.causal = c->g->phase == AR_PHASE_PREFILL,
		.maps = (double)at->n_q, .kh = (double)at->n_k, .dk = (double)at->d_k,
		.dk_shared = at->tied ? (double)at->d_rope : 0,
		.vh = (double)at->n_v, .dv = (double)at->d_v, .v_tied = at->tied,
		.av = at->av == AR_AV_PER_MAP ? (double)at->n_q : (double)at->n_h,
		.cached = 1,
	};
	attention(c, &s);

	double o_in = s.av * s.dv;
	if (at->decoder == AR_DEC_LINEAR) {
		/* W_P: one d_v×d_h matrix per head */
		matmul(c, AR_OP_W_P, L, T, (double)at->d_v, (double)at->d_h, (double)at->n_h, 0);
		o_in = hd;
	} else if (at->decoder == AR_DEC_GATED) {
		/* GTA: delta = o_g·V_b[g] per group (d_l → n_h·d_h/n_q), out = tile(o) + delta,
		 * y = sigmoid(g_proj(x)) ⊙ out */
		matmul(c, AR_OP_V_B_PROJ, L, T, (double)at->d_v, hd / at->n_q, (double)at->n_q, 0);
		struct ar_op *op = eltwise(c, AR_OP_DIRECT_ADD, L, T, hd, 1, 1);
		op->bytes[AR_B_ACT_IN] += T * o_in * c->a; /* the latent output, tiled */
		matmul(c, AR_OP_G_PROJ, L, T, H, hd, 1, b);
		op = eltwise(c, AR_OP_GATE, L, T, hd, GATE_FLOPS, 2);
		op->vexp = T * hd; /* one exponential per sigmoid */
		o_in = hd;
	}
	matmul(c, AR_OP_O_PROJ, L, T, o_in, H, 1, m->o_bias);
}

static void attn_latent(struct ctx *c)
{
	const struct ar_model *m = c->m;
	const struct ar_attn *at = &m->attn;
	double H = (double)m->hidden, T = c->T, L = c->L, nh = (double)at->n_h;
	double dq = (double)(at->d_nope + at->d_rope), dc = (double)at->d_c;
	double nc = (double)at->n_k; /* latent heads, each serving nh/nc query heads */
	int decode = c->g->phase == AR_PHASE_DECODE;

	if (at->q_rank) {
		matmul(c, AR_OP_Q_A_PROJ, L, T, H, (double)at->q_rank, 1, 0);
		matmul(c, AR_OP_Q_B_PROJ, L, T, (double)at->q_rank, nh * dq, 1, 0);
	} else {
		matmul(c, AR_OP_Q_PROJ, L, T, H, nh * dq, 1, 0);
	}
	/* the latents c (n_c·d_c) and the shared RoPE key (d_rope) go to the cache */
	to_cache(c, matmul(c, AR_OP_KV_A_PROJ, L, T, H, nc * dc + at->d_rope, 1, 0));
	rope(c, nh * at->d_rope, (double)at->d_rope);

	if (decode && at->absorb) {
		/* q_nope·W_UK per head, attention of each head over its group's
		 * latent (key [c_j | k_rope], value c_j), then ·W_UV per head */
		matmul(c, AR_OP_Q_ABSORB, L, T, (double)at->d_nope, dc, nh, 0);
		struct aspec s = {
			.Sq = 1, .Sk = c->S, .maps = nh, .kh = nc, .dk = dc + at->d_rope,
			.dk_shared = (double)at->d_rope, .vh = nc, .dv = dc, .v_tied = 1, .av = nh,
			.cached = 1,
		};
		attention(c, &s);
		matmul(c, AR_OP_OUT_ABSORB, L, T, dc, (double)at->d_v, nh, 0);
	} else {
		/* decompress K_nope and V: the new tokens (prefill) or, without
		 * absorption, the whole cache at every decode step; latent head j
		 * gives its group's heads, d_c → (n_h/n_c)·(d_nope + d_v) */
		double rows = decode ? c->B * c->S : T;
		struct ar_op *op = matmul(c, AR_OP_KV_B_PROJ, L, rows, dc,
					  nh / nc * (at->d_nope + at->d_v), nc, 0);
		if (decode) {
			op->bytes[AR_B_KV_READ] = op->bytes[AR_B_ACT_IN] / c->a * c->kv;
			op->bytes[AR_B_ACT_IN] = 0;
		}
		struct aspec s = {
			.Sq = decode ? 1 : c->S, .Sk = c->S, .causal = !decode,
			.maps = nh, .kh = nh, .dk = dq, .dk_shared = (double)at->d_rope,
			.vh = nh, .dv = (double)at->d_v, .av = nh, .cached = 0,
		};
		attention(c, &s);
	}
	matmul(c, AR_OP_O_PROJ, L, T, nh * at->d_v, H, 1, m->o_bias);
}

static void mlp_dense(struct ctx *c, double layers, double width, enum ar_op_id gate,
		      enum ar_op_id up, enum ar_op_id act, enum ar_op_id down, double rows,
		      double experts_touched)
{
	const struct ar_model *m = c->m;
	double H = (double)m->hidden;
	int b = m->mlp_bias;
	struct ar_op *ops[3];
	int n = 0;

	if (m->mlp == AR_MLP_SWIGLU)
		ops[n++] = matmul(c, gate, layers, rows, H, width, 1, b);
	ops[n++] = matmul(c, up, layers, rows, H, width, 1, b);
	struct ar_op *a = m->mlp == AR_MLP_SWIGLU ? eltwise(c, act, layers, rows, width, SWIGLU_FLOPS, 2)
						 : eltwise(c, act, layers, rows, width, GELU_FLOPS, 1);
	a->vexp = rows * width; /* SiLU's sigmoid, GELU's tanh: one exponential each */
	ops[n++] = matmul(c, down, layers, rows, width, H, 1, b);
	/* experts: every touched expert's weights are read once */
	for (int i = 0; i < n; i++)
		ops[i]->bytes[AR_B_WEIGHT] *= experts_touched;
}

static void mlp(struct ctx *c)
{
	const struct ar_model *m = c->m;
	const struct ar_moe *e = &m->moe;
	double T = c->T, dense = e->experts ? (double)e->dense_layers : c->L;

	if (dense > 0)
		mlp_dense(c, dense, (double)m->intermediate, AR_OP_GATE_PROJ, AR_OP_UP_PROJ,
			  AR_OP_MLP_ACT, AR_OP_DOWN_PROJ, T, 1);
	if (!e->experts)
		return;
	double moe_layers = c->L - dense, E = (double)e->experts, k = (double)e->active;
	matmul(c, AR_OP_ROUTER, moe_layers, T, (double)m->hidden, E, 1, 0);
	/* T tokens each go to k of E routed experts plus the shared ones; the
	 * expected number of distinct routed experts touched is E·(1 − (1 − k/E)^T) */
	double touched = E * (1 - pow(1 - k / E, T)) + (double)e->shared;
	mlp_dense(c, moe_layers, (double)e->intermediate, AR_OP_EXP_GATE_PROJ,
		  AR_OP_EXP_UP_PROJ, AR_OP_EXP_ACT, AR_OP_EXP_DOWN_PROJ,
		  T * (k + (double)e->shared), touched);
}

void ar_graph_build(struct ar_graph *g, const struct ar_model *full,
		    const struct ar_workload *wl, double onchip_bytes,
		    enum ar_phase phase)
{
	struct ar_model shard;
	struct ctx c;
	double H;

	/* a copy of the model only when it is sharded */
	if (wl->tp > 1)
		ar_model_shard(&shard, full, wl->tp);
	const struct ar_model *m = wl->tp > 1 ? &shard : full;
	g->n_ops = 0; /* ops are cleared as they are pushed */
	g->weight_bytes = g->weight_read_bytes = g->kv_cache_bytes = g->kv_layer_bytes = 0;
	g->act_peak_bytes = 0;
	g->tile_rows = g->tile_cols = 0;
	g->phase = phase;
	g->wl = *wl;
	c.g = g;
	c.m = m;
	c.w = wl->wbits / 8.0;
	c.a = wl->abits / 8.0;
	c.kv = wl->kvbits / 8.0;
	c.B = (double)wl->batch;
	c.S = (double)wl->seq;
	c.T = phase == AR_PHASE_PREFILL ? c.B * c.S : c.B;
	c.L = (double)m->layers;
	c.mbits = wl->wbits > wl->abits ? wl->wbits : wl->abits;
	c.abits_mm = wl->abits > wl->kvbits ? wl->abits : wl->kvbits;
	c.onchip = onchip_bytes;
	H = (double)m->hidden;

	/* head: gather T rows of the embedding table */
	struct ar_op *op = push(&c, AR_OP_EMBED, 1);
	op->shape = (struct ar_shape){ (long)c.T, m->hidden, 0, 1 };
	op->bytes[AR_B_WEIGHT] = fmin(c.T, (double)m->vocab) * H * c.w;
	op->bytes[AR_B_ACT_OUT] = c.T * H * c.a;

	norm(&c, AR_OP_ATTN_NORM, c.L, c.T);
	if (m->attn.latent)
		attn_latent(&c);
	else
		attn_standard(&c);
	allreduce(&c, AR_OP_ATTN_ALLREDUCE, c.T);
	eltwise(&c, AR_OP_ATTN_ADD, c.L, c.T, H, 1, 2);
	norm(&c, AR_OP_MLP_NORM, c.L, c.T);
	mlp(&c);
	allreduce(&c, AR_OP_MLP_ALLREDUCE, c.T);
	eltwise(&c, AR_OP_MLP_ADD, c.L, c.T, H, 1, 2);

	/* tail: logits for the last position of each sequence only */
	norm(&c, AR_OP_FINAL_NORM, 1, c.B);
	matmul(&c, AR_OP_LM_HEAD, 1, c.B, H, (double)m->vocab, 1, 0);

	g->weight_bytes = params_of(m) * c.w;
	/* a table lm_head does not read again is touched only at the rows gathered */
	g->weight_read_bytes = g->weight_bytes -
			       (m->tie_embeddings ? 0 : (double)m->vocab * H * c.w - g->ops[0].bytes[AR_B_WEIGHT]);
	g->kv_layer_bytes = c.B * c.S * ar_model_kv_elems(m) * c.kv;
	g->kv_cache_bytes = g->kv_layer_bytes * c.L;
	for (int i = 0; i < g->n_ops; i++) {
		const double *b = g->ops[i].bytes;
		double live = b[AR_B_ACT_IN] + b[AR_B_ACT_OUT] + c.T * H * c.a;
		if (live > g->act_peak_bytes)
			g->act_peak_bytes = live;
	}
}

double ar_op_bytes(const struct ar_op *op)
{
	double s = 0;

	for (int i = 0; i < AR_B_COUNT; i++)
		s += op->bytes[i];
	return s;
}

double ar_graph_flops(const struct ar_graph *g)
{
	double s = 0;

	for (int i = 0; i < g->n_ops; i++)
		s += (g->ops[i].mflops + g->ops[i].vflops) * g->ops[i].layers;
	return s;
}

double ar_graph_bytes(const struct ar_graph *g)
{
	double s = 0;

	for (int i = 0; i < g->n_ops; i++)
		s += ar_op_bytes(&g->ops[i]) * g->ops[i].layers;
	return s;
}
