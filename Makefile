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

.PHONY: all test demo bench fuzz fuzz-smoke valgrind clean test-quick tsan

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

# ThreadSanitizer: the concurrency tests only (TSan exits 66 on any race report).
TSAN := -fsanitize=thread -fno-omit-frame-pointer
$(eval $(call VARIANT,tsan,clang,$(CSTD) $(WARN) -O1 -g $(TSAN),$(TSAN)))
tsan_BINS := $(BUILD)/tsan/test_threads

tsan: $(tsan_BINS)
	@sh tests/run.sh tsan:$(BUILD)/tsan

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

test: $(ALL_BINS) $(tsan_BINS) $(BUILD)/header-check.ok
	@sh tests/run.sh $(foreach v,$(VARIANTS),$(v):$(BUILD)/$(v)) tsan:$(BUILD)/tsan

# One quick pass (gcc only) while developing.
test-quick: $(gcc_BINS)
	@sh tests/run.sh gcc:$(BUILD)/gcc

# ---- fuzzing (clang libFuzzer; Debian: clang libclang-rt-14-dev) -----------
# make fuzz: each target FUZZ_SECONDS (60); make fuzz-smoke: ~20 s each.
# Any crash, leak, timeout (-timeout=5) or OOM (-rss_limit_mb=512) fails.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_TARGETS := fuzz_url fuzz_open_memory fuzz_safetensors fuzz_torch fuzz_pickle fuzz_moon
FUZZ_FLAGS := -std=c99 $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_BINS := $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))

$(BUILD)/fuzz/%: fuzz/%.c fuzz/fuzz_common.h mooncake_fileio.h
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) $< -o $@ -lm -pthread

fuzz: $(FUZZ_BINS)
	@sh fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: $(FUZZ_BINS)
	@sh fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

# ---- valgrind memcheck of the gcc test binaries ----------------------------
VALGRIND := valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
            --show-leak-kinds=definite,indirect --trace-children=no

valgrind: $(gcc_BINS)
	@sh tests/valgrind.sh "$(VALGRIND)" $(gcc_BINS)

# ---- demo -------------------------------------------------------------------
$(BUILD)/examples/%: examples/%.c mooncake_fileio.h
	@mkdir -p $(@D)
	gcc $(CSTD) $(WARN) $(OPT) $< -o $@ $(LIBS)

demo: $(BUILD)/examples/demo
	@cd $(BUILD) && ./examples/demo

clean:
	rm -rf $(BUILD)
