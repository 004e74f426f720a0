# Front door for yumna-dns. `make demo` and `make check` install what is
# missing, build and run; everything else is meson + ninja underneath.
PYTHON ?= /usr/bin/python3
BUILD ?= build
PYTEST_ARGS ?=

.PHONY: all deps build demo demo-stop check check-asan unit integration bench clean install format

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

# The whole suite on an ASan+UBSan build; any sanitizer report fails it.
ASAN_LOGS = $(abspath build-asan/sanitizer-logs)
check-asan: deps
	[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Dbuildtype=debug
	ninja -C build-asan
	rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS)
	ASAN_OPTIONS=detect_leaks=0:log_path=$(ASAN_LOGS)/asan UBSAN_OPTIONS=print_stacktrace=1:log_path=$(ASAN_LOGS)/ubsan \
		meson test -C build-asan --suite unit --print-errorlogs
	ASAN_OPTIONS=detect_leaks=0:log_path=$(ASAN_LOGS)/asan UBSAN_OPTIONS=print_stacktrace=1:log_path=$(ASAN_LOGS)/ubsan \
		YUMNA_BUILD=$(abspath build-asan) $(PYTHON) -m pytest -p no:cacheprovider tests/integration $(PYTEST_ARGS)
	@if ls $(ASAN_LOGS)/* >/dev/null 2>&1; then cat $(ASAN_LOGS)/*; echo "sanitizer reports above"; exit 1; fi

bench: build
	YUMNA_BUILD=$(abspath $(BUILD)) $(PYTHON) bench/run.py

install: build
	meson install -C $(BUILD)

format:
	find src tests/unit -name '*.[ch]' | xargs clang-format -i

clean:
	rm -rf $(BUILD) build-asan
