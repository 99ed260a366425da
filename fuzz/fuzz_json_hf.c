/* libFuzzer harness: Hugging Face config.json from arbitrary bytes, through
 * the JSON document tree and the importer. */
#include <stdint.h>
#include <stdlib.h>

#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ar_model m;
	struct ar_err err = { 0 };

	if (ar_model_parse_hf(&m, "fuzz/config.json", (const char *)data, size, &err))
		return 0;
	if (ar_model_check(&m, &err) || !(ar_model_kv_elems(&m) > 0) || m.layers < 1)
		abort();
	return 0;
}
