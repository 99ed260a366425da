/* Every bad input under tests/data/bad/ is refused with one exact message:
 * path:line:col, the problem first, the subject quoted, a suggestion where one
 * exists.  Also the in-memory loaders the fuzzers use, and --set's edits. */
#include "testutil.h"

#include <dirent.h>

#include "doc.h"
#include "hw.h"
#include "model.h"

#define BAD "tests/data/bad/"

enum loader { HW, MODEL, HF };

struct bad_case {
	enum loader loader;
	const char *file;     /* under tests/data/bad/ */
	const char *message;  /* ar_err_format's line */
};

/* arch-*.yaml are reached through the model-arch-*.yaml configs that name them */
static const struct bad_case cases[] = {
	{ HF, "hf-binary.json",
	  "tests/data/bad/hf-binary.json:1:1: error: not a text file: NUL byte in JSON text" },
	{ HF, "hf-bool-string.json",
	  "tests/data/bad/hf-bool-string.json:8:26: error: 'tie_word_embeddings' must be true or false, not 'false'" },
	{ HF, "hf-comment.json",
	  "tests/data/bad/hf-comment.json:2:3: error: JSON syntax error: JSON has no comments" },
	{ HF, "hf-deep.json",
	  "tests/data/bad/hf-deep.json:1:38: error: document nested deeper than 32 levels" },
	{ HF, "hf-duplicate-key.json",
	  "tests/data/bad/hf-duplicate-key.json:8:3: error: duplicate key 'vocab_size' (first at line 7)" },
	{ HF, "hf-empty.json",
	  "tests/data/bad/hf-empty.json:1:1: error: empty document" },
	{ HF, "hf-fractional.json",
	  "tests/data/bad/hf-fractional.json:2:18: error: 'hidden_size' must be a whole number, not 512.5" },
	{ HF, "hf-heads-not-divide.json",
	  "tests/data/bad/hf-heads-not-divide.json:4:26: error: hidden_size (512) is not divisible by num_attention_heads (7)" },
	{ HF, "hf-huge.json",
	  "tests/data/bad/hf-huge.json:7:17: error: 'vocab_size' is too large (1e300; the limit is 16777216)" },
	{ HF, "hf-kv-not-divide.json",
	  "tests/data/bad/hf-kv-not-divide.json:6:26: error: num_attention_heads (8) is not divisible by num_key_value_heads (3)" },
	{ HF, "hf-moe-active.json",
	  "tests/data/bad/hf-moe-active.json:23:26: error: 'num_experts_per_tok' (100) exceeds 'n_routed_experts' (64)" },
	{ HF, "hf-moe-dense.json",
	  "tests/data/bad/hf-moe-dense.json:8:28: error: 'first_k_dense_replace' (1000) exceeds 'num_hidden_layers' (27)" },
	{ HF, "hf-control-byte.json",
	  "tests/data/bad/hf-control-byte.json:9:3: error: JSON syntax error: control byte 0x0C (write it as \\u000C in a string)" },
	{ HF, "hf-list.json",
	  "tests/data/bad/hf-list.json:1:1: error: a config.json must be a JSON object, not an array" },
	{ HF, "hf-missing-hidden.json",
	  "tests/data/bad/hf-missing-hidden.json:1:1: error: missing required key 'hidden_size'" },
	{ HF, "hf-nan.json",
	  "tests/data/bad/hf-nan.json:7:17: error: JSON syntax error: NaN and Infinity are not JSON numbers" },
	{ HF, "hf-negative-layers.json",
	  "tests/data/bad/hf-negative-layers.json:5:24: error: 'num_hidden_layers' must be >= 1, not -4" },
	{ HF, "hf-nul.json",
	  "tests/data/bad/hf-nul.json:7:9: error: not a text file: NUL byte in JSON text" },
	{ HF, "hf-null-required.json",
	  "tests/data/bad/hf-null-required.json:2:18: error: 'hidden_size' must be an integer, not null" },
	{ HF, "hf-object-number.json",
	  "tests/data/bad/hf-object-number.json:5:24: error: 'num_hidden_layers' must be an integer, not a mapping" },
	{ HF, "hf-overflow.json",
	  "tests/data/bad/hf-overflow.json:7:17: error: 'vocab_size' is too large (1e999; the limit is 16777216)" },
	{ HF, "hf-single-quotes.json",
	  "tests/data/bad/hf-single-quotes.json:7:3: error: JSON syntax error: strings take double quotes, not single" },
	{ HF, "hf-string-number.json",
	  "tests/data/bad/hf-string-number.json:2:18: error: 'hidden_size' must be an integer, not the string '512' (drop the quotes)" },
	{ HF, "hf-trailing-comma.json",
	  "tests/data/bad/hf-trailing-comma.json:9:1: error: JSON syntax error: trailing comma before '}'" },
	{ HF, "hf-trailing-garbage.json",
	  "tests/data/bad/hf-trailing-garbage.json:10:1: error: JSON syntax error: more text after the end of the JSON value" },
	{ HF, "hf-truncated.json",
	  "tests/data/bad/hf-truncated.json:5:15: error: JSON syntax error: unexpected end of text" },
	{ HF, "hf-vocab-2p64.json",
	  "tests/data/bad/hf-vocab-2p64.json:7:17: error: 'vocab_size' is too large (18446744073709551617; the limit is 16777216)" },
	{ HF, "hf-whitespace.json",
	  "tests/data/bad/hf-whitespace.json:1:1: error: empty document" },
	{ HF, "hf-zero-heads.json",
	  "tests/data/bad/hf-zero-heads.json:4:26: error: 'num_attention_heads' must be >= 1, not 0" },
	{ HW, "hw-anchor.yaml",
	  "tests/data/bad/hw-anchor.yaml:5:9: error: anchors are not supported" },
	{ HW, "hw-attn-rate-bare.yaml",
	  "tests/data/bad/hw-attn-rate-bare.yaml:15:31: error: 'decode_attention_flops_per_s' must be {value: NUMBER, source: \"...\"} (every number carries its source)" },
	{ HW, "hw-attn-rate-zero.yaml",
	  "tests/data/bad/hw-attn-rate-zero.yaml:15:39: error: 'decode_attention_flops_per_s' must be > 0, not 0" },
	{ HW, "hw-head-dim-half-negative.yaml",
	  "tests/data/bad/hw-head-dim-half-negative.yaml:15:41: error: 'decode_attention_head_dim_half' must be >= 0, not -8" },
	{ HW, "hw-intensity-half-negative.yaml",
	  "tests/data/bad/hw-intensity-half-negative.yaml:15:42: error: 'decode_attention_intensity_half' must be >= 0, not -1" },
	{ HW, "hw-attn-fixed-huge.yaml",
	  "tests/data/bad/hw-attn-fixed-huge.yaml:15:35: error: 'decode_attention_fixed_s' is too large (5; the limit is 1)" },
	{ HW, "hw-prefill-fixed-negative.yaml",
	  "tests/data/bad/hw-prefill-fixed-negative.yaml:15:36: error: 'prefill_attention_fixed_s' must be >= 0, not -2e-6" },
	{ HW, "hw-name-newline.yaml",
	  "tests/data/bad/hw-name-newline.yaml:2:7: error: 'name' must be letters, digits and . _ - + (it names columns and files), not 'tiny\\x0av2'" },
	{ HW, "hw-rate-tiny.yaml",
	  "tests/data/bad/hw-rate-tiny.yaml:15:39: error: 'decode_attention_flops_per_s' is too small (1e-300; the least is 1000)" },
	{ HW, "hw-efficiency-tiny.yaml",
	  "tests/data/bad/hw-efficiency-tiny.yaml:16:22: error: 'matrix_efficiency.value' is too small (1e-9; the least is 0.0001)" },
	{ HW, "hw-handoff-negative.yaml",
	  "tests/data/bad/hw-handoff-negative.yaml:15:33: error: 'handoff_bw_bytes_per_s' must be > 0, not -3e10" },
	{ HW, "hw-probe-overhead-zero.yaml",
	  "tests/data/bad/hw-probe-overhead-zero.yaml:15:27: error: 'probe_overhead_s' must be > 0, not 0" },
	{ HW, "hw-near-fixed-negative.yaml",
	  "tests/data/bad/hw-near-fixed-negative.yaml:15:40: error: 'decode_attention_near_fixed_s' must be >= 0, not -1e-6" },
	{ HW, "hw-inner-cold-k.yaml",
	  "tests/data/bad/hw-inner-cold-k.yaml:17:9: error: 'matrix_inner_cold.k' is too large (1024; the limit is 1023)" },
	{ HW, "hw-inner-cold-order.yaml",
	  "tests/data/bad/hw-inner-cold-order.yaml:17:9: error: 'matrix_inner_cold' k must increase (256 after 512)" },
	{ HW, "hw-inner-cold-power.yaml",
	  "tests/data/bad/hw-inner-cold-power.yaml:17:34: error: 'matrix_inner_cold_power' must be >= 0, not -0.5" },
	{ HW, "hw-output-share-big.yaml",
	  "tests/data/bad/hw-output-share-big.yaml:15:41: error: 'prefill_attention_output_share' is too large (1.5; the limit is 1)" },
	{ HW, "hw-memory-fixed-negative.yaml",
	  "tests/data/bad/hw-memory-fixed-negative.yaml:15:42: error: 'decode_attention_memory_fixed_s' must be >= 0, not -2e-6" },
	{ HW, "hw-share-one-zero.yaml",
	  "tests/data/bad/hw-share-one-zero.yaml:15:44: error: 'decode_attention_memory_share_one' must be > 0, not 0" },
	{ HW, "hw-sweep-order.yaml",
	  "tests/data/bad/hw-sweep-order.yaml:17:13: error: 'read_bandwidth_by_set' bytes must increase (65536 after 131072)" },
	{ HW, "hw-sweep-one-point.yaml",
	  "tests/data/bad/hw-sweep-one-point.yaml:16:3: error: 'read_bandwidth_by_set' needs at least two points" },
	{ HW, "hw-sweep-zero-bw.yaml",
	  "tests/data/bad/hw-sweep-zero-bw.yaml:17:28: error: 'read_bandwidth_by_set.value' must be > 0, not 0" },
	{ HW, "hw-cols-half-negative.yaml",
	  "tests/data/bad/hw-cols-half-negative.yaml:15:27: error: 'matrix_cols_half' must be >= 0, not -64" },
	{ HW, "hw-seq-half-huge.yaml",
	  "tests/data/bad/hw-seq-half-huge.yaml:15:37: error: 'prefill_attention_seq_half' is too large (2e6; the limit is 1e+06)" },
	{ HW, "hw-exp-huge.yaml",
	  "tests/data/bad/hw-exp-huge.yaml:15:20: error: 'exp_per_s' is too large (1e99; the limit is 1e+18)" },
	{ HW, "hw-bad-indent.yaml",
	  "tests/data/bad/hw-bad-indent.yaml:10:4: error: YAML syntax error: did not find expected '-' indicator while parsing a block collection (begun at line 9)" },
	{ HW, "hw-bare-number.yaml",
	  "tests/data/bad/hw-bare-number.yaml:7:9: error: 'vector_flops_per_s.fp32' must be {value: NUMBER, source: \"...\"} (every number carries its source)" },
	{ HW, "hw-binary.yaml",
	  "tests/data/bad/hw-binary.yaml:1:1: error: not a text file: control characters are not allowed (byte 0x7F)" },
	{ HW, "hw-comments-only.yaml",
	  "tests/data/bad/hw-comments-only.yaml:1:1: error: empty document" },
	{ HW, "hw-deep-block.yaml",
	  "tests/data/bad/hw-deep-block.yaml:35:67: error: document nested deeper than 32 levels" },
	{ HW, "hw-deep.yaml",
	  "tests/data/bad/hw-deep.yaml:2:39: error: document nested deeper than 32 levels" },
	{ HW, "hw-duplicate-key.yaml",
	  "tests/data/bad/hw-duplicate-key.yaml:4:1: error: duplicate key 'kind' (first at line 3)" },
	{ HW, "hw-eff-cached-order.yaml",
	  "tests/data/bad/hw-eff-cached-order.yaml:18:12: error: 'matrix_efficiency_cached' rows must increase (4 after 8)" },
	{ HW, "hw-eff-empty.yaml",
	  "tests/data/bad/hw-eff-empty.yaml:15:20: error: 'matrix_efficiency' needs at least one point" },
	{ HW, "hw-eff-map.yaml",
	  "tests/data/bad/hw-eff-map.yaml:15:20: error: 'matrix_efficiency' must be a list, not a mapping" },
	{ HW, "hw-eff-no-source.yaml",
	  "tests/data/bad/hw-eff-no-source.yaml:16:5: error: a 'matrix_efficiency' point needs 'rows', 'value' and 'source'" },
	{ HW, "hw-eff-order.yaml",
	  "tests/data/bad/hw-eff-order.yaml:18:12: error: 'matrix_efficiency' rows must increase (4 after 8)" },
	{ HW, "hw-eff-value.yaml",
	  "tests/data/bad/hw-eff-value.yaml:16:22: error: 'matrix_efficiency.value' is too large (1.5; the limit is 1)" },
	{ HW, "hw-empty-memory.yaml",
	  "tests/data/bad/hw-empty-memory.yaml:8:9: error: 'memory' needs at least one level" },
	{ HW, "hw-empty-source.yaml",
	  "tests/data/bad/hw-empty-source.yaml:7:31: error: 'vector_flops_per_s.fp32.source' must be a non-empty string" },
	{ HW, "hw-empty.yaml",
	  "tests/data/bad/hw-empty.yaml:1:1: error: empty document" },
	{ HW, "hw-hex.yaml",
	  "tests/data/bad/hw-hex.yaml:14:18: error: 'onchip.units' must be a number, not '0x64'" },
	{ HW, "hw-huge.yaml",
	  "tests/data/bad/hw-huge.yaml:5:17: error: 'matrix_flops_per_s.fp16' is too large (1e300; the limit is 1e+18)" },
	{ HW, "hw-inf.yaml",
	  "tests/data/bad/hw-inf.yaml:11:29: error: 'HBM.bw_bytes_per_s' must be a finite number, not '.inf'" },
	{ HW, "hw-latin1.yaml",
	  "tests/data/bad/hw-latin1.yaml:2:19: error: not UTF-8 text (save the file as UTF-8): invalid trailing UTF-8 octet" },
	{ HW, "hw-levels-order.yaml",
	  "tests/data/bad/hw-levels-order.yaml:12:5: error: memory level 'L2' is not smaller than 'HBM' (list levels largest first)" },
	{ HW, "hw-list.yaml",
	  "tests/data/bad/hw-list.yaml:1:1: error: a hardware descriptor must be a mapping of keys, not a list" },
	{ HW, "hw-long-name.yaml",
	  "tests/data/bad/hw-long-name.yaml:2:7: error: 'name' is too long (100 characters; the limit is 63)" },
	{ HW, "hw-memory-map.yaml",
	  "tests/data/bad/hw-memory-map.yaml:9:3: error: 'memory' must be a list, not a mapping" },
	{ HW, "hw-missing-memory.yaml",
	  "tests/data/bad/hw-missing-memory.yaml:2:1: error: missing required key 'memory'" },
	{ HW, "hw-missing-name.yaml",
	  "tests/data/bad/hw-missing-name.yaml:2:1: error: missing required key 'name'" },
	{ HW, "hw-missing-source.yaml",
	  "tests/data/bad/hw-missing-source.yaml:7:9: error: 'vector_flops_per_s.fp32' has no 'source' (a datasheet URL, or 'measured' with the date and command)" },
	{ HW, "hw-nan.yaml",
	  "tests/data/bad/hw-nan.yaml:5:17: error: 'matrix_flops_per_s.fp16' must be a finite number, not '.nan'" },
	{ HW, "hw-negative-capacity.yaml",
	  "tests/data/bad/hw-negative-capacity.yaml:10:29: error: 'HBM.capacity_bytes' must be > 0, not -8e10" },
	{ HW, "hw-no-fp32-vector.yaml",
	  "tests/data/bad/hw-no-fp32-vector.yaml:7:3: error: 'vector_flops_per_s' needs fp32" },
	{ HW, "hw-nul.yaml",
	  "tests/data/bad/hw-nul.yaml:1:9: error: not a text file: control characters are not allowed (byte 0x00)" },
	{ HW, "hw-null.yaml",
	  "tests/data/bad/hw-null.yaml:14:18: error: 'onchip.units' must be a number, not null" },
	{ HW, "hw-overflow.yaml",
	  "tests/data/bad/hw-overflow.yaml:5:17: error: 'matrix_flops_per_s.fp16' is too large (1e999; the limit is 1e+18)" },
	{ HW, "hw-quoted-number.yaml",
	  "tests/data/bad/hw-quoted-number.yaml:11:29: error: 'HBM.bw_bytes_per_s' must be a number, not the string '2e12' (drop the quotes)" },
	{ HW, "hw-scalar.yaml",
	  "tests/data/bad/hw-scalar.yaml:1:1: error: a hardware descriptor must be a mapping of keys, not a scalar" },
	{ HW, "hw-tab.yaml",
	  "tests/data/bad/hw-tab.yaml:5:1: error: YAML syntax error: tab character (YAML indents with spaces only)" },
	{ HW, "hw-two-docs.yaml",
	  "tests/data/bad/hw-two-docs.yaml:3:1: error: more than one YAML document" },
	{ HW, "hw-unclosed-bracket.yaml",
	  "tests/data/bad/hw-unclosed-bracket.yaml:6:1: error: YAML syntax error: did not find expected ',' or '}' while parsing a flow mapping (begun at line 5)" },
	{ HW, "hw-unclosed-list.yaml",
	  "tests/data/bad/hw-unclosed-list.yaml:4:19: error: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence (begun at line 3)" },
	{ HW, "hw-unclosed-quote.yaml",
	  "tests/data/bad/hw-unclosed-quote.yaml:7:32: error: YAML syntax error: did not find expected ',' or '}' while parsing a flow mapping (begun at line 5)" },
	{ HW, "hw-units-2p64.yaml",
	  "tests/data/bad/hw-units-2p64.yaml:14:18: error: 'onchip.units' is too large (18446744073709551617; the limit is 1e+07)" },
	{ HW, "hw-units-fraction.yaml",
	  "tests/data/bad/hw-units-fraction.yaml:14:18: error: 'onchip.units' must be a whole number, not 99.5" },
	{ HW, "hw-unknown-dtype.yaml",
	  "tests/data/bad/hw-unknown-dtype.yaml:7:3: error: unknown key 'fp64' (did you mean 'fp32'?)" },
	{ HW, "hw-unknown-key.yaml",
	  "tests/data/bad/hw-unknown-key.yaml:8:1: error: unknown key 'bandwdth' (did you mean 'bw_bytes_per_s' in a 'memory' level?)" },
	{ HW, "hw-unknown-kind.yaml",
	  "tests/data/bad/hw-unknown-kind.yaml:3:7: error: unknown kind 'tpu' (expected gpu, cpu or soc)" },
	{ HW, "hw-unknown-level-key.yaml",
	  "tests/data/bad/hw-unknown-level-key.yaml:11:5: error: unknown key 'bandwidth' (did you mean 'bw_bytes_per_s'?)" },
	{ HW, "hw-word-number.yaml",
	  "tests/data/bad/hw-word-number.yaml:11:29: error: 'HBM.bw_bytes_per_s' must be a number, not 'fast'" },
	{ HW, "hw-zero-bandwidth.yaml",
	  "tests/data/bad/hw-zero-bandwidth.yaml:11:29: error: 'HBM.bw_bytes_per_s' must be > 0, not 0" },
	{ MODEL, "model-arch-bad-av.yaml",
	  "tests/data/bad/arch-bad-av.yaml:4:5: error: unknown av 'per_token' (expected per_head, per_map)" },
	{ MODEL, "model-arch-bad-expr.yaml",
	  "tests/data/bad/arch-bad-expr.yaml:5:6: error: 'n_k': expected a number or a name at '/ 4'" },
	{ MODEL, "model-arch-is-dir.yaml",
	  "tests/data/bad/model-arch-is-dir.yaml:3:7: error: 'tests/data/bad' is a directory, not a file" },
	{ MODEL, "model-arch-latent-tied.yaml",
	  "tests/data/bad/model-arch-latent-tied.yaml:3:7: error: an arch is latent or tied, not both" },
	{ MODEL, "model-arch-list.yaml",
	  "tests/data/bad/arch-list.yaml:1:1: error: an arch descriptor must be a mapping of keys, not a list" },
	{ MODEL, "model-arch-missing-file.yaml",
	  "tests/data/bad/model-arch-missing-file.yaml:3:7: error: cannot open 'tests/data/bad/no-such-arch.yaml': No such file or directory" },
	{ MODEL, "model-arch-not-whole.yaml",
	  "tests/data/bad/arch-not-whole.yaml:5:6: error: 'n_k': 8 / 3 is not a whole number" },
	{ MODEL, "model-arch-tied-not-bool.yaml",
	  "tests/data/bad/arch-tied-not-bool.yaml:4:7: error: 'tied' must be true or false, not 'yes'" },
	{ MODEL, "model-arch-unknown-key.yaml",
	  "tests/data/bad/arch-unknown-key.yaml:4:1: error: unknown key 'n_kv' (did you mean 'n_k'?)" },
	{ MODEL, "model-arch-unknown-name.yaml",
	  "tests/data/bad/arch-unknown-name.yaml:5:6: error: 'n_k': unknown name 'heads'" },
	{ MODEL, "model-attn-expr-deep.yaml",
	  "tests/data/bad/model-attn-expr-deep.yaml:10:8: error: 'n_k': parentheses nested deeper than 32" },
	{ MODEL, "model-attn-expr-name.yaml",
	  "tests/data/bad/model-attn-expr-name.yaml:10:8: error: 'n_k': unknown name 'n_x'" },
	{ MODEL, "model-attn-expr-paren.yaml",
	  "tests/data/bad/model-attn-expr-paren.yaml:10:8: error: 'n_k': missing ')'" },
	{ MODEL, "model-attn-expr-zero.yaml",
	  "tests/data/bad/model-attn-expr-zero.yaml:10:8: error: 'n_k': division by zero" },
	{ MODEL, "model-attn-negative.yaml",
	  "tests/data/bad/model-attn-negative.yaml:10:8: error: 'n_k' must be >= 0, not -6" },
	{ MODEL, "model-attn-not-map.yaml",
	  "tests/data/bad/model-attn-not-map.yaml:9:7: error: 'attn' must be a mapping, not a scalar" },
	{ MODEL, "model-attn-unknown-key.yaml",
	  "tests/data/bad/model-attn-unknown-key.yaml:10:3: error: unknown key 'n_kv' (did you mean 'n_k'?)" },
	{ MODEL, "model-bad-bool.yaml",
	  "tests/data/bad/model-bad-bool.yaml:9:17: error: 'tie_embeddings' must be true or false, not 'yes'" },
	{ MODEL, "model-bad-mlp.yaml",
	  "tests/data/bad/model-bad-mlp.yaml:9:6: error: unknown mlp 'relu' (expected swiglu, gelu)" },
	{ MODEL, "model-empty.yaml",
	  "tests/data/bad/model-empty.yaml:1:1: error: empty document" },
	{ MODEL, "model-fractional-heads.yaml",
	  "tests/data/bad/model-fractional-heads.yaml:6:8: error: 'heads' must be a whole number, not 8.5" },
	{ MODEL, "model-heads-not-divide.yaml",
	  "tests/data/bad/model-heads-not-divide.yaml:6:8: error: hidden (512) is not divisible by heads (7); give head_dim" },
	{ MODEL, "model-huge-layers.yaml",
	  "tests/data/bad/model-huge-layers.yaml:4:9: error: 'layers' is too large (1e300; the limit is 10000)" },
	{ MODEL, "model-inf-vocab.yaml",
	  "tests/data/bad/model-inf-vocab.yaml:8:8: error: 'vocab' must be a finite number, not '.inf'" },
	{ MODEL, "model-kv-not-divide.yaml",
	  "tests/data/bad/model-kv-not-divide.yaml:10:3: error: n_q (8) is not divisible by n_k (3)" },
	{ MODEL, "model-latent-heads-not-divide.yaml",
	  "tests/data/bad/model-latent-heads-not-divide.yaml:10:3: error: n_h (8) is not divisible by the latent heads (n_k = 3)" },
	{ MODEL, "model-list-layers.yaml",
	  "tests/data/bad/model-list-layers.yaml:4:9: error: 'layers' must be an integer, not a list" },
	{ MODEL, "model-list.yaml",
	  "tests/data/bad/model-list.yaml:1:1: error: a model descriptor must be a mapping of keys, not a list" },
	{ MODEL, "model-missing-layers.yaml",
	  "tests/data/bad/model-missing-layers.yaml:2:1: error: missing required key 'layers'" },
	{ MODEL, "model-layers-block.yaml",
	  "tests/data/bad/model-layers-block.yaml:4:9: error: 'layers' must be an integer, not a block of text (| or >)" },
	{ MODEL, "model-tag.yaml",
	  "tests/data/bad/model-tag.yaml:4:9: error: tags are not supported ('tag:yaml.org,2002:str')" },
	{ MODEL, "model-name-comma.yaml",
	  "tests/data/bad/model-name-comma.yaml:2:7: error: 'name' must be letters, digits and . _ - + (it names columns and files), not 'tiny, v2'" },
	{ MODEL, "model-moe-active.yaml",
	  "tests/data/bad/model-moe-active.yaml:11:11: error: 'active' (8) exceeds 'experts' (4)" },
	{ MODEL, "model-nan-layers.yaml",
	  "tests/data/bad/model-nan-layers.yaml:4:9: error: 'layers' must be a finite number, not '.nan'" },
	{ MODEL, "model-negative-hidden.yaml",
	  "tests/data/bad/model-negative-hidden.yaml:5:9: error: 'hidden' must be >= 1, not -512" },
	{ MODEL, "model-string-layers.yaml",
	  "tests/data/bad/model-string-layers.yaml:4:9: error: 'layers' must be an integer, not the string '4' (drop the quotes)" },
	{ MODEL, "model-tab.yaml",
	  "tests/data/bad/model-tab.yaml:10:1: error: YAML syntax error: tab character (YAML indents with spaces only)" },
	{ MODEL, "model-tied-rope-wide.yaml",
	  "tests/data/bad/model-tied-rope-wide.yaml:10:3: error: a tied arch needs 1 <= d_rope <= d_k (d_rope 96, d_k 64)" },
	{ MODEL, "model-tied-state-narrow.yaml",
	  "tests/data/bad/model-tied-state-narrow.yaml:10:3: error: the tied key's unrotated part d_k - d_rope (32) is wider than the tied state d_v (16)" },
	{ MODEL, "model-tied-value-heads.yaml",
	  "tests/data/bad/model-tied-value-heads.yaml:10:3: error: a tied arch caches one state per key head: n_v (1) must equal n_k (2)" },
	{ MODEL, "model-unclosed-quote.yaml",
	  "tests/data/bad/model-unclosed-quote.yaml:11:1: error: YAML syntax error: found unexpected end of stream while scanning a quoted scalar (begun at line 2)" },
	{ MODEL, "model-unknown-arch.yaml",
	  "tests/data/bad/model-unknown-arch.yaml:3:7: error: unknown arch 'gqq' (no archs/gqq.yaml)" },
	{ MODEL, "model-unknown-key-far.yaml",
	  "tests/data/bad/model-unknown-key-far.yaml:9:1: error: unknown key 'colour'" },
	{ MODEL, "model-unknown-key.yaml",
	  "tests/data/bad/model-unknown-key.yaml:9:1: error: unknown key 'layer_norm'" },
	{ MODEL, "model-vocab-2p64.yaml",
	  "tests/data/bad/model-vocab-2p64.yaml:8:8: error: 'vocab' is too large (18446744073709551617; the limit is 16777216)" },
	{ MODEL, "model-zero-layers.yaml",
	  "tests/data/bad/model-zero-layers.yaml:4:9: error: 'layers' must be >= 1, not 0" },
};

static int load(enum loader l, const char *path, struct ar_err *err)
{
	static struct ar_hw hw;
	static struct ar_model m;

	return l == HW ? ar_hw_load(&hw, path, err)
	     : l == HF ? ar_model_load_hf(&m, path, err)
		       : ar_model_load(&m, path, err);
}

static int check_case(const struct bad_case *c)
{
	struct ar_err err = { 0 };
	char path[256], got[1200];

	snprintf(path, sizeof(path), BAD "%s", c->file);
	if (load(c->loader, path, &err) != -1) {
		print_error("%s: loaded, want: %s\n", path, c->message);
		return 1;
	}
	ar_err_format(&err, got, sizeof(got));
	if (strcmp(got, c->message)) {
		print_error("%s:\n  got:  %s\n  want: %s\n", path, got, c->message);
		return 1;
	}
	return 0;
}

static void run_kind(enum loader l)
{
	int bad = 0, n = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (cases[i].loader == l) {
			bad += check_case(&cases[i]);
			n++;
		}
	assert_true(n > 0);
	assert_int_equal(bad, 0);
}

static void test_errors__bad_hardware_descriptors(void **state)
{
	(void)state;
	run_kind(HW);
}

static void test_errors__bad_model_and_arch_descriptors(void **state)
{
	(void)state;
	run_kind(MODEL);
}

static void test_errors__bad_config_json(void **state)
{
	(void)state;
	run_kind(HF);
}

/* A fixture without a case would go untested. */
static void test_errors__every_fixture_has_a_case(void **state)
{
	DIR *d = opendir(BAD);
	struct dirent *e;
	int missing = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t i;
		if (e->d_name[0] == '.' || !strncmp(e->d_name, "arch-", 5))
			continue;
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			if (!strcmp(cases[i].file, e->d_name))
				break;
		if (i == sizeof(cases) / sizeof(cases[0])) {
			print_error("no case for " BAD "%s\n", e->d_name);
			missing++;
		}
	}
	closedir(d);
	assert_int_equal(missing, 0);
}

/* The in-memory loaders give the same messages as the file loaders, and read
 * no further than len (the fuzzers pass buffers without a NUL). */
static void test_errors__parse_from_memory_matches_load(void **state)
{
	static const char hw_text[] = "name: x\nkind: tpu\n";
	static const char json_text[] = "{\"hidden_size\": 64,";
	struct ar_err err = { 0 };
	struct ar_hw hw;
	struct ar_model m;
	char got[1200], *buf;

	(void)state;
	assert_int_equal(ar_hw_parse(&hw, "mem.yaml", hw_text, strlen(hw_text), &err), -1);
	ar_err_format(&err, got, sizeof(got));
	assert_string_equal(got, "mem.yaml:2:7: error: unknown kind 'tpu' (expected gpu, cpu or soc)");

	buf = malloc(strlen(json_text)); /* exactly the text, no terminator */
	assert_non_null(buf);
	memcpy(buf, json_text, strlen(json_text));
	assert_int_equal(ar_model_parse_hf(&m, "mem/config.json", buf, strlen(json_text), &err), -1);
	free(buf);
	ar_err_format(&err, got, sizeof(got));
	assert_string_equal(got, "mem/config.json:1:20: error: JSON syntax error: unexpected end of text");

	assert_int_equal(ar_model_parse(&m, "mem.yaml", "", 0, &err), -1);
	ar_err_format(&err, got, sizeof(got));
	assert_string_equal(got, "mem.yaml:1:1: error: empty document");
}

/* A mapping with 100000 keys and a duplicate at the end is refused at once:
 * the duplicate check sorts instead of comparing every pair. */
static void test_errors__many_keys_are_not_quadratic(void **state)
{
	enum { N = 100000 };
	size_t cap = (size_t)N * 24 + 64, yl = 0, jl = 1;
	char *y = malloc(cap), *j = malloc(cap), got[1200];
	struct ar_doc doc = { 0 };
	struct ar_err err = { 0 };

	(void)state;
	assert_true(y && j);
	j[0] = '{';
	for (int i = 0; i < N; i++) {
		yl += (size_t)snprintf(y + yl, cap - yl, "k%d: 1\n", i);
		jl += (size_t)snprintf(j + jl, cap - jl, "\"k%d\": 1,", i);
	}
	yl += (size_t)snprintf(y + yl, cap - yl, "k7: 2\n");
	jl += (size_t)snprintf(j + jl, cap - jl, "\"k7\": 2}");
	assert_int_equal(ar_doc_parse_yaml(&doc, "many.yaml", y, yl, &err), -1);
	ar_doc_release(&doc);
	ar_err_format(&err, got, sizeof(got));
	assert_string_equal(got, "many.yaml:100001:1: error: duplicate key 'k7' (first at line 8)");
	assert_int_equal(ar_doc_parse_json(&doc, "many.json", j, jl, &err), -1);
	ar_doc_release(&doc);
	ar_err_format(&err, got, sizeof(got));
	assert_string_equal(got, "many.json:1:1188892: error: duplicate key 'k7' (first at line 1)");
	free(y);
	free(j);
}

/* --set edits: each refusal names the edit and says why. */
static void test_errors__bad_set_edits(void **state)
{
	static const struct { const char *edit, *message; } sets[] = {
		{ "bandwidth=-5", "attnroof: error: --set bandwidth=-5: value must be > 0" },
		{ "bandwidth=0", "attnroof: error: --set bandwidth=0: value must be > 0" },
		{ "overhead=-1e-6", "attnroof: error: --set overhead=-1e-6: value must be >= 0" },
		{ "bandwidth=abc", "attnroof: error: --set bandwidth=abc: 'abc' is not a number" },
		{ "bandwidth=nan", "attnroof: error: --set bandwidth=nan: 'nan' is not a number" },
		{ "bandwidth=inf", "attnroof: error: --set bandwidth=inf: 'inf' is not a number" },
		{ "bandwidth=0x10", "attnroof: error: --set bandwidth=0x10: '0x10' is not a number" },
		{ "bandwidth=1e300",
		  "attnroof: error: --set bandwidth=1e300: the result is too large (the limit is 1e+16)" },
		{ "bandwidth=1e400", "attnroof: error: --set bandwidth=1e400: '1e400' is not a number" },
		{ "onchip=4.4e22", /* found by fuzz_set: overflowed the flash tile size */
		  "attnroof: error: --set onchip=4.4e22: the result is too large (the limit is 1e+15)" },
		{ "units=1e300x",
		  "attnroof: error: --set units=1e300x: the result is too large (the limit is 1e+07)" },
		{ "units=1.01x", "attnroof: error: --set units=1.01x: units must be a whole number" },
		{ "bandwidth", "attnroof: error: --set 'bandwidth': expected KEY=VALUE" },
		{ "=5", "attnroof: error: --set '=5': expected KEY=VALUE" },
		{ "bandwdth=5",
		  "attnroof: error: --set bandwdth=5: unknown key 'bandwdth' (known: bandwidth, "
		  "capacity, peak, link, host_link, overhead, onchip, units, matrix.DTYPE, "
		  "vector.DTYPE, LEVEL.bandwidth, LEVEL.capacity)" },
		{ "matrix.fp64=1e15", "attnroof: error: --set matrix.fp64=1e15: unknown dtype 'fp64'" },
		{ "HBM9.bandwidth=1e12",
		  "attnroof: error: --set HBM9.bandwidth=1e12: 'h100-sxm' has no memory level 'HBM9'" },
		{ "peak=2", "attnroof: error: --set peak=2: 'peak' scales every peak; write e.g. peak=2x" },
		{ "overhead=2x", "attnroof: error: --set overhead=2x: give overhead in seconds" },
		{ "overhead=5", "attnroof: error: --set overhead=5: the result is too large (the limit is 1)" },
	};
	struct ar_err err = { 0 };
	struct ar_hw base, hw;
	char path[512], got[1200];
	int bad = 0;

	(void)state;
	assert_int_equal(ar_resolve("hw", "h100-sxm", path, sizeof(path), &err), 0);
	assert_int_equal(ar_hw_load(&base, path, &err), 0);
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		hw = base;
		if (ar_hw_set(&hw, sets[i].edit, &err) != -1) {
			print_error("--set %s: accepted\n", sets[i].edit);
			bad++;
			continue;
		}
		ar_err_format(&err, got, sizeof(got));
		if (strcmp(got, sets[i].message)) {
			print_error("--set %s:\n  got:  %s\n  want: %s\n", sets[i].edit, got,
				    sets[i].message);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* A --set that is accepted changes its one field by its factor (or to its
 * value) and nothing else in the descriptor */
static void test_errors__set_edits_one_field(void **state)
{
	struct ar_err err = { 0 };
	struct ar_hw base, hw, want;
	char path[512];

	(void)state;
	assert_int_equal(ar_resolve("hw", "h100-sxm", path, sizeof(path), &err), 0);
	assert_int_equal(ar_hw_load(&base, path, &err), 0);
	assert_string_equal(base.mem[1].name, "L2");
	for (int k = 0; k < 10; k++) {
		static const char *const edits[] = {
			"bandwidth=2x", "capacity=0.5x", "L2.capacity=0.5x", "link=2x", "host_link=0.5x",
			"onchip=0.5x", "units=2x", "matrix.fp16=2x", "vector.fp32=1e14", "overhead=4e-6",
		};
		hw = base;
		want = base;
		switch (k) {
		case 0: want.mem[0].bw_bytes_per_s = 2 * base.mem[0].bw_bytes_per_s; break;
		case 1: want.mem[0].capacity_bytes = 0.5 * base.mem[0].capacity_bytes; break;
		case 2: want.mem[1].capacity_bytes = 0.5 * base.mem[1].capacity_bytes; break;
		case 3: want.link_bw_bytes_per_s = 2 * base.link_bw_bytes_per_s; break;
		case 4: want.host_link_bw_bytes_per_s = 0.5 * base.host_link_bw_bytes_per_s; break;
		case 5: want.onchip_bytes_per_unit = 0.5 * base.onchip_bytes_per_unit; break;
		case 6: want.units = 2 * base.units; break;
		case 7: want.matrix_flops_per_s[AR_DT_FP16] = 2 * base.matrix_flops_per_s[AR_DT_FP16]; break;
		case 8: want.vector_flops_per_s[AR_DT_FP32] = 1e14; break;
		default: want.overhead_s = 4e-6; break;
		}
		assert_int_equal(ar_hw_set(&hw, edits[k], &err), 0);
		if (memcmp(&hw, &want, sizeof(hw))) {
			print_error("--set %s changed more or less than its field\n", edits[k]);
			fail();
		}
	}
	assert_true(base.link_bw_bytes_per_s > 0 && base.host_link_bw_bytes_per_s > 0 &&
		    base.units == 132);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors__set_edits_one_field),
		cmocka_unit_test(test_errors__bad_hardware_descriptors),
		cmocka_unit_test(test_errors__bad_model_and_arch_descriptors),
		cmocka_unit_test(test_errors__bad_config_json),
		cmocka_unit_test(test_errors__every_fixture_has_a_case),
		cmocka_unit_test(test_errors__parse_from_memory_matches_load),
		cmocka_unit_test(test_errors__many_keys_are_not_quadratic),
		cmocka_unit_test(test_errors__bad_set_edits),
	};
	return cmocka_run_group_tests_name("errors", tests, NULL, NULL);
}
