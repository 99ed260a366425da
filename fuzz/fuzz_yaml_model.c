/* libFuzzer harness: model descriptors (configs/NAME.yaml) from arbitrary
 * bytes; their arch files come from archs/.  A model that loads must pass
 * ar_model_check and analyse to finite numbers or fail with an error. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "model.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ar_analysis an;
	static struct ar_hw hw;
	static int have_hw;
	struct ar_model m;
	struct ar_err err = { 0 };
	struct ar_workload wl = { .batch = 4, .seq = 512, .gen = 16, .attn = AR_ATTN_FLASH,
				  .wbits = 16, .abits = 16, .kvbits = 16, .tp = 1 };

	if (!have_hw) {
		char path[512];
		if (ar_resolve("hw", "h100-sxm", path, sizeof(path), &err) ||
		    ar_hw_load(&hw, path, &err))
			abort();
		have_hw = 1;
	}
	if (ar_model_parse(&m, "fuzz.yaml", (const char *)data, size, &err))
		return 0;
	if (ar_model_check(&m, &err) || !(ar_model_kv_elems(&m) > 0))
		abort();
	if (ar_analyze(&an, &m, &hw, &wl, &err) == 0 &&
	    (!isfinite(an.time[AR_PHASE_PREFILL].time_s) || !isfinite(an.gen.time_s)))
		abort();
	return 0;
}
