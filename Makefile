# attnroof: `make` builds ./attnroof and libattnroof.a; `make test` runs every
# test; `make demo` prints a real analysis; `make deps` installs Debian packages.
CC      ?= cc
CFLAGS  ?= -O3 -g
PKGS    := yaml-0.1 libcjson openblas
ALL_CFLAGS = $(CFLAGS) -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wshadow \
	-Wno-missing-field-initializers -fopenmp -DAR_DATADIR='"$(CURDIR)"' \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -fopenmp -lm
ifeq ($(SAN),1)
ALL_CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDSAN   = -fsanitize=address,undefined
BUILD  ?= build/san
else
BUILD  ?= build/rel
endif

LIB_SRC := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/%.o)
LIBA    := $(BUILD)/libattnroof.a
BIN     := $(BUILD)/attnroof

.PHONY: all deps demo test bench clean
# ./attnroof and ./libattnroof.a are the optimised build; a sanitizer build
# stays under build/san
all: deps-check $(BIN)
	@[ "$(SAN)" = 1 ] || { ln -sf $(BIN) attnroof; ln -sf $(LIBA) libattnroof.a; }

$(BUILD)/%.o: src/%.c $(wildcard src/*.h src/*.inc) | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c $< -o $@
# every object waits for the packages (headers) to be there, also under make -j
$(BUILD): deps-check
	@mkdir -p $@
$(LIBA): $(LIB_OBJ)
	$(AR) rcs $@ $^
$(BIN): $(BUILD)/main.o $(LIBA)
	$(CC) $(LDSAN) -o $@ $^ $(LIBS)

deps deps-check:
	@sh tools/deps.sh $(if $(filter deps,$@),install,check)

demo: all
	@sh tools/demo.sh

# measured against predicted on this machine (calibrates first when hw/host.yaml is missing)
.PHONY: validate
validate: all
	ATTNROOF_DATA=$(CURDIR) ./$(BIN) validate

include tests/tests.mk
include bench/bench.mk
include fuzz/fuzz.mk

clean:
	rm -rf build attnroof libattnroof.a
