/* libFuzzer harness: --set what-if edits.  The input is split at newlines into
 * edits applied in turn to h100-sxm; after any accepted edit the device must
 * still analyse to finite numbers or fail with an error. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hw.h"
#include "model.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ar_analysis an;
	static struct ar_hw base;
	static struct ar_model m;
	static int ready;
	struct ar_workload wl = { .batch = 8, .seq = 1024, .gen = 8, .attn = AR_ATTN_FLASH,
				  .wbits = 16, .abits = 16, .kvbits = 16, .tp = 1 };
	struct ar_err err = { 0 };
	struct ar_hw hw;
	char *buf, *line, *save = NULL;
	int applied = 0;

	if (!ready) {
		char path[512];
		if (ar_resolve("hw", "h100-sxm", path, sizeof(path), &err) ||
		    ar_hw_load(&base, path, &err) || ar_model_open(&m, "gta-1b", &err))
			abort();
		ready = 1;
	}
	if (size > 4096)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	hw = base;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (ar_hw_set(&hw, line, &err))
			break;
		applied++;
	}
	free(buf);
	if (applied && ar_analyze(&an, &m, &hw, &wl, &err) == 0 &&
	    (!isfinite(an.time[AR_PHASE_PREFILL].time_s) || !isfinite(an.gen.time_s) ||
	     !(an.time[AR_PHASE_DECODE].time_s > 0)))
		abort();
	return 0;
}
