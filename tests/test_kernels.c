/* Kernels: every optimised kernel against its plain reference on small
 * shapes (relative error, max |diff| / max |ref|, at most 1e-5), flash
 * against naive attention, and GQA with shared heads against MHA with the
 * heads copied out. */
#include "testutil.h"

#include <stdlib.h>

#include "kernels.h"

static void rnd(float *p, long n, unsigned seed)
{
	unsigned s = seed * 2654435761u + 1;
	for (long i = 0; i < n; i++) {
		s = s * 1664525u + 1013904223u;
		p[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
	}
}

static double rel_err(const float *got, const float *want, long n)
{
	double d = 0, m = 0;
	for (long i = 0; i < n; i++) {
		double e = fabs((double)got[i] - want[i]);
		d = e > d ? e : d;
		m = fabs(want[i]) > m ? fabs(want[i]) : m;
	}
	return m > 0 ? d / m : d;
}

#define assert_rel(got, want, n) assert_true(rel_err(got, want, n) <= 1e-5)

/* one product (M, K) x (K, N), W stored (N, K) when trans, against the
 * plain kernel; seeded inputs */
static void product_matches_ref(long M, long K, long N, int trans, unsigned seed)
{
	float *in = malloc(sizeof(float) * M * K), *w = malloc(sizeof(float) * K * N);
	float *a = malloc(sizeof(float) * M * N), *b = malloc(sizeof(float) * M * N);
	long ldw = trans ? K : N;

	rnd(in, M * K, seed);
	rnd(w, K * N, seed + 1);
	ar_kernels_matmul(a, N, 0, in, K, 0, w, ldw, 0, trans, NULL, M, K, N, 1);
	ar_kernels_matmul_ref(b, N, 0, in, K, 0, w, ldw, 0, trans, NULL, M, K, N, 1, NULL);
	assert_rel(a, b, M * N);
	free(in); free(w); free(a); free(b);
}

static void test_kernels__matmul_matches_ref(void **state)
{
	(void)state;
	for (int trans = 0; trans < 2; trans++) {
		long M = 37, K = 53, N = 70, G = 3;
		float *in = malloc(sizeof(float) * G * M * K), *w = malloc(sizeof(float) * G * K * N);
		float *bias = malloc(sizeof(float) * N);
		float *a = calloc((size_t)(G * M * N), sizeof(float)), *b = calloc((size_t)(G * M * N), sizeof(float));
		struct ar_kcount c = { 0 };
		rnd(in, G * M * K, 1);
		rnd(w, G * K * N, 2);
		rnd(bias, N, 3);
		long ldw = trans ? K : N;
		ar_kernels_matmul(a, N, M * N, in, K, M * K, w, ldw, K * N, trans, bias, M, K, N, G);
		ar_kernels_matmul_ref(b, N, M * N, in, K, M * K, w, ldw, K * N, trans, bias, M, K, N, G, &c);
		assert_rel(a, b, G * M * N);
		assert_close(c.mflops, 2.0 * G * M * K * N, 0, 0);
		assert_close(c.vflops, (double)G * M * N, 0, 0);
		/* one row (decode shape): split over columns */
		ar_kernels_matmul(a, N, 0, in, K, 0, w, ldw, 0, trans, NULL, 1, K, N, 1);
		ar_kernels_matmul_ref(b, N, 0, in, K, 0, w, ldw, 0, trans, NULL, 1, K, N, 1, NULL);
		assert_rel(a, b, N);
		/* a few rows (decode at batch > 1): the small-M path, in blocks of
		 * 8 rows and 32 weight rows from 9 rows on (N = 70: two whole
		 * blocks and a part), BLAS past 16 */
		for (long rows = 2; rows <= 17; rows++) {
			ar_kernels_matmul(a, N, 0, in, K, 0, w, ldw, 0, trans, bias, rows, K, N, 1);
			ar_kernels_matmul_ref(b, N, 0, in, K, 0, w, ldw, 0, trans, bias, rows, K, N, 1,
					      NULL);
			assert_rel(a, b, rows * N);
		}
		/* a few rows of each of G groups (per-head decode products): one
		 * and three rows, on 1, 2 and 4 threads (items of blocks of
		 * columns within groups) */
		int old_threads = ar_kernels_threads();
		for (int nt = 1; nt <= 4; nt *= 2) {
			ar_kernels_set_threads(nt);
			for (long rows = 1; rows <= 13; rows += rows < 3 ? 2 : 10) {
				ar_kernels_matmul(a, N, rows * N, in, K, rows * K, w, ldw, K * N, trans, bias,
						  rows, K, N, G);
				ar_kernels_matmul_ref(b, N, rows * N, in, K, rows * K, w, ldw, K * N, trans,
						      bias, rows, K, N, G, NULL);
				assert_rel(a, b, G * rows * N);
			}
		}
		/* one matrix over 2 and 4 threads: M = 37 rows of K = 53 split
		 * by rows (each thread >= 16 of them at 2 threads), by columns at
		 * 4 threads (too few rows) */
		for (int nt = 2; nt <= 4; nt *= 2) {
			ar_kernels_set_threads(nt);
			ar_kernels_matmul(a, N, 0, in, K, 0, w, ldw, 0, trans, bias, M, K, N, 1);
			ar_kernels_matmul_ref(b, N, 0, in, K, 0, w, ldw, 0, trans, bias, M, K, N, 1, NULL);
			assert_rel(a, b, M * N);
		}
		ar_kernels_set_threads(old_threads);
		free(in); free(w); free(bias); free(a); free(b);
		/* a few rows over long dot products: K cut into spans (2 x 4100
		 * and 5 x 1700 floats exceed the 8192 kept in L1), the spans'
		 * dot products added up */
		product_matches_ref(2, 4100, 40, trans, 12);
		product_matches_ref(5, 1700, 40, trans, 14);
		/* and from 9 rows on (weights stored (N, K)): each block of 32
		 * weight rows span by span, both halves of the rows (8 + 5)
		 * against a span while it is in cache; 8 x 1100 floats make
		 * two spans, of 560 and 540 (a tail of 4 past the vectors) */
		product_matches_ref(13, 1100, 40, trans, 16);
		/* long dot products (K >= 512) split by columns at any row count */
		product_matches_ref(40, 520, 72, trans, 10);
		/* the small-M path over several column strips and a K remainder */
		product_matches_ref(trans ? 13 : 5, 301, 600, trans, 8);
	}
}

/* SwiGLU, GELU and the sigmoid gate against their plain kernels */
static void exp_kernels_match_ref(float *a, float *b, const float *x, const float *y, long n)
{
	ar_kernels_swiglu(a, x, y, n);
	ar_kernels_swiglu_ref(b, x, y, n, NULL);
	assert_rel(a, b, n);
	ar_kernels_gelu(a, x, n);
	ar_kernels_gelu_ref(b, x, n, NULL);
	assert_rel(a, b, n);
	ar_kernels_gate(a, x, y, n);
	ar_kernels_gate_ref(b, x, y, n, NULL);
	assert_rel(a, b, n);
}

/* GELU (tanh form) and LayerNorm at values worked out by hand:
 * gelu(±1) = ±0.5·(1 + tanh(√(2/π)·(1 + 0.044715))) → 0.841192, −0.158808;
 * layernorm([1, 2, 3]) = (x − 2) / √(2/3 + 1e-5) = ∓1.224736, 0 */
static void test_kernels__gelu_and_layernorm_by_hand(void **state)
{
	const float x[3] = { 1, 2, 3 }, w[3] = { 1, 1, 1 }, b[3] = { 0, 0, 0 }, g[2] = { 1, -1 };
	float y[3];

	(void)state;
	ar_kernels_gelu(y, g, 2);
	assert_close(y[0], 0.841192, 1e-5, 0);
	assert_close(y[1], -0.158808, 1e-5, 0);
	ar_kernels_layernorm(y, x, w, b, 1, 3, 1e-5f);
	assert_close(y[0], -1.224736, 1e-5, 0);
	assert_close(y[1], 0, 0, 1e-6);
	assert_close(y[2], 1.224736, 1e-5, 0);
}

static void test_kernels__elementwise_match_ref(void **state)
{
	enum { T = 9, C = 300, N = T * C };
	static float x[N], y[N], w[C], bb[C], a[N], b[N];
	struct ar_kcount c = { 0 };
	(void)state;
	rnd(x, N, 4);
	rnd(y, N, 5);
	rnd(w, C, 6);
	rnd(bb, C, 7);
	ar_kernels_rmsnorm(a, x, w, T, C, 1e-5f);
	ar_kernels_rmsnorm_ref(b, x, w, T, C, 1e-5f, &c);
	assert_rel(a, b, N);
	assert_close(c.vflops, 4.0 * N, 0, 0);
	ar_kernels_layernorm(a, x, w, bb, T, C, 1e-5f);
	ar_kernels_layernorm_ref(b, x, w, bb, T, C, 1e-5f, NULL);
	assert_rel(a, b, N);
	exp_kernels_match_ref(a, b, x, y, N);
	ar_kernels_add(a, x, y, N);
	ar_kernels_add_ref(b, x, y, N, NULL);
	assert_rel(a, b, N);
	/* the exp-based kernels over ±120, past where their exponentials are
	 * clamped (±88): saturated, never Inf or NaN */
	for (long i = 0; i < N; i++)
		x[i] *= 120;
	exp_kernels_match_ref(a, b, x, y, N);
	rnd(x, N, 4);
	/* fewer rows than threads: the norms and the embedding split every row
	 * into column blocks (1 and 3 rows on 4 threads; C 300 is no multiple
	 * of the 16-float blocks) */
	int old_threads = ar_kernels_threads();
	ar_kernels_set_threads(4);
	for (long t = 1; t <= 3; t += 2) {
		ar_kernels_rmsnorm(a, x, w, t, C, 1e-5f);
		ar_kernels_rmsnorm_ref(b, x, w, t, C, 1e-5f, NULL);
		assert_rel(a, b, t * C);
		ar_kernels_layernorm(a, x, w, bb, t, C, 1e-5f);
		ar_kernels_layernorm_ref(b, x, w, bb, t, C, 1e-5f, NULL);
		assert_rel(a, b, t * C);
		int tok[3] = { 2, 0, 5 };
		ar_kernels_embed(a, x, C, tok, t, C);
		for (long r = 0; r < t; r++)
			assert_memory_equal(a + r * C, x + tok[r] * C, sizeof(float) * C);
		ar_kernels_swiglu(a, x, y, t * C);
		ar_kernels_swiglu_ref(b, x, y, t * C, NULL);
		assert_rel(a, b, t * C);
	}
	ar_kernels_set_threads(old_threads);
	/* tiling: 3 groups of width 100 from a latent of 25 */
	memcpy(a, y, sizeof(a));
	memcpy(b, y, sizeof(b));
	ar_kernels_tile_add(a, x, T, 3, 100, 25);
	ar_kernels_tile_add_ref(b, x, T, 3, 100, 25, NULL);
	assert_rel(a, b, N);
	assert_close(b[100 + 30], y[100 + 30] + x[25 + 5], 1e-6, 0);
	/* rotate-half RoPE on 3 heads of 16 at positions 5.. */
	static float cs[64 * 8], sn[64 * 8];
	ar_kernels_rope_table(cs, sn, 64, 16, 10000.0);
	memcpy(a, x, sizeof(a));
	memcpy(b, x, sizeof(b));
	struct ar_rope_part pa[2] = { { a, 4 * 60, 60, 3, 16, 4 }, { a + 1200, 4 * 60, 60, 1, 0, 40 } };
	struct ar_rope_part pb[2] = { { b, 4 * 60, 60, 3, 16, 4 }, { b + 1200, 4 * 60, 60, 1, 0, 40 } };
	ar_kernels_rope(pa, 2, 2, 4, 16, cs, sn, 5);
	ar_kernels_rope_ref(pb, 2, 2, 4, 16, cs, sn, 5, NULL);
	assert_rel(a, b, N);
	assert_true(a[1200 + 40] != x[1200 + 40]); /* the second part was rotated */
	ar_kernels_exp(a, x, N);
	for (long i = 0; i < N; i++)
		b[i] = expf(x[i] * 1.0f);
	assert_rel(a, b, N);
	/* causal softmax: row i of 4 queries over 6 keys sees 3 + i keys */
	memcpy(a, x, sizeof(float) * 48);
	memcpy(b, x, sizeof(float) * 48);
	ar_kernels_softmax(a, 8, 4, 6, 1);
	ar_kernels_softmax_ref(b, 8, 4, 6, 1, NULL);
	assert_rel(a, b, 48);
	assert_true(a[3] == 0 && a[6 + 3] > 0 && a[6 + 4] == 0);
}

/* A problem with every key and value in one buffer: K (B, Sk, kh, dk),
 * V (B, Sk, vh, dv). */
struct prob {
	struct ar_attn_args a;
	float *q, *k, *v, *out;
};

/* 1: problems lay K and V out head-major, (B, heads, Sk, d), as the
 * executor's cache; 0: the rows of every head side by side, (B, Sk, heads·d) */
static int head_major;

static void prob_init(struct prob *p, long B, long Sq, long Sk, long maps, long kh, long heads,
		      long vh, long dk, long dv, int causal, unsigned seed)
{
	struct ar_attn_args *a = &p->a;
	memset(a, 0, sizeof(*a));
	a->B = B; a->Sq = Sq; a->Sk = Sk; a->maps = maps; a->kh = kh; a->heads = heads;
	a->vh = vh; a->dk1 = dk; a->dv = dv; a->causal = causal;
	a->scale = 1.0f / sqrtf((float)dk);
	p->q = malloc(sizeof(float) * B * Sq * maps * dk);
	p->k = malloc(sizeof(float) * B * Sk * kh * dk);
	p->v = malloc(sizeof(float) * B * Sk * vh * dv);
	p->out = calloc((size_t)(B * Sq * heads * dv), sizeof(float));
	rnd(p->q, B * Sq * maps * dk, seed);
	rnd(p->k, B * Sk * kh * dk, seed + 1);
	rnd(p->v, B * Sk * vh * dv, seed + 2);
	a->q = p->q;
	a->k1 = p->k; a->k1_bs = Sk * kh * dk; a->k1_ps = kh * dk; a->k1_hs = dk;
	a->v = p->v; a->v_bs = Sk * vh * dv; a->v_ps = vh * dv; a->v_hs = dv;
	a->out = p->out;
	if (head_major) {
		a->k1_ps = dk; a->k1_hs = Sk * dk;
		a->v_ps = dv; a->v_hs = Sk * dv;
	}
}

static void prob_free(struct prob *p)
{
	free(p->q); free(p->k); free(p->v); free(p->out);
}

/* naive reference output of p into out */
static void naive_ref(const struct prob *p, float *out)
{
	struct ar_attn_args a = p->a;
	float *s = malloc(sizeof(float) * a.B * a.maps * a.Sq * a.Sk);
	a.out = out;
	ar_kernels_qk_ref(s, &a, NULL);
	ar_kernels_softmax_ref(s, a.B * a.maps * a.Sq, a.Sq, a.Sk, a.causal, NULL);
	ar_kernels_av_ref(s, &a, NULL);
	free(s);
}

static void check_attention(long B, long Sq, long Sk, long maps, long kh, long heads, long vh,
			    long dk, long dv, int causal, long Br, long Bc)
{
	struct prob p;
	long n = B * Sq * heads * dv;
	float *want = malloc(sizeof(float) * n), *s = malloc(sizeof(float) * B * maps * Sq * Sk);

	prob_init(&p, B, Sq, Sk, maps, kh, heads, vh, dk, dv, causal, (unsigned)(Sq * 7 + heads));
	naive_ref(&p, want);
	/* optimised naive */
	ar_kernels_qk(s, &p.a);
	ar_kernels_softmax(s, B * maps * Sq, Sq, Sk, causal);
	ar_kernels_av(s, &p.a);
	assert_rel(p.out, want, n);
	/* flash, optimised and plain */
	float *ws = malloc(sizeof(float) * ar_kernels_flash_scratch(&p.a, Br, Bc));
	memset(p.out, 0, sizeof(float) * n);
	ar_kernels_flash(&p.a, Br, Bc, ws);
	assert_rel(p.out, want, n);
	free(ws);
	ws = malloc(sizeof(float) * ar_kernels_flash_ref_scratch(&p.a, Bc));
	memset(p.out, 0, sizeof(float) * n);
	ar_kernels_flash_ref(&p.a, Br, Bc, ws, NULL);
	assert_rel(p.out, want, n);
	free(ws); free(want); free(s);
	prob_free(&p);
}

static void test_kernels__flash_equals_naive(void **state)
{
	(void)state;
	/* MHA prefill, causal, tiles smaller than the sequence */
	check_attention(2, 40, 40, 4, 4, 4, 4, 16, 16, 1, 16, 16);
	/* GQA (4 maps per key head), prefill with a KV prefix (Sk > Sq), in
	 * both layouts */
	check_attention(1, 20, 50, 8, 2, 8, 2, 16, 16, 1, 16, 16);
	head_major = 1;
	check_attention(1, 20, 50, 8, 2, 8, 2, 16, 16, 1, 16, 16);
	check_attention(2, 40, 40, 4, 4, 4, 4, 16, 16, 1, 16, 16);
	head_major = 0;
	/* GQA decode: one position, key splits across threads */
	check_attention(1, 1, 77, 8, 2, 8, 2, 16, 16, 0, 16, 16);
	/* GTA-like: maps applied per map to one latent value of twice d_k */
	check_attention(2, 33, 33, 4, 1, 4, 1, 16, 32, 1, 32, 16);
	/* GVA-like: one map feeds several heads with their own values */
	check_attention(1, 24, 24, 2, 2, 8, 8, 16, 16, 1, 16, 16);
	/* GHA-like: shared maps, fewer value heads than outputs */
	check_attention(2, 1, 60, 2, 2, 8, 4, 16, 16, 0, 16, 16);
	/* one key tile and one row block: shares of the block's positions go
	 * to items of their own (causal and not, on 1, 2 and 4 threads) */
	int old = ar_kernels_threads();
	for (int nt = 1; nt <= 4; nt *= 2) {
		ar_kernels_set_threads(nt);
		check_attention(1, 40, 40, 4, 1, 4, 1, 16, 16, 1, 256, 64);
		check_attention(1, 13, 30, 4, 1, 4, 1, 16, 32, 0, 256, 64);
	}
	ar_kernels_set_threads(old);
}

/* A key split in two parts (MLA: per-head no-RoPE key + one shared RoPE key)
 * equals the same key stored whole. */
static void test_kernels__split_key_matches_whole(void **state)
{
	long B = 1, Sq = 12, Sk = 12, H = 3, d1 = 8, d2 = 4, dk = d1 + d2, dv = 8;
	struct prob p;
	float *k1 = malloc(sizeof(float) * Sk * H * d1), *k2 = malloc(sizeof(float) * Sk * d2);
	float *want = malloc(sizeof(float) * Sq * H * dv), *ws;
	(void)state;

	prob_init(&p, B, Sq, Sk, H, H, H, H, dk, dv, 1, 11);
	rnd(k2, Sk * d2, 12);
	for (long j = 0; j < Sk; j++)
		for (long h = 0; h < H; h++) {
			for (long i = 0; i < d1; i++)
				k1[(j * H + h) * d1 + i] = p.k[(j * H + h) * dk + i];
			for (long i = 0; i < d2; i++)
				p.k[(j * H + h) * dk + d1 + i] = k2[j * d2 + i];
		}
	naive_ref(&p, want);
	p.a.k1 = k1; p.a.k1_ps = H * d1; p.a.k1_hs = d1; p.a.dk1 = d1;
	p.a.k2 = k2; p.a.k2_ps = d2; p.a.dk2 = d2;
	ws = malloc(sizeof(float) * ar_kernels_flash_scratch(&p.a, 4, 4));
	ar_kernels_flash(&p.a, 4, 4, ws);
	assert_rel(p.out, want, Sq * H * dv);
	free(ws); free(k1); free(k2); free(want);
	prob_free(&p);
}

/* GQA whose key/value heads are shared by groups of maps equals MHA with
 * each shared head copied into every map of its group. */
static void test_kernels__gqa_equals_mha_with_copied_heads(void **state)
{
	long B = 2, S = 17, maps = 6, kh = 2, g = 3, d = 8, n = B * S * maps * d;
	struct prob gqa, mha;
	(void)state;

	prob_init(&gqa, B, S, S, maps, kh, maps, kh, d, d, 1, 21);
	prob_init(&mha, B, S, S, maps, maps, maps, maps, d, d, 1, 22);
	memcpy(mha.q, gqa.q, sizeof(float) * n);
	for (long b = 0; b < B; b++)
		for (long j = 0; j < S; j++)
			for (long h = 0; h < maps; h++)
				for (long i = 0; i < d; i++) {
					mha.k[((b * S + j) * maps + h) * d + i] = gqa.k[((b * S + j) * kh + h / g) * d + i];
					mha.v[((b * S + j) * maps + h) * d + i] = gqa.v[((b * S + j) * kh + h / g) * d + i];
				}
	float *ws = malloc(sizeof(float) * ar_kernels_flash_scratch(&gqa.a, 16, 16));
	ar_kernels_flash(&gqa.a, 16, 16, ws);
	free(ws);
	ws = malloc(sizeof(float) * ar_kernels_flash_scratch(&mha.a, 16, 16));
	ar_kernels_flash(&mha.a, 16, 16, ws);
	free(ws);
	assert_rel(gqa.out, mha.out, n);
	/* and group size 1 is MHA itself */
	float *want = malloc(sizeof(float) * n);
	naive_ref(&mha, want);
	assert_rel(mha.out, want, n);
	free(want);
	prob_free(&gqa);
	prob_free(&mha);
}

/* The decode kernel equals its plain reference and the naive path: GQA, MHA,
 * GTA-like (per-map outputs on one wide value head), GVA/GHA-like (several
 * outputs per map), a split key (MLA), odd block sizes and key splits. */
static void check_decode(long B, long Sk, long maps, long kh, long heads, long vh, long dk,
			 long dv, long Bc, int nt)
{
	struct prob p;
	long n = B * heads * dv;
	float *want = malloc(sizeof(float) * n), *ref = malloc(sizeof(float) * n), *ws;

	prob_init(&p, B, 1, Sk, maps, kh, heads, vh, dk, dv, 0, (unsigned)(Sk + heads));
	naive_ref(&p, want);
	ws = malloc(sizeof(float) * ar_kernels_decode_attn_ref_scratch(&p.a));
	ar_kernels_decode_attn_ref(&p.a, ws, NULL);
	memcpy(ref, p.out, sizeof(float) * n);
	assert_rel(ref, want, n);
	free(ws);
	int old = ar_kernels_threads();
	ar_kernels_set_threads(nt);
	/* both builds of the kernel, where the processor runs them (the 8-lane
	 * one runs everywhere; a processor without AVX-512 is said so once) */
	static int said;
	for (int lanes = 8; lanes <= 16; lanes *= 2) {
		if (ar_kernels_decode_lanes(lanes) != lanes) {
			assert_int_equal(lanes, 16);
			if (!said++)
				print_message("decode kernel: no 16-lane build on this processor, 8 lanes tested\n");
			continue;
		}
		ws = malloc(sizeof(float) * ar_kernels_decode_attn_scratch(&p.a, Bc));
		memset(p.out, 0, sizeof(float) * n);
		ar_kernels_decode_attn(&p.a, Bc, ws);
		assert_rel(p.out, ref, n);
		free(ws);
	}
	ar_kernels_decode_lanes(0);
	ar_kernels_set_threads(old);
	free(want); free(ref);
	prob_free(&p);
}

/* The threads' round trip: none with one thread or too few rounds; with two
 * a finite positive time, or 0 where the second thread did not answer within
 * the probe's own 20 ms (another program holding the second processor); no
 * bound on the time itself (speed is measured in bench/, not asserted) */
static void test_kernels__round_trip(void **state)
{
	(void)state;
	int old = ar_kernels_threads();
	ar_kernels_set_threads(1);
	assert_true(ar_kernels_round_trip(2048) == 0);
	ar_kernels_set_threads(2);
	assert_true(ar_kernels_round_trip(10) == 0);
	double t = ar_kernels_round_trip(2048);
	assert_true(t == 0 || (t > 0 && isfinite(t)));
	ar_kernels_set_threads(old);
}

static void test_kernels__decode_equals_ref(void **state)
{
	(void)state;
	for (int nt = 1; nt <= 3; nt++) {
		check_decode(1, 77, 8, 2, 8, 2, 16, 16, 16, nt);   /* GQA, key splits */
		check_decode(3, 40, 4, 4, 4, 4, 16, 16, 7, nt);    /* MHA, odd block */
		check_decode(2, 65, 4, 1, 4, 1, 16, 32, 16, nt);   /* GTA-like */
		check_decode(1, 60, 2, 2, 8, 8, 16, 16, 32, nt);   /* GVA-like */
		check_decode(2, 60, 2, 2, 8, 4, 16, 16, 64, nt);   /* GHA-like */
		check_decode(1, 300, 16, 1, 16, 1, 24, 16, 128, nt); /* one key head, long */
		check_decode(2, 90, 5, 1, 5, 1, 64, 128, 32, nt);  /* GTA-1B: 5 maps, one latent */
		check_decode(1, 70, 6, 2, 12, 1, 24, 40, 16, nt);  /* 12 outputs on one value head */
		check_decode(1, 50, 8, 1, 8, 1, 40, 24, 16, nt);   /* 8 maps, dims not whole vectors */
		check_decode(1, 45, 8, 2, 8, 2, 13, 16, 16, nt);   /* groups of 4, odd key length */
		check_decode(2, 83, 20, 1, 20, 1, 32, 32, 48, nt); /* 20 maps: groups of 8, 8 and 4 */
		check_decode(1, 51, 6, 1, 6, 1, 20, 16, 16, nt);   /* 4 + 2 maps, key length 20 */
		check_decode(1, 200, 1, 1, 1, 1, 16, 16, 32, nt);  /* one row to merge, several ranges */
		/* head-major K and V (head by head): blocks, a last short
		 * block, steps cut where the prefetches would pass the range */
		head_major = 1;
		check_decode(1, 77, 8, 2, 8, 2, 16, 16, 16, nt);
		check_decode(2, 300, 20, 5, 20, 5, 64, 64, 64, nt);
		check_decode(3, 130, 4, 4, 4, 4, 16, 16, 48, nt);
		check_decode(1, 60, 2, 2, 8, 4, 16, 16, 32, nt);
		check_decode(1, 70, 6, 2, 12, 1, 24, 40, 16, nt);
		/* the kernel's own block (Bc 0) */
		check_decode(1, 700, 8, 2, 8, 2, 16, 16, 0, nt);
		check_decode(3, 1100, 5, 1, 5, 1, 16, 32, 0, nt);
		/* GTA-1B's shapes: two score walks and four value walks share
		 * steps of 64 and 32 keys, the last step cut short */
		check_decode(1, 1001, 5, 1, 5, 1, 64, 128, 0, nt);
		head_major = 0;
	}
	/* its block: 512 keys, halved to 64 while the blocks of all sequences
	 * are fewer than two per thread */
	struct { long B, Sk; int nt; long want; } blk[] = {
		{ 1, 32768, 2, 512 }, { 1, 2048, 2, 512 }, { 1, 1536, 2, 256 }, { 1, 1024, 2, 256 },
		{ 1, 1024, 4, 128 }, { 1, 100, 2, 64 }, { 8, 100, 2, 512 }, { 2, 500, 2, 256 },
	};
	int old_nt = ar_kernels_threads();
	for (size_t i = 0; i < sizeof(blk) / sizeof(blk[0]); i++) {
		struct ar_attn_args a = { .B = blk[i].B, .Sq = 1, .Sk = blk[i].Sk };
		ar_kernels_set_threads(blk[i].nt);
		if (ar_kernels_decode_block(&a) != blk[i].want)
			fail_msg("B %ld, %ld keys, %d threads: block %ld, want %ld", blk[i].B, blk[i].Sk,
				 blk[i].nt, ar_kernels_decode_block(&a), blk[i].want);
	}
	ar_kernels_set_threads(old_nt);
	/* a split key (MLA decompressed): per-head key plus a shared RoPE key */
	struct prob p;
	long Sk = 50, H = 3, d1 = 8, d2 = 4, dv = 8;
	float *k2 = malloc(sizeof(float) * Sk * d2), *want = malloc(sizeof(float) * H * dv), *ws;
	prob_init(&p, 1, 1, Sk, H, H, H, H, d1, dv, 0, 5);
	rnd(k2, Sk * d2, 6);
	float *q = malloc(sizeof(float) * H * (d1 + d2));
	rnd(q, H * (d1 + d2), 7);
	p.a.q = q;
	p.a.k2 = k2; p.a.k2_ps = d2; p.a.dk2 = d2;
	ws = malloc(sizeof(float) * ar_kernels_decode_attn_ref_scratch(&p.a));
	ar_kernels_decode_attn_ref(&p.a, ws, NULL);
	memcpy(want, p.out, sizeof(float) * H * dv);
	free(ws);
	ws = malloc(sizeof(float) * ar_kernels_decode_attn_scratch(&p.a, 16));
	ar_kernels_decode_attn(&p.a, 16, ws);
	assert_rel(p.out, want, H * dv);
	/* and it equals flash over the same split key */
	free(ws);
	ws = malloc(sizeof(float) * ar_kernels_flash_scratch(&p.a, 4, 4));
	ar_kernels_flash(&p.a, 4, 4, ws);
	assert_rel(p.out, want, H * dv);
	free(ws); free(k2); free(want); free(q);
	prob_free(&p);
}

/* The plain flash kernel counts the FLOPs of the tiles it computes. */
static void test_kernels__flash_counts_tiles(void **state)
{
	struct prob p;
	struct ar_kcount c = { 0 };
	(void)state;

	/* 32 positions, row blocks of 16 (4 maps → P = 4 positions... ) */
	prob_init(&p, 1, 8, 8, 2, 1, 2, 1, 4, 4, 1, 31);
	float *ws = malloc(sizeof(float) * ar_kernels_flash_ref_scratch(&p.a, 4));
	ar_kernels_flash_ref(&p.a, 8, 4, ws, &c);
	/* P = 4 positions × 2 maps per block; block 0 computes 4 keys, block 1 all 8:
	 * pairs = 8·4 + 8·8 = 96; per pair 2·(dk + dv) = 16 and 5 vector FLOPs */
	assert_close(c.mflops, 96.0 * 16, 0, 0);
	assert_close(c.vflops, 96.0 * 5, 0, 0);
	free(ws);
	prob_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernels__matmul_matches_ref),
		cmocka_unit_test(test_kernels__gelu_and_layernorm_by_hand),
		cmocka_unit_test(test_kernels__elementwise_match_ref),
		cmocka_unit_test(test_kernels__flash_equals_naive),
		cmocka_unit_test(test_kernels__split_key_matches_whole),
		cmocka_unit_test(test_kernels__gqa_equals_mha_with_copied_heads),
		cmocka_unit_test(test_kernels__flash_counts_tiles),
		cmocka_unit_test(test_kernels__decode_equals_ref),
		cmocka_unit_test(test_kernels__round_trip),
	};
	ar_kernels_set_threads(2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
