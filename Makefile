# mooncake_fileio.h - make demo | make test | make bench | make fuzz
# Every build output goes under build/ (git-ignored).

BUILD   := build
WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror
CSTD    := -std=c99
CXXSTD  := -std=c++11
OPT     := -O2 -g
LIBS    := -pthread -lm
TEST_SRCS := $(sort $(wildcard tests/test_*.c))
TESTS     := $(notdir $(TEST_SRCS:.c=))
HDRS      := mooncake_fileio.h tests/mcf_test.h

.PHONY: all test demo bench fuzz clean test-quick

all: $(BUILD)/gcc/impl.o

# ---- test variants: name, compiler, flags ---------------------------------
# Each variant builds tests/impl.c once and links every tests/test_*.c to it.
define VARIANT
$(BUILD)/$(1)/impl.o: tests/impl.c $(HDRS)
	@mkdir -p $$(@D)
	$(2) $(3) -c $$< -o $$@
$(BUILD)/$(1)/%: tests/%.c $(BUILD)/$(1)/impl.o $(HDRS)
	$(2) $(3) $$< -x none $(BUILD)/$(1)/impl.o -o $$@ $(LIBS) $(4)
$(1)_BINS := $(addprefix $(BUILD)/$(1)/,$(TESTS))
endef

SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
$(eval $(call VARIANT,gcc,gcc,$(CSTD) $(WARN) $(OPT)))
$(eval $(call VARIANT,clang,clang,$(CSTD) $(WARN) $(OPT)))
$(eval $(call VARIANT,cxx,g++ -x c++,$(CXXSTD) $(WARN) $(OPT)))
$(eval $(call VARIANT,clangxx,clang++ -x c++,$(CXXSTD) $(WARN) $(OPT)))
$(eval $(call VARIANT,asan,clang,$(CSTD) $(WARN) -O1 -g $(SAN),$(SAN)))
$(eval $(call VARIANT,noposix,gcc,$(CSTD) $(WARN) $(OPT) -DMCF_NO_POSIX))

VARIANTS := gcc clang cxx clangxx asan noposix
ALL_BINS := $(foreach v,$(VARIANTS),$($(v)_BINS))

# MCF_STATIC: two translation units that each compile a private copy.
$(BUILD)/static/test_static: tests/static_a.c tests/static_b.c $(HDRS)
	@mkdir -p $(@D)
	gcc $(CSTD) $(WARN) $(OPT) tests/static_a.c tests/static_b.c -o $@ $(LIBS)

# Strict header-only compile checks (no implementation), C and C++.
$(BUILD)/header-check.ok: mooncake_fileio.h
	@mkdir -p $(@D)
	printf '#include "../mooncake_fileio.h"\nint main(void){return 0;}\n' > $(BUILD)/hc.c
	gcc $(CSTD) $(WARN) -c $(BUILD)/hc.c -o $(BUILD)/hc1.o
	clang $(CSTD) $(WARN) -c $(BUILD)/hc.c -o $(BUILD)/hc2.o
	g++ -x c++ $(CXXSTD) $(WARN) -c $(BUILD)/hc.c -o $(BUILD)/hc3.o
	touch $@

test: $(ALL_BINS) $(BUILD)/header-check.ok
	@sh tests/run.sh $(foreach v,$(VARIANTS),$(v):$(BUILD)/$(v))

# One quick pass (gcc only) while developing.
test-quick: $(gcc_BINS)
	@sh tests/run.sh gcc:$(BUILD)/gcc

# ---- demo -------------------------------------------------------------------
$(BUILD)/examples/%: examples/%.c mooncake_fileio.h
	@mkdir -p $(@D)
	gcc $(CSTD) $(WARN) $(OPT) $< -o $@ $(LIBS)

demo: $(BUILD)/examples/demo
	@cd $(BUILD) && ./examples/demo

# ---- bench (DESIGN §10): make bench [BENCH_ARGS="--size 256M --runs 5"] --------
# zlib is the CRC32 baseline; it is linked into the bench only, and only when
# its header is installed (zlib1g-dev), else that figure says why it is skipped.
BENCH_ZLIB  := $(shell echo 'int main(void){return 0;}' | gcc -x c - -include zlib.h -o /dev/null -lz 2>/dev/null && echo yes)
BENCH_FLAGS := $(CSTD) $(WARN) $(OPT) $(if $(BENCH_ZLIB),-DMCF_BENCH_ZLIB)
BENCH_LIBS  := $(LIBS) $(if $(BENCH_ZLIB),-lz)

$(BUILD)/bench/bench: bench/bench.c mooncake_fileio.h
	@mkdir -p $(@D)
	gcc $(BENCH_FLAGS) $< -o $@ $(BENCH_LIBS)

bench: $(BUILD)/bench/bench
	$(BUILD)/bench/bench --json $(BUILD)/bench-results.json $(BENCH_ARGS)

# Smoke mode (4 MiB, one run) as a test binary: every figure produced, JSON
# well-formed; no timing is checked. `make test` runs it as one more variant
# directory (the test recipe expands VARIANTS when it runs).
.PHONY: bench-smoke
$(BUILD)/bench-smoke/test_bench: bench/test_bench.c $(HDRS) $(BUILD)/bench/bench
	@mkdir -p $(@D)
	gcc $(CSTD) $(WARN) $(OPT) $< -o $@ $(LIBS)

VARIANTS += bench-smoke
test: $(BUILD)/bench-smoke/test_bench

bench-smoke: $(BUILD)/bench-smoke/test_bench
	@sh tests/run.sh bench-smoke:$(BUILD)/bench-smoke

clean:
	rm -rf $(BUILD)
