# Front door for yumna-dns. `make demo` and `make check` install what is
# missing, build and run; everything else is meson + ninja underneath.
PYTHON ?= /usr/bin/python3
BUILD ?= build
PYTEST_ARGS ?=

.PHONY: all deps build demo demo-stop check unit integration bench clean install format

all: build

deps:
	sh scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

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

bench: build
	YUMNA_BUILD=$(abspath $(BUILD)) $(PYTHON) bench/run.py

install: build
	meson install -C $(BUILD)

format:
	find src tests/unit -name '*.[ch]' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
