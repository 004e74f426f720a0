# Front door for yumna-dns. `make demo` and `make check` install what is
# missing, build and run; everything else is meson + ninja underneath.
PYTHON ?= /usr/bin/python3
BUILD ?= build
PYTEST_ARGS ?=

.PHONY: all deps build demo demo-stop check check-asan check-format tidy unit integration bench torture clean install format fuzz fuzz-build

all: build

deps:
	sh scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup -Dwerror=true $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	$(PYTHON) scripts/demo.py start

demo-stop:
	$(PYTHON) scripts/demo.py stop

unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

integration: build
	YUMNA_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -p no:cacheprovider tests/integration $(PYTEST_ARGS)

check: unit integration

# The whole suite on an ASan+UBSan build with LeakSanitizer on. Every
# process (tests, daemons, yumnactl) logs its reports under build-asan/
# sanitizer-logs; any report fails the run. .ci/lsan.supp lists the leaks
# that belong to third-party libraries.
ASAN_LOGS = $(abspath build-asan/sanitizer-logs)
SAN_ENV = ASAN_OPTIONS=detect_leaks=1:log_path=$(ASAN_LOGS)/asan \
	LSAN_OPTIONS=suppressions=$(abspath .ci/lsan.supp):print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:log_path=$(ASAN_LOGS)/ubsan
check-asan: deps
	[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Dbuildtype=debug
	ninja -C build-asan
	rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS)
	$(SAN_ENV) meson test -C build-asan --suite unit --print-errorlogs
	$(SAN_ENV) YUMNA_BUILD=$(abspath build-asan) $(PYTHON) -m pytest -p no:cacheprovider tests/integration $(PYTEST_ARGS); \
	status=$$?; \
	if ls $(ASAN_LOGS)/* >/dev/null 2>&1; then cat $(ASAN_LOGS)/*; echo "sanitizer reports above"; exit 1; fi; \
	exit $$status

# libFuzzer on every parser that reads outside input (tests/fuzz), in a
# clang ASan+UBSan build of its own: each target runs FUZZ_SECONDS on a copy
# of its seed corpus, FUZZ_JOBS at a time; any crash, leak, timeout or
# sanitizer report fails, naming the input that reproduces it (under
# build-fuzz/fuzz-out/<target>/artifacts). Inputs worth keeping go to
# tests/fuzz/regressions/<target>/, which the unit suite replays.
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 2
FUZZ_TARGETS ?= push batch rdata name zonefile route53 json conf http pdns dnsmsg isckey
fuzz-build: deps
	[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true
	ninja -C build-fuzz

fuzz: fuzz-build
	bash scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_TARGETS)

bench: build
	YUMNA_BUILD=$(abspath $(BUILD)) $(PYTHON) bench/run.py

# Every fault kind x TORTURE_SEEDS seeds over a real cluster, beside PowerDNS
# primary -> secondary, summary in bench/torture.md (tests/torture/). One
# run again: make torture KIND=agent-kill SEED=1234 (the table is then only
# printed). Needs root (tmpfs mounts).
TORTURE_SEEDS ?= 20
TORTURE_ARGS = --seeds $(TORTURE_SEEDS)
ifneq ($(KIND),)
TORTURE_ARGS += --kind $(KIND)
endif
ifneq ($(SEED),)
TORTURE_ARGS += --seed $(SEED)
endif
ifeq ($(KIND)$(SEED),)
TORTURE_ARGS += --out bench/torture.md
endif
torture: build
	YUMNA_BUILD=$(abspath $(BUILD)) $(PYTHON) tests/torture/torture.py $(TORTURE_ARGS)

install: build
	meson install -C $(BUILD)

C_FILES = find src tests/unit tests/fuzz -name '*.[ch]'

format:
	$(C_FILES) | xargs clang-format -i

# Fails when any file differs from what `make format` would write.
check-format:
	$(C_FILES) | xargs clang-format --dry-run -Werror

# clang-tidy over src with the checks in .clang-tidy, from the compile
# commands meson writes; any warning fails.
tidy: build
	find src -name '*.c' | sort | xargs -P2 -n4 clang-tidy -p $(BUILD) --quiet

clean:
	rm -rf $(BUILD) build-asan build-fuzz
