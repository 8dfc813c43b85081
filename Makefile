# Caravel: the two commands are `make demo` and `make test`.
#
#   make demo    install what is missing, build, run the main job end to end
#   make test    install what is missing, build with -Werror + ASan + UBSan,
#                run every unit and integration test, then run every libFuzzer
#                target briefly (TEST_FUZZ_SECONDS each, default 10; clang)
#   make bench   benchmarks beside their peers; writes bench/RESULTS.md
#   make fuzz    libFuzzer targets (clang), FUZZ_SECONDS each (default 60)
#   make format  clang-format the sources

JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
TEST_FUZZ_SECONDS ?= 10
BUILD_TEST := build/test
BUILD_REL := build/release
BUILD_FUZZ := build/fuzz

.PHONY: all demo test bench fuzz deps build-test build-release format clean check-format

all: build-release

deps:
	@scripts/install-deps

build-release: deps
	@cmake -S . -B $(BUILD_REL) -DCMAKE_BUILD_TYPE=Release -DCV_TESTS=OFF -DCV_WERROR=ON >/dev/null
	@cmake --build $(BUILD_REL) -j $(JOBS)

build-test: deps
	@cmake -S . -B $(BUILD_TEST) -DCMAKE_BUILD_TYPE=Debug -DCV_ASAN=ON -DCV_UBSAN=ON -DCV_WERROR=ON >/dev/null
	@cmake --build $(BUILD_TEST) -j $(JOBS)

demo: build-release
	@scripts/demo $(BUILD_REL)/src/cli/caravel

test: build-test
	@cd $(BUILD_TEST) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)

bench: build-release
	@scripts/install-deps --bench
	@bench/run $(BUILD_REL)

fuzz: deps
	@cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
		-DCV_FUZZ=ON -DCV_ASAN=ON -DCV_UBSAN=ON -DCV_TESTS=OFF >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS)
	@fuzz/run $(BUILD_FUZZ) $(FUZZ_SECONDS)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
