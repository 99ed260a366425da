# Benchmarks: every bench/bench_*.c is one program linked with the library;
# `make bench` builds and runs them all.  Speed is measured here, never in tests.
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

$(BUILD)/bench/%: bench/%.c $(wildcard bench/*.h) $(LIBA) | $(BUILD)
	@mkdir -p $(BUILD)/bench
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(LIBA) $(LDSAN) $(LIBS)

.PHONY: bench
bench: all $(BENCH_BIN)
	@for b in $(BENCH_BIN); do echo "== $$b"; ATTNROOF_DATA=$(CURDIR) $$b || exit 1; done
