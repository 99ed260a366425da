/* libFuzzer harness: hardware descriptors from arbitrary bytes.  A descriptor
 * that loads must be usable: finite, positive peaks and main memory. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "hw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ar_hw hw;
	struct ar_err err = { 0 };

	if (ar_hw_parse(&hw, "fuzz.yaml", (const char *)data, size, &err))
		return 0;
	if (hw.n_mem < 1 || !(hw.mem[0].bw_bytes_per_s > 0) ||
	    !isfinite(hw.mem[0].bw_bytes_per_s) || !(hw.units >= 1))
		abort();
	for (int bits = 4; bits <= 32; bits *= 2)
		if (!(ar_hw_peak(&hw, 1, bits) > 0) || !isfinite(ar_hw_peak(&hw, 1, bits)) ||
		    !(ar_hw_peak(&hw, 0, bits) > 0))
			abort();
	return 0;
}
