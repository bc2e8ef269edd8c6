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
HDRS      := mooncake_fileio.h $(wildcard tests/*.h) tests/fake_store_c.c

.PHONY: all test demo bench bench-smoke fuzz fuzz-smoke valgrind clean test-quick tsan cross FORCE

all: $(BUILD)/gcc/impl.o $(BUILD)/mcf

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

# 'undefined' already has 'alignment'; it is named so the intent survives edits
# (misaligned multi-byte loads trap on some ARM cores).
SAN := -fsanitize=address,undefined,alignment -fno-sanitize-recover=all -fno-omit-frame-pointer
$(eval $(call VARIANT,gcc,gcc,$(CSTD) $(WARN) $(OPT)))
$(eval $(call VARIANT,clang,clang,$(CSTD) $(WARN) $(OPT)))
$(eval $(call VARIANT,cxx,g++ -x c++,$(CXXSTD) $(WARN) $(OPT)))
$(eval $(call VARIANT,clangxx,clang++ -x c++,$(CXXSTD) $(WARN) $(OPT)))
$(eval $(call VARIANT,asan,clang,$(CSTD) $(WARN) -O1 -g $(SAN),$(SAN)))
$(eval $(call VARIANT,noposix,gcc,$(CSTD) $(WARN) $(OPT) -DMCF_NO_POSIX))
# http/https/s3 over libcurl; tests/test_remote.c starts nginx and s3rver itself.
$(eval $(call VARIANT,curl,gcc,$(CSTD) $(WARN) $(OPT) -DMOONCAKE_FILEIO_CURL,-lcurl))
$(eval $(call VARIANT,curlxx,g++ -x c++,$(CXXSTD) $(WARN) $(OPT) -DMOONCAKE_FILEIO_CURL,-lcurl))
$(eval $(call VARIANT,curlasan,clang,$(CSTD) $(WARN) -O1 -g $(SAN) -DMOONCAKE_FILEIO_CURL,$(SAN) -lcurl))

VARIANTS := gcc clang cxx clangxx asan noposix curl curlxx curlasan
ALL_BINS := $(foreach v,$(VARIANTS),$($(v)_BINS))

# ThreadSanitizer: the concurrency tests only (TSan exits 66 on any race report).
TSAN := -fsanitize=thread -fno-omit-frame-pointer
$(eval $(call VARIANT,tsan,clang,$(CSTD) $(WARN) -O1 -g $(TSAN),$(TSAN)))
tsan_BINS := $(BUILD)/tsan/test_threads $(BUILD)/tsan/test_parallel

tsan: $(tsan_BINS)
	@sh tests/run.sh tsan:$(BUILD)/tsan tsancurl:$(BUILD)/tsancurl

# The parallel remote reads and uploads under TSan with libcurl. libcurl itself
# is not instrumented: the races checked are the library's own (the reader's
# pool, kept blocks and stream, the per-reader state), which TSan sees through
# the pthread calls whichever side makes them.
$(eval $(call VARIANT,tsancurl,clang,$(CSTD) $(WARN) -O1 -g $(TSAN) -DMOONCAKE_FILEIO_CURL,$(TSAN) -lcurl))
tsancurl_BINS := $(BUILD)/tsancurl/test_remote_parallel
tsan: $(tsancurl_BINS)

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

# MCF_NO_POSIX (RTOS builds) pulls in no OS header, only the C library, and a
# user lock (MCF_MUTEX*) compiles in place of the built-in one.
$(BUILD)/noposix-includes.ok: mooncake_fileio.h tests/impl.c
	@mkdir -p $(@D)
	gcc $(CSTD) $(WARN) -DMCF_NO_POSIX -H -fsyntax-only tests/impl.c 2> $(BUILD)/noposix-includes.txt
	@if grep -E '/(unistd|pthread|fcntl|windows)\.h|sys/(mman|stat|types)\.h' $(BUILD)/noposix-includes.txt; then \
	    echo "MCF_NO_POSIX build includes an OS header (above)"; exit 1; fi
	gcc $(CSTD) $(WARN) -DMCF_NO_POSIX -DMCF_MUTEX=int -DMCF_MUTEX_INIT=0 '-DMCF_MUTEX_LOCK(p)=(void)(p)' \
	    '-DMCF_MUTEX_UNLOCK(p)=(void)(p)' -fsyntax-only tests/impl.c
	touch $@

# ---- fuzzing (clang libFuzzer; Debian: clang libclang-rt-14-dev) -----------
# make fuzz: each target FUZZ_SECONDS (60); make fuzz-smoke: ~20 s each.
# Any crash, leak, timeout (-timeout=5) or OOM (-rss_limit_mb=512) fails.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_TARGETS := fuzz_url fuzz_open_memory fuzz_safetensors fuzz_torch fuzz_pickle fuzz_moon fuzz_index
FUZZ_FLAGS := -std=c99 $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_BINS := $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))

# make test: every variant's tests, the CLI, the MCF_STATIC build, the TSan
# thread test, the bench smoke run, and each fuzz target for ~20 s first.
test: $(ALL_BINS) $(tsan_BINS) $(tsancurl_BINS) $(BUILD)/header-check.ok $(BUILD)/noposix-includes.ok $(BUILD)/tools/test_cli \
      $(BUILD)/static/test_static $(FUZZ_BINS)
	@sh fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)
	@sh tests/run.sh $(foreach v,$(VARIANTS),$(v):$(BUILD)/$(v)) tools:$(BUILD)/tools \
	    static:$(BUILD)/static tsan:$(BUILD)/tsan tsancurl:$(BUILD)/tsancurl

# One quick pass (gcc only) while developing.
test-quick: $(gcc_BINS)
	@sh tests/run.sh gcc:$(BUILD)/gcc

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

# ---- cross: other CPUs under qemu-user, Windows under wine --------------------
# make cross [CROSS_TARGETS="aarch64 armhf s390x i386 mingw mingwxx"]
# Linux legs link -static and run under qemu-<cpu>-static (no sysroot and no
# binfmt_misc needed); s390x is big-endian, armhf and i386 are 32-bit. The
# mingw leg builds .exe files with MinGW-w64 and runs them under wine64
# (mingwxx: the same, compiled as C++11).
# Each leg builds impl.o once, links the tests to it, and runs them through
# tests/run.sh; tests/cross/run.sh prints each leg's summary and the total.
CROSS_TARGETS ?= aarch64 armhf s390x i386 mingw mingwxx
CROSS_FLAGS := $(CSTD) $(WARN) -O2
CC_aarch64 := aarch64-linux-gnu-gcc
CC_armhf   := arm-linux-gnueabihf-gcc
CC_s390x   := s390x-linux-gnu-gcc
CC_i386    := i686-linux-gnu-gcc
CC_mingw   := x86_64-w64-mingw32-gcc
CXX_mingw  := x86_64-w64-mingw32-g++
RUN_aarch64 ?= qemu-aarch64-static
RUN_armhf   ?= qemu-arm-static
RUN_s390x   ?= qemu-s390x-static
RUN_i386    ?= qemu-i386-static
WINE        ?= $(firstword $(wildcard /usr/lib/wine/wine64 /usr/bin/wine64) wine64)
RUN_mingw   ?= env WINEPREFIX=$(abspath $(BUILD))/wineprefix WINEDEBUG=-all $(WINE)
RUN_mingwxx ?= $(RUN_mingw)
# Linux legs run every test; the Windows leg runs the tests that are not POSIX
# programs themselves (the others use mkdtemp, fork, dirent).
CROSS_LINUX_TESTS ?= $(TESTS)
CROSS_WIN_TESTS   ?= $(filter test_url test_tensor test_fs_memory test_portable test_endian test_parallel test_direct,$(TESTS))

define CROSS_LINUX
$(BUILD)/x-$(1)/impl.o: tests/impl.c $(HDRS)
	@mkdir -p $$(@D)
	$(CC_$(1)) $(CROSS_FLAGS) -c $$< -o $$@
$(BUILD)/x-$(1)/%: tests/%.c $(BUILD)/x-$(1)/impl.o $(HDRS)
	$(CC_$(1)) $(CROSS_FLAGS) $$< $(BUILD)/x-$(1)/impl.o -o $$@ -static -pthread -lm
x-$(1)_BINS := $(addprefix $(BUILD)/x-$(1)/,$(CROSS_LINUX_TESTS))
endef
$(foreach t,aarch64 armhf s390x i386,$(eval $(call CROSS_LINUX,$(t))))

define CROSS_WIN
$(BUILD)/x-$(1)/impl.o: tests/impl.c $(HDRS)
	@mkdir -p $$(@D)
	$(2) -c $$< -o $$@
$(BUILD)/x-$(1)/%.exe: tests/%.c $(BUILD)/x-$(1)/impl.o $(HDRS)
	$(2) $$< -x none $(BUILD)/x-$(1)/impl.o -o $$@ -static -lpthread
x-$(1)_BINS := $(addprefix $(BUILD)/x-$(1)/,$(addsuffix .exe,$(CROSS_WIN_TESTS)))
endef
$(eval $(call CROSS_WIN,mingw,$(CC_mingw) $(CROSS_FLAGS)))
$(eval $(call CROSS_WIN,mingwxx,$(CXX_mingw) -x c++ $(CXXSTD) $(WARN) -O2))

cross: $(foreach t,$(CROSS_TARGETS),$(x-$(t)_BINS))
	@sh tests/cross/run.sh $(foreach t,$(CROSS_TARGETS),"$(t)|$(BUILD)/x-$(t)|$(RUN_$(t))")

# ---- the mcf tool, examples, demo -------------------------------------------
# build/mcf is built the way a user builds: one C file defining
# MOONCAKE_FILEIO_IMPLEMENTATION. `make CURL=1` adds http(s):// and s3://.
CC       ?= cc
CURL_DEF := $(if $(filter 1,$(CURL)),-DMOONCAKE_FILEIO_CURL,)
CURL_LIB := $(if $(filter 1,$(CURL)),-lcurl,)
EXAMPLES := $(notdir $(basename $(wildcard examples/*.c)))
EXAMPLE_BINS := $(addprefix $(BUILD)/examples/,$(EXAMPLES))
EXAMPLE_CXX_BINS := $(addprefix $(BUILD)/examples-cxx/,$(EXAMPLES))

# Rebuild build/mcf when CURL changes (the stamp holds the flags).
$(BUILD)/mcf.flags: FORCE
	@mkdir -p $(@D)
	@echo '$(CURL_DEF)' | cmp -s - $@ || echo '$(CURL_DEF)' > $@

$(BUILD)/mcf: tools/mcf.c mooncake_fileio.h $(BUILD)/mcf.flags
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(OPT) $(CURL_DEF) $< -o $@ $(LIBS) $(CURL_LIB)

$(BUILD)/examples/%: examples/%.c mooncake_fileio.h
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(OPT) $< -o $@ $(LIBS)

# The examples must also build as C++ (the Mooncake store is C++).
$(BUILD)/examples-cxx/%: examples/%.c mooncake_fileio.h
	@mkdir -p $(@D)
	g++ -x c++ $(CXXSTD) $(WARN) $(OPT) $< -o $@ $(LIBS)

# The CLI test drives a sanitizer build of the tool, runs every example
# (C and C++ builds) and compiles the README's code blocks.
$(BUILD)/tools/mcf: tools/mcf.c mooncake_fileio.h
	@mkdir -p $(@D)
	clang $(CSTD) $(WARN) -O1 -g $(SAN) $< -o $@ $(LIBS) $(SAN)

# libcurl builds of the tool (ASan+UBSan) and of the examples, for the
# remote checks of test_cli (nginx on 127.0.0.1, started by the test).
$(BUILD)/tools/mcf-curl: tools/mcf.c mooncake_fileio.h
	@mkdir -p $(@D)
	clang $(CSTD) $(WARN) -O1 -g $(SAN) -DMOONCAKE_FILEIO_CURL $< -o $@ $(LIBS) $(SAN) -lcurl

$(BUILD)/examples-curl/%: examples/%.c mooncake_fileio.h
	@mkdir -p $(@D)
	gcc $(CSTD) $(WARN) $(OPT) -DMOONCAKE_FILEIO_CURL $< -o $@ $(LIBS) -lcurl

$(BUILD)/tools/test_cli: tests/test_cli.sh $(BUILD)/tools/mcf $(BUILD)/tools/mcf-curl $(BUILD)/mcf $(EXAMPLE_BINS) \
                         $(EXAMPLE_CXX_BINS) $(BUILD)/examples-curl/remote
	@mkdir -p $(@D)
	cp tests/test_cli.sh $@
	chmod +x $@

demo: $(BUILD)/mcf $(EXAMPLE_BINS)
	@cd $(BUILD) && ./examples/demo && echo && ./mcf inspect demo-out/plain/model.pt

# ---- bench: make bench [BENCH_ARGS="--size 256M --runs 5"] ----------------------
# zlib is the CRC32 baseline; it is linked into the bench only, and only when
# its header is installed (zlib1g-dev), else that figure says why it is skipped.
BENCH_ZLIB  := $(shell echo 'int main(void){return 0;}' | gcc -x c - -include zlib.h -o /dev/null -lz 2>/dev/null && echo yes)
# libcurl likewise for the http/s3 figures (nginx and s3rver started by the bench).
BENCH_CURL  := $(shell echo 'int main(void){return 0;}' | gcc -x c - -include curl/curl.h -o /dev/null -lcurl 2>/dev/null && echo yes)
BENCH_FLAGS := $(CSTD) $(WARN) $(OPT) $(if $(BENCH_ZLIB),-DMCF_BENCH_ZLIB) $(if $(BENCH_CURL),-DMOONCAKE_FILEIO_CURL)
BENCH_LIBS  := $(LIBS) $(if $(BENCH_ZLIB),-lz) $(if $(BENCH_CURL),-lcurl)

$(BUILD)/bench/bench: bench/bench.c mooncake_fileio.h tests/mcf_test_net.h
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
