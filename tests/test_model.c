/* Models: parameter counts by hand for the small fixtures, the published
 * counts of real models, arch defaults, and Hugging Face config.json import
 * (Llama, the GTA authors' config, DeepSeek-V2-Lite) down to the struct. */
#include "testutil.h"

#include <stdlib.h>
#include <unistd.h>

#include "graph.h"
#include "model.h"

static const char *root(void)
{
	const char *r = getenv("ATTNROOF_DATA");

	return r && *r ? r : ".";
}

static void load_path(struct ar_model *m, const char *dir, const char *file)
{
	struct ar_err err = { 0 };
	char path[1024];
	size_t n;
	int rc;

	snprintf(path, sizeof(path), "%s/%s/%s", root(), dir, file);
	n = strlen(path);
	rc = n > 5 && !strcmp(path + n - 5, ".json") ? ar_model_load_hf(m, path, &err)
						     : ar_model_load(m, path, &err);
	if (rc) {
		print_error("%s: %s\n", path, err.msg);
		fail();
	}
}

static void parse_hf(struct ar_model *m, const char *name, const char *json)
{
	struct ar_err err = { 0 };

	if (ar_model_parse_hf(m, name, json, strlen(json), &err)) {
		print_error("%s: %s\n", name, err.msg);
		fail();
	}
}

/* ---- parameters ---- */

static void test_model__params_by_hand(void **state)
{
	/* H 64, n_h 4, d_h 16, MLP 128 (SwiGLU: 3 matrices), vocab 100, 2 layers;
	 * per layer two RMSNorms of 64; a final norm of 64; embeddings 100·64,
	 * twice when untied */
	static const struct { const char *file; double params; } cases[] = {
		/* q, k, v, o 4·64·64 = 16384; MLP 3·64·128 = 24576; norms 128 */
		{ "tiny-mha.yaml", 2 * (16384 + 24576 + 128) + 2 * 6400 + 64 },
		/* q 64·64, k and v 64·32, o 64·64 = 12288; tied */
		{ "tiny-gqa.yaml", 2 * (12288 + 24576 + 128) + 6400 + 64 },
		/* q 64·32, k 64·16, v 64·64, o 64·64 = 11264 */
		{ "tiny-gva.yaml", 2 * (11264 + 24576 + 128) + 2 * 6400 + 64 },
		/* q 64·32, k 64·16, v 64·32, o 64·64 = 9216 */
		{ "tiny-gha.yaml", 2 * (9216 + 24576 + 128) + 2 * 6400 + 64 },
		/* q (64+1)·32, k 65·16, v 65·32, v_b_proj 2 groups of 32×32, g 65·64,
		 * o 64·64 = 2080 + 1040 + 2080 + 2048 + 4160 + 4096 = 15504; tied */
		{ "tiny-gta.yaml", 2 * (15504 + 24576 + 128) + 6400 + 64 },
		/* q 64·4·24 = 6144, kv_a 64·40 + its norm 32 = 2592, kv_b 32·4·(16+16) = 4096,
		 * o 4·16·64 = 4096 */
		{ "tiny-mla.yaml", 2 * (6144 + 2592 + 4096 + 4096 + 24576 + 128) + 2 * 6400 + 64 },
		/* q, k, v with biases 3·65·64, o with bias 64·64 + 64; GELU MLP with
		 * biases 2·64·128 + 128 + 64; LayerNorms 2·2·64; final LayerNorm 128 */
		{ "tiny-bias.yaml", 2 * (3 * 65 * 64 + 4160 + 16384 + 192 + 256) + 2 * 6400 + 128 },
		/* layer 0 dense: 12288 + 24576 + 128; layer 1: 12288 + router 64·4 +
		 * (4 routed + 1 shared)·3·64·32 + 128 */
		{ "tiny-moe.yaml", (12288 + 24576 + 128) + (12288 + 256 + 5 * 6144 + 128) + 2 * 6400 + 64 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct ar_model m;

		load_path(&m, "tests/data/good", cases[i].file);
		if (ar_model_params(&m) != cases[i].params) {
			print_error("%s: %.17g parameters, want %.17g\n", cases[i].file,
				    ar_model_params(&m), cases[i].params);
			fail();
		}
		assert_close(ar_model_params_sharded(&m, 1), cases[i].params, 0, 0);
	}
}

static void test_model__params_sharded_by_hand(void **state)
{
	struct ar_model m;

	(void)state;
	/* per device at tp 2: q 64·32, k and v 64·16, o 32·64 = 6144; MLP 3·64·64;
	 * norms 128 (replicated); vocab 50 of 100 */
	load_path(&m, "tests/data/good", "tiny-gqa.yaml");
	assert_close(ar_model_params_sharded(&m, 2), 2 * (6144 + 12288 + 128) + 50 * 64 + 64, 0, 0);
	/* GTA at tp 2: one map; key head and latent replicated: q 65·16, k 65·16,
	 * v 65·32, v_b_proj 32·32, g 65·32, o 32·64 */
	load_path(&m, "tests/data/good", "tiny-gta.yaml");
	assert_close(ar_model_params_sharded(&m, 2),
		     2 * (1040 + 1040 + 2080 + 1024 + 2080 + 2048 + 12288 + 128) + 50 * 64 + 64, 0, 0);
}

static void test_model__published_param_counts(void **state)
{
	/* the safetensors totals of the released checkpoints */
	static const struct { const char *file; double params; } cases[] = {
		{ "llama-3.2-1b.yaml", 1235814400 },
		{ "llama-3.1-8b.yaml", 8030261248 },
		{ "deepseek-v2-lite.yaml", 15706484224 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct ar_model m;

		load_path(&m, "configs", cases[i].file);
		assert_close(ar_model_params(&m), cases[i].params, 0, 0);
	}
}

/* ---- arch files ---- */

static void test_model__arch_defaults_and_overrides(void **state)
{
	struct ar_model m;

	(void)state;
	/* mha: every parameter from its defaults */
	load_path(&m, "tests/data/good", "tiny-mha.yaml");
	assert_string_equal(m.attn.arch, "mha");
	assert_string_equal(m.attn.label, "MHA");
	assert_string_equal(m.attn.expressivity, "Strong");
	assert_int_equal(m.attn.n_q, 4);
	assert_int_equal(m.attn.n_k, 4);
	assert_int_equal(m.attn.n_v, 4);
	assert_int_equal(m.attn.d_k, 16);
	assert_int_equal(m.attn.d_v, 16);
	assert_int_equal(m.attn.av, AR_AV_PER_HEAD);
	assert_int_equal(m.attn.decoder, AR_DEC_NONE);
	assert_false(m.attn.latent);
	assert_int_equal(m.mlp, AR_MLP_SWIGLU);
	assert_int_equal(m.norm, AR_NORM_RMS);
	assert_false(m.tie_embeddings);
	/* gta: n_v from the config; d_v overridden to 32 */
	load_path(&m, "tests/data/good", "tiny-gta.yaml");
	assert_string_equal(m.attn.label, "GTA");
	assert_int_equal(m.attn.av, AR_AV_PER_MAP);
	assert_int_equal(m.attn.decoder, AR_DEC_GATED);
	assert_int_equal(m.attn.d_v, 32);
	assert_true(m.attn_bias);
	assert_false(m.o_bias);
	assert_true(m.tie_embeddings);
	/* mla: latent with absorption by default */
	load_path(&m, "tests/data/good", "tiny-mla.yaml");
	assert_true(m.attn.latent);
	assert_true(m.attn.absorb);
	assert_int_equal(m.attn.d_c, 32);
	assert_int_equal(m.attn.d_rope, 8);
	assert_int_equal(m.attn.d_nope, 16);
	assert_int_equal(m.attn.d_v, 16);
	assert_int_equal(m.attn.q_rank, 0);
	assert_close(ar_model_kv_elems(&m), 40, 0, 0);
	load_path(&m, "tests/data/good", "tiny-bias.yaml");
	assert_int_equal(m.mlp, AR_MLP_GELU);
	assert_int_equal(m.norm, AR_NORM_LAYER);
	assert_true(m.attn_bias && m.o_bias && m.mlp_bias);
	load_path(&m, "tests/data/good", "tiny-moe.yaml");
	assert_int_equal(m.moe.experts, 4);
	assert_int_equal(m.moe.active, 2);
	assert_int_equal(m.moe.shared, 1);
	assert_int_equal(m.moe.intermediate, 32);
	assert_int_equal(m.moe.dense_layers, 1);
}

static void test_model__with_arch_takes_the_arch_defaults(void **state)
{
	struct ar_model base, m;
	struct ar_err err = { 0 };
	char path[1024];

	(void)state;
	load_path(&base, "configs", "gqa-1b.yaml");
	snprintf(path, sizeof(path), "%s/archs/gta.yaml", root());
	assert_int_equal(ar_model_with_arch(&m, &base, path, &err), 0);
	/* gta.yaml at n_h 20, d_h 64: n_q = n_h/4, one key head, d_v = 2·d_h */
	assert_int_equal(m.attn.n_q, 5);
	assert_int_equal(m.attn.n_k, 1);
	assert_int_equal(m.attn.n_v, 1);
	assert_int_equal(m.attn.d_k, 64);
	assert_int_equal(m.attn.d_v, 128);
	assert_int_equal(m.attn.decoder, AR_DEC_GATED);
	assert_int_equal(m.layers, 54);
	assert_close(ar_model_kv_elems(&m), 192, 0, 0);
	snprintf(path, sizeof(path), "%s/archs/mla.yaml", root());
	assert_int_equal(ar_model_with_arch(&m, &base, path, &err), 0);
	/* mla.yaml: one latent head, d_c = 4·d_h, d_rope = d_h/2 */
	assert_int_equal(m.attn.n_k, 1);
	assert_close(ar_model_kv_elems(&m), 4 * 64 + 32, 0, 0);
	/* arXiv 2505.21487's variants at n_h 20, d_h 64: gta-tied.yaml has GQA's
	 * n_h/4 key heads, tied states of d_h and a RoPE key of d_h/2; gla.yaml 2
	 * latent heads of 2·d_h, a RoPE key of d_h/2, q heads of d_h + d_rope */
	static const struct {
		const char *arch;
		int tied, latent;
		long n_k, n_v, d_c, d_rope, d_nope, d_v;
		double kv;
	} v[] = {
		{ "gta-tied", 1, 0, 5, 5, 0, 32, 64, 64, 5 * 64 + 32 },
		{ "gla", 0, 1, 2, 2, 128, 32, 64, 64, 2 * 128 + 32 },
	};
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/archs/%s.yaml", root(), v[i].arch);
		assert_int_equal(ar_model_with_arch(&m, &base, path, &err), 0);
		assert_int_equal(m.attn.tied, v[i].tied);
		assert_int_equal(m.attn.latent, v[i].latent);
		assert_int_equal(m.attn.n_q, 20);
		assert_int_equal(m.attn.n_k, v[i].n_k);
		assert_int_equal(m.attn.n_v, v[i].n_v);
		assert_int_equal(m.attn.d_k, 64);
		assert_int_equal(m.attn.d_c, v[i].d_c);
		assert_int_equal(m.attn.d_rope, v[i].d_rope);
		assert_int_equal(m.attn.d_nope, v[i].d_nope);
		assert_int_equal(m.attn.d_v, v[i].d_v);
		assert_close(ar_model_kv_elems(&m), v[i].kv, 0, 0);
	}
}

/* A latent arch that names no n_k has one latent head; the configs at the
 * 1B shape give the caches their comments state. */
static void test_model__latent_heads_default_to_one(void **state)
{
	static const char arch[] = "name: lat\nlatent: true\nd_c: 4 * d_h\nd_rope: d_h / 2\n";
	char path[] = "/tmp/attnroof-test-XXXXXX", text[512];
	struct ar_model m;
	struct ar_err err = { 0 };
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, arch, strlen(arch)), (int)strlen(arch));
	close(fd);
	snprintf(text, sizeof(text), "name: x\narch: %s\nlayers: 1\nhidden: 64\nheads: 4\n"
		 "intermediate: 128\nvocab: 100\n", path);
	assert_int_equal(ar_model_parse(&m, "mem.yaml", text, strlen(text), &err), 0);
	unlink(path);
	assert_int_equal(m.attn.n_k, 1);
	assert_close(ar_model_kv_elems(&m), 64 + 8, 0, 0);
	load_path(&m, "configs", "gta-tied-1b.yaml");
	assert_close(ar_model_kv_elems(&m), 352, 0, 0);
	load_path(&m, "configs", "gla-1b.yaml");
	assert_close(ar_model_kv_elems(&m), 288, 0, 0);
	load_path(&m, "configs", "mla-500m.yaml");
	assert_int_equal(m.attn.n_k, 1);
}

/* ---- Hugging Face config.json ---- */

static void test_model__hf_llama(void **state)
{
	struct ar_model m, yaml;

	(void)state;
	load_path(&m, "tests/data/good", "hf-llama-3.2-1b.json");
	assert_string_equal(m.name, "hf-llama-3.2-1b");
	assert_string_equal(m.attn.arch, "gqa");
	assert_int_equal(m.layers, 16);
	assert_int_equal(m.hidden, 2048);
	assert_int_equal(m.intermediate, 8192);
	assert_int_equal(m.vocab, 128256);
	assert_int_equal(m.attn.n_h, 32);
	assert_int_equal(m.attn.d_h, 64);
	assert_int_equal(m.attn.n_q, 32);
	assert_int_equal(m.attn.n_k, 8);
	assert_int_equal(m.attn.n_v, 8);
	assert_int_equal(m.attn.d_k, 64);
	assert_int_equal(m.attn.d_v, 64);
	assert_int_equal(m.attn.av, AR_AV_PER_HEAD);
	assert_int_equal(m.attn.decoder, AR_DEC_NONE);
	assert_true(m.tie_embeddings);
	assert_false(m.attn_bias || m.o_bias || m.mlp_bias);
	assert_int_equal(m.mlp, AR_MLP_SWIGLU);
	assert_close(ar_model_kv_elems(&m), 2 * 8 * 64, 0, 0);
	load_path(&yaml, "configs", "llama-3.2-1b.yaml");
	assert_close(ar_model_params(&m), ar_model_params(&yaml), 0, 0);
	assert_close(ar_model_params(&m), 1235814400, 0, 0);
}

static void test_model__hf_llama_head_dim_bias_and_mha(void **state)
{
	struct ar_model m;

	(void)state;
	/* head_dim differs from hidden / heads (Qwen3 style); attention_bias puts a
	 * bias on q, k, v and o; no num_key_value_heads means MHA */
	parse_hf(&m, "x/qwenish/config.json",
		 "{\"num_hidden_layers\": 2, \"hidden_size\": 64, \"num_attention_heads\": 4,"
		 " \"head_dim\": 32, \"intermediate_size\": 128, \"vocab_size\": 100,"
		 " \"attention_bias\": true, \"mlp_bias\": true, \"tie_word_embeddings\": false}");
	assert_string_equal(m.name, "qwenish");
	assert_string_equal(m.attn.label, "MHA");
	assert_int_equal(m.attn.d_h, 32);
	assert_int_equal(m.attn.n_k, 4);
	assert_int_equal(m.attn.d_k, 32);
	assert_true(m.attn_bias);
	assert_true(m.o_bias);
	assert_true(m.mlp_bias);
	/* q, k, v: 3·(64 + 1)·128; o: 128·64 + 64; MLP 3·64·128 + 2·128 + 64 */
	assert_close(ar_model_params(&m),
		     2 * (3 * 65 * 128 + 128 * 64 + 64 + 3 * 64 * 128 + 2 * 128 + 64 + 128) +
		     2 * 6400 + 64, 0, 0);
	assert_close(ar_model_kv_elems(&m), 2 * 4 * 32, 0, 0);
}

static void test_model__hf_gta_authors_config(void **state)
{
	struct ar_model m, yaml;

	(void)state;
	load_path(&m, "tests/data/good", "gta-1b-hf/config.json");
	assert_string_equal(m.name, "gta-1b-hf");
	assert_string_equal(m.attn.arch, "gta");
	assert_string_equal(m.attn.label, "GTA");
	assert_int_equal(m.layers, 54);
	assert_int_equal(m.hidden, 1280);
	assert_int_equal(m.intermediate, 3584);
	assert_int_equal(m.vocab, 128256);
	assert_int_equal(m.attn.n_h, 20);
	assert_int_equal(m.attn.d_h, 64);
	assert_int_equal(m.attn.n_q, 5);
	assert_int_equal(m.attn.n_k, 1);
	assert_int_equal(m.attn.d_k, 64);
	assert_int_equal(m.attn.n_v, 1);
	assert_int_equal(m.attn.d_v, 128);
	assert_int_equal(m.attn.av, AR_AV_PER_MAP);
	assert_int_equal(m.attn.decoder, AR_DEC_GATED);
	/* the authors' code has biases on q, k, v and g whatever attention_bias says */
	assert_true(m.attn_bias);
	assert_false(m.o_bias);
	assert_false(m.mlp_bias);
	assert_true(m.tie_embeddings);
	assert_close(ar_model_kv_elems(&m), 192, 0, 0);
	load_path(&yaml, "configs", "gta-1b.yaml");
	assert_close(ar_model_params(&m), ar_model_params(&yaml), 0, 0);
	/* per layer: q 1281·320, k 1281·64, v 1281·128, v_b_proj 128·1280, g 1281·1280,
	 * o 1280·1280, MLP 3·1280·3584, norms 2·1280; tied embeddings 128256·1280 */
	assert_close(ar_model_params(&m),
		     54 * (1281.0 * 320 + 1281 * 64 + 1281 * 128 + 128 * 1280 + 1281 * 1280 +
			   1280 * 1280 + 3 * 1280.0 * 3584 + 2 * 1280) + 128256.0 * 1280 + 1280, 0, 0);
}

static void test_model__hf_deepseek_v2_lite(void **state)
{
	struct ar_model m, yaml;

	(void)state;
	load_path(&m, "tests/data/good", "hf-deepseek-v2-lite.json");
	assert_string_equal(m.name, "hf-deepseek-v2-lite");
	assert_string_equal(m.attn.arch, "mla");
	assert_true(m.attn.latent);
	assert_true(m.attn.absorb);
	assert_int_equal(m.layers, 27);
	assert_int_equal(m.hidden, 2048);
	assert_int_equal(m.attn.n_h, 16);
	assert_int_equal(m.attn.d_c, 512);
	assert_int_equal(m.attn.q_rank, 0); /* q_lora_rank: null */
	assert_int_equal(m.attn.d_rope, 64);
	assert_int_equal(m.attn.d_nope, 128);
	assert_int_equal(m.attn.d_k, 192);
	assert_int_equal(m.attn.d_v, 128);
	assert_int_equal(m.intermediate, 10944);
	assert_int_equal(m.moe.experts, 64);
	assert_int_equal(m.moe.active, 6);
	assert_int_equal(m.moe.shared, 2);
	assert_int_equal(m.moe.intermediate, 1408);
	assert_int_equal(m.moe.dense_layers, 1);
	assert_false(m.tie_embeddings);
	assert_close(ar_model_kv_elems(&m), 512 + 64, 0, 0);
	load_path(&yaml, "configs", "deepseek-v2-lite.yaml");
	assert_close(ar_model_params(&m), ar_model_params(&yaml), 0, 0);
	assert_close(ar_model_params(&m), 15706484224, 0, 0);
}

static void test_model__hf_q_lora_rank(void **state)
{
	struct ar_model m;

	(void)state;
	/* DeepSeek-V2/V3 style with a query LoRA: q_a (H → 24) + its norm + q_b (24 → 4·24) */
	parse_hf(&m, "mla-q.json",
		 "{\"num_hidden_layers\": 1, \"hidden_size\": 64, \"num_attention_heads\": 4,"
		 " \"intermediate_size\": 128, \"vocab_size\": 100, \"kv_lora_rank\": 32,"
		 " \"q_lora_rank\": 24, \"qk_rope_head_dim\": 8, \"qk_nope_head_dim\": 16,"
		 " \"v_head_dim\": 16, \"n_routed_experts\": null}");
	assert_string_equal(m.name, "mla-q");
	assert_int_equal(m.attn.q_rank, 24);
	assert_int_equal(m.moe.experts, 0);
	assert_close(ar_model_params(&m),
		     64 * 24 + 24 + 24 * 96 + 64 * 40 + 32 + 32 * 4 * 32 + 64 * 64 + 3 * 64 * 128 +
		     128 + 2 * 6400 + 64, 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model__params_by_hand),
		cmocka_unit_test(test_model__params_sharded_by_hand),
		cmocka_unit_test(test_model__published_param_counts),
		cmocka_unit_test(test_model__arch_defaults_and_overrides),
		cmocka_unit_test(test_model__with_arch_takes_the_arch_defaults),
		cmocka_unit_test(test_model__latent_heads_default_to_one),
		cmocka_unit_test(test_model__hf_llama),
		cmocka_unit_test(test_model__hf_llama_head_dim_bias_and_mha),
		cmocka_unit_test(test_model__hf_gta_authors_config),
		cmocka_unit_test(test_model__hf_deepseek_v2_lite),
		cmocka_unit_test(test_model__hf_q_lora_rank),
	};
	return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
