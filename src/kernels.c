/* Kernels of the reference executor (see kernels.h).  Optimised kernels split
 * work over OpenMP threads and call single-threaded OpenBLAS inside each
 * thread, so that one pool of threads runs everything.  Hot loops are built
 * twice (AVX2+FMA and baseline x86-64) and picked at load time. */
#include "kernels.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC optimize("fp-contract=fast", "no-trapping-math")

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
	!defined(__SANITIZE_ADDRESS__)
#define VEC __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define VEC
#endif

void openblas_set_num_threads(int num_threads);
/* OpenBLAS's pthreads build starts its own worker threads when it loads,
 * and they spin (sched_yield) for about 0.15 s before they sleep; the builds
 * without them lack the symbol (weak: NULL there) */
int blas_thread_shutdown_(void) __attribute__((weak));

/* Eight floats as one value (GCC vector extension; plain code where the
 * target lacks 256-bit vectors); v8u may sit at any float's address.  Both
 * are used through macros only: passing them to functions would change the
 * calling convention between the AVX and baseline builds. */
typedef float v8f __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4)));
typedef int v8i __attribute__((vector_size(32)));
#define LD8(p) (*(const v8u *)(p))

/* r = the lane sums of acc[0..7], in order: three rounds of pairwise
 * shuffles and adds (14 shuffles and 7 adds for eight sums) */
#define HSUM8(r, acc)                                                                  \
	do {                                                                           \
		const v8i l1_ = { 0, 8, 1, 9, 4, 12, 5, 13 }, h1_ = { 2, 10, 3, 11, 6, 14, 7, 15 }; \
		const v8i l2_ = { 0, 1, 8, 9, 4, 5, 12, 13 }, h2_ = { 2, 3, 10, 11, 6, 7, 14, 15 }; \
		const v8i l3_ = { 0, 1, 2, 3, 8, 9, 10, 11 }, h3_ = { 4, 5, 6, 7, 12, 13, 14, 15 }; \
		v8f t_[4], u_[2];                                                      \
		for (int i_ = 0; i_ < 4; i_++)                                         \
			t_[i_] = __builtin_shuffle((acc)[2 * i_], (acc)[2 * i_ + 1], l1_) + \
				 __builtin_shuffle((acc)[2 * i_], (acc)[2 * i_ + 1], h1_);  \
		for (int i_ = 0; i_ < 2; i_++)                                         \
			u_[i_] = __builtin_shuffle(t_[2 * i_], t_[2 * i_ + 1], l2_) +      \
				 __builtin_shuffle(t_[2 * i_], t_[2 * i_ + 1], h2_);       \
		(r) = __builtin_shuffle(u_[0], u_[1], l3_) + __builtin_shuffle(u_[0], u_[1], h3_); \
	} while (0)

static int n_threads;

int ar_kernels_procs(void)
{
	return omp_get_num_procs();
}

int ar_kernels_set_threads(int n)
{
	if (n < 1)
		n = ar_kernels_procs();
	n_threads = n;
	omp_set_num_threads(n);
	openblas_set_num_threads(1);
	/* Every product calls BLAS on one thread inside each OpenMP thread, so
	 * BLAS's own workers never get work; stopped here, they do not spin
	 * beside the first products.  On the 2-vCPU Xeon guest a 64 x 1024 x
	 * 2048 product within 0.15 s of the start ran at 34 GFLOP/s in 7 of
	 * 10 processes (one worker spinning on a core), 184 once they had
	 * stopped */
	if (blas_thread_shutdown_)
		blas_thread_shutdown_();
	return n;
}

int ar_kernels_threads(void)
{
	if (!n_threads)
		ar_kernels_set_threads(0);
	return n_threads;
}

static long lmin(long a, long b) { return a < b ? a : b; }
static long lmax(long a, long b) { return a > b ? a : b; }

/* exp by range reduction x = n·ln2 + r and a degree-6 polynomial for e^r
 * (Cephes expf, relative error about 1e-7); written without branches or libm
 * calls so that loops over it vectorise.  Inputs below −87.3 give ~1e-38. */
static inline float vexp(float x)
{
	const float big = 12582912.0f; /* 1.5·2^23: adding it rounds to an integer */
	x = x < -87.3f ? -87.3f : x;
	x = x > 88.3f ? 88.3f : x;
	float n = (x * 1.44269504f + big) - big;
	float r = x - n * 0.693359375f + n * 2.12194440e-4f;
	float p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	int32_t e = ((int32_t)n + 127) << 23;
	float s;
	memcpy(&s, &e, sizeof(s));
	return p * s;
}

/* y = vexp(x) on every lane of x, a vector of type vt whose lanes are
 * indexed by the integer vector type vit (the same range reduction and
 * polynomial); a statement, since vector values may not cross function
 * calls.  Loops whose exp feeds a division are written with it: left to the
 * vectoriser, GCC if-converts the clamps of the scalar vexp into a second,
 * constant division per vector and runs 4-5 times slower. */
#define VEXPV(y, x, vt, vit)                                                           \
	do {                                                                           \
		const vt lo_ = (vt){ 0 } - 87.3f, hi_ = (vt){ 0 } + 88.3f;              \
		const vt big_ = (vt){ 0 } + 12582912.0f;                                 \
		vt x_ = (x);                                                           \
		vit below_ = x_ < lo_, above_ = x_ > hi_;                              \
		x_ = (vt)(((vit)lo_ & below_) | ((vit)x_ & ~below_));                  \
		x_ = (vt)(((vit)hi_ & above_) | ((vit)x_ & ~above_));                  \
		vt n_ = (x_ * 1.44269504f + big_) - big_;                               \
		vt r_ = x_ - n_ * 0.693359375f + n_ * 2.12194440e-4f;                  \
		vt p_ = (vt){ 0 } + 1.9875691500e-4f;                                  \
		p_ = p_ * r_ + 1.3981999507e-3f;                                       \
		p_ = p_ * r_ + 8.3334519073e-3f;                                       \
		p_ = p_ * r_ + 4.1665795894e-2f;                                       \
		p_ = p_ * r_ + 1.6666665459e-1f;                                       \
		p_ = p_ * r_ + 5.0000001201e-1f;                                       \
		p_ = p_ * r_ * r_ + r_ + 1.0f;                                         \
		vit e_ = (__builtin_convertvector(n_, vit) + 127) << 23;               \
		(y) = p_ * (vt)e_;                                                     \
	} while (0)
#define VEXP8(y, x) VEXPV(y, x, v8f, v8i)
#define ST8(p, x) (*(v8u *)(p) = (x))

/* ---- products ---- */

static void sgemm(const float *a, long lda, const float *b, long ldb, int transb, float *c,
		  long ldc, long m, long n, long k, float alpha, float beta)
{
	if (m <= 0 || n <= 0)
		return;
	if (m == 1) { /* a row times a matrix: the matrix-vector kernel reads b once, unpacked */
		cblas_sgemv(CblasRowMajor, transb ? CblasNoTrans : CblasTrans,
			    (int)(transb ? n : k), (int)(transb ? k : n), alpha, b, (int)ldb, a, 1,
			    beta, c, 1);
		return;
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, transb ? CblasTrans : CblasNoTrans,
		    (int)m, (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

/* products of up to SMALL_M rows (SMALL_M_T with the weights stored (N, K))
 * go to the executor's own kernels */
enum { SMALL_M = 8, SMALL_M_T = 16, SMALL_M_BLOCK = 32 };

/* products with K below SPLIT_ROWS_K split their rows among the threads
 * once each thread gets SPLIT_ROWS_M of them (ar_kernels_matmul) */
enum { SPLIT_ROWS_K = 512, SPLIT_ROWS_M = 16 };

enum { SMALL_COLS = 4096, SMALL_K = 4, SMALL_L1_FLOATS = 8192 };

/* out (M, nb) = in (M, K) · W[:, 0:nb] for M ≤ SMALL_M, W row-major (K, ·):
 * strips of SMALL_COLS columns; in each strip, SMALL_K weight rows at a time
 * are added into the M output rows (kept in L1), so that an output element
 * is loaded and stored once per SMALL_K multiply-adds and each weight row is
 * read from memory once. */
VEC static void small_m_rows(float *out, long ldo, const float *in, long ldi, const float *w,
			     long ldw, long M, long K, long nb)
{
	for (long j0 = 0; j0 < nb; j0 += SMALL_COLS) {
		long jn = lmin(SMALL_COLS, nb - j0);
		for (long i = 0; i < M; i++)
			memset(out + i * ldo + j0, 0, (size_t)jn * sizeof(float));
		long k = 0;
		for (; k + SMALL_K <= K; k += SMALL_K) {
			const float *w0 = w + k * ldw + j0, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
			long i = 0;
			for (; i + 2 <= M; i += 2) { /* two output rows share the weight loads */
				const float *x = in + i * ldi + k, *y = x + ldi;
				float x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
				float y0 = y[0], y1 = y[1], y2 = y[2], y3 = y[3];
				float *o = out + i * ldo + j0, *p = o + ldo;
#pragma omp simd
				for (long j = 0; j < jn; j++) {
					o[j] += x0 * w0[j] + x1 * w1[j] + x2 * w2[j] + x3 * w3[j];
					p[j] += y0 * w0[j] + y1 * w1[j] + y2 * w2[j] + y3 * w3[j];
				}
			}
			for (; i < M; i++) {
				const float *x = in + i * ldi + k;
				float x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3], *o = out + i * ldo + j0;
#pragma omp simd
				for (long j = 0; j < jn; j++)
					o[j] += x0 * w0[j] + x1 * w1[j] + x2 * w2[j] + x3 * w3[j];
			}
		}
		for (; k < K; k++) {
			const float *wr = w + k * ldw + j0;
			for (long i = 0; i < M; i++) {
				float x = in[i * ldi + k], *o = out + i * ldo + j0;
#pragma omp simd
				for (long j = 0; j < jn; j++)
					o[j] += x * wr[j];
			}
		}
	}
}

/* The product of M ≤ 8 rows (more in blocks of 8) with W stored (N, K), as the
 * executor stores its weights: tiles of every input row against NJ weight
 * rows (M·NJ ≤ 8 accumulators in registers), so that each weight element is
 * loaded once for all M rows and each weight row streams contiguously.
 * out[i·ldo + j] (+)= in_i · w_j for j < NJ (add_ != 0: added to what out
 * holds); the scalar tail of K after. */
#define COLS_TILE(M_, NJ_)                                                             \
	do {                                                                           \
		v8f acc_[8];                                                           \
		float h_[8];                                                           \
		long c_ = 0;                                                           \
		for (int a_ = 0; a_ < 8; a_++)                                         \
			acc_[a_] = (v8f){ 0 };                                         \
		for (; c_ + 8 <= K; c_ += 8) {                                         \
			v8f w_[NJ_];                                                   \
			if (pf_ && c_ % 16 == 0) /* the next tile's rows, a line at a time */ \
				for (int j_ = 0; j_ < (NJ_); j_++)                     \
					__builtin_prefetch(wt + ((NJ_) + j_) * ldw + c_); \
			for (int j_ = 0; j_ < (NJ_); j_++)                             \
				w_[j_] = LD8(wt + j_ * ldw + c_);                      \
			for (int i_ = 0; i_ < (M_); i_++) {                            \
				v8f x_ = LD8(in + i_ * ldi + c_);                      \
				for (int j_ = 0; j_ < (NJ_); j_++)                     \
					acc_[i_ * (NJ_) + j_] += x_ * w_[j_];          \
			}                                                              \
		}                                                                      \
		v8f r_;                                                                \
		HSUM8(r_, acc_);                                                       \
		ST8(h_, r_);                                                           \
		for (int i_ = 0; i_ < (M_); i_++)                                      \
			for (int j_ = 0; j_ < (NJ_); j_++) {                           \
				float t_ = h_[i_ * (NJ_) + j_];                        \
				for (long k_ = c_; k_ < K; k_++)                       \
					t_ += in[i_ * ldi + k_] * wt[j_ * ldw + k_];   \
				o[i_ * ldo + j_] = (add_ ? o[i_ * ldo + j_] : 0) + t_; \
			}                                                              \
	} while (0)

/* all nb columns in tiles of NJ_ (8/M_ weight rows), the last ones singly */
#define COLS_ROWS(M_, NJ_)                                                             \
	do {                                                                           \
		long j = 0;                                                            \
		for (; j + (NJ_) <= nb; j += (NJ_)) {                                  \
			const float *wt = w + j * ldw;                                 \
			float *o = out + j;                                            \
			int pf_ = j + 2 * (NJ_) <= nb;                                 \
			COLS_TILE(M_, NJ_);                                            \
		}                                                                      \
		for (; j < nb; j++) {                                                  \
			const float *wt = w + j * ldw;                                 \
			float *o = out + j;                                            \
			int pf_ = 0;                                                   \
			COLS_TILE(M_, 1);                                              \
		}                                                                      \
	} while (0)

/* out (M ≤ 8, nb) (+)= in · W^T over K columns of in and W: add_ != 0 adds
 * to out */
VEC static void small_m_cols_part(float *out, long ldo, const float *in, long ldi,
				  const float *w, long ldw, long M, long K, long nb, int add_)
{
	switch (M) {
	case 1: COLS_ROWS(1, 8); break;
	case 2: COLS_ROWS(2, 4); break;
	case 3: COLS_ROWS(3, 2); break;
	case 4: COLS_ROWS(4, 2); break;
	case 5: COLS_ROWS(5, 1); break;
	case 6: COLS_ROWS(6, 1); break;
	case 7: COLS_ROWS(7, 1); break;
	default: COLS_ROWS(8, 1); break;
	}
}

/* out (M ≤ SMALL_M_T, nb) = in · W^T.  The input rows are read once per
 * weight row, so K is cut into equal spans short enough for 8 rows of a span
 * to stay in L1 (SMALL_L1_FLOATS in all), each span's dot products added to
 * the last (8 x 3072 x 768 from 695 to 506 us on one core).  More than 8
 * rows: blocks of SMALL_M_BLOCK weight rows, span by span, every 8 input
 * rows against a block's span while it is in the core's L2, so that the
 * weights still come from memory once (16 x 1920 x 768 on two threads from
 * 460 to 280 us, as fast as 16 x 768 x 1920; with the whole of K per block
 * the rows came from L2) */
VEC static void small_m_cols(float *out, long ldo, const float *in, long ldi, const float *w,
			     long ldw, long M, long K, long nb)
{
	long spans = lmax(1, (lmin(M, 8) * K + SMALL_L1_FLOATS - 1) / SMALL_L1_FLOATS);
	long span = ((K + spans - 1) / spans + 15) / 16 * 16;

	if (M > 8) {
		for (long j0 = 0; j0 < nb; j0 += SMALL_M_BLOCK)
			for (long k0 = 0; k0 < K; k0 += span)
				for (long i0 = 0; i0 < M; i0 += 8)
					small_m_cols_part(out + i0 * ldo + j0, ldo, in + i0 * ldi + k0,
							  ldi, w + j0 * ldw + k0, ldw, lmin(8, M - i0),
							  lmin(span, K - k0), lmin(SMALL_M_BLOCK, nb - j0),
							  k0 > 0);
		return;
	}
	for (long k0 = 0; k0 < K; k0 += span)
		small_m_cols_part(out, ldo, in + k0, ldi, w + k0, ldw, M, lmin(span, K - k0), nb,
				  k0 > 0);
}

/* `groups` products of a few rows (decode): items of one group's block of at
 * least 16 columns, enough of them for every thread, in one dispatch; BLAS
 * would copy (pack) each weight matrix first, and pay its own call per
 * group. */
static void matmul_small_m(float *out, long ldo, long so, const float *in, long ldi, long si,
			   const float *w, long ldw, long sw, int transw, const float *bias,
			   long M, long K, long N, long groups)
{
	int nt = ar_kernels_threads();
	long blocks = lmax(1, lmin((nt + groups - 1) / groups, N / 16)), items = groups * blocks;

#pragma omp parallel for schedule(static) if (items > 1)
	for (long it = 0; it < items; it++) {
		long g = it / blocks, b = it % blocks;
		long j0 = N * b / blocks, nb = N * (b + 1) / blocks - j0;
		float *o = out + g * so;
		const float *x = in + g * si, *wg = w + g * sw;
		if (transw)
			small_m_cols(o + j0, ldo, x, ldi, wg + j0 * ldw, ldw, M, K, nb);
		else
			small_m_rows(o + j0, ldo, x, ldi, wg + j0, ldw, M, K, nb);
		if (bias)
			for (long i = 0; i < M; i++)
				for (long j = 0; j < nb; j++)
					o[i * ldo + j0 + j] += bias[j0 + j];
	}
}

void ar_kernels_matmul(float *out, long ldo, long so, const float *in, long ldi, long si,
		       const float *w, long ldw, long sw, int transw, const float *bias,
		       long M, long K, long N, long groups)
{
	int nt = ar_kernels_threads();
	/* Threads take column ranges when the rows are few, row ranges else.
	 * Column ranges interleave the threads' writes line by line through
	 * every row of the output, which costs little behind long dot products
	 * but, where cores do not share a cache, doubles the time of products
	 * with short ones (K < 512: 128 x 128 x 344 takes as long on two threads
	 * as on one); row ranges give each thread one block of the output. */
	int split_n = N >= M && (K >= SPLIT_ROWS_K || M < SPLIT_ROWS_M * nt);

	/* a row times one matrix goes to BLAS's matrix-vector kernel (below),
	 * which streams a large matrix at the read bandwidth; other products of
	 * a few rows to the executor's own */
	if (M <= (transw ? SMALL_M_T : SMALL_M) && (M > 1 || groups > 1)) {
		matmul_small_m(out, ldo, so, in, ldi, si, w, ldw, sw, transw, bias, M, K, N, groups);
		return;
	}
	long along = split_n ? N : M;
	long chunks = groups >= nt ? 1 : (nt + groups - 1) / groups;

	/* chunks of at least 16 rows or columns */
	chunks = lmax(1, lmin(chunks, along / 16));
	long items = groups * chunks;
#pragma omp parallel for schedule(static) if (items > 1)
	for (long it = 0; it < items; it++) {
		long g = it / chunks, c = it % chunks;
		long lo = along * c / chunks, hi = along * (c + 1) / chunks;
		float *o = out + g * so;
		const float *x = in + g * si, *wg = w + g * sw, *bb = bias;
		long m = M, n = N;

		if (split_n) {
			o += lo;
			wg += transw ? lo * ldw : lo;
			bb = bias ? bias + lo : NULL;
			n = hi - lo;
		} else {
			o += lo * ldo;
			x += lo * ldi;
			m = hi - lo;
		}
		sgemm(x, ldi, wg, ldw, transw, o, ldo, m, n, K, 1.0f, 0.0f);
		if (bb)
			for (long i = 0; i < m; i++) {
				float *row = o + i * ldo;
#pragma omp simd
				for (long j = 0; j < n; j++)
					row[j] += bb[j];
			}
	}
}

/* Weight rows a multiple of 4 KiB apart fall in the same sets of every cache level, and
 * BLAS's packing of a block of them evicts its own lines.  On a Zen 4 host
 * 32 x K x 1920 products through weights from main memory ran at 0.50 of
 * the peak at K 1024 and 2048 against 0.63-0.68 at K 640, 768, 896, 1152,
 * 1280, 1536 and 2304; rows one cache line longer give K 1024 to 4096 the
 * rate of their neighbours (K 2048: 16 rows 0.22 -> 0.28, 128 rows 0.76 ->
 * 0.83, 512 rows 0.92 -> 0.93), and rows 2 KiB apart (K 512) read the
 * same either way. */
long ar_kernels_row_stride(long k)
{
	return k > 0 && (k * (long)sizeof(float)) % 4096 == 0 ? k + 16 : k;
}

void ar_kernels_matmul_ref(float *out, long ldo, long so, const float *in, long ldi, long si,
			   const float *w, long ldw, long sw, int transw, const float *bias,
			   long M, long K, long N, long groups, struct ar_kcount *cnt)
{
	for (long g = 0; g < groups; g++)
		for (long i = 0; i < M; i++)
			for (long j = 0; j < N; j++) {
				const float *x = in + g * si + i * ldi, *wg = w + g * sw;
				double s = 0;
				for (long k = 0; k < K; k++)
					s += (double)x[k] * (transw ? wg[j * ldw + k] : wg[k * ldw + j]);
				if (bias)
					s += bias[j];
				out[g * so + i * ldo + j] = (float)s;
				if (cnt) {
					cnt->mflops += 2.0 * K;
					cnt->vflops += bias ? 1 : 0;
				}
			}
}

/* ---- norms ---- */

enum { SUM_PLAIN, SUM_SQUARES, SUM_SQUARED_DEV };

/* Σ x_i, Σ x_i² or Σ (x_i − m)² over n floats (what: a constant at every
 * call, so that each caller gets its own loop), with four vector sums in
 * flight: one alone waits on the adder's latency at every step, which held
 * a norm of 768-float rows to a quarter of what its loads allow (256 rows
 * on two threads: 19 us) */
static inline __attribute__((always_inline)) float sum_terms(const float *x, long n, float m,
							    int what)
{
	v8f a[4] = { { 0 } }, mv = { 0 };
	long i = 0;

	mv += m;
	for (; i + 32 <= n; i += 32)
		for (int k = 0; k < 4; k++) {
			v8f v = *(const v8u *)(x + i + 8 * k);
			v = what == SUM_SQUARED_DEV ? v - mv : v;
			a[k] += what == SUM_PLAIN ? v : v * v;
		}
	for (; i + 8 <= n; i += 8) {
		v8f v = *(const v8u *)(x + i);
		v = what == SUM_SQUARED_DEV ? v - mv : v;
		a[0] += what == SUM_PLAIN ? v : v * v;
	}
	v8f t = (a[0] + a[1]) + (a[2] + a[3]);
	float s = 0;
	for (int k = 0; k < 8; k++)
		s += t[k];
	for (; i < n; i++) {
		float v = what == SUM_SQUARED_DEV ? x[i] - m : x[i];
		s += what == SUM_PLAIN ? v : v * v;
	}
	return s;
}

VEC static void rms_row(float *o, const float *x, const float *w, long C, float eps)
{
	float ss = sum_terms(x, C, 0, SUM_SQUARES);
	float r = 1.0f / sqrtf(ss / (float)C + eps);
#pragma omp simd
	for (long i = 0; i < C; i++)
		o[i] = x[i] * r * w[i];
}

/* Fewer rows than threads: every thread takes a block of columns of every
 * row (partial sums, then the reduction in a fixed order), so that an op of
 * one row runs on every thread as the others do. */
enum { SPLIT_MAX = 16 }; /* column blocks at most */

static long col_blocks(long T, long C)
{
	int nt = ar_kernels_threads();

	return T >= lmin(nt, SPLIT_MAX) ? 1 : lmax(1, lmin(lmin(nt, SPLIT_MAX), C / 16));
}

/* columns [lo, hi) of block b of nb over C, cache-line (16-float) aligned */
static void col_range(long C, long b, long nb, long *lo, long *hi)
{
	*lo = b == 0 ? 0 : C * b / nb / 16 * 16;
	*hi = b == nb - 1 ? C : C * (b + 1) / nb / 16 * 16;
}

/* the sum of row t's partial sums from nb column blocks */
static inline float part_total(const float *part, long t, long nb)
{
	float s = 0;
	for (long k = 0; k < nb; k++)
		s += part[t * SPLIT_MAX + k];
	return s;
}

VEC static float sumsq_vec(const float *x, long n)
{
	return sum_terms(x, n, 0, SUM_SQUARES);
}

VEC static void scale_mul_vec(float *o, const float *x, float r, const float *w, long n)
{
#pragma omp simd
	for (long i = 0; i < n; i++)
		o[i] = x[i] * r * w[i];
}

void ar_kernels_rmsnorm(float *out, const float *in, const float *w, long T, long C, float eps)
{
	long nb = col_blocks(T, C);

	if (nb == 1) {
#pragma omp parallel for schedule(static) if (T > 1)
		for (long t = 0; t < T; t++)
			rms_row(out + t * C, in + t * C, w, C, eps);
		return;
	}
	float part[SPLIT_MAX * SPLIT_MAX];
#pragma omp parallel num_threads(nb)
	{
		long b = omp_get_thread_num(), lo, hi;
		col_range(C, b, nb, &lo, &hi);
		for (long t = 0; t < T; t++)
			part[t * SPLIT_MAX + b] = sumsq_vec(in + t * C + lo, hi - lo);
#pragma omp barrier
		for (long t = 0; t < T; t++) {
			float r = 1.0f / sqrtf(part_total(part, t, nb) / (float)C + eps);
			scale_mul_vec(out + t * C + lo, in + t * C + lo, r, w + lo, hi - lo);
		}
	}
}

void ar_kernels_rmsnorm_ref(float *out, const float *in, const float *w, long T, long C,
			    float eps, struct ar_kcount *cnt)
{
	for (long t = 0; t < T; t++) {
		const float *x = in + t * C;
		double ss = 0;
		for (long i = 0; i < C; i++)
			ss += (double)x[i] * x[i];
		double r = 1.0 / sqrt(ss / (double)C + eps);
		for (long i = 0; i < C; i++)
			out[t * C + i] = (float)(x[i] * r * w[i]);
		if (cnt)
			cnt->vflops += 4.0 * C; /* square, sum, scale, weight */
	}
}

VEC static void ln_row(float *o, const float *x, const float *w, const float *b, long C,
		       float eps)
{
	float mean = sum_terms(x, C, 0, SUM_PLAIN) / (float)C;
	float ss = sum_terms(x, C, mean, SUM_SQUARED_DEV);
	float r = 1.0f / sqrtf(ss / (float)C + eps);
#pragma omp simd
	for (long i = 0; i < C; i++)
		o[i] = (x[i] - mean) * r * w[i] + b[i];
}

VEC static float sum_f(const float *x, long n)
{
	return sum_terms(x, n, 0, SUM_PLAIN);
}

VEC static float sumsq_dev(const float *x, float mean, long n)
{
	return sum_terms(x, n, mean, SUM_SQUARED_DEV);
}

VEC static void ln_apply(float *o, const float *x, float mean, float r, const float *w,
			 const float *b, long n)
{
#pragma omp simd
	for (long i = 0; i < n; i++)
		o[i] = (x[i] - mean) * r * w[i] + b[i];
}

void ar_kernels_layernorm(float *out, const float *in, const float *w, const float *b,
			  long T, long C, float eps)
{
	long nb = col_blocks(T, C);

	if (nb == 1) {
#pragma omp parallel for schedule(static) if (T > 1)
		for (long t = 0; t < T; t++)
			ln_row(out + t * C, in + t * C, w, b, C, eps);
		return;
	}
	/* the mean, then the variance about it, each from partial sums */
	float part[SPLIT_MAX * SPLIT_MAX];
#pragma omp parallel num_threads(nb)
	{
		long k = omp_get_thread_num(), lo, hi;
		col_range(C, k, nb, &lo, &hi);
		for (long t = 0; t < T; t++)
			part[t * SPLIT_MAX + k] = sum_f(in + t * C + lo, hi - lo);
#pragma omp barrier
		float mean[SPLIT_MAX];
		for (long t = 0; t < T; t++)
			mean[t] = part_total(part, t, nb) / (float)C;
#pragma omp barrier
		for (long t = 0; t < T; t++)
			part[t * SPLIT_MAX + k] = sumsq_dev(in + t * C + lo, mean[t], hi - lo);
#pragma omp barrier
		for (long t = 0; t < T; t++) {
			float r = 1.0f / sqrtf(part_total(part, t, nb) / (float)C + eps);
			ln_apply(out + t * C + lo, in + t * C + lo, mean[t], r, w + lo, b + lo, hi - lo);
		}
	}
}

void ar_kernels_layernorm_ref(float *out, const float *in, const float *w, const float *b,
			      long T, long C, float eps, struct ar_kcount *cnt)
{
	for (long t = 0; t < T; t++) {
		const float *x = in + t * C;
		double s = 0, ss = 0;
		for (long i = 0; i < C; i++)
			s += x[i];
		double mean = s / (double)C;
		for (long i = 0; i < C; i++)
			ss += (x[i] - mean) * (x[i] - mean);
		double r = 1.0 / sqrt(ss / (double)C + eps);
		for (long i = 0; i < C; i++)
			out[t * C + i] = (float)((x[i] - mean) * r * w[i] + b[i]);
		if (cnt)
			cnt->vflops += 7.0 * C; /* mean, subtract, square, sum, scale, weight, bias */
	}
}

/* ---- RoPE ---- */

void ar_kernels_rope_table(float *cosv, float *sinv, long n_pos, long rd, double theta)
{
	long half = rd / 2;

	for (long p = 0; p < n_pos; p++)
		for (long i = 0; i < half; i++) {
			double a = (double)p * pow(theta, -2.0 * (double)i / (double)rd);
			cosv[p * half + i] = (float)cos(a);
			sinv[p * half + i] = (float)sin(a);
		}
}

/* rotate-half: (x1, x2) → (x1·cos − x2·sin, x2·cos + x1·sin) */
VEC static void rope_vec(float *x, long half, const float *c, const float *s)
{
#pragma omp simd
	for (long i = 0; i < half; i++) {
		float a = x[i], b = x[i + half];
		x[i] = a * c[i] - b * s[i];
		x[i + half] = b * c[i] + a * s[i];
	}
}

void ar_kernels_rope(const struct ar_rope_part *parts, int n_parts, long B, long S, long rd,
		     const float *cosv, const float *sinv, long pos0)
{
	long half = rd / 2, rows = B * S, heads = 0;

	for (int k = 0; k < n_parts; k++)
		heads += parts[k].heads;
	/* one item per (position, head) of every part */
#pragma omp parallel for schedule(static) if (rows * heads > 1)
	for (long rh = 0; rh < rows * heads; rh++) {
		long r = rh / heads, h = rh % heads, b = r / S, s = r % S, p = pos0 + s;
		int k = 0;
		while (h >= parts[k].heads)
			h -= parts[k++].heads;
		const struct ar_rope_part *q = &parts[k];
		rope_vec(q->x + b * q->bs + s * q->ls + h * q->hs + q->off, half, cosv + p * half,
			 sinv + p * half);
	}
}

void ar_kernels_rope_ref(const struct ar_rope_part *parts, int n_parts, long B, long S,
			 long rd, const float *cosv, const float *sinv, long pos0,
			 struct ar_kcount *cnt)
{
	long half = rd / 2;

	for (int k = 0; k < n_parts; k++) {
		const struct ar_rope_part *q = &parts[k];
		for (long b = 0; b < B; b++)
			for (long s = 0; s < S; s++)
				for (long h = 0; h < q->heads; h++) {
					float *v = q->x + b * q->bs + s * q->ls + h * q->hs + q->off;
					const float *c = cosv + (pos0 + s) * half, *sn = sinv + (pos0 + s) * half;
					for (long i = 0; i < half; i++) {
						float a = v[i], bb = v[i + half];
						v[i] = a * c[i] - bb * sn[i];
						v[i + half] = bb * c[i] + a * sn[i];
					}
					if (cnt)
						cnt->vflops += 3.0 * rd; /* two products and a sum per element */
				}
	}
}

/* ---- element-wise ---- */

VEC static void swiglu_vec(float *o, const float *g, const float *u, long n)
{
	long i = 0;

	for (; i + 8 <= n; i += 8) {
		v8f x = LD8(g + i), e;
		VEXP8(e, -x);
		ST8(o + i, x * LD8(u + i) / (1.0f + e));
	}
	for (; i < n; i++)
		o[i] = g[i] / (1.0f + vexp(-g[i])) * u[i];
}

VEC static void gelu_vec(float *o, const float *x, long n)
{
	/* 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), tanh(y) = 1 − 2/(e^{2y} + 1) */
	long i = 0;

	for (; i + 8 <= n; i += 8) {
		v8f v = LD8(x + i), e;
		VEXP8(e, 1.5957691216f * (v + 0.044715f * v * v * v));
		ST8(o + i, 0.5f * v * (2.0f - 2.0f / (e + 1.0f)));
	}
	for (; i < n; i++) {
		float y = 0.7978845608f * (x[i] + 0.044715f * x[i] * x[i] * x[i]);
		o[i] = 0.5f * x[i] * (2.0f - 2.0f / (vexp(2.0f * y) + 1.0f));
	}
}

VEC static void gate_vec(float *o, const float *g, const float *x, long n)
{
	long i = 0;

	for (; i + 8 <= n; i += 8) {
		v8f e;
		VEXP8(e, -LD8(g + i));
		ST8(o + i, LD8(x + i) / (1.0f + e));
	}
	for (; i < n; i++)
		o[i] = x[i] / (1.0f + vexp(-g[i]));
}

VEC static void add_vec(float *o, const float *a, const float *b, long n)
{
#pragma omp simd
	for (long i = 0; i < n; i++)
		o[i] = a[i] + b[i];
}

/* Run body over n elements in one chunk per thread, chunks of at least 16
 * elements that start on a 16-float (cache line) boundary: every op runs on
 * every thread, so that each pays the same dispatch. */
#define PARALLEL_CHUNKS(n, body)                                                   \
	do {                                                                           \
		long n_ = (n), nc_ = lmax(1, lmin(ar_kernels_threads(), n_ / 16));         \
		_Pragma("omp parallel for schedule(static) if (nc_ > 1)")                 \
		for (long c_ = 0; c_ < nc_; c_++) {                                        \
			long lo = c_ == 0 ? 0 : n_ * c_ / nc_ / 16 * 16;                   \
			long len = (c_ == nc_ - 1 ? n_ : n_ * (c_ + 1) / nc_ / 16 * 16) - lo; \
			body;                                                              \
		}                                                                          \
	} while (0)

void ar_kernels_swiglu(float *out, const float *gate, const float *up, long n)
{
	PARALLEL_CHUNKS(n, swiglu_vec(out + lo, gate + lo, up + lo, len));
}

void ar_kernels_gelu(float *out, const float *in, long n)
{
	PARALLEL_CHUNKS(n, gelu_vec(out + lo, in + lo, len));
}

void ar_kernels_gate(float *out, const float *g, const float *x, long n)
{
	PARALLEL_CHUNKS(n, gate_vec(out + lo, g + lo, x + lo, len));
}

void ar_kernels_add(float *out, const float *a, const float *b, long n)
{
	PARALLEL_CHUNKS(n, add_vec(out + lo, a + lo, b + lo, len));
}

void ar_kernels_swiglu_ref(float *out, const float *gate, const float *up, long n,
			   struct ar_kcount *cnt)
{
	for (long i = 0; i < n; i++)
		out[i] = (float)(gate[i] / (1.0 + exp(-(double)gate[i])) * up[i]);
	if (cnt)
		cnt->vflops += 5.0 * n; /* negate, exp, add, divide; product */
}

void ar_kernels_gelu_ref(float *out, const float *in, long n, struct ar_kcount *cnt)
{
	for (long i = 0; i < n; i++) {
		double x = in[i];
		out[i] = (float)(0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))));
	}
	if (cnt)
		cnt->vflops += 8.0 * n;
}

void ar_kernels_gate_ref(float *out, const float *g, const float *x, long n,
			 struct ar_kcount *cnt)
{
	for (long i = 0; i < n; i++)
		out[i] = (float)(x[i] / (1.0 + exp(-(double)g[i])));
	if (cnt)
		cnt->vflops += 5.0 * n; /* sigmoid (4) and the product */
}

void ar_kernels_add_ref(float *out, const float *a, const float *b, long n,
			struct ar_kcount *cnt)
{
	for (long i = 0; i < n; i++)
		out[i] = a[i] + b[i];
	if (cnt)
		cnt->vflops += (double)n;
}

void ar_kernels_tile_add(float *out, const float *o, long T, long G, long W, long dl)
{
	long rows = T * G;

	long tiles = (W + dl - 1) / dl;

#pragma omp parallel for schedule(static) if (rows * tiles > 1)
	for (long rt = 0; rt < rows * tiles; rt++) {
		long r = rt / tiles, c0 = rt % tiles * dl;
		add_vec(out + r * W + c0, out + r * W + c0, o + r * dl, lmin(dl, W - c0));
	}
}

void ar_kernels_tile_add_ref(float *out, const float *o, long T, long G, long W, long dl,
			     struct ar_kcount *cnt)
{
	for (long t = 0; t < T; t++)
		for (long g = 0; g < G; g++)
			for (long c = 0; c < W; c++)
				out[(t * G + g) * W + c] += o[(t * G + g) * dl + c % dl];
	if (cnt)
		cnt->vflops += (double)T * G * W;
}

void ar_kernels_embed(float *out, const float *table, long ld, const int *tok, long T, long C)
{
	long nb = col_blocks(T, C);

#pragma omp parallel for schedule(static) if (T * nb > 1)
	for (long tb = 0; tb < T * nb; tb++) {
		long t = tb / nb, lo, hi;
		col_range(C, tb % nb, nb, &lo, &hi);
		memcpy(out + t * C + lo, table + (long)tok[t] * ld + lo, (size_t)(hi - lo) * sizeof(float));
	}
}

static void to_head(float *cache, const float *src, long bh, long S, long heads, long hd,
		    long cap, long pos0)
{
	long b = bh / heads, h = bh % heads, n = heads * hd;
	float *d = cache + (bh * cap + pos0) * hd;
	const float *s = src + b * S * n + h * hd;

	for (long t = 0; t < S; t++)
		memcpy(d + t * hd, s + t * n, (size_t)hd * sizeof(float));
}

void ar_kernels_to_heads(float *cache, const float *src, long B, long S, long heads, long hd,
			 long cap, long pos0)
{
	long n = heads * hd;

	/* one (sequence, head) per item: a contiguous run of S rows; a decode
	 * step's few rows without a parallel region (entering one costs more
	 * than the copy) */
	if (B * S * n < 16384) {
		for (long bh = 0; bh < B * heads; bh++)
			to_head(cache, src, bh, S, heads, hd, cap, pos0);
		return;
	}
#pragma omp parallel for schedule(static)
	for (long bh = 0; bh < B * heads; bh++)
		to_head(cache, src, bh, S, heads, hd, cap, pos0);
}

/* ---- softmax ---- */

/* softmax of x (n) where entries from `vis` on are masked (probability 0) */
VEC static void softmax_row(float *x, long n, long vis)
{
	float m = -INFINITY, s = 0;
#pragma omp simd reduction(max : m)
	for (long i = 0; i < vis; i++)
		m = x[i] > m ? x[i] : m;
#pragma omp simd reduction(+ : s)
	for (long i = 0; i < vis; i++) {
		x[i] = vexp(x[i] - m);
		s += x[i];
	}
	float r = 1.0f / s;
#pragma omp simd
	for (long i = 0; i < vis; i++)
		x[i] *= r;
	for (long i = vis; i < n; i++)
		x[i] = 0;
}

void ar_kernels_softmax(float *x, long rows, long Sq, long Sk, int causal)
{
#pragma omp parallel for schedule(static) if (rows > 1)
	for (long r = 0; r < rows; r++) {
		long vis = causal ? lmin(Sk, Sk - Sq + r % Sq + 1) : Sk;
		softmax_row(x + r * Sk, Sk, vis);
	}
}

void ar_kernels_softmax_ref(float *x, long rows, long Sq, long Sk, int causal,
			    struct ar_kcount *cnt)
{
	for (long r = 0; r < rows; r++) {
		float *v = x + r * Sk;
		long vis = causal ? lmin(Sk, Sk - Sq + r % Sq + 1) : Sk;
		double m = -INFINITY, s = 0;
		for (long i = 0; i < vis; i++)
			m = v[i] > m ? v[i] : m;
		for (long i = 0; i < vis; i++)
			s += exp(v[i] - m);
		for (long i = 0; i < Sk; i++)
			v[i] = i < vis ? (float)(exp(v[i] - m) / s) : 0.0f;
		if (cnt)
			cnt->vflops += 5.0 * Sk; /* max, subtract, exp, sum, divide */
	}
}

/* ---- naive attention ---- */

static const float *key1(const struct ar_attn_args *a, long b, long map)
{
	return a->k1 + b * a->k1_bs + map / (a->maps / a->kh) * a->k1_hs;
}

void ar_kernels_qk(float *scores, const struct ar_attn_args *a)
{
	long g = a->maps / a->kh, dk = a->dk1 + a->dk2;
	/* one position (decode): the g maps of a key head are one product */
	long per = a->Sq == 1 ? g : 1, items = a->B * a->maps / per;

#pragma omp parallel for schedule(static) if (items > 1)
	for (long it = 0; it < items; it++) {
		long b = it / (a->maps / per), h = it % (a->maps / per) * per;
		const float *q = a->q + (b * a->Sq * a->maps + h) * dk;
		long lda = per > 1 ? dk : a->maps * dk, m = per > 1 ? per : a->Sq;
		float *c = scores + (b * a->maps + h) * a->Sq * a->Sk;

		sgemm(q, lda, key1(a, b, h), a->k1_ps, 1, c, a->Sk, m, a->Sk, a->dk1, a->scale, 0);
		if (a->dk2)
			sgemm(q + a->dk1, lda, a->k2 + b * a->k2_bs, a->k2_ps, 1, c, a->Sk, m,
			      a->Sk, a->dk2, a->scale, 1);
	}
}

void ar_kernels_qk_ref(float *scores, const struct ar_attn_args *a, struct ar_kcount *cnt)
{
	long dk = a->dk1 + a->dk2;

	for (long b = 0; b < a->B; b++)
		for (long h = 0; h < a->maps; h++)
			for (long i = 0; i < a->Sq; i++)
				for (long j = 0; j < a->Sk; j++) {
					const float *q = a->q + ((b * a->Sq + i) * a->maps + h) * dk;
					const float *k = key1(a, b, h) + j * a->k1_ps;
					double s = 0;
					for (long d = 0; d < a->dk1; d++)
						s += (double)q[d] * k[d];
					k = a->k2 + b * a->k2_bs + j * a->k2_ps;
					for (long d = 0; d < a->dk2; d++)
						s += (double)q[a->dk1 + d] * k[d];
					scores[((b * a->maps + h) * a->Sq + i) * a->Sk + j] = (float)(s * a->scale);
					if (cnt)
						cnt->mflops += 2.0 * dk;
				}
}

static const float *value(const struct ar_attn_args *a, long b, long head)
{
	return a->v + b * a->v_bs + head / (a->heads / a->vh) * a->v_hs;
}

void ar_kernels_av(const float *scores, const struct ar_attn_args *a)
{
	long hpm = a->heads / a->maps;
	/* one position and one output per map: the maps that share a value head
	 * are one product */
	long per = a->Sq == 1 && hpm == 1 ? a->maps / a->vh : 1;
	long items = a->B * a->heads / per;

#pragma omp parallel for schedule(static) if (items > 1)
	for (long it = 0; it < items; it++) {
		long b = it / (a->heads / per), i = it % (a->heads / per) * per, h = i / hpm;
		const float *p = scores + (b * a->maps + h) * a->Sq * a->Sk;
		float *o = a->out + (b * a->Sq * a->heads + i) * a->dv;
		long ldo = per > 1 ? a->dv : a->heads * a->dv, m = per > 1 ? per : a->Sq;

		sgemm(p, a->Sk, value(a, b, i), a->v_ps, 0, o, ldo, m, a->dv, a->Sk, 1, 0);
	}
}

void ar_kernels_av_ref(const float *scores, const struct ar_attn_args *a,
		       struct ar_kcount *cnt)
{
	long hpm = a->heads / a->maps;

	for (long b = 0; b < a->B; b++)
		for (long i = 0; i < a->Sq; i++)
			for (long e = 0; e < a->heads; e++) {
				const float *p = scores + ((b * a->maps + e / hpm) * a->Sq + i) * a->Sk;
				const float *v = value(a, b, e);
				float *o = a->out + ((b * a->Sq + i) * a->heads + e) * a->dv;
				for (long d = 0; d < a->dv; d++) {
					double s = 0;
					for (long j = 0; j < a->Sk; j++)
						s += (double)p[j] * v[j * a->v_ps + d];
					o[d] = (float)s;
				}
				if (cnt)
					cnt->mflops += 2.0 * a->Sk * a->dv;
			}
}

/* ---- flash attention ---- */

struct fplan {
	long g, hpm, ohe;    /* maps per key head, outputs per map, outputs per key head */
	long P, R;           /* positions per row block, row blocks */
	long rows;           /* g·P */
	long splits, items;  /* key splits per row block; work items */
	long sub;            /* items per row block that take a share of its positions */
	long dk, per_thread; /* floats of scratch per thread */
	long part;           /* floats of one partial result (splits > 1) */
};

static void fplan(struct fplan *f, const struct ar_attn_args *a, long Br, long Bc, int nt)
{
	long blocks, tiles = (a->Sk + Bc - 1) / Bc;

	f->g = a->maps / a->kh;
	f->hpm = a->heads / a->maps;
	f->ohe = f->g * f->hpm;
	f->P = lmax(1, Br / f->g);
	f->P = lmin(f->P, a->Sq);
	f->R = (a->Sq + f->P - 1) / f->P;
	f->rows = f->g * f->P;
	f->dk = a->dk1 + a->dk2;
	blocks = a->B * a->kh * f->R;
	/* split the keys (flash-decoding) when there are too few row blocks;
	 * where the keys are one tile, give shares of a block's positions to
	 * items of their own instead (each computes the block's tiles for its
	 * positions, so the tiles computed are those of the row blocks) */
	f->splits = blocks >= 2 * nt ? 1 : lmin(tiles, (2 * nt + blocks - 1) / blocks);
	f->splits = lmax(1, f->splits);
	f->sub = f->splits > 1 || blocks >= 2 * nt ? 1 : lmin(f->P, (2 * nt + blocks - 1) / blocks);
	f->items = blocks * f->splits * f->sub;
	f->part = f->ohe * f->P * a->dv + 2 * f->rows;
	f->per_thread = f->rows * f->dk + f->rows * Bc + f->ohe * f->P * a->dv + 3 * f->rows;
}

size_t ar_kernels_flash_scratch(const struct ar_attn_args *a, long Br, long Bc)
{
	struct fplan f;
	int nt = ar_kernels_threads();

	fplan(&f, a, Br, Bc, nt);
	return (size_t)(f.per_thread * nt + (f.splits > 1 ? f.part * f.items : 0));
}

/* Online softmax of one row of scores s (n computed keys, keys from `vis` on
 * masked): updates the running max *m and sum *l, turns s into e^{s − m} and
 * returns the factor that rescales what was accumulated before. */
VEC static float online_row(float *s, long n, long vis, float *m, float *l)
{
	float mx = *m, sum = 0;
#pragma omp simd reduction(max : mx)
	for (long i = 0; i < vis; i++)
		mx = s[i] > mx ? s[i] : mx;
#pragma omp simd reduction(+ : sum)
	for (long i = 0; i < vis; i++) {
		s[i] = vexp(s[i] - mx);
		sum += s[i];
	}
	for (long i = vis; i < n; i++)
		s[i] = 0;
	float corr = vexp(*m - mx);
	*l = *l * corr + sum;
	*m = mx;
	return corr;
}

VEC static void scale_vec(float *x, float f, long n)
{
#pragma omp simd
	for (long i = 0; i < n; i++)
		x[i] *= f;
}

VEC static void axpy_vec(float *y, float a, const float *x, long n)
{
#pragma omp simd
	for (long i = 0; i < n; i++)
		y[i] += a * x[i];
}

#define M_INIT (-1e30f) /* running max before any key: finite, so that e^{m−m'} is 0, never NaN */

/* One work item: positions [p0, p0 + np) of a row block of key head kh of
 * sequence b, key tiles [t0, t1). */
static void flash_item(const struct ar_attn_args *a, const struct fplan *f, long Bc, long b,
		       long kh, long p0, long np, long t0, long t1, float *ws, float *o, float *m,
		       float *l)
{
	long rows = f->g * np, dk = f->dk;
	long off = a->Sk - a->Sq, dv = a->dv;
	float *qt = ws, *st = qt + f->rows * dk, *corr = st + f->rows * Bc;
	long hpv = a->heads / a->vh; /* outputs per value head */
	long vh0 = kh * f->ohe / hpv, vh1 = (kh * f->ohe + f->ohe - 1) / hpv;
	int one_v = f->hpm == 1 && vh0 == vh1; /* one product for the whole group */

	/* 1. gather the block's queries, map-major (row j·np + p), pre-scaled */
	for (long j = 0; j < f->g; j++)
		for (long p = 0; p < np; p++) {
			const float *q = a->q + ((b * a->Sq + p0 + p) * a->maps + kh * f->g + j) * dk;
			float *d = qt + (j * np + p) * dk;
			for (long i = 0; i < dk; i++)
				d[i] = q[i] * a->scale;
		}
	for (long i = 0; i < rows; i++) {
		m[i] = M_INIT;
		l[i] = 0;
	}
	memset(o, 0, (size_t)(f->ohe * np * dv) * sizeof(float));
	for (long t = t0; t < t1; t++) {
		long k0 = t * Bc, bc = lmin(Bc, a->Sk - k0);
		/* 2. scores of the tile */
		sgemm(qt, dk, a->k1 + b * a->k1_bs + k0 * a->k1_ps + kh * a->k1_hs, a->k1_ps, 1,
		      st, Bc, rows, bc, a->dk1, 1, 0);
		if (a->dk2)
			sgemm(qt + a->dk1, dk, a->k2 + b * a->k2_bs + k0 * a->k2_ps, a->k2_ps, 1,
			      st, Bc, rows, bc, a->dk2, 1, 1);
		/* 3. online softmax per row, with the causal mask */
		for (long i = 0; i < rows; i++) {
			long vis = a->causal ? lmin(bc, lmax(0, off + p0 + i % np + 1 - k0)) : bc;
			corr[i] = online_row(st + i * Bc, bc, vis, &m[i], &l[i]);
		}
		/* 4. rescale the accumulators, then add P·V */
		for (long e = 0; e < f->ohe; e++)
			for (long p = 0; p < np; p++)
				scale_vec(o + (e * np + p) * dv, corr[(e / f->hpm) * np + p], dv);
		if (one_v) {
			const float *v = a->v + b * a->v_bs + k0 * a->v_ps + vh0 * a->v_hs;
			sgemm(st, Bc, v, a->v_ps, 0, o, dv, rows, dv, bc, 1, 1);
		} else {
			for (long e = 0; e < f->ohe; e++) {
				long i = kh * f->ohe + e;
				const float *v = value(a, b, i) + k0 * a->v_ps;
				sgemm(st + (e / f->hpm) * np * Bc, Bc, v, a->v_ps, 0, o + e * np * dv, dv,
				      np, dv, bc, 1, 1);
			}
		}
	}
}

/* key tiles a row block computes: causal blocks stop at their last visible key */
static long block_tiles(const struct ar_attn_args *a, const struct fplan *f, long r, long Bc)
{
	long end = lmin(a->Sq, (r + 1) * f->P), keys = a->Sk;

	if (a->causal)
		keys = lmin(a->Sk, (a->Sk - a->Sq + end + Bc - 1) / Bc * Bc);
	return (keys + Bc - 1) / Bc;
}

static void flash_write(const struct ar_attn_args *a, const struct fplan *f, long b, long kh,
			long p0, long np, const float *o, const float *l)
{
	for (long e = 0; e < f->ohe; e++)
		for (long p = 0; p < np; p++) {
			float *d = a->out + ((b * a->Sq + p0 + p) * a->heads + kh * f->ohe + e) * a->dv;
			const float *s = o + (e * np + p) * a->dv;
			float inv = 1.0f / l[(e / f->hpm) * np + p];
			for (long i = 0; i < a->dv; i++)
				d[i] = s[i] * inv;
		}
}

void ar_kernels_flash(const struct ar_attn_args *a, long Br, long Bc, float *scratch)
{
	struct fplan f;
	int nt = ar_kernels_threads();

	fplan(&f, a, Br, Bc, nt);
	float *parts = scratch + f.per_thread * nt;
	long blocks_per_b = a->kh * f.R;

#pragma omp parallel for schedule(dynamic, 1) if (f.items > 1)
	for (long it = 0; it < f.items; it++) {
		float *ws = scratch + f.per_thread * omp_get_thread_num();
		long blk = it / (f.splits * f.sub), sp = it / f.sub % f.splits, su = it % f.sub;
		long b = blk / blocks_per_b, kh = blk % blocks_per_b / f.R, r = blk % f.R;
		long nt_b = block_tiles(a, &f, r, Bc);
		long t0 = nt_b * sp / f.splits, t1 = nt_b * (sp + 1) / f.splits;
		long p0 = r * f.P, np = lmin(f.P, a->Sq - p0);
		long pa = p0 + np * su / f.sub, pn = p0 + np * (su + 1) / f.sub - pa;
		float *o, *m, *l;

		if (f.splits > 1) {
			o = parts + it * f.part;
			m = o + f.ohe * f.P * a->dv;
		} else {
			o = ws + f.rows * f.dk + f.rows * Bc + f.rows;
			m = o + f.ohe * f.P * a->dv;
		}
		l = m + f.rows;
		if (pn > 0)
			flash_item(a, &f, Bc, b, kh, pa, pn, t0, t1, ws, o, m, l);
		if (f.splits == 1 && pn > 0)
			flash_write(a, &f, b, kh, pa, pn, o, l);
	}
	if (f.splits == 1)
		return;
	/* combine the key splits of each row block: weights e^{m_s − max m} */
	long blocks = f.items / f.splits; /* sub is 1 here */
#pragma omp parallel for schedule(static) if (blocks > 1)
	for (long blk = 0; blk < blocks; blk++) {
		float *o0 = parts + blk * f.splits * f.part;
		long r = blk % f.R, np = lmin(f.P, a->Sq - r * f.P);
		float *m0 = o0 + f.ohe * f.P * a->dv, *l0 = m0 + f.rows;
		for (long s = 1; s < f.splits; s++) {
			float *os = o0 + s * f.part, *ms = os + f.ohe * f.P * a->dv, *ls = ms + f.rows;
			for (long i = 0; i < f.g * np; i++) {
				float mx = m0[i] > ms[i] ? m0[i] : ms[i];
				float w0 = vexp(m0[i] - mx), w1 = vexp(ms[i] - mx);
				l0[i] = l0[i] * w0 + ls[i] * w1;
				m0[i] = mx;
				for (long e = 0; e < f.hpm; e++) {
					long j = i / np, p = i % np, row = ((j * f.hpm + e) * np + p) * a->dv;
					scale_vec(o0 + row, w0, a->dv);
					axpy_vec(o0 + row, w1, os + row, a->dv);
				}
			}
		}
		flash_write(a, &f, blk / (a->kh * f.R), blk / f.R % a->kh, r * f.P, np, o0, l0);
	}
}

size_t ar_kernels_flash_ref_scratch(const struct ar_attn_args *a, long Bc)
{
	return (size_t)(Bc + a->heads / a->maps * a->dv);
}

void ar_kernels_flash_ref(const struct ar_attn_args *a, long Br, long Bc, float *scratch,
			  struct ar_kcount *cnt)
{
	struct fplan f;
	long off = a->Sk - a->Sq;

	fplan(&f, a, Br, Bc, 1);
	float *s = scratch, *acc = scratch + Bc;
	for (long b = 0; b < a->B; b++)
		for (long h = 0; h < a->maps; h++)
			for (long i = 0; i < a->Sq; i++) {
				const float *q = a->q + ((b * a->Sq + i) * a->maps + h) * f.dk;
				long tiles = block_tiles(a, &f, i / f.P, Bc);
				double m = M_INIT, l = 0;
				memset(acc, 0, (size_t)(f.hpm * a->dv) * sizeof(float));
				for (long t = 0; t < tiles; t++) {
					long k0 = t * Bc, bc = lmin(Bc, a->Sk - k0);
					long vis = a->causal ? lmin(bc, lmax(0, off + i + 1 - k0)) : bc;
					double mx = m, sum = 0;
					for (long j = 0; j < bc; j++) {
						const float *k = key1(a, b, h) + (k0 + j) * a->k1_ps;
						const float *k2 = a->k2 + b * a->k2_bs + (k0 + j) * a->k2_ps;
						double d = 0;
						for (long c = 0; c < a->dk1; c++)
							d += (double)q[c] * k[c];
						for (long c = 0; c < a->dk2; c++)
							d += (double)q[a->dk1 + c] * k2[c];
						s[j] = (float)(d * a->scale);
						if (j < vis && s[j] > mx)
							mx = s[j];
					}
					for (long j = 0; j < bc; j++) {
						s[j] = j < vis ? (float)exp(s[j] - mx) : 0.0f;
						sum += s[j];
					}
					double corr = exp(m - mx);
					l = l * corr + sum;
					m = mx;
					for (long e = 0; e < f.hpm; e++) {
						const float *v = value(a, b, h * f.hpm + e) + k0 * a->v_ps;
						for (long c = 0; c < a->dv; c++) {
							double x = acc[e * a->dv + c] * corr;
							for (long j = 0; j < bc; j++)
								x += (double)s[j] * v[j * a->v_ps + c];
							acc[e * a->dv + c] = (float)x;
						}
					}
					if (cnt) {
						cnt->mflops += 2.0 * bc * (f.dk + f.hpm * a->dv);
						cnt->vflops += 5.0 * bc;
					}
				}
				for (long e = 0; e < f.hpm; e++) {
					float *o = a->out + ((b * a->Sq + i) * a->heads + h * f.hpm + e) * a->dv;
					for (long c = 0; c < a->dv; c++)
						o[c] = (float)(acc[e * a->dv + c] / l);
				}
			}
}

/* ---- decode attention ---- */

/* Work of one decode problem: items are (sequence, key range); an item
 * walks its keys in order and handles every key head of each key, so K and
 * V rows stream from memory contiguously, once. */
struct dplan {
	long g, hpm, hpv;   /* maps per key head, outputs per map, outputs per value head */
	long tiles, splits, items;
	long part;          /* floats of one item's result: heads·dv accumulators, maps maxima, maps sums */
	long per_thread;    /* floats of one thread's scores and scaled queries: maps·(Bc + d_k) */
};

static void dplan(struct dplan *f, const struct ar_attn_args *a, long Bc, int nt)
{
	f->g = a->maps / a->kh;
	f->hpm = a->heads / a->maps;
	f->hpv = a->heads / a->vh;
	f->tiles = (a->Sk + Bc - 1) / Bc;
	/* split the keys when the sequences cannot keep every thread busy */
	f->splits = nt == 1 || a->B >= 2 * nt ? 1 : lmin(f->tiles, (2 * nt + a->B - 1) / a->B);
	f->splits = lmax(1, f->splits);
	f->items = a->B * f->splits;
	/* whole cache lines each, so that two threads never write one line */
	f->part = (a->heads * a->dv + 2 * a->maps + 15) / 16 * 16;
	f->per_thread = (a->maps * (Bc + a->dk1 + a->dk2) + 15) / 16 * 16;
}

/* Long blocks make long streams (head-major K/V at 64K keys, GQA-1B read
 * main memory at 89 % of the probe in blocks of 128, 96 % in blocks of
 * 512); halved down to 64 while the key ranges would not keep two items
 * per thread */
enum { DECODE_BLOCK_MAX = 512, DECODE_BLOCK_MIN = 64 };

long ar_kernels_decode_block(const struct ar_attn_args *a)
{
	long Bc = DECODE_BLOCK_MAX, nt = ar_kernels_threads();

	while (Bc > DECODE_BLOCK_MIN && a->B * ((a->Sk + Bc - 1) / Bc) < 2 * nt)
		Bc /= 2;
	return Bc;
}

size_t ar_kernels_decode_attn_scratch(const struct ar_attn_args *a, long Bc)
{
	struct dplan f;
	int nt = ar_kernels_threads();
	size_t most = 0;

	/* Bc <= 0: enough for any block the kernel may choose at up to Sk keys */
	for (long b = Bc > 0 ? Bc : DECODE_BLOCK_MIN; b <= (Bc > 0 ? Bc : DECODE_BLOCK_MAX); b *= 2) {
		dplan(&f, a, b, nt);
		size_t n = (size_t)(f.per_thread * nt + f.part * f.items + 16); /* + the alignment */
		most = n > most ? n : most;
	}
	return most;
}

/* The decode kernel's inner tiles keep eight vector accumulators in
 * registers while they walk their operands; they are inlined into
 * decode_item (so into each of its builds) with constant shapes. */
#define INLINE static inline __attribute__((always_inline))

enum { DSTEP = 16 };  /* keys per step of the score and value passes */
/* software prefetch distance, 4 to 16 keys (rows of row_floats floats): about
 * 40 KiB ahead where the rows hold every head side by side, 4 KiB where each
 * head's rows are one stream of their own (head-major).  On the Intel Xeon
 * guest a stream doing 8 multiply-adds per vector read 10.9 GB/s on one
 * thread with no prefetch, 12.2 at 4 KiB and 11.6 at 16 or 40; GTA-1B's
 * 512-byte value rows 16 keys (8 KiB) ahead 18.9 GB/s, 4 KiB 19.7 (2
 * threads, medians of 8 runs) */
static long ahead_keys(long row_floats, int head_major)
{
	long reach = (head_major ? 4096 : 40960) / (long)sizeof(float);

	return lmax(4, lmin(16, reach / lmax(1, row_floats)));
}

/* keys of a step whose rows of len floats stay in the L1 together: 16 kB,
 * 16 to 64 keys */
static long l1_keys(long len)
{
	return lmax(16, lmin(64, 4096 / lmax(1, len)));
}

#define PREFETCH_L2(p) __builtin_prefetch((p), 0, 1)

INLINE void prefetch_span(const float *p, long len)
{
	for (long c = 0; c < len; c += 16)
		PREFETCH_L2(p + c);
	if (len % 16)
		PREFETCH_L2(p + len - 1);
}

/* The tiles and the work item, 8 lanes wide (AVX2, and plain x86-64 in its
 * baseline build) */
#define DW 8
#define dvec v8f
#define dvecu v8u
#define dveci v8i
#define DHSUM HSUM8
#define DFN(name) name##_8
#define DTARGET VEC
#include "decode.inc"
#undef DW
#undef dvec
#undef dvecu
#undef dveci
#undef DHSUM
#undef DFN
#undef DTARGET

/* ... and 16 lanes wide, for processors with AVX-512 (twice the multiply-adds
 * per instruction; picked at run time) */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HAVE_DECODE16 1
typedef float v16f __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));
typedef int v16i __attribute__((vector_size(64)));

/* r = the lane sums of acc[0..15], in order: four rounds of pairwise
 * shuffles and adds */
#define HSUM16(r, acc)                                                                 \
	do {                                                                           \
		const v16i l1_ = { 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30 }; \
		const v16i h1_ = { 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31 }; \
		const v16i l2_ = { 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29 }; \
		const v16i h2_ = { 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31 }; \
		const v16i l3_ = { 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27 }; \
		const v16i h3_ = { 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31 }; \
		const v16i l4_ = { 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23 }; \
		const v16i h4_ = { 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31 }; \
		v16f t_[8], u_[4], w_[2];                                              \
		for (int i_ = 0; i_ < 8; i_++)                                         \
			t_[i_] = __builtin_shuffle((acc)[2 * i_], (acc)[2 * i_ + 1], l1_) + \
				 __builtin_shuffle((acc)[2 * i_], (acc)[2 * i_ + 1], h1_);  \
		for (int i_ = 0; i_ < 4; i_++)                                         \
			u_[i_] = __builtin_shuffle(t_[2 * i_], t_[2 * i_ + 1], l2_) +      \
				 __builtin_shuffle(t_[2 * i_], t_[2 * i_ + 1], h2_);       \
		for (int i_ = 0; i_ < 2; i_++)                                         \
			w_[i_] = __builtin_shuffle(u_[2 * i_], u_[2 * i_ + 1], l3_) +      \
				 __builtin_shuffle(u_[2 * i_], u_[2 * i_ + 1], h3_);       \
		(r) = __builtin_shuffle(w_[0], w_[1], l4_) + __builtin_shuffle(w_[0], w_[1], h4_); \
	} while (0)

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")
#define DW 16
#define dvec v16f
#define dvecu v16u
#define dveci v16i
#define DHSUM HSUM16
#define DFN(name) name##_16
#define DTARGET
#include "decode.inc"
#undef DW
#undef dvec
#undef dvecu
#undef dveci
#undef DHSUM
#undef DFN
#undef DTARGET
#pragma GCC pop_options

/* AVX-512 with the extensions the 16-lane item is built with */
static int has_avx512(void)
{
	static int known = -1;

	if (known < 0) {
		__builtin_cpu_init();
		known = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
			__builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
	}
	return known;
}
#endif

int ar_kernels_decode_lanes(int lanes)
{
	static int chosen; /* 0: the widest */
#ifdef HAVE_DECODE16
	int widest = has_avx512() ? 16 : 8;
#else
	int widest = 8;
#endif

	if (lanes >= 0)
		chosen = lanes == 8 || lanes == 16 ? lanes : 0;
	return chosen && chosen < widest ? chosen : widest;
}

/* Row r (sequence b, map i) of the decode kernel's result: its key ranges'
 * partial sums merged (weights e^{m_s − max m}), normalised, written */
static void merge_row(const struct ar_attn_args *a, const struct dplan *f, float *parts, long r)
{
	long b = r / a->maps, i = r % a->maps, hd = f->hpm * a->dv;
	float *o0 = parts + b * f->splits * f->part;
	float *m0 = o0 + a->heads * a->dv + i, *l0 = o0 + a->heads * a->dv + a->maps + i;
	float *oi = o0 + i * hd;

	for (long sp = 1; sp < f->splits; sp++) {
		float *os = o0 + sp * f->part;
		float ms = os[a->heads * a->dv + i], ls = os[a->heads * a->dv + a->maps + i];
		float mx = *m0 > ms ? *m0 : ms;
		float w0 = vexp(*m0 - mx), w1 = vexp(ms - mx);
		*l0 = *l0 * w0 + ls * w1;
		*m0 = mx;
		scale_vec(oi, w0, hd);
		axpy_vec(oi, w1, os + i * hd, hd);
	}
	float *d = a->out + (b * a->heads + i * f->hpm) * a->dv, inv = 1.0f / *l0;
	for (long c = 0; c < hd; c++)
		d[c] = oi[c] * inv;
}

void ar_kernels_decode_attn(const struct ar_attn_args *a, long Bc, float *scratch)
{
	struct dplan f;
	int nt = ar_kernels_threads();

	if (Bc <= 0)
		Bc = ar_kernels_decode_block(a);

	dplan(&f, a, Bc, nt);
	scratch += (64 - (uintptr_t)scratch % 64) % 64 / sizeof(float); /* to a cache line */
	float *parts = scratch + f.per_thread * nt;
#ifdef HAVE_DECODE16
	const int wide = ar_kernels_decode_lanes(-1) == 16;
#endif

	const long rows = a->B * a->maps;

	/* One parallel region for both steps, the merge after a barrier: a
	 * second fork and join cost as much as the whole attention of a few
	 * hundred keys where the threads sit in different core complexes
	 * (0.4 us a round trip between them).  Items go to threads in fixed
	 * runs, no shared counter to fetch from, and a thread keeps its key
	 * ranges from one step to the next (in its own cache). */
#pragma omp parallel if (f.items > 1 && nt > 1)
	{
		/* 1. every item: a key range of one sequence */
#pragma omp for schedule(static)
		for (long it = 0; it < f.items; it++) {
			long b = it / f.splits, sp = it % f.splits;
			long t0 = f.tiles * sp / f.splits, t1 = f.tiles * (sp + 1) / f.splits;
			float *o = parts + it * f.part, *m = o + a->heads * a->dv, *l = m + a->maps;
			float *ws = scratch + f.per_thread * omp_get_thread_num();
#ifdef HAVE_DECODE16
			if (wide)
				decode_item_16(a, &f, Bc, b, t0 * Bc, lmin(a->Sk, t1 * Bc), ws, o, m, l);
			else
#endif
				decode_item_8(a, &f, Bc, b, t0 * Bc, lmin(a->Sk, t1 * Bc), ws, o,
					      m, l);
		}
		/* 2. merge the key ranges of each sequence (weights e^{m_s − max m})
		 * per map, normalise, write */
#pragma omp for schedule(static) nowait
		for (long r = 0; r < rows; r++)
			merge_row(a, &f, parts, r);
	}
}

size_t ar_kernels_decode_attn_ref_scratch(const struct ar_attn_args *a)
{
	return (size_t)a->Sk;
}

void ar_kernels_decode_attn_ref(const struct ar_attn_args *a, float *scratch,
				struct ar_kcount *cnt)
{
	long dk = a->dk1 + a->dk2, hpm = a->heads / a->maps;
	float *p = scratch;

	for (long b = 0; b < a->B; b++)
		for (long h = 0; h < a->maps; h++) {
			const float *q = a->q + (b * a->maps + h) * dk;
			double mx = -INFINITY, sum = 0;
			/* 1. scores of every key, then their maximum */
			for (long j = 0; j < a->Sk; j++) {
				const float *k = key1(a, b, h) + j * a->k1_ps;
				double d = 0;
				for (long c = 0; c < a->dk1; c++)
					d += (double)q[c] * k[c];
				for (long c = 0; c < a->dk2; c++)
					d += (double)q[a->dk1 + c] * a->k2[b * a->k2_bs + j * a->k2_ps + c];
				p[j] = (float)(d * a->scale);
				mx = p[j] > mx ? p[j] : mx;
			}
			/* 2. probabilities */
			for (long j = 0; j < a->Sk; j++) {
				double e = exp(p[j] - mx);
				sum += e;
				p[j] = (float)e;
			}
			/* 3. every output of the map: Σ_j p_j·v_j / Σ_j p_j */
			for (long e = 0; e < hpm; e++) {
				const float *v = value(a, b, h * hpm + e);
				float *o = a->out + (b * a->heads + h * hpm + e) * a->dv;
				for (long c = 0; c < a->dv; c++) {
					double x = 0;
					for (long j = 0; j < a->Sk; j++)
						x += (double)p[j] * v[j * a->v_ps + c];
					o[c] = (float)(x / sum);
				}
			}
			if (cnt) {
				cnt->mflops += 2.0 * a->Sk * (dk + hpm * a->dv);
				cnt->vflops += 5.0 * a->Sk;
			}
		}
}

/* ---- calibration probes ---- */


/* 8 independent chains of 8-wide FMAs (enough to cover the FMA latency) */
VEC static float fma_chains(long n)
{
	v8f a0 = { 0 }, a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3, a4 = a0 + 4, a5 = a0 + 5,
	    a6 = a0 + 6, a7 = a0 + 7, x = a0 + 0.999999f, y = a0 + 1e-7f;

	for (long i = 0; i < n; i++) {
		a0 = a0 * x + y; a1 = a1 * x + y; a2 = a2 * x + y; a3 = a3 * x + y;
		a4 = a4 * x + y; a5 = a5 * x + y; a6 = a6 * x + y; a7 = a7 * x + y;
	}
	v8f s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
	float r = 0;
	for (int j = 0; j < 8; j++)
		r += s[j];
	return r;
}

float ar_kernels_fma_probe(long n)
{
	float s = 0;

#pragma omp parallel reduction(+ : s)
	s += fma_chains(n);
	return s;
}

VEC static void exp_vec(float *o, const float *x, long n)
{
#pragma omp simd
	for (long i = 0; i < n; i++)
		o[i] = vexp(x[i]);
}

void ar_kernels_exp(float *out, const float *in, long n)
{
	PARALLEL_CHUNKS(n, exp_vec(out + lo, in + lo, len));
}

VEC static double sum_vec(const float *x, long n)
{
	float acc[64] = { 0 }, s = 0;
	long i = 0;

	for (; i + 64 <= n; i += 64) {
		/* 1 KiB ahead, one request per 64-byte line: the hardware prefetchers
		 * alone leave main-memory bandwidth unused */
		__builtin_prefetch(x + i + 256);
		__builtin_prefetch(x + i + 272);
		__builtin_prefetch(x + i + 288);
		__builtin_prefetch(x + i + 304);
#pragma omp simd
		for (int j = 0; j < 64; j++)
			acc[j] += x[i + j];
	}
	for (; i < n; i++)
		s += x[i];
	for (int j = 0; j < 64; j++)
		s += acc[j];
	return s;
}

double ar_kernels_sum(const float *x, long n, long reps)
{
	double s = 0;
	int nt = ar_kernels_threads();

#pragma omp parallel for schedule(static) reduction(+ : s) if (nt > 1)
	for (int c = 0; c < nt; c++) {
		long lo = n * c / nt, hi = n * (c + 1) / nt;
		for (long r = 0; r < reps; r++)
			s += sum_vec(x + lo, hi - lo);
	}
	return s;
}

double ar_kernels_round_trip(long rounds)
{
	enum { BATCH = 64 };
	/* the line passed: 2i+1 from the first thread, 2i+2 the second's
	 * answer; -1 ends the run (the first thread waited too long) */
	static _Alignas(64) atomic_long line;
	double ts[64];
	int n = 0;

	if (ar_kernels_threads() < 2 || rounds < BATCH)
		return 0;
	long batches = rounds / BATCH > 64 ? 64 : rounds / BATCH;
	atomic_store(&line, 0);
#pragma omp parallel num_threads(2) shared(n, ts)
	if (omp_get_num_threads() == 2) {
		const int me = omp_get_thread_num();
		const double limit = omp_get_wtime() + 0.02;
		for (long b = 0; b < batches && atomic_load(&line) != -1; b++) {
			double t0 = omp_get_wtime();
			for (long i = b * BATCH; i < (b + 1) * BATCH; i++) {
				long v, ask = 2 * i + 1;
				if (me == 0) {
					atomic_store_explicit(&line, ask, memory_order_release);
					while ((v = atomic_load_explicit(&line, memory_order_acquire)) != ask + 1 &&
					       v != -1)
						if (omp_get_wtime() > limit && atomic_compare_exchange_strong(&line, &v, -1))
							v = -1;
				} else {
					while ((v = atomic_load_explicit(&line, memory_order_acquire)) != ask &&
					       v != -1)
						;
					/* never over the end mark */
					if (v == ask)
						atomic_compare_exchange_strong(&line, &v, ask + 1);
				}
				if (atomic_load_explicit(&line, memory_order_acquire) == -1)
					break;
			}
			if (me == 0 && atomic_load(&line) != -1)
				ts[n++] = (omp_get_wtime() - t0) / BATCH;
		}
	}
	if (atomic_load(&line) == -1 || n == 0)
		return 0;
	/* the median batch */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && ts[j] < ts[j - 1]; j--) {
			double t = ts[j];
			ts[j] = ts[j - 1];
			ts[j - 1] = t;
		}
	return ts[n / 2];
}
