/* This machine's ceilings measured now, as `attnroof calibrate` would write
 * them, with the threads of hw/host.yaml when it exists (every core else): a
 * shared host's ceilings drift within the hour, so the benchmarks hold their
 * kernels and predictions against ceilings of the same moment.  Exits with
 * the error on failure. */
#ifndef ATTNROOF_BENCH_HOST_H
#define ATTNROOF_BENCH_HOST_H

#include <stdio.h>
#include <stdlib.h>

#include "calibrate.h"
#include "model.h"

static void bench_host(struct ar_hw *hw)
{
	struct ar_err err = { 0 };
	char path[512], buf[1200];
	struct ar_calib c;
	struct ar_hw saved;
	int threads = 0;

	if (ar_resolve("hw", "host", path, sizeof(path), &err) == 0 &&
	    ar_hw_load(&saved, path, &err) == 0 && saved.kind == AR_HW_CPU)
		threads = (int)saved.units;
	if (ar_calibrate_run(&c, threads, &err) ||
	    ar_calibrate_descriptor(hw, &c, "host (calibrated now)", &err)) {
		ar_err_format(&err, buf, sizeof(buf));
		fprintf(stderr, "%s\n", buf);
		exit(1);
	}
}

#endif
