# Fuzzing with libFuzzer (clang, -fsanitize=fuzzer,address,undefined).
# `make fuzz` builds every fuzz/fuzz_*.c and runs each for FUZZ_SECONDS,
# printing executions and crashes; crash inputs are kept under $(FUZZ_BUILD).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD   ?= build/fuzz
FUZZ_CFLAGS   = -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wno-unknown-pragmas \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-DAR_DATADIR='"$(CURDIR)"' -Isrc $(shell pkg-config --cflags yaml-0.1 libcjson 2>/dev/null)
FUZZ_LIBSRC  := $(addprefix src/,doc.c err.c json.c hw.c model.c graph.c roofline.c report.c)
FUZZ_LIBOBJ  := $(FUZZ_LIBSRC:src/%.c=$(FUZZ_BUILD)/%.o)
FUZZ_SRC     := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN     := $(FUZZ_SRC:fuzz/%.c=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIBOBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ \
		$(shell pkg-config --libs yaml-0.1 libcjson 2>/dev/null) -lm

.PHONY: fuzz fuzz-build fuzz-check
.SECONDARY: $(FUZZ_LIBOBJ)
fuzz-check:
	@command -v $(FUZZ_CC) >/dev/null || \
		{ echo "fuzz: needs clang with libFuzzer (apt-get install clang libclang-rt-14-dev)"; exit 1; }
$(FUZZ_LIBOBJ) $(FUZZ_BIN): | fuzz-check
fuzz-build: $(FUZZ_BIN)
fuzz: fuzz-build
	@sh fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(notdir $(FUZZ_BIN))
