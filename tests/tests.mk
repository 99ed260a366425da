# Tests: every tests/test_*.c is one cmocka executable linked with the library;
# tests/cli.sh checks the command line (exit codes, messages, outputs).
TEST_SRC  := $(wildcard tests/test_*.c)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_LIBS = $(LIBS) $(shell pkg-config --libs cmocka 2>/dev/null)

$(BUILD)/tests/%: tests/%.c tests/testutil.h $(LIBA) | $(BUILD)
	@mkdir -p $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Isrc $(shell pkg-config --cflags cmocka) -o $@ $< $(LIBA) $(LDSAN) $(TEST_LIBS)

.PHONY: test unit cli
test: all $(TEST_BIN)
	@fail=0; pass=0; \
	for t in $(TEST_BIN); do \
		if ATTNROOF_DATA=$(CURDIR) $$t; then pass=$$((pass+1)); else fail=$$((fail+1)); echo "FAILED: $$t"; fi; \
	done; \
	if ATTNROOF=$(CURDIR)/$(BIN) sh tests/cli.sh; then pass=$$((pass+1)); else fail=$$((fail+1)); echo "FAILED: tests/cli.sh"; fi; \
	echo "test programs: $$pass passed, $$fail failed"; test $$fail = 0

# The CLI tests under valgrind memcheck: any error or definite/indirect leak
# makes attnroof exit 99, which fails the test that ran it.
VALGRIND = valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect
.PHONY: valgrind
valgrind: all
	@command -v valgrind >/dev/null || { echo "valgrind: not installed (apt-get install valgrind)"; exit 1; }
	CLI_UNDER_VALGRIND=1 ATTNROOF="$$(command -v valgrind) $(wordlist 2,99,$(VALGRIND)) $(CURDIR)/$(BIN)" sh tests/cli.sh
